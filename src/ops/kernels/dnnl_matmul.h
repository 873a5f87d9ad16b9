// Private: matrix products through oneDNN's matmul primitive. Only ops/ includes this.
//
//   C[b] (+)= op(A[b]) · op(B[b]) (+ bias)     A: [batch, M, K] (or [batch, K, M] if trans_a)
//                                              B: [batch, K, N] (or [batch, N, K] if trans_b)
//                                              C: [batch, M, N], bias: [N]
// Transposed operands are described to oneDNN by their strides, never copied. A primitive is
// created once per distinct descriptor and cached; its scratchpad comes from heed's buffer pool,
// so a steady-state call allocates nothing.
#pragma once

#include <cstdint>
#include <vector>

namespace heed::kernels {

enum class MatmulPrecision { kF32, kBf16 };

// The precision used for all matmuls from now on (process-wide). bf16 converts both operands to
// bfloat16 and accumulates in fp32 (oneDNN's avx512_core_bf16 kernels); the output stays fp32.
void set_matmul_precision(MatmulPrecision precision);
MatmulPrecision matmul_precision();

struct MatmulShape {
  std::int64_t batch = 1, M = 0, K = 0, N = 0;
  bool trans_a = false, trans_b = false;
  bool accumulate = false;  // C += ... (a sum post-op) instead of C = ...
};

void matmul(const MatmulShape& shape, const float* A, const float* B, const float* bias,
            float* C);

// Number of distinct primitives created so far (for tests and benchmarks of the cache).
std::int64_t matmul_primitives_created();

}  // namespace heed::kernels

namespace heed::kernels {

// Benchmark baseline: times `reps` executions of one oneDNN matmul primitive for `shape`, created
// once with its memory bound once (the best a hand-written oneDNN program does), after `warmup`
// executions. Returns each execution's seconds.
std::vector<double> time_raw_dnnl_matmul(const MatmulShape& shape, int warmup, int reps);

}  // namespace heed::kernels
