// Hard alignments: row-wise argmax of word-merged attention (alignment.h).
#include "heed/viz/alignment.h"

#include <algorithm>

#include "heed/util/check.h"

namespace heed::viz {

std::vector<AlignmentLink> hard_alignment(const Matrix& attention) {
  std::vector<AlignmentLink> links;
  if (attention.cols == 0) return links;
  for (int t = 0; t < attention.rows; ++t) {
    int best = 0;
    for (int s = 1; s < attention.cols; ++s)
      if (attention(t, best) < attention(t, s)) best = s;  // strict: the first maximum wins
    links.push_back({best, t});
  }
  std::sort(links.begin(), links.end(), [](const AlignmentLink& a, const AlignmentLink& b) {
    return a.source != b.source ? a.source < b.source : a.target < b.target;
  });
  return links;
}

std::string format_alignment(const std::vector<AlignmentLink>& links) {
  std::string out;
  for (const AlignmentLink& link : links) {
    if (!out.empty()) out += ' ';
    out += std::to_string(link.source) + "-" + std::to_string(link.target);
  }
  return out;
}

std::string word_alignment(const Matrix& attention, const TokenAxis& source,
                           const TokenAxis& target) {
  CHECK(attention.rows == target.size() && attention.cols == source.size(),
        "word_alignment: attention is ", attention.rows, "x", attention.cols,
        " but the target has ", target.size(), " tokens and the source ", source.size());
  const LabelOptions words{.unit = TokenUnit::kWords, .hide_special = true};
  const Matrix merged =
      merge_spans(attention, token_spans(target, words), token_spans(source, words));
  return format_alignment(hard_alignment(merged));
}

}  // namespace heed::viz
