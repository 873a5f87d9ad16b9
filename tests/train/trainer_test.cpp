// The trainer end to end, in process: a quickstart-style translation pipeline on a slice of the
// dates data (loss falls, validation reaches a set exact match, the trained run translates), a
// classification run, seeded determinism, and what a run directory holds afterwards.
#include "heed/train/trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

#include "heed/train/atomic_file.h"
#include "heed/train/checkpoint.h"
#include "heed/train/inference.h"
#include "heed/train/metrics_log.h"
#include "heed/train/run_dir.h"
#include "heed/train/task.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::TempDir;
namespace fs = std::filesystem;

struct Trained {
  TrainResult result;
  std::vector<json> metrics;
  std::string log;  // what the trainer printed
};

Trained train_config(const fs::path& dir, const json& config,
                     const std::vector<std::string>& overrides = {}) {
  const fs::path path = testing::write_config(dir, config);
  std::ostringstream progress;
  Trained t;
  t.result = train(load_config(path, overrides), {.progress = &progress});
  t.metrics = read_metrics(t.result.run_dir / "metrics.jsonl");
  t.log = progress.str();
  return t;
}

std::vector<json> records(const std::vector<json>& metrics, const std::string& split) {
  std::vector<json> out;
  for (const json& r : metrics) {
    if (r["split"] == split) out.push_back(r);
  }
  return out;
}

// Trains `config` (with `overrides`) in a new run directory up to step `stop_at`, resumes it to
// its end, and expects the losses `uninterrupted` logged: nothing the run draws escapes its
// checkpoints.
void expect_resume_logs_the_same_losses(const fs::path& dir, const json& config,
                                        std::vector<std::string> overrides, std::int64_t stop_at,
                                        const Trained& uninterrupted) {
  overrides.push_back("run_dir=" + (dir / "resumed").string());
  std::vector<std::string> first_part = overrides;
  first_part.push_back("train.max_steps=" + std::to_string(stop_at));
  train_config(dir, config, first_part);
  std::ostringstream progress;
  const TrainResult resumed = train(load_config(testing::write_config(dir, config), overrides),
                                    {.resume = true, .progress = &progress});
  EXPECT_EQ(resumed.step, uninterrupted.result.step);
  const std::vector<json> after = records(read_metrics(resumed.run_dir / "metrics.jsonl"), "train");
  const std::vector<json> before = records(uninterrupted.metrics, "train");
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i]["loss"], before[i]["loss"]) << "step " << after[i]["step"];
  }
}

TEST(Trainer, TranslationPipelineLearnsDatesAndTranslates) {
  TempDir dir;
  const Trained t = train_config(dir.path(), testing::tiny_translation_config(dir.path()));
  EXPECT_EQ(t.result.outcome, TrainOutcome::kFinished);
  EXPECT_EQ(t.result.step, 400);

  const std::vector<json> train_lines = records(t.metrics, "train");
  ASSERT_EQ(train_lines.size(), 20u);  // log_every 20
  EXPECT_LT(train_lines.back()["loss"].get<double>(),
            0.5 * train_lines.front()["loss"].get<double>());
  for (const char* key : {"epoch", "lr", "tokens_per_s", "grad_norm", "padding"}) {
    EXPECT_TRUE(train_lines.back().contains(key)) << key;
  }
  const std::vector<json> valid = records(t.metrics, "valid");
  ASSERT_EQ(valid.size(), 2u);  // steps 200 and 400
  EXPECT_GE(valid.back()["exact_match"].get<double>(), 0.3);
  EXPECT_GT(valid.back()["bleu"].get<double>(), 50);
  EXPECT_LT(valid.back()["loss"].get<double>(), valid.front()["loss"].get<double>());
  ASSERT_TRUE(t.result.best_score);
  EXPECT_EQ(*t.result.best_score, valid.back()["exact_match"].get<double>());

  // The run directory: config, tokenizer, best and last checkpoints, log.
  const fs::path run = t.result.run_dir;
  EXPECT_TRUE(fs::is_regular_file(run / "config.json"));
  EXPECT_TRUE(fs::is_regular_file(run / "tokenizer" / "spm.model"));
  EXPECT_TRUE(fs::is_regular_file(run / "checkpoints" / "best.safetensors"));
  EXPECT_TRUE(fs::is_regular_file(run / "checkpoints" / "step_400.safetensors"));
  EXPECT_FALSE(fs::exists(run / "tokenizer" / "spm.train.txt"));
  EXPECT_NE(read_file(run / "log.txt").find("validation at step 400"), std::string::npos);

  // The best checkpoint, loaded for inference, translates the validation set exactly as
  // validation did (same greedy decoding, same length caps).
  LoadedTranslator loaded = load_translator(locate_run(run));
  EXPECT_EQ(loaded.location.step, 400);
  const ParallelText dev =
      read_parallel_files((dir / "dev.src").string(), (dir / "dev.tgt").string());
  const TranslateOptions greedy{.decode = {.beam_size = 1,
                                           .length_penalty = 0,
                                           .max_len_a = 0,
                                           .max_len_b = 24,
                                           .max_len = 32},
                                .batch_tokens = 512,
                                .max_source_length = 32};
  const TranslationScores scores =
      score_translations(loaded.translator->translate(dev.source, greedy), dev.target);
  EXPECT_EQ(scores.exact_match, valid.back()["exact_match"].get<double>());
  EXPECT_EQ(scores.bleu, valid.back()["bleu"].get<double>());
  const std::vector<std::string> out = loaded.translator->translate({"march 3, 2001", ""}, greedy);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].substr(0, 4), "2001") << out[0];
  EXPECT_EQ(out[1], "");  // an empty line translates to an empty line
}

