// Layer normalization over the last dimension (Ba et al. 2016), fused forward and backward.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// y = (x - mean) / sqrt(var + eps) · gamma + beta over the last dim C; x [..., C],
// gamma/beta [C] (either may be undefined: no scale / no shift). var is the biased variance,
// as in PyTorch.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-5f);

}  // namespace heed
