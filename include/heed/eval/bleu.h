// Corpus BLEU (Papineni et al., 2002) computed exactly as sacreBLEU 2.x does with its defaults:
// 13a tokenization, case-sensitive, n-gram orders 1..4, brevity penalty, "exp" smoothing, no
// effective order, one reference per hypothesis. Scores agree with sacreBLEU 2.6.0 on the test
// vectors in tests/fixtures/sacrebleu/.
//
//   p_n  = 100 · Σ_sentences clipped matches of n-grams / Σ_sentences hypothesis n-grams
//          (an order with zero matches gets 100 / (2^k · total), k = 1, 2, ... in order: "exp")
//   BP   = 1 if sys_len >= ref_len, else exp(1 - ref_len / sys_len)   (0 for an empty system)
//   BLEU = BP · exp((log p_1 + log p_2 + log p_3 + log p_4) / 4)
//
// If a whole order has no hypothesis n-grams (fewer than n tokens in every sentence) its
// precision stays 0 and BLEU is 0, as in sacreBLEU without effective order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace heed {

// The mteval-v13a tokenization of one line, as sacreBLEU's Tokenizer13a: drops "<skipped>", joins
// "-\n", turns newlines into spaces, unescapes &quot; &amp; &lt; &gt;, splits off punctuation
// (periods and commas only when not next to a digit, dashes only after a digit) and returns the
// tokens joined by single spaces. corpus_bleu() first strips trailing whitespace, as sacreBLEU
// does; this function does not.
//   tokenize_13a("It costs $1,000.50, I think.") == "It costs $ 1,000.50 , I think ."
std::string tokenize_13a(std::string line);

inline constexpr int kBleuMaxOrder = 4;

struct BleuScore {
  double score = 0.0;                                 // 0..100
  std::array<double, kBleuMaxOrder> precisions{};     // p_1..p_4 in percent, after smoothing
  std::array<std::int64_t, kBleuMaxOrder> matches{};  // clipped n-gram matches per order
  std::array<std::int64_t, kBleuMaxOrder> totals{};   // hypothesis n-grams per order
  double bp = 0.0;                                    // brevity penalty
  std::int64_t sys_len = 0;                           // hypothesis tokens in the corpus
  std::int64_t ref_len = 0;                           // reference tokens in the corpus
  std::string signature;                              // bleu_signature()
};

// BLEU of hypotheses[i] against references[i]. The two lists must have the same length, and no
// reference may be the empty string (sacreBLEU rejects those); empty hypotheses are fine.
BleuScore corpus_bleu(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references);

// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:heed-<version>", sacreBLEU's format.
std::string bleu_signature();

}  // namespace heed
