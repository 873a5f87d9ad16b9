#include "heed/ops/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>

#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// ---- forward values, computed by hand

TEST(Elementwise, BinaryForwardWithBroadcast) {
  Tensor a = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor row = Tensor::from_vector(Shape{3}, {10, 20, 30});
  Tensor col = Tensor::from_vector(Shape{2, 1}, {2, 4});
  EXPECT_TRUE(all_close(add(a, row), {11, 22, 33, 14, 25, 36}));
  EXPECT_TRUE(all_close(sub(a, col), {-1, 0, 1, 0, 1, 2}));
  EXPECT_TRUE(all_close(mul(a, col), {2, 4, 6, 16, 20, 24}));
  EXPECT_TRUE(all_close(div(a, row), {0.1f, 0.1f, 0.1f, 0.4f, 0.25f, 0.2f}));
  // Both operands broadcast: [2,1] against [3] -> [2,3].
  EXPECT_TRUE(all_close(add(col, row), {12, 22, 32, 14, 24, 34}));
  EXPECT_EQ(add(col, row).shape(), (Shape{2, 3}));
}

TEST(Elementwise, ScalarForward) {
  Tensor a = Tensor::from_vector(Shape{3}, {1, -2, 4});
  EXPECT_TRUE(all_close(a + 1.f, {2, -1, 5}));
  EXPECT_TRUE(all_close(a - 1.f, {0, -3, 3}));
  EXPECT_TRUE(all_close(1.f - a, {0, 3, -3}));
  EXPECT_TRUE(all_close(a * 2.f, {2, -4, 8}));
  EXPECT_TRUE(all_close(a / 2.f, {0.5f, -1, 2}));
  EXPECT_TRUE(all_close(-a, {-1, 2, -4}));
}

TEST(Elementwise, UnaryForward) {
  Tensor x = Tensor::from_vector(Shape{3}, {-1.f, 0.5f, 2.f});
  EXPECT_TRUE(all_close(exp(x), {std::exp(-1.f), std::exp(0.5f), std::exp(2.f)}));
  EXPECT_TRUE(all_close(tanh(x), {std::tanh(-1.f), std::tanh(0.5f), std::tanh(2.f)}));
  EXPECT_TRUE(all_close(sigmoid(x), {0.26894142f, 0.62245933f, 0.88079708f}));
  EXPECT_TRUE(all_close(relu(x), {0.f, 0.5f, 2.f}));
  // GELU reference values from the erf form: x·Φ(x).
  EXPECT_TRUE(all_close(gelu(x), {-0.15865525f, 0.34573123f, 1.95449974f}));
  Tensor p = Tensor::from_vector(Shape{3}, {0.25f, 1.f, 4.f});
  EXPECT_TRUE(all_close(sqrt(p), {0.5f, 1.f, 2.f}));
  EXPECT_TRUE(all_close(log(p), {std::log(0.25f), 0.f, std::log(4.f)}));
  EXPECT_TRUE(all_close(pow(p, 1.5f), {0.125f, 1.f, 8.f}));
}

// ---- gradient checks (random weighting of the output)

TEST(Elementwise, BinaryGradients) {
  using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
  for (BinaryFn op : {BinaryFn{add}, BinaryFn{sub}, BinaryFn{mul}}) {
    EXPECT_TRUE(gradcheck([&](auto& in) { return op(in[0], in[1]); },
                          {random_input(Shape{2, 3, 4}, 1), random_input(Shape{2, 3, 4}, 2)}));
    // Broadcasting in both directions: gradients must be summed over broadcast dims.
    EXPECT_TRUE(gradcheck([&](auto& in) { return op(in[0], in[1]); },
                          {random_input(Shape{2, 1, 4}, 3), random_input(Shape{3, 1}, 4)}));
    EXPECT_TRUE(gradcheck([&](auto& in) { return op(in[0], in[1]); },
                          {random_input(Shape{2, 3, 4}, 5), random_input(Shape{4}, 6)}));
    EXPECT_TRUE(gradcheck([&](auto& in) { return op(in[0], in[1]); },
                          {random_input(Shape{2, 3, 4}, 5), random_input(Shape{2, 3, 1}, 6)}));
  }
  // Division: keep the denominator away from zero.
  EXPECT_TRUE(gradcheck([](auto& in) { return div(in[0], in[1]); },
                        {random_input(Shape{2, 3}, 7), random_input(Shape{3}, 8, 0.5f, 2.f)}));
}

TEST(Elementwise, ScalarGradients) {
  auto x = random_input(Shape{3, 4}, 9);
  EXPECT_TRUE(gradcheck([](auto& in) { return in[0] + 3.f; }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return in[0] - 3.f; }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return 3.f - in[0]; }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return in[0] * -2.5f; }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return in[0] / 4.f; }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return -in[0]; }, {x}));
}

TEST(Elementwise, UnaryGradients) {
  auto x = random_input(Shape{3, 5}, 10, -2.f, 2.f);
  auto pos = random_input(Shape{3, 5}, 11, 0.5f, 3.f);
  EXPECT_TRUE(gradcheck([](auto& in) { return exp(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return tanh(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return sigmoid(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return gelu(in[0]); }, {x}));
  EXPECT_TRUE(gradcheck([](auto& in) { return log(in[0]); }, {pos}));
  EXPECT_TRUE(gradcheck([](auto& in) { return sqrt(in[0]); }, {pos}));
  EXPECT_TRUE(gradcheck([](auto& in) { return pow(in[0], 2.5f); }, {pos}));
  // relu: keep inputs away from the kink at 0 (|x| >= 0.1 > eps).
  Tensor r = Tensor::from_vector(Shape{6}, {-1.f, -0.5f, -0.1f, 0.1f, 0.7f, 2.f});
  r.set_requires_grad();
  EXPECT_TRUE(gradcheck([](auto& in) { return relu(in[0]); }, {r}, {.eps = 1e-2}));
}

TEST(Elementwise, LargeTensorsTakeTheParallelPath) {
  // Above kParallelGrain the loops run under OpenMP; values must not change.
  Rng rng(3);
  Tensor a = Tensor::uniform(Shape{256, 512}, rng);
  Tensor b = Tensor::uniform(Shape{512}, rng);
  Tensor c = add(a, b);
  for (Index i : {Index{0}, Index{1000}, Index{131071}})
    EXPECT_FLOAT_EQ(c.data()[i], a.data()[i] + b.data()[i % 512]);
}

// ---- bad shapes name the op and both shapes

TEST(Elementwise, BadShapes) {
  Tensor a = Tensor::zeros(Shape{2, 3});
  Tensor b = Tensor::zeros(Shape{4});
  EXPECT_THROW_MSG(add(a, b), "add: shapes cannot be broadcast (a=[2, 3], b=[4])");
  EXPECT_THROW_MSG(sub(a, b), "sub: shapes cannot be broadcast");
  EXPECT_THROW_MSG(mul(a, b), "mul: shapes cannot be broadcast");
  EXPECT_THROW_MSG(div(a, b), "div: shapes cannot be broadcast");
  EXPECT_THROW_MSG(exp(Tensor()), "exp: undefined input");
}

}  // namespace
}  // namespace heed
