// The validation holdout (data.valid_holdout, data.valid_holdout_block): which training examples
// move to validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <fstream>
#include <string>
#include <set>
#include <vector>

#include "heed/train/config.h"
#include "heed/train/task.h"
#include "testing/gradcheck.h"  // EXPECT_THROW_MSG
#include "testing/temp_dir.h"
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

// The examples train.seed = `seed` holds out of 200 training lines (50 of them, in blocks of 10),
// with data.valid_holdout_seed = `holdout_seed` when given.
std::vector<std::string> held_out_texts(std::uint64_t seed,
                                        std::optional<std::uint64_t> holdout_seed) {
  testing::TempDir dir;
  {
    std::ofstream train(dir.path() / "train.tsv");
    train << "label\ttext\n";
    for (int i = 0; i < 200; ++i) train << (i % 2 ? "pos" : "neg") << "\treview " << i << "\n";
  }
  nlohmann::json c = nlohmann::json::parse(R"({
    "task": "classification", "run_dir": "run",
    "data": {"train": "train.tsv", "valid_holdout": 50, "valid_holdout_block": 10},
    "model": {"type": "bigru_attention"},
    "train": {"max_epochs": 1, "optimizer": {"lr": 0.001}}
  })");
  c["train"]["seed"] = seed;
  if (holdout_seed) c["data"]["valid_holdout_seed"] = *holdout_seed;
  std::ofstream(dir.path() / "config.json") << c.dump();
  const Config config = load_config(dir.path() / "config.json", {}).config;
  ClassificationText text = read_classification_text(config);
  EXPECT_EQ(text.valid.texts.size(), 50u);
  EXPECT_EQ(text.train.texts.size(), 150u);
  return text.valid.texts;
}

TEST(Holdout, ItsOwnSeedKeepsTheSplitWhenTheTrainingSeedChanges) {
  // Models trained with different seeds on one split: their validation scores compare, and
  // an ensemble of them can be validated on examples none of them saw.
  EXPECT_NE(held_out_texts(1, std::nullopt), held_out_texts(2, std::nullopt));
  EXPECT_EQ(held_out_texts(1, std::nullopt), held_out_texts(2, 1));
  EXPECT_EQ(held_out_texts(2, 1), held_out_texts(3, 1));
  EXPECT_NE(held_out_texts(2, 1), held_out_texts(2, 2));
}

TEST(Holdout, WithoutValidationEveryExampleTrainsAndThereIsNoValidSplit) {
  testing::TempDir dir;
  {
    std::ofstream train(dir.path() / "train.tsv");
    train << "label\ttext\n";
    for (int i = 0; i < 200; ++i) train << (i % 2 ? "pos" : "neg") << "\treview " << i << "\n";
  }
  std::ofstream(dir.path() / "config.json") << R"({
    "task": "classification", "run_dir": "run",
    "data": {"train": "train.tsv", "valid_holdout": 50, "valid_holdout_block": 10},
    "model": {"type": "bigru_attention"},
    "train": {"max_epochs": 1, "optimizer": {"lr": 0.001}, "valid_every": 0}
  })";
  const Config config = load_config(dir.path() / "config.json", {}).config;
  const ClassificationText text = read_classification_text(config);
  EXPECT_EQ(text.train.texts.size(), 200u);
  EXPECT_EQ(text.train.texts[57], "review 57");  // in file order: nothing drawn
  EXPECT_TRUE(text.valid.texts.empty());
  EXPECT_THROW_MSG(read_classification_split(config, "valid"),
                   "the run trained without validation (train.valid_every 0)");
}

TEST(Holdout, ExtraTrainFilesAreNeverHeldOutAndTakeTheTrainingClasses) {
  // data.extra_train is another corpus: validation stays data.train's own, and an extra file's
  // labels map to data.train's class ids whatever order they come in.
  testing::TempDir dir;
  {
    std::ofstream train(dir.path() / "train.tsv");
    train << "label\ttext\n";
    for (int i = 0; i < 200; ++i) train << (i % 2 ? "pos" : "neg") << "\treview " << i << "\n";
    std::ofstream(dir.path() / "more.txt") << "pos more 0\npos more 1\nneg more 2\n";
    std::ofstream(dir.path() / "bad.txt") << "pos fine\nneutral not a training class\n";
  }
  std::ofstream(dir.path() / "config.json") << R"({
    "task": "classification", "run_dir": "run",
    "data": {"train": "train.tsv", "valid_holdout": 50, "valid_holdout_block": 10,
             "extra_train": [{"path": "more.txt", "format": "label_text"}]},
    "model": {"type": "bigru_attention"},
    "train": {"max_epochs": 1, "optimizer": {"lr": 0.001}}
  })";
  Config config = load_config(dir.path() / "config.json", {}).config;
  config.data.classification.labels = training_labels(config);
  ASSERT_EQ(config.data.classification.labels, (std::vector<std::string>{"neg", "pos"}));
  const ClassificationText text = read_classification_text(config);
  EXPECT_EQ(text.train.texts.size(), 150u);
  EXPECT_EQ(text.valid.texts.size(), 50u);
  for (const std::string& t : text.valid.texts) EXPECT_EQ(t.rfind("review ", 0), 0u) << t;

  const std::vector<ClassificationData> extra = read_extra_train(config);
  ASSERT_EQ(extra.size(), 1u);
  EXPECT_EQ(extra[0].texts, (std::vector<std::string>{"more 0", "more 1", "more 2"}));
  EXPECT_EQ(extra[0].labels, (std::vector<std::int32_t>{1, 1, 0}));  // "pos" is class 1

  config.data.classification.extra_train[0].path = dir.path() / "bad.txt";
  EXPECT_THROW_MSG(read_extra_train(config), "bad.txt:2: unknown label 'neutral'");
}

TEST(Holdout, RefusesToHoldOutEverything) {
  Rng rng = task_detail::holdout_rng(7);
  EXPECT_THROW(holdout_indices(10, 10, 1, rng, "examples"), Error);
}

}  // namespace
}  // namespace heed
