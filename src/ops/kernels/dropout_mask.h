// Private: heed's canonical dropout mask, shared by ops/dropout.cpp and the fused attention
// kernel (so attention_composite, which calls dropout(), and the fused kernel drop exactly the
// same elements given the same Rng state).
//
// The mapping. A dropout over a tensor of n elements reserves ceil(n / 4) Philox counters,
// first = rng.reserve(DropoutMask::counters(n)), and element i (flat, row-major) is
//
//     kept  iff  Rng::to_unit(Rng::block(seed, first + i / 4)[i % 4]) >= p,
//
// kept values being scaled by 1 / (1 - p). Only (seed, first, p) need to be kept for backward,
// which regenerates the mask. Any kernel that applies the mask must go through apply_dropout
// (or reproduce this formula exactly); tests/ops/dropout_test.cpp checks it against Rng::block.
//
// Speed: Rng::block is one scalar Philox block (ten rounds of two 32×32→64 multiplies), about
// 2.5 ns per block — 2.6 ms for a 1M-element mask. With AVX-512 (and BMI2), dropout_keep_bits
// runs 64 blocks side by side in vector registers, compares the words as integers and moves the
// keep bits into element order with pext/pdep: ~1 cycle per element (0.43 ms per 1M on one
// 2.3 GHz core), which is the throughput of Philox-10 itself. Other CPUs take the scalar path
// (same bits).
#pragma once

#include <cmath>
#include <cstdint>

#include "heed/tensor/rng.h"
#include "heed/tensor/shape.h"

#if defined(__AVX512F__) && defined(__BMI2__)
#include <immintrin.h>
#define HEED_DROPOUT_AVX512 1
#endif

namespace heed::kernels {

struct DropoutMask {
  std::uint64_t seed = 0;
  std::uint64_t first = 0;  // the counter of elements 0..3
  float p = 0.f;            // drop probability, in [0, 1)

