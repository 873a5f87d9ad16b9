// Batcher: token-id examples -> padded IntTensor batches, by token budget, with length bucketing
// and exactly resumable, seeded shuffling.
//
// Batches are formed the way fairseq and Marian do: examples of similar length go together, and
// a batch holds as many as fit a token budget counting padding,
//     B × (padded example size) ≤ max_tokens
// where the padded size of an example is its length (translation: max(S, T), T = target + 1;
// documents: sentences × longest sentence). Bucketing orders the examples before packing them
// greedily into batches:
//   kNone    the (shuffled or original) order as is — most padding;
//   kChunks  shuffle, cut into chunks of `chunk_size` examples, sort each chunk by length, pack,
//            then shuffle the order of all batches (Marian's "maxi-batches");
//   kGlobal  sort everything by length (ties in shuffled order), pack, shuffle the batch order.
// With shuffle = false the order is deterministic and the batch order is kept (kGlobal then
// gives the sorted batches that evaluation wants; `example_ids` restores the input order).
//
// Resuming: everything random about an epoch is drawn from the Rng state at its start, so the
// state {epoch, position, rng at epoch start} is enough to rebuild the epoch's batch order and
// continue: set_state(saved) on a batcher over the same examples and options reproduces exactly
// the batches that followed the save.
//
// Over-long examples (beyond max_length tokens, or max_sentences for documents) are cropped or
// dropped per `overlong`; empty examples are dropped. filter_stats() reports both.
//
// Training windows (classification only): with `window` = W > 0, an example longer than W tokens
// enters each epoch's batches as W consecutive tokens at an offset drawn afresh every epoch — a
// long review is seen piece by piece, a different piece each epoch, at a fraction of the cost.
// The offsets are a pure function of the epoch's generator and the example, so resuming
// reproduces them too.
//
//   Batcher<TranslationExample> batcher(std::move(examples), options, rng.fork());
//   TranslationBatch batch = batcher.next();   // src [B, S], tgt_in/tgt_out [B, T], lengths
//   BatcherState saved = batcher.state();      // ... checkpoint, restart, set_state(saved)
#pragma once

#include <cstdint>
#include <vector>

#include "heed/tensor/special_ids.h"
#include "heed/tensor/rng.h"
#include "heed/tensor/tensor.h"

namespace heed {

// ---- examples (token ids, without BOS/EOS)

struct TranslationExample {
  std::vector<std::int32_t> source;
  std::vector<std::int32_t> target;
};

struct ClassificationExample {
  std::vector<std::int32_t> tokens;
  std::int32_t label = 0;
};

struct DocumentExample {  // a document as sentences, for hierarchical models
  std::vector<std::vector<std::int32_t>> sentences;
  std::int32_t label = 0;
};

// ---- batches (padding with kPadId; `example_ids[b]` = index of row b in the examples given
// to the batcher)

struct TranslationBatch {
  IntTensor source;          // [B, S]
  IntTensor source_lengths;  // [B]
  IntTensor target_in;       // [B, T]  BOS y1 .. yn      (decoder input)
  IntTensor target_out;      // [B, T]  y1 .. yn EOS      (what the decoder predicts)
  IntTensor target_lengths;  // [B]     n + 1
  std::vector<std::int64_t> example_ids;
};

struct ClassificationBatch {
  IntTensor tokens;   // [B, T]
  IntTensor lengths;  // [B]
  IntTensor labels;   // [B]
  std::vector<std::int64_t> example_ids;
};

struct DocumentBatch {
  IntTensor tokens;            // [B, N, W]  N sentences of W tokens
  IntTensor sentence_lengths;  // [B, N]     0 for padding sentences
  IntTensor sentence_counts;   // [B]
  IntTensor labels;            // [B]
  std::vector<std::int64_t> example_ids;
};

template <typename Example>
struct BatchFor;
template <>
struct BatchFor<TranslationExample> {
  using type = TranslationBatch;
};
template <>
struct BatchFor<ClassificationExample> {
  using type = ClassificationBatch;
};
template <>
struct BatchFor<DocumentExample> {
  using type = DocumentBatch;
};

// ---- options, state, statistics

enum class Bucketing { kNone, kChunks, kGlobal };
enum class Overlong { kCrop, kDrop };

struct BatcherOptions {
  std::int64_t max_tokens = 4096;   // B × padded example size ≤ max_tokens
  std::int64_t max_batch_size = 0;  // cap on B (0: only max_tokens limits it)
  int max_length = 0;               // tokens per sequence / per sentence (0: no limit)
  int max_sentences = 0;            // sentences per document (0: no limit)
  Overlong overlong = Overlong::kCrop;
  Bucketing bucketing = Bucketing::kChunks;
  std::int64_t chunk_size = 8192;  // examples per sorted chunk (kChunks)
  bool shuffle = true;
  int window = 0;  // classification: a random run of this many tokens per epoch (0: all)
};

struct BatcherState {
  std::int64_t epoch = 0;
  std::int64_t position = 0;  // batches of this epoch already returned
  Rng::State rng;             // generator state at the start of this epoch
};

struct FilterStats {
  std::int64_t examples = 0;  // given to the batcher
  std::int64_t kept = 0;
  std::int64_t cropped = 0;           // kept, but cut to max_length / max_sentences
  std::int64_t dropped_overlong = 0;  // with Overlong::kDrop
  std::int64_t dropped_empty = 0;     // no tokens (on either side, for translation)
};

struct PaddingStats {
  std::int64_t batches = 0;
  std::int64_t examples = 0;
  std::int64_t tokens = 0;  // real tokens (translation: source + target_in)
  std::int64_t slots = 0;   // tensor elements holding them, padding included
  double padding_fraction() const {
    return slots > 0 ? static_cast<double>(slots - tokens) / static_cast<double>(slots) : 0.0;
  }
};

// ---- the batcher (instantiated for the three example types above)

template <typename Example>
class Batcher {
 public:
  using Batch = typename BatchFor<Example>::type;

