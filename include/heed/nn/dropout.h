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

}  // namespace heed
