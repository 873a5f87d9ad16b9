// The training configuration: one JSON file parsed into typed structs.
//
//   {
//     "task": "translation",                 // or "classification"
//     "run_dir": "../runs/quickstart_dates",
//     "data":  { "train": {...}, "valid": {...}, "tokenizer": {...}, ... },   // DataConfig
//     "model": { "type": "transformer", "d_model": 128, ... },               // ModelConfig
//     "train": { "batch_tokens": 4096, "max_steps": 3000, "optimizer": {...}, ... },
//     "eval":  { "beam": 5, ... }                                             // optional
//   }
//
// Every key, its type, default and rule is listed in docs/config.md (a test keeps that file and
// this code in agreement). Reading is strict (config_reader.h): unknown keys are errors with a
// suggestion, wrong types and ranges name the key, the rule and the value, and a key that only
// means something for another task or model type is an error rather than silently ignored.
// Each section struct has from_json (its keys, each checked where it is read, so errors name
// it), to_json, and validate (the rules between its keys); Config::validate adds the rules across
// sections.
//
// Relative paths are relative to where they were written: a path in the config file is relative
// to the directory of that file (so a config works from any working directory), a path given on
// the command line with --set is relative to the current directory (like any command-line
// argument). The resolved configuration (to_json: every default filled in, paths absolute) is
// what the run directory's config.json and every checkpoint hold, and reading it back gives the
// same Config.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "heed/data/batcher.h"
#include "heed/data/readers.h"
#include "heed/data/tokenizer.h"
#include "heed/optim/lr_schedule.h"
#include "heed/train/config_reader.h"
#include "heed/train/model_config.h"

namespace heed {

// How relative paths and missing files are treated while reading a document.
struct PathContext {
  std::filesystem::path config_dir;   // base of the paths written in the config file
  std::filesystem::path command_dir;  // base of the paths given with --set (the cwd)
  // Key paths set on the command line ("data.train.src", or a whole "data.train").
  std::set<std::string> overridden;
  // Whether data files must exist (training); off for eval/translate reading a run's config,
  // which may have moved since.
  bool require_files = true;
};

// ---------------------------------------------------------------------------------------- data

// The SentencePiece models of a run: existing files, or trained into RUN_DIR/tokenizer/.
struct TokenizerConfig {
  std::filesystem::path model;      // an existing model for both sides (or the only side)
  std::filesystem::path src_model;  // translation: existing separate models
  std::filesystem::path tgt_model;
  // Training a new model (when no model file is named):
  SubwordModel type = SubwordModel::kUnigram;
  TextNormalization normalization = TextNormalization::kNmtNfkc;  // e.g. case folding
  int vocab_size = 8000;
  bool shared = true;  // translation: one model (and vocabulary) for both languages
  double character_coverage = 1.0;
  std::int64_t input_sentence_size = 0;  // lines sampled for training (0: all)
  int max_sentence_length = 4192;        // longer lines (bytes) are left out of training
  int threads = 1;                       // a different count trains a slightly different model

  bool trained() const { return model.empty() && src_model.empty(); }
  // Translation: one vocabulary for both sides (a shared trained model or one `model` file).
  bool one_vocabulary() const { return !model.empty() || (trained() && shared); }
};

// One split of a parallel corpus: two line-aligned files, or one TSV file of pairs.
struct ParallelSplit {
  std::filesystem::path src;  // "src"/"tgt", or "prefix" + "." + src_lang/tgt_lang + "suffix"
  std::filesystem::path tgt;
  std::filesystem::path tsv;  // "tsv": one pair per line
  int src_field = 0;
  int tgt_field = 1;
  int num_fields = 2;

