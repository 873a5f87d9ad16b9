// LayerNorm over the last dimension (Ba et al. 2016), learnable scale and shift.
#pragma once

#include "heed/nn/module.h"

namespace heed {

struct LayerNormOptions {
  Index dim = 0;
  float eps = 1e-5f;
  bool affine = true;
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(const LayerNormOptions& options);
  Tensor forward(const Tensor& x) const;  // [..., dim] -> same

  const LayerNormOptions& options() const { return options_; }
  Tensor weight_;  // gamma [dim], ones
  Tensor bias_;    // beta [dim], zeros

 private:
  LayerNormOptions options_;
};

}  // namespace heed
