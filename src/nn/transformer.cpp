// Transformer layers and stacks; the equations are in include/heed/nn/transformer.h.
#include "heed/nn/transformer.h"

#include "heed/ops/elementwise.h"
#include "heed/util/check.h"

namespace heed {
namespace {

const TransformerLayerOptions& checked(const TransformerLayerOptions& o, const char* layer) {
  CHECK(o.d_model > 0 && o.num_heads > 0 && o.dim_feedforward > 0, layer,
        ": d_model, num_heads and dim_feedforward must be > 0 (got ", o.d_model, ", ", o.num_heads,
        ", ", o.dim_feedforward, ")");
  return o;
}

MultiHeadAttentionOptions attention_options(const TransformerLayerOptions& o) {
  MultiHeadAttentionOptions a;
  a.embed_dim = o.d_model;
  a.num_heads = o.num_heads;
  a.dropout = o.dropout;
  return a;
}

Tensor activate(const Tensor& x, Activation activation) {
  return activation == Activation::kGelu ? gelu(x) : relu(x);
}

}  // namespace

// ------------------------------------------------------------------------------ encoder layer

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerLayerOptions& options, Rng& rng,
                                                 std::shared_ptr<Rng> dropout_rng)
    : self_attn_(attention_options(checked(options, "TransformerEncoderLayer")), rng, dropout_rng),
      linear1_({options.d_model, options.dim_feedforward}, rng),
      linear2_({options.dim_feedforward, options.d_model}, rng),
      norm1_({options.d_model, options.layer_norm_eps}),
      norm2_({options.d_model, options.layer_norm_eps}),
      options_(options),
      dropout_(options.dropout, dropout_rng),
      dropout1_(options.dropout, dropout_rng),
      dropout2_(options.dropout, dropout_rng) {
  register_module("self_attn", self_attn_);
  register_module("linear1", linear1_);
  register_module("dropout", dropout_);
  register_module("linear2", linear2_);
  register_module("norm1", norm1_);
  register_module("norm2", norm2_);
  register_module("dropout1", dropout1_);
  register_module("dropout2", dropout2_);
}

Tensor TransformerEncoderLayer::feed_forward(const Tensor& x) const {
  return linear2_.forward(dropout_.forward(activate(linear1_.forward(x), options_.activation)));
}

TransformerEncoderLayerOutput TransformerEncoderLayer::forward(const Tensor& x,
                                                               const Tensor& key_padding) const {
  const AttentionMasks masks{key_padding, false};
  if (options_.norm_first) {
    const Tensor h = norm1_.forward(x);
    MultiHeadAttentionOutput sa = self_attn_.forward(h, h, h, masks);
    Tensor y = x + dropout1_.forward(sa.output);
    y = y + dropout2_.forward(feed_forward(norm2_.forward(y)));
    return {y, sa.weights};
  }
  MultiHeadAttentionOutput sa = self_attn_.forward(x, x, x, masks);
  Tensor y = norm1_.forward(x + dropout1_.forward(sa.output));
  y = norm2_.forward(y + dropout2_.forward(feed_forward(y)));
  return {y, sa.weights};
}

// ------------------------------------------------------------------------------ decoder layer

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerLayerOptions& options, Rng& rng,
                                                 std::shared_ptr<Rng> dropout_rng)
    : self_attn_(attention_options(checked(options, "TransformerDecoderLayer")), rng, dropout_rng),
      multihead_attn_(attention_options(options), rng, dropout_rng),
      linear1_({options.d_model, options.dim_feedforward}, rng),
      linear2_({options.dim_feedforward, options.d_model}, rng),
      norm1_({options.d_model, options.layer_norm_eps}),
      norm2_({options.d_model, options.layer_norm_eps}),
      norm3_({options.d_model, options.layer_norm_eps}),
      options_(options),
      dropout_(options.dropout, dropout_rng),
      dropout1_(options.dropout, dropout_rng),
      dropout2_(options.dropout, dropout_rng),
      dropout3_(options.dropout, dropout_rng) {
  register_module("self_attn", self_attn_);
  register_module("multihead_attn", multihead_attn_);
  register_module("linear1", linear1_);
  register_module("dropout", dropout_);
  register_module("linear2", linear2_);
  register_module("norm1", norm1_);
  register_module("norm2", norm2_);
  register_module("norm3", norm3_);
  register_module("dropout1", dropout1_);
  register_module("dropout2", dropout2_);
  register_module("dropout3", dropout3_);
}

Tensor TransformerDecoderLayer::feed_forward(const Tensor& x) const {
  return linear2_.forward(dropout_.forward(activate(linear1_.forward(x), options_.activation)));
}

void TransformerDecoderLayer::prepare_cache(const Tensor& memory,
                                            TransformerDecoderLayerCache& cache) const {
  multihead_attn_.project_memory(memory, cache.cross_attn);
}

