// Private: index plumbing for NumPy-style broadcasting, shared by the elementwise ops.
#pragma once

#include <array>

#include "heed/tensor/shape.h"

namespace heed::kernels {

// Strides of `in` (a shape broadcast to `out`) expressed in out's index space: 0 along
// broadcast dims. `in` is right-aligned against `out`.
std::array<Index, Shape::kMaxDims> broadcast_strides(const Shape& in, const Shape& out);

// Calls fn(i, ia, ib) for every element i of `out` with the matching element offsets into
// a and b. Dims are walked with an odometer; the innermost dim runs as a tight loop. Parallel
// over rows of the innermost dim when large.
template <typename Fn>
void for_each_broadcast(const Shape& out, const std::array<Index, Shape::kMaxDims>& sa,
                        const std::array<Index, Shape::kMaxDims>& sb, Fn fn);

// dst (+)= the sum of src (shape `from`) over the dims where dst's shape `to` broadcasts.
// Deterministic: every dst element is summed by one thread in a fixed order.
void reduce_to_shape(const float* src, const Shape& from, float* dst, const Shape& to,
                     bool accumulate);

// ---- template implementation

template <typename Fn>
void for_each_broadcast(const Shape& out, const std::array<Index, Shape::kMaxDims>& sa,
                        const std::array<Index, Shape::kMaxDims>& sb, Fn fn) {
  const int nd = out.ndim();
  if (nd == 0) {
    fn(Index{0}, Index{0}, Index{0});
    return;
  }
  const Index inner = out[nd - 1];
  const Index rows = inner == 0 ? 0 : out.numel() / inner;
  const Index ia_step = sa[nd - 1], ib_step = sb[nd - 1];
#pragma omp parallel for schedule(static) if (out.numel() > (1 << 15))
  for (Index r = 0; r < rows; ++r) {
    // Decompose the row index into the outer coordinates.
    Index ia = 0, ib = 0, rem = r;
    for (int d = nd - 2; d >= 0; --d) {
      const Index c = rem % out[d];
      rem /= out[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
    const Index base = r * inner;
    for (Index j = 0; j < inner; ++j) fn(base + j, ia + j * ia_step, ib + j * ib_step);
  }
}

}  // namespace heed::kernels
