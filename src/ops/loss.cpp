// Losses.
//
// cross_entropy (fused with log-softmax), logits x [N, V] (any leading dims folded into N),
// targets t [N], smoothing ε, n = number of targets ≠ ignore_index:
//   lse_r  = m_r + log Σ_v e^(x[r,v] - m_r),  m_r = max_v x[r,v]      (so -log p_v = lse_r - x_v)
//   loss_r = (1-ε)·(lse_r - x[r,t_r]) + ε·(lse_r - mean_v x[r,v])     (0 for ignored rows)
//   L      = Σ_r loss_r / n
//   dx[r,v] = dL · (e^(x[r,v] - lse_r) - ε/V - (1-ε)·[v == t_r]) / n   (0 for ignored rows)
// This is PyTorch's label smoothing (Szegedy et al. 2016, §7): the target distribution
// (1-ε)·onehot + ε/V. Saved: the logits (an input, already alive) and lse [N]; the [N, V]
// softmax is never stored: the backward recomputes e^(x - lse) in the same pass that writes dx,
// which reads x once instead of writing and re-reading an N×V probability tensor.
// Rows run in parallel; the per-row losses are summed in double, in row order, so the loss is
// bitwise the same for every thread count.
//
// mse_loss, prediction p and target q of the same shape, N elements:
//   L = Σ (p - q)² / N          dp = dL · 2(p - q) / N,  dq = -dp          Saved: p, q.
#include "heed/ops/loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "heed/autograd/node.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/numeric.h"

