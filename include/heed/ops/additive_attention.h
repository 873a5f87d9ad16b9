// Additive (Bahdanau / Luong "concat") attention scores, fused.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// e[b, s] = Σ_a v[a] · tanh(keys_proj[b, s, a] + query_proj[b, a])
// (Bahdanau et al. 2015, appendix A.1.2: e_ij = vᵀ tanh(W s_{i-1} + U h_j), with query_proj =
// W s_{i-1} computed per decoder step and keys_proj = U h_j once per source batch).
//   query_proj [B, A], keys_proj [B, S, A], v [A] -> e [B, S]
// One pass over keys_proj forward and one backward; the [B, S, A] tanh is never stored (the
// backward recomputes it), so a decoder step costs a read of keys_proj, not three
// [B, S, A] temporaries as add + tanh + matmul would.
Tensor additive_attention_scores(const Tensor& query_proj, const Tensor& keys_proj,
                                 const Tensor& v);

// The same from primitives (unsqueeze, add, tanh, matmul): the reference the fused op is tested
// against, in values and gradients.
Tensor additive_attention_scores_composite(const Tensor& query_proj, const Tensor& keys_proj,
                                           const Tensor& v);

}  // namespace heed
