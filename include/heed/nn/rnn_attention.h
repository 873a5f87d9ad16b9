// Attention for recurrent encoder–decoders: one decoder query [B, Dq] against the encoder's
// annotations (keys) [B, S, Dk] per step, giving a context vector [B, Dk] and weights [B, S].
//
//   BahdanauAttention  additive score e_ij = vᵀ tanh(W s_{i-1} + U h_j)
//                      (Bahdanau, Cho & Bengio 2015, §3.1 and appendix A.1.2)
//   LuongAttention     dot / general / concat scores, global or local-p
//                      (Luong, Pham & Manning 2015, §3.1 and §3.2)
//
// Both split their work in two: precompute(keys) applies everything that depends only on the
// source (U·h_j, W_a·h̄_s) once per source batch, and forward(query, ...) runs once per decoder
// step with that result. Padding positions (key_padding_mask = 1) get exactly zero weight.
//
// Hard attention (options.hard): each step attends to ONE source position. In training mode the
// choice is a straight-through Gumbel-softmax sample (Jang, Gu & Poole 2017, §2 and §3.2, with
// Gumbel noise from the sampling Rng given at construction); in evaluation mode it is argmax α.
// The returned weights are that one-hot row.
#pragma once

#include <memory>

#include "heed/nn/linear.h"
#include "heed/nn/module.h"

namespace heed {

struct RnnAttentionOutput {
  Tensor context;  // [B, Dk] = Σ_s weights[b, s] · keys[b, s, :]
  Tensor weights;  // [B, S]; 0 at padding. Soft global attention: rows sum to 1. Local-p: the
                   // softmax times the Gaussian window (rows sum to ≤ 1). Hard: one-hot rows.
};

// ----------------------------------------------------------------------------- Bahdanau

struct BahdanauAttentionOptions {
  Index query_dim = 0;      // Dq: the previous decoder state s_{i-1}
  Index key_dim = 0;        // Dk: the annotations h_j
  Index attention_dim = 0;  // A: the space where W s and U h are added
  bool hard = false;        // one position per step (see the header comment)
  float temperature = 1.f;  // τ of the Gumbel-softmax (hard attention, training only)
};

class BahdanauAttention : public Module {
 public:
  // `sampling_rng` (the model's shared random stream) is required when options.hard.
  BahdanauAttention(const BahdanauAttentionOptions& options, Rng& rng,
                    std::shared_ptr<Rng> sampling_rng = nullptr);

  // keys [B, S, Dk] -> U·h_j + b [B, S, A], once per source batch.
  Tensor precompute(const Tensor& keys) const;
  // query [B, Dq], keys [B, S, Dk], keys_proj = precompute(keys), key_padding_mask [B, S]
  // (1 = padding) or undefined.
  RnnAttentionOutput forward(const Tensor& query, const Tensor& keys, const Tensor& keys_proj,
                             const Tensor& key_padding_mask = Tensor()) const;

  const BahdanauAttentionOptions& options() const { return options_; }
  Linear query_proj_;  // W [A, Dq], no bias
  Linear key_proj_;    // U [A, Dk] with a bias (the usual implementation; it is the same as a
                       // bias inside the tanh)
  Tensor v_;           // [A]

 private:
  BahdanauAttentionOptions options_;
  std::shared_ptr<Rng> sampling_rng_;
};

// ----------------------------------------------------------------------------- Luong

enum class LuongScore {
  kDot,      // h_tᵀ h̄_s                      (needs query_dim == key_dim)
  kGeneral,  // h_tᵀ W_a h̄_s
  kConcat,   // v_aᵀ tanh(W_a [h_t; h̄_s])
};

struct LuongAttentionOptions {
  LuongScore score = LuongScore::kGeneral;
  Index query_dim = 0;      // the current decoder state h_t
  Index key_dim = 0;        // the source states h̄_s
  Index attention_dim = 0;  // A: rows of W_a for concat and of W_p for local-p; 0 = query_dim
  // Local-p (§3.2): predicted position p_t = S · σ(v_pᵀ tanh(W_p h_t)), with S the row's true
  // source length, and weights α_t(s) · exp(−(s − p_t)² / (2σ²)), σ = window / 2.
  bool local_p = false;
  Index window = 10;        // D, the window half-width
  bool hard = false;
  float temperature = 1.f;
};

class LuongAttention : public Module {
 public:
  LuongAttention(const LuongAttentionOptions& options, Rng& rng,
                 std::shared_ptr<Rng> sampling_rng = nullptr);

  // keys [B, S, Dk] -> the source half of the score: dot: the keys themselves; general:
  // W_a h̄_s [B, S, Dq]; concat: the h̄ columns of W_a applied, [B, S, A].
  Tensor precompute(const Tensor& keys) const;
  // query h_t [B, Dq]; the rest as BahdanauAttention::forward.
  RnnAttentionOutput forward(const Tensor& query, const Tensor& keys, const Tensor& keys_proj,
                             const Tensor& key_padding_mask = Tensor()) const;

  const LuongAttentionOptions& options() const { return options_; }
  std::unique_ptr<Linear> key_proj_;       // general: W_a [Dq, Dk]; concat: W_a's h̄ half [A, Dk]
  std::unique_ptr<Linear> query_proj_;     // concat: W_a's h_t half [A, Dq]
  Tensor v_;                               // concat: v_a [A]
  std::unique_ptr<Linear> position_proj_;  // local-p: W_p [A, Dq]
  Tensor position_v_;                      // local-p: v_p [A]

 private:
  Tensor scores(const Tensor& query, const Tensor& keys_proj) const;
  // log of the Gaussian window, −(s − p_t)² / (2σ²) [B, S].
  Tensor log_window(const Tensor& query, const Tensor& key_padding_mask, Index S) const;

  LuongAttentionOptions options_;
  std::shared_ptr<Rng> sampling_rng_;
};

// ----------------------------------------------------------------------------- hard attention

// Standard Gumbel noise g = −log(−log u), u ~ U(0, 1) (clamped away from 0), no autograd.
Tensor gumbel_noise(const Shape& shape, Rng& rng);

// 1 at the (first) maximum of each row of x [B, S], 0 elsewhere; no autograd.
Tensor one_hot_argmax(const Tensor& x);

// Straight-through Gumbel-softmax over the last dim of log_alpha [B, S] (log-probabilities;
// −inf where masked): y_soft = softmax((log α + g) / τ), y_hard = one_hot(argmax y_soft),
// returns y = y_hard − stop_grad(y_soft) + y_soft, whose value is exactly y_hard and whose
// gradient is y_soft's.
Tensor straight_through_gumbel_softmax(const Tensor& log_alpha, float temperature, Rng& rng);

}  // namespace heed
