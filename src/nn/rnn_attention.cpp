// Bahdanau and Luong attention for recurrent encoder–decoders (see the header for the papers).
//
// Every variant is three stages:
//   1. scores e [B, S] from the query and the precomputed source projection;
//   2. normalization: α = softmax(e) over unmasked positions (masked ones get exactly 0), times
//      the Gaussian window for Luong's local-p; hard attention replaces α by a one-hot row;
//   3. context c = Σ_s α_s · keys_s.
// Stages 2 and 3 are shared (normalize() and weighted_sum() below).
#include "heed/nn/rnn_attention.h"

#include <cmath>
#include <limits>

#include "heed/nn/init.h"
#include "heed/ops/additive_attention.h"
#include "heed/ops/batched_matvec.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/check.h"

namespace heed {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Checks the forward inputs of attention module `name`; returns S.
Index check_inputs(const char* name, const Tensor& query, const Tensor& keys,
                   const Tensor& keys_proj, const Tensor& mask, Index query_dim, Index key_dim,
                   Index proj_dim) {
  CHECK(query.defined() && query.ndim() == 2 && query.size(1) == query_dim, name,
        ": query must be [B, query_dim=", query_dim, "] (got ",
        query.defined() ? query.shape().to_string() : "undefined", ")");
  const Index B = query.size(0);
  CHECK(keys.defined() && keys.ndim() == 3 && keys.size(0) == B && keys.size(2) == key_dim, name,
        ": keys must be [B=", B, ", S, key_dim=", key_dim, "] (got ",
        keys.defined() ? keys.shape().to_string() : "undefined", ")");
  const Index S = keys.size(1);
  CHECK(S > 0, name, ": no source positions (keys ", keys.shape(), ")");
  const Shape proj_shape{B, S, proj_dim};
  CHECK(keys_proj.defined() && keys_proj.shape() == proj_shape, name,
        ": keys_proj must be precompute(keys) = ", proj_shape, " (got ",
        keys_proj.defined() ? keys_proj.shape().to_string() : "undefined", ")");
  CHECK(!mask.defined() || mask.shape() == Shape({B, S}), name,
        ": key_padding_mask must be [B, S] = ", Shape({B, S}), " (got ",
        mask.defined() ? mask.shape().to_string() : "", ")");
  return S;
}

Tensor init_vector(Index n, Rng& rng) {
  // As a Linear(n -> 1) weight: Xavier uniform over [1, n].
  return init::xavier_uniform(Shape{1, n}, rng).with_shape(Shape{n});
}

struct Normalization {
  bool hard = false;
  float temperature = 1.f;
  bool training = false;
  Rng* rng = nullptr;  // Gumbel noise (hard attention in training)
};

// Stage 2: scores [B, S] -> weights [B, S]. `log_window` [B, S] (undefined: none) is the log of
// local-p's Gaussian window, multiplied into α (added in log space for hard attention).
Tensor normalize(Tensor scores, const Tensor& mask, const Tensor& log_window,
                 const Normalization& how) {
  if (mask.defined()) scores = masked_fill(scores, mask, kNegInf);
  if (!how.hard) {
    Tensor alpha = softmax(scores, -1);
    return log_window.defined() ? mul(alpha, exp(log_window)) : alpha;
  }
  Tensor log_alpha = log_softmax(scores, -1);
  if (log_window.defined()) log_alpha = add(log_alpha, log_window);
  if (how.training) return straight_through_gumbel_softmax(log_alpha, how.temperature, *how.rng);
  return one_hot_argmax(log_alpha);
}

// Stage 3: Σ_s weights[b, s] · keys[b, s, :] -> [B, Dk].
Tensor weighted_sum(const Tensor& weights, const Tensor& keys) {
  return batched_vecmat(weights, keys);
}

void check_hard_options(const char* name, bool hard, float temperature,
                        const std::shared_ptr<Rng>& rng) {
  if (!hard) return;
  CHECK(temperature > 0.f, name, ": temperature must be > 0 (got ", temperature, ")");
  CHECK(rng != nullptr, name, ": hard attention needs a sampling Rng");
}

}  // namespace

// ----------------------------------------------------------------------------- Bahdanau

