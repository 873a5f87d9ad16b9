// Shape ops, part 1: views (reshape, unsqueeze, squeeze), copies that re-arrange (clone, permute,
// transpose, expand) and masked_fill. concat/split/slice/index_select are in index_ops.cpp.
//
//   reshape / unsqueeze / squeeze   y = x viewed with another shape (shared storage)
//                                   dx = dy viewed with x's shape (buffer handed on, no copy)
//   clone                           y = copy of x                      dx = dy (handed on)
//   permute  y[i_perm[0], ..] = x[i_0, ..]  (y.shape[k] = x.shape[perm[k]])
//                                   dx = permute(dy, perm⁻¹)
//   expand   y = x broadcast to `shape`     dx = Σ of dy over the broadcast dims
//   masked_fill  y = mask ? value : x (mask broadcast to x)   dx = mask ? 0 : dy; no dmask
//
// Saved: nothing for views, clone, permute (the permutation) and expand (the shapes); the mask
// for masked_fill. Every tensor is contiguous, so permute is an explicit copy. It is planned
// once: size-1 dims are dropped and dims that stay adjacent are merged, leaving either
//   (a) an innermost dim that is contiguous in the input too ([B,T,H,D] -> [B,H,T,D]): a copy of
//       rows of D floats, OpenMP over rows; or
//   (b) a batched 2-D transpose ([B,H,T,D] -> [B,H,D,T] becomes [B·H] × (T×D -> D×T)): copied
//       in 32×32 tiles so reads and writes both stay within a few cache lines, OpenMP over tiles.
#include "heed/ops/shape_ops.h"

#include <algorithm>
#include <array>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/broadcast.h"

namespace heed {
namespace {

// ----------------------------------------------------------------------------- views

// A view of x with `shape` (same numel) whose backward hands the gradient on unchanged.
Tensor view(const char* name, const Tensor& x, const Shape& shape) {
  Tensor out = x.with_shape(shape);
  record(name, out, {&x}, [](Node& node) { node.pass_grad_through(0); });
  return out;
}

// Resolves one -1 in `dims` so that the shape has `numel` elements.
Shape infer_shape(const Shape& from, const std::vector<Index>& dims) {
  int inferred = -1;
  Index known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      CHECK(inferred < 0, "reshape: only one dimension may be -1 (got ", list_string(dims), ")");
      inferred = static_cast<int>(i);
    } else {
      CHECK(dims[i] >= 0, "reshape: invalid size ", dims[i], " in ", list_string(dims));
      known *= dims[i];
    }
  }
  std::vector<Index> resolved = dims;
  if (inferred >= 0) {
    CHECK(known != 0 && from.numel() % known == 0, "reshape: cannot view ", from, " (",
          from.numel(), " elements) as ", list_string(dims));
    resolved[inferred] = from.numel() / known;
  }
  CHECK(resolved.size() <= static_cast<size_t>(Shape::kMaxDims), "reshape: at most ",
        Shape::kMaxDims, " dims are supported (got ", list_string(dims), ")");
  return Shape(resolved);
}

// ----------------------------------------------------------------------------- permute

template <bool kAccumulate>
inline void store(float& dst, float value) {
  if constexpr (kAccumulate)
    dst += value;
  else
    dst = value;
}

// A permute reduced to its essentials: the output's dims (row-major, contiguous) with the input
// stride of each, size-1 dims dropped and in-order neighbours merged.
struct PermutePlan {
  int ndim = 0;
  std::array<Index, Shape::kMaxDims> size{};
  std::array<Index, Shape::kMaxDims> in_stride{};
};

PermutePlan plan_permute(const Shape& in, const std::vector<int>& perm) {
  const auto strides = in.strides();
  PermutePlan plan;
  for (int d : perm) {
    if (in[d] == 1) continue;
    // Output neighbours are adjacent and in order in the input iff the outer stride is the
    // inner dim's extent: then they are one dim of the product size.
    if (plan.ndim > 0 && plan.in_stride[plan.ndim - 1] == in[d] * strides[d]) {
      plan.size[plan.ndim - 1] *= in[d];
      plan.in_stride[plan.ndim - 1] = strides[d];
    } else {
      plan.size[plan.ndim] = in[d];
      plan.in_stride[plan.ndim] = strides[d];
      ++plan.ndim;
    }
  }
  return plan;
}

