// Matrix products.
//
//   matmul:  C = op(A) · op(B)                     dA' = dC · B'ᵀ,  dB' = A'ᵀ · dC
//   linear:  Y = X · Wᵀ + b   X [R, K], W [N, K]   dX = dY · W,  dW = dYᵀ · X,  db = Σ_rows dY
//
// where A' = op(A). When an operand is stored transposed its gradient is produced transposed
// too, again by choosing strides (see the table in matmul_backward). Saved for backward: both
// operands (each gradient needs the other one). Gradients are written with oneDNN's sum
// post-op when the buffer already holds a gradient (a weight used twice), so accumulation costs
// no extra pass.
#include "heed/ops/matmul.h"

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "ops/kernels/dnnl_matmul.h"

namespace heed {
namespace {

struct MatmulPlan {
  kernels::MatmulShape gemm;
  Shape out_shape;
};

// Works out the GEMM for a [..., M, K] · b: either b is 2-D (fold a's leading dims into M) or
// both have the same leading (batch) dims.
MatmulPlan plan_matmul(const Shape& a, const Shape& b, bool ta, bool tb) {
  CHECK(a.ndim() >= 2 && b.ndim() >= 2, "matmul: operands need at least 2 dims (a=", a,
        ", b=", b, ")");
  MatmulPlan plan;
  auto& g = plan.gemm;
  g.trans_a = ta;
  g.trans_b = tb;
  g.K = ta ? a[-2] : a[-1];
  const Index kb = tb ? b[-1] : b[-2];
  g.N = tb ? b[-2] : b[-1];
  CHECK(g.K == kb, "matmul: inner dims differ (a=", a, ", b=", b, ", transpose_a=", ta,
        ", transpose_b=", tb, ")");
  if (b.ndim() == 2 && !ta) {
    g.batch = 1;
    g.M = a.numel() / g.K;
    plan.out_shape = a.with(-1, g.N);
  } else {
    CHECK(a.ndim() == b.ndim(), "matmul: batched operands need the same number of dims (a=",
          a, ", b=", b, ")");
    g.batch = 1;
    for (int i = 0; i < a.ndim() - 2; ++i) {
      CHECK(a[i] == b[i], "matmul: batch dims differ (a=", a, ", b=", b, ")");
      g.batch *= a[i];
    }
    g.M = ta ? a[-1] : a[-2];
    plan.out_shape = a.with(-2, g.M).with(-1, g.N);
  }
  return plan;
}

// Backward of C = op(A) · op(B) given the forward plan. The four cases, with A/B as stored:
//   dA   (A plain)       = dC · op(B)ᵀ  -> matmul(dC, B, false, !tb)
//   dA   (A transposed)  = op(B) · dCᵀ  -> matmul(B, dC, tb, true)
//   dB   (B plain)       = op(A)ᵀ · dC  -> matmul(A, dC, !ta, false)
//   dB   (B transposed)  = dCᵀ · op(A)  -> matmul(dC, A, true, ta)
// When B is 2-D and A's leading dims were folded, dB sums over all rows in that one GEMM.
void matmul_backward(Node& node, const kernels::MatmulShape& g, const Tensor& a,
                     const Tensor& b) {
  const float* dC = node.grad().data();
  if (node.needs_grad(0)) {
    auto slot = node.grad_slot(0);
    kernels::MatmulShape s;
    s.batch = g.batch;
    s.accumulate = slot.accumulate;
    if (!g.trans_a) {
      s.M = g.M, s.K = g.N, s.N = g.K, s.trans_a = false, s.trans_b = !g.trans_b;
      // With a folded 2-D B, dA = dC · op(B)ᵀ is one GEMM over all rows (batch 1).
      kernels::matmul(s, dC, b.data(), nullptr, slot.tensor.data());
    } else {
      s.M = g.K, s.K = g.N, s.N = g.M, s.trans_a = g.trans_b, s.trans_b = true;
      kernels::matmul(s, b.data(), dC, nullptr, slot.tensor.data());
    }
  }
  if (node.needs_grad(1)) {
    auto slot = node.grad_slot(1);
    kernels::MatmulShape s;
    s.batch = g.batch;
    s.accumulate = slot.accumulate;
    if (!g.trans_b) {
      s.M = g.K, s.K = g.M, s.N = g.N, s.trans_a = !g.trans_a, s.trans_b = false;
      kernels::matmul(s, a.data(), dC, nullptr, slot.tensor.data());
    } else {
      s.M = g.N, s.K = g.M, s.N = g.K, s.trans_a = true, s.trans_b = g.trans_a;
      kernels::matmul(s, dC, a.data(), nullptr, slot.tensor.data());
    }
  }
}

// db[j] (+)= Σ_r dY[r, j]: each thread owns a block of columns and walks all rows, so the sum
// order is fixed (deterministic) and there are no races.
void bias_backward(const float* dY, Index rows, Index cols, float* db, bool accumulate) {
  constexpr Index kBlock = 64;
  const Index blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index c0 = blk * kBlock, c1 = std::min(cols, c0 + kBlock);
    float acc[kBlock] = {};
    for (Index r = 0; r < rows; ++r) {
      const float* row = dY + r * cols;
      for (Index c = c0; c < c1; ++c) acc[c - c0] += row[c];
    }
    for (Index c = c0; c < c1; ++c) db[c] = (accumulate ? db[c] : 0.f) + acc[c - c0];
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  const MatmulPlan plan = plan_matmul(a.shape(), b.shape(), transpose_a, transpose_b);
  Tensor out = Tensor::empty(plan.out_shape);
  kernels::matmul(plan.gemm, a.data(), b.data(), nullptr, out.data());
  record("matmul", out, {&a, &b},
         [g = plan.gemm, a = a.detach(), b = b.detach()](Node& node) {
           matmul_backward(node, g, a, b);
         });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  CHECK(weight.ndim() == 2, "linear: weight must be [out_features, in_features] (got ",
        weight.shape(), ")");
  CHECK(x.ndim() >= 1 && x.shape()[-1] == weight.size(1), "linear: input features differ (x=",
        x.shape(), ", weight=", weight.shape(), ")");
  CHECK(!bias.defined() || (bias.ndim() == 1 && bias.size(0) == weight.size(0)),
        "linear: bias must be [", weight.size(0), "] (got ", bias.shape(), ")");
  kernels::MatmulShape g;
  g.K = weight.size(1);
  g.N = weight.size(0);
  g.M = x.numel() / g.K;
  g.trans_b = true;
  Tensor out = Tensor::empty(x.shape().with(-1, g.N));
  kernels::matmul(g, x.data(), weight.data(), bias.defined() ? bias.data() : nullptr,
                  out.data());
  record("linear", out, {&x, &weight, &bias},
         [g, x = x.detach(), w = weight.detach()](Node& node) {
           matmul_backward(node, g, x, w);
           if (node.needs_grad(2)) {
             auto slot = node.grad_slot(2);
             bias_backward(node.grad().data(), g.M, g.N, slot.tensor.data(), slot.accumulate);
           }
         });
  return out;
}

}  // namespace heed
