#include "heed/optim/adam.h"

#include <gtest/gtest.h>

#include <cstring>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/embedding.h"
#include "heed/ops/reduce.h"
#include "heed/util/parallel.h"
#include "optim/quadratic_problem.h"
#include "optim/thread_count.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::QuadraticProblem;

// Reference values: torch 1.13 (/usr/bin/python3), the same QuadraticProblem (see
// quadratic_problem.h) in float32, each step being opt.zero_grad(); loss.backward(); opt.step().
// Printed with "%.9g" after the last step. The script:
//   w = torch.tensor(W0, requires_grad=True); b = torch.tensor(B0, requires_grad=True)
//   opt = torch.optim.Adam([w, b], lr=0.1, weight_decay=0.1)      # or AdamW(...), ...
//   for t in range(steps):
//       opt.zero_grad()
//       loss = (0.5*CW*w*w + DW*w).sum() + (0.5*CB*b*b + DB*b).sum()
//       loss.backward(); opt.step()
// Float32 rounding differs slightly between torch's kernels and heed's fused loop (fma, the
// order of scalar products), hence the tolerance.
constexpr double kAtol = 1e-6, kRtol = 1e-6;

template <typename Opt, typename Options>
void run(QuadraticProblem& problem, const Options& options, int steps) {
  Opt opt(problem.parameters(), options);
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    problem.backward();
    opt.step();
  }
  EXPECT_EQ(opt.step_count(), steps);
}

TEST(Adam, MatchesTorchAdamWithL2WeightDecay) {
  QuadraticProblem problem;
  run<Adam>(problem, AdamOptions{.lr = 0.1f, .weight_decay = 0.1f}, 5);
  EXPECT_TRUE(all_close(problem.w,
                        {0.019958213f, -0.506474793f, 1.00331461f, 1.50330174f, -0.279811591f,
                         0.259564221f},
                        kAtol, kRtol));
  EXPECT_TRUE(
      all_close(problem.b, {0.0872605816f, -0.228956267f, -0.188495696f}, kAtol, kRtol));
}

TEST(Adam, MatchesTorchAdamWithOtherBetasAndEps) {
  QuadraticProblem problem;
  run<Adam>(problem, AdamOptions{.lr = 0.05f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-3f}, 5);
  EXPECT_TRUE(all_close(problem.w,
                        {0.255514443f, -0.752367198f, 1.25154209f, 1.75137246f, -0.256190419f,
                         0.503911912f},
                        kAtol, kRtol));
  // b[1] has an exactly zero gradient at every step: m = v = 0 and it does not move.
  EXPECT_TRUE(all_close(problem.b, {0.0530799106f, -0.2f, 0.0535974614f}, kAtol, kRtol));
}

TEST(AdamW, MatchesTorchAdamWWithDecoupledWeightDecay) {
  QuadraticProblem problem;
  run<AdamW>(problem, AdamWOptions{.lr = 0.1f, .weight_decay = 0.1f}, 5);
  EXPECT_TRUE(all_close(problem.w,
                        {0.00612998009f, -0.468141407f, 0.940115213f, 1.41603482f,
                         -0.22134693f, 0.232633978f},
                        kAtol, kRtol));
  EXPECT_TRUE(
      all_close(problem.b, {0.0888589472f, -0.141238064f, -0.19513756f}, kAtol, kRtol));
}

TEST(AdamW, FirstStepByHand) {
  // One element, g = 2, p = 1, lr = 0.1, λ = 0.5: p ← 1·(1 − 0.05) = 0.95; m = 0.2, v = 0.004;
  // m̂ = 2, v̂ = 4; p ← 0.95 − 0.1·2/(2 + 1e-8) = 0.85.
  Tensor p = Tensor::ones(Shape{1}).set_requires_grad(true);
  AdamW opt({{"p", p}}, AdamWOptions{.lr = 0.1f, .weight_decay = 0.5f});
  p.grad().fill_(2.f);
  opt.step();
  EXPECT_NEAR(p.item(), 0.85f, 1e-7);
}

