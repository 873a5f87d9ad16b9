#include "heed/ops/attention_pooling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/reduce.h"
#include "heed/ops/shape_ops.h"
#include "heed/ops/softmax.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// [B, T] key padding mask with 1 at t >= lengths[b].
Tensor mask_from_lengths(const std::vector<Index>& lengths, Index T) {
  const Index B = static_cast<Index>(lengths.size());
  Tensor mask = Tensor::zeros(Shape{B, T});
  for (Index b = 0; b < B; ++b)
    for (Index t = lengths[b]; t < T; ++t) mask.data()[b * T + t] = 1.f;
  return mask;
}

// The same computation from primitives: tanh, matmul, masked_fill, softmax, mul, sum.
AttentionPoolingOutput composite(const Tensor& z, const Tensor& w, const Tensor& h,
                                 const Tensor& mask) {
  const Index B = z.size(0), T = z.size(1), A = z.size(2);
  Tensor scores = reshape(matmul(tanh(z), reshape(w, Shape{A, 1})), Shape{B, T});
  scores = masked_fill(scores, mask, -std::numeric_limits<float>::infinity());
  Tensor alpha = softmax(scores, -1);
  return {sum(mul(unsqueeze(alpha, 2), h), 1), alpha};
}

// ---- forward values

TEST(AttentionPooling, ForwardByHand) {
  // u = tanh(z) = (0.5, 0), (0, 0.5), (-0.5, 0.5); with w = (2, 4) the scores are 1, 2, 1.
  const float c = std::atanh(0.5f);
  std::vector<float> z_row{c, 0, 0, c, -c, c};
  std::vector<float> z_values;
  for (int b = 0; b < 3; ++b) z_values.insert(z_values.end(), z_row.begin(), z_row.end());
  Tensor z = Tensor::from_vector(Shape{3, 3, 2}, z_values);
  Tensor w = Tensor::from_vector(Shape{2}, {2, 4});
  std::vector<float> h_row{1, 0, 0, 1, 2, 2};
  std::vector<float> h_values;
  for (int b = 0; b < 3; ++b) h_values.insert(h_values.end(), h_row.begin(), h_row.end());
  Tensor h = Tensor::from_vector(Shape{3, 3, 2}, h_values);
  // Row 0: nothing masked. Row 1: the middle position masked. Row 2: everything masked.
  Tensor mask = Tensor::from_vector(Shape{3, 3}, {0, 0, 0, 0, 1, 0, 1, 1, 1});

  AttentionPoolingOutput out = attention_pooling(z, w, h, mask);
  // Row 0: α = softmax(1, 2, 1) = (e⁻¹, 1, e⁻¹) / (1 + 2e⁻¹); pooled = α₀·(1,0) + α₁·(0,1) +
  // α₂·(2,2) = (α₀ + 2α₂, α₁ + 2α₂). Row 1: α = (½, 0, ½), pooled = (1.5, 1). Row 2: zeros.
  EXPECT_TRUE(all_close(out.weights, {0.21194156f, 0.57611688f, 0.21194156f,  //
                                      0.5f, 0.f, 0.5f,                        //
                                      0.f, 0.f, 0.f}));
  EXPECT_TRUE(all_close(out.pooled, {0.63582467f, 1.f, 1.5f, 1.f, 0.f, 0.f}));
  EXPECT_EQ(out.weights.data()[4], 0.f);  // exactly zero, not merely small
  // Without a mask every row is the unmasked row 0.
  AttentionPoolingOutput unmasked = attention_pooling(z, w, h);
  EXPECT_TRUE(all_close(unmasked.pooled, {0.63582467f, 1.f, 0.63582467f, 1.f, 0.63582467f, 1.f}));
}

