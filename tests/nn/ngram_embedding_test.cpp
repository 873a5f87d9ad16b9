// NgramEmbedding (nn/ngram_embedding.h): which rows each position reads, padding, the spread of
// the hash, the gradient, and n-gram dropout.
#include "heed/nn/ngram_embedding.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/tensor/special_ids.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::gradcheck;

NgramEmbedding make_ngrams(Index buckets, Index dim, int order, std::uint64_t seed = 1) {
  Rng rng(seed);
  return NgramEmbedding({.buckets = buckets, .dim = dim, .max_order = order}, rng);
}

std::int32_t at(const IntTensor& t, std::initializer_list<Index> index) {
  Index flat = 0;
  int axis = 0;
  for (Index i : index) flat = flat * t.shape()[axis++] + i;
  return t.data()[flat];
}

TEST(NgramEmbedding, EachPositionReadsTheNgramsEndingThere) {
  const NgramEmbedding ngrams = make_ngrams(1 << 20, 2, 3);
  // Row 0: "5 6 7 5 6" then padding; row 1: "6 7 5" then padding; row 2: "2 5 6".
  IntTensor ids(Shape{3, 6}, kPadId);
  const std::vector<std::vector<std::int32_t>> rows = {{5, 6, 7, 5, 6}, {6, 7, 5}, {kBosId, 5, 6}};
  for (Index r = 0; r < 3; ++r)
    std::copy(rows[r].begin(), rows[r].end(), ids.data() + r * 6);
  const IntTensor buckets = ngrams.bucket_ids(ids);
  ASSERT_EQ(buckets.shape(), (Shape{3, 6, 2}));  // bigram, trigram at each position
  for (Index i = 0; i < buckets.numel(); ++i) {
    EXPECT_GE(buckets.data()[i], 0);
    EXPECT_LT(buckets.data()[i], 1 << 20);
  }
  // Padding reads row 0; real positions never do.
  for (Index t = 5; t < 6; ++t) EXPECT_EQ(at(buckets, {0, t, 0}), kPadId);
  for (Index t = 3; t < 6; ++t) EXPECT_EQ(at(buckets, {1, t, 1}), kPadId);
  for (Index t = 0; t < 5; ++t) EXPECT_NE(at(buckets, {0, t, 0}), kPadId);
  // The same n-gram gets the same bucket wherever it is: "5 6" at 0:1 and 0:4, "6 7 5" at 0:3
  // and at 1:2, the bigram "7 5" at 0:3 and 1:2.
  EXPECT_EQ(at(buckets, {0, 1, 0}), at(buckets, {0, 4, 0}));
  EXPECT_EQ(at(buckets, {0, 3, 1}), at(buckets, {1, 2, 1}));
  EXPECT_EQ(at(buckets, {0, 3, 0}), at(buckets, {1, 2, 0}));
  // Before the start reads as BOS: position 0 of "5 6 7" is the bigram "<s> 5", which row 2
  // spells out at its position 1.
  EXPECT_EQ(at(buckets, {0, 0, 0}), at(buckets, {2, 1, 0}));
  EXPECT_EQ(at(buckets, {0, 1, 1}), at(buckets, {2, 2, 1}));  // "<s> 5 6"
  // Order matters and orders differ: "5 6" vs "6 5"-free contexts, "5 6" vs "<s> 5 6".
  EXPECT_NE(at(buckets, {0, 1, 0}), at(buckets, {0, 2, 0}));  // "5 6" vs "6 7"
  EXPECT_NE(at(buckets, {0, 1, 0}), at(buckets, {0, 1, 1}));  // "5 6" vs "<s> 5 6"
  IntTensor reversed(Shape{1, 2}, 0);
  reversed.data()[0] = 6;
  reversed.data()[1] = 5;
  EXPECT_NE(ngrams.bucket_ids(reversed).data()[1 * 2], at(buckets, {0, 1, 0}));  // "6 5" ≠ "5 6"
  // The bigram of an order-2 table is the order-3 table's bigram.
  const IntTensor bigrams = make_ngrams(1 << 20, 2, 2).bucket_ids(ids);
  ASSERT_EQ(bigrams.shape(), (Shape{3, 6, 1}));
  for (Index i = 0; i < bigrams.numel(); ++i) EXPECT_EQ(bigrams.data()[i], buckets.data()[2 * i]);
}

