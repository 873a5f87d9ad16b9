// The classification task: labelled text -> SentencePiece ids (documents: sentences of ids) ->
// token-budget batches -> a ClassifierModel's logits and cross-entropy; validation by loss,
// accuracy and macro F1.
#include <algorithm>
#include <iterator>
#include <optional>

#include "heed/autograd/engine.h"
#include "heed/eval/accuracy.h"
#include "heed/ops/loss.h"
#include "heed/train/adversarial.h"
#include "heed/train/model_factory.h"
#include "heed/train/task.h"
#include "heed/train/text_classifier.h"
#include "heed/viz/model_attention.h"
#include "train/task_common.h"

namespace heed {

namespace {

using task_detail::describe_filter;
using task_detail::describe_read;

// How to read a file laid out as `layout` (data's own unless given) with the config's classes.
ClassificationReadOptions read_options(const Config& config, const ClassificationLayout& layout) {
  return {.format = layout.format,
          .has_header = layout.header,
          .label_column = layout.label_column,
          .text_column = layout.text_column,
          .labels = config.data.classification.labels,
          .skip_malformed = config.data.skip_malformed};
}
ClassificationReadOptions read_options(const Config& config) {
  return read_options(config, config.data.classification);
}

DocumentLimits document_limits(const Config& config) {
  return {.max_sentences = config.data.classification.max_sentences,
          .max_words_per_sentence = config.data.classification.max_words};
}

// Flat models read ClassificationExample, the hierarchical one DocumentExample.
template <typename Example>
class ClassificationTask final : public task_detail::BatchedTask<Example> {
  using Base = task_detail::BatchedTask<Example>;
  using Base::make_train_batches;
  using Base::train_batches_;

  static constexpr bool kDocuments = std::is_same_v<Example, DocumentExample>;

 public:
  ClassificationTask(const Config& config, const RunDir& run, bool resume, const LogFunction& log)
      : config_(config) {
    const ClassificationDataConfig& files = config.data.classification;
    ClassificationText text = read_classification_text(config);
    ClassificationData& train = text.train;
    ClassificationData& valid = text.valid;
    log(str("train: ", describe_read(train.stats, "examples"), " from ", files.train.string(), "; ",
            files.labels.size(), " classes"));
    if (!config.train.validates()) {
      log(task_detail::kNoValidationNote);
    } else if (config.data.valid_holdout > 0) {
      log(str("valid: ", valid.texts.size(), " examples held out of the training data"));
    } else {
      log(str("valid: ", describe_read(valid.stats, "examples"), " from ", files.valid.string()));
    }
    std::vector<ClassificationData> extra = read_extra_train(config);
    for (std::size_t i = 0; i < extra.size(); ++i) {
      log(str("train: ", task_detail::describe_read(extra[i].stats, "more examples"), " from ",
              files.extra_train[i].path.string(), " (data.extra_train)"));
      train.texts.insert(train.texts.end(), std::make_move_iterator(extra[i].texts.begin()),
                         std::make_move_iterator(extra[i].texts.end()));
      train.labels.insert(train.labels.end(), extra[i].labels.begin(), extra[i].labels.end());
    }
    num_classes_ = static_cast<Index>(files.labels.size());

    tokenizer_ =
        task_detail::prepare_tokenizer(config.data.tokenizer, run, "spm",
                                       config.data.tokenizer.model, {&train.texts}, resume, log);
    make_train_batches(encode(train), config, log);
    if constexpr (!kDocuments) {
      if (const int window = files.train_window; window > 0) {
        std::int64_t longer = 0;
        for (std::int64_t i = 0; i < train_batches_->size(); ++i) {
          longer += static_cast<std::int64_t>(train_batches_->example(i).tokens.size()) > window;
        }
        log(str("train: ", longer, " texts longer than data.train_window=", window,
                " tokens are trained on a random window of that many tokens, new each epoch"));
      }
    }

    if (config.train.validates()) build_validation(std::move(valid));

    build_ = build_classifier_model(config.model, tokenizer_.vocab_size(), num_classes_,
                                    config.train.seed);
    build_.model->train();
  }

  Module& model() override { return *build_.model; }
  std::vector<std::pair<std::string, Rng*>> model_rngs() override { return build_.rngs; }

