// Gradient clipping by global norm (Pascanu et al., "On the difficulty of training recurrent
// neural networks", ICML 2013, §3.2), with torch.nn.utils.clip_grad_norm_'s exact semantics:
//
//   norm = sqrt(Σ_parameters Σ_i g_i²)            global L2 norm over every gradient
//   c    = min(1, max_norm / (norm + 1e-6))        in float, as torch computes it
//   g   *= c  (only when c < 1)                    returns `norm`, the norm BEFORE clipping
//
// The sum of squares is accumulated in double in a fixed order (chunks of the gradient summed
// in parallel, then added in chunk order), so the result is bitwise the same for every thread
// count. A non-finite norm is returned as is and, like torch (error_if_nonfinite=False), an inf
// norm zeroes the gradients and a NaN norm makes them NaN: a trainer that wants to skip such a
// step checks the returned value.
#pragma once

#include "heed/nn/module.h"
#include "heed/optim/optimizer.h"

namespace heed {

// Over the parameters' gradients; a parameter whose grad() is undefined is skipped (as torch
// skips .grad None). max_norm must be > 0.
float clip_grad_norm(const NamedParameters& parameters, float max_norm);

// Over an optimizer's flat gradient buffer in one pass (same as optimizer.clip_grad_norm()).
inline float clip_grad_norm(Optimizer& optimizer, float max_norm) {
  return optimizer.clip_grad_norm(max_norm);
}

}  // namespace heed
