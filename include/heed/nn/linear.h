// Linear: y = x·Wᵀ + b (weight [out, in], PyTorch's layout, so weights load 1:1 from PyTorch).
#pragma once

#include "heed/nn/module.h"

namespace heed {

struct LinearOptions {
  Index in_features = 0;
  Index out_features = 0;
  bool bias = true;
};

class Linear : public Module {
 public:
  Linear(const LinearOptions& options, Rng& rng);
  // x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) const;

  const LinearOptions& options() const { return options_; }
  Tensor weight_;  // [out, in], Xavier uniform
  Tensor bias_;    // [out], zeros; undefined if !options.bias

 private:
  LinearOptions options_;
};

}  // namespace heed