TEST(Trainer, ClassificationRunReachesHighAccuracy) {
  TempDir dir;
  const Trained t = train_config(dir.path(), testing::tiny_classification_config(dir.path()));
  const std::vector<json> valid = records(t.metrics, "valid");
  ASSERT_EQ(valid.size(), 3u);
  EXPECT_GE(valid.back()["accuracy"].get<double>(), 0.85);
  EXPECT_GT(valid.back()["macro_f1"].get<double>(), 0.8);
  // The class names were resolved into the run's config, for eval and classify.
  const json config = RunDir(t.result.run_dir).read_config();
  EXPECT_EQ(config["data"]["labels"], json({"negative", "positive"}));

  LoadedClassifier loaded = load_classifier(locate_run(t.result.run_dir));
  const std::vector<Prediction> p =
      loaded.classifier->predict({"we loved the food.", "the plot was terrible.", ""}, 256);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(loaded.classifier->labels()[p[0].label], "positive");
  EXPECT_EQ(loaded.classifier->labels()[p[1].label], "negative");
  EXPECT_GT(p[0].probability, 0.5f);
  EXPECT_LE(p[0].probability, 1.f);
}

TEST(Trainer, SameConfigTwiceLogsTheSameLosses) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"]["max_steps"] = 120;
  config["train"]["log_every"] = 10;
  config["model"]["dropout"] = 0.5;  // dropout draws from the model's seeded stream
  const Trained a = train_config(dir.path(), config, {"run_dir=" + (dir / "a").string()});
  const Trained b = train_config(dir.path(), config, {"run_dir=" + (dir / "b").string()});
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_EQ(a.metrics[i]["step"], b.metrics[i]["step"]);
    EXPECT_EQ(a.metrics[i]["loss"], b.metrics[i]["loss"]) << "step " << a.metrics[i]["step"];
  }
  // ... and another seed does not.
  const Trained c =
      train_config(dir.path(), config, {"run_dir=" + (dir / "c").string(), "train.seed=2"});
  EXPECT_NE(a.metrics.front()["loss"], c.metrics.front()["loss"]);
}

TEST(Trainer, MaxEpochsRunEndsAtThePlannedStepWithTrainingWindows) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"].erase("max_steps");
  config["train"]["max_epochs"] = 5;
  config["train"]["chunk_size"] = 400;  // several sorted chunks: epochs differ in batch count
  config["data"]["train_window"] = 24;
  const Trained t = train_config(dir.path(), config);
  EXPECT_EQ(t.result.outcome, TrainOutcome::kFinished);
  // The plan ("training for N steps", also a cosine schedule's length) is where the run ends.
  const std::string planned = "training for " + std::to_string(t.result.step) + " steps";
  EXPECT_NE(t.log.find(planned), std::string::npos) << t.log;
  EXPECT_NE(t.log.find("texts longer than data.train_window=24 tokens are trained on a random "
                       "window"),
            std::string::npos)
      << t.log;
  // Whole texts are validated: windows are for training only, and a model trained on 24-token
  // windows still classifies these reviews.
  EXPECT_GE(records(t.metrics, "valid").back()["accuracy"].get<double>(), 0.8) << t.log;
}