  TrainStep forward_backward(float label_smoothing) override {
    auto next = train_batches_->next();
    TrainStep step;
    const std::int64_t B = next.labels.size(0);
    step.slots = next.tokens.numel();
    const IntTensor& lengths = token_lengths(next);
    for (std::int64_t i = 0; i < lengths.numel(); ++i) step.tokens += lengths.data()[i];
    ClassifierBatch batch = to_classifier_batch(std::move(next));
    auto forward_loss = [&] {
      const Tensor logits = build_.model->forward(batch, false).logits;
      return cross_entropy(logits, batch.labels, {.label_smoothing = label_smoothing});
    };
    const float epsilon = static_cast<float>(config_.train.adversarial_epsilon);
    std::optional<AdversarialEmbeddings> adversarial;
    if (epsilon > 0) {
      adversarial.emplace(epsilon);
      batch.perturb_embeddings = adversarial->probe();
    }
    const Tensor loss = forward_loss();
    backward(loss);
    if (adversarial) {
      // The same batch once more, its embeddings moved against the model; the gradients add up.
      // Dropout draws new masks (and word dropout new words) for this pass.
      batch.perturb_embeddings = adversarial->attack();
      backward(forward_loss());
    }
    step.loss = loss.item();  // the clean loss: comparable with runs without the attack
    step.units = B;
    return step;
  }

  Validation validate() override {
    const ClassifierRun run = run_classifier(*build_.model, *valid_batches_);
    const ClassificationReport report =
        classification_report(run.predicted, run.gold, static_cast<int>(num_classes_));
    Validation v;
    v.metrics["loss"] = run.loss;
    v.metrics["accuracy"] = report.accuracy;
    v.metrics["macro_f1"] = report.macro_f1;
    const std::vector<std::string>& labels = config_.data.classification.labels;
    // Nothing was dropped from the validation examples (no text encodes empty), so kept example
    // i is text i.
    for (std::int64_t i = 0; i < std::min<std::int64_t>(3, valid_batches_->size()); ++i) {
      std::string shown = valid_texts_[static_cast<std::size_t>(i)];
      if (shown.size() > 100) shown = shown.substr(0, 97) + "...";
      v.samples.push_back(
          str("predicted ", labels[run.predicted[i]], ", gold ", labels[run.gold[i]], ": ", shown));
    }
    return v;
  }

  void write_attention(const std::filesystem::path& path, const std::string& title) override {
    viz::AttentionRunOptions options;
    options.title = title;
    const viz::ClassifierSetup setup{.class_names = config_.data.classification.labels,
                                     .hierarchical = kDocuments,
                                     .limits = document_limits(config_),
                                     .max_length = config_.data.max_length};
    const std::size_t n = std::min<std::size_t>(Task::kAttentionInputs, valid_texts_.size());
    viz::write_attention_page(path, *build_.model, tokenizer_, setup,
                              {valid_texts_.begin(), valid_texts_.begin() + n}, options);
  }

 private:
  // The validation batches (and texts, for samples and attention pages).
  void build_validation(ClassificationData valid) {
    std::vector<Example> valid_examples = encode(valid);
    std::int64_t largest = 1;
    const int L = config_.data.max_length;
    auto cropped = [L](std::size_t n) {
      return L > 0 ? std::min<std::int64_t>(static_cast<std::int64_t>(n), L)
                   : static_cast<std::int64_t>(n);
    };
    for (const Example& e : valid_examples) {
      if constexpr (kDocuments) {
        std::int64_t longest = 0;
        for (const auto& s : e.sentences) longest = std::max(longest, cropped(s.size()));
        largest = std::max(largest, longest * static_cast<std::int64_t>(e.sentences.size()));
      } else {
        largest = std::max(largest, cropped(e.tokens.size()));
      }
    }
    valid_texts_ = std::move(valid.texts);
    valid_batches_ = std::make_unique<Batcher<Example>>(
        std::move(valid_examples), task_detail::evaluation_batcher_options(config_, largest),
        Rng(0));
  }

  // Token counts of a batch: per example (flat) or per sentence (documents).
  static const IntTensor& token_lengths(const typename Batcher<Example>::Batch& batch) {
    if constexpr (kDocuments) {
      return batch.sentence_lengths;
    } else {
      return batch.lengths;
    }
  }