TEST(AttentionPooling, MatchesCompositeInValuesAndGradients) {
  const Index B = 3, T = 5, A = 20, D = 7;  // A > 16: more than one column block of dw
  Tensor z = random_input(Shape{B, T, A}, 1, -2.f, 2.f);
  Tensor w = random_input(Shape{A}, 2);
  Tensor h = random_input(Shape{B, T, D}, 3);
  Tensor mask = mask_from_lengths({5, 2, 4}, T);
  Rng rng(4);
  Tensor dpooled = Tensor::uniform(Shape{B, D}, rng, -1.f, 1.f);

  AttentionPoolingOutput fused = attention_pooling(z, w, h, mask);
  backward(fused.pooled, dpooled);
  const std::vector<Tensor> fused_grads{z.grad().copy_data(), w.grad().copy_data(),
                                        h.grad().copy_data()};
  for (Tensor* t : {&z, &w, &h}) t->zero_grad();
  AttentionPoolingOutput reference = composite(z, w, h, mask);
  backward(reference.pooled, dpooled);

  EXPECT_TRUE(all_close(fused.pooled, reference.pooled, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(fused.weights, reference.weights, 1e-6, 1e-5));
  EXPECT_TRUE(all_close(fused_grads[0], z.grad(), 1e-5, 1e-4)) << "dz";
  EXPECT_TRUE(all_close(fused_grads[1], w.grad(), 1e-5, 1e-4)) << "dw";
  EXPECT_TRUE(all_close(fused_grads[2], h.grad(), 1e-5, 1e-4)) << "dh";
}

// ---- gradients

TEST(AttentionPooling, Gradcheck) {
  Tensor z = random_input(Shape{2, 4, 3}, 11, -1.5f, 1.5f);
  Tensor w = random_input(Shape{3}, 12, -2.f, 2.f);
  Tensor h = random_input(Shape{2, 4, 2}, 13);
  Tensor mask = mask_from_lengths({4, 3}, 4);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return attention_pooling(in[0], in[1], in[2], mask).pooled;
      },
      {z, w, h}));
}

TEST(AttentionPooling, GradcheckWhenOneTensorIsBothScoreInputAndValue) {
  // z = h: both gradient slots are the same buffer, so the second one must add, not overwrite.
  Tensor h = random_input(Shape{2, 3, 4}, 21);
  Tensor w = random_input(Shape{4}, 22, -2.f, 2.f);
  Tensor mask = mask_from_lengths({2, 3}, 3);
  EXPECT_TRUE(gradcheck(
      [&](const std::vector<Tensor>& in) {
        return attention_pooling(in[0], in[1], in[0], mask).pooled;
      },
      {h, w}));
}

TEST(AttentionPooling, MaskedPositionsGetNoGradient) {
  Tensor z = random_input(Shape{1, 4, 3}, 31);
  Tensor w = random_input(Shape{3}, 32);
  Tensor h = random_input(Shape{1, 4, 2}, 33);
  AttentionPoolingOutput out = attention_pooling(z, w, h, mask_from_lengths({2}, 4));
  backward(out.pooled, Tensor::from_vector(Shape{1, 2}, {0.7f, -1.3f}));
  for (Index i = 2 * 3; i < 4 * 3; ++i) EXPECT_EQ(z.grad().data()[i], 0.f) << "dz " << i;
  for (Index i = 2 * 2; i < 4 * 2; ++i) EXPECT_EQ(h.grad().data()[i], 0.f) << "dh " << i;
}

TEST(AttentionPooling, SameBitsForAnyThreadCount) {
  // Large enough for both kernels to run in parallel.
  const Index B = 16, T = 64, A = 40, D = 32;
  Tensor z = random_input(Shape{B, T, A}, 41);
  Tensor w = random_input(Shape{A}, 42);
  Tensor h = random_input(Shape{B, T, D}, 43);
  Tensor mask = mask_from_lengths(std::vector<Index>(B, 50), T);
  Rng rng(44);
  Tensor dpooled = Tensor::uniform(Shape{B, D}, rng);
  const int threads = num_threads();
  std::vector<std::vector<float>> results[2];
  for (int run = 0; run < 2; ++run) {
    set_num_threads(run == 0 ? 1 : 2);
    for (Tensor* t : {&z, &w, &h}) t->zero_grad();
    AttentionPoolingOutput out = attention_pooling(z, w, h, mask);
    backward(out.pooled, dpooled);
    results[run] = {out.pooled.to_vector(), z.grad().to_vector(), w.grad().to_vector(),
                    h.grad().to_vector()};
  }
  set_num_threads(threads);
  EXPECT_EQ(results[0], results[1]);
}

// ---- errors

TEST(AttentionPooling, BadShapesNameTheOp) {
  Tensor z = Tensor::zeros(Shape{2, 3, 4});
  Tensor w = Tensor::zeros(Shape{4});
  Tensor h = Tensor::zeros(Shape{2, 3, 5});
  EXPECT_THROW_MSG(attention_pooling(z, w, Tensor::zeros(Shape{2, 4, 5})),
                   "attention_pooling: z and h must be");
  EXPECT_THROW_MSG(attention_pooling(Tensor::zeros(Shape{6, 4}), w, h),
                   "attention_pooling: z and h must be");
  EXPECT_THROW_MSG(attention_pooling(z, Tensor::zeros(Shape{5}), h),
                   "attention_pooling: context must be [A] = [4]");
  EXPECT_THROW_MSG(attention_pooling(z, w, h, Tensor::zeros(Shape{3, 2})),
                   "attention_pooling: key_padding must be [B, T] = [2, 3]");
}

}  // namespace
}  // namespace heed