// A parameter that no backward reaches after zero_grad() is updated with a zero gradient, as in
// torch 1.13 after its default zero_grad() (grads zeroed, not set to None): the moments decay and
// the bias-corrected old momentum still moves the parameter. Reference: the same torch script,
// with b's loss term included only in step 1 of 3.
TEST(Adam, ParameterWithoutGradientIsUpdatedWithZeroGradientLikeTorch) {
  QuadraticProblem problem;
  Adam opt(problem.parameters(), AdamOptions{.lr = 0.1f});
  for (int t = 1; t <= 3; ++t) {
    opt.zero_grad();
    problem.backward(/*with_b=*/t == 1);
    opt.step();
  }
  EXPECT_TRUE(all_close(problem.w,
                        {0.203541607f, -0.701297998f, 1.200665f, 1.70069575f, -0.228553444f,
                         0.451710612f},
                        kAtol, kRtol));
  // b[0]: 0.1 after step 1 moved to 0.0, then kept moving on its momentum alone.
  EXPECT_TRUE(all_close(problem.b, {-0.118801504f, -0.2f, 0.0811985135f}, kAtol, kRtol));
  EXPECT_TRUE(all_close(problem.b.grad(), {0.f, 0.f, 0.f}, 0, 0));
}

TEST(Adam, ExportedMomentsMatchTorchState) {
  // With L2 weight decay, b gets a gradient in step 1 only (torch: opt.state[b] after 3 steps).
  QuadraticProblem problem;
  Adam opt(problem.parameters(), AdamOptions{.lr = 0.1f, .weight_decay = 0.1f});
  for (int t = 1; t <= 3; ++t) {
    opt.zero_grad();
    problem.backward(/*with_b=*/t == 1);
    opt.step();
  }
  EXPECT_TRUE(all_close(problem.b, {-0.114817493f, 0.0671807975f, 0.0740970373f}, kAtol, kRtol));
  OptimizerState state = opt.state();
  EXPECT_EQ(state.step, 3);
  ASSERT_EQ(state.tensors.size(), 4u);
  EXPECT_EQ(state.tensors[0].first, "w.exp_avg");
  EXPECT_EQ(state.tensors[1].first, "w.exp_avg_sq");
  EXPECT_EQ(state.tensors[2].first, "b.exp_avg");
  EXPECT_EQ(state.tensors[3].first, "b.exp_avg_sq");
  EXPECT_TRUE(all_close(state.tensors[2].second,
                        {0.00823994167f, -0.00258782227f, 0.041979529f}, 1e-8, 1e-5));
  EXPECT_TRUE(all_close(state.tensors[3].second,
                        {1.21207113e-05f, 4.99560599e-07f, 0.000230507925f}, 1e-10, 1e-5));
}

TEST(Adam, UpdateIsBitwiseTheSameForOneAndTwoThreads) {
  // Large enough for the parallel path (> kParallelGrain elements), odd-sized so that the
  // threads' boundaries fall mid-vector.
  const Index n = 3 * kParallelGrain + 5;
  auto run_with = [&](int threads) {
    testing::ThreadCount thread_count(threads);
    Rng rng(7);
    Tensor p = Tensor::normal(Shape{n}, rng).set_requires_grad(true);
    AdamW opt({{"p", p}}, AdamWOptions{.lr = 0.01f});
    for (int t = 0; t < 3; ++t) {
      opt.zero_grad();
      rng.fill_normal(p.grad().data(), n, 0.f, 1.f);
      opt.step();
    }
    return p.to_vector();
  };
  const std::vector<float> one = run_with(1);
  const std::vector<float> two = run_with(2);
  EXPECT_EQ(std::memcmp(one.data(), two.data(), n * sizeof(float)), 0);
}

