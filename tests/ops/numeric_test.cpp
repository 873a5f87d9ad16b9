// The private numeric kernels (src/ops/kernels/numeric.h) that softmax and the losses rely on.
#include "ops/kernels/numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace heed::kernels {
namespace {

TEST(FastExp, WithinTwoUlpOfDoubleExp) {
  // A dense sweep of the normal-float range, in a vectorized loop like the kernels'.
  const int n = 1 << 20;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) x[i] = -87.3f + 175.6f * static_cast<float>(i) / n;
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = fast_exp(x[i]);
  double worst = 0;
  for (int i = 0; i < n; ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::abs(y[i] - want) / want);
  }
  EXPECT_LT(worst, 2 * std::numeric_limits<float>::epsilon()) << "max relative error";
}

TEST(FastExp, EdgesAndSpecialValues) {
  EXPECT_EQ(fast_exp(0.f), 1.f);
  EXPECT_EQ(fast_exp(-100.f), 0.f);
  EXPECT_EQ(fast_exp(-2000.f), 0.f);
  EXPECT_EQ(fast_exp(-std::numeric_limits<float>::infinity()), 0.f);
  EXPECT_TRUE(std::isnan(fast_exp(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::isfinite(fast_exp(1000.f)));
}

TEST(FixedOrderSum, SameForEveryChunkingOfTheWork) {
  // 100,003 terms span several chunks and take the parallel path; the result is exact here
  // (small integers in double), and equal to a serial double sum.
  const Index n = 100003;
  const double got = fixed_order_sum(n, [](Index i) { return static_cast<float>(i % 7); });
  double want = 0;
  for (Index i = 0; i < n; ++i) want += static_cast<double>(i % 7);
  EXPECT_EQ(got, want);
  EXPECT_EQ(fixed_order_sum(0, [](Index) { return 1.f; }), 0.0);
}

}  // namespace
}  // namespace heed::kernels
