// TransformerClassifier: the equations and parameter names are in models/classifiers.h.
//
//   x = dropout(embedding(ids)·√D + PE[0:T])                                  [B, T, D]
//   h = EncoderLayer_N(...EncoderLayer_1(x)) (+ final LayerNorm if pre-norm)   padding keys masked
//   pooled = Σ_t w_t h_t with w = 1/length_b on real tokens (mean), one-hot at t = 0 (first),
//            or the SelfAttentionPooling weights (attention)                  [B, D]
//   logits = pooled · W_cᵀ + b_c                                              [B, C]
#include <string>

#include "heed/tensor/special_ids.h"
#include "heed/models/classifiers.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "models/classifier_inputs.h"

namespace heed {
namespace {

constexpr const char* kName = "TransformerClassifier";

const TransformerClassifierOptions& checked(const TransformerClassifierOptions& o) {
  CHECK(o.vocab > kPadId, kName, ": vocab must be > ", kPadId, " (got ", o.vocab, ")");
  CHECK(o.d_model > 0 && o.num_heads > 0 && o.dim_feedforward > 0, kName,
        ": d_model, num_heads and dim_feedforward must be > 0 (got ", o.d_model, ", ", o.num_heads,
        ", ", o.dim_feedforward, ")");
  CHECK(o.num_layers > 0, kName, ": num_layers must be > 0 (got ", o.num_layers, ")");
  CHECK(o.num_classes >= 2, kName, ": num_classes must be >= 2 (got ", o.num_classes, ")");
  CHECK(o.max_len > 0, kName, ": max_len must be > 0 (got ", o.max_len, ")");
  detail::check_dropout(kName, "dropout", o.dropout);
  return o;
}

EmbeddingOptions embedding_options(const TransformerClassifierOptions& o) {
  EmbeddingOptions e;
  e.num_embeddings = o.vocab;
  e.dim = o.d_model;
  e.padding_idx = kPadId;
  e.scale_by_sqrt_dim = true;  // Vaswani et al. 2017, §3.4
  return e;
}

TransformerLayerOptions layer_options(const TransformerClassifierOptions& o) {
  TransformerLayerOptions l;
  l.d_model = o.d_model;
  l.num_heads = o.num_heads;
  l.dim_feedforward = o.dim_feedforward;
  l.dropout = o.dropout;
  l.activation = o.activation;
  l.norm_first = o.norm_first;
  return l;
}

// Mean-pooling weights [B, 1, T]: 1/lengths[b] on the real tokens, 0 on padding.
Tensor mean_weights(const IntTensor& lengths, Index T) {
  const Index B = lengths.numel();
  Tensor w = Tensor::empty(Shape{B, 1, T});
  for (Index b = 0; b < B; ++b) {
    const std::int32_t n = lengths.data()[b];
    for (Index t = 0; t < T; ++t) w.data()[b * T + t] = t < n ? 1.f / static_cast<float>(n) : 0.f;
  }
  return w;
}

}  // namespace

TransformerClassifier::TransformerClassifier(const TransformerClassifierOptions& options,
                                             std::uint64_t seed)
    : TransformerClassifier(checked(options), Rng(seed)) {}

TransformerClassifier::TransformerClassifier(const TransformerClassifierOptions& options, Rng rng)
    : options_(options),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      embedding_(embedding_options(options), rng),
      positional_({PositionalKind::kSinusoidal, options.max_len, options.d_model}, rng),
      embedding_dropout_(options.dropout, dropout_rng_),
      encoder_(layer_options(options), options.num_layers, options.norm_first, rng, dropout_rng_),
      pooling_(options.pooling == ClassifierPooling::kAttention
                   ? std::make_unique<SelfAttentionPooling>(
                         SelfAttentionPoolingOptions{options.d_model, options.d_model}, rng)
                   : nullptr),
      classifier_({options.d_model, options.num_classes, true}, rng) {
  register_module("embedding", embedding_);
  register_module("positional", positional_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("encoder", encoder_);
  if (pooling_) register_module("pooling", *pooling_);
  register_module("classifier", classifier_);
}

Tensor TransformerClassifier::pool(const Tensor& h, const IntTensor& lengths,
                                   const Tensor& key_padding, Tensor& weights) const {
  const Index B = h.size(0), T = h.size(1), D = h.size(2);
  switch (options_.pooling) {
    case ClassifierPooling::kMean:
      // One batched GEMM [B, 1, T] · [B, T, D]: the masked sum and the division at once.
      return reshape(matmul(mean_weights(lengths, T), h), Shape{B, D});
    case ClassifierPooling::kFirst:
      return reshape(slice(h, 1, 0, 1), Shape{B, D});
    case ClassifierPooling::kAttention: {
      AttentionPoolingOutput pooled = pooling_->forward(h, key_padding);
      weights = pooled.weights;
      return pooled.pooled;
    }
  }
  CHECK(false, kName, ": unknown pooling");
  return Tensor();
}

ClassifierOutput TransformerClassifier::forward(const ClassifierBatch& batch,
                                                bool return_attention) {
  detail::check_sequence_batch(kName, batch);
  const Index T = batch.ids.size(1);
  CHECK(T <= options_.max_len, kName, ": sequence length ", T, " exceeds max_len ",
        options_.max_len);
  const Tensor key_padding = detail::padding_mask(batch.lengths, T);  // [B, T]
  const Tensor x = embedding_dropout_.forward(positional_.forward(embedding_.forward(batch.ids)));
  TransformerEncoderOutput encoded = encoder_.forward(x, key_padding, return_attention);
  Tensor pooling_weights;
  const Tensor pooled = pool(encoded.output, batch.lengths, key_padding, pooling_weights);
  ClassifierOutput out;
  out.logits = classifier_.forward(pooled);
  if (return_attention) {
    for (size_t i = 0; i < encoded.self_attention.size(); ++i)
      out.attention.push_back({"encoder.layers." + std::to_string(i) + ".self_attn", "self",
                               encoded.self_attention[i]});
    if (pooling_weights.defined()) out.attention.push_back({"pooling", "pool", pooling_weights});
  }
  return out;
}

}  // namespace heed
