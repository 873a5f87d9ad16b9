#include "heed/viz/alignment.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"

namespace heed::viz {
namespace {

const std::string W(kWordStart);

TEST(HardAlignment, RowArgmaxSortedBySourceThenTarget) {
  // Targets (rows) 0..3 over sources 0..2: argmaxes 2, 0, 2, 1.
  const Matrix a(4, 3,
                 {0.1f, 0.2f, 0.7f,  //
                  0.8f, 0.1f, 0.1f,  //
                  0.3f, 0.3f, 0.4f,  //
                  0.2f, 0.5f, 0.3f});
  const std::vector<AlignmentLink> links = hard_alignment(a);
  EXPECT_EQ(links, (std::vector<AlignmentLink>{{0, 1}, {1, 3}, {2, 0}, {2, 2}}));
  EXPECT_EQ(format_alignment(links), "0-1 1-3 2-0 2-2");  // Marian's "source-target" pairs
}

TEST(HardAlignment, TiesGoToTheFirstSourceWord) {
  const Matrix a(1, 3, {0.25f, 0.5f, 0.5f});
  EXPECT_EQ(format_alignment(hard_alignment(a)), "1-0");
}

TEST(HardAlignment, EmptyInputs) {
  EXPECT_EQ(format_alignment(hard_alignment(Matrix(2, 0))), "");
  EXPECT_EQ(format_alignment({}), "");
}

TEST(WordAlignment, MergesPiecesAndDropsTheEosRow) {
  // Source words: "Ein" | "Hund" + "e" (pieces 1-2) | "bellt"; target: "Dog" + "s" | "bark" | </s>.
  const TokenAxis source{{W + "Ein", W + "Hund", "e", W + "bellt"}, {false, false, false, false}};
  const TokenAxis target{{W + "Dog", "s", W + "bark", "</s>"}, {false, false, false, true}};
  // Piece by piece "Dog" would align to "Ein" (0.4); merged, "Hunde" gets (0.6 + 0.8) / 2.
  const Matrix a(4, 4,
                 {0.4f, 0.35f, 0.25f, 0.0f,  // Dog
                  0.1f, 0.3f, 0.5f, 0.1f,    // s
                  0.1f, 0.1f, 0.1f, 0.7f,    // bark
                  0.9f, 0.0f, 0.0f, 0.1f});  // </s>: not a word
  EXPECT_EQ(word_alignment(a, source, target), "1-0 2-1");
}

TEST(WordAlignment, RejectsMismatchedSizes) {
  const TokenAxis one{{W + "a"}, {false}};
  EXPECT_THROW_MSG(word_alignment(Matrix(2, 1), one, one),
                   "word_alignment: attention is 2x1 but the target has 1 tokens and the source 1");
}

}  // namespace
}  // namespace heed::viz
