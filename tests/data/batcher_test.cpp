#include "heed/data/batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "testing/gradcheck.h"  // EXPECT_THROW_MSG

namespace heed {
namespace {

using Ids = std::vector<std::int32_t>;

// Example i has tokens {10 + i, 10 + i, ...} of the given length, label i % 3.
std::vector<ClassificationExample> classification_examples(const std::vector<int>& lengths) {
  std::vector<ClassificationExample> examples;
  for (size_t i = 0; i < lengths.size(); ++i) {
    examples.push_back(
        {Ids(lengths[i], static_cast<std::int32_t>(10 + i)), static_cast<std::int32_t>(i % 3)});
  }
  return examples;
}

std::vector<int> random_lengths(int n, int max_length, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<int> lengths;
  for (int i = 0; i < n; ++i) lengths.push_back(static_cast<int>(rng.randint(1, max_length + 1)));
  return lengths;
}

std::vector<TranslationExample> translation_examples(int n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<TranslationExample> examples;
  for (int i = 0; i < n; ++i) {
    const auto S = rng.randint(1, 30);
    const auto T = std::max<std::int64_t>(1, S + rng.randint(-3, 4));
    TranslationExample e;
    for (std::int64_t s = 0; s < S; ++s) {
      e.source.push_back(static_cast<std::int32_t>(rng.randint(4, 500)));
    }
    for (std::int64_t t = 0; t < T; ++t) {
      e.target.push_back(static_cast<std::int32_t>(rng.randint(4, 500)));
    }
    examples.push_back(std::move(e));
  }
  return examples;
}

BatcherOptions in_order(std::int64_t max_tokens) {
  BatcherOptions options;
  options.max_tokens = max_tokens;
  options.bucketing = Bucketing::kNone;
  options.shuffle = false;
  return options;
}

// ---- collation, by hand

TEST(Batcher, TranslationCollate) {
  std::vector<TranslationExample> examples = {{{5, 6, 7}, {8, 9}}, {{11}, {12, 13, 14}}};
  TranslationBatcher batcher(examples, in_order(100), Rng(1));
  ASSERT_EQ(batcher.batches_per_epoch(), 1);
  const TranslationBatch batch = batcher.next();
  EXPECT_EQ(batch.source.shape(), (Shape{2, 3}));
  EXPECT_EQ(batch.source.values(), (Ids{5, 6, 7, 11, 0, 0}));
  EXPECT_EQ(batch.source_lengths.values(), (Ids{3, 1}));
  EXPECT_EQ(batch.target_in.shape(), (Shape{2, 4}));
  EXPECT_EQ(batch.target_in.values(), (Ids{kBosId, 8, 9, 0, kBosId, 12, 13, 14}));
  EXPECT_EQ(batch.target_out.values(), (Ids{8, 9, kEosId, 0, 12, 13, 14, kEosId}));
  EXPECT_EQ(batch.target_lengths.values(), (Ids{3, 4}));
  EXPECT_EQ(batch.example_ids, (std::vector<std::int64_t>{0, 1}));
  EXPECT_TRUE(batcher.at_epoch_end());

  // Padding: source 4 of 6 slots real, target 7 of 8.
  const PaddingStats padding = batcher.padding_stats();
  EXPECT_EQ(padding.batches, 1);
  EXPECT_EQ(padding.examples, 2);
  EXPECT_EQ(padding.tokens, 11);
  EXPECT_EQ(padding.slots, 14);
  EXPECT_DOUBLE_EQ(padding.padding_fraction(), 3.0 / 14.0);
}

TEST(Batcher, ClassificationCollate) {
  ClassificationBatcher batcher({{{4, 5}, 1}, {{6, 7, 8}, 0}, {{9}, 2}}, in_order(100), Rng(1));
  const ClassificationBatch batch = batcher.next();
  EXPECT_EQ(batch.tokens.shape(), (Shape{3, 3}));
  EXPECT_EQ(batch.tokens.values(), (Ids{4, 5, 0, 6, 7, 8, 9, 0, 0}));
  EXPECT_EQ(batch.lengths.values(), (Ids{2, 3, 1}));
  EXPECT_EQ(batch.labels.values(), (Ids{1, 0, 2}));
}

TEST(Batcher, DocumentCollate) {
  std::vector<DocumentExample> docs = {
      {{{4, 5, 6}, {7}}, 1},
      {{{8}, {}, {9, 10}, {11}}, 0},  // the empty sentence is removed
  };
  DocumentBatcher batcher(docs, in_order(100), Rng(1));
  const DocumentBatch batch = batcher.next();
  EXPECT_EQ(batch.tokens.shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(batch.tokens.values(), (Ids{4, 5, 6, 7, 0, 0, 0, 0, 0,  //
                                        8, 0, 0, 9, 10, 0, 11, 0, 0}));
  EXPECT_EQ(batch.sentence_lengths.values(), (Ids{3, 1, 0, 1, 2, 1}));
  EXPECT_EQ(batch.sentence_counts.values(), (Ids{2, 3}));
  EXPECT_EQ(batch.labels.values(), (Ids{1, 0}));
  EXPECT_EQ(batcher.padding_stats().tokens, 8);
  EXPECT_EQ(batcher.padding_stats().slots, 18);
}

// ---- token budget and bucketing

TEST(Batcher, GreedyPackingUnderTheTokenBudget) {
  // Lengths 20, 19, ..., 1 sorted globally (no shuffle): 1..4 fit 4×4 = 16 ≤ 20, 5 would need
  // 5×5 = 25; then {5,6} (12), {7,8} (16), {9,10} (20), and one example per batch from 11 on.
  std::vector<int> lengths(20);
  std::iota(lengths.rbegin(), lengths.rend(), 1);
  BatcherOptions options = in_order(20);
  options.bucketing = Bucketing::kGlobal;
  ClassificationBatcher batcher(classification_examples(lengths), options, Rng(1));
  ASSERT_EQ(batcher.batches_per_epoch(), 14);
  std::vector<std::vector<int>> batch_lengths;
  for (const auto& batch : batcher.epoch_plan()) {
    std::vector<int> ls;
    for (std::int64_t i : batch) ls.push_back(static_cast<int>(batcher.example(i).tokens.size()));
    batch_lengths.push_back(ls);
  }
  EXPECT_EQ(batch_lengths[0], (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(batch_lengths[1], (std::vector<int>{5, 6}));
  EXPECT_EQ(batch_lengths[3], (std::vector<int>{9, 10}));
  EXPECT_EQ(batch_lengths[4], (std::vector<int>{11}));
  EXPECT_EQ(batch_lengths[13], (std::vector<int>{20}));
  // Row order in a batch follows the plan; example_ids point back at the input positions.
  const ClassificationBatch first = batcher.next();
  EXPECT_EQ(first.example_ids, (std::vector<std::int64_t>{19, 18, 17, 16}));
  EXPECT_EQ(first.lengths.values(), (Ids{1, 2, 3, 4}));
  EXPECT_EQ(first.tokens.shape(), (Shape{4, 4}));
}

TEST(Batcher, MaxBatchSizeCapsRows) {
  BatcherOptions options = in_order(1000);
  options.max_batch_size = 3;
  ClassificationBatcher batcher(classification_examples(std::vector<int>(10, 2)), options, Rng(1));
  EXPECT_EQ(batcher.batches_per_epoch(), 4);  // 3 + 3 + 3 + 1
  for (const auto& batch : batcher.epoch_plan()) EXPECT_LE(batch.size(), 3u);
}

// Every epoch visits every example exactly once, and every batch respects the budget.
template <typename Batcher>
void expect_valid_epoch(const Batcher& batcher, std::int64_t max_tokens) {
  std::vector<int> seen(batcher.size(), 0);
  for (const auto& batch : batcher.epoch_plan()) {
    const auto collated = batcher.collate(batch);
    EXPECT_LE(collated.tokens.numel(), max_tokens);
    for (std::int64_t i : batch) seen[i] += 1;
  }
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

TEST(Batcher, BucketingModesCoverEveryExampleAndReducePadding) {
  const auto examples = classification_examples(random_lengths(3000, 60, 7));
  double padding[3];
  const Bucketing modes[3] = {Bucketing::kNone, Bucketing::kChunks, Bucketing::kGlobal};
  for (int m = 0; m < 3; ++m) {
    BatcherOptions options;
    options.max_tokens = 600;
    options.bucketing = modes[m];
    options.chunk_size = 500;
    ClassificationBatcher batcher(examples, options, Rng(3));
    expect_valid_epoch(batcher, 600);
    padding[m] = batcher.padding_stats().padding_fraction();
  }
  // Lengths uniform in [1, 60]: random batches are ~half padding, sorted chunks very little.
  EXPECT_GT(padding[0], 0.3);
  EXPECT_LT(padding[1], 0.05);
  EXPECT_LT(padding[2], padding[1]);
}

TEST(Batcher, ShuffleIsSeededAndChangesPerEpoch) {
  const auto examples = classification_examples(random_lengths(500, 40, 11));
  BatcherOptions options;
  options.max_tokens = 200;
  options.chunk_size = 100;
  ClassificationBatcher a(examples, options, Rng(5)), b(examples, options, Rng(5)),
      c(examples, options, Rng(6));
  EXPECT_EQ(a.epoch_plan(), b.epoch_plan());
  EXPECT_NE(a.epoch_plan(), c.epoch_plan());
  const auto epoch0 = a.epoch_plan();
  for (std::int64_t i = 0; i <= a.batches_per_epoch(); ++i) a.next();  // into epoch 1
  EXPECT_EQ(a.state().epoch, 1);
  EXPECT_EQ(a.state().position, 1);
  EXPECT_NE(a.epoch_plan(), epoch0);
  expect_valid_epoch(a, 200);
}

TEST(Batcher, BatchesInEpochsCountsEachEpochsOwnPlan) {
  // Shuffled chunks pack differently every epoch, so epochs differ in batch count; the planned
  // total must equal what next() actually returns, also after the batcher has moved on.
  const auto examples = classification_examples(random_lengths(700, 50, 13));
  BatcherOptions options;
  options.max_tokens = 230;
  options.chunk_size = 90;
  ClassificationBatcher batcher(examples, options, Rng(4));
  std::vector<std::int64_t> per_epoch;
  while (per_epoch.size() < 5) {
    batcher.next();
    if (batcher.at_epoch_end()) per_epoch.push_back(batcher.batches_per_epoch());
  }
  EXPECT_NE(*std::min_element(per_epoch.begin(), per_epoch.end()),
            *std::max_element(per_epoch.begin(), per_epoch.end()))
      << "the data should make epochs differ, or this test checks nothing";
  EXPECT_EQ(batcher.batches_in_epochs(0), 0);
  for (std::int64_t e = 1; e <= 5; ++e) {
    EXPECT_EQ(batcher.batches_in_epochs(e),
              std::accumulate(per_epoch.begin(), per_epoch.begin() + e, std::int64_t{0}));
  }
}

// ---- training windows

// The first position of `window` in `tokens`, or -1.
std::int64_t find_run(const Ids& tokens, const Ids& window) {
  const auto at = std::search(tokens.begin(), tokens.end(), window.begin(), window.end());
  return at == tokens.end() ? -1 : at - tokens.begin();
}

// Example i: tokens 4 + (i * 100 + t) for t < length, so every window shows where it starts.
std::vector<ClassificationExample> counting_examples(const std::vector<int>& lengths) {
  std::vector<ClassificationExample> examples;
  for (size_t i = 0; i < lengths.size(); ++i) {
    Ids tokens(lengths[i]);
    std::iota(tokens.begin(), tokens.end(), static_cast<std::int32_t>(4 + 100 * i));
    examples.push_back({tokens, static_cast<std::int32_t>(i % 2)});
  }
  return examples;
}

TEST(Batcher, WindowsCropLongTextsToRandomRunsThatChangePerEpoch) {
  const std::vector<int> lengths = {3, 8, 30, 60, 60, 5, 90, 8};
  const auto examples = counting_examples(lengths);
  BatcherOptions options;
  options.max_tokens = 24;  // 3 windows of 8: packing plans with window sizes, not 90
  options.window = 8;
  ClassificationBatcher batcher(examples, options, Rng(2));
  std::vector<std::set<std::int64_t>> offsets(lengths.size());
  for (int epoch = 0; epoch < 12; ++epoch) {
    std::vector<int> seen(lengths.size(), 0);
    do {
      const ClassificationBatch batch = batcher.next();
      const std::int64_t T = batch.tokens.size(1);
      EXPECT_LE(batch.tokens.numel(), options.max_tokens);
      for (std::int64_t b = 0; b < batch.tokens.size(0); ++b) {
        const std::int64_t id = batch.example_ids[b];
        const int n = batch.lengths.data()[b];
        EXPECT_EQ(n, std::min(lengths[id], 8));
        EXPECT_EQ(batch.labels.data()[b], id % 2);
        const Ids window(batch.tokens.data() + b * T, batch.tokens.data() + b * T + n);
        const std::int64_t at = find_run(examples[id].tokens, window);
        ASSERT_GE(at, 0) << "example " << id << ": not a run of its tokens";
        offsets[id].insert(at);
        seen[id] += 1;
      }
    } while (!batcher.at_epoch_end());
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  }
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] <= 8) {
      EXPECT_EQ(offsets[i], std::set<std::int64_t>{0}) << "example " << i << " fits: whole";
    } else {
      EXPECT_GE(offsets[i].size(), 6u) << "example " << i << ": windows should move";
      EXPECT_LE(*offsets[i].rbegin(), lengths[i] - 8);
    }
  }
  // Padding is counted on what the batches hold: windows of at most 8.
  EXPECT_LE(batcher.padding_stats().tokens, static_cast<std::int64_t>(lengths.size()) * 8);
}

TEST(Batcher, WindowsAreReproducedOnResume) {
  const auto examples = counting_examples(random_lengths(120, 70, 5));
  BatcherOptions options;
  options.max_tokens = 100;
  options.chunk_size = 40;
  options.window = 20;
  ClassificationBatcher run(examples, options, Rng(3));
  for (std::int64_t i = 0; i < run.batches_per_epoch() + 3; ++i) run.next();  // into epoch 1
  const BatcherState saved = run.state();
  ClassificationBatcher resumed(examples, options, Rng(77));
  resumed.set_state(saved);
  for (int i = 0; i < 2 * run.batches_per_epoch(); ++i) {
    const ClassificationBatch a = run.next(), b = resumed.next();
    ASSERT_EQ(a.example_ids, b.example_ids);
    ASSERT_EQ(a.tokens.values(), b.tokens.values());
  }
}

TEST(Batcher, AWindowLongerThanEveryTextChangesNoBatch) {
  const auto examples = classification_examples(random_lengths(300, 40, 8));
  BatcherOptions options;
  options.max_tokens = 160;
  options.chunk_size = 64;
  ClassificationBatcher plain(examples, options, Rng(6));
  options.window = 40;
  ClassificationBatcher wide(examples, options, Rng(6));
  ASSERT_EQ(plain.epoch_plan(), wide.epoch_plan());
  for (const auto& indices : plain.epoch_plan()) {
    ASSERT_EQ(plain.collate(indices).tokens.values(), wide.collate(indices).tokens.values());
  }
  EXPECT_THROW_MSG(TranslationBatcher(translation_examples(3, 1), options, Rng(1)),
                   "training windows are for classification examples only");
}

// ---- exact resumption

void expect_same(const TranslationBatch& x, const TranslationBatch& y) {
  EXPECT_EQ(x.source.shape(), y.source.shape());
  EXPECT_EQ(x.source.values(), y.source.values());
  EXPECT_EQ(x.target_in.values(), y.target_in.values());
  EXPECT_EQ(x.target_out.values(), y.target_out.values());
  EXPECT_EQ(x.source_lengths.values(), y.source_lengths.values());
  EXPECT_EQ(x.target_lengths.values(), y.target_lengths.values());
  EXPECT_EQ(x.example_ids, y.example_ids);
}

TEST(Batcher, RestoredStateReproducesTheFollowingBatches) {
  const auto examples = translation_examples(400, 21);
  BatcherOptions options;
  options.max_tokens = 300;
  options.chunk_size = 128;
  // Where to save: at the start, in the middle of epoch 1, at the exact end of epoch 1 (the
  // next call starts epoch 2). Epochs may differ in batch count (packing depends on the order).
  enum class SavePoint { kStart, kMidEpoch1, kEndOfEpoch1 };
  for (Bucketing bucketing : {Bucketing::kNone, Bucketing::kChunks, Bucketing::kGlobal}) {
    options.bucketing = bucketing;
    for (SavePoint point : {SavePoint::kStart, SavePoint::kMidEpoch1, SavePoint::kEndOfEpoch1}) {
      TranslationBatcher run(examples, options, Rng(9));
      const auto reached = [&] {
        const BatcherState& s = run.state();
        switch (point) {
          case SavePoint::kStart:
            return true;
          case SavePoint::kMidEpoch1:
            return s.epoch == 1 && s.position == run.batches_per_epoch() / 2;
          case SavePoint::kEndOfEpoch1:
            return s.epoch == 1 && run.at_epoch_end();
        }
        return false;
      };
      while (!reached()) run.next();
      const BatcherState saved = run.state();  // a plain struct: copy = save
      const std::int64_t count = 2 * run.batches_per_epoch() + 5;  // crosses an epoch boundary
      std::vector<TranslationBatch> expected;
      for (std::int64_t i = 0; i < count; ++i) expected.push_back(run.next());

      TranslationBatcher resumed(examples, options, Rng(12345));  // the seed is in the state
      resumed.set_state(saved);
      for (std::int64_t i = 0; i < count; ++i) expect_same(resumed.next(), expected[i]);
      EXPECT_EQ(resumed.state().epoch, run.state().epoch);
      EXPECT_EQ(resumed.state().position, run.state().position);
      EXPECT_EQ(resumed.state().rng.seed, run.state().rng.seed);
      EXPECT_EQ(resumed.state().rng.counter, run.state().rng.counter);
      EXPECT_GE(run.state().epoch, point == SavePoint::kStart ? 2 : 3);
    }
  }
}

TEST(Batcher, SetStateRejectsPositionsPastTheEpoch) {
  ClassificationBatcher batcher(classification_examples({3, 3, 3, 3}), in_order(6), Rng(1));
  BatcherState state = batcher.state();
  state.position = 3;
  EXPECT_THROW_MSG(batcher.set_state(state),
                   "Batcher::set_state: position 3 is past the end of epoch 0 (2 batches)");
}

// ---- over-long and empty examples

TEST(Batcher, OverlongExamplesAreCroppedOrDropped) {
  std::vector<TranslationExample> examples = {
      {{4, 5, 6, 7, 8}, {9, 10}},  // source too long (5 > 4)
      {{4}, {5, 6, 7, 8}},         // target too long (4 + EOS > 4)
      {{4, 5}, {6, 7, 8}},         // fits exactly (T = 4)
      {{}, {5}},                   // empty source
  };
  BatcherOptions options = in_order(100);
  options.max_length = 4;
  TranslationBatcher cropped(examples, options, Rng(1));
  EXPECT_EQ(cropped.filter_stats().examples, 4);
  EXPECT_EQ(cropped.filter_stats().kept, 3);
  EXPECT_EQ(cropped.filter_stats().cropped, 2);
  EXPECT_EQ(cropped.filter_stats().dropped_empty, 1);
  const TranslationBatch batch = cropped.next();
  EXPECT_EQ(batch.source.values(), (Ids{4, 5, 6, 7, 4, 0, 0, 0, 4, 5, 0, 0}));
  EXPECT_EQ(batch.target_out.values(), (Ids{9, 10, kEosId, 0, 5, 6, 7, kEosId, 6, 7, 8, kEosId}));
  EXPECT_EQ(batch.example_ids, (std::vector<std::int64_t>{0, 1, 2}));

  options.overlong = Overlong::kDrop;
  TranslationBatcher dropped(examples, options, Rng(1));
  EXPECT_EQ(dropped.filter_stats().kept, 1);
  EXPECT_EQ(dropped.filter_stats().dropped_overlong, 2);
  EXPECT_EQ(dropped.next().example_ids, (std::vector<std::int64_t>{2}));
}

TEST(Batcher, DocumentLimits) {
  std::vector<DocumentExample> docs = {{{{4, 5, 6}, {7}, {8, 9}}, 0}, {{{4}}, 1}};
  BatcherOptions options = in_order(100);
  options.max_sentences = 2;
  options.max_length = 2;
  DocumentBatcher batcher(docs, options, Rng(1));
  EXPECT_EQ(batcher.filter_stats().cropped, 1);
  const DocumentBatch batch = batcher.next();
  EXPECT_EQ(batch.tokens.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(batch.tokens.values(), (Ids{4, 5, 7, 0, 4, 0, 0, 0}));
  EXPECT_EQ(batch.sentence_counts.values(), (Ids{2, 1}));
}

TEST(Batcher, BadInputErrors) {
  EXPECT_THROW_MSG(ClassificationBatcher(classification_examples({3, 12}), in_order(10), Rng(1)),
                   "Batcher: example 1 alone needs 12 = 12 tokens, more than max_tokens=10");
  EXPECT_THROW_MSG(ClassificationBatcher({{{4, -2}, 0}}, in_order(10), Rng(1)),
                   "Batcher: example 0 has a negative token id -2 in tokens (position 1)");
  EXPECT_THROW_MSG(ClassificationBatcher({{{4}, -1}}, in_order(10), Rng(1)),
                   "Batcher: example 0 has a negative label -1");
  EXPECT_THROW_MSG(ClassificationBatcher({{{}, 0}}, in_order(10), Rng(1)),
                   "Batcher: no examples left of 1 (1 empty");
  BatcherOptions zero = in_order(0);
  EXPECT_THROW_MSG(ClassificationBatcher(classification_examples({1}), zero, Rng(1)),
                   "max_tokens=0");
  BatcherOptions one = in_order(10);
  one.max_length = 1;
  EXPECT_THROW_MSG(TranslationBatcher({{{4}, {5}}}, one, Rng(1)),
                   "max_length must be >= 2 for translation");
}

}  // namespace
}  // namespace heed
