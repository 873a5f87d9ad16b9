// Multi-head attention (Vaswani et al. 2017, §3.2.2):
//
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_H) · W_Oᵀ + b_O
//   head_h             = softmax((Q·W_Q,hᵀ)(K·W_K,hᵀ)ᵀ / √d_h) · (V·W_V,hᵀ),   d_h = D / H
//
// with the scaled dot-product attention of §3.2.1 (ops/attention.h) and dropout on the
// attention weights. Self-attention passes the same tensor as query, key and value;
// cross-attention (encoder–decoder attention, §3.2.3) passes the decoder states as query and
// the encoder output ("memory") as key and value.
//
// Parameters, with PyTorch's names and layouts so that torch.nn.MultiheadAttention's
// state_dict loads 1:1 (fused_qkv = true, the default):
//   in_proj_weight [3D, D]   rows [0, D) project queries, [D, 2D) keys, [2D, 3D) values
//   in_proj_bias   [3D]
//   out_proj.weight [D, D], out_proj.bias [D]
// Self-attention then projects Q, K and V in ONE GEMM (x · in_proj_weightᵀ); cross-attention in
// two (queries from the query rows of the weight, keys and values from the other 2D rows).
// With fused_qkv = false the projections are three Linear modules q_proj, k_proj, v_proj
// (fairseq's names).
//
// Incremental decoding (under NoGradGuard) uses a KVCache per attention module:
//   self-attention:  each step's new keys/values are appended to [B, H, capacity, d_h] buffers
//                    that grow geometrically, so a step costs O(length) and never re-copies the
//                    history; the step's queries attend to the whole buffer with the unused
//                    tail masked (exactly zero weight).
//   cross-attention: the memory's keys and values are projected on the first step and reused.
// KVCache::select reorders rows for beam search.
#pragma once

#include <memory>

#include "heed/nn/linear.h"
#include "heed/nn/module.h"
#include "heed/ops/attention.h"

namespace heed {

struct MultiHeadAttentionOptions {
  Index embed_dim = 0;    // D
  Index num_heads = 0;    // H; D % H == 0
  float dropout = 0.f;    // on the attention weights, training only
  bool bias = true;       // in_proj_bias and out_proj.bias
  bool fused_qkv = true;  // one [3D, D] in-projection (PyTorch) vs q_proj/k_proj/v_proj
};

struct MultiHeadAttentionOutput {
  Tensor output;   // [B, T, D]
  Tensor weights;  // [B, H, T, S] attention probabilities (before dropout); no gradient, and
                   // read by backward: do not modify in place
};

// Keys and values of one attention module for incremental decoding (no autograd).
class KVCache {
 public:
  enum class Kind {
    kSelf,   // grows by the new positions of every step
    kCross,  // holds the projected memory, set once
  };

  explicit KVCache(Kind kind = Kind::kSelf) : kind_(kind) {}

  Kind kind() const { return kind_; }
  bool empty() const { return length_ == 0; }
  Index rows() const { return keys_.defined() ? keys_.size(0) : 0; }  // B
  Index length() const { return length_; }                            // cached positions S
  Index capacity() const { return keys_.defined() ? keys_.size(2) : 0; }

  // Self: appends k, v [B, H, T, d_h] after the cached positions (B, H, d_h fixed after the
  // first call), doubling the capacity when it runs out.
  void append(const Tensor& k, const Tensor& v);
  // Cross: stores k, v [B, H, S, d_h] (capacity = length = S).
  void assign(const Tensor& k, const Tensor& v);
  // Keeps rows `rows` in that order; rows may repeat (a hypothesis splits into several beams).
  void select(const IntTensor& rows);
  void clear();

  // [B, H, capacity, d_h]; positions >= length() hold zeros.
  const Tensor& keys() const { return keys_; }
  const Tensor& values() const { return values_; }
  // [B, capacity], 1 at the unused positions >= length() (the attention key-padding mask).
  const Tensor& unused() const { return unused_; }

 private:
  void reserve(Index capacity);
  void mark_used(Index begin, Index end);

  Kind kind_;
  Tensor keys_, values_, unused_;
  Index length_ = 0;
};

class MultiHeadAttention : public Module {
 public:
  // `dropout_rng` (the model's shared dropout stream) is required when options.dropout > 0.
  MultiHeadAttention(const MultiHeadAttentionOptions& options, Rng& rng,
                     std::shared_ptr<Rng> dropout_rng = nullptr);

  // query [B, T, D], key and value [B, S, D] -> output [B, T, D], weights [B, H, T, S].
  // masks.key_padding [B, S] hides padded keys; masks.causal hides later positions.
  // With a cache (inference only): a kSelf cache appends this call's keys/values and attends
  // over everything cached (S = cached length; key_padding must be undefined); a kCross cache
  // projects key/value on its first use and afterwards ignores them (they may be undefined).
  MultiHeadAttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const AttentionMasks& masks = {},
                                   KVCache* cache = nullptr) const;

  // Fills a kCross cache with the projected keys and values of `memory` [B, S, D] (what the
  // first cached forward would do), so a decoder can start from any row order.
  void project_memory(const Tensor& memory, KVCache& cache) const;

  const MultiHeadAttentionOptions& options() const { return options_; }

  // fused_qkv: PyTorch's layout (see the top of the file).
  Tensor in_proj_weight_;  // [3D, D], Xavier uniform over the whole matrix (as PyTorch)
  Tensor in_proj_bias_;    // [3D], zeros; undefined without bias
  // !fused_qkv: separate projections [D, D].
  std::unique_ptr<Linear> q_proj_, k_proj_, v_proj_;
  Linear out_proj_;

 private:
  struct Projected {
    Tensor q, k, v;  // [B, H, T|S, d_h]
  };
  Projected project_self(const Tensor& x) const;
  Tensor project_query(const Tensor& query) const;
  std::pair<Tensor, Tensor> project_key_value(const Tensor& key, const Tensor& value) const;

  MultiHeadAttentionOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
};

}  // namespace heed
