// Hard word alignments from attention, for `heed translate --alignment`.
//
// Format: Marian's `--alignment hard` (also fast_align's and Moses'): "i-j" pairs separated by
// single spaces, i the source word index and j the target word index, both from 0, sorted by
// source index then target index — "0-0 1-2 2-1". Words are the whitespace-separated words of
// the (SentencePiece-normalized) source and of the translation: SentencePiece pieces grouped at
// "▁" (tokens.h).
//
// For each target word j, the source word i with the largest attention (Marian's
// ConvertSoftAlignToHardAlign with threshold 1; the first maximum on ties). The attention is
// merged into words first (tokens.h: a target word's rows averaged, a source word's columns
// summed) and the rows and columns of special tokens are left out: the EOS row of the
// translation is not a word. So every target word has exactly one link; a source word may have
// none or several.
#pragma once

#include <string>
#include <vector>

#include "heed/viz/tokens.h"

namespace heed::viz {

struct AlignmentLink {
  int source = 0;
  int target = 0;
  bool operator==(const AlignmentLink&) const = default;
};

// The row-wise argmax of `attention` [targets × sources], sorted by (source, target). A matrix
// without columns has no links.
std::vector<AlignmentLink> hard_alignment(const Matrix& attention);

// "0-0 1-2 2-1" (empty for no links).
std::string format_alignment(const std::vector<AlignmentLink>& links);

// The word alignment of a translation: `attention` [target tokens × source tokens] with rows
// over `target` (the produced tokens, EOS included as a special token) and columns over
// `source`. Throws if the sizes disagree.
std::string word_alignment(const Matrix& attention, const TokenAxis& source,
                           const TokenAxis& target);

}  // namespace heed::viz
