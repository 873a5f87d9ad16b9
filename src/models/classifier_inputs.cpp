#include "models/classifier_inputs.h"

#include <limits>

#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"

namespace heed::detail {

void check_dropout(const char* model, const char* name, float p) {
  CHECK(p >= 0.f && p < 1.f, model, ": ", name, " must be in [0, 1) (got ", p, ")");
}

void check_sequence_batch(const char* model, const ClassifierBatch& batch) {
  const IntTensor& ids = batch.ids;
  CHECK(ids.defined() && ids.ndim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, model,
        ": ids must be a non-empty [B, T] (got ",
        ids.defined() ? ids.shape().to_string() : "undefined", ")");
  const Index B = ids.size(0), T = ids.size(1);
  CHECK(batch.lengths.defined() && batch.lengths.shape() == Shape{B}, model,
        ": lengths must be [B] = [", B, "] (got ",
        batch.lengths.defined() ? batch.lengths.shape().to_string() : "undefined", ")");
  for (Index b = 0; b < B; ++b) {
    const std::int32_t n = batch.lengths.data()[b];
    CHECK(n >= 1 && n <= T, model, ": lengths[", b, "] = ", n, " is outside [1, T=", T, "]");
  }
}

void check_document_batch(const char* model, const ClassifierBatch& batch) {
  const IntTensor& ids = batch.ids;
  CHECK(ids.defined() && ids.ndim() == 3 && ids.numel() > 0, model,
        ": ids must be a non-empty [B, N, L] (got ",
        ids.defined() ? ids.shape().to_string() : "undefined", ")");
  const Index B = ids.size(0), N = ids.size(1), L = ids.size(2);
  CHECK(batch.sentence_lengths.defined() && batch.sentence_lengths.shape() == (Shape{B, N}), model,
        ": sentence_lengths must be [B, N] = ", Shape{B, N}, " (got ",
        batch.sentence_lengths.defined() ? batch.sentence_lengths.shape().to_string() : "undefined",
        ")");
  CHECK(batch.num_sentences.defined() && batch.num_sentences.shape() == Shape{B}, model,
        ": num_sentences must be [B] = [", B, "] (got ",
        batch.num_sentences.defined() ? batch.num_sentences.shape().to_string() : "undefined", ")");
  for (Index b = 0; b < B; ++b) {
    const std::int32_t count = batch.num_sentences.data()[b];
    CHECK(count >= 1 && count <= N, model, ": num_sentences[", b, "] = ", count,
          " is outside [1, N=", N, "]");
    for (Index n = 0; n < N; ++n) {
      const std::int32_t length = batch.sentence_lengths.data()[b * N + n];
      if (n < count) {
        CHECK(length >= 1 && length <= L, model, ": sentence_lengths[", b, ", ", n, "] = ", length,
              " is outside [1, L=", L, "] for a real sentence (num_sentences[", b, "] = ", count,
              ")");
      } else {
        CHECK(length == 0, model, ": sentence_lengths[", b, ", ", n, "] = ", length,
              " for a padding sentence (num_sentences[", b, "] = ", count, ") must be 0");
      }
    }
  }
}

void check_token_inputs(const char* model, Index embedding_dim, float embedding_dropout,
                        float word_dropout, Index ngram_buckets, int ngram_order, Index ngram_dim,
                        float ngram_dropout) {
  check_dropout(model, "embedding_dropout", embedding_dropout);
  check_dropout(model, "word_dropout", word_dropout);
  check_dropout(model, "ngram_dropout", ngram_dropout);
  CHECK(ngram_buckets == 0 || ngram_buckets >= 2, model,
        ": ngram_buckets must be 0 (none) or >= 2 (got ", ngram_buckets, ")");
  CHECK(ngram_order >= 2, model, ": ngram_order must be >= 2 (got ", ngram_order, ")");
  CHECK(ngram_dim >= 0 && ngram_dim <= embedding_dim, model,
        ": ngram_dim must be in [0, embedding_dim = ", embedding_dim, "] (got ", ngram_dim, ")");
}

std::unique_ptr<NgramEmbedding> make_ngram_embedding(Index buckets, int order, Index table_dim,
                                                     Index dim, float dropout, Rng& rng,
                                                     std::shared_ptr<Rng> dropout_rng) {
  if (buckets == 0) return nullptr;
  return std::make_unique<NgramEmbedding>(NgramEmbeddingOptions{.buckets = buckets,
                                                                .dim = dim,
                                                                .max_order = order,
                                                                .table_dim = table_dim,
                                                                .dropout = dropout},
                                          rng, std::move(dropout_rng));
}

Tensor token_inputs(const ClassifierBatch& batch, const IntTensor& ids,
                    const WordDropout& word_dropout, const Embedding& words,
                    const NgramEmbedding* ngrams, const Dropout& embedding_dropout) {
  const IntTensor kept = word_dropout.forward(ids);
  Tensor x = words.forward(kept);
  if (ngrams) x = add(x, ngrams->forward(kept));
  return embedding_dropout.forward(perturbed_embeddings(batch, x));
}

Tensor perturbed_embeddings(const ClassifierBatch& batch, const Tensor& embeddings) {
  return batch.perturb_embeddings ? batch.perturb_embeddings(embeddings) : embeddings;
}

Tensor padding_mask(const IntTensor& lengths, Index T) {
  const Index B = lengths.numel();
  Tensor mask = Tensor::empty(Shape{B, T});
  float* m = mask.data();
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T; ++t) m[b * T + t] = t >= lengths.data()[b] ? 1.f : 0.f;
  return mask;
}

