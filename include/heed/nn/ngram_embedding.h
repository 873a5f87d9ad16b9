// NgramEmbedding: hashed embeddings of the n-grams that end at each token (Joulin et al. 2017,
// "Bag of Tricks for Efficient Text Classification", §2.1: "we use a bag of n-grams as
// additional features ... we use the hashing trick").
//
// Position t of a sequence gets Σ_{n=2..max_order} weight[bucket(ids[t-n+1 .. t])]: the
// bigram (and trigram ...) ending there, each hashed into one of `buckets` rows. Positions
// before the start of the sequence read as kBosId, so the first word has its "starts the text"
// bigram. A classifier adds this to its word embeddings: the recurrent or attention layers then
// see, at every token, a vector for the phrase it closes ("not good", "waste of") learned as
// directly as a word's, instead of having to compose it from the two words.
//
// Parameters: weight [buckets, R]; proj.weight [D, R] when R < D.
//
// Padding positions (id kPadId) map to row 0, which stays zero and gets no gradient, so padding
// contributes nothing; an n-gram never reaches into padding because padding only follows the
// real tokens. Every id, bucket and row is independent of the batch: the same text gets the same
// vectors however it is batched.
#pragma once

#include <memory>

#include "heed/nn/linear.h"
#include "heed/nn/module.h"

namespace heed {

struct NgramEmbeddingOptions {
  Index buckets = 0;  // rows of the table, row 0 (padding) included: n-grams share buckets - 1
  Index dim = 0;      // D, the word embeddings' size
  int max_order = 2;  // 2: bigrams; 3: bigrams and trigrams; ...
  // R < D: the table holds R numbers per bucket and a shared linear map (no bias) takes their
  // sum to D — a factorized table (Lan et al. 2020, ALBERT §3.1) that caps what one n-gram can
  // memorize (fastText's sentiment models use 10 dimensions). 0 or D: no map.
  Index table_dim = 0;
  float init_stddev = 0.f;  // of the table; 0: R^-1/2, as Embedding
  // N-gram dropout: in training mode each n-gram of a real token reads the zero row (row 0) with
  // probability p, so the word path has to carry the text where the table memorized a rare
  // n-gram. Not rescaled: a kept n-gram reads in training exactly as in evaluation, where all
  // are kept. Needs the model's dropout Rng when p > 0.
  float dropout = 0.f;
};

class NgramEmbedding : public Module {
 public:
  // rng: initialization; dropout_rng: the model's dropout stream (options.dropout > 0 only).
  NgramEmbedding(const NgramEmbeddingOptions& options, Rng& rng,
                 std::shared_ptr<Rng> dropout_rng = nullptr);

  // ids [..., T] -> [..., T, D]: sequences along the last axis. In training mode with
  // options.dropout > 0, each n-gram is dropped as described there.
  Tensor forward(const IntTensor& ids) const;

  // The rows forward() reads: [..., T, max_order - 1], the n-gram of order n at index n - 2;
  // 0 where ids is padding. Public for tests and for showing what a bucket holds.
  IntTensor bucket_ids(const IntTensor& ids) const;

  const NgramEmbeddingOptions& options() const { return options_; }
  Index table_dim() const { return proj_ ? options_.table_dim : options_.dim; }
  Tensor weight_;  // [buckets, R]

 private:
  NgramEmbeddingOptions options_;
  std::shared_ptr<Rng> dropout_rng_;
  std::unique_ptr<Linear> proj_;  // R -> D when table_dim is in (0, D)
};

}  // namespace heed
