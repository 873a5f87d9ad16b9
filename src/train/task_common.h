// What the translation and classification tasks share: tokenizers in the run directory, held-out
// validation examples, data statistics for the log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "heed/data/batcher.h"
#include "heed/data/readers.h"
#include "heed/data/tokenizer.h"
#include "heed/tensor/rng.h"
#include "heed/train/config.h"
#include "heed/train/run_dir.h"
#include "heed/train/task.h"

namespace heed::task_detail {

// The tokenizer `name` ("spm", "src", "tgt") of a run: RUN_DIR/tokenizer/<name>.model.
//  - `existing` named in the config: copied there (so the run directory is self-contained);
//  - resuming: loaded from there (the checkpoint was trained with it);
//  - otherwise trained there on `texts` (written to a temporary file first).
Tokenizer prepare_tokenizer(const TokenizerConfig& config, const RunDir& run,
                            const std::string& name, const std::filesystem::path& existing,
                            const std::vector<const std::vector<std::string>*>& texts, bool resume,
                            const LogFunction& log);

// The random streams of the data, derived from train.seed: the training batcher's shuffling,
// and the choice of held-out validation examples.
Rng data_rng(std::uint64_t seed);
Rng holdout_rng(std::uint64_t seed);

// `count` distinct indices of [0, n), drawn with `rng` in runs of `block` consecutive indices
// (data.valid_holdout_block), sorted. Throws if count >= n.
std::vector<std::int64_t> holdout_indices(std::int64_t n, std::int64_t count, std::int64_t block,
                                          Rng& rng, const std::string& what);

// Moves the elements at `indices` (sorted) of `from` to the end of `to`, keeping order.
template <typename T>
void move_indices(std::vector<T>& from, const std::vector<std::int64_t>& indices,
                  std::vector<T>& to) {
  std::vector<T> kept;
  kept.reserve(from.size() - indices.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (next < indices.size() && static_cast<std::int64_t>(i) == indices[next]) {
      to.push_back(std::move(from[i]));
      ++next;
    } else {
      kept.push_back(std::move(from[i]));
    }
  }
  from = std::move(kept);
}

// "20000 examples (12 malformed lines skipped: train.tsv:17: ...)".
std::string describe_read(const ReadStats& stats, const std::string& unit);
// "kept 19990 (cropped 3), dropped 10 longer than 100 tokens, 0 empty".
std::string describe_filter(const FilterStats& stats, int max_length);

// The training batcher's options from the config.
BatcherOptions training_batcher_options(const Config& config);
// A non-shuffling, length-sorted batcher's options for evaluation: examples cropped (never
// dropped) to data.max_length, and a token budget large enough for the largest example
// (`largest` token slots after cropping).
BatcherOptions evaluation_batcher_options(const Config& config, std::int64_t largest);

// The training side of a Task that every task shares: a resumable, length-bucketed batcher of
// `Example`s and its position.
template <typename Example>
class BatchedTask : public Task {
 public:
  BatcherState data_state() const override { return train_batches_->state(); }
  void set_data_state(const BatcherState& state) override { train_batches_->set_state(state); }
  std::int64_t completed_epochs() const override {
    return train_batches_->state().epoch + (train_batches_->at_epoch_end() ? 1 : 0);
  }
  std::int64_t batches_in_epochs(std::int64_t epochs) const override {
    return train_batches_->batches_in_epochs(epochs);
  }

 protected:
  // Builds the training batcher over `examples` (shuffled with data_rng(train.seed)) and logs
  // "train: kept ...; N batches of <= B tokens per epoch (P% padding)".
  void make_train_batches(std::vector<Example> examples, const Config& config,
                          const LogFunction& log) {
    train_batches_ = std::make_unique<Batcher<Example>>(
        std::move(examples), training_batcher_options(config), data_rng(config.train.seed));
    log(str("train: ", describe_filter(train_batches_->filter_stats(), config.data.max_length),
            "; ", train_batches_->batches_per_epoch(), " batches of <= ", config.train.batch_tokens,
            " tokens per epoch (",
            static_cast<int>(100 * train_batches_->padding_stats().padding_fraction()),
            "% padding)"));
  }

  std::unique_ptr<Batcher<Example>> train_batches_;
};

// The "valid:" line of a run without validation (train.valid_every 0).
inline constexpr const char* kNoValidationNote =
    "valid: none (train.valid_every 0): every training example trains (data.valid_holdout is "
    "not drawn), no early stopping, and the final model is the best checkpoint";

}  // namespace heed::task_detail
