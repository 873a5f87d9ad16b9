// Softmax and log-softmax along a dimension: numerically stable (max subtracted), one fused
// pass for the forward and one for the backward.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

Tensor softmax(const Tensor& x, int dim = -1);
Tensor log_softmax(const Tensor& x, int dim = -1);

}  // namespace heed
