// chrF (Popović, 2015) computed exactly as sacreBLEU 2.x does with its defaults: character n-grams
// of orders 1..6, no word n-grams, beta 2, whitespace removed, case-sensitive, one reference per
// hypothesis, and sacreBLEU's default "effective order" averaging (eps_smoothing=False, which its
// signature shows as eff:yes). Characters are Unicode code points of the UTF-8 input.
//
// Statistics are summed over the corpus per order n: hypothesis n-grams H_n, reference n-grams
// R_n, clipped matches M_n (a sentence whose reference has no n-gram of order n contributes no
// hypothesis n-grams of that order). Over the orders with H_n > 0 and R_n > 0 ("effective"):
//   P = mean(M_n / H_n),  R = mean(M_n / R_n)
//   chrF = 100 · (1 + β²) · P · R / (β² · P + R)      (0 if P + R = 0 or no order is effective)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace heed {

inline constexpr int kChrfCharOrder = 6;
inline constexpr double kChrfBeta = 2.0;

struct ChrfScore {
  double score = 0.0;      // 0..100
  double precision = 0.0;  // P above, in percent
  double recall = 0.0;     // R above, in percent
  std::array<std::int64_t, kChrfCharOrder> hyp_ngrams{};  // H_n for n = 1..6
  std::array<std::int64_t, kChrfCharOrder> ref_ngrams{};  // R_n
  std::array<std::int64_t, kChrfCharOrder> matches{};     // M_n
  std::string signature;   // chrf_signature()
};

// chrF of hypotheses[i] against references[i]. The two lists must have the same length, and no
// reference may be the empty string (sacreBLEU rejects those); empty hypotheses are fine.
ChrfScore corpus_chrf(const std::vector<std::string>& hypotheses,
                      const std::vector<std::string>& references);

// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:heed-<version>", sacreBLEU's format.
std::string chrf_signature();

}  // namespace heed
