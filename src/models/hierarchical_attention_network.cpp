// HierarchicalAttentionNetwork (Yang et al. 2016, §2): the equations and parameter names are in
// models/classifiers.h.
//
//   word level      x_it = embedding(w_it);  h_it = biGRU_w(x_i)_t             per sentence i
//                   s_i  = Σ_t α_it h_it,    α_i = softmax_t(u_wᵀ tanh(W_w h_it + b_w))
//   sentence level  h_i  = biGRU_s(s)_i;     v = Σ_i α_i h_i,  α = softmax_i(u_sᵀ tanh(W_s h_i +
//   b_s)) output          logits = W_c · dropout(v) + b_c
#include <algorithm>
#include <vector>

#include "heed/tensor/special_ids.h"
#include "heed/models/classifiers.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/check.h"
#include "models/classifier_inputs.h"

namespace heed {
namespace {

constexpr const char* kName = "HierarchicalAttentionNetwork";

const HierarchicalAttentionOptions& checked(const HierarchicalAttentionOptions& o) {
  CHECK(o.vocab > kPadId, kName, ": vocab must be > ", kPadId, " (got ", o.vocab, ")");
  CHECK(o.embedding_dim > 0 && o.word_hidden > 0 && o.sentence_hidden > 0, kName,
        ": embedding_dim, word_hidden and sentence_hidden must be > 0 (got ", o.embedding_dim, ", ",
        o.word_hidden, ", ", o.sentence_hidden, ")");
  CHECK(o.word_attention_dim > 0 && o.sentence_attention_dim > 0, kName,
        ": word_attention_dim and sentence_attention_dim must be > 0 (got ", o.word_attention_dim,
        ", ", o.sentence_attention_dim, ")");
  CHECK(o.num_classes >= 2, kName, ": num_classes must be >= 2 (got ", o.num_classes, ")");
  detail::check_dropout(kName, "dropout", o.dropout);
  detail::check_token_inputs(kName, o);
  return o;
}

RnnOptions bigru_options(Index input_size, Index hidden_size) {
  RnnOptions r;
  r.input_size = input_size;
  r.hidden_size = hidden_size;
  r.bidirectional = true;
  return r;
}

// The real sentences of a document batch, gathered into one batch of sentences.
struct Sentences {
  IntTensor ids;       // [M, L'], L' = the longest sentence
  IntTensor lengths;   // [M]
  IntTensor slot_row;  // [B·N]: the row of slot (b, n) in `ids`, or M for a padding sentence
};

Sentences gather_sentences(const ClassifierBatch& batch) {
  const Index B = batch.ids.size(0), N = batch.ids.size(1), L = batch.ids.size(2);
  const std::int32_t* length = batch.sentence_lengths.data();
  Index M = 0, longest = 0;
  for (Index slot = 0; slot < B * N; ++slot) {
    if (length[slot] == 0) continue;
    ++M;
    longest = std::max<Index>(longest, length[slot]);
  }
  Sentences s;
  s.ids = IntTensor(Shape{M, longest}, kPadId);
  s.lengths = IntTensor(Shape{M});
  s.slot_row = IntTensor(Shape{B * N});
  Index row = 0;
  for (Index slot = 0; slot < B * N; ++slot) {
    if (length[slot] == 0) {
      s.slot_row.data()[slot] = static_cast<std::int32_t>(M);
      continue;
    }
    std::copy_n(batch.ids.data() + slot * L, length[slot], s.ids.data() + row * longest);
    s.lengths.data()[row] = length[slot];
    s.slot_row.data()[slot] = static_cast<std::int32_t>(row++);
  }
  return s;
}

// Word attention [M, L'] spread out to [B, N, L] (zeros for padding sentences and positions).
Tensor scatter_word_attention(const Tensor& weights, const Sentences& s, const Shape& ids_shape) {
  const Index M = weights.size(0), longest = weights.size(1), L = ids_shape[2];
  Tensor out = Tensor::zeros(ids_shape);
  for (Index slot = 0; slot < s.slot_row.numel(); ++slot) {
    const Index row = s.slot_row.data()[slot];
    if (row == M) continue;
    std::copy_n(weights.data() + row * longest, longest, out.data() + slot * L);
  }
  return out;
}

}  // namespace

HierarchicalAttentionNetwork::HierarchicalAttentionNetwork(
    const HierarchicalAttentionOptions& options, std::uint64_t seed)
    : HierarchicalAttentionNetwork(checked(options), Rng(seed)) {}

HierarchicalAttentionNetwork::HierarchicalAttentionNetwork(
    const HierarchicalAttentionOptions& options, Rng rng)
    : options_(options),
      dropout_rng_(std::make_shared<Rng>(rng.fork())),
      embedding_(
          {.num_embeddings = options.vocab, .dim = options.embedding_dim, .padding_idx = kPadId},
          rng),
      word_encoder_(bigru_options(options.embedding_dim, options.word_hidden), rng),
      word_attention_({2 * options.word_hidden, options.word_attention_dim}, rng),
      sentence_encoder_(bigru_options(2 * options.word_hidden, options.sentence_hidden), rng),
      sentence_attention_({2 * options.sentence_hidden, options.sentence_attention_dim}, rng),
      word_dropout_(options.word_dropout, dropout_rng_),
      embedding_dropout_(options.embedding_dropout, dropout_rng_),
      dropout_(options.dropout, dropout_rng_),
      classifier_({2 * options.sentence_hidden, options.num_classes, true}, rng) {
  register_module("embedding", embedding_);
  register_module("word_encoder", word_encoder_);
  register_module("word_attention", word_attention_);
  register_module("sentence_encoder", sentence_encoder_);
  register_module("sentence_attention", sentence_attention_);
  register_module("word_dropout", word_dropout_);
  register_module("embedding_dropout", embedding_dropout_);
  register_module("dropout", dropout_);
  register_module("classifier", classifier_);
  ngram_embedding_ = detail::make_ngram_embedding(options, rng, dropout_rng_);
  if (ngram_embedding_) register_module("ngram_embedding", *ngram_embedding_);
}

ClassifierOutput HierarchicalAttentionNetwork::forward(const ClassifierBatch& batch,
                                                       bool return_attention) {
  detail::check_document_batch(kName, batch);
  const Index B = batch.ids.size(0), N = batch.ids.size(1);
  const Index Hw2 = 2 * options_.word_hidden;

  // Word level, over the M real sentences at once.
  const Sentences sentences = gather_sentences(batch);
  const Index M = sentences.ids.size(0), longest = sentences.ids.size(1);
  const Tensor x = detail::token_inputs(batch, sentences.ids, word_dropout_, embedding_,
                                        ngram_embedding_.get(), embedding_dropout_);  // [M, L', E]
  const Tensor h_words = word_encoder_.forward(x, sentences.lengths).output;  // [M, L', 2Hw]
  const AttentionPoolingOutput words =
      word_attention_.forward(h_words, detail::padding_mask(sentences.lengths, longest));

  // Back to documents: [B, N, 2Hw], a zero vector in every padding-sentence slot.
  Tensor sentence_vectors = words.pooled;  // [M, 2Hw]
  if (M < B * N) {
    sentence_vectors = index_select(concat({words.pooled, Tensor::zeros(Shape{1, Hw2})}, 0), 0,
                                    sentences.slot_row);
  }
  sentence_vectors = reshape(sentence_vectors, Shape{B, N, Hw2});

  // Sentence level.
  const Tensor h_sentences =
      sentence_encoder_.forward(sentence_vectors, batch.num_sentences).output;  // [B, N, 2Hs]
  const AttentionPoolingOutput document =
      sentence_attention_.forward(h_sentences, detail::padding_mask(batch.num_sentences, N));

  ClassifierOutput out;
  out.logits = classifier_.forward(dropout_.forward(document.pooled));  // [B, C]
  if (return_attention) {
    out.attention.push_back({"word_attention", "word",
                             scatter_word_attention(words.weights, sentences, batch.ids.shape())});
    out.attention.push_back({"sentence_attention", "sentence", document.weights});
  }
  return out;
}

}  // namespace heed
