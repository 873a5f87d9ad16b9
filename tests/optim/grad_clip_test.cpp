#include "heed/optim/grad_clip.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "heed/optim/sgd.h"
#include "heed/util/parallel.h"
#include "optim/quadratic_problem.h"
#include "optim/thread_count.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::QuadraticProblem;

// Reference: torch 1.13, torch.nn.utils.clip_grad_norm_([w, b], max_norm) on the gradients of
// QuadraticProblem at its start, w.grad = [0.6, -2.3, 0.95, 5.5, 0.025, 0.2375] and
// b.grad = [0.1, 0, 0.45]; norm = sqrt(37.0725...) = 6.08868122, printed with "%.9g".
constexpr float kTorchNorm = 6.08868122f;
const std::vector<float> kTorchClippedW{0.0985434949f, -0.377750039f, 0.156027198f,
                                        0.903315365f, 0.00410598004f, 0.0390067995f};
const std::vector<float> kTorchClippedB{0.0164239164f, 0.f, 0.0739076138f};

TEST(ClipGradNorm, FreeFunctionMatchesTorch) {
  QuadraticProblem problem;
  problem.backward();
  EXPECT_FLOAT_EQ(clip_grad_norm(problem.parameters(), 1.f), kTorchNorm);
  EXPECT_TRUE(all_close(problem.w.grad(), kTorchClippedW, 1e-7, 1e-6));
  EXPECT_TRUE(all_close(problem.b.grad(), kTorchClippedB, 1e-7, 1e-6));
  // Now the norm is max_norm·norm/(norm + 1e-6): just under 1 (torch: 0.999999762), no-op.
  EXPECT_NEAR(clip_grad_norm(problem.parameters(), 100.f), 0.999999762f, 1e-7);
  EXPECT_TRUE(all_close(problem.w.grad(), kTorchClippedW, 1e-7, 1e-6));
}

TEST(ClipGradNorm, OptimizerMethodClipsTheFlatBufferLikeTorch) {
  QuadraticProblem problem;
  Sgd opt(problem.parameters());
  opt.zero_grad();
  problem.backward();
  EXPECT_FLOAT_EQ(opt.clip_grad_norm(1.f), kTorchNorm);
  EXPECT_TRUE(all_close(problem.w.grad(), kTorchClippedW, 1e-7, 1e-6));
  EXPECT_TRUE(all_close(problem.b.grad(), kTorchClippedB, 1e-7, 1e-6));
  EXPECT_FLOAT_EQ(clip_grad_norm(opt, 10.f), 1.f);  // the inline free-function form
}

TEST(ClipGradNorm, BelowMaxNormLeavesGradientsUntouched) {
  QuadraticProblem problem;
  problem.backward();
  const std::vector<float> before = problem.w.grad().to_vector();
  EXPECT_FLOAT_EQ(clip_grad_norm(problem.parameters(), 7.f), kTorchNorm);
  EXPECT_EQ(problem.w.grad().to_vector(), before);
}

TEST(ClipGradNorm, SkipsUndefinedAndCountsStaleAsZero) {
  QuadraticProblem problem;
  Tensor unused = Tensor::ones(Shape{4}).set_requires_grad(true);  // grad() undefined
  problem.backward();
  problem.b.zero_grad();  // stale: reads as zero
  NamedParameters params = problem.parameters();
  params.emplace_back("unused", unused);
  // Only w counts: sqrt(0.36 + 5.29 + 0.9025 + 30.25 + 0.000625 + 0.05640625).
  EXPECT_NEAR(clip_grad_norm(params, 1e3f), std::sqrt(36.85953125), 1e-5);
  EXPECT_FALSE(unused.grad().defined());
}

TEST(ClipGradNorm, NonFiniteNormIsReturnedAndPropagatesLikeTorch) {
  Tensor p = Tensor::zeros(Shape{2}).set_requires_grad(true);
  Sgd opt({{"p", p}});
  p.grad().data()[0] = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(std::isinf(opt.clip_grad_norm(1.f)));
  // torch: coefficient 1/(inf + 1e-6) = 0, so the finite gradients become 0 (and inf·0 = NaN).
  EXPECT_TRUE(std::isnan(p.grad().data()[0]));
  EXPECT_EQ(p.grad().data()[1], 0.f);
}

TEST(ClipGradNorm, NormIsBitwiseTheSameForOneAndTwoThreads) {
  const Index n = 5 * kParallelGrain + 3;
  Tensor p = Tensor::zeros(Shape{n}).set_requires_grad(true);
  Sgd opt({{"p", p}});
  auto norm_with = [&](int threads) {
    testing::ThreadCount thread_count(threads);
    Rng data(11);
    data.fill_normal(p.grad().data(), n, 0.f, 1.f);
    return opt.clip_grad_norm(1e9f);
  };
  const float one = norm_with(1), two = norm_with(2);
  EXPECT_EQ(one, two);
  EXPECT_NEAR(one, std::sqrt(double(n)), 0.01 * std::sqrt(double(n)));  // E[g²] = 1
}

TEST(ClipGradNorm, RejectsBadMaxNorm) {
  QuadraticProblem problem;
  EXPECT_THROW_MSG(clip_grad_norm(problem.parameters(), 0.f),
                   "clip_grad_norm: max_norm must be finite and > 0 (got 0)");
  Sgd opt(problem.parameters());
  EXPECT_THROW_MSG(opt.clip_grad_norm(-1.f), "sgd: clip_grad_norm: max_norm must be");
}

}  // namespace
}  // namespace heed
