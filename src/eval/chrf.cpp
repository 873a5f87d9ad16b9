// chrF as sacreBLEU 2.x computes it (metrics/chrf.py, metrics/helpers.py); the formula is in
// include/heed/eval/chrf.h.
//
// A line is reduced to the code points of its non-whitespace characters (Python's
// "".join(line.split())). Each character n-gram becomes a 128-bit key, and per order the clipped
// matches are counted with a reused hash table (ngram_key.h). The buffers are reused across
// sentences, so scoring allocates nothing per sentence once they have grown.
#include "heed/eval/chrf.h"

#include <algorithm>
#include <string_view>

#include "eval/ngram_key.h"
#include "eval/utf8.h"
#include "heed/util/check.h"

namespace heed {
namespace {

// The code points of a line without its whitespace (Python's "".join(line.split())).
void decode_without_whitespace(std::string_view line, std::vector<char32_t>& chars) {
  chars.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    if (std::size_t ws = utf8::whitespace_length(line, i)) {
      i += ws;
      continue;
    }
    std::size_t length = 0;
    chars.push_back(utf8::decode(line, i, length));
    i += length;
  }
}

}  // namespace

std::string chrf_signature() {
  return std::string("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:heed-") + HEED_VERSION;
}

ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references) {
  CHECK(hypotheses.size() == references.size(), "corpus_chrf: ", hypotheses.size(),
        " hypotheses but ", references.size(), " references");
  CHECK(!hypotheses.empty(), "corpus_chrf: no sentences");

  ChrfScore result;
  std::vector<char32_t> hyp, ref;
  std::vector<NgramKey> hyp_keys, ref_keys;
  ClippedMatchCounter match_counter;
  for (std::size_t s = 0; s < hypotheses.size(); ++s) {
    CHECK(!references[s].empty(), "corpus_chrf: reference ", s,
          " is empty (sacreBLEU rejects empty references)");
    decode_without_whitespace(hypotheses[s], hyp);
    decode_without_whitespace(references[s], ref);
    for (int n = 1; n <= kChrfCharOrder; ++n) {
      // A reference shorter than n has no n-grams; sacreBLEU then counts the hypothesis ones as 0.
      if (ref.size() < static_cast<std::size_t>(n)) break;
      // Keys of order n, extended from order n - 1: a code point fits in 21 bits, six in 128.
      extend_ngrams(hyp_keys, hyp.data(), hyp.size(), n, 21);
      extend_ngrams(ref_keys, ref.data(), ref.size(), n, 21);
      result.hyp_ngrams[n - 1] += static_cast<std::int64_t>(hyp_keys.size());
      result.ref_ngrams[n - 1] += static_cast<std::int64_t>(ref_keys.size());
      result.matches[n - 1] += match_counter.count(hyp_keys, ref_keys);
    }
  }

  // CHRF._compute_f_score with eps_smoothing=False: average P and R over effective orders.
  double precision = 0.0, recall = 0.0;
  int effective_order = 0;
  for (int n = 0; n < kChrfCharOrder; ++n) {
    if (result.hyp_ngrams[n] > 0 && result.ref_ngrams[n] > 0) {
      const auto matches = static_cast<double>(result.matches[n]);
      precision += matches / static_cast<double>(result.hyp_ngrams[n]);
      recall += matches / static_cast<double>(result.ref_ngrams[n]);
      ++effective_order;
    }
  }
  if (effective_order > 0) {
    precision /= effective_order;
    recall /= effective_order;
  }
  const double factor = kChrfBeta * kChrfBeta;
  if (precision + recall > 0.0) {
    result.score = 100.0 * ((1.0 + factor) * precision * recall / (factor * precision + recall));
  }
  result.precision = 100.0 * precision;
  result.recall = 100.0 * recall;
  result.signature = chrf_signature();
  return result;
}

}  // namespace heed
