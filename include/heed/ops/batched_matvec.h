// Batched matrix–vector products, one small matrix per row: the attention read-outs of RNN
// decoders, where each of B rows has S source vectors of D values and one query or one weight
// vector per step.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// y[b, s] = Σ_d m[b, s, d] · x[b, d]        m [B, S, D], x [B, D] -> [B, S]
// (Luong's dot and general scores: h̄_sᵀ h_t for every source position.)
Tensor batched_matvec(const Tensor& m, const Tensor& x);

// y[b, d] = Σ_s w[b, s] · m[b, s, d]        w [B, S], m [B, S, D] -> [B, D]
// (the context vector: attention weights times the source annotations.)
Tensor batched_vecmat(const Tensor& w, const Tensor& m);

}  // namespace heed
