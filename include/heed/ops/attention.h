// Scaled dot-product attention (Vaswani et al. 2017, §3.2.1), fused.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

struct AttentionOutput {
  Tensor output;   // [B, H, T, Dv]
  Tensor weights;  // [B, H, T, S] softmax probabilities (rows sum to 1 over unmasked keys)
};

struct AttentionMasks {
  // [B, S], 1 where the key is padding (hidden from every query), or undefined.
  Tensor key_padding;
  // Hide keys after the query position (decoder self-attention): key j > query i + offset,
  // where offset = S - T lets a T-query block attend to a cache of S keys.
  bool causal = false;
};

struct AttentionOptions {
  float scale = 0.f;        // 0: 1/sqrt(D)
  float dropout = 0.f;      // dropout on the attention weights (training only)
  bool training = false;
  Rng* rng = nullptr;       // required when dropout > 0 and training
};

// softmax(Q·Kᵀ · scale + mask) · V per batch and head, q [B, H, T, D], k [B, H, S, D],
// v [B, H, S, Dv]. Masked positions get exactly zero weight. A query row whose keys are all
// masked gets all-zero weights (and output) instead of NaN. Forward and backward are each one
// fused kernel per (batch, head) block, so the T×S scores stay in cache. With dropout, the
// mask is drawn from the counter-based Rng and regenerated in backward (never stored);
// `weights` are the probabilities before dropout (what a user wants to see). Gradients flow
// through `output` only: `weights` are returned detached (use attention_composite to
// differentiate through them), and backward reads them, so do not modify them in place.
AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionMasks& masks = {},
                                             const AttentionOptions& options = {});

// The same computation from primitives (matmul, masked_fill, softmax, dropout, matmul): the
// reference the fused kernel is tested against, in values and gradients (with dropout, both use
// the same Rng state, so the masks are identical).
AttentionOutput attention_composite(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionMasks& masks = {},
                                    const AttentionOptions& options = {});

}  // namespace heed
