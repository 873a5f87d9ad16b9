// Positional encodings added to token embeddings.
//   sinusoidal (Vaswani et al. 2017, §3.5): PE[pos, 2i] = sin(pos / 10000^(2i/d)),
//                                            PE[pos, 2i+1] = cos(pos / 10000^(2i/d)); fixed.
//   learned: a [max_len, d] parameter (N(0, d^-1/2) init), as in BERT/GPT.
#pragma once

#include "heed/nn/module.h"

namespace heed {

enum class PositionalKind { kSinusoidal, kLearned };

struct PositionalOptions {
  PositionalKind kind = PositionalKind::kSinusoidal;
  Index max_len = 1024;
  Index dim = 0;
};

class PositionalEncoding : public Module {
 public:
  PositionalEncoding(const PositionalOptions& options, Rng& rng);
  // x [B, T, D] -> x + PE[offset : offset + T] (offset: position of the first step, for
  // incremental decoding).
  Tensor forward(const Tensor& x, Index offset = 0) const;
  // PE rows [offset, offset + T) as a [T, D] tensor.
  Tensor table(Index offset, Index length) const;

  const PositionalOptions& options() const { return options_; }
  Tensor weight_;  // learned: [max_len, D] parameter; sinusoidal: a constant (not registered)

 private:
  PositionalOptions options_;
};

}  // namespace heed
