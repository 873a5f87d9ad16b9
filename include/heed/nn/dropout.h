// Dropout as a module: active in training mode only. The random stream is the model's dropout
// Rng, shared by every dropout site of a model so that one state (saved in checkpoints)
// determines all masks.
#pragma once

#include <memory>

#include "heed/nn/module.h"

namespace heed {

class Dropout : public Module {
 public:
  Dropout(float p, std::shared_ptr<Rng> rng);
  Tensor forward(const Tensor& x) const;
  float p() const { return p_; }

 private:
  float p_;
  std::shared_ptr<Rng> rng_;
};

// A copy of ids with each entry that is not kPadId replaced by `replacement` with probability p,
// drawn from `rng` (one Philox word per entry: a pure function of the generator's counters).
// The one mechanism behind WordDropout (replacement kUnkId) and NgramEmbedding's n-gram dropout
// (replacement kPadId, the zero row).
IntTensor drop_ids(const IntTensor& ids, float p, Rng& rng, std::int32_t replacement);

// Word dropout: in training mode each real token id (not padding) is replaced by kUnkId with
// probability p, so that a classifier cannot lean on any single word and learns what the unknown
// piece means (Iyyer et al. 2015 drop words from a deep averaging network; Bowman et al. 2016
// replace them by <unk>). Same model stream as Dropout; p == 0 or evaluation returns the ids.
class WordDropout : public Module {
 public:
  WordDropout(float p, std::shared_ptr<Rng> rng);
  IntTensor forward(const IntTensor& ids) const;
  float p() const { return p_; }

 private:
  float p_;
  std::shared_ptr<Rng> rng_;
};

}  // namespace heed