  std::vector<Example> encode(const ClassificationData& data) const {
    std::vector<Example> examples(data.texts.size());
    const DocumentLimits limits = document_limits(config_);
#pragma omp parallel for schedule(dynamic, 32)
    for (std::size_t i = 0; i < examples.size(); ++i) {
      if constexpr (kDocuments) {
        examples[i] = encode_document(tokenizer_, data.texts[i], limits, data.labels[i]);
      } else {
        examples[i] = encode_text(tokenizer_, data.texts[i], data.labels[i]);
      }
    }
    return examples;
  }

  Config config_;
  Tokenizer tokenizer_;
  Index num_classes_ = 0;
  std::unique_ptr<Batcher<Example>> valid_batches_;
  std::vector<std::string> valid_texts_;
  ClassifierModelBuild build_;
};

}  // namespace

std::unique_ptr<Task> make_translation_task(const Config& config, const RunDir& run, bool resume,
                                            const LogFunction& log);

std::unique_ptr<Task> make_task(const Config& config, const RunDir& run, bool resume,
                                const LogFunction& log) {
  if (config.task == TaskKind::kTranslation) {
    return make_translation_task(config, run, resume, log);
  }
  CHECK(!config.data.classification.labels.empty(),
        "make_task: data.labels must be resolved (training_labels) before building the task");
  if (is_hierarchical_model(config.model.type)) {
    return std::make_unique<ClassificationTask<DocumentExample>>(config, run, resume, log);
  }
  return std::make_unique<ClassificationTask<ClassificationExample>>(config, run, resume, log);
}

ClassificationText read_classification_text(const Config& config) {
  const DataConfig& data = config.data;
  ClassificationText text;
  text.train = read_classification(data.classification.train.string(), read_options(config));
  if (!config.train.validates()) return text;  // every example trains
  if (data.valid_holdout > 0) {
    Rng rng = task_detail::holdout_rng(config.holdout_seed());
    const auto held =
        task_detail::holdout_indices(static_cast<std::int64_t>(text.train.texts.size()),
                                     data.valid_holdout, data.valid_holdout_block, rng,
                                     "training examples");
    task_detail::move_indices(text.train.texts, held, text.valid.texts);
    task_detail::move_indices(text.train.labels, held, text.valid.labels);
    text.valid.label_names = text.train.label_names;
  } else {
    text.valid = read_classification(data.classification.valid.string(), read_options(config));
  }
  return text;
}

std::vector<ClassificationData> read_extra_train(const Config& config) {
  std::vector<ClassificationData> files;
  if (config.data.classification.extra_train.empty()) return files;
  CHECK(!config.data.classification.labels.empty(),
        "read_extra_train: data.labels must be resolved (training_labels) first, so that class "
        "ids follow data.train's");
  for (const ExtraTrainFile& file : config.data.classification.extra_train) {
    files.push_back(read_classification(file.path.string(), read_options(config, file)));
  }
  return files;
}

ClassificationData read_classification_split(const Config& config, const std::string& split) {
  CHECK(split == "valid" || split == "test", "unknown split \"", split,
        "\" (expected \"valid\" or \"test\")");
  if (split == "valid") {
    CHECK(config.train.validates(),
          "the run trained without validation (train.valid_every 0): it has no \"valid\" split "
          "(evaluate the test split, or a file with --data)");
    return read_classification_text(config).valid;
  }
  CHECK(!config.data.classification.test.empty(),
        "the config has no data.test (give the file to evaluate with --data)");
  return read_classification(config.data.classification.test.string(), read_options(config));
}

ClassificationData read_classification_file(const Config& config,
                                            const std::filesystem::path& file,
                                            std::optional<ClassificationFormat> format) {
  if (format && *format != config.data.classification.format) {
    // Another format than the config's: its own defaults (a header; label, then text), as for a
    // data.extra_train file; the config's class names, so that class ids match the model's.
    return read_classification(file.string(),
                               read_options(config, ClassificationLayout{.format = *format}));
  }
  return read_classification(file.string(), read_options(config));
}

std::vector<std::string> training_labels(const Config& config) {
  return read_classification(config.data.classification.train.string(), read_options(config))
      .label_names;
}

}  // namespace heed
