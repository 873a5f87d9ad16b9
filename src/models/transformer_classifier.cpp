// TransformerClassifier: the equations and parameter names are in models/classifiers.h.
//
//   x = dropout(embedding(ids)·√D + PE[0:T])                                  [B, T, D]
//   h = EncoderLayer_N(...EncoderLayer_1(x)) (+ final LayerNorm if pre-norm)   padding keys masked
//   pooled = pool_sequence(h) (ClassifierPooling: mean, first, max, attention, attention_max)
//                                                                             [B, D] or [B, 2D]
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
  detail::check_dropout(kName, "word_dropout", o.word_dropout);
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

}  // namespace

TransformerClassifier::TransformerClassifier(const TransformerClassifierOptions& options,
                                             std::uint64_t seed)
    : TransformerClassifier(checked(options), Rng(seed)) {}

TransformerClassifier::TransformerClassifier(const TransformerClassifierOptions& options, Rng rng)
    : options_(options),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      embedding_(embedding_options(options), rng),
      positional_({PositionalKind::kSinusoidal, options.max_len, options.d_model}, rng),
      word_dropout_(options.word_dropout, dropout_rng_),
      embedding_dropout_(options.dropout, dropout_rng_),
      encoder_(transformer_layer_options(options), options.num_layers, options.norm_first, rng,
               dropout_rng_),
      pooling_(detail::make_attention_pooling(options.pooling, options.d_model, options.d_model,
                                              rng)),
      classifier_({detail::pooled_size(options.pooling, options.d_model), options.num_classes,
                   true},
                  rng) {
  register_module("embedding", embedding_);
  register_module("positional", positional_);
  register_module("word_dropout", word_dropout_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("encoder", encoder_);
  if (pooling_) register_module("pooling", *pooling_);
  register_module("classifier", classifier_);
}

ClassifierOutput TransformerClassifier::forward(const ClassifierBatch& batch,
                                                bool return_attention) {
  detail::check_sequence_batch(kName, batch);
  const Index T = batch.ids.size(1);
  CHECK(T <= options_.max_len, kName, ": sequence length ", T, " exceeds max_len ",
        options_.max_len);
  const Tensor key_padding = detail::padding_mask(batch.lengths, T);  // [B, T]
  const Tensor x = embedding_dropout_.forward(positional_.forward(detail::perturbed_embeddings(
      batch, embedding_.forward(word_dropout_.forward(batch.ids)))));
  TransformerEncoderOutput encoded = encoder_.forward(x, key_padding, return_attention);
  Tensor pooling_weights;
  const Tensor pooled = detail::pool_sequence(options_.pooling, encoded.output, batch.lengths,
                                              key_padding, pooling_.get(), pooling_weights);
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