// Case (a): the innermost output dim is contiguous in the input. out is rows × len; each row's
// input offset comes from an odometer over the outer dims (reset once per chunk of rows).
template <bool kAccumulate>
void permute_rows(const PermutePlan& plan, const float* in, float* out) {
  const int outer_dims = plan.ndim - 1;
  const Index len = plan.size[outer_dims];
  Index rows = 1;
  for (int d = 0; d < outer_dims; ++d) rows *= plan.size[d];
  constexpr Index kRowsPerChunk = 64;
  const Index chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
#pragma omp parallel for schedule(static) if (rows * len > kParallelGrain)
  for (Index chunk = 0; chunk < chunks; ++chunk) {
    const Index r0 = chunk * kRowsPerChunk, r1 = std::min(rows, r0 + kRowsPerChunk);
    std::array<Index, Shape::kMaxDims> coord{};
    Index src = 0, rem = r0;
    for (int d = outer_dims - 1; d >= 0; --d) {
      coord[d] = rem % plan.size[d];
      rem /= plan.size[d];
      src += coord[d] * plan.in_stride[d];
    }
    for (Index r = r0; r < r1; ++r) {
      const float* s = in + src;
      float* o = out + r * len;
#pragma omp simd
      for (Index j = 0; j < len; ++j) store<kAccumulate>(o[j], s[j]);
      for (int d = outer_dims - 1; d >= 0; --d) {
        src += plan.in_stride[d];
        if (++coord[d] < plan.size[d]) break;
        src -= plan.size[d] * plan.in_stride[d];
        coord[d] = 0;
      }
    }
  }
}

// Case (b): the input's innermost dim became output dim q (not the last). For every combination
// of the other ("batch") dims this is a 2-D transpose, out[c·out_stride_q + r] =
// in[r·in_stride_last + c], copied in square tiles (reads then touch 32 cache lines, each
// reused for 32 consecutive c, while writes run along contiguous rows).
template <bool kAccumulate>
void permute_tiled(const PermutePlan& plan, int q, const float* in, float* out) {
  const int last = plan.ndim - 1;
  std::array<Index, Shape::kMaxDims> out_stride{};
  Index numel = 1;
  for (int d = last; d >= 0; --d) {
    out_stride[d] = numel;
    numel *= plan.size[d];
  }
  const Index R = plan.size[last], r_stride = plan.in_stride[last];
  const Index C = plan.size[q], c_stride = out_stride[q];
  std::array<Index, Shape::kMaxDims> batch_size{}, batch_in{}, batch_out{};
  int batch_dims = 0;
  Index batches = 1;
  for (int d = 0; d < last; ++d) {
    if (d == q) continue;
    batch_size[batch_dims] = plan.size[d];
    batch_in[batch_dims] = plan.in_stride[d];
    batch_out[batch_dims] = out_stride[d];
    batches *= plan.size[d];
    ++batch_dims;
  }
  constexpr Index kTile = 32;
  const Index tiles_r = (R + kTile - 1) / kTile, tiles_c = (C + kTile - 1) / kTile;
  const Index units = batches * tiles_c * tiles_r;
#pragma omp parallel for schedule(static) if (numel > kParallelGrain)
  for (Index unit = 0; unit < units; ++unit) {
    Index rem = unit;
    const Index tile_r = rem % tiles_r;
    rem /= tiles_r;
    const Index tile_c = rem % tiles_c;
    rem /= tiles_c;
    Index src = 0, dst = 0;
    for (int k = batch_dims - 1; k >= 0; --k) {
      const Index i = rem % batch_size[k];
      rem /= batch_size[k];
      src += i * batch_in[k];
      dst += i * batch_out[k];
    }
    const Index r0 = tile_r * kTile, r1 = std::min(R, r0 + kTile);
    const Index c0 = tile_c * kTile, c1 = std::min(C, c0 + kTile);
    for (Index c = c0; c < c1; ++c) {
      const float* s = in + src + c;
      float* o = out + dst + c * c_stride;
      for (Index r = r0; r < r1; ++r) store<kAccumulate>(o[r], s[r * r_stride]);
    }
  }
}

