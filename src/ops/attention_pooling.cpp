// Additive self-attention pooling (Yang et al. 2016 §2.2; Lin et al. 2017), after the projection.
//
// For each row b (B rows of T positions), with z [B, T, A], context w [A], h [B, T, D]:
//   u_t = tanh(z_t)                    [A]
//   s_t = u_t · w                      score; -inf where key_padding[b, t] = 1
//   α   = softmax_t(s)                 masked positions exactly 0; all masked: α = 0
//   pooled = Σ_t α_t h_t               [D]
// Backward, with dp = dL/dpooled:
//   dh_t  = α_t · dp
//   dα_t  = dp · h_t,   ds_t = α_t (dα_t - Σ_k α_k dα_k)        (softmax backward)
//   dz_t  = ds_t · w ⊙ (1 - u_t²)
//   dw    = Σ_{b,t} ds_t · u_t
// Saved: u [B, T, A] (zeros at masked positions), α [B, T], h and w. The mask itself is not
// needed in backward: a masked position has α = 0, hence ds = 0 and dh = 0.
//
// One task per row b, so the T scores, the softmax and the weighted sum stay in cache, and every
// row is reduced by one thread in a fixed order. dw sums over all B·T positions; it is computed
// after the row loop by blocks of columns, each column summed in position order by one thread:
// the same bits for any thread count. Only u, α and a [B, T] scratch for ds are allocated.
#include "heed/ops/attention_pooling.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/fast_math.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::fast_exp;
using kernels::fast_tanh;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr Index kColumns = 16;  // columns of dw per task (one AVX-512 register of floats)

struct Dims {
  Index B, T, A, D;
};

// dst[i] = value(i), or += when accumulating into a gradient that already holds values.
template <typename Value>
inline void store_row(float* dst, Index n, bool accumulate, Value value) {
  if (accumulate) {
#pragma omp simd
    for (Index i = 0; i < n; ++i) dst[i] += value(i);
  } else {
#pragma omp simd
    for (Index i = 0; i < n; ++i) dst[i] = value(i);
  }
}

void attention_pooling_forward(const float* z, const float* w, const float* h, const float* mask,
                               float* u, float* alpha, float* pooled, Dims s) {
  const auto [B, T, A, D] = s;
#pragma omp parallel for schedule(static) if (B * T * (A + D) > kParallelGrain)
  for (Index b = 0; b < B; ++b) {
    const float* zb = z + b * T * A;
    const float* hb = h + b * T * D;
    float* ub = u + b * T * A;
    float* ab = alpha + b * T;  // holds the scores until they are normalized
    float* pb = pooled + b * D;
    // Scores and their max over the unmasked positions.
    float m = kNegInf;
    for (Index t = 0; t < T; ++t) {
      float* ut = ub + t * A;
      if (mask != nullptr && mask[b * T + t] != 0.f) {
        std::memset(ut, 0, sizeof(float) * A);
        ab[t] = kNegInf;
        continue;
      }
      const float* zt = zb + t * A;
      float score = 0.f;
#pragma omp simd reduction(+ : score)
      for (Index a = 0; a < A; ++a) {
        ut[a] = fast_tanh(zt[a]);
        score += ut[a] * w[a];
      }
      ab[t] = score;
      m = score > m ? score : m;
    }
    std::fill_n(pb, D, 0.f);
    if (m == kNegInf) {  // every position masked: no distribution, zero output
      std::fill_n(ab, T, 0.f);
      continue;
    }
    // Softmax over t (fast_exp(-inf) is exactly 0, so masked positions drop out).
    float sum = 0.f;
#pragma omp simd reduction(+ : sum)
    for (Index t = 0; t < T; ++t) {
      ab[t] = fast_exp(ab[t] - m);
      sum += ab[t];
    }
    const float inv = 1.f / sum;
#pragma omp simd
    for (Index t = 0; t < T; ++t) ab[t] *= inv;
    // Weighted sum of the values.
    for (Index t = 0; t < T; ++t) {
      const float at = ab[t];
      if (at == 0.f) continue;
      const float* ht = hb + t * D;
#pragma omp simd
      for (Index d = 0; d < D; ++d) pb[d] += at * ht[d];
    }
  }
}

