#include "heed/viz/tokens.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"
#include "testing/viz_fixtures.h"

namespace heed::viz {
namespace {

const std::string W(kWordStart);

// "▁Ein ▁Hund e ▁lief </s>": words Ein | Hunde | lief | </s>.
TokenAxis sentence() {
  return {{W + "Ein", W + "Hund", "e", W + "lief", "</s>"}, {false, false, false, false, true}};
}

TEST(TokenSpans, PiecesAsIs) {
  const auto spans = token_spans(sentence(), {});
  EXPECT_EQ(span_labels(spans),
            (std::vector<std::string>{W + "Ein", W + "Hund", "e", W + "lief", "</s>"}));
  EXPECT_EQ(spans[2].first, 2);
  EXPECT_EQ(spans[2].count, 1);
  EXPECT_TRUE(spans[4].special);
}

TEST(TokenSpans, WordsJoinPiecesUntilTheNextWordStart) {
  const auto spans = token_spans(sentence(), {.unit = TokenUnit::kWords});
  EXPECT_EQ(span_labels(spans), (std::vector<std::string>{"Ein", "Hunde", "lief", "</s>"}));
  EXPECT_EQ(spans[1].first, 1);
  EXPECT_EQ(spans[1].count, 2);
  EXPECT_EQ(spans[3].first, 4);
}

TEST(TokenSpans, SpecialTokensAreWordsOfTheirOwnAndCanBeHidden) {
  // A piece after a special token starts a word even without "▁"; <s> never joins a word.
  const TokenAxis axis{{"<s>", "ab", "c", W + "d"}, {true, false, false, false}};
  EXPECT_EQ(span_labels(token_spans(axis, {.unit = TokenUnit::kWords})),
            (std::vector<std::string>{"<s>", "abc", "d"}));
  const auto hidden = token_spans(axis, {.unit = TokenUnit::kWords, .hide_special = true});
  EXPECT_EQ(span_labels(hidden), (std::vector<std::string>{"abc", "d"}));
  EXPECT_TRUE(spans_drop_tokens(hidden, 4));
  EXPECT_FALSE(spans_drop_tokens(token_spans(axis, {}), 4));
}

TEST(TokenSpans, LoneWordStartKeepsItsMark) {
  const TokenAxis axis{{W, W + "x"}, {false, false}};
  EXPECT_EQ(span_labels(token_spans(axis, {.unit = TokenUnit::kWords})),
            (std::vector<std::string>{W, "x"}));
}

TEST(TokenSpans, RejectsMismatchedFlags) {
  EXPECT_THROW_MSG(token_spans(TokenAxis{{"a", "b"}, {false}}, {}),
                   "token_spans: 2 pieces but 1 special flags");
}

TEST(MergeSpans, SumsColumnsAndAveragesRows) {
  // Rows: target pieces [A, B1, B2]; columns: source pieces [x, y1, y2]. Words: A | B, x | y.
  const Matrix m(3, 3,
                 {0.5f, 0.25f, 0.25f,  //
                  0.1f, 0.6f, 0.3f,    //
                  0.3f, 0.3f, 0.4f});
  const std::vector<TokenSpan> rows{{"A", 0, 1}, {"B", 1, 2}}, cols{{"x", 0, 1}, {"y", 1, 2}};
  const Matrix w = merge_spans(m, rows, cols);
  ASSERT_EQ(w.rows, 2);
  ASSERT_EQ(w.cols, 2);
  EXPECT_FLOAT_EQ(w(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(w(0, 1), 0.5f);               // 0.25 + 0.25
  EXPECT_FLOAT_EQ(w(1, 0), (0.1f + 0.3f) / 2);  // mean over B1, B2 of x
  EXPECT_FLOAT_EQ(w(1, 1), (0.6f + 0.3f + 0.3f + 0.4f) / 2);
}

TEST(MergeSpans, MergedRowsOfDistributionsStillSumToOne) {
  Rng rng(11);
  const TokenAxis target =
      testing::pieces_of({"a", "wonderful", "evening", "outside"}, false, true);
  const TokenAxis source = testing::pieces_of({"ein", "wunderbarer", "Abend", "draussen", "."});
  const Tensor w = testing::random_attention(1, 0, target.size(), source.size(), {target.size()},
                                             {source.size()}, false, rng);
  const Matrix m(target.size(), source.size(), std::vector<float>(w.data(), w.data() + w.numel()));
  const LabelOptions words{.unit = TokenUnit::kWords};
  const Matrix merged = merge_spans(m, token_spans(target, words), token_spans(source, words));
  EXPECT_EQ(merged.rows, 5);  // a wonderful evening outside </s>
  EXPECT_EQ(merged.cols, 5);
  for (int r = 0; r < merged.rows; ++r) {
    double sum = 0;
    for (int c = 0; c < merged.cols; ++c) sum += merged(r, c);
    EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
  }
}

TEST(MergeSpans, HiddenColumnsLeaveRowsBelowOne) {
  // Decoder self-attention over <s> a b: hiding <s> drops its column, not renormalized.
  const TokenAxis axis{{"<s>", W + "a", W + "b"}, {true, false, false}};
  const Matrix m(3, 3, {1.f, 0.f, 0.f, 0.4f, 0.6f, 0.f, 0.2f, 0.3f, 0.5f});
  const auto spans = token_spans(axis, {.hide_special = true});
  const Matrix h = merge_spans(m, spans, spans);
  ASSERT_EQ(h.rows, 2);
  EXPECT_FLOAT_EQ(h(0, 0) + h(0, 1), 0.6f);
  EXPECT_FLOAT_EQ(h(1, 0) + h(1, 1), 0.8f);
}

TEST(MergeSpans, WeightVectorsAreSummed) {
  const std::vector<float> w{0.1f, 0.2f, 0.3f, 0.4f};
  const std::vector<float> merged = merge_spans(w, {{"a", 0, 1}, {"bcd", 1, 3}});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_FLOAT_EQ(merged[0], 0.1f);
  EXPECT_FLOAT_EQ(merged[1], 0.9f);
}

TEST(MergeSpans, RejectsSpansOutsideTheMatrix) {
  const Matrix m(2, 2);
  EXPECT_THROW_MSG(merge_spans(m, {{"a", 1, 2}}, {{"x", 0, 1}}),
                   "merge_spans: row span 'a' [1, 3) outside the 2 tokens");
  EXPECT_THROW_MSG(Matrix(2, 2, {1.f}), "Matrix: 2x2 needs 4 values (got 1)");
}

}  // namespace
}  // namespace heed::viz