BahdanauAttention::BahdanauAttention(const BahdanauAttentionOptions& options, Rng& rng,
                                     std::shared_ptr<Rng> sampling_rng)
    : query_proj_({.in_features = options.query_dim,
                   .out_features = options.attention_dim,
                   .bias = false},
                  rng),
      key_proj_({.in_features = options.key_dim, .out_features = options.attention_dim}, rng),
      options_(options),
      sampling_rng_(std::move(sampling_rng)) {
  check_hard_options("BahdanauAttention", options.hard, options.temperature, sampling_rng_);
  register_module("query_proj", query_proj_);
  register_module("key_proj", key_proj_);
  v_ = register_parameter("v", init_vector(options.attention_dim, rng));
}

Tensor BahdanauAttention::precompute(const Tensor& keys) const {
  CHECK(keys.defined() && keys.ndim() == 3 && keys.size(2) == options_.key_dim,
        "BahdanauAttention: keys must be [B, S, key_dim=", options_.key_dim, "] (got ",
        keys.defined() ? keys.shape().to_string() : "undefined", ")");
  return key_proj_.forward(keys);
}

RnnAttentionOutput BahdanauAttention::forward(const Tensor& query, const Tensor& keys,
                                              const Tensor& keys_proj,
                                              const Tensor& key_padding_mask) const {
  check_inputs("BahdanauAttention", query, keys, keys_proj, key_padding_mask, options_.query_dim,
               options_.key_dim, options_.attention_dim);
  // e_ij = vᵀ tanh(W s_{i-1} + U h_j): only W s_{i-1} is computed per step.
  const Tensor scores = additive_attention_scores(query_proj_.forward(query), keys_proj, v_);
  const Tensor weights =
      normalize(scores, key_padding_mask, Tensor(),
                {options_.hard, options_.temperature, is_training(), sampling_rng_.get()});
  return {weighted_sum(weights, keys), weights};
}

// ----------------------------------------------------------------------------- Luong

LuongAttention::LuongAttention(const LuongAttentionOptions& options, Rng& rng,
                               std::shared_ptr<Rng> sampling_rng)
    : options_(options), sampling_rng_(std::move(sampling_rng)) {
  const Index Dq = options.query_dim, Dk = options.key_dim;
  CHECK(Dq > 0 && Dk > 0, "LuongAttention: query_dim and key_dim must be > 0 (got ", Dq, ", ",
        Dk, ")");
  CHECK(options.attention_dim >= 0, "LuongAttention: attention_dim must be >= 0 (got ",
        options.attention_dim, ")");
  if (options_.attention_dim == 0) options_.attention_dim = Dq;
  const Index A = options_.attention_dim;
  check_hard_options("LuongAttention", options.hard, options.temperature, sampling_rng_);
  switch (options.score) {
    case LuongScore::kDot:
      CHECK(Dq == Dk, "LuongAttention: the dot score needs query_dim == key_dim (got ", Dq,
            " and ", Dk, ")");
      break;
    case LuongScore::kGeneral:
      key_proj_ = std::make_unique<Linear>(
          LinearOptions{.in_features = Dk, .out_features = Dq, .bias = false}, rng);
      register_module("key_proj", *key_proj_);
      break;
    case LuongScore::kConcat:
      query_proj_ = std::make_unique<Linear>(
          LinearOptions{.in_features = Dq, .out_features = A, .bias = false}, rng);
      key_proj_ = std::make_unique<Linear>(
          LinearOptions{.in_features = Dk, .out_features = A, .bias = false}, rng);
      register_module("query_proj", *query_proj_);
      register_module("key_proj", *key_proj_);
      v_ = register_parameter("v", init_vector(A, rng));
      break;
  }
  if (options.local_p) {
    CHECK(options.window > 0, "LuongAttention: window must be > 0 (got ", options.window, ")");
    position_proj_ = std::make_unique<Linear>(
        LinearOptions{.in_features = Dq, .out_features = A, .bias = false}, rng);
    register_module("position_proj", *position_proj_);
    position_v_ = register_parameter("position_v", init_vector(A, rng));
  }
}

Tensor LuongAttention::precompute(const Tensor& keys) const {
  CHECK(keys.defined() && keys.ndim() == 3 && keys.size(2) == options_.key_dim,
        "LuongAttention: keys must be [B, S, key_dim=", options_.key_dim, "] (got ",
        keys.defined() ? keys.shape().to_string() : "undefined", ")");
  return key_proj_ ? key_proj_->forward(keys) : keys;
}

