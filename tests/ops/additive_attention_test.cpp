#include "heed/ops/additive_attention.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

TEST(AdditiveAttentionScores, ForwardByHand) {
  // B = 1, S = 2, A = 2: e_s = Σ_a v_a tanh(k_sa + q_a).
  Tensor q = Tensor::from_vector(Shape{1, 2}, {0.5f, -1.f});
  Tensor k = Tensor::from_vector(Shape{1, 2, 2}, {1.f, 0.f, -2.f, 3.f});
  Tensor v = Tensor::from_vector(Shape{2}, {2.f, -1.f});
  const float e0 = 2.f * std::tanh(1.5f) - std::tanh(-1.f);
  const float e1 = 2.f * std::tanh(-1.5f) - std::tanh(2.f);
  Tensor e = additive_attention_scores(q, k, v);
  EXPECT_EQ(e.shape(), (Shape{1, 2}));
  EXPECT_TRUE(all_close(e, {e0, e1}, 1e-6, 1e-6));
}

TEST(AdditiveAttentionScores, MatchesComposite) {
  // Large enough for the parallel paths (B·S·A = 65,536 > kParallelGrain), and with arguments of
  // tanh on both sides of fast_tanh's |x| = 0.625 switch.
  const Index B = 8, S = 16, A = 512;
  auto q = random_input(Shape{B, A}, 1, -2.f, 2.f);
  auto k = random_input(Shape{B, S, A}, 2, -2.f, 2.f);
  auto v = random_input(Shape{A}, 3);
  Rng rng(4);
  Tensor w = Tensor::uniform(Shape{B, S}, rng, -1.f, 1.f);
  for (Index b = 0; b < B; ++b) w.data()[b * S + 3] = 0.f;  // a "masked" column: zero gradient

  Tensor fused = additive_attention_scores(q, k, v);
  backward(fused, w);
  const Tensor dq = q.grad().copy_data(), dk = k.grad().copy_data(), dv = v.grad().copy_data();
  q.zero_grad(), k.zero_grad(), v.zero_grad();
  Tensor composite = additive_attention_scores_composite(q, k, v);
  backward(composite, w);
  EXPECT_TRUE(all_close(fused, composite, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dq, q.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dk, k.grad(), 1e-6, 1e-5));
  EXPECT_TRUE(all_close(dv, v.grad(), 1e-4, 1e-5));  // sums of 128 terms
}

TEST(AdditiveAttentionScores, GradientsAccumulateAcrossUses) {
  // keys_proj is used once per decoder step: the second use must add to the first's gradient.
  auto q1 = random_input(Shape{2, 3}, 5);
  auto q2 = random_input(Shape{2, 3}, 6);
  auto k = random_input(Shape{2, 4, 3}, 7);
  auto v = random_input(Shape{3}, 8);
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        return additive_attention_scores(in[0], in[2], in[3]) +
               additive_attention_scores(in[1], in[2], in[3]);
      },
      {q1, q2, k, v}));
}

TEST(AdditiveAttentionScores, Gradcheck) {
  EXPECT_TRUE(gradcheck([](auto& in) { return additive_attention_scores(in[0], in[1], in[2]); },
                        {random_input(Shape{2, 4}, 9), random_input(Shape{2, 3, 4}, 10),
                         random_input(Shape{4}, 11)}));
}

TEST(AdditiveAttentionScores, BadShapes) {
  Tensor q = Tensor::zeros(Shape{2, 4}), k = Tensor::zeros(Shape{2, 3, 4});
  Tensor v = Tensor::zeros(Shape{4});
  EXPECT_THROW_MSG(additive_attention_scores(Tensor::zeros(Shape{2, 5}), k, v),
                   "additive_attention_scores: query_proj must be [B, A] = [2, 4]");
  EXPECT_THROW_MSG(additive_attention_scores(q, Tensor::zeros(Shape{2, 4}), v),
                   "additive_attention_scores: keys_proj must be [B, S, A]");
  EXPECT_THROW_MSG(additive_attention_scores(q, k, Tensor::zeros(Shape{3})),
                   "additive_attention_scores: v must be [A] = [4]");
}

}  // namespace
}  // namespace heed