TEST(Trainer, AdversarialTrainingLearnsAndResumesExactly) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"]["adversarial_epsilon"] = 0.05;
  config["train"]["max_steps"] = 600;  // the attack delays learning: 78 % at step 300, 100 % at 600
  config["train"]["log_every"] = 10;
  const Trained whole = train_config(dir.path(), config, {"run_dir=" + (dir / "whole").string()});
  EXPECT_GE(records(whole.metrics, "valid").back()["accuracy"].get<double>(), 0.85) << whole.log;
  // The attack changes training (the logged loss is the clean one, so it is comparable)...
  const Trained plain = train_config(dir.path(), config,
                                     {"run_dir=" + (dir / "plain").string(),
                                      "train.adversarial_epsilon=0"});
  const std::vector<json> adversarial_train = records(whole.metrics, "train");
  const std::vector<json> plain_train = records(plain.metrics, "train");
  ASSERT_FALSE(adversarial_train.empty());
  ASSERT_EQ(adversarial_train.size(), plain_train.size());
  EXPECT_NE(adversarial_train.back()["loss"], plain_train.back()["loss"]);
  // ... and draws nothing that a checkpoint does not restore: stopped at step 250 and resumed,
  // the run logs the same losses as the uninterrupted one.
  expect_resume_logs_the_same_losses(dir.path(), config, {}, 250, whole);
}

TEST(Trainer, LazyEmbeddingsChangeTrainingAndResumeExactly) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"]["optimizer"]["lazy_embeddings"] = true;
  config["model"]["ngram_buckets"] = 2000;  // a second table, mostly untouched by one batch
  config["train"]["log_every"] = 10;
  const Trained lazy = train_config(dir.path(), config, {"run_dir=" + (dir / "lazy").string()});
  EXPECT_GE(records(lazy.metrics, "valid").back()["accuracy"].get<double>(), 0.85) << lazy.log;
  // The option reaches the optimizer: from the second step on, rows a batch did not look up
  // stay put, so the losses part from the dense run's.
  const Trained dense = train_config(
      dir.path(), config,
      {"run_dir=" + (dir / "dense").string(), "train.optimizer.lazy_embeddings=false"});
  const std::vector<json> lazy_train = records(lazy.metrics, "train");
  const std::vector<json> dense_train = records(dense.metrics, "train");
  ASSERT_EQ(lazy_train.size(), dense_train.size());
  EXPECT_NE(lazy_train.back()["loss"], dense_train.back()["loss"]);
  expect_resume_logs_the_same_losses(dir.path(), config, {}, 100, lazy);
}

