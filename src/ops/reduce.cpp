// Reductions along one dimension, and over all elements.
//
// A tensor reduced along `dim` is viewed as [O, D, I] (O = product of the dims before it,
// I = product of the dims after it, Shape::outer/inner); the output is [O, I]:
//   sum   y[o,i] = Σ_d x[o,d,i]          dx[o,d,i] = dy[o,i]
//   mean  y[o,i] = Σ_d x[o,d,i] / D      dx[o,d,i] = dy[o,i] / D
//   max   y[o,i] = x[o,a,i], a = first arg-max over d
//                                        dx[o,d,i] = dy[o,i] if d == a, else 0
// Full sum/mean reduce all N elements to a scalar; dx = dy (/ N). Saved: nothing for sum and
// mean, the arg-max indices [O, I] for max. Sums accumulate in double (D can be thousands);
// NaN wins a max (as in PyTorch), the first NaN being the arg-max.
//
// Two loop shapes: I == 1 (reducing the last dim) walks contiguous rows; I > 1 walks blocks of
// kColumns contiguous columns down d, keeping one accumulator per column, so the inner loop is
// always over contiguous memory. Each output element is reduced by one thread in a fixed order.
#include "heed/ops/reduce.h"

#include <cmath>
#include <algorithm>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

constexpr Index kColumns = 256;  // columns per task when reducing a non-last dim

// [O, D, I] view of a tensor reduced along `axis`.
struct Dims {
  Index O, D, I;
};

Dims dims_of(const Shape& shape, int axis) {
  return {shape.outer(axis), shape[axis], shape.inner(axis)};
}

Shape reduced_shape(const Shape& shape, int axis, bool keepdim) {
  return keepdim ? shape.with(axis, 1) : shape.without(axis);
}

// ----------------------------------------------------------------------------- sum / mean