// Lazy rows: a table [5, 3] looked up at rows {0, 2} in step 1 and {2, 3} in step 2, beside a
// dense bias, trained once lazily and once densely on the same gradients.
TEST(Adam, LazyRowsMoveOnlyInTheStepsThatLookThemUp) {
  struct Run {
    Tensor table = Tensor::from_vector(Shape{5, 3}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f,
                                                     0.8f, 0.9f, 1.0f, 1.1f, 1.2f, 1.3f, 1.4f,
                                                     1.5f}).set_requires_grad(true);
    Tensor bias = Tensor::from_vector(Shape{3}, {0.5f, -0.5f, 0.25f}).set_requires_grad(true);
    std::vector<std::vector<float>> table_after, exp_avg_after;

    explicit Run(std::vector<std::string> lazy) {
      Adam opt({{"bias", bias}, {"table", table}}, AdamOptions{.lr = 0.1f, .lazy_rows = lazy});
      const Tensor scale = Tensor::from_vector(Shape{2, 3}, {1.f, -2.f, 0.5f, 3.f, 1.f, -1.f});
      for (const std::vector<std::int32_t>& ids : {std::vector<std::int32_t>{0, 2}, {2, 3}}) {
        opt.zero_grad();
        Tensor loss = sum(embedding(table, IntTensor::from_vector(Shape{2}, ids)) * scale) +
                      sum(bias * bias);
        backward(loss);
        opt.step();
        table_after.push_back(table.to_vector());
        exp_avg_after.push_back(opt.state().tensors[2].second.to_vector());  // table.exp_avg
      }
      EXPECT_EQ(opt.state().tensors[2].first, "table.exp_avg");
    }
    std::vector<float> row(int step, int r) const {
      return {table_after[step].begin() + 3 * r, table_after[step].begin() + 3 * r + 3};
    }
  };
  const Run lazy({"table"}), dense({});
  // Step 1 is the same: rows without a gradient have zero moments either way.
  EXPECT_EQ(lazy.table_after[0], dense.table_after[0]);
  // Step 2: row 0 (not looked up) keeps its value and its momentum under lazy rows; dense Adam
  // moves it with its old momentum and decays that momentum.
  EXPECT_EQ(lazy.row(1, 0), lazy.row(0, 0));
  EXPECT_NE(dense.row(1, 0), dense.row(0, 0));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lazy.exp_avg_after[1][i], lazy.exp_avg_after[0][i]);
    EXPECT_NE(dense.exp_avg_after[1][i], dense.exp_avg_after[0][i]);
  }
  // Rows 2 and 3 (looked up in step 2) and the untouched rows 1 and 4 agree with dense Adam.
  for (int r : {1, 2, 3, 4}) EXPECT_EQ(lazy.row(1, r), dense.row(1, r)) << "row " << r;
  EXPECT_NE(lazy.row(1, 2), lazy.row(0, 2));
  EXPECT_EQ(lazy.bias.to_vector(), dense.bias.to_vector());
}

TEST(Adam, LazyRowsNameAParameterWithRows) {
  QuadraticProblem problem;
  EXPECT_THROW_MSG(Adam(problem.parameters(), AdamOptions{.lazy_rows = {"table"}}),
                   "adam: lazy_rows: no parameter named 'table'");
  EXPECT_THROW_MSG(AdamW(problem.parameters(), AdamWOptions{.lazy_rows = {"b"}}),
                   "adamw: lazy_rows: parameter 'b' has shape [3]; only 2-D tables have rows");
}

TEST(Adam, BadOptionsNameTheOptimizerAndValue) {
  QuadraticProblem problem;
  EXPECT_THROW_MSG(Adam(problem.parameters(), AdamOptions{.beta1 = 1.f}),
                   "adam: beta1 must be in [0, 1) (got 1)");
  EXPECT_THROW_MSG(AdamW(problem.parameters(), AdamWOptions{.beta2 = -0.5f}),
                   "adamw: beta2 must be in [0, 1) (got -0.5)");
  EXPECT_THROW_MSG(Adam(problem.parameters(), AdamOptions{.lr = -1.f}), "adam: lr must be");
  EXPECT_THROW_MSG(Adam(problem.parameters(), AdamOptions{.eps = 0}), "adam: eps must be > 0");
  EXPECT_THROW_MSG(Adam(problem.parameters(), AdamOptions{.weight_decay = -1.f}),
                   "adam: weight_decay must be >= 0");
  Adam opt(problem.parameters());
  EXPECT_THROW_MSG(opt.set_lr(-0.1f), "adam: lr must be finite and >= 0 (got -0.1)");
}

}  // namespace
}  // namespace heed