TEST(Trainer, WithoutValidationEveryExampleTrainsAndTheFinalModelIsTheBest) {
  // The last run of a chosen recipe: the config's holdout goes back into training.
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["data"].erase("valid");
  config["data"]["valid_holdout"] = 300;
  config["train"]["max_steps"] = 120;
  config["train"]["checkpoint_every"] = 50;
  // An lr of ~0 never improves: with validation this would stop at step 20.
  config["train"]["optimizer"]["lr"] = 1e-12;
  config["train"]["valid_every"] = 10;
  config["train"]["early_stopping"] = {{"metric", "loss"}, {"patience", 1}};
  const Trained held = train_config(dir.path(), config, {"run_dir=" + (dir / "held").string()});
  const Trained all = train_config(dir.path(), config,
                                   {"run_dir=" + (dir / "all").string(), "train.valid_every=0"});
  EXPECT_EQ(held.result.outcome, TrainOutcome::kEarlyStopped);
  EXPECT_EQ(all.result.outcome, TrainOutcome::kFinished);  // early stopping is off too
  EXPECT_EQ(all.result.step, 120);
  EXPECT_NE(all.log.find("valid: none (train.valid_every 0)"), std::string::npos) << all.log;
  EXPECT_NE(all.log.find("no validation: the model of step 120, the latest, is"),
            std::string::npos)
      << all.log;
  EXPECT_EQ(all.log.find("validation at"), std::string::npos) << all.log;
  EXPECT_TRUE(records(all.metrics, "valid").empty());
  EXPECT_FALSE(all.result.best_score);
  // 3000 examples train instead of 2700: more batches per epoch than the run with the holdout.
  auto batches_per_epoch = [](const std::string& log) {
    const std::size_t at = log.find(" batches per epoch");
    EXPECT_NE(at, std::string::npos) << log;
    std::size_t begin = log.rfind(' ', at - 1) + 1;
    return std::stoi(log.substr(begin, at - begin));
  };
  EXPECT_GT(batches_per_epoch(all.log), batches_per_epoch(held.log));
  // best.safetensors is the final checkpoint (the same bytes), and a checkpoint every 50 steps.
  const fs::path checkpoints = all.result.run_dir / "checkpoints";
  EXPECT_TRUE(fs::exists(checkpoints / "step_50.safetensors"));
  EXPECT_TRUE(fs::exists(checkpoints / "step_100.safetensors"));
  auto bytes = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_TRUE(fs::exists(checkpoints / "best.safetensors"));
  EXPECT_EQ(bytes(checkpoints / "best.safetensors"), bytes(checkpoints / "step_120.safetensors"));

  expect_resume_logs_the_same_losses(dir.path(), config, {"train.valid_every=0"}, 60, all);
}

TEST(Trainer, ExtraTrainFilesTrainExactlyAsIfAppendedToTheTrainingFile) {
  // data.extra_train: another corpus with the same classes in its own layout (CSV, text before
  // label, other column names) trains as its rows appended to data.train would.
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"]["max_steps"] = 60;
  config["train"]["valid_every"] = 30;
  const std::vector<std::string> rows = read_lines((dir / "train.tsv").string());  // header + 3000
  {
    std::ofstream first(dir / "first.tsv"), rest(dir / "rest.csv");
    first << rows[0] << '\n';
    rest << "review,sentiment\n";
    for (std::size_t i = 1; i < rows.size(); ++i) {
      if (i <= 1000) {
        first << rows[i] << '\n';
      } else {
        const std::size_t tab = rows[i].find('\t');
        std::string text = rows[i].substr(tab + 1);
        for (std::size_t q = text.find('"'); q != std::string::npos; q = text.find('"', q + 2)) {
          text.insert(q, 1, '"');  // CSV writes a quote inside a quoted field twice
        }
        rest << '"' << text << "\"," << rows[i].substr(0, tab) << '\n';
      }
    }
  }
  const Trained whole = train_config(dir.path(), config, {"run_dir=" + (dir / "whole").string()});
  config["data"]["train"] = "first.tsv";
  config["data"]["extra_train"] = json::array(
      {{{"path", "rest.csv"}, {"format", "csv"}, {"text_column", "review"},
        {"label_column", "sentiment"}}});
  const Trained split = train_config(dir.path(), config, {"run_dir=" + (dir / "split").string()});
  EXPECT_NE(split.log.find("train: 1000 examples from"), std::string::npos) << split.log;
  EXPECT_NE(split.log.find("train: 2000 more examples from " + (dir / "rest.csv").string() +
                           " (data.extra_train)"),
            std::string::npos)
      << split.log;
  const std::vector<json> a = records(whole.metrics, "train");
  const std::vector<json> b = records(split.metrics, "train");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i]["loss"], b[i]["loss"]) << i;
  EXPECT_EQ(records(whole.metrics, "valid").back()["accuracy"],
            records(split.metrics, "valid").back()["accuracy"]);
}

TEST(Trainer, TranslationTrainsWithoutValidationToo) {
  TempDir dir;
  json config = testing::tiny_translation_config(dir.path());
  config["data"].erase("valid");
  config["train"]["valid_every"] = 0;
  config["train"]["max_steps"] = 20;
  const Trained t = train_config(dir.path(), config);
  EXPECT_EQ(t.result.outcome, TrainOutcome::kFinished);
  EXPECT_EQ(t.result.step, 20);
  EXPECT_NE(t.log.find("valid: none (train.valid_every 0)"), std::string::npos) << t.log;
  EXPECT_TRUE(records(t.metrics, "valid").empty());
  EXPECT_TRUE(fs::exists(t.result.run_dir / "checkpoints" / "best.safetensors"));
  EXPECT_THROW_MSG(read_translation_split(locate_run(t.result.run_dir).config, "valid"),
                   "trained without validation");
}

