// The backward pass: reverse-mode differentiation of a recorded graph.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// Computes d(root)/d(leaf) for every leaf that requires grad and adds it into leaf.grad().
// `root` must be a one-element tensor (a loss) unless `root_grad` (same shape as root) is given.
// Nodes run in reverse topological order, found iteratively (no recursion, so a 500-step RNN
// unroll cannot overflow the stack). The graph is freed as it is consumed: each node's saved
// tensors are released right after its backward runs, and calling backward twice is an error.
void backward(const Tensor& root, const Tensor& root_grad = Tensor());

}  // namespace heed
