// Dropout (Srivastava et al. 2014), inverted: kept values are scaled by 1/(1-p) at training
// time so evaluation needs no rescaling.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// With probability p each element is zeroed. The mask comes from `rng`'s counter-based stream
// (cheap, reproducible, independent of the thread count) and is not stored as floats: backward
// regenerates it from the same counters. p == 0 or !training returns x itself.
Tensor dropout(const Tensor& x, float p, bool training, Rng& rng);

}  // namespace heed