TEST(Trainer, EarlyStoppingStopsAfterPatienceValidationsWithoutImprovement) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  // A learning rate of ~0 never improves the validation loss after the first validation.
  config["train"]["optimizer"]["lr"] = 1e-12;
  config["train"]["valid_every"] = 10;
  config["train"]["early_stopping"] = {{"metric", "loss"}, {"patience", 2}};
  const Trained t = train_config(dir.path(), config);
  EXPECT_EQ(t.result.outcome, TrainOutcome::kEarlyStopped);
  EXPECT_LE(t.result.step, 40);
  EXPECT_NE(t.log.find("stopped early"), std::string::npos) << t.log;
}

TEST(Trainer, MaxMinutesEndsTheRunWithACheckpointAndResumeExtendsIt) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  config["train"].erase("max_steps");
  config["train"]["max_minutes"] = 0.01;  // 0.6 s: far fewer steps than the 100,000 below
  config["train"]["valid_every"] = 100000;
  const Trained first = train_config(dir.path(), config);
  EXPECT_EQ(first.result.outcome, TrainOutcome::kFinished);
  const std::int64_t stopped_at = first.result.step;
  EXPECT_GT(stopped_at, 0);
  EXPECT_LT(stopped_at, 100000);
  EXPECT_NE(first.log.find("training for 0.01 minutes"), std::string::npos) << first.log;
  // The end of the budget validates and saves, like the end of max_steps.
  EXPECT_EQ(records(first.metrics, "valid").size(), 1u);
  EXPECT_TRUE(fs::exists(first.result.run_dir / "checkpoints" /
                         ("step_" + std::to_string(stopped_at) + ".safetensors")));
  // A larger budget continues the same run from where it stopped.
  const fs::path path = testing::write_config(dir.path(), config);
  std::ostringstream progress;
  const TrainResult resumed =
      train(load_config(path, {"train.max_minutes=0.03"}), {.resume = true, .progress = &progress});
  EXPECT_GT(resumed.step, stopped_at);
  EXPECT_NE(progress.str().find("resumed from"), std::string::npos) << progress.str();
}

}  // namespace
}  // namespace heed

namespace heed {
namespace {

TEST(TrainerTokenizers, SeparateVocabulariesAndExistingModels) {
  TempDir dir;
  json config = testing::tiny_translation_config(dir.path());
  config["train"]["max_steps"] = 2;
  // Copying dates: both sides have enough characters for an 80-piece vocabulary of their own.
  config["data"]["train"]["tgt"] = "train.src";
  config["data"]["valid"]["tgt"] = "dev.src";
  config["data"]["tokenizer"] = {{"shared", false}, {"vocab_size", 80}};
  const Trained separate = train_config(dir.path(), config);
  const fs::path tokenizers = separate.result.run_dir / "tokenizer";
  EXPECT_TRUE(fs::is_regular_file(tokenizers / "src.model"));
  EXPECT_TRUE(fs::is_regular_file(tokenizers / "tgt.model"));
  EXPECT_FALSE(fs::exists(tokenizers / "spm.model"));
  const json resolved = RunDir(separate.result.run_dir).read_config();
  EXPECT_EQ(resolved["model"]["shared_vocab"], false);

  // Existing models are used as they are, and copied into the new run directory.
  config["run_dir"] = "reuse";
  config["data"]["tokenizer"] = {{"src_model", (tokenizers / "src.model").string()},
                                 {"tgt_model", (tokenizers / "tgt.model").string()}};
  const Trained reused = train_config(dir.path(), config);
  EXPECT_EQ(read_file(reused.result.run_dir / "tokenizer" / "src.model"),
            read_file(tokenizers / "src.model"));
  EXPECT_NE(reused.log.find("copied to"), std::string::npos) << reused.log;
  // Training settings next to an existing model would be ignored: an error instead.
  config["data"]["tokenizer"]["vocab_size"] = 100;
  EXPECT_THROW_MSG(train_config(dir.path(), config),
                   "data.tokenizer.vocab_size: only used when training a tokenizer");
}

}  // namespace
}  // namespace heed
