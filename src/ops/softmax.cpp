// Softmax and log-softmax along a dimension.
//
//   softmax      y_d = e^(x_d - m) / Σ_k e^(x_k - m)          dx = y ⊙ (dy - Σ_k dy_k·y_k)
//   log_softmax  y_d = x_d - m - log Σ_k e^(x_k - m)          dx = dy - e^y · Σ_k dy_k
// with m = max_k x_k (subtracting it keeps every exponent ≤ 0: no overflow for any finite
// input, and the largest term is exactly 1, so the sum never underflows to 0). Saved: the
// output only (both gradients are functions of y).
//
// The tensor is viewed as [O, D, I] around `dim` (Shape::outer/inner). The last dim (I == 1,
// the attention-score and vocabulary case) has its own kernels over contiguous rows: per row,
// a max pass, an exp-and-sum pass and a normalize pass, all on the row while it sits in cache
// and all vectorized (kernels::fast_exp). Other dims walk blocks of kColumns contiguous
// columns down d with one running max/sum per column. Rows/blocks run in parallel; each one is
// reduced by a single thread in a fixed order.
#include "heed/ops/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::fast_exp;
using kernels::store_grad;

constexpr Index kColumns = 256;  // columns per task when softmax runs along a non-last dim
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Dims {
  Index O, D, I;
};

// ----------------------------------------------------------------------------- last dim

// y[r, :] = (log_)softmax(x[r, :]) for `rows` contiguous rows of D.
template <bool kLog>
void softmax_forward_rows(const float* x, float* y, Index rows, Index D) {
#pragma omp parallel for schedule(static) if (rows * D > kParallelGrain)
  for (Index r = 0; r < rows; ++r) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    const float m = kernels::row_max(xr, D);
    float sum = 0.f;
    if constexpr (kLog) {
#pragma omp simd reduction(+ : sum)
      for (Index d = 0; d < D; ++d) sum += fast_exp(xr[d] - m);
      const float log_norm = m + std::log(sum);
#pragma omp simd
      for (Index d = 0; d < D; ++d) yr[d] = xr[d] - log_norm;
    } else {
#pragma omp simd reduction(+ : sum)
      for (Index d = 0; d < D; ++d) {
        yr[d] = fast_exp(xr[d] - m);
        sum += yr[d];
      }
      const float inv = 1.f / sum;
#pragma omp simd
      for (Index d = 0; d < D; ++d) yr[d] *= inv;
    }
  }
}

template <bool kLog, bool kAccumulate>
void softmax_backward_rows(const float* y, const float* dy, float* dx, Index rows, Index D) {
#pragma omp parallel for schedule(static) if (rows * D > kParallelGrain)
  for (Index r = 0; r < rows; ++r) {
    const float* yr = y + r * D;
    const float* dyr = dy + r * D;
    float* dxr = dx + r * D;
    float dot = 0.f;  // softmax: Σ dy·y;  log_softmax: Σ dy
    if constexpr (kLog) {
#pragma omp simd reduction(+ : dot)
      for (Index d = 0; d < D; ++d) dot += dyr[d];
#pragma omp simd
      for (Index d = 0; d < D; ++d) store_grad<kAccumulate>(dxr[d], dyr[d] - fast_exp(yr[d]) * dot);
    } else {
#pragma omp simd reduction(+ : dot)
      for (Index d = 0; d < D; ++d) dot += dyr[d] * yr[d];
#pragma omp simd
      for (Index d = 0; d < D; ++d) store_grad<kAccumulate>(dxr[d], yr[d] * (dyr[d] - dot));
    }
  }
}

// ----------------------------------------------------------------------------- other dims

