// Tests for the view/permute/expand/masked_fill half of ops/shape_ops.h (src/ops/shape_ops.cpp).
#include "heed/ops/shape_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// Reference permute: out[coords permuted] = x[coords], one element at a time.
Tensor naive_permute(const Tensor& x, const std::vector<int>& perm) {
  const Shape& in = x.shape();
  std::vector<Index> out_dims(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out_dims[k] = in[perm[k]];
  const Shape out_shape(out_dims);
  Tensor out = Tensor::empty(out_shape);
  const auto in_strides = in.strides();
  for (Index i = 0; i < out.numel(); ++i) {
    Index rem = i, src = 0;
    for (int k = out_shape.ndim() - 1; k >= 0; --k) {
      src += (rem % out_shape[k]) * in_strides[perm[k]];
      rem /= out_shape[k];
    }
    out.data()[i] = x.data()[src];
  }
  return out;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

// ---- reshape, unsqueeze, squeeze: views

TEST(Reshape, ForwardIsAViewWithInferredDim) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor y = reshape(x, std::vector<Index>{3, -1});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_EQ(y.data(), x.data());  // shares storage
  EXPECT_TRUE(all_close(y, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(reshape(x, std::vector<Index>{-1}).shape(), (Shape{6}));
  EXPECT_EQ(reshape(x, Shape{1, 6, 1}).shape(), (Shape{1, 6, 1}));
}

TEST(Reshape, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return reshape(in[0], std::vector<Index>{4, -1}); },
                        {random_input(Shape{2, 3, 2}, 1)}));
  // Two uses: the first hands its buffer on, the second adds into it.
  EXPECT_TRUE(gradcheck(
      [](auto& in) { return reshape(in[0], Shape{6}) * reshape(in[0] * 2.f, Shape{6}); },
      {random_input(Shape{2, 3}, 2)}));
  // Behind another op, the buffer is handed to that op's node rather than a leaf.
  EXPECT_TRUE(gradcheck([](auto& in) { return tanh(reshape(tanh(in[0]), Shape{3, 2})); },
                        {random_input(Shape{2, 3}, 3)}));
}