namespace {

bool uses_attention(ClassifierPooling pooling) {
  return pooling == ClassifierPooling::kAttention || pooling == ClassifierPooling::kAttentionMax;
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

// Element-wise max over the real tokens: padding is filled with the lowest float first, so the
// max (and its gradient) always lands on a real token (lengths >= 1).
Tensor max_over_tokens(const Tensor& h, const Tensor& key_padding) {
  const Index B = h.size(0), T = h.size(1);
  return max(masked_fill(h, reshape(key_padding, Shape{B, T, 1}),
                         std::numeric_limits<float>::lowest()),
             1);
}

}  // namespace

Index pooled_size(ClassifierPooling pooling, Index D) {
  return pooling == ClassifierPooling::kAttentionMax ? 2 * D : D;
}

std::unique_ptr<SelfAttentionPooling> make_attention_pooling(ClassifierPooling pooling, Index D,
                                                             Index A, Rng& rng) {
  if (!uses_attention(pooling)) return nullptr;
  return std::make_unique<SelfAttentionPooling>(SelfAttentionPoolingOptions{D, A}, rng);
}

Tensor pool_sequence(ClassifierPooling pooling, const Tensor& h, const IntTensor& lengths,
                     const Tensor& key_padding, SelfAttentionPooling* attention, Tensor& weights) {
  const Index B = h.size(0), T = h.size(1), D = h.size(2);
  CHECK(!uses_attention(pooling) || attention != nullptr,
        "pool_sequence: attention pooling needs its SelfAttentionPooling");
  switch (pooling) {
    case ClassifierPooling::kMean:
      // One batched GEMM [B, 1, T] · [B, T, D]: the masked sum and the division at once.
      return reshape(matmul(mean_weights(lengths, T), h), Shape{B, D});
    case ClassifierPooling::kFirst:
      return reshape(slice(h, 1, 0, 1), Shape{B, D});
    case ClassifierPooling::kMax:
      return max_over_tokens(h, key_padding);
    case ClassifierPooling::kAttention:
    case ClassifierPooling::kAttentionMax: {
      AttentionPoolingOutput pooled = attention->forward(h, key_padding);
      weights = pooled.weights;
      if (pooling == ClassifierPooling::kAttention) return pooled.pooled;
      return concat({pooled.pooled, max_over_tokens(h, key_padding)}, 1);
    }
  }
  CHECK(false, "pool_sequence: unknown pooling");
  return Tensor();
}

}  // namespace heed::detail
