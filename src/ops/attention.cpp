// Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", §3.2.1).
//
// Per batch b and head h, with q [T, D], k [S, D], v [S, Dv] the (b, h) slices:
//
//   S  = scale · q·kᵀ                       [T, S]   scale = 1/√D unless given
//   P  = softmax over the visible keys of S [T, S]   masked keys get exactly 0
//   Pᵈ = dropout(P)                         [T, S]   (training with p > 0; else Pᵈ = P)
//   O  = Pᵈ·v                               [T, Dv]
//
// Key j is visible to query i unless key_padding[b, j] != 0 or (causal and j > i + S - T). A
// query with no visible key gets P = 0 and O = 0. Backward, from dO:
//
//   dv  = Pᵈᵀ·dO                 dPᵈ = dO·vᵀ          dP = dropout-backward(dPᵈ)
//   dSc = P ⊙ (dP − rowsum(dP ⊙ P))                  (softmax backward; 0 where P = 0)
//   dq  = scale · dSc·k          dk  = scale · dScᵀ·q
//
// Saved: q, k, v, P (= the returned weights, so nothing extra) and the dropout mask's
// (seed, first counter, p). Neither the scores nor Pᵈ are kept: backward regenerates Pᵈ from P and
// the mask (kernels/dropout_mask.h, the same mapping as ops/dropout.cpp, so the fused op and
// attention_composite drop the same elements for the same Rng state).
//
// Fused kernels. Forward runs one task per (b, h) — or per (b, h, block of query rows) when there
// are fewer heads than twice the threads — in an OpenMP loop. A task transposes k·scale once
// into a [D, S] scratch, then walks its query rows in chunks of kRowChunk: scores of the chunk
// (small GEMM into an L1-sized scratch), masked row softmax written straight into the weights,
// dropout of the chunk, and O rows = Pᵈ·v. Backward runs one task per (b, h) with the [T, S]
// gradient block in an L2-sized scratch. The products are kernels/small_gemm.h (register-tiled
// loops, no library call per head); with a causal mask every product skips the keys that no row
// of the chunk can see (about half the work). Each output element is computed by one thread in
// a fixed order, so results do not depend on the thread count.
//
// Measured alternative: each product as one oneDNN batched matmul over B·H (no per-head
// dispatch either) with the softmax, dropout and softmax-backward as fused passes over [B, H,
// T, S]. Forward + backward on 2 threads: 4.6 vs 4.2 ms for B=128 H=8 T=S=32 D=32 and 64 vs
// 41 ms for B=64 H=4 T=S=256 D=32 (dropout 0.1); the blocks that stay in cache win at every
// shape, by more with a causal mask, whose skipped keys a batched GEMM cannot skip.
//
// The returned `weights` carry no gradient from the fused op (they are detached): gradients
// flow through `output` only. attention_composite, built from differentiable primitives, also
// differentiates through its weights (e.g. for an attention regularizer).
#include "heed/ops/attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "heed/autograd/node.h"
#include "heed/ops/dropout.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/flop_counter.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "ops/kernels/dropout_mask.h"
#include "ops/kernels/numeric.h"
#include "ops/kernels/small_gemm.h"

namespace heed {
namespace {

using kernels::fast_exp;
using kernels::small_gemm;

// Query rows per forward step. The causal limit (the keys the widest row sees) is per chunk, and
// the chunk's scores, [kRowChunk, S], stay in L1.
constexpr Index kRowChunk = 16;
// Columns of the score scratch and of the transposed k/v are padded to a multiple of this (one
// AVX-512 vector), so the small GEMMs never take their masked tail path over keys.
constexpr Index kKeyAlign = 16;
// The composite's fill value for masked scores: finite (no inf - inf = NaN in softmax), and
// e^(kMaskedScore - max) is exactly 0 for any real row max.
constexpr float kMaskedScore = -1e30f;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Index ceil_div(Index n, Index d) { return (n + d - 1) / d; }
Index round_up(Index n, Index multiple) { return ceil_div(n, multiple) * multiple; }

// Shapes, scale and masks of one call, checked.
struct AttentionPlan {
  Index B = 0, H = 0, T = 0, S = 0, D = 0, Dv = 0;
  Index S_pad = 0;  // S rounded up to kKeyAlign: the row stride of score scratch and kᵀ, vᵀ
  float scale = 1.f;
  Tensor key_padding;  // [B, S] (1 = hidden) or undefined
  Tensor key_bias;     // [B, S_pad]: -inf where key_padding hides a key, else 0 (fused op only)
  bool causal = false;
  bool dropout = false;  // training with p > 0: `mask` is used
  kernels::DropoutMask mask;

