// Additive attention scores (Bahdanau et al. 2015, appendix A.1.2; Luong et al. 2015, §3.1
// "concat"), fused. With query_proj q [B, A], keys_proj k [B, S, A], v [A]:
//
//   t[b,s,a] = tanh(k[b,s,a] + q[b,a])          e[b,s] = Σ_a v[a] · t[b,s,a]
//   g[b,s,a] = de[b,s] · v[a] · (1 − t²)
//   dk[b,s,a] = g[b,s,a]      dq[b,a] = Σ_s g[b,s,a]      dv[a] = Σ_{b,s} de[b,s] · t[b,s,a]
//
// Saved: the three inputs (already alive: keys_proj lives for the whole decoder loop). t is
// recomputed in the backward instead of stored: storing it would write and re-read a [B, S, A]
// tensor per decoder step (8 MB at B = 128, S = 32, A = 512), more memory traffic than the
// vectorized tanh costs. Forward: one task per (b, s) row. Backward: one task per b, which owns
// dq[b] and its row of dv partials; the partials are then summed over b in order, so the result
// does not depend on the thread count.
#include "heed/ops/additive_attention.h"

#include "heed/autograd/node.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/flop_counter.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/fast_math.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::fast_tanh;
using kernels::store_grad;

struct Dims {
  Index B, S, A;
};

void scores_forward(const float* q, const float* k, const float* v, float* e, Dims d) {
  const auto [B, S, A] = d;
#pragma omp parallel for schedule(static) if (B * S * A > kParallelGrain)
  for (Index r = 0; r < B * S; ++r) {
    const float* qr = q + (r / S) * A;
    const float* kr = k + r * A;
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (Index a = 0; a < A; ++a) acc += v[a] * fast_tanh(kr[a] + qr[a]);
    e[r] = acc;
  }
}

// dk written or added per kAccumulateK; dq rows added into (the caller zeroes them);
// dv_partial [B, A] written.
template <bool kAccumulateK>
void scores_backward(const float* de, const float* q, const float* k, const float* v, float* dk,
                     float* dq, float* dv_partial, Dims d) {
  const auto [B, S, A] = d;
#pragma omp parallel for schedule(static) if (B * S * A > kParallelGrain)
  for (Index b = 0; b < B; ++b) {
    const float* qb = q + b * A;
    float* dqb = dq + b * A;
    float* dvb = dv_partial + b * A;
    for (Index a = 0; a < A; ++a) dvb[a] = 0.f;
    for (Index s = 0; s < S; ++s) {
      const Index r = b * S + s;
      const float* kr = k + r * A;
      float* dkr = dk + r * A;
      const float g = de[r];
      if (g == 0.f) {  // a masked position: nothing flows back
        if constexpr (!kAccumulateK)
          for (Index a = 0; a < A; ++a) dkr[a] = 0.f;
        continue;
      }
#pragma omp simd
      for (Index a = 0; a < A; ++a) {
        const float t = fast_tanh(kr[a] + qb[a]);
        const float gt = g * v[a] * (1.f - t * t);
        store_grad<kAccumulateK>(dkr[a], gt);
        dqb[a] += gt;
        dvb[a] += g * t;
      }
    }
  }
}

// dv[a] (+)= Σ_b partial[b, a], in b order.
void sum_rows(const float* partial, Index B, Index A, float* dv, bool accumulate) {
  for (Index a = 0; a < A; ++a) {
    float acc = 0.f;
    for (Index b = 0; b < B; ++b) acc += partial[b * A + a];
    dv[a] = accumulate ? dv[a] + acc : acc;
  }
}

Dims check_shapes(const char* name, const Tensor& q, const Tensor& k, const Tensor& v) {
  CHECK(q.defined() && k.defined() && v.defined(), name, ": undefined input");
  CHECK(k.ndim() == 3, name, ": keys_proj must be [B, S, A] (got ", k.shape(), ")");
  const Index B = k.size(0), S = k.size(1), A = k.size(2);
  CHECK(q.shape() == Shape({B, A}), name, ": query_proj must be [B, A] = ", Shape({B, A}),
        " (got ", q.shape(), ", keys_proj ", k.shape(), ")");
  CHECK(v.shape() == Shape({A}), name, ": v must be [A] = [", A, "] (got ", v.shape(), ")");
  return {B, S, A};
}

}  // namespace

Tensor additive_attention_scores(const Tensor& query_proj, const Tensor& keys_proj,
                                 const Tensor& v) {
  const Dims d = check_shapes("additive_attention_scores", query_proj, keys_proj, v);
  Tensor out = Tensor::empty(Shape{d.B, d.S});
  scores_forward(query_proj.data(), keys_proj.data(), v.data(), out.data(), d);
  // Counted as the composite's [B·S, A] × [A, 1] product (forward) and its two gradient
  // products (backward), as a FLOP counter of the PyTorch reference sees them.
  const double flops = 2.0 * static_cast<double>(d.B * d.S * d.A);
  add_matmul_flops(flops);
  record("additive_attention_scores", out, {&query_proj, &keys_proj, &v},
         [q = query_proj.detach(), k = keys_proj.detach(), v = v.detach(), d,
          flops](Node& node) {
           // All three gradients come out of one pass; one that no input wants goes to scratch
           // (in a model all three are parameters' paths, so that never happens in training).
           const Tensor dq = node.needs_grad(0) ? node.grad_for(0) : Tensor::zeros(q.shape());
           const Tensor dv_partial = Tensor::empty(Shape{d.B, d.A});
           const float* de = node.grad().data();
           auto slot = node.needs_grad(1) ? node.grad_slot(1)
                                          : Node::Slot{Tensor::empty(k.shape()), false};
           if (slot.accumulate)
             scores_backward<true>(de, q.data(), k.data(), v.data(), slot.tensor.data(),
                                   dq.data_mutable(), dv_partial.data_mutable(), d);
           else
             scores_backward<false>(de, q.data(), k.data(), v.data(), slot.tensor.data(),
                                    dq.data_mutable(), dv_partial.data_mutable(), d);
           if (node.needs_grad(2)) {
             auto dv = node.grad_slot(2);
             sum_rows(dv_partial.data(), d.B, d.A, dv.tensor.data(), dv.accumulate);
           }
           add_matmul_flops(2 * flops);
         });
  return out;
}

Tensor additive_attention_scores_composite(const Tensor& query_proj, const Tensor& keys_proj,
                                           const Tensor& v) {
  const Dims d =
      check_shapes("additive_attention_scores_composite", query_proj, keys_proj, v);
  const Tensor t = tanh(add(keys_proj, unsqueeze(query_proj, 1)));  // [B, S, A]
  return reshape(matmul(t, reshape(v, Shape{d.A, 1})), Shape{d.B, d.S});
}

}  // namespace heed