// §3.1, eq. (8): the three content-based scores, [B, S].
Tensor LuongAttention::scores(const Tensor& query, const Tensor& keys_proj) const {
  if (options_.score == LuongScore::kConcat)
    return additive_attention_scores(query_proj_->forward(query), keys_proj, v_);
  // dot and general: h_tᵀ · (keys_proj = h̄_s or W_a h̄_s) for every s.
  return batched_matvec(keys_proj, query);
}

// §3.2, eqs. (9) and (10): p_t = S · σ(v_pᵀ tanh(W_p h_t)) with S the row's source length (its
// unmasked positions: padding is at the end), and log exp(−(s − p_t)² / (2σ²)), σ = D / 2.
Tensor LuongAttention::log_window(const Tensor& query, const Tensor& key_padding_mask,
                                  Index S) const {
  const Index B = query.size(0);
  Tensor lengths = Tensor::full(Shape{B, 1}, static_cast<float>(S));
  if (key_padding_mask.defined()) {
    const float* mask = key_padding_mask.data();
    for (Index b = 0; b < B; ++b) {
      float n = 0.f;
      for (Index s = 0; s < S; ++s) n += mask[b * S + s] == 0.f ? 1.f : 0.f;
      lengths.data()[b] = n;
    }
  }
  const Tensor hidden = tanh(position_proj_->forward(query));                         // [B, A]
  const Tensor p = mul(sigmoid(matmul(hidden, unsqueeze(position_v_, 1))), lengths);  // [B, 1]
  const Tensor positions = Tensor::arange(S).with_shape(Shape{1, S});
  const Tensor distance = sub(positions, p);  // [B, S]
  const float sigma = 0.5f * static_cast<float>(options_.window);
  return mul(mul(distance, distance), -1.f / (2.f * sigma * sigma));
}

RnnAttentionOutput LuongAttention::forward(const Tensor& query, const Tensor& keys,
                                           const Tensor& keys_proj,
                                           const Tensor& key_padding_mask) const {
  const Index proj_dim = options_.score == LuongScore::kDot       ? options_.key_dim
                         : options_.score == LuongScore::kGeneral ? options_.query_dim
                                                                  : options_.attention_dim;
  const Index S = check_inputs("LuongAttention", query, keys, keys_proj, key_padding_mask,
                               options_.query_dim, options_.key_dim, proj_dim);
  const Tensor window =
      options_.local_p ? log_window(query, key_padding_mask, S) : Tensor();
  const Tensor weights =
      normalize(scores(query, keys_proj), key_padding_mask, window,
                {options_.hard, options_.temperature, is_training(), sampling_rng_.get()});
  return {weighted_sum(weights, keys), weights};
}

// ----------------------------------------------------------------------------- hard attention

Tensor gumbel_noise(const Shape& shape, Rng& rng) {
  Tensor g = Tensor::empty(shape);
  float* p = g.data();
  const Index n = g.numel();
  rng.fill_uniform(p, n, 0.f, 1.f);
  for (Index i = 0; i < n; ++i) {
    const float u = p[i] < 0x1p-24f ? 0x1p-24f : p[i];  // u in [2^-24, 1 - 2^-24]: g finite
    p[i] = -std::log(-std::log(u));
  }
  return g;
}

Tensor one_hot_argmax(const Tensor& x) {
  CHECK(x.defined() && x.ndim() == 2, "one_hot_argmax: x must be [B, S] (got ",
        x.defined() ? x.shape().to_string() : "undefined", ")");
  const IntTensor best = argmax(x.detach(), -1);
  const Index B = x.size(0), S = x.size(1);
  Tensor y = Tensor::zeros(x.shape());
  for (Index b = 0; b < B; ++b) y.data()[b * S + best.data()[b]] = 1.f;
  return y;
}

Tensor straight_through_gumbel_softmax(const Tensor& log_alpha, float temperature, Rng& rng) {
  CHECK(temperature > 0.f, "straight_through_gumbel_softmax: temperature must be > 0 (got ",
        temperature, ")");
  const Tensor noise = gumbel_noise(log_alpha.shape(), rng);
  const Tensor y_soft = softmax(mul(add(log_alpha, noise), 1.f / temperature), -1);
  const Tensor y_hard = one_hot_argmax(y_soft);
  // Value: exactly y_hard (0 − s + s = 0, and (1 − s) + s rounds to 1 for s in [0, 1]).
  // Gradient: y_soft's.
  return add(sub(y_hard, y_soft.detach()), y_soft);
}

}  // namespace heed
