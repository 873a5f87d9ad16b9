// Additive self-attention pooling (Yang et al. 2016, "Hierarchical Attention Networks for
// Document Classification", §2.2; Lin et al. 2017, "A Structured Self-Attentive Sentence
// Embedding"), fused after the projection: the layer (nn/attention_pooling.h) computes
// z = h·W₁ᵀ + b₁ for all B·T rows in one GEMM, and this op does the rest in one pass.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

struct AttentionPoolingOutput {
  Tensor pooled;   // [B, D]
  Tensor weights;  // [B, T] attention weights α (no gradient: for inspection only)
};

// u_t = tanh(z_t), s_t = u_t · w, α = softmax over t of s (padding masked), pooled = Σ_t α_t h_t
// for each of the B rows; z [B, T, A], context w [A], h [B, T, D], key_padding [B, T] with 1 at
// positions to hide, or undefined. Masked positions get exactly zero weight (and no gradient); a
// row whose positions are all masked pools to zeros. Gradients flow to z, w and h.
AttentionPoolingOutput attention_pooling(const Tensor& z, const Tensor& context, const Tensor& h,
                                         const Tensor& key_padding = Tensor());

}  // namespace heed
