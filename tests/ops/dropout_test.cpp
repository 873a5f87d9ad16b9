#include "heed/ops/dropout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "heed/autograd/engine.h"
#include "heed/autograd/grad_mode.h"
#include "heed/ops/elementwise.h"
#include "heed/util/parallel.h"
#include "ops/kernels/dropout_mask.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// The canonical mapping, written out from its definition: element i is kept iff
// to_unit(block(seed, first + i/4)[i%4]) >= p.
bool kept(std::uint64_t seed, std::uint64_t first, float p, Index i) {
  return Rng::to_unit(Rng::block(seed, first + static_cast<std::uint64_t>(i / 4))[i % 4]) >= p;
}

TEST(Dropout, MatchesTheCanonicalMask) {
  for (Index n : {Index{37}, Index{1000}, Index{100003}}) {  // tails, groups, parallel chunks
    Rng rng(42);
    rng.reserve(5);  // start mid-stream
    const std::uint64_t first = rng.state().counter;
    Tensor x = Tensor::uniform(Shape{n}, rng, 1.f, 2.f);
    const std::uint64_t mask_first = rng.state().counter;
    Tensor y = dropout(x, 0.25f, true, rng);
    EXPECT_EQ(rng.state().counter, mask_first + static_cast<std::uint64_t>((n + 3) / 4));
    EXPECT_GT(mask_first, first);
    for (Index i = 0; i < n; ++i) {
      const float want = kept(42, mask_first, 0.25f, i) ? x.data()[i] * (1.f / 0.75f) : 0.f;
      ASSERT_EQ(y.data()[i], want) << "n=" << n << " element " << i;
    }
  }
}

TEST(Dropout, ReproducibleForASeedAndFreshOnEachCall) {
  Tensor x = Tensor::ones(Shape{8, 16});
  Rng a(7), b(7);
  Tensor ya = dropout(x, 0.5f, true, a);
  Tensor yb = dropout(x, 0.5f, true, b);
  EXPECT_EQ(ya.to_vector(), yb.to_vector());
  Tensor ya2 = dropout(x, 0.5f, true, a);  // the stream moved on: another mask
  EXPECT_NE(ya.to_vector(), ya2.to_vector());
  for (float v : ya.to_vector()) EXPECT_TRUE(v == 0.f || v == 2.f) << v;
}

TEST(Dropout, IndependentOfTheThreadCount) {
  Rng init(3);
  Tensor x = Tensor::uniform(Shape{300, 1001}, init);
  const int saved = num_threads();
  set_num_threads(1);
  Rng r1(9);
  Tensor y1 = dropout(x, 0.1f, true, r1);
  set_num_threads(2);
  Rng r2(9);
  Tensor y2 = dropout(x, 0.1f, true, r2);
  set_num_threads(saved);
  EXPECT_EQ(y1.to_vector(), y2.to_vector());
}

TEST(Dropout, DropsAboutPAndPreservesTheMean) {
  constexpr Index n = 100000;
  Tensor x = Tensor::ones(Shape{n});
  for (float p : {0.1f, 0.3f, 0.5f}) {
    Rng rng(5);
    Tensor y = dropout(x, p, true, rng);
    Index dropped = 0;
    double sum = 0;
    for (float v : y.to_vector()) {
      dropped += v == 0.f;
      sum += v;
    }
    // Standard errors: sqrt(p(1-p)/n) <= 0.0016 for the fraction, sqrt(p/((1-p)n)) <= 0.0032 for
    // the mean; the bounds are about 6 of them.
    EXPECT_NEAR(static_cast<double>(dropped) / n, p, 0.01) << "p=" << p;
    EXPECT_NEAR(sum / n, 1.0, 0.02) << "p=" << p;
  }
}

TEST(Dropout, GradientIsTheSameMaskTimesScale) {
  Rng init(8);
  Tensor x = Tensor::uniform(Shape{33, 65}, init).set_requires_grad();
  Tensor dy = Tensor::uniform(Shape{33, 65}, init, -1.f, 1.f);
  Rng rng(21);
  const Rng::State state = rng.state();
  backward(dropout(x, 0.4f, true, rng), dy);
  // The same Rng state applied to dy as a forward gives dy · mask · scale.
  rng.set_state(state);
  Tensor want;
  {
    NoGradGuard no_grad;
    want = dropout(dy, 0.4f, true, rng);
  }
  EXPECT_EQ(x.grad().to_vector(), want.to_vector());
}

TEST(Dropout, Gradcheck) {
  // A fresh Rng with a fixed seed in each call: every evaluation draws the same mask.
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        Rng rng(13);
        return dropout(in[0] * in[0], 0.5f, true, rng);
      },
      {random_input(Shape{5, 7}, 1)}));
}

TEST(Dropout, IdentityWhenEvaluatingOrPIsZero) {
  Tensor x = random_input(Shape{4, 4}, 2);
  Rng rng(1);
  EXPECT_TRUE(dropout(x, 0.5f, /*training=*/false, rng).is_same(x));
  EXPECT_TRUE(dropout(x, 0.f, /*training=*/true, rng).is_same(x));
  EXPECT_EQ(rng.state().counter, 0u);  // no counters spent
}

