// SelfAttentionPooling: a learned weighted average over time (Yang et al. 2016, "Hierarchical
// Attention Networks for Document Classification", §2.2; Lin et al. 2017, "A Structured
// Self-Attentive Sentence Embedding", with one attention hop):
//
//   u_t = tanh(W₁ h_t + b₁)        [A]   W₁ = proj.weight [A, D], b₁ = proj.bias [A]
//   s_t = w₂ᵀ u_t                        w₂ = context [A], the learned "context vector"
//   α   = softmax_t(s)                   padding positions masked: exactly zero weight
//   pooled = Σ_t α_t h_t           [D]
//
// The projection is one GEMM over all B·T rows; tanh, scores, masked softmax and the weighted sum
// are one fused op (ops/attention_pooling.h).
#pragma once

#include "heed/nn/linear.h"
#include "heed/nn/module.h"
#include "heed/ops/attention_pooling.h"

namespace heed {

struct SelfAttentionPoolingOptions {
  Index input_dim = 0;      // D
  Index attention_dim = 0;  // A
};

class SelfAttentionPooling : public Module {
 public:
  SelfAttentionPooling(const SelfAttentionPoolingOptions& options, Rng& rng);
  // h [B, T, D]; key_padding_mask [B, T] with 1 at padding, or undefined -> pooled [B, D] and
  // weights α [B, T] (rows sum to 1 over unmasked positions; no gradient). A row with every
  // position masked pools to zeros.
  AttentionPoolingOutput forward(const Tensor& h, const Tensor& key_padding_mask = Tensor()) const;

  const SelfAttentionPoolingOptions& options() const { return options_; }

  Linear proj_;     // W₁ [A, D] (Xavier uniform), b₁ [A] (zeros)
  Tensor context_;  // w₂ [A], U(-1/√A, 1/√A) (as torch.nn.Linear(A, 1) would start)

 private:
  SelfAttentionPoolingOptions options_;
};

}  // namespace heed
