// Layer normalization over the last dim (Ba, Kiros & Hinton 2016, §3), fused.
//
// x [R, C] (leading dims folded into R rows), gamma/beta [C]:
//   μ_r = Σ_c x[r,c] / C     σ²_r = Σ_c (x[r,c] - μ_r)² / C (biased)     ρ_r = 1/√(σ²_r + eps)
//   x̂ = (x - μ)·ρ            y = x̂·γ + β
// Backward, with g = dy·γ:
//   dx[r,c]  = ρ_r · (g[r,c] - mean_c g[r,:] - x̂[r,c] · mean_c (g[r,:]·x̂[r,:]))
//   dγ[c]    = Σ_r dy[r,c]·x̂[r,c]          dβ[c] = Σ_r dy[r,c]
// Saved: x (an input, already alive), μ and ρ ([R] each); x̂ is recomputed. An undefined γ/β is
// a vector of ones/zeros (C floats), which keeps the kernels free of branches.
//
// Each row is handled by one thread while it sits in cache (two passes forward: mean, then
// variance and output; two backward). dγ/dβ sum over rows: rows are split into a number of
// chunks that depends on R only, each chunk accumulates its own [2, C] partial, and the
// partials are added in chunk order — deterministic and independent of the thread count.
#include "heed/ops/layer_norm.h"

#include <algorithm>
#include <cmath>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::store_grad;

constexpr Index kMaxChunks = 32;  // row chunks for the dγ/dβ partial sums

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* rstd, Index R, Index C, float eps) {
  const float inv_c = 1.f / static_cast<float>(C);
#pragma omp parallel for schedule(static) if (R * C > kParallelGrain)
  for (Index r = 0; r < R; ++r) {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (Index c = 0; c < C; ++c) sum += xr[c];
    const float mu = sum * inv_c;
    float sq = 0.f;  // two-pass variance: no cancellation when |μ| ≫ σ
#pragma omp simd reduction(+ : sq)
    for (Index c = 0; c < C; ++c) sq += (xr[c] - mu) * (xr[c] - mu);
    const float rho = 1.f / std::sqrt(sq * inv_c + eps);
#pragma omp simd
    for (Index c = 0; c < C; ++c) yr[c] = (xr[c] - mu) * rho * gamma[c] + beta[c];
    mean[r] = mu;
    rstd[r] = rho;
  }
}

// dx (+)= the formula above, if dx is non-null; partial[k] = [Σ dy·x̂, Σ dy] over chunk k's
// rows, if partial is non-null.
template <bool kAccumulate>
void layer_norm_backward(const float* x, const float* gamma, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* partial,
                         Index R, Index C, Index chunks) {
  const float inv_c = 1.f / static_cast<float>(C);
#pragma omp parallel for schedule(static) if (R * C > kParallelGrain)
  for (Index k = 0; k < chunks; ++k) {
    float* dgamma = partial ? partial + k * 2 * C : nullptr;
    float* dbeta = partial ? dgamma + C : nullptr;
    if (partial) std::fill(dgamma, dgamma + 2 * C, 0.f);
    for (Index r = k * R / chunks; r < (k + 1) * R / chunks; ++r) {
      const float* xr = x + r * C;
      const float* dyr = dy + r * C;
      const float mu = mean[r], rho = rstd[r];
      if (partial) {
#pragma omp simd
        for (Index c = 0; c < C; ++c) {
          dgamma[c] += dyr[c] * (xr[c] - mu) * rho;
          dbeta[c] += dyr[c];
        }
      }
      if (dx) {
        float sum_g = 0.f, sum_gx = 0.f;
#pragma omp simd reduction(+ : sum_g, sum_gx)
        for (Index c = 0; c < C; ++c) {
          const float g = dyr[c] * gamma[c];
          sum_g += g;
          sum_gx += g * (xr[c] - mu) * rho;
        }
        const float mean_g = sum_g * inv_c, mean_gx = sum_gx * inv_c;
        float* dxr = dx + r * C;
#pragma omp simd
        for (Index c = 0; c < C; ++c) {
          const float xhat = (xr[c] - mu) * rho;
          store_grad<kAccumulate>(dxr[c], rho * (dyr[c] * gamma[c] - mean_g - xhat * mean_gx));
        }
      }
    }
  }
}

// out[c] (+)= Σ_k partial[k, which, c], chunks in order.
void sum_partials(const float* partial, Index chunks, Index C, int which, float* out,
                  bool accumulate) {
  if (!accumulate) std::fill(out, out + C, 0.f);
  for (Index k = 0; k < chunks; ++k) {
    const float* p = partial + (k * 2 + which) * C;
#pragma omp simd
    for (Index c = 0; c < C; ++c) out[c] += p[c];
  }
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  CHECK(x.defined(), "layer_norm: undefined input");
  CHECK(x.ndim() >= 1 && x.shape().back() > 0,
        "layer_norm: x must be [..., C] with C > 0 (got ", x.shape(), ")");
  const Index C = x.shape().back();
  const Index R = x.numel() / C;
  CHECK(!gamma.defined() || (gamma.ndim() == 1 && gamma.size(0) == C),
        "layer_norm: gamma must be [", C, "] to match x ", x.shape(), " (got ", gamma.shape(),
        ")");
  CHECK(!beta.defined() || (beta.ndim() == 1 && beta.size(0) == C),
        "layer_norm: beta must be [", C, "] to match x ", x.shape(), " (got ", beta.shape(),
        ")");
  CHECK(eps >= 0.f, "layer_norm: eps must be >= 0 (got ", eps, ")");

  const Tensor scale = gamma.defined() ? gamma.detach() : Tensor::ones(Shape{C});
  const Tensor shift = beta.defined() ? beta.detach() : Tensor::zeros(Shape{C});
  Tensor out = Tensor::empty(x.shape());
  Tensor mean = Tensor::empty(Shape{R});
  Tensor rstd = Tensor::empty(Shape{R});
  layer_norm_forward(x.data(), scale.data(), shift.data(), out.data(), mean.data(),
                     rstd.data(), R, C, eps);

  record("layer_norm", out, {&x, &gamma, &beta},
         [x = x.detach(), scale, mean, rstd, R, C](Node& node) {
           const bool want_params = node.needs_grad(1) || node.needs_grad(2);
           const Index chunks = std::min(R, kMaxChunks);
           Tensor partial = want_params ? Tensor::empty(Shape{chunks, 2, C}) : Tensor();
           float* p = want_params ? partial.data() : nullptr;
           const float* dy = node.grad().data();
           if (node.needs_grad(0)) {
             auto slot = node.grad_slot(0);
             if (slot.accumulate) {
               layer_norm_backward<true>(x.data(), scale.data(), mean.data(), rstd.data(), dy,
                                         slot.tensor.data(), p, R, C, chunks);
             } else {
               layer_norm_backward<false>(x.data(), scale.data(), mean.data(), rstd.data(), dy,
                                          slot.tensor.data(), p, R, C, chunks);
             }
           } else if (want_params) {
             layer_norm_backward<false>(x.data(), scale.data(), mean.data(), rstd.data(), dy,
                                        nullptr, p, R, C, chunks);
           }
           for (int which = 0; which < 2; ++which) {
             if (!node.needs_grad(1 + which)) continue;
             auto slot = node.grad_slot(1 + which);
             sum_partials(p, chunks, C, which, slot.tensor.data(), slot.accumulate);
           }
         });
  return out;
}

}  // namespace heed
