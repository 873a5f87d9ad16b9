#include "heed/ops/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// x[i, j, k] = 12i + 4j + k, shape [2, 3, 4].
Tensor arange_234() { return Tensor::arange(24).with_shape(Shape{2, 3, 4}); }

// ---- forward values, computed by hand

TEST(Reduce, SumAlongEachDim) {
  Tensor x = arange_234();
  // dim 0: x[0,j,k] + x[1,j,k] = 2(4j + k) + 12.
  EXPECT_TRUE(all_close(sum(x, 0), {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
  EXPECT_EQ(sum(x, 0).shape(), (Shape{3, 4}));
  // dim 1: 3(12i + k) + 12.
  EXPECT_TRUE(all_close(sum(x, 1), {12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_EQ(sum(x, 1, /*keepdim=*/true).shape(), (Shape{2, 1, 4}));
  // dim -1: 4(12i + 4j) + 6.
  EXPECT_TRUE(all_close(sum(x, -1), {6, 22, 38, 54, 70, 86}));
  EXPECT_EQ(sum(x, -1).shape(), (Shape{2, 3}));
}

TEST(Reduce, MeanAlongEachDim) {
  Tensor x = arange_234();
  EXPECT_TRUE(all_close(mean(x, 0), {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
  EXPECT_TRUE(all_close(mean(x, 1, true), {4, 5, 6, 7, 16, 17, 18, 19}));
  EXPECT_TRUE(all_close(mean(x, 2), {1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f}));
}

TEST(Reduce, FullSumAndMean) {
  Tensor x = arange_234();
  EXPECT_EQ(sum(x).shape(), Shape{});
  EXPECT_FLOAT_EQ(sum(x).item(), 276.f);
  EXPECT_FLOAT_EQ(mean(x).item(), 11.5f);
}

TEST(Reduce, MaxAndArgmaxTakeTheFirstMaximum) {
  Tensor x = Tensor::from_vector(Shape{2, 4}, {1, 3, 3, 2,  //
                                               5, -1, 5, 0});
  EXPECT_TRUE(all_close(max(x, 1), {3, 5}));
  EXPECT_EQ(argmax(x, 1).values(), (std::vector<std::int32_t>{1, 0}));
  // Along dim 0 (the strided path): column-wise, the tie in column 2 goes to row 0.
  Tensor y = Tensor::from_vector(Shape{2, 3}, {1, 7, 4,  //
                                               2, 7, 3});
  EXPECT_TRUE(all_close(max(y, 0, /*keepdim=*/true), {2, 7, 4}));
  EXPECT_EQ(max(y, 0, true).shape(), (Shape{1, 3}));
  EXPECT_EQ(argmax(y, 0).values(), (std::vector<std::int32_t>{1, 0, 0}));
}

TEST(Reduce, MaxPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector(Shape{1, 4}, {1, nan, 3, nan});
  EXPECT_TRUE(std::isnan(max(x, 1).item()));
  EXPECT_EQ(argmax(x, 1).values(), (std::vector<std::int32_t>{1}));
}

TEST(Reduce, LargeTensorsMatchADoubleReference) {
  // Above kParallelGrain every loop runs under OpenMP; sums accumulate in double.
  Rng rng(3);
  Tensor x = Tensor::uniform(Shape{300, 500}, rng, -1.f, 1.f);
  Tensor rows = sum(x, 1), cols = mean(x, 0), all = sum(x);
  double total = 0;
  for (Index r = 0; r < 300; ++r) {
    double acc = 0;
    for (Index c = 0; c < 500; ++c) acc += x.data()[r * 500 + c];
    EXPECT_NEAR(rows.data()[r], acc, 1e-4) << "row " << r;
    total += acc;
  }
  for (Index c = 0; c < 500; c += 37) {
    double acc = 0;
    for (Index r = 0; r < 300; ++r) acc += x.data()[r * 500 + c];
    EXPECT_NEAR(cols.data()[c], acc / 300, 1e-6) << "column " << c;
  }
  EXPECT_NEAR(all.item(), total, 1e-3);
}

// ---- gradients

TEST(Reduce, SumAndMeanGradients) {
  for (int dim : {0, 1, 2, -1})
    for (bool keepdim : {false, true}) {
      EXPECT_TRUE(gradcheck([=](auto& in) { return sum(in[0], dim, keepdim); },
                            {random_input(Shape{2, 3, 4}, 1)}))
          << "sum dim " << dim;
      EXPECT_TRUE(gradcheck([=](auto& in) { return mean(in[0], dim, keepdim); },
                            {random_input(Shape{2, 3, 4}, 2)}))
          << "mean dim " << dim;
    }
  EXPECT_TRUE(gradcheck([](auto& in) { return sum(in[0]); }, {random_input(Shape{3, 4}, 3)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return mean(in[0]); }, {random_input(Shape{3, 4}, 4)}));
}

TEST(Reduce, GradientsAccumulateIntoAUsedBuffer) {
  // h feeds two reductions: the second backward adds into h's gradient (accumulate path).
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        Tensor h = in[0] * 2.f;
        return sum(h, 1) + mean(h, 1) + max(h, 1) + sum(h) + mean(h);
      },
      {random_input(Shape{3, 5}, 5)}));
}

TEST(Reduce, MaxGradientGoesToTheArgmax) {
  // Distinct values 0.1 apart (> 2·eps) so the finite differences never change the arg-max.
  std::vector<float> values(24);
  for (int i = 0; i < 24; ++i) values[i] = 0.1f * static_cast<float>((i * 7) % 24);
  for (int dim : {0, 1, 2}) {
    Tensor x = Tensor::from_vector(Shape{2, 3, 4}, values);
    x.set_requires_grad();
    EXPECT_TRUE(gradcheck([=](auto& in) { return max(in[0], dim); }, {x})) << "dim " << dim;
  }
  // With a tie only the first maximum receives the gradient.
  Tensor t = Tensor::from_vector(Shape{4}, {1, 3, 3, 2});
  t.set_requires_grad();
  backward(max(t, 0) * 2.f);
  EXPECT_TRUE(all_close(t.grad(), {0, 2, 0, 0}));
}

// ---- bad input names the op

TEST(Reduce, BadDims) {
  Tensor x = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(sum(x, 2), "sum: dimension 2 is out of range for shape [2, 3]");
  EXPECT_THROW_MSG(mean(x, -3), "mean: dimension -3 is out of range");
  EXPECT_THROW_MSG(max(x, 5), "max: dimension 5 is out of range");
  EXPECT_THROW_MSG(argmax(x, 2), "argmax: dimension 2 is out of range");
  Tensor empty = Tensor::zeros(Shape{2, 0});
  EXPECT_THROW_MSG(max(empty, 1), "max: cannot reduce the empty dimension 1 of [2, 0]");
  EXPECT_THROW_MSG(sum(Tensor()), "sum: undefined input");
}

}  // namespace
}  // namespace heed
