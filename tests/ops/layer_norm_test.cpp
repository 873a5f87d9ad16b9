#include "heed/ops/layer_norm.h"

#include <gtest/gtest.h>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/reduce.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// Layer norm from primitives: (x - mean) / sqrt(biased var + eps) · gamma + beta.
Tensor layer_norm_composite(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                            float eps = 1e-5f) {
  Tensor centered = x - mean(x, -1, /*keepdim=*/true);
  Tensor var = mean(centered * centered, -1, /*keepdim=*/true);
  Tensor y = centered / sqrt(var + eps);
  if (gamma.defined()) y = y * gamma;
  if (beta.defined()) y = y + beta;
  return y;
}

// ---- forward values

TEST(LayerNorm, ForwardMatchesPyTorch) {
  // Reference: torch.nn.functional.layer_norm(x, (4,), [gamma, beta,] eps=1e-5), float64.
  Tensor x = Tensor::from_vector(Shape{2, 4}, {1, 2, 3, 4, -1, 0, 0, 5});
  Tensor gamma = Tensor::from_vector(Shape{4}, {1, 0.5f, -2, 3});
  Tensor beta = Tensor::from_vector(Shape{4}, {0, 1, 0.5f, -1});
  EXPECT_TRUE(all_close(layer_norm(x, Tensor(), Tensor()),
                        {-1.34163542f, -0.44721181f, 0.44721181f, 1.34163542f,  //
                         -0.85280209f, -0.42640105f, -0.42640105f, 1.70560418f}));
  EXPECT_TRUE(all_close(layer_norm(x, gamma, beta),
                        {-1.34163542f, 0.77639410f, -0.39442361f, 3.02490626f,  //
                         -0.85280209f, 0.78679948f, 1.35280209f, 4.11681254f}));
}

TEST(LayerNorm, LargeOffsetDoesNotCancel) {
  // Two-pass variance: a row 1e4 ± 1 still normalizes to ±1 (a one-pass E[x²] - E[x]² in float
  // would lose every digit of the variance).
  Tensor x = Tensor::from_vector(Shape{1, 4}, {9999, 10001, 9999, 10001});
  EXPECT_TRUE(all_close(layer_norm(x, Tensor(), Tensor(), 0.f), {-1, 1, -1, 1}, 1e-4));
}

// ---- the fused op against its composite

TEST(LayerNorm, FusedMatchesComposite) {
  const Shape shape{3, 4, 8};
  Tensor x1 = random_input(shape, 1, -2.f, 2.f), g1 = random_input(Shape{8}, 2, 0.5f, 1.5f),
         b1 = random_input(Shape{8}, 3);
  Tensor x2 = x1.copy_data().set_requires_grad(), g2 = g1.copy_data().set_requires_grad(),
         b2 = b1.copy_data().set_requires_grad();
  Tensor fused = layer_norm(x1, g1, b1);
  Tensor composite = layer_norm_composite(x2, g2, b2);
  EXPECT_TRUE(all_close(fused, composite, 1e-5, 1e-5));
  Rng rng(4);
  Tensor dy = Tensor::uniform(shape, rng, -1.f, 1.f);
  backward(fused, dy);
  backward(composite, dy);
  EXPECT_TRUE(all_close(x1.grad(), x2.grad(), 1e-5, 1e-4));
  EXPECT_TRUE(all_close(g1.grad(), g2.grad(), 1e-5, 1e-4));
  EXPECT_TRUE(all_close(b1.grad(), b2.grad(), 1e-5, 1e-4));
}

// ---- gradients

TEST(LayerNorm, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return layer_norm(in[0], in[1], in[2]); },
                        {random_input(Shape{2, 3, 5}, 5, -2.f, 2.f),
                         random_input(Shape{5}, 6, 0.5f, 1.5f), random_input(Shape{5}, 7)}));
  // No affine parameters; gamma only; beta only.
  EXPECT_TRUE(gradcheck([](auto& in) { return layer_norm(in[0], Tensor(), Tensor()); },
                        {random_input(Shape{3, 6}, 8, -2.f, 2.f)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return layer_norm(in[0], in[1], Tensor()); },
                        {random_input(Shape{3, 6}, 9, -2.f, 2.f),
                         random_input(Shape{6}, 10, 0.5f, 1.5f)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return layer_norm(in[0], Tensor(), in[1]); },
                        {random_input(Shape{3, 6}, 11, -2.f, 2.f), random_input(Shape{6}, 12)}));
}

TEST(LayerNorm, GradientsWhenOnlyTheParametersNeedThem) {
  // x is a constant: only dγ/dβ are computed (the dx kernel is skipped).
  Rng rng(13);
  Tensor x = Tensor::uniform(Shape{4, 5}, rng, -2.f, 2.f);
  EXPECT_TRUE(gradcheck([&](auto& in) { return layer_norm(x, in[0], in[1]); },
                        {random_input(Shape{5}, 14, 0.5f, 1.5f), random_input(Shape{5}, 15)}));
}

TEST(LayerNorm, GradientsAccumulateIntoUsedBuffers) {
  // h and gamma each feed two layer norms: the second backward adds into their gradients.
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        Tensor h = in[0] * 1.5f;
        return layer_norm(h, in[1], in[2]) + layer_norm(h, in[1], Tensor());
      },
      {random_input(Shape{3, 5}, 16, -2.f, 2.f), random_input(Shape{5}, 17, 0.5f, 1.5f),
       random_input(Shape{5}, 18)}));
}

TEST(LayerNorm, ParameterGradientsAreDeterministicAcrossThreadCounts) {
  // [512, 256]: parallel path; dγ/dβ are summed over row chunks fixed by the row count.
  Rng rng(19);
  Tensor dy = Tensor::uniform(Shape{512, 256}, rng, -1.f, 1.f);
  Tensor x = Tensor::uniform(Shape{512, 256}, rng, -2.f, 2.f);
  auto grads = [&](int threads) {
    set_num_threads(threads);
    Tensor g = Tensor::ones(Shape{256}).set_requires_grad();
    Tensor b = Tensor::zeros(Shape{256}).set_requires_grad();
    Tensor xi = x.copy_data().set_requires_grad();
    backward(layer_norm(xi, g, b), dy);
    return std::vector<std::vector<float>>{xi.grad().to_vector(), g.grad().to_vector(),
                                           b.grad().to_vector()};
  };
  const int threads = num_threads();
  const auto one = grads(1);
  const auto two = grads(2);
  set_num_threads(threads);
  EXPECT_EQ(one, two);
  // dβ is the column sum of dy.
  for (Index c = 0; c < 256; c += 51) {
    double want = 0;
    for (Index r = 0; r < 512; ++r) want += dy.data()[r * 256 + c];
    EXPECT_NEAR(one[2][c], want, 1e-4);
  }
}

// ---- bad shapes name the op

TEST(LayerNorm, BadShapes) {
  Tensor x = Tensor::zeros(Shape{2, 8});
  EXPECT_THROW_MSG(layer_norm(x, Tensor::ones(Shape{7}), Tensor()),
                   "layer_norm: gamma must be [8] to match x [2, 8] (got [7])");
  EXPECT_THROW_MSG(layer_norm(x, Tensor(), Tensor::zeros(Shape{2, 8})),
                   "layer_norm: beta must be [8] to match x [2, 8] (got [2, 8])");
  EXPECT_THROW_MSG(layer_norm(Tensor::zeros(Shape{2, 0}), Tensor(), Tensor()),
                   "layer_norm: x must be [..., C] with C > 0 (got [2, 0])");
}

}  // namespace
}  // namespace heed