// out (+)= x permuted: out.shape[k] = in_shape[perm[k]].
template <bool kAccumulate>
void permute_forward(const float* in, const Shape& in_shape, const std::vector<int>& perm,
                     float* out) {
  const Index n = in_shape.numel();
  if (n == 0) return;
  const PermutePlan plan = plan_permute(in_shape, perm);
  if (plan.ndim <= 1) {  // nothing moves: a flat copy
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (Index i = 0; i < n; ++i) store<kAccumulate>(out[i], in[i]);
    return;
  }
  if (plan.in_stride[plan.ndim - 1] == 1) {
    permute_rows<kAccumulate>(plan, in, out);
    return;
  }
  int q = 0;
  while (plan.in_stride[q] != 1) ++q;  // some dim holds the input's innermost one
  permute_tiled<kAccumulate>(plan, q, in, out);
}

// dx (+)= permute(dy, perm⁻¹): the same kernel run from the output's shape.
void permute_backward(const float* dy, const Shape& out_shape, const std::vector<int>& perm,
                      float* dx, bool accumulate) {
  std::vector<int> inverse(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) inverse[perm[k]] = static_cast<int>(k);
  if (accumulate)
    permute_forward<true>(dy, out_shape, inverse, dx);
  else
    permute_forward<false>(dy, out_shape, inverse, dx);
}

// ----------------------------------------------------------------------------- masked_fill

// Checks that `small` broadcasts to exactly `full` (right-aligned, dims equal or 1).
bool broadcasts_to(const Shape& small, const Shape& full) {
  if (small.ndim() > full.ndim()) return false;
  const int offset = full.ndim() - small.ndim();
  for (int d = 0; d < small.ndim(); ++d)
    if (small[d] != 1 && small[d] != full[d + offset]) return false;
  return true;
}

// out = mask ? value : x, or (backward, with value 0) dx (+)= mask ? 0 : dy.
template <bool kAccumulate>
void masked_fill_kernel(const float* x, const Shape& shape, const float* mask,
                        const Shape& mask_shape, float value, float* out) {
  const Index n = shape.numel();
  if (mask_shape == shape) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (Index i = 0; i < n; ++i) store<kAccumulate>(out[i], mask[i] != 0.f ? value : x[i]);
    return;
  }
  kernels::for_each_broadcast(shape, kernels::broadcast_strides(shape, shape),
                              kernels::broadcast_strides(mask_shape, shape),
                              [=](Index i, Index ix, Index im) {
                                store<kAccumulate>(out[i], mask[im] != 0.f ? value : x[ix]);
                              });
}

}  // namespace

// ----------------------------------------------------------------------------- public

Tensor reshape(const Tensor& x, const Shape& shape) {
  CHECK(x.defined(), "reshape: undefined input");
  CHECK(shape.numel() == x.numel(), "reshape: cannot view ", x.shape(), " (", x.numel(),
        " elements) as ", shape, " (", shape.numel(), " elements)");
  return view("reshape", x, shape);
}

Tensor reshape(const Tensor& x, const std::vector<Index>& shape) {
  CHECK(x.defined(), "reshape: undefined input");
  return reshape(x, infer_shape(x.shape(), shape));
}

Tensor unsqueeze(const Tensor& x, int dim) {
  CHECK(x.defined(), "unsqueeze: undefined input");
  const int nd = x.ndim();
  CHECK(dim >= -(nd + 1) && dim <= nd, "unsqueeze: dimension ", dim,
        " is out of range for shape ", x.shape(), " (valid: ", -(nd + 1), "..", nd, ")");
  CHECK(nd < Shape::kMaxDims, "unsqueeze: ", x.shape(), " already has the maximum of ",
        Shape::kMaxDims, " dims");
  return view("unsqueeze", x, x.shape().with_inserted(dim, 1));
}

