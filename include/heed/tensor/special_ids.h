// The reserved token ids every heed vocabulary uses (the SentencePiece models heed trains set them
// explicitly, and Tokenizer::load rejects a model that disagrees), so that the batcher can pad and
// add BOS/EOS without knowing which tokenizer produced the ids. They live with the tensor types
// because both the models and the data pipeline (which sit side by side above tensor) need them.
#pragma once

#include <cstdint>

namespace heed {

inline constexpr std::int32_t kPadId = 0;  // padding; never predicted, masked out of the loss
inline constexpr std::int32_t kUnkId = 1;  // unknown piece
inline constexpr std::int32_t kBosId = 2;  // start of a target sequence (decoder input)
inline constexpr std::int32_t kEosId = 3;  // end of a target sequence (decoder output)

}  // namespace heed
