// Shape ops, part 2: picking and joining blocks along a dim (declared in ops/shape_ops.h).
//
// Along dim d every tensor is [outer, n, inner] (outer = Π dims before d, inner = Π dims after),
// so each op is a copy of row blocks:
//   concat        y[o, off_k + i, :] = x_k[o, i, :]           dx_k = the matching block of dy
//   slice/split   y[o, i, :] = x[o, start + i, :]             dx = dy in [start, end), 0 elsewhere
//   index_select  y[o, j, :] = x[o, index[j], :]              dx[o, index[j], :] += dy[o, j, :]
// Saved: sizes only, and the index for index_select. slice along the first non-unit dim is a
// view (the block is contiguous); otherwise the ops copy.
//
// Gradients are written once where possible: concat's pieces tile dy exactly, and slice writes
// its block and zeros the rest, both through grad_slot (no memset first). index_select may hit a
// row several times, so it adds into a zero-filled buffer (grad_for); it is parallel over
// (outer, column block) pairs, each summing its rows in index order — no atomics, and the same
// bits for any thread count.
#include <algorithm>

#include "heed/autograd/node.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed {
namespace {

// dst[r·dst_stride + j] (+)= src[r·src_stride + j] for r < rows, j < len.
template <bool kAccumulate>
void copy_rows(const float* src, Index src_stride, float* dst, Index dst_stride, Index rows,
               Index len) {
  const Index n = rows * len;
  if (rows == 1) {  // one long block: split it instead of the rows
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (Index j = 0; j < len; ++j) dst[j] = (kAccumulate ? dst[j] : 0.f) + src[j];
    return;
  }
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (Index r = 0; r < rows; ++r) {
    const float* s = src + r * src_stride;
    float* d = dst + r * dst_stride;
#pragma omp simd
    for (Index j = 0; j < len; ++j) d[j] = (kAccumulate ? d[j] : 0.f) + s[j];
  }
}

void copy_rows(const float* src, Index src_stride, float* dst, Index dst_stride, Index rows,
               Index len, bool accumulate) {
  if (accumulate)
    copy_rows<true>(src, src_stride, dst, dst_stride, rows, len);
  else
    copy_rows<false>(src, src_stride, dst, dst_stride, rows, len);
}

// dst[r·stride + j] = 0 for r < rows, j < len.
void zero_rows(float* dst, Index stride, Index rows, Index len) {
  if (len == 0) return;
#pragma omp parallel for schedule(static) if (rows * len > kParallelGrain)
  for (Index r = 0; r < rows; ++r) std::fill_n(dst + r * stride, len, 0.f);
}

// ----------------------------------------------------------------------------- slice

// x [outer, n, inner] -> y [outer, end - start, inner]; `name` is the op reported in errors and
// in the graph (slice, or split for its pieces).
Tensor slice_impl(const char* name, const Tensor& x, int dim, Index start, Index end) {
  CHECK(x.defined(), name, ": undefined input");
  const Shape& shape = x.shape();
  const int axis = shape.axis(dim, name);
  const Index n = shape[axis];
  CHECK(0 <= start && start <= end && end <= n, name, ": range [", start, ", ", end,
        ") is out of bounds for dimension ", dim, " of ", shape);
  const Index outer = shape.outer(axis), inner = shape.inner(axis);
  const Index row = n * inner, len = (end - start) * inner;
  const Shape out_shape = shape.with(axis, end - start);
  Tensor out;
  if (outer == 1) {
    out = Tensor(x.storage(), x.storage_offset() + start * inner, out_shape);
  } else {
    out = Tensor::empty(out_shape);
    copy_rows<false>(x.data() + start * inner, row, out.data(), len, outer, len);
  }
  record(name, out, {&x}, [outer, inner, row, len, start](Node& node) {
    auto slot = node.grad_slot(0);
    float* dx = slot.tensor.data();
    const Index begin = start * inner;
    copy_rows(node.grad().data(), len, dx + begin, row, outer, len, slot.accumulate);
    if (!slot.accumulate) {  // write-once: the rest of dx is zero
      zero_rows(dx, row, outer, begin);
      zero_rows(dx + begin + len, row, outer, row - begin - len);
    }
  });
  return out;
}

// ----------------------------------------------------------------------------- index_select

// y[o, j, :] = x[o, index[j], :]
void index_select_forward(const float* x, const std::int32_t* index, Index outer, Index n,
                          Index inner, Index n_index, float* y) {
  const Index rows = outer * n_index;
#pragma omp parallel for schedule(static) if (rows * inner > kParallelGrain)
  for (Index r = 0; r < rows; ++r) {
    const Index o = r / n_index, j = r % n_index;
    std::copy_n(x + (o * n + index[j]) * inner, inner, y + r * inner);
  }
}

// dx[o, index[j], c0:c1] += dy[o, j, c0:c1] for j in order; one (o, column block) per task.
void index_select_backward(const float* dy, const std::int32_t* index, Index outer, Index n,
                           Index inner, Index n_index, float* dx) {
  constexpr Index kColumns = 64;
  const Index blocks = (inner + kColumns - 1) / kColumns;
  const Index tasks = outer * blocks;
#pragma omp parallel for schedule(static) if (outer * n_index * inner > kParallelGrain)
  for (Index t = 0; t < tasks; ++t) {
    const Index o = t / blocks, c0 = (t % blocks) * kColumns;
    const Index c1 = std::min(inner, c0 + kColumns);
    for (Index j = 0; j < n_index; ++j) {
      const float* g = dy + (o * n_index + j) * inner;
      float* d = dx + (o * n + index[j]) * inner;
#pragma omp simd
      for (Index c = c0; c < c1; ++c) d[c] += g[c];
    }
  }
}

}  // namespace

