// WordDropout (nn/dropout.h): which tokens become <unk>, how many, and when nothing happens.
#include <gtest/gtest.h>

#include "heed/nn/dropout.h"
#include "heed/tensor/special_ids.h"
#include "testing/gradcheck.h"  // EXPECT_THROW_MSG

namespace heed {
namespace {

// Rows of real tokens (ids 4..) followed by padding: row b has 200 - 10·b real tokens.
IntTensor padded_ids(Index B, Index T) {
  IntTensor ids(Shape{B, T}, kPadId);
  for (Index b = 0; b < B; ++b) {
    for (Index t = 0; t < T - 10 * b; ++t) ids.data()[b * T + t] = static_cast<std::int32_t>(4 + t);
  }
  return ids;
}

TEST(WordDropout, ReplacesAboutPOfTheRealTokensByUnkAndNeverPadding) {
  const IntTensor ids = padded_ids(8, 200);
  auto rng = std::make_shared<Rng>(3);
  WordDropout word_dropout(0.2f, rng);
  word_dropout.train();
  const std::uint64_t before = rng->state().counter;
  const IntTensor out = word_dropout.forward(ids);
  EXPECT_EQ(rng->state().counter, before + (ids.numel() + 3) / 4);  // one word per token
  ASSERT_EQ(out.shape(), ids.shape());
  Index real = 0, replaced = 0;
  for (Index i = 0; i < ids.numel(); ++i) {
    if (ids.data()[i] == kPadId) {
      EXPECT_EQ(out.data()[i], kPadId) << "padding at " << i << " must stay padding";
      continue;
    }
    real += 1;
    if (out.data()[i] != ids.data()[i]) {
      EXPECT_EQ(out.data()[i], kUnkId);
      replaced += 1;
    }
  }
  // 1,320 real tokens: the count is Binomial(1320, 0.2), mean 264, sd 14.5.
  EXPECT_EQ(real, 1320);
  EXPECT_NEAR(static_cast<double>(replaced) / static_cast<double>(real), 0.2, 0.04);
  // The same draw from the same generator state, another one after it.
  auto again = std::make_shared<Rng>(3);
  WordDropout same(0.2f, again);
  same.train();
  EXPECT_EQ(same.forward(ids).values(), out.values());
  EXPECT_NE(word_dropout.forward(ids).values(), out.values());
}

TEST(WordDropout, InactiveInEvaluationAndAtZero) {
  const IntTensor ids = padded_ids(3, 50);
  auto rng = std::make_shared<Rng>(5);
  const std::uint64_t before = rng->state().counter;
  WordDropout evaluating(0.5f, rng);
  evaluating.eval();
  EXPECT_EQ(evaluating.forward(ids).values(), ids.values());
  WordDropout off(0.f, rng);
  off.train();
  EXPECT_EQ(off.forward(ids).values(), ids.values());
  EXPECT_EQ(rng->state().counter, before) << "nothing may be drawn: old runs keep their stream";
  EXPECT_THROW_MSG(WordDropout(1.f, rng), "WordDropout: p must be in [0, 1) (got 1)");
  EXPECT_THROW_MSG(WordDropout(0.1f, nullptr), "WordDropout: p > 0 needs a random generator");
}

}  // namespace
}  // namespace heed
