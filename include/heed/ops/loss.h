// Losses.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

struct CrossEntropyOptions {
  int ignore_index = -100;       // targets equal to this are padding: no loss, no gradient
  float label_smoothing = 0.f;   // ε: the target distribution is (1-ε)·onehot + ε/V
};

// Cross-entropy of logits [N, V] (or [..., V]) against targets [N] (or [...]), fused with
// log-softmax: one pass over each row of V logits forward, one backward; no [N, V]
// probability tensor is kept beyond the softmax needed for the gradient. Returns the mean over
// non-ignored targets (a scalar), exactly as torch.nn.functional.cross_entropy with
// ignore_index and label_smoothing. If every target is ignored the loss is 0.
Tensor cross_entropy(const Tensor& logits, const IntTensor& targets,
                     const CrossEntropyOptions& options = {});

// Mean squared error, mean over all elements (for toy problems and tests).
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

}  // namespace heed
