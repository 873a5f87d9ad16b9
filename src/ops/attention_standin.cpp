// TEMPORARY stand-in for ops/attention.h while the fused kernel is being written on branch
// `attention-op` (owner: the attention-op engineer). Both functions are the composite of
// primitives; this file is deleted when that branch is merged into this one.
#include <cmath>
#include <limits>

#include "heed/ops/attention.h"
#include "heed/ops/dropout.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/check.h"

namespace heed {

AttentionOutput attention_composite(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionMasks& masks,
                                    const AttentionOptions& options) {
  CHECK(q.ndim() == 4 && k.ndim() == 4 && v.ndim() == 4, "attention: q, k, v must be 4-D");
  const Index B = q.size(0), T = q.size(2), S = k.size(2), D = q.size(3);
  const float scale = options.scale > 0.f ? options.scale : 1.f / std::sqrt(float(D));
  Tensor scores = mul(matmul(q, k, false, true), scale);  // [B, H, T, S]
  const float inf = std::numeric_limits<float>::infinity();
  if (masks.key_padding.defined())
    scores = masked_fill(scores, masks.key_padding.with_shape(Shape{B, 1, 1, S}), -inf);
  if (masks.causal) {
    Tensor future = Tensor::zeros(Shape{T, S});
    for (Index i = 0; i < T; ++i)
      for (Index j = i + (S - T) + 1; j < S; ++j) future.data()[i * S + j] = 1.f;
    scores = masked_fill(scores, future, -inf);
  }
  Tensor weights = softmax(scores, -1);
  Tensor dropped = weights;
  if (options.training && options.dropout > 0.f)
    dropped = dropout(weights, options.dropout, true, *options.rng);
  return {matmul(dropped, v), weights};
}

AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const AttentionMasks& masks,
                                             const AttentionOptions& options) {
  return attention_composite(q, k, v, masks, options);
}

}  // namespace heed