TEST(Dropout, BadP) {
  Tensor x = Tensor::ones(Shape{2});
  Rng rng(1);
  EXPECT_THROW_MSG(dropout(x, 1.f, true, rng), "dropout: p must be in [0, 1) (got p=1)");
  EXPECT_THROW_MSG(dropout(x, -0.1f, false, rng), "dropout: p must be in [0, 1) (got p=-0.1)");
  EXPECT_THROW_MSG(dropout(x, std::numeric_limits<float>::quiet_NaN(), true, rng),
                   "dropout: p must be in [0, 1)");
}

// ---- the shared mask kernel (reused by the fused attention kernel)

TEST(DropoutMask, KeepBitsMatchTheCanonicalMask) {
  // 3 × 64 elements (16 Philox blocks each) at a time, including runs of counters that cross
  // 2^32 (the high counter word changes mid-batch).
  for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{12345},
                              (std::uint64_t{1} << 32) - 5, (std::uint64_t{7} << 32) - 16}) {
    for (float p : {0.1f, 0.5f, 0.9f}) {
      const kernels::DropoutMask mask{0x0123456789abcdefULL, first, p};
      for (std::uint64_t block : {std::uint64_t{0}, std::uint64_t{3}}) {
        std::uint64_t bits[3];
        kernels::dropout_keep_bits<3>(mask, block, bits);
        for (Index k = 0; k < 3 * 64; ++k) {
          const Index i = static_cast<Index>(4 * block) + k;
          ASSERT_EQ((bits[k / 64] >> (k % 64)) & 1, kept(mask.seed, first, p, i) ? 1u : 0u)
              << "first " << first << " p " << p << " element " << i;
          ASSERT_EQ(kernels::dropout_keep(mask, i), kept(mask.seed, first, p, i));
        }
      }
    }
  }
}

TEST(DropoutMask, IntegerThresholdIsTheFloatComparison) {
  // The vector path compares raw words with keep_threshold(); check it against to_unit(w) >= p
  // right at and around the boundary, for awkward p (not multiples of 2⁻²⁴, tiny, near 1).
  for (float p : {0.f, 1e-30f, 0.1f, 1.f / 3.f, 0.5f, 0.7f, 0.99999994f}) {
    const kernels::DropoutMask mask{0, 0, p};
    const std::uint64_t t = mask.keep_threshold();
    for (std::int64_t d = -300; d <= 300; ++d) {
      const std::int64_t w = static_cast<std::int64_t>(t) + d;
      if (w < 0 || w > 0xFFFFFFFFLL) continue;
      const auto word = static_cast<std::uint32_t>(w);
      ASSERT_EQ(word >= t, Rng::to_unit(word) >= p) << "p=" << p << " word=" << word;
    }
  }
}

TEST(DropoutMask, ApplyAtAnyOffsetMatchesTheCanonicalMask) {
  // A kernel applying the mask to part of a tensor (one attention row block) starts at any
  // element offset.
  const kernels::DropoutMask mask{99, 1000, 0.3f};
  std::vector<float> x(300);
  for (int i = 0; i < 300; ++i) x[i] = 1.f + static_cast<float>(i);
  for (Index offset : {Index{0}, Index{1}, Index{6}, Index{131}}) {
    std::vector<float> y(290), acc(290, 0.5f);  // a 4-batch group, a single batch and a tail
    kernels::apply_dropout(mask, offset, 290, x.data(), y.data());
    kernels::apply_dropout<true>(mask, offset, 290, x.data(), acc.data());
    for (Index j = 0; j < 290; ++j) {
      const float want = kept(99, 1000, 0.3f, offset + j) ? x[j] * mask.scale() : 0.f;
      ASSERT_EQ(y[j], want) << "offset " << offset << " element " << j;
      ASSERT_EQ(acc[j], 0.5f + want) << "offset " << offset << " element " << j;
    }
  }
}

// A measurement, not a test: run with --gtest_also_run_disabled_tests
// --gtest_filter='*DropoutTiming*'. Dropout forward and backward on 4096×256 floats; the
// minimum and median over repeats (the minimum is the figure least disturbed by other load).
TEST(Dropout, DISABLED_DropoutTiming) {
  using Clock = std::chrono::steady_clock;
  Rng init(1);
  Tensor x = Tensor::uniform(Shape{4096, 256}, init).set_requires_grad();
  Tensor dy = Tensor::uniform(Shape{4096, 256}, init);
  Rng rng(2);
  constexpr int kRepeats = 100;
  std::vector<double> forward_us, backward_us;
  for (int i = 0; i < kRepeats + 5; ++i) {
    x.zero_grad();
    const auto t0 = Clock::now();
    Tensor y = dropout(x, 0.1f, true, rng);
    const auto t1 = Clock::now();
    backward(y, dy);  // includes copying dy in as the seed gradient
    const auto t2 = Clock::now();
    if (i < 5) continue;  // warm-up: pool buffers, thread team
    forward_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    backward_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
  }
  auto summary = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::make_pair(v.front(), v[v.size() / 2]);
  };
  const auto [fwd_min, fwd_median] = summary(forward_us);
  const auto [bwd_min, bwd_median] = summary(backward_us);
  std::printf("dropout 4096x256, %d threads: forward min %.0f us (median %.0f), backward min "
              "%.0f us (median %.0f)\n", num_threads(), fwd_min, fwd_median, bwd_min, bwd_median);
  EXPECT_GT(fwd_min, 0.0);
}

}  // namespace
}  // namespace heed