  bool defined() const { return !src.empty() || !tsv.empty(); }
};

struct TranslationDataConfig {
  ParallelSplit train, valid, test;
  std::string src_lang, tgt_lang;  // names only (and the file names of "prefix" splits)
};

// How a classification file is laid out: the keys data and each data.extra_train file share.
struct ClassificationLayout {
  ClassificationFormat format = ClassificationFormat::kTsv;
  bool header = true;
  Column label_column = Column::at(0);
  Column text_column = Column::at(1);
};

// A further labeled training file (data.extra_train): another corpus with the same classes,
// laid out its own way. Its layout defaults to data's when the format is the same, else to the
// format's defaults (a header; label, then text).
struct ExtraTrainFile : ClassificationLayout {
  std::filesystem::path path;
};

struct ClassificationDataConfig : ClassificationLayout {
  std::filesystem::path train, valid, test;
  // Training only, appended to data.train after a holdout is drawn from it (so validation stays
  // data.train's own); their labels must be among data.train's classes. The tokenizer learns
  // from their text too.
  std::vector<ExtraTrainFile> extra_train;
  std::vector<std::string> labels;  // empty: the training file's labels, sorted
  // Hierarchical models ("han"): documents split into sentences (sentence_split.h).
  int max_sentences = 0;  // sentences kept per document (0: all)
  int max_words = 0;      // words kept per sentence (0: all)
  // Flat models: each epoch, a text longer than this many tokens is trained on as a random run
  // of that many consecutive tokens, a new one every epoch (0: whole texts). Validation and
  // evaluation always read whole texts (up to max_length).
  int train_window = 0;
};

struct DataConfig {
  TranslationDataConfig translation;        // task "translation"
  ClassificationDataConfig classification;  // task "classification"
  // Examples moved from the training data to validation (seeded), for corpora without a
  // validation split; exclusive with "valid".
  std::int64_t valid_holdout = 0;
  // ... drawn in runs of this many consecutive examples (file order), so that neighbours that
  // belong together stay on one side: IMDB keeps the reviews of one film under consecutive ids,
  // and a holdout drawn example by example would share films with training and overstate
  // accuracy. 1: single examples.
  std::int64_t valid_holdout_block = 1;
  // Seed of the holdout draw; unset: train.seed. Set it to train several models (train.seed) on
  // the same split, so that their validation scores compare and an ensemble of them
  // (heed eval with several runs) can be validated on examples none of them trained on.
  std::optional<std::uint64_t> valid_holdout_seed;
  int max_length = 100;  // subword tokens per side / text / sentence (0: no limit)
  Overlong overlong = Overlong::kDrop;
  bool skip_malformed = false;
  TokenizerConfig tokenizer;

  // Reads the "data" section; the task and the model type decide which keys exist.
  static DataConfig from_json(ConfigReader& data, TaskKind task, ModelType model_type,
                              const PathContext& paths);
  nlohmann::json to_json(TaskKind task, ModelType model_type) const;
  // Rules between keys (each key's own rule is checked where it is read).
  void validate(TaskKind task) const;

