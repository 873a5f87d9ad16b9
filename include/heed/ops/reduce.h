// Reductions along one dimension.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// Sum / mean / max over `dim` (negative counts from the end). keepdim keeps it as size 1.
Tensor sum(const Tensor& x, int dim, bool keepdim = false);
Tensor mean(const Tensor& x, int dim, bool keepdim = false);
// Max values; the gradient flows to the (first) arg-max of each slice.
Tensor max(const Tensor& x, int dim, bool keepdim = false);
// Indices of the (first) maximum along `dim` (no gradient).
IntTensor argmax(const Tensor& x, int dim);

// Sum / mean of all elements -> a scalar (shape []).
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);

}  // namespace heed