  // Crops/drops examples per options and plans epoch 0. Throws if no example is left, or if a
  // single example exceeds max_tokens (name its index and size; set max_length).
  Batcher(std::vector<Example> examples, const BatcherOptions& options, Rng rng);

  // The next batch; after the last batch of an epoch the next call starts a new epoch (new
  // shuffle). Use at_epoch_end() / state().epoch to see epoch boundaries.
  Batch next();
  bool at_epoch_end() const { return state_.position == batches_per_epoch(); }
  std::int64_t batches_per_epoch() const { return static_cast<std::int64_t>(plan_.size()); }
  // Batches in epochs [0, epochs) together. Epochs differ by a batch or two (each shuffles its
  // chunks before packing them), so the count is planned epoch by epoch, not first × epochs.
  std::int64_t batches_in_epochs(std::int64_t epochs) const;

  const BatcherState& state() const { return state_; }
  // Restores a state() taken from a batcher over the same examples and options.
  void set_state(const BatcherState& state);

  const FilterStats& filter_stats() const { return filter_stats_; }
  // Padding of the current epoch's batches.
  PaddingStats padding_stats() const;

  // The batch of the given example indices (into the kept examples, see example(i)), each example
  // in its current epoch's window (options.window).
  Batch collate(const std::vector<std::int64_t>& indices) const;
  std::int64_t size() const { return static_cast<std::int64_t>(examples_.size()); }
  const Example& example(std::int64_t i) const { return examples_[i]; }
  // The current epoch's batches as kept-example indices, in the order next() returns them.
  const std::vector<std::vector<std::int64_t>>& epoch_plan() const { return plan_; }

 private:
  // Example i padded alone is a length × width block of tokens.
  struct Size {
    std::int64_t length;
    std::int64_t width;
  };

  using Plan = std::vector<std::vector<std::int64_t>>;
  struct EpochPlan {
    Plan batches;
    Rng::State next_epoch_rng;
    std::uint64_t window_seed = 0;
  };
  EpochPlan plan(const Rng::State& epoch_rng) const;  // the epoch that starts from epoch_rng
  void plan_epoch();                                  // plan_ etc. for state_
  Plan pack(const std::vector<std::int64_t>& order) const;
  // Where example i's window starts this epoch (0 without windows or when it fits).
  std::int64_t window_offset(std::int64_t i) const;
  // Pointers to the examples at `indices`, or to their windows, which are built in `windows`.
  std::vector<const Example*> rows_of(const std::vector<std::int64_t>& indices,
                                      std::vector<Example>& windows) const;

  BatcherOptions options_;
  std::vector<Example> examples_;  // kept (cropped) examples
  std::vector<std::int64_t> ids_;  // their indices in the constructor's input
  std::vector<Size> sizes_;
  FilterStats filter_stats_;
  Rng::State first_epoch_rng_;
  BatcherState state_;
  Rng::State next_epoch_rng_;
  std::uint64_t window_seed_ = 0;  // this epoch's window offsets: Rng::block(seed, example)
  Plan plan_;
};

extern template class Batcher<TranslationExample>;
extern template class Batcher<ClassificationExample>;
extern template class Batcher<DocumentExample>;

using TranslationBatcher = Batcher<TranslationExample>;
using ClassificationBatcher = Batcher<ClassificationExample>;
using DocumentBatcher = Batcher<DocumentExample>;

}  // namespace heed