// y[o,i] = scale · Σ_d x[o,d,i].
void sum_forward(const float* x, float* y, Dims s, double scale) {
  const auto [O, D, I] = s;
  if (I == 1) {
#pragma omp parallel for schedule(static) if (O * D > kParallelGrain)
    for (Index o = 0; o < O; ++o) {
      const float* row = x + o * D;
      double acc = 0;
#pragma omp simd reduction(+ : acc)
      for (Index d = 0; d < D; ++d) acc += row[d];
      y[o] = static_cast<float>(acc * scale);
    }
    return;
  }
  const Index blocks = (I + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (O * D * I > kParallelGrain)
  for (Index task = 0; task < O * blocks; ++task) {
    const Index o = task / blocks, i0 = (task % blocks) * kColumns;
    const Index n = std::min(kColumns, I - i0);
    double acc[kColumns];
    for (Index i = 0; i < n; ++i) acc[i] = 0;
    for (Index d = 0; d < D; ++d) {
      const float* src = x + (o * D + d) * I + i0;
#pragma omp simd
      for (Index i = 0; i < n; ++i) acc[i] += src[i];
    }
    float* dst = y + o * I + i0;
    for (Index i = 0; i < n; ++i) dst[i] = static_cast<float>(acc[i] * scale);
  }
}

// dx[o,d,i] (+)= scale · dy[o,i].
template <bool kAccumulate>
void sum_backward(const float* dy, float* dx, Dims s, float scale) {
  const auto [O, D, I] = s;
  if (I == 1) {
#pragma omp parallel for schedule(static) if (O * D > kParallelGrain)
    for (Index o = 0; o < O; ++o) {
      const float g = dy[o] * scale;
      float* row = dx + o * D;
#pragma omp simd
      for (Index d = 0; d < D; ++d) kernels::store_grad<kAccumulate>(row[d], g);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (O * D * I > kParallelGrain)
  for (Index od = 0; od < O * D; ++od) {
    const float* g = dy + (od / D) * I;
    float* dst = dx + od * I;
#pragma omp simd
    for (Index i = 0; i < I; ++i) kernels::store_grad<kAccumulate>(dst[i], g[i] * scale);
  }
}

// dx[k] (+)= g for all k: the backward of a full reduction.
template <bool kAccumulate>
void fill_backward(float* dx, Index n, float g) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index k = 0; k < n; ++k) kernels::store_grad<kAccumulate>(dx[k], g);
}

Tensor sum_along(const char* name, const Tensor& x, int dim, bool keepdim, bool mean) {
  CHECK(x.defined(), name, ": undefined input");
  const int axis = x.shape().axis(dim, name);
  const Dims s = dims_of(x.shape(), axis);
  // mean over an empty dim is 0/0 = NaN, as in PyTorch.
  const double scale = mean ? 1.0 / static_cast<double>(s.D) : 1.0;
  Tensor out = Tensor::empty(reduced_shape(x.shape(), axis, keepdim));
  sum_forward(x.data(), out.data(), s, scale);
  record(name, out, {&x}, [s, scale = static_cast<float>(scale)](Node& node) {
    auto slot = node.grad_slot(0);
    if (slot.accumulate) {
      sum_backward<true>(node.grad().data(), slot.tensor.data(), s, scale);
    } else {
      sum_backward<false>(node.grad().data(), slot.tensor.data(), s, scale);
    }
  });
  return out;
}

Tensor sum_all(const char* name, const Tensor& x, bool mean) {
  CHECK(x.defined(), name, ": undefined input");
  const Index n = x.numel();
  const float* px = x.data();
  const double total = kernels::fixed_order_sum(n, [px](Index i) { return px[i]; });
  const double scale = mean ? 1.0 / static_cast<double>(n) : 1.0;
  Tensor out = Tensor::scalar(static_cast<float>(total * scale));
  record(name, out, {&x}, [n, scale = static_cast<float>(scale)](Node& node) {
    auto slot = node.grad_slot(0);
    const float g = node.grad().item() * scale;
    if (slot.accumulate) {
      fill_backward<true>(slot.tensor.data(), n, g);
    } else {
      fill_backward<false>(slot.tensor.data(), n, g);
    }
  });
  return out;
}

// ----------------------------------------------------------------------------- max / argmax

// Whether v replaces `best` as the running maximum: strictly greater (so ties keep the first),
// or the first NaN.
inline bool beats(float v, float best) {
  return v > best || (std::isnan(v) && !std::isnan(best));
}

// y[o,i] = max_d x[o,d,i] (if y is non-null) and arg[o,i] = its first index.
void max_forward(const float* x, float* y, std::int32_t* arg, Dims s) {
  const auto [O, D, I] = s;
  if (I == 1) {
#pragma omp parallel for schedule(static) if (O * D > kParallelGrain)
    for (Index o = 0; o < O; ++o) {
      const float* row = x + o * D;
      float best = row[0];
      std::int32_t best_d = 0;
      for (Index d = 1; d < D; ++d) {
        if (beats(row[d], best)) {
          best = row[d];
          best_d = static_cast<std::int32_t>(d);
        }
      }
      if (y) y[o] = best;
      arg[o] = best_d;
    }
    return;
  }
  const Index blocks = (I + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (O * D * I > kParallelGrain)
  for (Index task = 0; task < O * blocks; ++task) {
    const Index o = task / blocks, i0 = (task % blocks) * kColumns;
    const Index n = std::min(kColumns, I - i0);
    float best[kColumns];
    std::int32_t best_d[kColumns];
    const float* first = x + o * D * I + i0;
    for (Index i = 0; i < n; ++i) best[i] = first[i], best_d[i] = 0;
    for (Index d = 1; d < D; ++d) {
      const float* src = x + (o * D + d) * I + i0;
      for (Index i = 0; i < n; ++i) {
        if (beats(src[i], best[i])) {
          best[i] = src[i];
          best_d[i] = static_cast<std::int32_t>(d);
        }
      }
    }
    for (Index i = 0; i < n; ++i) {
      if (y) y[o * I + i0 + i] = best[i];
      arg[o * I + i0 + i] = best_d[i];
    }
  }
}

// dx[o, arg[o,i], i] += dy[o,i] into a zero-filled (or accumulating) dx. Every (o, i) touches
// its own element, so the loop is race-free.
void max_backward(const float* dy, const std::int32_t* arg, float* dx, Dims s) {
  const auto [O, D, I] = s;
#pragma omp parallel for schedule(static) if (O * I > kParallelGrain)
  for (Index oi = 0; oi < O * I; ++oi) {
    const Index o = oi / I, i = oi % I;
    dx[(o * D + arg[oi]) * I + i] += dy[oi];
  }
}

void check_reducible(const char* name, const Tensor& x, int axis) {
  CHECK(x.size(axis) > 0, name, ": cannot reduce the empty dimension ", axis, " of ",
        x.shape());
}

}  // namespace

Tensor sum(const Tensor& x, int dim, bool keepdim) {
  return sum_along("sum", x, dim, keepdim, /*mean=*/false);
}

Tensor mean(const Tensor& x, int dim, bool keepdim) {
  return sum_along("mean", x, dim, keepdim, /*mean=*/true);
}

Tensor max(const Tensor& x, int dim, bool keepdim) {
  CHECK(x.defined(), "max: undefined input");
  const int axis = x.shape().axis(dim, "max");
  check_reducible("max", x, axis);
  const Dims s = dims_of(x.shape(), axis);
  const Shape out_shape = reduced_shape(x.shape(), axis, keepdim);
  Tensor out = Tensor::empty(out_shape);
  IntTensor arg(out_shape);
  max_forward(x.data(), out.data(), arg.data(), s);
  record("max", out, {&x}, [s, arg](Node& node) {
    max_backward(node.grad().data(), arg.data(), node.grad_for(0).data(), s);
  });
  return out;
}

IntTensor argmax(const Tensor& x, int dim) {
  CHECK(x.defined(), "argmax: undefined input");
  const int axis = x.shape().axis(dim, "argmax");
  check_reducible("argmax", x, axis);
  IntTensor arg(x.shape().without(axis));
  max_forward(x.data(), nullptr, arg.data(), dims_of(x.shape(), axis));
  return arg;
}

Tensor sum(const Tensor& x) { return sum_all("sum", x, /*mean=*/false); }
Tensor mean(const Tensor& x) { return sum_all("mean", x, /*mean=*/true); }

}  // namespace heed
