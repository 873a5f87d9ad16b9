// Private: option and batch checks, masks and pooling shared by the classifiers
// (models/classifiers.h).
#pragma once

#include <memory>

#include "heed/models/classifiers.h"

namespace heed::detail {

// Checks that the dropout probability `name` of `model` is in [0, 1).
void check_dropout(const char* model, const char* name, float p);

// Checks a flat batch: ids [B, T] with B, T > 0 and lengths [B], each in [1, T]. Errors start
// with `model`.
void check_sequence_batch(const char* model, const ClassifierBatch& batch);

// Checks a document batch: ids [B, N, L], sentence_lengths [B, N], num_sentences [B] in [1, N];
// sentence n of document b has length in [1, L] if n < num_sentences[b], else 0.
void check_document_batch(const char* model, const ClassifierBatch& batch);

// The token inputs of the recurrent classifiers, which BiGruAttentionOptions and
// HierarchicalAttentionOptions name alike (embedding_dim, embedding_dropout, word_dropout,
// ngram_buckets, ngram_order, ngram_dim, ngram_dropout): written once for both.
//
// check_token_inputs: the dropouts in [0, 1), ngram_buckets 0 or >= 2, ngram_order >= 2,
// ngram_dim in [0, embedding_dim]. Errors start with `model`.
void check_token_inputs(const char* model, Index embedding_dim, float embedding_dropout,
                        float word_dropout, Index ngram_buckets, int ngram_order, Index ngram_dim,
                        float ngram_dropout);
template <typename Options>
void check_token_inputs(const char* model, const Options& o) {
  check_token_inputs(model, o.embedding_dim, o.embedding_dropout, o.word_dropout, o.ngram_buckets,
                     o.ngram_order, o.ngram_dim, o.ngram_dropout);
}

// The NgramEmbedding of the options (created from `rng`; its n-gram dropout draws from
// `dropout_rng`), or null when ngram_buckets is 0.
std::unique_ptr<NgramEmbedding> make_ngram_embedding(Index buckets, int order, Index table_dim,
                                                     Index dim, float dropout, Rng& rng,
                                                     std::shared_ptr<Rng> dropout_rng);
template <typename Options>
std::unique_ptr<NgramEmbedding> make_ngram_embedding(const Options& o, Rng& rng,
                                                     std::shared_ptr<Rng> dropout_rng) {
  return make_ngram_embedding(o.ngram_buckets, o.ngram_order, o.ngram_dim, o.embedding_dim,
                              o.ngram_dropout, rng, std::move(dropout_rng));
}

// The model's input x [..., T, E] for ids [..., T]: word dropout, the word embeddings plus the
// n-gram embeddings (when `ngrams` is not null), batch.perturb_embeddings (when set), then
// embedding dropout.
Tensor token_inputs(const ClassifierBatch& batch, const IntTensor& ids,
                    const WordDropout& word_dropout, const Embedding& words,
                    const NgramEmbedding* ngrams, const Dropout& embedding_dropout);

// The embeddings with batch.perturb_embeddings applied (unchanged when it is empty).
Tensor perturbed_embeddings(const ClassifierBatch& batch, const Tensor& embeddings);

// [B, T] key padding mask: 1 at t >= lengths[b] (lengths [B]).
Tensor padding_mask(const IntTensor& lengths, Index T);

// Features per example after `pooling` of D-dimensional outputs.
Index pooled_size(ClassifierPooling pooling, Index D);

// The SelfAttentionPooling (attention size A over D features) that `pooling` needs, or null.
std::unique_ptr<SelfAttentionPooling> make_attention_pooling(ClassifierPooling pooling, Index D,
                                                             Index A, Rng& rng);

// Pools h [B, T, D] over each example's real tokens (lengths [B], key_padding [B, T] from
// padding_mask) into [B, pooled_size(pooling, D)]. `attention`: make_attention_pooling's; its
// weights [B, T] are written to `weights` (left undefined by the other poolings).
Tensor pool_sequence(ClassifierPooling pooling, const Tensor& h, const IntTensor& lengths,
                     const Tensor& key_padding, SelfAttentionPooling* attention, Tensor& weights);

}  // namespace heed::detail
