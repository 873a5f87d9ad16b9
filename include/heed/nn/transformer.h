// Transformer encoder and decoder layers (Vaswani et al. 2017, §3.1), and their stacks.
//
//   post-norm (the paper, norm_first = false):       pre-norm (norm_first = true; Xiong et al.
//     x = norm1(x + SelfAttn(x))                       2020, "On Layer Normalization in the
//     x = norm2(x + CrossAttn(x, memory))  [decoder]   Transformer Architecture"):
//     x = norm3(x + FFN(x))                              x = x + SelfAttn(norm1(x))
//                                                        x = x + CrossAttn(norm2(x), memory)
//                                                        x = x + FFN(norm3(x))
//   FFN(x) = linear2(dropout(act(linear1(x)))), act = relu or gelu (§3.3); each sublayer's output
//   passes dropout (p = dropout) before the residual add (§5.4), and the attention weights get
//   the same p.
// (The encoder layer has no cross-attention, and its FFN norm is norm2.)
//
// Module and parameter names follow torch.nn.TransformerEncoderLayer / TransformerDecoderLayer
// (batch_first): self_attn.*, multihead_attn.* (cross-attention), linear1, linear2, norm1,
// norm2, norm3, so PyTorch weights load directly; TransformerEncoder / TransformerDecoder hold
// "layers.<i>" and an optional final "norm", as torch.nn.TransformerEncoder / Decoder do.
#pragma once

#include <memory>
#include <vector>

#include "heed/nn/dropout.h"
#include "heed/nn/layer_norm.h"
#include "heed/nn/linear.h"
#include "heed/nn/multi_head_attention.h"

namespace heed {

enum class Activation { kRelu, kGelu };

struct TransformerLayerOptions {
  Index d_model = 0;          // D
  Index num_heads = 0;        // H
  Index dim_feedforward = 0;  // F
  float dropout = 0.1f;
  Activation activation = Activation::kRelu;
  bool norm_first = false;  // pre-norm
  float layer_norm_eps = 1e-5f;
};

// The layer options of a model whose options name these fields alike (d_model, num_heads,
// dim_feedforward, dropout, activation, norm_first): the Transformer translation model and
// classifier.
template <typename ModelOptions>
TransformerLayerOptions transformer_layer_options(const ModelOptions& o) {
  return {.d_model = o.d_model,
          .num_heads = o.num_heads,
          .dim_feedforward = o.dim_feedforward,
          .dropout = o.dropout,
          .activation = o.activation,
          .norm_first = o.norm_first};
}

struct TransformerEncoderLayerOutput {
  Tensor output;          // [B, T, D]
  Tensor self_attention;  // [B, H, T, T]
};

class TransformerEncoderLayer : public Module {
 public:
  // `dropout_rng`: the model's dropout stream (required when dropout > 0).
  TransformerEncoderLayer(const TransformerLayerOptions& options, Rng& rng,
                          std::shared_ptr<Rng> dropout_rng = nullptr);
  // x [B, T, D]; key_padding [B, T] with 1 at padding, or undefined.
  TransformerEncoderLayerOutput forward(const Tensor& x, const Tensor& key_padding = {}) const;

  const TransformerLayerOptions& options() const { return options_; }

  MultiHeadAttention self_attn_;
  Linear linear1_;  // [F, D]
  Linear linear2_;  // [D, F]
  LayerNorm norm1_, norm2_;

 private:
  Tensor feed_forward(const Tensor& x) const;

  TransformerLayerOptions options_;
  Dropout dropout_, dropout1_, dropout2_;
};

// Per-layer state for incremental decoding: the self-attention keys/values so far and the
// projected memory.
struct TransformerDecoderLayerCache {
  KVCache self_attn{KVCache::Kind::kSelf};
  KVCache cross_attn{KVCache::Kind::kCross};
  void select(const IntTensor& rows) {
    self_attn.select(rows);
    cross_attn.select(rows);
  }
};

struct TransformerDecoderMasks {
  Tensor tgt_key_padding;     // [B, T], 1 at padding (not needed with causal: pads come last)
  Tensor memory_key_padding;  // [B, S], 1 at source padding
  bool causal = true;         // position t sees targets <= t only (§3.2.3)
};

struct TransformerDecoderLayerOutput {
  Tensor output;           // [B, T, D]
  Tensor self_attention;   // [B, H, T, T] (T = cached length with a cache)
  Tensor cross_attention;  // [B, H, T, S]
};

class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(const TransformerLayerOptions& options, Rng& rng,
                          std::shared_ptr<Rng> dropout_rng = nullptr);
  // x [B, T, D] (target states), memory [B, S, D] (encoder output). With a cache (inference):
  // x holds the new positions only, and memory may be undefined once cache->cross_attn is set
  // (see prepare_cache).
  TransformerDecoderLayerOutput forward(const Tensor& x, const Tensor& memory,
                                        const TransformerDecoderMasks& masks = {},
                                        TransformerDecoderLayerCache* cache = nullptr) const;
  // Projects memory into cache.cross_attn.
  void prepare_cache(const Tensor& memory, TransformerDecoderLayerCache& cache) const;

  const TransformerLayerOptions& options() const { return options_; }

  MultiHeadAttention self_attn_;
  MultiHeadAttention multihead_attn_;  // cross-attention (PyTorch's name)
  Linear linear1_, linear2_;
  LayerNorm norm1_, norm2_, norm3_;

 private:
  Tensor feed_forward(const Tensor& x) const;

  TransformerLayerOptions options_;
  Dropout dropout_, dropout1_, dropout2_, dropout3_;
};

// ------------------------------------------------------------------------------------- stacks

struct TransformerEncoderOutput {
  Tensor output;                       // [B, T, D]
  std::vector<Tensor> self_attention;  // per layer [B, H, T, T] (if asked)
};

// N encoder layers and, if final_norm, a LayerNorm on the output (needed with pre-norm layers,
// whose residual stream is otherwise never normalized).
class TransformerEncoder : public Module {
 public:
  TransformerEncoder(const TransformerLayerOptions& options, int num_layers, bool final_norm,
                     Rng& rng, std::shared_ptr<Rng> dropout_rng = nullptr);
  TransformerEncoderOutput forward(const Tensor& x, const Tensor& key_padding = {},
                                   bool return_attention = false) const;

  ModuleList<TransformerEncoderLayer> layers_;
  std::unique_ptr<LayerNorm> norm_;  // null without final_norm
};

struct TransformerDecoderOutput {
  Tensor output;                        // [B, T, D]
  std::vector<Tensor> self_attention;   // per layer [B, H, T, T] (if asked)
  std::vector<Tensor> cross_attention;  // per layer [B, H, T, S] (if asked)
  Tensor last_cross_attention;          // the last layer's [B, H, T, S], always (for decoding)
};

class TransformerDecoder : public Module {
 public:
  TransformerDecoder(const TransformerLayerOptions& options, int num_layers, bool final_norm,
                     Rng& rng, std::shared_ptr<Rng> dropout_rng = nullptr);
  // caches: one per layer (inference), or null.
  TransformerDecoderOutput forward(const Tensor& x, const Tensor& memory,
                                   const TransformerDecoderMasks& masks = {},
                                   std::vector<TransformerDecoderLayerCache>* caches = nullptr,
                                   bool return_attention = false) const;
  // One cache per layer with the projected memory.
  std::vector<TransformerDecoderLayerCache> make_caches(const Tensor& memory) const;

  ModuleList<TransformerDecoderLayer> layers_;
  std::unique_ptr<LayerNorm> norm_;
};

}  // namespace heed
