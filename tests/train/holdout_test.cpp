// The validation holdout (data.valid_holdout, data.valid_holdout_block): which training examples
// move to validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "train/task_common.h"

namespace heed {
namespace {

using task_detail::holdout_indices;

std::vector<std::int64_t> draw(std::int64_t n, std::int64_t count, std::int64_t block) {
  Rng rng = task_detail::holdout_rng(7);
  return holdout_indices(n, count, block, rng, "examples");
}

TEST(Holdout, DrawsDistinctSortedIndicesInRange) {
  for (std::int64_t block : {1, 3, 50}) {
    const auto held = draw(1000, 120, block);
    ASSERT_EQ(held.size(), 120u) << "block " << block;
    EXPECT_TRUE(std::is_sorted(held.begin(), held.end()));
    EXPECT_EQ(std::set<std::int64_t>(held.begin(), held.end()).size(), held.size());
    EXPECT_GE(held.front(), 0);
    EXPECT_LT(held.back(), 1000);
  }
}

TEST(Holdout, BlockOneIsThePartialShuffleOfSingleExamples) {
  // What holdout_indices drew before blocks existed: the first `count` positions of a seeded
  // Fisher–Yates shuffle. Runs made then must keep their validation set on --resume.
  Rng rng = task_detail::holdout_rng(7);
  std::vector<std::int64_t> order(1000);
  for (std::int64_t i = 0; i < 1000; ++i) order[i] = i;
  for (std::int64_t i = 0; i < 120; ++i) std::swap(order[i], order[rng.randint(i, 1000)]);
  order.resize(120);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(draw(1000, 120, 1), order);
}

TEST(Holdout, BlocksAreWholeAlignedRunsOfConsecutiveExamples) {
  const std::int64_t block = 25;
  const auto held = draw(1000, 100, block);  // exactly four blocks
  std::set<std::int64_t> blocks;
  for (std::int64_t i : held) blocks.insert(i / block);
  ASSERT_EQ(blocks.size(), 4u);
  for (std::int64_t b : blocks) {
    for (std::int64_t i = b * block; i < (b + 1) * block; ++i) {
      EXPECT_TRUE(std::binary_search(held.begin(), held.end(), i)) << i;
    }
  }
}

TEST(Holdout, CountNotAMultipleOfTheBlockCutsTheLastBlockShort) {
  const auto held = draw(1000, 110, 25);
  EXPECT_EQ(held.size(), 110u);
  std::set<std::int64_t> blocks;
  for (std::int64_t i : held) blocks.insert(i / 25);
  EXPECT_EQ(blocks.size(), 5u);
}

TEST(Holdout, ShortFinalBlockOfTheDataIsUsable) {
  // n = 103 with blocks of 10: the last block is [100, 103).
  const auto held = draw(103, 102, 10);
  EXPECT_EQ(held.size(), 102u);
  EXPECT_LT(held.back(), 103);
}

TEST(Holdout, DependsOnTheSeed) {
  Rng a = task_detail::holdout_rng(1), b = task_detail::holdout_rng(2);
  EXPECT_NE(holdout_indices(1000, 100, 20, a, "examples"),
            holdout_indices(1000, 100, 20, b, "examples"));
}

TEST(Holdout, RefusesToHoldOutEverything) {
  Rng rng = task_detail::holdout_rng(7);
  EXPECT_THROW(holdout_indices(10, 10, 1, rng, "examples"), Error);
}

}  // namespace
}  // namespace heed
