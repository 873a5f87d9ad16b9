// Parameter initialization, always from an explicit seeded Rng.
//
// Choices (documented once here): projections use Xavier/Glorot uniform (Glorot & Bengio 2010),
// U(-a, a) with a = sqrt(6 / (fan_in + fan_out)) — the initialization of the Transformer
// reference implementations and of torch.nn.MultiheadAttention's in-projection; biases start at
// zero; embeddings are N(0, d^-1/2) (as fairseq and the Annotated Transformer do when embeddings
// are scaled by sqrt(d) on the way in, which brings them to unit scale); recurrent weights use
// U(-1/sqrt(H), 1/sqrt(H)) as torch.nn.GRU/LSTM do.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed::init {

Tensor xavier_uniform(const Shape& shape, Rng& rng, float gain = 1.f);  // shape [out, in]
Tensor uniform(const Shape& shape, Rng& rng, float bound);              // U(-bound, bound)
Tensor normal(const Shape& shape, Rng& rng, float stddev);
Tensor zeros(const Shape& shape);
Tensor ones(const Shape& shape);

}  // namespace heed::init
