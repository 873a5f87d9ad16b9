// Private: numeric building blocks shared by the reduction, softmax and loss kernels.
//
//   fast_exp         e^x as plain float arithmetic, so `#pragma omp simd` loops vectorize it
//   row_max          the max of a contiguous row, vectorized
//   fixed_order_sum  Σ term(i) in double, in an order that does not depend on the thread count
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "heed/tensor/shape.h"
#include "heed/util/parallel.h"

namespace heed::kernels {

// e^x (Cephes' expf): x = n·ln2 + r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r from a
// degree-6 polynomial; 2^n written straight into the exponent bits. glibc's expf is a scalar
// call unless -ffast-math, which would make every softmax loop scalar; this one inlines into
// 16-lane AVX-512 code. Max relative error ~1.5 ulp on [-87.3, 88.3] (tests/ops/numeric_test).
// Below -87.34 (where e^x leaves the normal floats) it returns 0; above 88.37 it saturates at
// ~2.4e38; NaN propagates. Softmax-style callers pass x - max ≤ 0.
inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;     // ln 2 split in two so n·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505531f;  // ln(2^-126)
  constexpr float kMax = 88.3762626647949f;   // ln(2^127.5)
  constexpr float kRound = 12582912.f;        // 1.5·2^23: adding it rounds to an integer
  float xc = x < kMin ? kMin : x;             // ternaries (not std::clamp) let NaN through
  xc = xc > kMax ? kMax : xc;
  // t holds n = round(x·log2 e) in its low mantissa bits; n itself is t - kRound.
  const float t = xc * kLog2e + kRound;
  const float n = t - kRound;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  // 2^n: the biased exponent n + 127 in bits 23..30 (the high bits of t shift out).
  const float two_n = std::bit_cast<float>((std::bit_cast<std::uint32_t>(t) + 127u) << 23);
  return x < kMin ? 0.f : p * two_n;
}

// max_i x[i] over a contiguous row (-inf for n == 0; NaNs are skipped, callers' exp
// propagates them). Written with a ternary: GCC 12 leaves a std::max reduction scalar.
inline float row_max(const float* x, Index n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (Index i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// Σ_{i<n} term(i), accumulated in double over fixed chunks of kChunk elements (the chunks in
// parallel), then over the chunk partials in index order: the result is the same for every
// thread count.
template <typename Term>
double fixed_order_sum(Index n, Term term) {
  constexpr Index kChunk = 1 << 14;
  const Index chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index k = 0; k < chunks; ++k) {
    const Index lo = k * kChunk, hi = std::min(n, lo + kChunk);
    double acc = 0;
#pragma omp simd reduction(+ : acc)
    for (Index i = lo; i < hi; ++i) acc += static_cast<double>(term(i));
    partial[k] = acc;
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

// dst = v, or dst += v: backward kernels write a fresh gradient buffer or add into a used one
// (Node::grad_slot), chosen at compile time so the inner loops stay branch-free.
template <bool kAccumulate>
inline void store_grad(float& dst, float v) {
  if constexpr (kAccumulate) {
    dst += v;
  } else {
    dst = v;
  }
}

}  // namespace heed::kernels
