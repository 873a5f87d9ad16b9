// Loading a run or checkpoint for evaluation and prediction (inference.h).
#include "heed/train/inference.h"

#include <system_error>

#include "heed/train/checkpoint.h"
#include "heed/train/run_dir.h"
#include "heed/util/check.h"

namespace heed {

namespace fs = std::filesystem;

RunLocation locate_run(const fs::path& path) {
  std::error_code error;
  RunLocation location;
  if (fs::is_directory(path, error)) {
    const RunDir run(path);
    if (fs::is_regular_file(run.best_checkpoint_path(), error)) {
      location.checkpoint = run.best_checkpoint_path();
    } else if (auto latest = run.latest_checkpoint()) {
      location.checkpoint = latest->path;
    } else {
      CHECK(false, path.string(), ": no checkpoint in ", run.checkpoints_dir().string(),
            " (is it a heed run directory? train it first with heed train)");
    }
    location.run_dir = path;
  } else {
    CHECK(fs::is_regular_file(path, error), path.string(),
          ": no such run directory or checkpoint file");
    location.checkpoint = path;
  }
  const CheckpointInfo info = read_checkpoint_info(location.checkpoint);
  location.step = info.state.counters.step;
  location.config = config_from_resolved(info.state.config,
                                         "checkpoint " + location.checkpoint.string() + ": config");
  if (location.run_dir.empty()) {
    // A checkpoint inside a run directory (RUN_DIR/checkpoints/x) belongs to it; else the run
    // directory its config names.
    const fs::path parent = fs::absolute(location.checkpoint).parent_path();
    location.run_dir =
        parent.filename() == "checkpoints" && fs::is_directory(parent.parent_path() / "tokenizer")
            ? parent.parent_path()
            : location.config.run_dir;
  }
  return location;
}

fs::path tokenizer_model_path(const fs::path& run_dir, const std::string& name) {
  return run_dir / "tokenizer" / (name + ".model");
}

namespace {

Tokenizer load_run_tokenizer(const RunLocation& location, const std::string& name) {
  const fs::path path = tokenizer_model_path(location.run_dir, name);
  std::error_code error;
  CHECK(fs::is_regular_file(path, error), "tokenizer ", path.string(),
        " not found (the run directory of ", location.checkpoint.string(), " should hold it)");
  return Tokenizer::load(path.string());
}

}  // namespace

LoadedTranslator load_translator(const RunLocation& location) {
  const Config& config = location.config;
  CHECK(config.task == TaskKind::kTranslation, location.checkpoint.string(),
        " is a classification model (use heed classify)");
  Tokenizer source, target;
  if (config.data.tokenizer.one_vocabulary()) {
    source = target = load_run_tokenizer(location, "spm");
  } else {
    source = load_run_tokenizer(location, "src");
    target = load_run_tokenizer(location, "tgt");
  }
  LoadedTranslator loaded;
  loaded.location = location;
  loaded.model = build_seq2seq_model(config.model, source.vocab_size(), target.vocab_size(),
                                     config.train.seed);
  load_model_weights(location.checkpoint, *loaded.model.model);
  loaded.model.model->eval();
  loaded.translator = std::make_unique<Translator>(source, target, *loaded.model.model);
  return loaded;
}

LoadedClassifier load_classifier(const RunLocation& location) {
  const Config& config = location.config;
  CHECK(config.task == TaskKind::kClassification, location.checkpoint.string(),
        " is a translation model (use heed translate)");
  const std::vector<std::string>& labels = config.data.classification.labels;
  CHECK(!labels.empty(), "checkpoint ", location.checkpoint.string(),
        ": its config has no data.labels");
  Tokenizer tokenizer = load_run_tokenizer(location, "spm");
  LoadedClassifier loaded;
  loaded.location = location;
  loaded.model = build_classifier_model(config.model, tokenizer.vocab_size(),
                                        static_cast<Index>(labels.size()), config.train.seed);
  load_model_weights(location.checkpoint, *loaded.model.model);
  loaded.model.model->eval();
  TextEncoding encoding{.hierarchical = is_hierarchical_model(config.model.type),
                        .limits = {.max_sentences = config.data.classification.max_sentences,
                                   .max_words_per_sentence = config.data.classification.max_words},
                        .max_length = config.data.max_length};
  loaded.classifier =
      std::make_unique<TextClassifier>(tokenizer, *loaded.model.model, labels, encoding);
  return loaded;
}

}  // namespace heed
