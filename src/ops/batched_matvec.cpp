// Batched matrix–vector products, with m [B, S, D] (one S×D matrix per row b):
//
//   batched_matvec  y[b,s] = Σ_d m[b,s,d] · x[b,d]     dm[b,s,:] = dy[b,s] · x[b,:]
//                                                      dx[b,:]   = Σ_s dy[b,s] · m[b,s,:]
//   batched_vecmat  y[b,d] = Σ_s w[b,s] · m[b,s,d]     dw[b,s]   = dy[b,:] · m[b,s,:]
//                                                      dm[b,s,:] = w[b,s] · dy[b,:]
//
// The two are each other's adjoint, so one backward kernel serves both: per row b it walks the
// S×D matrix once, producing the vector gradient from m and adding the outer-product gradient
// into dm. Saved: both inputs. Why not matmul: as a batched GEMM these are B products with one
// row or one column (M = 1 or N = 1), where oneDNN's blocked kernels run at a few GFLOP/s; the
// work is memory-bound, and one pass over m per row (in parallel over rows) is what it costs.
#include "heed/ops/batched_matvec.h"

#include "heed/autograd/node.h"
#include "heed/ops/flop_counter.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::store_grad;

struct Dims {
  Index B, S, D;
};

// y[b, s] = m[b, s, :] · x[b, :]
void matvec_forward(const float* m, const float* x, float* y, Dims d) {
  const auto [B, S, D] = d;
#pragma omp parallel for schedule(static) if (B * S * D > kParallelGrain)
  for (Index r = 0; r < B * S; ++r) {
    const float* mr = m + r * D;
    const float* xb = x + (r / S) * D;
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (Index k = 0; k < D; ++k) acc += mr[k] * xb[k];
    y[r] = acc;
  }
}

// y[b, :] = Σ_s w[b, s] · m[b, s, :]
void vecmat_forward(const float* w, const float* m, float* y, Dims d) {
  const auto [B, S, D] = d;
#pragma omp parallel for schedule(static) if (B * S * D > kParallelGrain)
  for (Index b = 0; b < B; ++b) {
    float* yb = y + b * D;
    for (Index k = 0; k < D; ++k) yb[k] = 0.f;
    for (Index s = 0; s < S; ++s) {
      const float ws = w[b * S + s];
      const float* ms = m + (b * S + s) * D;
#pragma omp simd
      for (Index k = 0; k < D; ++k) yb[k] += ws * ms[k];
    }
  }
}

// The shared backward, per row b and position s, with the row's vector u[b, :] (x for matvec,
// dy for vecmat) and scalar c[b, s] (dy for matvec, w for vecmat):
//   vec_grad == kRowVector:  g[b, :] (+)= Σ_s c[b,s] · m[b,s,:]   (matvec's dx)
//   vec_grad == kScalars:    g[b, s] (+)= u[b,:] · m[b,s,:]        (vecmat's dw)
//   and dm[b,s,:] (+)= c[b,s] · u[b,:]                            (both), if dm is not null.
enum class VecGrad { kRowVector, kScalars, kNone };

template <VecGrad kVec, bool kAccumulateVec, bool kAccumulateM>
void matvec_backward(const float* m, const float* u, const float* c, float* g, float* dm,
                     Dims d) {
  const auto [B, S, D] = d;
#pragma omp parallel for schedule(static) if (B * S * D > kParallelGrain)
  for (Index b = 0; b < B; ++b) {
    const float* ub = u + b * D;
    if constexpr (kVec == VecGrad::kRowVector && !kAccumulateVec)
      for (Index k = 0; k < D; ++k) g[b * D + k] = 0.f;
    for (Index s = 0; s < S; ++s) {
      const Index r = b * S + s;
      const float* ms = m + r * D;
      const float cs = c[r];
      if constexpr (kVec == VecGrad::kRowVector) {
        float* gb = g + b * D;
#pragma omp simd
        for (Index k = 0; k < D; ++k) gb[k] += cs * ms[k];
      } else if constexpr (kVec == VecGrad::kScalars) {
        float acc = 0.f;
#pragma omp simd reduction(+ : acc)
        for (Index k = 0; k < D; ++k) acc += ub[k] * ms[k];
        store_grad<kAccumulateVec>(g[r], acc);
      }
      if (dm) {
        float* dms = dm + r * D;
#pragma omp simd
        for (Index k = 0; k < D; ++k) store_grad<kAccumulateM>(dms[k], cs * ub[k]);
      }
    }
  }
}