TransformerDecoderLayerOutput TransformerDecoderLayer::forward(
    const Tensor& x, const Tensor& memory, const TransformerDecoderMasks& masks,
    TransformerDecoderLayerCache* cache) const {
  const AttentionMasks self_masks{masks.tgt_key_padding, masks.causal};
  const AttentionMasks cross_masks{masks.memory_key_padding, false};
  KVCache* self_cache = cache ? &cache->self_attn : nullptr;
  KVCache* cross_cache = cache ? &cache->cross_attn : nullptr;
  if (options_.norm_first) {
    Tensor h = norm1_.forward(x);
    MultiHeadAttentionOutput sa = self_attn_.forward(h, h, h, self_masks, self_cache);
    Tensor y = x + dropout1_.forward(sa.output);
    h = norm2_.forward(y);
    MultiHeadAttentionOutput ca =
        multihead_attn_.forward(h, memory, memory, cross_masks, cross_cache);
    y = y + dropout2_.forward(ca.output);
    y = y + dropout3_.forward(feed_forward(norm3_.forward(y)));
    return {y, sa.weights, ca.weights};
  }
  MultiHeadAttentionOutput sa = self_attn_.forward(x, x, x, self_masks, self_cache);
  Tensor y = norm1_.forward(x + dropout1_.forward(sa.output));
  MultiHeadAttentionOutput ca =
      multihead_attn_.forward(y, memory, memory, cross_masks, cross_cache);
  y = norm2_.forward(y + dropout2_.forward(ca.output));
  y = norm3_.forward(y + dropout3_.forward(feed_forward(y)));
  return {y, sa.weights, ca.weights};
}

// ------------------------------------------------------------------------------------- stacks

TransformerEncoder::TransformerEncoder(const TransformerLayerOptions& options, int num_layers,
                                       bool final_norm, Rng& rng,
                                       std::shared_ptr<Rng> dropout_rng) {
  CHECK(num_layers > 0, "TransformerEncoder: num_layers must be > 0 (got ", num_layers, ")");
  register_module("layers", layers_);
  for (int i = 0; i < num_layers; ++i) layers_.emplace_back(options, rng, dropout_rng);
  if (final_norm) {
    norm_ = std::make_unique<LayerNorm>(LayerNormOptions{options.d_model, options.layer_norm_eps});
    register_module("norm", *norm_);
  }
}

TransformerEncoderOutput TransformerEncoder::forward(const Tensor& x, const Tensor& key_padding,
                                                     bool return_attention) const {
  TransformerEncoderOutput out{x, {}};
  for (size_t i = 0; i < layers_.size(); ++i) {
    TransformerEncoderLayerOutput l = layers_[i].forward(out.output, key_padding);
    out.output = l.output;
    if (return_attention) out.self_attention.push_back(l.self_attention);
  }
  if (norm_) out.output = norm_->forward(out.output);
  return out;
}

TransformerDecoder::TransformerDecoder(const TransformerLayerOptions& options, int num_layers,
                                       bool final_norm, Rng& rng,
                                       std::shared_ptr<Rng> dropout_rng) {
  CHECK(num_layers > 0, "TransformerDecoder: num_layers must be > 0 (got ", num_layers, ")");
  register_module("layers", layers_);
  for (int i = 0; i < num_layers; ++i) layers_.emplace_back(options, rng, dropout_rng);
  if (final_norm) {
    norm_ = std::make_unique<LayerNorm>(LayerNormOptions{options.d_model, options.layer_norm_eps});
    register_module("norm", *norm_);
  }
}

std::vector<TransformerDecoderLayerCache> TransformerDecoder::make_caches(
    const Tensor& memory) const {
  std::vector<TransformerDecoderLayerCache> caches(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) layers_[i].prepare_cache(memory, caches[i]);
  return caches;
}

TransformerDecoderOutput TransformerDecoder::forward(
    const Tensor& x, const Tensor& memory, const TransformerDecoderMasks& masks,
    std::vector<TransformerDecoderLayerCache>* caches, bool return_attention) const {
  CHECK(caches == nullptr || caches->size() == layers_.size(),
        "TransformerDecoder: ", caches ? caches->size() : 0, " caches for ", layers_.size(),
        " layers");
  TransformerDecoderOutput out{x, {}, {}, {}};
  for (size_t i = 0; i < layers_.size(); ++i) {
    TransformerDecoderLayerOutput l =
        layers_[i].forward(out.output, memory, masks, caches ? &(*caches)[i] : nullptr);
    out.output = l.output;
    if (return_attention) {
      out.self_attention.push_back(l.self_attention);
      out.cross_attention.push_back(l.cross_attention);
    }
    out.last_cross_attention = l.cross_attention;
  }
  if (norm_) out.output = norm_->forward(out.output);
  return out;
}

}  // namespace heed
