#include "heed/optim/sgd.h"

#include <gtest/gtest.h>

#include "optim/quadratic_problem.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::QuadraticProblem;

// Reference values: torch 1.13 (/usr/bin/python3), torch.optim.SGD with the options of each
// test on the same QuadraticProblem (quadratic_problem.h), 5 steps of zero_grad(); backward();
// step(), printed with "%.9g" (the script is described in adam_test.cpp).
constexpr double kAtol = 1e-6, kRtol = 1e-6;

void run(QuadraticProblem& problem, const SgdOptions& options, int steps = 5) {
  Sgd opt(problem.parameters(), options);
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    problem.backward();
    opt.step();
  }
}

TEST(Sgd, PlainMatchesTorch) {
  QuadraticProblem problem;
  run(problem, SgdOptions{.lr = 0.1f});
  EXPECT_TRUE(all_close(problem.w,
                        {0.254294008f, -0.226831973f, 1.07018375f, 0.474795014f, -0.259271592f,
                         0.637040973f},
                        kAtol, kRtol));
  EXPECT_TRUE(all_close(problem.b, {0.0663839951f, -0.2f, 0.0964028537f}, kAtol, kRtol));
}

TEST(Sgd, MomentumWithDampeningAndWeightDecayMatchesTorch) {
  QuadraticProblem problem;
  run(problem, SgdOptions{.lr = 0.1f, .momentum = 0.9f, .dampening = 0.1f, .weight_decay = 0.01f});
  EXPECT_TRUE(all_close(problem.w,
                        {-0.0896717682f, 0.766905963f, 0.445126206f, -1.2483362f, -0.269471437f,
                         0.466789931f},
                        kAtol, kRtol));
  EXPECT_TRUE(
      all_close(problem.b, {0.0227456652f, -0.198050663f, -0.195189506f}, kAtol, kRtol));
}

TEST(Sgd, NesterovMatchesTorch) {
  QuadraticProblem problem;
  run(problem, SgdOptions{.lr = 0.1f, .momentum = 0.9f, .weight_decay = 0.01f, .nesterov = true});
  EXPECT_TRUE(all_close(problem.w,
                        {-0.165374547f, 0.627757072f, 0.185320377f, -0.468896508f,
                         -0.269854695f, 0.379448056f},
                        kAtol, kRtol));
  EXPECT_TRUE(
      all_close(problem.b, {0.0288296733f, -0.197800413f, -0.317150146f}, kAtol, kRtol));
}

TEST(Sgd, MomentumByHand) {
  // g = 1 every step, lr = 1, μ = 0.5: b = 1, 1.5, 1.75 (the first step copies d, no dampening);
  // p = 0 − 1 − 1.5 − 1.75 = −4.25.
  Tensor p = Tensor::zeros(Shape{1}).set_requires_grad(true);
  Sgd opt({{"p", p}}, SgdOptions{.lr = 1.f, .momentum = 0.5f});
  for (int t = 0; t < 3; ++t) {
    opt.zero_grad();
    p.grad().fill_(1.f);
    opt.step();
  }
  EXPECT_FLOAT_EQ(p.item(), -4.25f);
  OptimizerState state = opt.state();
  ASSERT_EQ(state.tensors.size(), 1u);
  EXPECT_EQ(state.tensors[0].first, "p.momentum_buffer");
  EXPECT_FLOAT_EQ(state.tensors[0].second.item(), 1.75f);
}

TEST(Sgd, WithoutMomentumHasNoState) {
  QuadraticProblem problem;
  Sgd opt(problem.parameters(), SgdOptions{.lr = 0.1f});
  EXPECT_TRUE(opt.state().tensors.empty());
}

TEST(Sgd, BadOptions) {
  QuadraticProblem problem;
  EXPECT_THROW_MSG(Sgd(problem.parameters(), SgdOptions{.nesterov = true}),
                   "sgd: nesterov needs momentum > 0 and dampening == 0 (got momentum 0");
  EXPECT_THROW_MSG(Sgd(problem.parameters(), SgdOptions{.momentum = -0.9f}),
                   "sgd: momentum must be >= 0 (got -0.9)");
  EXPECT_THROW_MSG(Sgd(problem.parameters(), SgdOptions{.lr = -1.f}),
                   "sgd: lr must be finite and >= 0 (got -1)");
}

}  // namespace
}  // namespace heed
