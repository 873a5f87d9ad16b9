#include "ops/kernels/broadcast.h"

#include <vector>

#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed::kernels {

std::array<Index, Shape::kMaxDims> broadcast_strides(const Shape& in, const Shape& out) {
  std::array<Index, Shape::kMaxDims> s{};
  const auto in_strides = in.strides();
  const int offset = out.ndim() - in.ndim();
  for (int d = 0; d < out.ndim(); ++d) {
    const int di = d - offset;
    s[d] = (di < 0 || in[di] == 1) ? 0 : in_strides[di];
  }
  return s;
}

void reduce_to_shape(const float* src, const Shape& from, float* dst, const Shape& to,
                     bool accumulate) {
  const Index n_to = to.numel();
  const Index n_from = from.numel();
  if (n_to == n_from) {
#pragma omp parallel for schedule(static) if (n_to > kParallelGrain)
    for (Index i = 0; i < n_to; ++i) dst[i] = (accumulate ? dst[i] : 0.f) + src[i];
    return;
  }
  // Collapse `from` into [outer, mid, inner] when `to` is `from` with only leading dims (a
  // suffix, like a bias [C] against [B, T, C]) or only trailing dims removed/broadcast; otherwise
  // take the general path.
  const int nd = from.ndim();
  const int off = nd - to.ndim();
  std::vector<bool> reduced(nd);
  for (int d = 0; d < nd; ++d) reduced[d] = (d < off) || (to[d - off] == 1 && from[d] != 1);
  int first_kept = 0;
  while (first_kept < nd && reduced[first_kept]) ++first_kept;
  bool suffix = true;
  for (int d = first_kept; d < nd; ++d) suffix &= !reduced[d];
  if (suffix) {
    // dst[j] = Σ_r src[r * n_to + j]: threads own column blocks (fixed order, no races).
    const Index rows = n_from / std::max<Index>(n_to, 1);
    constexpr Index kBlock = 64;
    const Index blocks = (n_to + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (n_from > kParallelGrain)
    for (Index blk = 0; blk < blocks; ++blk) {
      const Index c0 = blk * kBlock, c1 = std::min(n_to, c0 + kBlock);
      float acc[kBlock] = {};
      for (Index r = 0; r < rows; ++r)
        for (Index c = c0; c < c1; ++c) acc[c - c0] += src[r * n_to + c];
      for (Index c = c0; c < c1; ++c) dst[c] = (accumulate ? dst[c] : 0.f) + acc[c - c0];
    }
    return;
  }
  int last_kept = nd - 1;
  while (last_kept >= 0 && reduced[last_kept]) --last_kept;
  bool prefix = true;
  for (int d = 0; d <= last_kept; ++d) prefix &= !reduced[d];
  if (prefix) {
    // dst[r] = Σ_j src[r * inner + j] (e.g. a [B, T, 1] scale against [B, T, C]).
    const Index inner = n_from / std::max<Index>(n_to, 1);
#pragma omp parallel for schedule(static) if (n_from > kParallelGrain)
    for (Index r = 0; r < n_to; ++r) {
      float acc = 0.f;
      for (Index j = 0; j < inner; ++j) acc += src[r * inner + j];
      dst[r] = (accumulate ? dst[r] : 0.f) + acc;
    }
    return;
  }
  // General case: serial walk (rare in practice; shapes are small when it happens).
  const auto st = broadcast_strides(to, from);
  if (!accumulate)
    for (Index i = 0; i < n_to; ++i) dst[i] = 0.f;
  std::array<Index, Shape::kMaxDims> coord{};
  for (Index i = 0; i < n_from; ++i) {
    Index j = 0;
    for (int d = 0; d < nd; ++d) j += coord[d] * st[d];
    dst[j] += src[i];
    for (int d = nd - 1; d >= 0; --d) {
      if (++coord[d] < from[d]) break;
      coord[d] = 0;
    }
  }
}

}  // namespace heed::kernels
