// BiGruAttentionClassifier: the equations and parameter names are in models/classifiers.h.
#include "heed/tensor/special_ids.h"
#include "heed/models/classifiers.h"
#include "heed/util/check.h"
#include "models/classifier_inputs.h"

namespace heed {
namespace {

constexpr const char* kName = "BiGruAttentionClassifier";

const BiGruAttentionOptions& checked(const BiGruAttentionOptions& o) {
  CHECK(o.vocab > kPadId, kName, ": vocab must be > ", kPadId, " (got ", o.vocab, ")");
  CHECK(o.embedding_dim > 0 && o.hidden > 0 && o.attention_dim > 0, kName,
        ": embedding_dim, hidden and attention_dim must be > 0 (got ", o.embedding_dim, ", ",
        o.hidden, ", ", o.attention_dim, ")");
  CHECK(o.num_layers > 0, kName, ": num_layers must be > 0 (got ", o.num_layers, ")");
  CHECK(o.num_classes >= 2, kName, ": num_classes must be >= 2 (got ", o.num_classes, ")");
  detail::check_dropout(kName, "dropout", o.dropout);
  detail::check_token_inputs(kName, o);
  CHECK(o.pooling == ClassifierPooling::kAttention || o.pooling == ClassifierPooling::kAttentionMax,
        kName, ": pooling must be attention or attention_max");
  return o;
}

RnnOptions gru_options(const BiGruAttentionOptions& o) {
  RnnOptions r;
  r.input_size = o.embedding_dim;
  r.hidden_size = o.hidden;
  r.num_layers = o.num_layers;
  r.bidirectional = true;
  r.dropout = o.dropout;
  return r;
}

}  // namespace

BiGruAttentionClassifier::BiGruAttentionClassifier(const BiGruAttentionOptions& options,
                                                   std::uint64_t seed)
    : BiGruAttentionClassifier(checked(options), Rng(seed)) {}

BiGruAttentionClassifier::BiGruAttentionClassifier(const BiGruAttentionOptions& options, Rng rng)
    : options_(options),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      embedding_(
          {.num_embeddings = options.vocab, .dim = options.embedding_dim, .padding_idx = kPadId},
          rng),
      gru_(gru_options(options), rng, dropout_rng_),
      pooling_({2 * options.hidden, options.attention_dim}, rng),
      word_dropout_(options.word_dropout, dropout_rng_),
      embedding_dropout_(options.embedding_dropout, dropout_rng_),
      dropout_(options.dropout, dropout_rng_),
      classifier_({detail::pooled_size(options.pooling, 2 * options.hidden), options.num_classes,
                   true},
                  rng) {
  register_module("embedding", embedding_);
  register_module("gru", gru_);
  register_module("pooling", pooling_);
  register_module("word_dropout", word_dropout_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("dropout", dropout_);
  register_module("classifier", classifier_);
  ngram_embedding_ = detail::make_ngram_embedding(options, rng, dropout_rng_);
  if (ngram_embedding_) register_module("ngram_embedding", *ngram_embedding_);
}

ClassifierOutput BiGruAttentionClassifier::forward(const ClassifierBatch& batch,
                                                   bool return_attention) {
  detail::check_sequence_batch(kName, batch);
  const Index T = batch.ids.size(1);
  const Tensor x = detail::token_inputs(batch, batch.ids, word_dropout_, embedding_,
                                        ngram_embedding_.get(), embedding_dropout_);  // [B, T, E]
  const Tensor h = gru_.forward(x, batch.lengths).output;  // [B, T, 2H]
  Tensor weights;  // α [B, T]
  const Tensor pooled = detail::pool_sequence(options_.pooling, h, batch.lengths,
                                              detail::padding_mask(batch.lengths, T), &pooling_,
                                              weights);  // [B, 2H] or [B, 4H]
  ClassifierOutput out;
  out.logits = classifier_.forward(dropout_.forward(pooled));  // [B, C]
  if (return_attention) out.attention.push_back({"pooling", "pool", weights});
  return out;
}

}  // namespace heed
