#include "heed/ops/softmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// softmax of each row of a [rows, cols] tensor, in double (the reference for the kernels).
std::vector<float> reference_softmax(const Tensor& x, bool log) {
  const Index cols = x.shape().back(), rows = x.numel() / cols;
  std::vector<float> out(x.numel());
  for (Index r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * cols;
    double m = xr[0], sum = 0;
    for (Index c = 0; c < cols; ++c) m = std::max(m, static_cast<double>(xr[c]));
    for (Index c = 0; c < cols; ++c) sum += std::exp(xr[c] - m);
    for (Index c = 0; c < cols; ++c)
      out[r * cols + c] = static_cast<float>(log ? xr[c] - m - std::log(sum)
                                                 : std::exp(xr[c] - m) / sum);
  }
  return out;
}

// [rows, cols] -> [cols, rows] by hand (the shape ops are not used here).
Tensor transposed(const Tensor& x) {
  const Index rows = x.size(0), cols = x.size(1);
  Tensor t = Tensor::empty(Shape{cols, rows});
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) t.data()[c * rows + r] = x.data()[r * cols + c];
  return t;
}

// ---- forward values

TEST(Softmax, ForwardByHand) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 0, 0, 0});
  // e^(x-3) / Σ: 0.09003057, 0.24472847, 0.66524096; a constant row is uniform.
  EXPECT_TRUE(all_close(softmax(x), {0.09003057f, 0.24472847f, 0.66524096f,  //
                                     1 / 3.f, 1 / 3.f, 1 / 3.f}));
  EXPECT_TRUE(all_close(log_softmax(x), {-2.40760596f, -1.40760596f, -0.40760596f,  //
                                         -1.09861229f, -1.09861229f, -1.09861229f}));
}

TEST(Softmax, LargeMagnitudesDoNotOverflow) {
  // e^1000 overflows float; subtracting the row max keeps every exponent ≤ 0.
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1000, -1000, 0, -1000, -1000, -999});
  Tensor y = softmax(x);
  EXPECT_TRUE(all_close(y, {1, 0, 0, 0.21194156f, 0.21194156f, 0.57611688f}, 1e-6));
  // log_softmax stays exact even where the probability underflows to 0.
  EXPECT_TRUE(all_close(log_softmax(x), {0, -2000, -1000,  //
                                         -1.55144471f, -1.55144471f, -0.55144471f}));
  // The same along dim 0 (the strided kernels).
  Tensor xt = transposed(x);
  EXPECT_TRUE(all_close(softmax(xt, 0), transposed(y)));
  // Backward through extreme values stays finite.
  for (bool log : {false, true}) {
    Tensor leaf = x.copy_data();
    leaf.set_requires_grad();
    Tensor out = log ? log_softmax(leaf) : softmax(leaf);
    backward(out, Tensor::from_vector(Shape{2, 3}, {0.5f, -1, 2, 1, 0.25f, -0.5f}));
    for (float g : leaf.grad().to_vector()) EXPECT_TRUE(std::isfinite(g)) << "log=" << log;
  }
}

TEST(Softmax, EveryDimMatchesTheLastDimOfATransposedCopy) {
  Rng rng(7);
  Tensor x = Tensor::uniform(Shape{5, 4}, rng, -3.f, 3.f);
  EXPECT_TRUE(all_close(softmax(x, 0), transposed(softmax(transposed(x), -1))));
  EXPECT_TRUE(all_close(log_softmax(x, 0), transposed(log_softmax(transposed(x), 1))));
  // Middle dim of [2, 3, 4]: each (i, :, k) column is one softmax.
  Tensor z = Tensor::uniform(Shape{2, 3, 4}, rng, -3.f, 3.f);
  Tensor y = softmax(z, 1);
  for (Index i = 0; i < 2; ++i)
    for (Index k = 0; k < 4; ++k) {
      Tensor column = Tensor::empty(Shape{1, 3});
      for (Index j = 0; j < 3; ++j) column.data()[j] = z.data()[i * 12 + j * 4 + k];
      const auto want = reference_softmax(column, false);
      for (Index j = 0; j < 3; ++j) EXPECT_NEAR(y.data()[i * 12 + j * 4 + k], want[j], 1e-6);
    }
}

TEST(Softmax, LargeRowsMatchADoubleReference) {
  // [64, 1000]: the parallel, vectorized last-dim path, against a double computation.
  Rng rng(8);
  Tensor x = Tensor::uniform(Shape{64, 1000}, rng, -20.f, 20.f);
  EXPECT_TRUE(all_close(softmax(x), reference_softmax(x, false), 1e-7, 1e-5));
  EXPECT_TRUE(all_close(log_softmax(x), reference_softmax(x, true), 1e-5, 1e-6));
}

// ---- gradients (random output weighting: with a plain sum softmax's gradient is always 0)

TEST(Softmax, Gradients) {
  for (int dim : {0, 1, 2, -1}) {
    EXPECT_TRUE(gradcheck([=](auto& in) { return softmax(in[0], dim); },
                          {random_input(Shape{2, 3, 4}, 1, -2.f, 2.f)}))
        << "softmax dim " << dim;
    EXPECT_TRUE(gradcheck([=](auto& in) { return log_softmax(in[0], dim); },
                          {random_input(Shape{2, 3, 4}, 2, -2.f, 2.f)}))
        << "log_softmax dim " << dim;
  }
}

TEST(Softmax, GradientsAccumulateIntoAUsedBuffer) {
  // h feeds both ops, so the second backward adds into h's gradient.
  for (int dim : {0, -1}) {
    EXPECT_TRUE(gradcheck(
        [=](auto& in) {
          Tensor h = in[0] * 1.5f;
          return softmax(h, dim) + log_softmax(h, dim);
        },
        {random_input(Shape{3, 4}, 3, -2.f, 2.f)}))
        << "dim " << dim;
  }
}

// ---- bad input names the op

TEST(Softmax, BadDims) {
  Tensor x = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(softmax(x, 2), "softmax: dimension 2 is out of range for shape [2, 3]");
  EXPECT_THROW_MSG(log_softmax(x, -3), "log_softmax: dimension -3 is out of range");
  EXPECT_THROW_MSG(softmax(Tensor()), "softmax: undefined input");
}

}  // namespace
}  // namespace heed
