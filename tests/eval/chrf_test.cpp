#include "heed/eval/chrf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/gradcheck.h"

namespace heed {
namespace {

TEST(Chrf, IdenticalIs100AndWhitespaceIsIgnored) {
  EXPECT_DOUBLE_EQ(corpus_chrf({"a cat sat"}, {"a cat sat"}).score, 100.0);
  EXPECT_DOUBLE_EQ(corpus_chrf({"acat  sat\t"}, {"a cat sat"}).score, 100.0);
  // U+00A0 is whitespace too (Python's str.split()).
  EXPECT_DOUBLE_EQ(corpus_chrf({"a\u00a0b"}, {"ab"}).score, 100.0);
}

TEST(Chrf, HandComputedOrders) {
  // "abc" vs "abd": 1-grams 2/3 match, 2-grams {ab,bc} vs {ab,bd} 1/2, 3-grams 0/1, no 4..6-grams.
  // P = R = (2/3 + 1/2 + 0) / 3 = 7/18, so F_2 = 7/18.
  ChrfScore chrf = corpus_chrf({"abc"}, {"abd"});
  EXPECT_NEAR(chrf.score, 100.0 * 7.0 / 18.0, 1e-12);
  EXPECT_NEAR(chrf.precision, 100.0 * 7.0 / 18.0, 1e-12);
  EXPECT_EQ(chrf.hyp_ngrams, (std::array<std::int64_t, 6>{3, 2, 1, 0, 0, 0}));
  EXPECT_EQ(chrf.ref_ngrams, (std::array<std::int64_t, 6>{3, 2, 1, 0, 0, 0}));
  EXPECT_EQ(chrf.matches, (std::array<std::int64_t, 6>{2, 1, 0, 0, 0, 0}));
}

TEST(Chrf, CountsCodePointsNotBytes) {
  // "äb" vs "ab" is two characters each: 1-grams 1/2, 2-grams 0/1, so P = R = 1/4 and F = 1/4.
  // Counting UTF-8 bytes ("ä" is two) would give three 1-grams and a different score.
  ChrfScore chrf = corpus_chrf({"\u00e4b"}, {"ab"});
  EXPECT_EQ(chrf.hyp_ngrams, (std::array<std::int64_t, 6>{2, 1, 0, 0, 0, 0}));
  EXPECT_NEAR(chrf.score, 25.0, 1e-12);
  EXPECT_DOUBLE_EQ(corpus_chrf({"\u00fc\u00df"}, {"\u00fc\u00df"}).score, 100.0);
}

TEST(Chrf, ShortReferenceContributesNoHypothesisNgrams) {
  // Sentence 1, "abcd" vs "ab": orders 1-2 only; its reference has no 3-gram, so its two
  // hypothesis 3-grams are not counted (sacreBLEU). Sentence 2, "xyz" vs "xyz": orders 1-3.
  // Totals: H = 7, 5, 1; R = 5, 3, 1; M = 5, 3, 1.
  // P = (5/7 + 3/5 + 1) / 3 = 27/35, R = 1, F_2 = 5·P / (4·P + 1) = 135/143.
  ChrfScore chrf = corpus_chrf({"abcd", "xyz"}, {"ab", "xyz"});
  EXPECT_EQ(chrf.hyp_ngrams, (std::array<std::int64_t, 6>{7, 5, 1, 0, 0, 0}));
  EXPECT_EQ(chrf.ref_ngrams, (std::array<std::int64_t, 6>{5, 3, 1, 0, 0, 0}));
  EXPECT_EQ(chrf.matches, (std::array<std::int64_t, 6>{5, 3, 1, 0, 0, 0}));
  EXPECT_NEAR(chrf.precision, 100.0 * 27.0 / 35.0, 1e-12);
  EXPECT_NEAR(chrf.recall, 100.0, 1e-12);
  EXPECT_NEAR(chrf.score, 100.0 * 135.0 / 143.0, 1e-12);
}

TEST(Chrf, BetaWeighsRecall) {
  // "ab" vs "abcd": P = (2/2 + 1/1)/2 = 1, R = (2/4 + 1/3)/2 = 5/12; F_2 = 5·R / (4 + R) = 25/53.
  EXPECT_NEAR(corpus_chrf({"ab"}, {"abcd"}).score, 100.0 * 25.0 / 53.0, 1e-12);
}

TEST(Chrf, EmptyHypothesisIsZero) {
  ChrfScore chrf = corpus_chrf({""}, {"abc"});
  EXPECT_EQ(chrf.score, 0.0);
  EXPECT_EQ(chrf.ref_ngrams, (std::array<std::int64_t, 6>{3, 2, 1, 0, 0, 0}));
}

TEST(Chrf, Signature) {
  EXPECT_EQ(chrf_signature(),
            std::string("nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:heed-") +
                HEED_VERSION);
  EXPECT_EQ(corpus_chrf({"a"}, {"a"}).signature, chrf_signature());
}

TEST(Chrf, BadInputNamesTheProblem) {
  EXPECT_THROW_MSG(corpus_chrf({"a"}, {"a", "b"}), "corpus_chrf: 1 hypotheses but 2 references");
  EXPECT_THROW_MSG(corpus_chrf({"a"}, {""}), "corpus_chrf: reference 0 is empty");
  EXPECT_THROW_MSG(corpus_chrf({}, {}), "corpus_chrf: no sentences");
}

}  // namespace
}  // namespace heed