TEST(NgramEmbedding, HashSpreadsNgramsEvenlyOverTheBuckets) {
  // All 10,000 bigrams of 100 token ids into 1,001 buckets (1,000 shared): ~10 per bucket. A
  // uniform hash gives a Poisson(10) count per bucket; max and min stay within a few sd.
  const NgramEmbedding ngrams = make_ngrams(1001, 1, 2);
  IntTensor ids(Shape{100 * 100, 2}, 0);
  for (Index a = 0; a < 100; ++a)
    for (Index b = 0; b < 100; ++b) {
      ids.data()[(a * 100 + b) * 2] = static_cast<std::int32_t>(4 + a);
      ids.data()[(a * 100 + b) * 2 + 1] = static_cast<std::int32_t>(4 + b);
    }
  const IntTensor buckets = ngrams.bucket_ids(ids);
  std::vector<int> count(1001, 0);
  for (Index r = 0; r < 100 * 100; ++r) count[buckets.data()[r * 2 + 1]] += 1;
  EXPECT_EQ(count[0], 0);
  const auto [lo, hi] = std::minmax_element(count.begin() + 1, count.end());
  EXPECT_GE(*lo, 1);
  EXPECT_LE(*hi, 25);
  double chi2 = 0;
  for (Index k = 1; k < 1001; ++k) chi2 += (count[k] - 10.0) * (count[k] - 10.0) / 10.0;
  EXPECT_LT(chi2, 1000 + 5 * std::sqrt(2.0 * 1000));  // χ²(999): mean 999, sd 44.7
}

TEST(NgramEmbedding, ForwardSumsTheRowsOfItsNgrams) {
  const NgramEmbedding ngrams = make_ngrams(50, 4, 3);
  IntTensor ids(Shape{2, 3}, kPadId);
  const std::vector<std::int32_t> values = {4, 9, 4, 7, 8, kPadId};
  std::copy(values.begin(), values.end(), ids.data());
  const Tensor out = ngrams.forward(ids);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
  const IntTensor buckets = ngrams.bucket_ids(ids);
  const float* w = ngrams.weight_.data();
  for (Index p = 0; p < 6; ++p) {
    for (Index d = 0; d < 4; ++d) {
      const float want = w[buckets.data()[p * 2] * 4 + d] + w[buckets.data()[p * 2 + 1] * 4 + d];
      EXPECT_FLOAT_EQ(out.data()[p * 4 + d], want) << "position " << p << " feature " << d;
    }
  }
  for (Index d = 0; d < 4; ++d) EXPECT_EQ(out.data()[5 * 4 + d], 0.f);  // padding: zero
}

TEST(NgramEmbedding, GradcheckAndPaddingRowGetsNoGradient) {
  for (int order : {2, 3}) {
    NgramEmbedding ngrams = make_ngrams(7, 3, order, 2);
    // Without padding first: row 0 is read only by padding, whose rows get no gradient, so a
    // finite difference on it would (rightly) disagree with the analytic zero.
    IntTensor ids(Shape{2, 4}, kPadId);
    const std::vector<std::int32_t> values = {4, 5, 4, 5, 6, 4, 7, 4};
    std::copy(values.begin(), values.end(), ids.data());
    EXPECT_TRUE(gradcheck(
        [&](const std::vector<Tensor>& in) {
          ngrams.weight_ = in[0];
          return ngrams.forward(ids);
        },
        {ngrams.weight_}))
        << "order " << order;
    ids.data()[6] = ids.data()[7] = kPadId;
    ngrams.weight_.zero_grad();
    backward(ngrams.forward(ids), Tensor::ones(Shape{2, 4, 3}));
    for (Index d = 0; d < 3; ++d) EXPECT_EQ(ngrams.weight_.grad().data()[d], 0.f);
    for (Index d = 0; d < 3; ++d) EXPECT_EQ(ngrams.weight_.data()[d], 0.f);
  }
}

TEST(NgramEmbedding, FactorizedTableMapsItsSumToTheEmbeddingSize) {
  Rng rng(3);
  NgramEmbedding ngrams({.buckets = 9, .dim = 4, .max_order = 3, .table_dim = 2}, rng);
  EXPECT_EQ(ngrams.table_dim(), 2);
  const NamedParameters params = ngrams.named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].first, "weight");
  EXPECT_EQ(params[0].second.shape(), (Shape{9, 2}));
  EXPECT_EQ(params[1].first, "proj.weight");
  EXPECT_EQ(params[1].second.shape(), (Shape{4, 2}));
  IntTensor ids(Shape{1, 3}, kPadId);
  ids.data()[0] = 4;
  ids.data()[1] = 6;
  const Tensor out = ngrams.forward(ids);
  ASSERT_EQ(out.shape(), (Shape{1, 3, 4}));
  const IntTensor buckets = ngrams.bucket_ids(ids);
  const float* w = params[0].second.data();
  const float* p = params[1].second.data();  // [D, R]
  for (Index t = 0; t < 3; ++t) {
    for (Index d = 0; d < 4; ++d) {
      double want = 0;
      for (Index k = 0; k < 2; ++k)
        for (Index r = 0; r < 2; ++r) want += p[d * 2 + r] * w[buckets.data()[t * 2 + k] * 2 + r];
      EXPECT_NEAR(out.data()[t * 4 + d], want, 1e-6) << "position " << t << " feature " << d;
    }
  }
  for (Index d = 0; d < 4; ++d) EXPECT_EQ(out.data()[2 * 4 + d], 0.f);  // padding: still zero
  ids.data()[2] = 5;
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        ngrams.weight_ = in[0];
        return ngrams.forward(ids);
      },
      {ngrams.weight_}));
}

