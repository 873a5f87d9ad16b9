// Private: vectorizable exp, sigmoid and tanh for the fused recurrent cells.
//
// glibc's expf/tanhf are scalar calls unless -ffast-math, so a `#pragma omp simd` loop over gates
// calling them runs one lane at a time; a GRU step evaluates 3·N·H of them, about as long as its
// h·W_hhᵀ GEMM. These are plain float arithmetic (Cephes' expf and tanhf), which the compiler
// turns into 16-lane AVX-512 code. Accuracy: ~1.5 ulp for exp, ~2 ulp for tanh and sigmoid
// (checked against std:: in tests/ops/rnn_cells_test.cpp).
//
// TODO(rnn): fast_exp is the same function as kernels/numeric.h's on the ops-numeric branch;
// use that one once it is on main.
#pragma once

#include <bit>
#include <cstdint>

namespace heed::kernels {

// e^x (Cephes' expf): x = n·ln2 + r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r from a
// degree-6 polynomial; 2^n written straight into the exponent bits. Below -87.34 it returns 0,
// above 88.37 it saturates at ~2.4e38.
inline float fast_exp(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;  // ln 2 split in two so n·kLn2Hi is exact
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.3365447505531f;  // ln(2^-126)
  constexpr float kMax = 88.3762626647949f;   // ln(2^127.5)
  constexpr float kRound = 12582912.f;        // 1.5·2^23: adding it rounds to an integer
  float xc = x < kMin ? kMin : x;
  xc = xc > kMax ? kMax : xc;
  const float t = xc * kLog2e + kRound;  // n = round(x·log2 e) in the low mantissa bits
  const float n = t - kRound;
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  const float two_n = std::bit_cast<float>((std::bit_cast<std::uint32_t>(t) + 127u) << 23);
  return x < kMin ? 0.f : p * two_n;
}

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