// Fills ds [B, T] and writes/adds dz and dh (either may be null: not needed).
void attention_pooling_backward_rows(const float* dpooled, const float* w, const float* h,
                                     const float* u, const float* alpha, float* ds, float* dz,
                                     bool dz_accumulate, float* dh, bool dh_accumulate, Dims s) {
  const auto [B, T, A, D] = s;
#pragma omp parallel for schedule(static) if (B * T * (A + D) > kParallelGrain)
  for (Index b = 0; b < B; ++b) {
    const float* dp = dpooled + b * D;
    const float* ab = alpha + b * T;
    float* dsb = ds + b * T;
    // dα_t = dp · h_t, then the softmax backward ds_t = α_t (dα_t - Σ_k α_k dα_k).
    float g = 0.f;
    for (Index t = 0; t < T; ++t) {
      if (ab[t] == 0.f) {
        dsb[t] = 0.f;
        continue;
      }
      const float* ht = h + (b * T + t) * D;
      float da = 0.f;
#pragma omp simd reduction(+ : da)
      for (Index d = 0; d < D; ++d) da += dp[d] * ht[d];
      dsb[t] = da;
      g += ab[t] * da;
    }
    for (Index t = 0; t < T; ++t) dsb[t] = ab[t] * (dsb[t] - g);
    for (Index t = 0; t < T; ++t) {
      if (dz != nullptr) {
        const float dst = dsb[t];
        const float* ut = u + (b * T + t) * A;
        store_row(dz + (b * T + t) * A, A, dz_accumulate,
                  [=](Index a) { return dst * w[a] * (1.f - ut[a] * ut[a]); });
      }
      if (dh != nullptr) {
        const float at = ab[t];
        store_row(dh + (b * T + t) * D, D, dh_accumulate, [=](Index d) { return at * dp[d]; });
      }
    }
  }
}

// dw[a] (+)= Σ_n ds[n] · u[n, a] over the N = B·T positions.
void attention_pooling_backward_context(const float* ds, const float* u, float* dw, bool accumulate,
                                        Index N, Index A) {
  const Index blocks = (A + kColumns - 1) / kColumns;
#pragma omp parallel for schedule(static) if (N * A > kParallelGrain)
  for (Index block = 0; block < blocks; ++block) {
    const Index a0 = block * kColumns, n_cols = std::min(kColumns, A - a0);
    float acc[kColumns] = {};
    for (Index n = 0; n < N; ++n) {
      const float dsn = ds[n];
      if (dsn == 0.f) continue;
      const float* un = u + n * A + a0;
#pragma omp simd
      for (Index i = 0; i < n_cols; ++i) acc[i] += dsn * un[i];
    }
    store_row(dw + a0, n_cols, accumulate, [&](Index i) { return acc[i]; });
  }
}

}  // namespace

AttentionPoolingOutput attention_pooling(const Tensor& z, const Tensor& context, const Tensor& h,
                                         const Tensor& key_padding) {
  CHECK(z.defined() && context.defined() && h.defined(), "attention_pooling: undefined input");
  CHECK(z.ndim() == 3 && h.ndim() == 3 && z.size(0) == h.size(0) && z.size(1) == h.size(1),
        "attention_pooling: z and h must be [B, T, A] and [B, T, D] (got z=", z.shape(),
        ", h=", h.shape(), ")");
  const Dims s{z.size(0), z.size(1), z.size(2), h.size(2)};
  CHECK(context.shape() == Shape{s.A}, "attention_pooling: context must be [A] = [", s.A, "] (got ",
        context.shape(), ")");
  CHECK(!key_padding.defined() || key_padding.shape() == (Shape{s.B, s.T}),
        "attention_pooling: key_padding must be [B, T] = ", Shape{s.B, s.T}, " (got ",
        key_padding.defined() ? key_padding.shape().to_string() : "", ")");

  Tensor u = Tensor::empty(z.shape());
  AttentionPoolingOutput out;
  out.weights = Tensor::empty(Shape{s.B, s.T});
  out.pooled = Tensor::empty(Shape{s.B, s.D});
  attention_pooling_forward(z.data(), context.data(), h.data(),
                            key_padding.defined() ? key_padding.data() : nullptr, u.data(),
                            out.weights.data(), out.pooled.data(), s);
  record("attention_pooling", out.pooled, {&z, &context, &h},
         [u, alpha = out.weights.detach(), w = context.detach(), h = h.detach(), s](Node& node) {
           Node::Slot dz{}, dw{}, dh{};
           if (node.needs_grad(0)) dz = node.grad_slot(0);
           if (node.needs_grad(1)) dw = node.grad_slot(1);
           if (node.needs_grad(2)) dh = node.grad_slot(2);
           Tensor ds = Tensor::empty(Shape{s.B, s.T});
           attention_pooling_backward_rows(
               node.grad().data(), w.data(), h.data(), u.data(), alpha.data(), ds.data(),
               dz.tensor.defined() ? dz.tensor.data() : nullptr, dz.accumulate,
               dh.tensor.defined() ? dh.tensor.data() : nullptr, dh.accumulate, s);
           if (dw.tensor.defined())
             attention_pooling_backward_context(ds.data(), u.data(), dw.tensor.data(),
                                                dw.accumulate, s.B * s.T, s.A);
         });
  return out;
}

}  // namespace heed