TEST(Reshape, GradientAccumulatesIntoAnExistingBuffer) {
  Tensor x = random_input(Shape{2, 3}, 4);
  Tensor w = Tensor::from_vector(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  backward(reshape(x, Shape{3, 2}), w);
  const float* first = x.grad().data();
  EXPECT_TRUE(all_close(x.grad(), {1, 2, 3, 4, 5, 6}));
  backward(reshape(x, Shape{3, 2}), w);  // no zero_grad: adds
  EXPECT_EQ(x.grad().data(), first);
  EXPECT_TRUE(all_close(x.grad(), {2, 4, 6, 8, 10, 12}));
  // A flat buffer set by an optimizer stays the gradient's storage after zero_grad.
  Tensor flat = Tensor::full(Shape{2, 3}, 7.f);
  x.set_grad(flat);
  x.zero_grad();
  backward(reshape(x, Shape{6}), w.with_shape(Shape{6}));
  EXPECT_EQ(x.grad().data(), flat.data());
  EXPECT_TRUE(all_close(flat, {1, 2, 3, 4, 5, 6}));
}

TEST(Reshape, BadShapes) {
  Tensor x = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(reshape(x, Shape{4, 2}),
                   "reshape: cannot view [2, 3] (6 elements) as [4, 2] (8 elements)");
  EXPECT_THROW_MSG(reshape(x, std::vector<Index>{4, -1}), "reshape: cannot view [2, 3]");
  EXPECT_THROW_MSG(reshape(x, std::vector<Index>{-1, -1}), "reshape: only one dimension");
  EXPECT_THROW_MSG(reshape(x, std::vector<Index>{-2, 3}), "reshape: invalid size -2");
}

TEST(Squeeze, UnsqueezeAndSqueezeAreViews) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(unsqueeze(x, 0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(unsqueeze(x, 1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(unsqueeze(x, -1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(unsqueeze(x, 2).data(), x.data());
  Tensor y = Tensor::zeros(Shape{2, 1, 3});
  EXPECT_EQ(squeeze(y, 1).shape(), (Shape{2, 3}));
  EXPECT_EQ(squeeze(y, -2).shape(), (Shape{2, 3}));
  EXPECT_EQ(squeeze(y, 1).data(), y.data());
  EXPECT_TRUE(all_close(squeeze(unsqueeze(x, 1), 1), {1, 2, 3, 4, 5, 6}));
}

TEST(Squeeze, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return unsqueeze(in[0], 1) * 3.f; },
                        {random_input(Shape{2, 3}, 5)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return squeeze(in[0], 0) * 3.f; },
                        {random_input(Shape{1, 4}, 6)}));
}

TEST(Squeeze, BadShapes) {
  Tensor x = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(squeeze(x, 1), "squeeze: dimension 1 of [2, 3] has size 3, not 1");
  EXPECT_THROW_MSG(squeeze(x, 2), "squeeze: dimension 2 is out of range for shape [2, 3]");
  EXPECT_THROW_MSG(unsqueeze(x, 3), "unsqueeze: dimension 3 is out of range for shape [2, 3]");
  EXPECT_THROW_MSG(unsqueeze(x, -4), "unsqueeze: dimension -4 is out of range");
}

// ---- clone

TEST(Clone, CopiesDataAndPassesTheGradient) {
  Tensor x = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  Tensor y = clone(x);
  EXPECT_NE(y.data(), x.data());
  EXPECT_TRUE(all_close(y, {1, 2, 3, 4}));
  y.data()[0] = 9;
  EXPECT_EQ(x.data()[0], 1);
  EXPECT_TRUE(gradcheck([](auto& in) { return clone(in[0]) * in[0]; },
                        {random_input(Shape{2, 3}, 7)}));
}

// ---- permute, transpose

TEST(Permute, ForwardByHand) {
  // x[i, j, k] = 100i + 10j + k, shape [2, 3, 2]; y = permute(x, {2, 0, 1}) has shape [2, 2, 3]
  // with y[k, i, j] = x[i, j, k].
  std::vector<float> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) v.push_back(100.f * i + 10.f * j + k);
  Tensor x = Tensor::from_vector(Shape{2, 3, 2}, v);
  Tensor y = permute(x, {2, 0, 1});
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_TRUE(all_close(y, {0, 10, 20, 100, 110, 120, 1, 11, 21, 101, 111, 121}));
  // [B,T,H,D] -> [B,H,T,D] with B=1, T=2, H=2, D=2 (rows of D move as blocks).
  Tensor a = Tensor::from_vector(Shape{1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_TRUE(all_close(permute(a, {0, 2, 1, 3}), {1, 2, 5, 6, 3, 4, 7, 8}));
  Tensor m = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(all_close(transpose(m, 0, 1), {1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(transpose(m, -1, -2).shape(), (Shape{3, 2}));
}

TEST(Permute, MatchesReferenceOnLargeShapes) {
  // Large enough for the OpenMP paths; odd sizes leave partial 32×32 tiles.
  Rng rng(11);
  struct Case {
    Shape shape;
    std::vector<int> perm;
  };
  for (const Case& c : {Case{Shape{4, 64, 8, 32}, {0, 2, 1, 3}},    // [B,T,H,D] -> [B,H,T,D]
                        Case{Shape{2, 4, 96, 70}, {0, 1, 3, 2}},    // last-two transpose
                        Case{Shape{3, 1, 50, 7, 41}, {4, 2, 1, 0, 3}},
                        Case{Shape{37, 45}, {1, 0}},
                        Case{Shape{2, 3, 1, 5}, {2, 0, 1, 3}}}) {   // only moves a unit dim
    Tensor x = Tensor::uniform(c.shape, rng);
    EXPECT_TRUE(bitwise_equal(permute(x, c.perm), naive_permute(x, c.perm))) << c.shape;
  }
}

TEST(Permute, Gradients) {
  for (const std::vector<int>& perm : std::vector<std::vector<int>>{
           {0, 2, 1, 3}, {0, 1, 3, 2}, {3, 1, 0, 2}, {2, 3, 0, 1}}) {
    EXPECT_TRUE(gradcheck([&](auto& in) { return permute(in[0], perm); },
                          {random_input(Shape{2, 3, 2, 4}, 8)}));
  }
  // Used twice: the second backward adds into the first one's gradient.
  EXPECT_TRUE(gradcheck(
      [](auto& in) { return transpose(in[0], 0, 1) + transpose(in[0] * in[0], 0, 1); },
      {random_input(Shape{3, 4}, 9)}));
}

TEST(Permute, LargeGradientMatchesInversePermute) {
  Rng rng(12);
  Tensor x = Tensor::uniform(Shape{2, 40, 6, 48}, rng);
  x.set_requires_grad();
  Tensor y = permute(x, {0, 2, 3, 1});
  Tensor dy = Tensor::uniform(y.shape(), rng);
  backward(y, dy);
  EXPECT_TRUE(bitwise_equal(x.grad(), naive_permute(dy, {0, 3, 1, 2})));
}

TEST(Permute, BadShapes) {
  Tensor x = Tensor::zeros(Shape{2, 3, 4});
  EXPECT_THROW_MSG(permute(x, {0, 1}), "permute: [0, 1] does not have one entry per dim of "
                                       "[2, 3, 4]");
  EXPECT_THROW_MSG(permute(x, {0, 0, 1}), "permute: [0, 0, 1] is not a permutation");
  EXPECT_THROW_MSG(permute(x, {0, 1, 3}), "permute: dimension 3 is out of range");
  EXPECT_THROW_MSG(transpose(x, 0, 5), "transpose: dimension 5 is out of range");
}

// ---- expand

TEST(Expand, ForwardByHand) {
  Tensor col = Tensor::from_vector(Shape{2, 1}, {1, 2});
  EXPECT_TRUE(all_close(expand(col, Shape{2, 3}), {1, 1, 1, 2, 2, 2}));
  Tensor row = Tensor::from_vector(Shape{3}, {1, 2, 3});
  Tensor y = expand(row, Shape{2, 3});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_TRUE(all_close(y, {1, 2, 3, 1, 2, 3}));
}

TEST(Expand, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return expand(in[0], Shape{2, 3, 4}); },
                        {random_input(Shape{3, 1}, 10)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return expand(in[0], Shape{2, 3, 4}); },
                        {random_input(Shape{2, 1, 4}, 11)}));
}

TEST(Expand, BadShapes) {
  EXPECT_THROW_MSG(expand(Tensor::zeros(Shape{2, 3}), Shape{4, 3}),
                   "expand: cannot expand [2, 3] to [4, 3]");
  EXPECT_THROW_MSG(expand(Tensor::zeros(Shape{3, 1}), Shape{4}),
                   "expand: cannot expand [3, 1] to [4]");
}

// ---- masked_fill

TEST(MaskedFill, ForwardByHandWithBroadcastMask) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor key_mask = Tensor::from_vector(Shape{1, 3}, {0, 0, 1});  // hide the last key
  EXPECT_TRUE(all_close(masked_fill(x, key_mask, -9.f), {1, 2, -9, 4, 5, -9}));
  Tensor full = Tensor::from_vector(Shape{2, 3}, {1, 0, 0, 0, 0, 1});
  Tensor y = masked_fill(x, full, -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isinf(y.data()[0]) && y.data()[0] < 0);
  EXPECT_EQ(y.data()[1], 2.f);
  EXPECT_TRUE(std::isinf(y.data()[5]));
  // [B, 1, 1, S] key padding mask against [B, H, T, S] scores.
  Tensor scores = Tensor::ones(Shape{2, 2, 2, 3});
  Tensor pad = Tensor::from_vector(Shape{2, 1, 1, 3}, {0, 0, 1, 0, 1, 1});
  Tensor s = masked_fill(scores, pad, 0.f);
  for (Index i = 0; i < s.numel(); ++i) {
    const Index b = i / 12, k = i % 3;
    EXPECT_EQ(s.data()[i], pad.data()[b * 3 + k] != 0 ? 0.f : 1.f) << "element " << i;
  }
}

TEST(MaskedFill, GradientsAndNoneForTheMask) {
  Tensor mask = Tensor::from_vector(Shape{3, 1}, {0, 1, 0});
  EXPECT_TRUE(gradcheck([&](auto& in) { return masked_fill(in[0], mask, 5.f); },
                        {random_input(Shape{3, 4}, 12)}));
  Tensor same_shape = Tensor::from_vector(Shape{2, 2}, {1, 0, 0, 1});
  EXPECT_TRUE(gradcheck([&](auto& in) { return masked_fill(in[0] * in[0], same_shape, 0.f); },
                        {random_input(Shape{2, 2}, 13)}));
  Tensor x = random_input(Shape{3, 4}, 14);
  Tensor trainable_mask = Tensor::from_vector(Shape{3, 1}, {0, 1, 0});
  trainable_mask.set_requires_grad();
  backward(masked_fill(x, trainable_mask, 1.f), Tensor::ones(Shape{3, 4}));
  EXPECT_FALSE(trainable_mask.grad().defined());
  EXPECT_TRUE(all_close(x.grad(), {1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1}));
}

TEST(MaskedFill, BadShapes) {
  EXPECT_THROW_MSG(masked_fill(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{2}), 0.f),
                   "masked_fill: mask [2] does not broadcast to x [2, 3]");
  EXPECT_THROW_MSG(masked_fill(Tensor::zeros(Shape{3}), Tensor::zeros(Shape{2, 3}), 0.f),
                   "masked_fill: mask [2, 3] does not broadcast to x [3]");
}

}  // namespace
}  // namespace heed
