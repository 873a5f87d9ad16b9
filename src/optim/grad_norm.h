// Private kernels for gradient-norm clipping, shared by Optimizer::clip_grad_norm (one pass over
// the flat gradient buffer) and the free clip_grad_norm over NamedParameters (one per tensor).
#pragma once

#include "heed/tensor/shape.h"

namespace heed::optim_detail {

// Σ x_i² accumulated in double. The sum is split into fixed-size chunks summed in parallel and
// then added in chunk order, so the result is bitwise the same for every thread count.
double sum_of_squares(const float* x, Index n);

// x *= factor.
void scale(float* x, Index n, float factor);

// torch.nn.utils.clip_grad_norm_'s factor: max_norm / (norm + 1e-6), computed in float like
// torch's float32 total_norm tensor, clamped to at most 1. NaN stays NaN (torch's clamp keeps it).
float clip_coefficient(float norm, float max_norm);

}  // namespace heed::optim_detail