template <VecGrad kVec>
void matvec_backward(bool accumulate_vec, bool accumulate_m, const float* m, const float* u,
                     const float* c, float* g, float* dm, Dims d) {
  if (accumulate_vec && accumulate_m)
    matvec_backward<kVec, true, true>(m, u, c, g, dm, d);
  else if (accumulate_vec)
    matvec_backward<kVec, true, false>(m, u, c, g, dm, d);
  else if (accumulate_m)
    matvec_backward<kVec, false, true>(m, u, c, g, dm, d);
  else
    matvec_backward<kVec, false, false>(m, u, c, g, dm, d);
}

// The backward of either op: node input `vec_input` gets the kVec gradient, `m_input` dm.
template <VecGrad kVec>
void run_backward(Node& node, int vec_input, int m_input, const Tensor& m, const Tensor& u,
                  const Tensor& c, Dims d) {
  Node::Slot g{Tensor(), false}, dm{Tensor(), false};
  if (node.needs_grad(vec_input)) g = node.grad_slot(vec_input);
  if (node.needs_grad(m_input)) dm = node.grad_slot(m_input);
  float* pdm = dm.tensor.defined() ? dm.tensor.data() : nullptr;
  if (g.tensor.defined())
    matvec_backward<kVec>(g.accumulate, dm.accumulate, m.data(), u.data(), c.data(),
                          g.tensor.data(), pdm, d);
  else
    matvec_backward<VecGrad::kNone>(false, dm.accumulate, m.data(), u.data(), c.data(), nullptr,
                                    pdm, d);
  const int products = (g.tensor.defined() ? 1 : 0) + (pdm ? 1 : 0);
  add_matmul_flops(2.0 * static_cast<double>(d.B * d.S * d.D) * products);
}

Dims check_matrix(const char* name, const Tensor& m) {
  CHECK(m.defined() && m.ndim() == 3, name, ": m must be [B, S, D] (got ",
        m.defined() ? m.shape().to_string() : "undefined", ")");
  return {m.size(0), m.size(1), m.size(2)};
}

}  // namespace

Tensor batched_matvec(const Tensor& m, const Tensor& x) {
  const Dims d = check_matrix("batched_matvec", m);
  CHECK(x.defined() && x.shape() == Shape({d.B, d.D}), "batched_matvec: x must be [B, D] = ",
        Shape({d.B, d.D}), " (got ", x.defined() ? x.shape().to_string() : "undefined",
        ", m ", m.shape(), ")");
  Tensor out = Tensor::empty(Shape{d.B, d.S});
  matvec_forward(m.data(), x.data(), out.data(), d);
  add_matmul_flops(2.0 * static_cast<double>(d.B * d.S * d.D));
  record("batched_matvec", out, {&m, &x}, [m = m.detach(), x = x.detach(), d](Node& node) {
    // dx = Σ_s dy · m (a row vector per b); dm = dy ⊗ x.
    run_backward<VecGrad::kRowVector>(node, 1, 0, m, x, node.grad(), d);
  });
  return out;
}

Tensor batched_vecmat(const Tensor& w, const Tensor& m) {
  const Dims d = check_matrix("batched_vecmat", m);
  CHECK(w.defined() && w.shape() == Shape({d.B, d.S}), "batched_vecmat: w must be [B, S] = ",
        Shape({d.B, d.S}), " (got ", w.defined() ? w.shape().to_string() : "undefined", ", m ",
        m.shape(), ")");
  Tensor out = Tensor::empty(Shape{d.B, d.D});
  vecmat_forward(w.data(), m.data(), out.data(), d);
  add_matmul_flops(2.0 * static_cast<double>(d.B * d.S * d.D));
  record("batched_vecmat", out, {&w, &m}, [w = w.detach(), m = m.detach(), d](Node& node) {
    // dw = dy · m per position (scalars); dm = w ⊗ dy.
    run_backward<VecGrad::kScalars>(node, 0, 1, m, node.grad(), w, d);
  });
  return out;
}

}  // namespace heed