  // Whether a validation file is given (data.valid), as opposed to a holdout or none.
  bool has_valid_file(TaskKind task) const;
};

// ---------------------------------------------------------------------------------------- train

enum class OptimizerKind { kAdam, kAdamW, kSgd };

struct OptimizerConfig {
  OptimizerKind type = OptimizerKind::kAdam;
  double lr = 0;  // required; the peak of the schedule
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // AdamW: decoupled (default 0.01); Adam, SGD: L2
  double momentum = 0;      // SGD
  bool nesterov = false;    // SGD
  // Adam, AdamW: update an embedding table's row only in the steps whose batch looked it up
  // (AdamOptions::lazy_rows over the model's embedding tables).
  bool lazy_embeddings = false;
};

struct ScheduleConfig {
  LrScheduleKind type = LrScheduleKind::kConstant;
  std::int64_t warmup_steps = 0;
  std::optional<std::int64_t> total_steps;  // cosine: default = the run's total steps
  double min_lr = 0;                        // cosine
};

enum class MetricMode { kMax, kMin };

struct EarlyStoppingConfig {
  std::string metric;  // a validation metric of the task; also picks the best checkpoint
  MetricMode mode = MetricMode::kMax;
  int patience = 0;  // validations without improvement before stopping (0: never stop)
};

enum class PrecisionKind { kFp32, kBf16 };

struct TrainConfig {
  std::int64_t batch_tokens = 4096;  // B × padded length ≤ batch_tokens
  std::int64_t max_batch_size = 0;   // 0: no cap
  Bucketing bucketing = Bucketing::kChunks;
  std::int64_t chunk_size = 8192;
  std::optional<std::int64_t> max_steps;  // at least one of the two; training ends at the first
  std::optional<std::int64_t> max_epochs;
  // Wall-clock budget of training (validation included, summed over resumed sessions): the run
  // ends with a validation and a checkpoint at the first step past it. Not part of the schedule,
  // so a run stopped at 20 minutes can be resumed with a larger budget and go on unchanged.
  std::optional<double> max_minutes;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  double label_smoothing = 0;
  // Classification only: adversarial training on the word embeddings (Miyato et al. 2017). Each
  // step adds the loss of the batch with its embeddings moved in the direction that raises the
  // loss most, by this many token embedding norms (train/adversarial.h). 0: off.
  double adversarial_epsilon = 0;
  double clip_norm = 1.0;  // 0: no clipping
  std::uint64_t seed = 1;
  std::int64_t log_every = 100;
  // 0: no validation. Once a recipe is chosen on validation data, it trains on every training
  // example (data.valid_holdout is not drawn) and the final model is the run's best checkpoint.
  std::int64_t valid_every = 1000;
  std::int64_t checkpoint_every = 1000;  // default: valid_every, or 1000 without validation
  int keep_checkpoints = 3;
  EarlyStoppingConfig early_stopping;
  PrecisionKind precision = PrecisionKind::kFp32;
  int threads = 0;  // 0: all cores

  static TrainConfig from_json(ConfigReader& train, TaskKind task);
  nlohmann::json to_json() const;
  void validate(TaskKind task) const;

  bool validates() const { return valid_every > 0; }
};

// ---------------------------------------------------------------------------------------- eval

struct EvalConfig {
  int beam = 5;  // heed eval / translate; validation during training decodes greedily
  double length_penalty = 1.0;
  double max_len_a = 1.5;  // output length ≤ max_len_a · |source| + max_len_b, ≤ max_len
  int max_len_b = 10;
  int max_len = 256;
  std::int64_t batch_tokens = 4096;  // decoding / evaluation batches: B × longest source

  static EvalConfig from_json(ConfigReader& eval, TaskKind task);  // translation keys or not
  nlohmann::json to_json(TaskKind task) const;
  void validate() const;
};

// ---------------------------------------------------------------------------------------- all

struct Config {
  TaskKind task = TaskKind::kTranslation;
  std::filesystem::path run_dir;
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  EvalConfig eval;

  // Reads and checks a whole document: every section, unknown keys, validate().
  static Config from_json(const nlohmann::json& document, const PathContext& paths);
  // Every key with its value, defaults filled in and paths absolute.
  nlohmann::json to_json() const;
  // The rules between keys, within sections and across them (a Transformer's positions must
  // hold data.max_length and eval.max_len, the model must fit the task...).
  void validate() const;
  // The seed the validation holdout is drawn with: data.valid_holdout_seed, else train.seed.
  std::uint64_t holdout_seed() const { return data.valid_holdout_seed.value_or(train.seed); }
};

// The validation metrics a task reports ("loss", "bleu", ...), the default early-stopping one,
// and whether a higher value is better.
const std::vector<std::string>& task_metrics(TaskKind task);
const char* default_metric(TaskKind task);
MetricMode default_mode(const std::string& metric);

// A configuration as the trainer starts from it.
struct LoadedConfig {
  Config config;
  nlohmann::json resolved;  // config.to_json(): for config.json, checkpoints and resume checks
};

// Loads a config file (comments allowed), applies the --set overrides, reads and checks it.
LoadedConfig load_config(const std::filesystem::path& file,
                         const std::vector<std::string>& overrides);
// Reads a resolved configuration again (a run's config.json or a checkpoint's), without requiring
// its data files to exist.
Config config_from_resolved(const nlohmann::json& resolved, const std::string& source);

}  // namespace heed