// ----------------------------------------------------------------------------- public

Tensor concat(const std::vector<Tensor>& xs, int dim) {
  CHECK(!xs.empty(), "concat: no tensors to join");
  for (size_t k = 0; k < xs.size(); ++k)
    CHECK(xs[k].defined(), "concat: tensor ", k, " is undefined");
  const Shape& first = xs[0].shape();
  const int axis = first.axis(dim, "concat");
  Index total = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Shape& s = xs[k].shape();
    CHECK(s.ndim() == first.ndim() && s.with(axis, 0) == first.with(axis, 0), "concat: tensor ",
          k, " has shape ", s, " but tensor 0 has shape ", first, " (all dims but ", dim,
          " must agree)");
    total += s[axis];
  }
  const Index outer = first.outer(axis), inner = first.inner(axis), row = total * inner;
  Tensor out = Tensor::empty(first.with(axis, total));
  std::vector<Index> lens(xs.size());
  Index offset = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    lens[k] = xs[k].size(axis) * inner;
    copy_rows<false>(xs[k].data(), lens[k], out.data() + offset, row, outer, lens[k]);
    offset += lens[k];
  }
  record("concat", out, xs, [lens, outer, row](Node& node) {
    Index offset = 0;
    for (int k = 0; k < node.num_inputs(); ++k) {
      if (node.needs_grad(k)) {
        auto slot = node.grad_slot(k);
        copy_rows(node.grad().data() + offset, row, slot.tensor.data(), lens[k], outer, lens[k],
                  slot.accumulate);
      }
      offset += lens[k];
    }
  });
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<Index>& sizes, int dim) {
  CHECK(x.defined(), "split: undefined input");
  const int axis = x.shape().axis(dim, "split");
  Index sum = 0;
  for (Index s : sizes) {
    CHECK(s >= 0, "split: negative size in ", list_string(sizes));
    sum += s;
  }
  CHECK(sum == x.size(axis), "split: sizes ", list_string(sizes), " sum to ", sum,
        " but dimension ", dim, " of ", x.shape(), " has size ", x.size(axis));
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  Index start = 0;
  for (Index s : sizes) {
    pieces.push_back(slice_impl("split", x, axis, start, start + s));
    start += s;
  }
  return pieces;
}

Tensor slice(const Tensor& x, int dim, Index start, Index end) {
  return slice_impl("slice", x, dim, start, end);
}

Tensor index_select(const Tensor& x, int dim, const IntTensor& index) {
  CHECK(x.defined(), "index_select: undefined input");
  CHECK(index.defined() && index.ndim() <= 1, "index_select: index must be 1-D (got ",
        index.defined() ? index.shape().to_string() : "undefined", ")");
  const Shape& shape = x.shape();
  const int axis = shape.axis(dim, "index_select");
  const Index n = shape[axis], n_index = index.numel();
  const std::int32_t* idx = index.data();
  for (Index j = 0; j < n_index; ++j)
    CHECK(idx[j] >= 0 && idx[j] < n, "index_select: index ", idx[j], " at position ", j,
          " is out of range [0, ", n, ") for dimension ", dim, " of ", shape);
  const Index outer = shape.outer(axis), inner = shape.inner(axis);
  Tensor out = Tensor::empty(shape.with(axis, n_index));
  index_select_forward(x.data(), idx, outer, n, inner, n_index, out.data());
  record("index_select", out, {&x}, [index, outer, n, inner](Node& node) {
    Tensor dx = node.grad_for(0);  // rows may repeat or be missing: add into zeros
    index_select_backward(node.grad().data(), index.data(), outer, n, inner, index.numel(),
                          dx.data());
  });
  return out;
}

}  // namespace heed