  // Counters a mask over n elements reserves.
  static std::uint64_t counters(Index n) { return static_cast<std::uint64_t>((n + 3) / 4); }
  float scale() const { return 1.f / (1.f - p); }
  // The same test on the raw word: to_unit(w) = (w >> 8)·2⁻²⁴ >= p
  //   <=> (w >> 8) >= ⌈p·2²⁴⌉  <=>  w >= ⌈p·2²⁴⌉·2⁸
  // (scaling a float by 2²⁴ is exact, and p < 1 keeps the threshold below 2³²).
  std::uint32_t keep_threshold() const {
    return static_cast<std::uint32_t>(std::ceil(p * 0x1.0p24f)) << 8;
  }
};

// Whether element i is kept (one scalar Philox block).
inline bool dropout_keep(const DropoutMask& mask, Index i) {
  const auto words = Rng::block(mask.seed, mask.first + static_cast<std::uint64_t>(i / 4));
  return Rng::to_unit(words[i % 4]) >= mask.p;
}

#ifdef HEED_DROPOUT_AVX512
namespace detail {
// The zero-masked forms with a full mask are the plain instructions; they sidestep GCC 12's
// false -Wuninitialized on the unmasked intrinsics (GCC bug 105593).
inline __m512i mul_epu32(__m512i a, __m512i b) { return _mm512_maskz_mul_epu32(0xFF, a, b); }
inline __m512i high_half(__m512i a) { return _mm512_maskz_srli_epi64(0xFF, a, 32); }
}  // namespace detail
#endif

// Keep bits of the 64·kBatches elements from element 4·block on (block counted from
// mask.first): bit k of bits[g] is set iff element 4·block + 64g + k is kept.
template <int kBatches = 1>
inline void dropout_keep_bits(const DropoutMask& mask, std::uint64_t block,
                              std::uint64_t (&bits)[kBatches]) {
#ifdef HEED_DROPOUT_AVX512
  // Philox4x32-10 as in src/tensor/rng.cpp, on 8 counters per vector: each 32-bit word lives in
  // the low half of a 64-bit lane. _mm512_mul_epu32 reads only those low halves and returns the
  // full 64-bit product, so lo is the product itself and hi one shift away; the upper halves
  // hold junk that nothing reads. That is 6 instructions per round for 8 blocks. Several
  // vectors are interleaved: one is a chain of ten dependent rounds, too long to run alone.
  constexpr int kVectors = 2 * kBatches;  // 8 blocks = 32 elements each
  __m512i c0[kVectors], c1[kVectors], c2[kVectors], c3[kVectors];
  const __m512i lane = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  for (int v = 0; v < kVectors; ++v) {
    const std::uint64_t counter = mask.first + block + 8 * static_cast<std::uint64_t>(v);
    const __m512i c = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(counter)), lane);
    c0[v] = c;                           // low word of the counter (low half)
    c1[v] = detail::high_half(c);        // high word
    c2[v] = _mm512_setzero_si512();
    c3[v] = _mm512_setzero_si512();
  }
  const __m512i mul0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u));
  const __m512i mul1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  std::uint32_t k0 = static_cast<std::uint32_t>(mask.seed);
  std::uint32_t k1 = static_cast<std::uint32_t>(mask.seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const __m512i key0 = _mm512_set1_epi32(static_cast<int>(k0));
    const __m512i key1 = _mm512_set1_epi32(static_cast<int>(k1));
    for (int v = 0; v < kVectors; ++v) {
      const __m512i p0 = detail::mul_epu32(c0[v], mul0);  // (hi0 : lo0)
      const __m512i p1 = detail::mul_epu32(c2[v], mul1);  // (hi1 : lo1)
      // 0x96: a ^ b ^ c
      c0[v] = _mm512_ternarylogic_epi64(detail::high_half(p1), c1[v], key0, 0x96);
      c2[v] = _mm512_ternarylogic_epi64(detail::high_half(p0), c3[v], key1, 0x96);
      c1[v] = p1;
      c3[v] = p0;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  // Compare the low halves with the threshold (even bits of a 32-bit-lane compare), then move
  // word w of block l to bit 4l + w.
  const __m512i threshold = _mm512_set1_epi32(static_cast<int>(mask.keep_threshold()));
  auto spread = [&](__m512i words, int w) -> std::uint64_t {
    const std::uint64_t even = _mm512_cmpge_epu32_mask(words, threshold);
    return _pdep_u64(_pext_u64(even, 0x5555), 0x11111111ULL << w);
  };
  for (int g = 0; g < kBatches; ++g) {
    std::uint64_t b = 0;
    for (int half = 0; half < 2; ++half) {
      const int v = 2 * g + half;
      b |= (spread(c0[v], 0) | spread(c1[v], 1) | spread(c2[v], 2) | spread(c3[v], 3))
           << (32 * half);
    }
    bits[g] = b;
  }
#else
  for (int g = 0; g < kBatches; ++g) {
    bits[g] = 0;
    for (int l = 0; l < 16; ++l) {
      const std::uint64_t counter = mask.first + block + static_cast<std::uint64_t>(16 * g + l);
      const auto words = Rng::block(mask.seed, counter);
      for (int w = 0; w < 4; ++w)
        if (Rng::to_unit(words[w]) >= mask.p) bits[g] |= std::uint64_t{1} << (4 * l + w);
    }
  }
#endif
}

// y[j] (+)= x[j] · scale where bit j of `bits` is set, + 0 elsewhere, for 64 elements.
template <bool kAccumulate>
inline void apply_keep_bits(std::uint64_t bits, float scale, const float* x, float* y) {
#ifdef HEED_DROPOUT_AVX512
  const __m512 s = _mm512_set1_ps(scale);
  for (int k = 0; k < 4; ++k) {
    const __mmask16 m = static_cast<__mmask16>(bits >> (16 * k));
    __m512 v = _mm512_maskz_mul_ps(m, _mm512_loadu_ps(x + 16 * k), s);
    if constexpr (kAccumulate) v = _mm512_add_ps(_mm512_loadu_ps(y + 16 * k), v);
    _mm512_storeu_ps(y + 16 * k, v);
  }
#else
  for (int k = 0; k < 64; ++k) {
    const float v = (bits >> k) & 1 ? x[k] * scale : 0.f;
    if constexpr (kAccumulate)
      y[k] += v;
    else
      y[k] = v;
  }
#endif
}

// y[j] (+)= keep(offset + j) ? x[j] · scale : 0 for j in [0, n): the mask of elements
// [offset, offset + n) of the masked tensor. Serial; callers parallelize over ranges (the result
// depends only on the element index, so it is the same however the ranges are cut). Any offset
// works; a multiple of 4 skips the scalar head. Dropped elements are exactly 0.
template <bool kAccumulate = false>
void apply_dropout(const DropoutMask& mask, Index offset, Index n, const float* x, float* y) {
  constexpr int kBatches = 4;
  const float scale = mask.scale();
  auto one = [&](Index j) {
    const float v = dropout_keep(mask, offset + j) ? x[j] * scale : 0.f;
    if constexpr (kAccumulate)
      y[j] += v;
    else
      y[j] = v;
  };
  Index j = 0;
  for (; j < n && (offset + j) % 4 != 0; ++j) one(j);  // up to a block boundary
  std::uint64_t bits[kBatches];
  for (; j + 64 * kBatches <= n; j += 64 * kBatches) {
    dropout_keep_bits<kBatches>(mask, static_cast<std::uint64_t>((offset + j) / 4), bits);
    for (int g = 0; g < kBatches; ++g)
      apply_keep_bits<kAccumulate>(bits[g], scale, x + j + 64 * g, y + j + 64 * g);
  }
  std::uint64_t single[1];
  for (; j + 64 <= n; j += 64) {
    dropout_keep_bits(mask, static_cast<std::uint64_t>((offset + j) / 4), single);
    apply_keep_bits<kAccumulate>(single[0], scale, x + j, y + j);
  }
  for (; j < n; ++j) one(j);
}

}  // namespace heed::kernels
