// Embedding lookup.
#pragma once

#include "heed/tensor/tensor.h"

namespace heed {

// out[..., :] = weight[ids[...], :]; weight [V, D], ids any shape -> [ids..., D].
// Ids must be in [0, V) (checked). Rows for `padding_idx` (if >= 0) get no gradient, so the
// padding vector stays where it was initialized (zero, conventionally).
Tensor embedding(const Tensor& weight, const IntTensor& ids, int padding_idx = -1);

}  // namespace heed
