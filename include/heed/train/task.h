// Task: what the training loop needs from translation or classification, so that the loop
// (trainer.cpp) is written once. A task owns its tokenizer(s), its model and its data: training
// batches drawn from a resumable batcher, and the validation set with the task's metrics.
//
//   translation_task.cpp     Seq2SeqModel, parallel text, loss + BLEU/chrF/exact match
//   classification_task.cpp  ClassifierModel, labelled text (or documents), accuracy/macro F1
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heed/data/batcher.h"
#include "heed/data/readers.h"
#include "heed/nn/module.h"
#include "heed/tensor/rng.h"
#include "heed/train/config.h"
#include "heed/train/run_dir.h"

namespace heed {

// What one forward/backward pass on a training batch reports.
struct TrainStep {
  double loss = 0;          // the batch's mean loss (the value differentiated)
  std::int64_t units = 0;   // what the mean is over: target tokens, or examples
  std::int64_t tokens = 0;  // real tokens in the batch, source and target (for tokens/s)
  std::int64_t slots = 0;   // tensor elements holding them, padding included
};

// One validation: every metric of task_metrics(task) by name, and a few example outputs for the
// log ("src ||| hypothesis ||| reference").
struct Validation {
  std::map<std::string, double> metrics;
  std::vector<std::string> samples;
};

// Where a task reports what it does while setting up (reading, tokenizer training...).
using LogFunction = std::function<void(const std::string&)>;

class Task {
 public:
  virtual ~Task() = default;

  virtual Module& model() = 0;
  // The model's own random streams (dropout, sampling), saved in checkpoints under these names.
  virtual std::vector<std::pair<std::string, Rng*>> model_rngs() = 0;

  // Draws the next training batch and runs forward and backward on it in training mode; the
  // gradients land in the parameters' grads.
  virtual TrainStep forward_backward(float label_smoothing) = 0;

  // The training batcher's position (epoch, batch, shuffle state).
  virtual BatcherState data_state() const = 0;
  virtual void set_data_state(const BatcherState& state) = 0;
  // Epochs whose every batch has been drawn.
  virtual std::int64_t completed_epochs() const = 0;
  // Batches in the first `epochs` epochs together (epochs differ by a batch or two: packing
  // follows the shuffle).
  virtual std::int64_t batches_in_epochs(std::int64_t epochs) const = 0;

  // Evaluates the validation set in evaluation mode (no dropout) and returns to training mode.
  // Not called (and no validation set is built) when config.train.validates() is false.
  virtual Validation validate() = 0;

  // Writes the attention page (viz/model_attention.h) of the first kAttentionInputs validation
  // inputs to `path`, in evaluation mode: what the model attends to, as training goes on.
  static constexpr int kAttentionInputs = 4;
  virtual void write_attention(const std::filesystem::path& path, const std::string& title) = 0;
};

// Builds the task of `config`: reads the data, trains the tokenizer into the run directory (or
// loads it there when `resume` is set; an existing model named in the config is copied there),
// encodes, builds the batchers and the model (initialized from config.train.seed).
std::unique_ptr<Task> make_task(const Config& config, const RunDir& run, bool resume,
                                const LogFunction& log);

// ---- the raw data of a config's splits, exactly as training reads it

// Training and validation text: data.train, and data.valid or the data.valid_holdout examples
// drawn (seeded by data.valid_holdout_seed, else train.seed) out of the training data. Without
// validation (train.valid_every 0) `valid` is empty and every example is in `train`.
struct TranslationText {
  ParallelText train, valid;
};
TranslationText read_translation_text(const Config& config);
struct ClassificationText {
  ClassificationData train, valid;
};
ClassificationText read_classification_text(const Config& config);
// data.extra_train's files (training only; the task appends them to `train`), each read with its
// own layout and data.labels (resolved), so that an unknown label is an error naming the file and
// line and class ids are data.train's.
std::vector<ClassificationData> read_extra_train(const Config& config);

// One split by name: "valid" (as above) or "test" (data.test; an error if it has none).
ParallelText read_translation_split(const Config& config, const std::string& split);
ClassificationData read_classification_split(const Config& config, const std::string& split);
// Any file in the format of the config's classification data (or in `format`, e.g. the labeled
// SST-2 test set, "<label> <text>", scored by a model trained on GLUE's TSV), with its labels.
ClassificationData read_classification_file(
    const Config& config, const std::filesystem::path& file,
    std::optional<ClassificationFormat> format = std::nullopt);

// Classification: the class names of a config whose data.labels is empty, read from its training
// file (sorted as readers.h does). The trainer writes them into the resolved config.
std::vector<std::string> training_labels(const Config& config);

}  // namespace heed