Tensor squeeze(const Tensor& x, int dim) {
  CHECK(x.defined(), "squeeze: undefined input");
  const int axis = x.shape().axis(dim, "squeeze");
  CHECK(x.size(axis) == 1, "squeeze: dimension ", dim, " of ", x.shape(), " has size ",
        x.size(axis), ", not 1");
  return view("squeeze", x, x.shape().without(axis));
}

Tensor clone(const Tensor& x) {
  CHECK(x.defined(), "clone: undefined input");
  Tensor out = x.copy_data();
  record("clone", out, {&x}, [](Node& node) { node.pass_grad_through(0); });
  return out;
}

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  CHECK(x.defined(), "permute: undefined input");
  const Shape& in = x.shape();
  CHECK(static_cast<int>(perm.size()) == in.ndim(), "permute: ", list_string(perm),
        " does not have one entry per dim of ", in);
  std::vector<int> axes(perm.size());
  std::vector<bool> seen(perm.size(), false);
  std::vector<Index> out_dims(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) {
    axes[k] = in.axis(perm[k], "permute");
    CHECK(!seen[axes[k]], "permute: ", list_string(perm), " is not a permutation of the dims of ",
          in);
    seen[axes[k]] = true;
    out_dims[k] = in[axes[k]];
  }
  const Shape out_shape(out_dims);
  Tensor out = Tensor::empty(out_shape);
  permute_forward<false>(x.data(), in, axes, out.data());
  record("permute", out, {&x}, [axes, out_shape](Node& node) {
    auto slot = node.grad_slot(0);
    permute_backward(node.grad().data(), out_shape, axes, slot.tensor.data(), slot.accumulate);
  });
  return out;
}

Tensor transpose(const Tensor& x, int dim0, int dim1) {
  CHECK(x.defined(), "transpose: undefined input");
  const int a = x.shape().axis(dim0, "transpose"), b = x.shape().axis(dim1, "transpose");
  std::vector<int> perm(x.ndim());
  for (int d = 0; d < x.ndim(); ++d) perm[d] = d;
  std::swap(perm[a], perm[b]);
  return permute(x, perm);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  CHECK(x.defined(), "expand: undefined input");
  CHECK(broadcasts_to(x.shape(), shape), "expand: cannot expand ", x.shape(), " to ", shape,
        " (each dim must equal the target's or be 1)");
  Tensor out = Tensor::empty(shape);
  const float* px = x.data();
  float* po = out.data();
  const auto sx = kernels::broadcast_strides(x.shape(), shape);
  kernels::for_each_broadcast(shape, sx, sx, [=](Index i, Index ix, Index) { po[i] = px[ix]; });
  record("expand", out, {&x}, [x_shape = x.shape()](Node& node) {
    auto slot = node.grad_slot(0);
    kernels::reduce_to_shape(node.grad().data(), node.shape(), slot.tensor.data(), x_shape,
                             slot.accumulate);
  });
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  CHECK(x.defined() && mask.defined(), "masked_fill: undefined ", x.defined() ? "mask" : "input");
  CHECK(broadcasts_to(mask.shape(), x.shape()), "masked_fill: mask ", mask.shape(),
        " does not broadcast to x ", x.shape());
  Tensor out = Tensor::empty(x.shape());
  masked_fill_kernel<false>(x.data(), x.shape(), mask.data(), mask.shape(), value, out.data());
  record("masked_fill", out, {&x}, [mask = mask.detach()](Node& node) {
    auto slot = node.grad_slot(0);
    // dx = dy where the mask is 0 and 0 where it hides: the forward with value 0 applied to dy.
    if (slot.accumulate)
      masked_fill_kernel<true>(node.grad().data(), node.shape(), mask.data(), mask.shape(), 0.f,
                               slot.tensor.data());
    else
      masked_fill_kernel<false>(node.grad().data(), node.shape(), mask.data(), mask.shape(), 0.f,
                                slot.tensor.data());
  });
  return out;
}

}  // namespace heed