  Index heads() const { return B * H; }
  // Query i sees keys [0, key_end(i)) apart from padded ones.
  Index key_end(Index i) const { return causal ? std::clamp(i + S - T + 1, Index{0}, S) : S; }
  // The first query that sees key j (T if none does).
  Index first_query(Index j) const { return causal ? std::clamp(j - (S - T), Index{0}, T) : 0; }
};

AttentionPlan plan_attention(const char* op, const Tensor& q, const Tensor& k, const Tensor& v,
                             const AttentionMasks& masks, const AttentionOptions& options) {
  CHECK(q.defined() && k.defined() && v.defined(), op, ": undefined input");
  CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, op,
        ": q, k, v must be [B, H, T, D], [B, H, S, D], [B, H, S, Dv] (got q=", q.shape(),
        ", k=", k.shape(), ", v=", v.shape(), ")");
  AttentionPlan plan;
  plan.B = q.size(0), plan.H = q.size(1), plan.T = q.size(2), plan.D = q.size(3);
  plan.S = k.size(2), plan.Dv = v.size(3);
  CHECK(k.size(0) == plan.B && k.size(1) == plan.H && v.size(0) == plan.B &&
            v.size(1) == plan.H,
        op, ": batch and head dims differ (q=", q.shape(), ", k=", k.shape(), ", v=", v.shape(),
        ")");
  CHECK(k.size(3) == plan.D, op, ": q and k feature dims differ (q=", q.shape(), ", k=",
        k.shape(), ")");
  CHECK(v.size(2) == plan.S, op, ": k and v have different numbers of keys (k=", k.shape(),
        ", v=", v.shape(), ")");
  CHECK(plan.D > 0, op, ": q and k need a non-empty feature dim (q=", q.shape(), ")");
  if (masks.key_padding.defined()) {
    CHECK(masks.key_padding.shape() == Shape({plan.B, plan.S}), op,
          ": key_padding must be [B, S] = [", plan.B, ", ", plan.S, "] (got ",
          masks.key_padding.shape(), ")");
    plan.key_padding = masks.key_padding.detach();
  }
  CHECK(std::isfinite(options.scale), op, ": scale must be finite (got ", options.scale, ")");
  CHECK(options.dropout >= 0.f && options.dropout < 1.f, op, ": dropout must be in [0, 1) (got ",
        options.dropout, ")");
  plan.dropout = options.training && options.dropout > 0.f;
  CHECK(!plan.dropout || options.rng != nullptr, op,
        ": dropout during training needs options.rng (dropout=", options.dropout, ")");
  plan.S_pad = round_up(plan.S, kKeyAlign);
  plan.scale = options.scale != 0.f ? options.scale
                                    : 1.f / std::sqrt(static_cast<float>(plan.D));
  plan.causal = masks.causal;
  plan.mask.p = options.dropout;
  return plan;
}

// [B, S_pad]: -inf for the keys that key_padding hides, 0 for the others (and the padding).
Tensor key_bias(const AttentionPlan& a) {
  Tensor bias = Tensor::zeros(Shape{a.B, a.S_pad});
  for (Index b = 0; b < a.B; ++b) {
    const float* pad = a.key_padding.data() + b * a.S;
    for (Index j = 0; j < a.S; ++j) bias.data()[b * a.S_pad + j] = pad[j] != 0.f ? kNegInf : 0.f;
  }
  return bias;
}

// dst[c, r] = scale · src[r, c] for src [rows, cols]; dst has row stride ld >= rows and its
// columns [rows, ld) are zeroed (padding the GEMM reads but whose results are never used).
void transpose_into(const float* src, Index rows, Index cols, float scale, float* dst, Index ld) {
  for (Index c = 0; c < cols; ++c) {
    float* d = dst + c * ld;
    for (Index r = 0; r < rows; ++r) d[r] = scale * src[r * cols + c];
    for (Index r = rows; r < ld; ++r) d[r] = 0.f;
  }
}

// ----------------------------------------------------------------------------- forward

// combine(term(0), ..., term(n-1)) for an associative combine: term j goes to lane j % 16, then
// the 16 lanes meet in a fixed tree. GCC makes this vector code; an `omp simd reduction` ends in
// 16 dependent scalar steps, which cost more than a whole 32-key row. The order is fixed by n.
template <typename Term, typename Combine>
float reduce_row(Index n, float identity, Term term, Combine combine) {
  float lanes[16];
  for (float& lane : lanes) lane = identity;
  Index j = 0;
  for (; j + 16 <= n; j += 16) {
#pragma omp simd
    for (int w = 0; w < 16; ++w) lanes[w] = combine(lanes[w], term(j + w));
  }
#pragma omp simd
  for (int w = 0; w < 16; ++w) {
    if (j + w < n) lanes[w] = combine(lanes[w], term(j + w));
  }
  for (int w = 0; w < 8; ++w) lanes[w] = combine(lanes[w], lanes[w + 8]);
  for (int w = 0; w < 4; ++w) lanes[w] = combine(lanes[w], lanes[w + 4]);
  for (int w = 0; w < 2; ++w) lanes[w] = combine(lanes[w], lanes[w + 2]);
  return combine(lanes[0], lanes[1]);
}

inline float plus(float a, float b) { return a + b; }
inline float maximum(float a, float b) { return b > a ? b : a; }  // a ternary vectorizes

// One row of P from the scores x of its chunk, whose first `cols` (a multiple of kKeyAlign)
// columns were computed: p[j] = softmax over the visible keys, which are j < n (the causal limit)
// with bias[j] == 0 (bias: -inf for padded keys, or null). A row with no visible key is all
// zeros. x is used as scratch. All loops run over the chunk's `cols` or the row's S, never over
// n: rows of a causal chunk differ in n, and loops ending at n cost a branch mispredict each.
void masked_softmax_row(float* x, const float* bias, Index n, Index cols, Index S, float* p) {
  // Hidden keys become -inf. (Two loops: a load under a condition does not vectorize well.)
  float m;
  if (bias != nullptr) {
    m = reduce_row(cols, kNegInf, [=](Index j) {
      const float s = x[j] + bias[j];
      return x[j] = j < n ? s : kNegInf;
    }, maximum);
  } else {
    m = reduce_row(cols, kNegInf, [=](Index j) { return x[j] = j < n ? x[j] : kNegInf; }, maximum);
  }
  if (m == kNegInf) {  // nothing visible
    std::fill(p, p + S, 0.f);
    return;
  }
  // Hidden keys: e^(-inf - m) = 0.
  const float sum = reduce_row(cols, 0.f, [=](Index j) { return x[j] = fast_exp(x[j] - m); }, plus);
  const float inv = 1.f / sum;
#pragma omp simd
  for (Index j = 0; j < S; ++j) p[j] = j < cols ? x[j] * inv : 0.f;
}

struct ForwardScratch {
  static Index floats(const AttentionPlan& a) {
    return a.D * a.S_pad + kRowChunk * a.S_pad + (a.dropout ? kRowChunk * a.S : 0);
  }
  explicit ForwardScratch(const AttentionPlan& a, float* base)
      : kt(base), scores(kt + a.D * a.S_pad), dropped(scores + kRowChunk * a.S_pad) {}
  float* kt;       // [D, S_pad]: scale · kᵀ
  float* scores;   // [kRowChunk, S_pad]
  float* dropped;  // [kRowChunk, S]: Pᵈ of the chunk
};

// Rows [i0, i1) of head bh (= b·H + h): P into `weights`, O into `out`.
void attention_forward_rows(const AttentionPlan& a, Index bh, Index i0, Index i1, const float* q,
                            const float* k, const float* v, float* weights, float* out,
                            ForwardScratch scratch) {
  const Index T = a.T, S = a.S, D = a.D, Dv = a.Dv, Sp = a.S_pad;
  const float* qh = q + bh * T * D;
  const float* vh = v + bh * S * Dv;
  float* ph = weights + bh * T * S;
  float* oh = out + bh * T * Dv;
  const float* bias = a.key_bias.defined() ? a.key_bias.data() + (bh / a.H) * Sp : nullptr;
  transpose_into(k + bh * S * D, S, D, a.scale, scratch.kt, Sp);
  for (Index c0 = i0; c0 < i1; c0 += kRowChunk) {
    const Index rows = std::min(kRowChunk, i1 - c0);
    const Index keys = a.key_end(c0 + rows - 1);  // the chunk's last row sees the most keys
    const Index cols = std::min(Sp, round_up(keys, kKeyAlign));
    // S = q·(scale·kᵀ) for the keys any row of the chunk sees (whole vectors; padding is 0).
    small_gemm<false>(rows, cols, D, qh + c0 * D, D, 1, scratch.kt, Sp, scratch.scores, Sp);
    for (Index r = 0; r < rows; ++r) {
      masked_softmax_row(scratch.scores + r * Sp, bias, a.key_end(c0 + r), cols, S,
                         ph + (c0 + r) * S);
    }
    const float* pd = ph + c0 * S;
    if (a.dropout) {
      kernels::apply_dropout(a.mask, (bh * T + c0) * S, rows * S, pd, scratch.dropped);
      pd = scratch.dropped;
    }
    // O = Pᵈ·v over the visible keys (Pᵈ is 0 past each row's own limit).
    small_gemm<false>(rows, Dv, keys, pd, S, 1, vh, Dv, oh + c0 * Dv, Dv);
  }
}

void attention_forward(const AttentionPlan& a, const float* q, const float* k, const float* v,
                       float* weights, float* out) {
  // Split heads into blocks of query rows only when there are too few heads to keep every
  // thread busy. Blocks are whole chunks, so every row is computed the same way either way.
  const int threads = num_threads();
  const Index chunks = ceil_div(a.T, kRowChunk);
  Index blocks = 1;  // query-row blocks per head
  if (a.heads() > 0 && a.heads() < 2 * threads) {
    blocks = std::max(Index{1}, std::min(chunks, ceil_div(2 * threads, a.heads())));
  }
  const Index rows_per_block = ceil_div(chunks, blocks) * kRowChunk;
  blocks = a.T == 0 ? 0 : ceil_div(a.T, rows_per_block);
  const Index tasks = a.heads() * blocks;
  const Index per_thread = ForwardScratch::floats(a);
  Tensor scratch = Tensor::empty(Shape{threads * per_thread});
  const Index work = a.heads() * a.T * a.S * (a.D + a.Dv);
#pragma omp parallel for schedule(static) if (tasks > 1 && work > kParallelGrain)
  for (Index task = 0; task < tasks; ++task) {
    const Index bh = task / blocks, i0 = (task % blocks) * rows_per_block;
    ForwardScratch mine(a, scratch.data() + omp_get_thread_num() * per_thread);
    attention_forward_rows(a, bh, i0, std::min(a.T, i0 + rows_per_block), q, k, v, weights,
                           out, mine);
  }
}

// ----------------------------------------------------------------------------- backward

// Row i of dSc, in place of g = (dO·vᵀ)[i], whose first `cols` columns were computed:
// dP = dropout-backward(g), then dSc = scale · P ⊙ (dP − Σ dP ⊙ P). Hidden keys need no
// test: P is 0 there, so are their terms and dSc. Columns [cols, S) are set to 0.
//
// dropout-backward multiplies by the mask and 1/(1-p). The mask is read off Pᵈ: where P > 0,
// Pᵈ = P/(1-p) is nonzero exactly when the key is kept. Where P = 0 the dropout choice does not
// matter, since both dSc and the row sum multiply dP by P = 0.
void softmax_grad_row(const AttentionPlan& a, const float* p, const float* pd, Index cols,
                      Index S, float* g) {
  const Index n = std::min(cols, S);
  float dot;
  if (a.dropout) {
    const float keep_scale = a.mask.scale();
    auto dp = [=](Index j) { return g[j] = pd[j] != 0.f ? g[j] * keep_scale : 0.f; };
    dot = reduce_row(n, 0.f, [=](Index j) { return dp(j) * p[j]; }, plus);
  } else {
    dot = reduce_row(n, 0.f, [=](Index j) { return g[j] * p[j]; }, plus);
  }
  const float scale = a.scale;
#pragma omp simd
  for (Index j = 0; j < n; ++j) g[j] = scale * p[j] * (g[j] - dot);
  for (Index j = n; j < S; ++j) g[j] = 0.f;
}

// Where a gradient goes: the buffer and whether to add into it; null data if not wanted.
struct GradTarget {
  float* data = nullptr;
  bool accumulate = false;
};

struct BackwardScratch {
  static Index floats(const AttentionPlan& a) {
    return a.Dv * a.S_pad + a.T * a.S_pad + (a.dropout ? a.T * a.S : 0);
  }
  explicit BackwardScratch(const AttentionPlan& a, float* base)
      : vt(base), g(vt + a.Dv * a.S_pad), dropped(g + a.T * a.S_pad) {}
  float* vt;       // [Dv, S_pad]: vᵀ
  float* g;        // [T, S_pad]: dO·vᵀ, then dSc
  float* dropped;  // [T, S]: Pᵈ
};

// dq, dk, dv of head bh.
void attention_backward_head(const AttentionPlan& a, Index bh, const float* q, const float* k,
                             const float* v, const float* weights, const float* dout,
                             GradTarget dq, GradTarget dk, GradTarget dv,
                             BackwardScratch scratch) {
  const Index T = a.T, S = a.S, D = a.D, Dv = a.Dv, Sp = a.S_pad;
  const float* qh = q + bh * T * D;
  const float* kh = k + bh * S * D;
  const float* p = weights + bh * T * S;
  const float* dO = dout + bh * T * Dv;
  const float* pd = p;
  if (a.dropout) {
    kernels::apply_dropout(a.mask, bh * T * S, T * S, p, scratch.dropped);
    pd = scratch.dropped;
  }
  // Products over queries (dv, dk) take key chunks, each from the first query that sees it.
  auto over_key_chunks = [&](auto&& product) {
    for (Index j0 = 0; j0 < S; j0 += kRowChunk) {
      product(j0, std::min(kRowChunk, S - j0), a.first_query(j0));
    }
  };
  if (dv.data != nullptr) {  // dv = Pᵈᵀ·dO
    over_key_chunks([&](Index j0, Index keys, Index i) {
      small_gemm(dv.accumulate, keys, Dv, T - i, pd + i * S + j0, 1, S, dO + i * Dv, Dv,
                 dv.data + (bh * S + j0) * Dv, Dv);
    });
  }
  if (dq.data == nullptr && dk.data == nullptr) return;

  transpose_into(v + bh * S * Dv, S, Dv, 1.f, scratch.vt, Sp);
  for (Index c0 = 0; c0 < T; c0 += kRowChunk) {
    const Index rows = std::min(kRowChunk, T - c0);
    const Index keys = a.key_end(c0 + rows - 1);
    const Index cols = std::min(Sp, round_up(keys, kKeyAlign));
    float* g = scratch.g + c0 * Sp;
    small_gemm<false>(rows, cols, Dv, dO + c0 * Dv, Dv, 1, scratch.vt, Sp, g, Sp);  // dPᵈ = dO·vᵀ
    for (Index r = 0; r < rows; ++r) {
      const Index i = c0 + r;
      softmax_grad_row(a, p + i * S, pd + i * S, cols, S, g + r * Sp);
    }
    if (dq.data != nullptr) {  // dq = dSc·k (scale is in dSc)
      small_gemm(dq.accumulate, rows, D, keys, g, Sp, 1, kh, D, dq.data + (bh * T + c0) * D, D);
    }
  }
  if (dk.data != nullptr) {  // dk = dScᵀ·q
    over_key_chunks([&](Index j0, Index keys, Index i) {
      small_gemm(dk.accumulate, keys, D, T - i, scratch.g + i * Sp + j0, 1, Sp, qh + i * D, D,
                 dk.data + (bh * S + j0) * D, D);
    });
  }
}

void attention_backward(const AttentionPlan& a, const float* q, const float* k, const float* v,
                        const float* weights, const float* dout, GradTarget dq, GradTarget dk,
                        GradTarget dv) {
  const int threads = num_threads();
  const Index per_thread = BackwardScratch::floats(a);
  Tensor scratch = Tensor::empty(Shape{threads * per_thread});
  const Index work = a.heads() * a.T * a.S * (a.D + a.Dv);
#pragma omp parallel for schedule(static) if (a.heads() > 1 && work > kParallelGrain)
  for (Index bh = 0; bh < a.heads(); ++bh) {
    BackwardScratch mine(a, scratch.data() + omp_get_thread_num() * per_thread);
    attention_backward_head(a, bh, q, k, v, weights, dout, dq, dk, dv, mine);
  }
}

// Input i's gradient buffer. One tensor passed as several inputs (self-attention: q = k = v)
// has one buffer, which the kernel writes in an interleaved order; such a buffer is zeroed and
// only ever added into.
GradTarget gradient_target(Node& node, int i, GradTarget (&earlier)[3]) {
  Node::Slot slot = node.grad_slot(i);
  GradTarget target{slot.tensor.data(), slot.accumulate};
  for (int j = 0; j < i; ++j) {
    if (earlier[j].data != target.data) continue;
    if (!earlier[j].accumulate) slot.tensor.fill_(0.f);
    earlier[j].accumulate = target.accumulate = true;
  }
  return target;
}

// ----------------------------------------------------------------------------- composite helpers

// [T, S]: 1 where key j is after query i's position (j > i + S - T).
Tensor causal_mask(Index T, Index S) {
  Tensor mask = Tensor::empty(Shape{T, S});
  for (Index i = 0; i < T; ++i)
    for (Index j = 0; j < S; ++j) mask.data()[i * S + j] = j > i + S - T ? 1.f : 0.f;
  return mask;
}

// [B, 1, T, 1]: 0 for the query rows that see no key, 1 elsewhere; undefined if every row sees
// one (the common case: nothing to do).
Tensor visible_rows(const AttentionPlan& a) {
  Tensor keep = Tensor::ones(Shape{a.B, 1, a.T, 1});
  bool any_hidden = false;
  for (Index b = 0; b < a.B; ++b) {
    Index first = 0;  // the first key that is not padding
    const float* pad = a.key_padding.defined() ? a.key_padding.data() + b * a.S : nullptr;
    while (pad != nullptr && first < a.S && pad[first] != 0.f) ++first;
    for (Index i = 0; i < a.T; ++i) {
      if (first >= a.key_end(i)) {
        keep.data()[b * a.T + i] = 0.f;
        any_hidden = true;
      }
    }
  }
  return any_hidden ? keep : Tensor();
}

}  // namespace

AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionMasks& masks,
                                             const AttentionOptions& options) {
  AttentionPlan plan = plan_attention("scaled_dot_product_attention", q, k, v, masks, options);
  if (plan.dropout) {
    // Reserve the counters exactly as dropout() on the [B, H, T, S] weights would.
    plan.mask.seed = options.rng->seed();
    plan.mask.first =
        options.rng->reserve(kernels::DropoutMask::counters(plan.heads() * plan.T * plan.S));
  }
  if (plan.key_padding.defined()) plan.key_bias = key_bias(plan);
  Tensor weights = Tensor::empty(Shape{plan.B, plan.H, plan.T, plan.S});
  Tensor out = Tensor::empty(Shape{plan.B, plan.H, plan.T, plan.Dv});
  attention_forward(plan, q.data(), k.data(), v.data(), weights.data(), out.data());
  // Counted as the two batched GEMMs it replaces (Q·Kᵀ and P·V), as a profiler of the composite
  // (and the PyTorch peer) would count them, causal skipping notwithstanding.
  add_matmul_flops(2.0 * plan.heads() * plan.T * plan.S * (plan.D + plan.Dv));
  record("scaled_dot_product_attention", out, {&q, &k, &v},
         [plan, q = q.detach(), k = k.detach(), v = v.detach(),
          weights = weights.detach()](Node& node) {
           GradTarget grads[3];
           for (int i = 0; i < 3; ++i) {
             if (node.needs_grad(i)) grads[i] = gradient_target(node, i, grads);
           }
           attention_backward(plan, q.data(), k.data(), v.data(), weights.data(),
                              node.grad().data(), grads[0], grads[1], grads[2]);
         });
  return {out, weights};
}

AttentionOutput attention_composite(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionMasks& masks,
                                    const AttentionOptions& options) {
  const AttentionPlan plan = plan_attention("attention_composite", q, k, v, masks, options);
  Tensor scores = mul(matmul(q, k, false, true), plan.scale);  // [B, H, T, S]
  if (plan.key_padding.defined()) {
    scores = masked_fill(scores, plan.key_padding.with_shape(Shape{plan.B, 1, 1, plan.S}),
                         kMaskedScore);
  }
  if (plan.causal) scores = masked_fill(scores, causal_mask(plan.T, plan.S), kMaskedScore);
  Tensor weights = softmax(scores, -1);
  // A row with every key masked came out uniform (all scores equal); it must be 0.
  if (Tensor keep = visible_rows(plan); keep.defined()) weights = mul(weights, keep);
  Tensor attended = plan.dropout ? dropout(weights, options.dropout, true, *options.rng) : weights;
  return {matmul(attended, v), weights};
}

}  // namespace heed