namespace heed {
namespace {

using kernels::fast_exp;
using kernels::store_grad;

// ----------------------------------------------------------------------------- cross_entropy

struct CrossEntropyDims {
  Index N, V;
  int ignore_index;
  float smoothing;  // ε
};

// Per row r: lse[r] and loss[r] (see the header comment). Each row is read from memory once:
// the max pass brings it into cache, the exp-and-sum pass reuses it there.
void cross_entropy_forward(const float* x, const std::int32_t* t, float* lse, float* loss,
                           CrossEntropyDims s) {
  const auto [N, V, ignore_index, eps] = s;
#pragma omp parallel for schedule(static) if (N * V > kParallelGrain)
  for (Index r = 0; r < N; ++r) {
    if (t[r] == ignore_index) {  // padding: no loss, and the backward skips the row too
      lse[r] = 0.f;
      loss[r] = 0.f;
      continue;
    }
    const float* xr = x + r * V;
    const float m = kernels::row_max(xr, V);
    float sum_exp = 0.f, sum_x = 0.f;
#pragma omp simd reduction(+ : sum_exp, sum_x)
    for (Index v = 0; v < V; ++v) {
      sum_exp += fast_exp(xr[v] - m);
      sum_x += xr[v];
    }
    lse[r] = m + std::log(sum_exp);
    const float nll = lse[r] - xr[t[r]];
    const float smooth = lse[r] - sum_x / static_cast<float>(V);
    loss[r] = (1.f - eps) * nll + eps * smooth;
  }
}

// dx (+)= g · (softmax - smoothed target), g = dL / n; ignored rows get 0.
template <bool kAccumulate>
void cross_entropy_backward(const float* x, const std::int32_t* t, const float* lse, float g,
                            float* dx, CrossEntropyDims s) {
  const auto [N, V, ignore_index, eps] = s;
  const float off_target = g * eps / static_cast<float>(V);  // g · ε/V, subtracted everywhere
  const float on_target = g * (1.f - eps);                   // g · (1-ε), only at v = t
#pragma omp parallel for schedule(static) if (N * V > kParallelGrain)
  for (Index r = 0; r < N; ++r) {
    float* dxr = dx + r * V;
    if (t[r] == ignore_index) {
      if constexpr (!kAccumulate) std::fill(dxr, dxr + V, 0.f);
      continue;
    }
    const float* xr = x + r * V;
    const float l = lse[r];
#pragma omp simd
    for (Index v = 0; v < V; ++v) {
      store_grad<kAccumulate>(dxr[v], g * fast_exp(xr[v] - l) - off_target);
    }
    dxr[t[r]] -= on_target;
  }
}

// Targets must be class ids in [0, V) or ignore_index; returns how many are not ignored.
Index check_targets(const IntTensor& targets, Index V, int ignore_index) {
  const std::int32_t* t = targets.data();
  Index n_valid = 0;
  for (Index i = 0; i < targets.numel(); ++i) {
    if (t[i] == ignore_index) continue;
    if (t[i] < 0 || t[i] >= V) {
      // Name the position in the targets' own coordinates ([b, t] for a [B, T] batch).
      std::vector<Index> position(static_cast<size_t>(targets.ndim()));
      for (Index rem = i, d = targets.ndim() - 1; d >= 0; --d) {
        position[d] = rem % targets.size(static_cast<int>(d));
        rem /= targets.size(static_cast<int>(d));
      }
      CHECK(false, "cross_entropy: target id ", t[i], " at position ", Shape(position),
            " is out of range [0, ", V, ") and is not ignore_index (", ignore_index, ")");
    }
    ++n_valid;
  }
  return n_valid;
}

// ----------------------------------------------------------------------------- mse

template <bool kAccumulate>
void mse_backward(const float* p, const float* q, float scale, float* dx, Index n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (Index i = 0; i < n; ++i) store_grad<kAccumulate>(dx[i], scale * (p[i] - q[i]));
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const IntTensor& targets,
                     const CrossEntropyOptions& options) {
  CHECK(logits.defined() && targets.defined(), "cross_entropy: undefined logits or targets");
  CHECK(logits.ndim() >= 1 && logits.shape().back() > 0,
        "cross_entropy: logits must be [..., V] with V > 0 (got ", logits.shape(), ")");
  CHECK(targets.shape() == logits.shape().without(-1), "cross_entropy: targets ",
        targets.shape(), " must have the shape of logits ", logits.shape(),
        " without its last (class) dim");
  CHECK(options.label_smoothing >= 0.f && options.label_smoothing <= 1.f,
        "cross_entropy: label_smoothing must be in [0, 1] (got ", options.label_smoothing, ")");
  const CrossEntropyDims s{targets.numel(), logits.shape().back(), options.ignore_index,
                           options.label_smoothing};
  const Index n_valid = check_targets(targets, s.V, s.ignore_index);

  Tensor lse = Tensor::empty(Shape{s.N});
  Tensor row_loss = Tensor::empty(Shape{s.N});
  cross_entropy_forward(logits.data(), targets.data(), lse.data(), row_loss.data(), s);
  double total = 0;
  for (Index r = 0; r < s.N; ++r) total += row_loss.data()[r];
  // All targets ignored: no loss (and a zero gradient) rather than PyTorch's 0/0 = NaN.
  const float inv_n = n_valid > 0 ? 1.f / static_cast<float>(n_valid) : 0.f;
  Tensor out = Tensor::scalar(static_cast<float>(total * inv_n));

  record("cross_entropy", out, {&logits},
         [x = logits.detach(), targets, lse, inv_n, s](Node& node) {
           const float g = node.grad().item() * inv_n;
           auto slot = node.grad_slot(0);
           if (slot.accumulate) {
             cross_entropy_backward<true>(x.data(), targets.data(), lse.data(), g,
                                          slot.tensor.data(), s);
           } else {
             cross_entropy_backward<false>(x.data(), targets.data(), lse.data(), g,
                                           slot.tensor.data(), s);
           }
         });
  return out;
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  CHECK(prediction.defined() && target.defined(), "mse_loss: undefined prediction or target");
  CHECK(prediction.shape() == target.shape(), "mse_loss: prediction ", prediction.shape(),
        " and target ", target.shape(), " differ in shape");
  const Index n = prediction.numel();
  const float* p = prediction.data();
  const float* q = target.data();
  const double total = kernels::fixed_order_sum(n, [p, q](Index i) {
    const float diff = p[i] - q[i];
    return diff * diff;
  });
  Tensor out = Tensor::scalar(static_cast<float>(total / static_cast<double>(n)));
  record("mse_loss", out, {&prediction, &target},
         [p = prediction.detach(), q = target.detach(), n](Node& node) {
           // d/dp = 2(p - q)/N · dL; d/dq is its negation (same kernel, operands swapped).
           const float scale = 2.f * node.grad().item() / static_cast<float>(n);
           for (int i = 0; i < 2; ++i) {
             if (!node.needs_grad(i)) continue;
             const float* a = (i == 0 ? p : q).data();
             const float* b = (i == 0 ? q : p).data();
             auto slot = node.grad_slot(i);
             if (slot.accumulate) {
               mse_backward<true>(a, b, scale, slot.tensor.data(), n);
             } else {
               mse_backward<false>(a, b, scale, slot.tensor.data(), n);
             }
           }
         });
  return out;
}

}  // namespace heed
