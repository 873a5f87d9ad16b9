// Private: vectorizable exp, sigmoid and tanh for the fused recurrent cells.
//
// glibc's expf/tanhf are scalar calls unless -ffast-math, so a `#pragma omp simd` loop over gates
// calling them runs one lane at a time; a GRU step evaluates 3·N·H of them, about as long as its
// h·W_hhᵀ GEMM. These are plain float arithmetic (Cephes' tanhf; exp from numeric.h), which the compiler
// turns into 16-lane AVX-512 code. Accuracy: ~1.5 ulp for exp, ~2 ulp for tanh and sigmoid
// (checked against std:: in tests/ops/rnn_cells_test.cpp).
// fast_exp itself lives in kernels/numeric.h (shared with softmax and the loss).
#pragma once

#include "ops/kernels/numeric.h"

namespace heed::kernels {

// σ(x) = 1 / (1 + e^-x); saturates cleanly to 0 and 1.
inline float fast_sigmoid(float x) { return 1.f / (1.f + fast_exp(-x)); }

// tanh (Cephes' tanhf): an odd polynomial x + x³·P(x²) for |x| < 0.625, where 1 - 2/(e^2|x| + 1)
// would lose the low bits to cancellation; that formula (with the sign put back) elsewhere.
inline float fast_tanh(float x) {
  const float ax = x < 0.f ? -x : x;
  const float z = x * x;
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = p * z * x + x;
  const float large = 1.f - 2.f / (fast_exp(2.f * ax) + 1.f);
  return ax < 0.625f ? small : (x < 0.f ? -large : large);
}

}  // namespace heed::kernels
