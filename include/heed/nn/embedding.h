// Embedding: token ids -> vectors, with a padding index and optional √d scaling
// (Vaswani et al. 2017, §3.4: "we multiply those weights by √d_model").
#pragma once

#include "heed/nn/module.h"

namespace heed {

struct EmbeddingOptions {
  Index num_embeddings = 0;  // V
  Index dim = 0;             // D
  int padding_idx = -1;      // row that stays zero and gets no gradient; -1 = none
  bool scale_by_sqrt_dim = false;
  float init_stddev = 0.f;   // 0: D^-1/2
};

class Embedding : public Module {
 public:
  Embedding(const EmbeddingOptions& options, Rng& rng);
  // ids [...] -> [..., D]
  Tensor forward(const IntTensor& ids) const;

  const EmbeddingOptions& options() const { return options_; }
  Tensor weight_;  // [V, D]

 private:
  EmbeddingOptions options_;
};

}  // namespace heed
