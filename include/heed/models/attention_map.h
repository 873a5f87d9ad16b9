// AttentionMap: one named matrix of attention weights from a forward pass, for visualization
// and alignment. Every attention module returns its weights beside its output; models gather
// them under the module's dotted name.
#pragma once

#include <string>
#include <vector>

#include "heed/tensor/tensor.h"

namespace heed {

struct AttentionMap {
  // Dotted module name, e.g. "decoder.layers.0.cross_attn" or "decoder.attention".
  std::string name;
  // What the axes are: "cross" (target × source), "self" (T × T), "pool" (weights over T),
  // "sentence" / "word" (hierarchical attention).
  std::string kind;
  // [B, H, T, S] for multi-head (H heads), [B, T, S] for single-head RNN attention, [B, S] for
  // pooling; rows are probability distributions (sum to 1 over unmasked positions).
  Tensor weights;
};

using AttentionMaps = std::vector<AttentionMap>;

}  // namespace heed
