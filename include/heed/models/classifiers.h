// Text classifiers (models/classifier.h is the interface they implement):
//
//   BiGruAttentionClassifier      embedding (+ n-gram embeddings) → bidirectional GRU (packed
//                                 by lengths) → self-attention pooling (Yang et al. 2016 §2.2;
//                                 Lin et al. 2017), optionally beside max pooling → dropout →
//                                 Linear → C logits
//   HierarchicalAttentionNetwork  Yang et al. 2016, "Hierarchical Attention Networks for
//                                 Document Classification": words → bi-GRU + word attention →
//                                 sentence vectors → bi-GRU + sentence attention → document
//                                 vector → dropout → Linear → C logits
//   TransformerClassifier         embedding·√d + sinusoidal positions → dropout → N Transformer
//                                 encoder layers (Vaswani et al. 2017) → pooling (ClassifierPooling:
//                                 mean, first token, max, self-attention) → Linear → C logits
//
// Token id kPadId (data/special_ids.h) is the padding id: its embedding row stays zero and gets
// no gradient, though the models never look at positions past each sequence's length anyway.
// Padding never changes an example's logits: a batch of one gives the same logits as the same
// example padded inside a longer batch.
//
// Every model initializes its parameters from Rng(seed) and owns its dropout stream, a
// generator derived from the same seed and shared by every dropout site (dropout_rng(): save it
// in checkpoints).
#pragma once

#include <cstdint>
#include <memory>

#include "heed/models/classifier.h"
#include "heed/nn/attention_pooling.h"
#include "heed/nn/dropout.h"
#include "heed/nn/embedding.h"
#include "heed/nn/linear.h"
#include "heed/nn/ngram_embedding.h"
#include "heed/nn/positional.h"
#include "heed/nn/rnn.h"
#include "heed/nn/transformer.h"

namespace heed {

// How a sequence model's outputs h [B, T, D] become one vector per example (padding excluded).
enum class ClassifierPooling {
  kMean,          // mean over each example's real tokens                              [B, D]
  kFirst,         // the output at position 0 (a [CLS]-style first token)              [B, D]
  kMax,           // element-wise max over the real tokens                             [B, D]
  kAttention,     // SelfAttentionPooling                                              [B, D]
  kAttentionMax,  // [attention; max] concatenated: attention picks the decisive words,
                  // max keeps the strongest feature anywhere in a long text
                  // (Johnson & Zhang 2016; Conneau et al. 2017)                        [B, 2D]
};

// ----------------------------------------------------------------------------- BiGRU + attention

struct BiGruAttentionOptions {
  Index vocab = 0;          // V
  Index embedding_dim = 0;  // E
  Index hidden = 0;         // H per direction: the GRU outputs 2H features
  int num_layers = 1;
  Index attention_dim = 0;  // A of the pooling's tanh layer
  float dropout = 0.f;      // before the output layer, and between GRU layers
  float embedding_dropout = 0.f;  // on the word embeddings (a regularizer for small corpora)
  float word_dropout = 0.f;       // training tokens replaced by <unk> (WordDropout)
  // > 0: hashed n-gram embeddings of this many rows added to the word embeddings (NgramEmbedding)
  Index ngram_buckets = 0;
  int ngram_order = 2;  // their longest n-gram
  Index ngram_dim = 0;  // numbers per bucket, mapped to E (0: E, no map)
  float ngram_dropout = 0.f;  // training n-grams read as zero (NgramEmbeddingOptions::dropout)
  // attention or attention_max (a model without self-attention pooling is another model)
  ClassifierPooling pooling = ClassifierPooling::kAttention;
  Index num_classes = 0;    // C
};

// Parameters: embedding.weight [V, E]; gru.{weight,bias}_{ih,hh}_l<k>[_reverse] (torch.nn.GRU's
// names); pooling.context [A], pooling.proj.{weight [A, 2H], bias}; classifier.{weight [C, P],
// bias} with P = 2H (attention) or 4H (attention_max); ngram_embedding.weight [buckets, R]
// (and ngram_embedding.proj.weight [E, R] when R = ngram_dim < E) when ngram_buckets > 0,
// initialized last, so a model without them is initialized as before.
class BiGruAttentionClassifier : public ClassifierModel {
 public:
  BiGruAttentionClassifier(const BiGruAttentionOptions& options, std::uint64_t seed);

  // batch.ids [B, T], batch.lengths [B] with every length in [1, T]. Attention (when asked): the
  // pooling weights, {"pooling", "pool", [B, T]}.
  ClassifierOutput forward(const ClassifierBatch& batch, bool return_attention) override;
  Index num_classes() const override { return options_.num_classes; }

  Rng& dropout_rng() { return *dropout_rng_; }
  const BiGruAttentionOptions& options() const { return options_; }

 private:
  BiGruAttentionClassifier(const BiGruAttentionOptions& options, Rng rng);  // rng: initialization

  BiGruAttentionOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  Embedding embedding_;
  GRU gru_;
  SelfAttentionPooling pooling_;
  WordDropout word_dropout_;
  Dropout embedding_dropout_;
  Dropout dropout_;
  Linear classifier_;
  std::unique_ptr<NgramEmbedding> ngram_embedding_;  // ngram_buckets > 0 only
};

// ----------------------------------------------------------------------------- HAN

// Sizes in Yang et al. 2016 (§3.3): embedding 200, GRUs 50 per direction, attention 100.
struct HierarchicalAttentionOptions {
  Index vocab = 0;                   // V
  Index embedding_dim = 0;           // E
  Index word_hidden = 0;             // Hw per direction
  Index sentence_hidden = 0;         // Hs per direction
  Index word_attention_dim = 0;      // context vector size at the word level
  Index sentence_attention_dim = 0;  // ... and at the sentence level
  float dropout = 0.f;               // on the document vector, before the output layer
  float embedding_dropout = 0.f;     // on the word embeddings
  float word_dropout = 0.f;          // training tokens replaced by <unk> (WordDropout)
  Index ngram_buckets = 0;           // > 0: n-gram embeddings within each sentence (NgramEmbedding)
  int ngram_order = 2;
  Index ngram_dim = 0;
  float ngram_dropout = 0.f;         // NgramEmbeddingOptions::dropout
  Index num_classes = 0;             // C
};

// Parameters: embedding.weight; word_encoder.* and sentence_encoder.* (torch.nn.GRU names);
// word_attention.{context, proj.*}; sentence_attention.{context, proj.*}; classifier.*;
// ngram_embedding.weight (and .proj.weight when ngram_dim < E) when ngram_buckets > 0, created
// last as in the BiGRU.
class HierarchicalAttentionNetwork : public ClassifierModel {
 public:
  HierarchicalAttentionNetwork(const HierarchicalAttentionOptions& options, std::uint64_t seed);

  // batch.ids [B, N, L], batch.sentence_lengths [B, N], batch.num_sentences [B]: document b has
  // num_sentences[b] in [1, N] sentences, each of length in [1, L], followed by padding sentences
  // of length 0 (the layout of data/batcher.h's DocumentBatch).
  //
  // The word encoder runs once over all real sentences of the batch as one [M, L', E] batch
  // (M = Σ num_sentences, L' = the longest sentence): padding sentences cost nothing. Its
  // sentence vectors are scattered back to [B, N, 2Hw] (zeros for padding sentences) for the
  // sentence encoder. Attention (when asked): {"word_attention", "word", [B, N, L]} (padding
  // sentences all zero) and {"sentence_attention", "sentence", [B, N]}.
  ClassifierOutput forward(const ClassifierBatch& batch, bool return_attention) override;
  Index num_classes() const override { return options_.num_classes; }

  Rng& dropout_rng() { return *dropout_rng_; }
  const HierarchicalAttentionOptions& options() const { return options_; }

 private:
  HierarchicalAttentionNetwork(const HierarchicalAttentionOptions& options, Rng rng);

  HierarchicalAttentionOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  Embedding embedding_;
  GRU word_encoder_;
  SelfAttentionPooling word_attention_;
  GRU sentence_encoder_;
  SelfAttentionPooling sentence_attention_;
  WordDropout word_dropout_;
  Dropout embedding_dropout_;
  Dropout dropout_;
  Linear classifier_;
  std::unique_ptr<NgramEmbedding> ngram_embedding_;  // ngram_buckets > 0 only
};

// ----------------------------------------------------------------------------- Transformer

// The benchmark's sentiment model (../shared/bench/peer_torch.py --model sentiment) is
// vocab 20000, d_model 128, 4 heads, 2 layers, FFN 256, dropout 0.1, relu, post-norm, mean
// pooling, 2 classes.
struct TransformerClassifierOptions {
  Index vocab = 0;            // V
  Index d_model = 0;          // D
  Index num_heads = 0;        // H
  int num_layers = 0;         // N
  Index dim_feedforward = 0;  // F
  float dropout = 0.1f;       // on the embeddings and inside every encoder layer
  float word_dropout = 0.f;   // training tokens replaced by <unk> (WordDropout)
  Activation activation = Activation::kRelu;
  bool norm_first = false;  // pre-norm layers (then a final LayerNorm, "encoder.norm")
  ClassifierPooling pooling = ClassifierPooling::kMean;
  Index num_classes = 0;  // C
  Index max_len = 512;    // longest sequence (sinusoidal table size)
};

// Parameters: embedding.weight [V, D]; encoder.layers.<i>.* (torch.nn.TransformerEncoderLayer's
// names: self_attn.in_proj_weight, self_attn.out_proj.*, linear1, linear2, norm1, norm2);
// encoder.norm.* (norm_first only); pooling.{context, proj.*} (attention and attention_max);
// classifier.{weight [C, P], bias} with P = D, or 2D for attention_max.
class TransformerClassifier : public ClassifierModel {
 public:
  TransformerClassifier(const TransformerClassifierOptions& options, std::uint64_t seed);

  // batch.ids [B, T] with T <= max_len, batch.lengths [B] in [1, T]; padding keys are masked in
  // every layer. Attention (when asked): {"encoder.layers.<i>.self_attn", "self", [B, H, T, T]}
  // per layer, then {"pooling", "pool", [B, T]} with attention pooling.
  ClassifierOutput forward(const ClassifierBatch& batch, bool return_attention) override;
  Index num_classes() const override { return options_.num_classes; }

  Rng& dropout_rng() { return *dropout_rng_; }
  const TransformerClassifierOptions& options() const { return options_; }

 private:
  TransformerClassifier(const TransformerClassifierOptions& options, Rng rng);

  TransformerClassifierOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  Embedding embedding_;
  PositionalEncoding positional_;
  WordDropout word_dropout_;
  Dropout embedding_dropout_;
  TransformerEncoder encoder_;
  std::unique_ptr<SelfAttentionPooling> pooling_;  // attention and attention_max only
  Linear classifier_;
};

}  // namespace heed
