// Private: products of small matrices inside fused kernels (attention), on one thread.
//
//   C[M, N] (+)= A · B     A(i, k) = A[i·a_row + k·a_col]  (any strides: A itself or Aᵀ)
//                          B row-major [K, N] with row stride ldb
//                          C row-major [M, N] with row stride ldc
//
// Why not oneDNN: the operands are one attention head (M, N, K ≈ 16–256) that the calling
// kernel has just produced and will consume right away, inside its own OpenMP loop. A library
// call per head costs more in dispatch than the arithmetic of a 16×32×32 product; this costs none.
//
// How: C is cut into register tiles of R rows × W columns (W = 64, 32 or 16 floats: 4, 2 or 1
// AVX-512 vectors). A tile keeps its R·W/16 accumulators in registers for the whole k loop and
// per k does W/16 loads of B[k, :] and, per row, one broadcast of A(i, k) and W/16 FMAs. The B
// panel (K × W) stays in L1 while the row tiles walk down A. Columns past the last multiple of
// 16 use masked loads and stores. About 165 GFLOP/s on one Sapphire Rapids core for 32×32×32.
//
// Determinism: every C element is acc = fma(A(i, k), B(k, j), acc) for k = 0, 1, ..., K-1 from
// acc = 0, then C = acc or C += acc, whatever tile it falls in. So the result does not depend on
// how a caller splits M into chunks (or threads), only on K and the order of k.
#pragma once

#include <cmath>

#include "heed/tensor/shape.h"

#ifdef __AVX512F__
#include <immintrin.h>
#define HEED_SMALL_GEMM_AVX512 1
#endif

namespace heed::kernels {
namespace detail {

// The operands of one column panel, B and C already offset to its first column.
struct GemmPanel {
  Index K;
  const float* A;
  Index a_row, a_col;
  const float* B;
  Index ldb;
  float* C;
  Index ldc;
  int n;  // the panel's columns that exist: W, or fewer in a last, partial panel
};

// One tile: C[i:i+R, 0:W] (+)= Σ_k A(i:i+R, k) · B[k, 0:W]. kPartial: only the first n < W = 16
// columns exist. The panel's fields are copied to locals first: stores through float* may alias
// them, which would make the compiler reload them inside the loops.
#ifdef HEED_SMALL_GEMM_AVX512
// The accumulators are R × W/16 vector registers. (The portable loops below compile to the same
// inner loop, but GCC 12 zeroes and stores their accumulator array through the stack, a third
// of the time of a K = 32 tile. The unroll pragmas make every array index here a constant, which
// is what keeps `acc` in registers.)
template <int R, int W, bool kPartial, bool kAccumulate>
inline void gemm_tile(const GemmPanel& p, Index i) {
  constexpr int V = W / 16;
  const Index K = p.K, a_row = p.a_row, a_col = p.a_col, ldb = p.ldb, ldc = p.ldc;
  const float* A = p.A + i * a_row;
  const float* B = p.B;
  float* C = p.C + i * ldc;
  const __mmask16 valid = kPartial ? static_cast<__mmask16>((1u << p.n) - 1) : 0xFFFF;
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (Index k = 0; k < K; ++k) {
    const float* a_k = A + k * a_col;
    __m512 b[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) b[v] = _mm512_maskz_loadu_ps(valid, B + k * ldb + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(a_k[r * a_row]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      float* c = C + r * ldc + 16 * v;
      __m512 x = acc[r][v];
      if constexpr (kAccumulate) x = _mm512_add_ps(_mm512_maskz_loadu_ps(valid, c), x);
      _mm512_mask_storeu_ps(c, valid, x);
    }
  }
}
#else
template <int R, int W, bool kPartial, bool kAccumulate>
inline void gemm_tile(const GemmPanel& p, Index i) {
  const Index K = p.K, a_row = p.a_row, a_col = p.a_col, ldb = p.ldb, ldc = p.ldc;
  const int n = p.n;
  const float* A = p.A + i * a_row;
  const float* B = p.B;
  float* C = p.C + i * ldc;
  float acc[R][W] = {};
  for (Index k = 0; k < K; ++k) {
    const float* b = B + k * ldb;
    for (int r = 0; r < R; ++r) {
      const float a = A[r * a_row + k * a_col];
      if constexpr (kPartial) {
#pragma omp simd
        for (int w = 0; w < W; ++w) acc[r][w] = std::fma(a, w < n ? b[w] : 0.f, acc[r][w]);
      } else {
#pragma omp simd
        for (int w = 0; w < W; ++w) acc[r][w] = std::fma(a, b[w], acc[r][w]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    float* c = C + r * ldc;
#pragma omp simd
    for (int w = 0; w < W; ++w) {
      if (!kPartial || w < n) c[w] = kAccumulate ? c[w] + acc[r][w] : acc[r][w];
    }
  }
}
#endif

// Rows [i, M) of a panel in tiles of R rows, as far as whole tiles go; returns the first row
// left over.
template <int R, int W, bool kPartial, bool kAccumulate>
Index gemm_rows(const GemmPanel& p, Index i, Index M) {
  for (; i + R <= M; i += R) gemm_tile<R, W, kPartial, kAccumulate>(p, i);
  return i;
}

// All rows of a panel: tiles of 8 rows (4 when W = 64: 16 accumulators either way, twice what
// two FMA ports with a 4-cycle latency need), then the rest as 4 + 2 + 1.
template <int W, bool kPartial, bool kAccumulate>
void gemm_panel(const GemmPanel& p, Index M) {
  Index i = 0;
  if constexpr (W < 64) i = gemm_rows<8, W, kPartial, kAccumulate>(p, i, M);
  i = gemm_rows<4, W, kPartial, kAccumulate>(p, i, M);
  i = gemm_rows<2, W, kPartial, kAccumulate>(p, i, M);
  gemm_rows<1, W, kPartial, kAccumulate>(p, i, M);
}

}  // namespace detail

// C (+)= A · B as described at the top of this file. M, N or K may be 0 (K = 0 writes zeros,
// or adds nothing).
template <bool kAccumulate>
void small_gemm(Index M, Index N, Index K, const float* A, Index a_row, Index a_col,
                const float* B, Index ldb, float* C, Index ldc) {
  using detail::gemm_panel;
  auto panel = [&](Index j, int n) {
    return detail::GemmPanel{K, A, a_row, a_col, B + j, ldb, C + j, ldc, n};
  };
  Index j = 0;
  for (; j + 64 <= N; j += 64) gemm_panel<64, false, kAccumulate>(panel(j, 64), M);
  if (j + 32 <= N) {
    gemm_panel<32, false, kAccumulate>(panel(j, 32), M);
    j += 32;
  }
  if (j + 16 <= N) {
    gemm_panel<16, false, kAccumulate>(panel(j, 16), M);
    j += 16;
  }
  if (j < N) gemm_panel<16, true, kAccumulate>(panel(j, static_cast<int>(N - j)), M);
}

inline void small_gemm(bool accumulate, Index M, Index N, Index K, const float* A, Index a_row,
                       Index a_col, const float* B, Index ldb, float* C, Index ldc) {
  if (accumulate) {
    small_gemm<true>(M, N, K, A, a_row, a_col, B, ldb, C, ldc);
  } else {
    small_gemm<false>(M, N, K, A, a_row, a_col, B, ldb, C, ldc);
  }
}

}  // namespace heed::kernels