TEST(NgramEmbedding, DropoutZeroesAboutPOfTheNgramsInTrainingOnly) {
  // Order 2: a real position reads one bigram row, so in training it is either the evaluation
  // output (kept) or zero (dropped). Row b has 200 - 10·b real tokens, then padding.
  const Index B = 8, T = 200;
  IntTensor ids(Shape{B, T}, kPadId);
  for (Index b = 0; b < B; ++b)
    for (Index t = 0; t < T - 10 * b; ++t)
      ids.data()[b * T + t] = static_cast<std::int32_t>(4 + t % 37);
  Rng init(5);
  auto stream = std::make_shared<Rng>(9);
  NgramEmbedding ngrams({.buckets = 1 << 16, .dim = 2, .max_order = 2, .dropout = 0.5f}, init,
                        stream);
  const NgramEmbedding plain = make_ngrams(1 << 16, 2, 2, 5);  // the same table, no dropout
  ASSERT_EQ(ngrams.weight_.to_vector(), plain.weight_.to_vector());

  ngrams.eval();
  const std::uint64_t before = stream->state().counter;
  const Tensor evaluated = ngrams.forward(ids);
  EXPECT_EQ(stream->state().counter, before) << "evaluation draws nothing";
  EXPECT_EQ(evaluated.to_vector(), plain.forward(ids).to_vector());

  ngrams.train();
  ngrams.weight_.zero_grad();
  const Tensor trained = ngrams.forward(ids);
  EXPECT_EQ(stream->state().counter, before + (B * T + 3) / 4);  // one Philox word per n-gram
  Index real = 0, dropped = 0;
  for (Index i = 0; i < B * T; ++i) {
    const float* got = trained.data() + 2 * i;
    const float* want = evaluated.data() + 2 * i;
    if (ids.data()[i] == kPadId) {
      EXPECT_EQ(got[0], 0.f);
      EXPECT_EQ(got[1], 0.f);
      continue;
    }
    real += 1;
    const bool zero = got[0] == 0.f && got[1] == 0.f;
    if (zero) {
      dropped += 1;
    } else {
      EXPECT_EQ(got[0], want[0]) << "a kept n-gram is not rescaled (position " << i << ")";
      EXPECT_EQ(got[1], want[1]);
    }
  }
  // 1,320 real tokens: Binomial(1320, 0.5), sd 0.014 of the fraction.
  EXPECT_EQ(real, 1320);
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(real), 0.5, 0.06);
  // A dropped n-gram sends no gradient: the table's gradient sums to one per kept position and
  // feature, and the padding row gets none.
  backward(trained, Tensor::ones(trained.shape()));
  double total = 0;
  for (float g : ngrams.weight_.grad().to_vector()) total += g;
  EXPECT_DOUBLE_EQ(total, 2.0 * static_cast<double>(real - dropped));
  EXPECT_EQ(ngrams.weight_.grad().data()[0], 0.f);
  // The next step draws another mask.
  EXPECT_NE(ngrams.forward(ids).to_vector(), trained.to_vector());
}

TEST(NgramEmbedding, BadOptionsAndInputs) {
  Rng rng(1);
  EXPECT_THROW_MSG(NgramEmbedding({.buckets = 1, .dim = 2}, rng),
                   "NgramEmbedding: buckets must be >= 2 and dim > 0 (got 1, 2)");
  EXPECT_THROW_MSG(NgramEmbedding({.buckets = 4, .dim = 2, .max_order = 1}, rng),
                   "NgramEmbedding: max_order must be >= 2 (got 1)");
  EXPECT_THROW_MSG(NgramEmbedding({.buckets = 4, .dim = 2, .table_dim = 3}, rng),
                   "NgramEmbedding: table_dim must be in [0, dim = 2] (got 3)");
  EXPECT_THROW_MSG(NgramEmbedding({.buckets = 4, .dim = 2, .dropout = 1.f}, rng,
                                  std::make_shared<Rng>(2)),
                   "NgramEmbedding: dropout must be in [0, 1) (got 1)");
  EXPECT_THROW_MSG(NgramEmbedding({.buckets = 4, .dim = 2, .dropout = 0.1f}, rng),
                   "NgramEmbedding: dropout > 0 needs a random generator");
  EXPECT_THROW_MSG(make_ngrams(4, 2, 2).forward(IntTensor()), "NgramEmbedding: ids must be");
}

}  // namespace
}  // namespace heed
