// Matrix products: matmul, batched matmul and linear, all through oneDNN's matmul primitive.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// C = op(a) · op(b), op = transpose of the last two dims when the flag is set.
//   a [..., M, K], b [K, N]          -> [..., M, N]  (a's leading dims folded into one GEMM)
//   a [B..., M, K], b [B..., K, N]   -> [B..., M, N] (batched; the same leading dims)
// Transposes are free: they change the strides oneDNN reads, not the data.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false,
              bool transpose_b = false);

// y = x · Wᵀ + b: x [..., K], weight [N, K] (PyTorch's layout), bias [N] or undefined.
// The bias is added inside the GEMM (oneDNN bias argument), not in a second pass.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace heed