// The same along d of an [O, D, I] tensor with I > 1: each task owns kColumns columns of one o
// and keeps a running max and sum per column; every inner loop runs over contiguous columns.
template <bool kLog>
void softmax_forward_strided(const float* x, float* y, Dims s) {
  const auto [O, D, I] = s;
  const Index blocks = (I + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (O * D * I > kParallelGrain)
  for (Index task = 0; task < O * blocks; ++task) {
    const Index o = task / blocks, i0 = (task % blocks) * kColumns;
    const Index n = std::min(kColumns, I - i0);
    const float* xo = x + o * D * I + i0;
    float* yo = y + o * D * I + i0;
    float m[kColumns], sum[kColumns];
    for (Index i = 0; i < n; ++i) m[i] = kNegInf, sum[i] = 0.f;
    for (Index d = 0; d < D; ++d) {
      const float* xd = xo + d * I;
#pragma omp simd
      for (Index i = 0; i < n; ++i) m[i] = xd[i] > m[i] ? xd[i] : m[i];
    }
    for (Index d = 0; d < D; ++d) {
      const float* xd = xo + d * I;
      float* yd = yo + d * I;
#pragma omp simd
      for (Index i = 0; i < n; ++i) {
        const float e = fast_exp(xd[i] - m[i]);
        if constexpr (!kLog) yd[i] = e;
        sum[i] += e;
      }
    }
    // Reuse `sum` for what the last pass needs: log_softmax subtracts m + log(sum),
    // softmax multiplies by 1/sum.
    for (Index i = 0; i < n; ++i) sum[i] = kLog ? m[i] + std::log(sum[i]) : 1.f / sum[i];
    for (Index d = 0; d < D; ++d) {
      const float* xd = xo + d * I;
      float* yd = yo + d * I;
#pragma omp simd
      for (Index i = 0; i < n; ++i) yd[i] = kLog ? xd[i] - sum[i] : yd[i] * sum[i];
    }
  }
}

template <bool kLog, bool kAccumulate>
void softmax_backward_strided(const float* y, const float* dy, float* dx, Dims s) {
  const auto [O, D, I] = s;
  const Index blocks = (I + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (O * D * I > kParallelGrain)
  for (Index task = 0; task < O * blocks; ++task) {
    const Index o = task / blocks, i0 = (task % blocks) * kColumns;
    const Index n = std::min(kColumns, I - i0);
    const Index base = o * D * I + i0;
    float dot[kColumns];
    for (Index i = 0; i < n; ++i) dot[i] = 0.f;
    for (Index d = 0; d < D; ++d) {
      const float* yd = y + base + d * I;
      const float* dyd = dy + base + d * I;
#pragma omp simd
      for (Index i = 0; i < n; ++i) dot[i] += kLog ? dyd[i] : dyd[i] * yd[i];
    }
    for (Index d = 0; d < D; ++d) {
      const float* yd = y + base + d * I;
      const float* dyd = dy + base + d * I;
      float* dxd = dx + base + d * I;
#pragma omp simd
      for (Index i = 0; i < n; ++i) {
        store_grad<kAccumulate>(dxd[i], kLog ? dyd[i] - fast_exp(yd[i]) * dot[i]
                                             : yd[i] * (dyd[i] - dot[i]));
      }
    }
  }
}

// ----------------------------------------------------------------------------- dispatch

template <bool kLog>
void softmax_forward(const float* x, float* y, Dims s) {
  if (s.I == 1) {
    softmax_forward_rows<kLog>(x, y, s.O, s.D);
  } else {
    softmax_forward_strided<kLog>(x, y, s);
  }
}

template <bool kLog, bool kAccumulate>
void softmax_backward(const float* y, const float* dy, float* dx, Dims s) {
  if (s.I == 1) {
    softmax_backward_rows<kLog, kAccumulate>(y, dy, dx, s.O, s.D);
  } else {
    softmax_backward_strided<kLog, kAccumulate>(y, dy, dx, s);
  }
}

template <bool kLog>
Tensor softmax_op(const char* name, const Tensor& x, int dim) {
  CHECK(x.defined(), name, ": undefined input");
  const int axis = x.shape().axis(dim, name);
  const Dims s{x.shape().outer(axis), x.size(axis), x.shape().inner(axis)};
  Tensor out = Tensor::empty(x.shape());
  softmax_forward<kLog>(x.data(), out.data(), s);
  record(name, out, {&x}, [y = out.detach(), s](Node& node) {
    auto slot = node.grad_slot(0);
    if (slot.accumulate) {
      softmax_backward<kLog, true>(y.data(), node.grad().data(), slot.tensor.data(), s);
    } else {
      softmax_backward<kLog, false>(y.data(), node.grad().data(), slot.tensor.data(), s);
    }
  });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) { return softmax_op<false>("softmax", x, dim); }
Tensor log_softmax(const Tensor& x, int dim) { return softmax_op<true>("log_softmax", x, dim); }

}  // namespace heed
