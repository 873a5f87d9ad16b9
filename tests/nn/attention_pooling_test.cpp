#include "heed/nn/attention_pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "heed/ops/shape_ops.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

SelfAttentionPooling make_pooling(Index input_dim, Index attention_dim, std::uint64_t seed) {
  Rng rng(seed);
  return SelfAttentionPooling({input_dim, attention_dim}, rng);
}

TEST(SelfAttentionPooling, ParameterNamesShapesAndInit) {
  Rng rng(1);
  SelfAttentionPooling pooling({6, 16}, rng);
  std::vector<std::string> names;
  for (const auto& [name, p] : pooling.named_parameters()) names.push_back(name);
  // A module lists its own parameters before its sub-modules'.
  EXPECT_EQ(names, (std::vector<std::string>{"context", "proj.weight", "proj.bias"}));
  EXPECT_EQ(pooling.proj_.weight_.shape(), (Shape{16, 6}));
  EXPECT_EQ(pooling.proj_.bias_.shape(), (Shape{16}));
  EXPECT_EQ(pooling.context_.shape(), (Shape{16}));
  EXPECT_EQ(pooling.parameter_count(), 16 * 6 + 16 + 16);
  // context ~ U(-1/4, 1/4), spread over the range.
  float lo = 1, hi = -1;
  for (float v : pooling.context_.to_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -0.25f);
  EXPECT_LE(hi, 0.25f);
  EXPECT_GT(hi - lo, 0.2f);
}

TEST(SelfAttentionPooling, ForwardByHand) {
  SelfAttentionPooling pooling = make_pooling(2, 2, 2);
  // W₁ = I, b₁ = (0.5, -0.5) and h chosen so that u = tanh(h + b₁) = (0.5, 0), (0, 0.5),
  // (-0.5, 0.5); with w₂ = (2, 4) the scores are 1, 2, 1.
  pooling.proj_.weight_.copy_from_(Tensor::from_vector(Shape{2, 2}, {1, 0, 0, 1}));
  pooling.proj_.bias_.copy_from_(Tensor::from_vector(Shape{2}, {0.5f, -0.5f}));
  pooling.context_.copy_from_(Tensor::from_vector(Shape{2}, {2, 4}));
  const float c = std::atanh(0.5f);
  Tensor h = Tensor::from_vector(Shape{1, 3, 2}, {c - 0.5f, 0.5f, -0.5f, c + 0.5f,  //
                                                  -c - 0.5f, c + 0.5f});
  AttentionPoolingOutput out = pooling.forward(h);
  // α = (e⁻¹, 1, e⁻¹) / (1 + 2e⁻¹) = (0.21194156, 0.57611688, 0.21194156);
  // pooled = Σ α_t h_t = (α₀(c - ½) - ½α₁ + α₂(-c - ½), ½α₀ + α₁(c + ½) + α₂(c + ½))
  //        = (-½, ½ + c(α₁ + α₂)) = (-0.5, 0.5 + 0.54930614 · 0.78805844).
  EXPECT_TRUE(all_close(out.weights, {0.21194156f, 0.57611688f, 0.21194156f}));
  EXPECT_TRUE(all_close(out.pooled, {-0.5f, 0.93288534f}));
}

TEST(SelfAttentionPooling, PaddingGetsZeroWeightAndDoesNotChangeTheResult) {
  SelfAttentionPooling pooling = make_pooling(3, 5, 3);
  Rng rng(4);
  // Row 0 has 2 real positions of 4; whatever sits in its padding must not matter.
  Tensor h = Tensor::uniform(Shape{2, 4, 3}, rng, -1.f, 1.f);
  Tensor mask = Tensor::from_vector(Shape{2, 4}, {0, 0, 1, 1, 0, 0, 0, 0});
  AttentionPoolingOutput padded = pooling.forward(h, mask);
  EXPECT_EQ(padded.weights.data()[2], 0.f);
  EXPECT_EQ(padded.weights.data()[3], 0.f);
  EXPECT_NEAR(padded.weights.data()[0] + padded.weights.data()[1], 1.f, 1e-6);

  Tensor alone = slice(slice(h, 0, 0, 1), 1, 0, 2);  // [1, 2, 3]
  AttentionPoolingOutput unpadded = pooling.forward(alone);
  EXPECT_TRUE(all_close(slice(padded.pooled, 0, 0, 1), unpadded.pooled, 1e-6, 1e-6));

  for (Index i = 6; i < 12; ++i) h.data()[i] = 1e3f;  // garbage in row 0's padding
  AttentionPoolingOutput garbage = pooling.forward(h, mask);
  EXPECT_EQ(garbage.pooled.to_vector(), padded.pooled.to_vector());
}

TEST(SelfAttentionPooling, GradcheckInputAndParameters) {
  SelfAttentionPooling pooling = make_pooling(3, 4, 5);
  Tensor h = random_input(Shape{2, 3, 3}, 6);
  Tensor mask = Tensor::from_vector(Shape{2, 3}, {0, 0, 0, 0, 0, 1});
  std::vector<Tensor> inputs{h};
  for (const Tensor& p : pooling.parameters()) inputs.push_back(p);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) { return pooling.forward(in[0], mask).pooled; }, inputs));
}

TEST(SelfAttentionPooling, BadShapesNameTheLayer) {
  SelfAttentionPooling pooling = make_pooling(3, 4, 7);
  EXPECT_THROW_MSG(pooling.forward(Tensor::zeros(Shape{2, 3, 4})),
                   "SelfAttentionPooling: h must be [B, T, input_dim=3]");
  EXPECT_THROW_MSG(pooling.forward(Tensor::zeros(Shape{2, 3})), "SelfAttentionPooling: h must be");
  EXPECT_THROW_MSG(pooling.forward(Tensor::zeros(Shape{2, 3, 3}), Tensor::zeros(Shape{2, 4})),
                   "attention_pooling: key_padding must be [B, T]");
  Rng rng(8);
  EXPECT_THROW_MSG(SelfAttentionPooling({0, 4}, rng),
                   "SelfAttentionPooling: input_dim and attention_dim must be > 0");
}

}  // namespace
}  // namespace heed
