// Tests for concat, split, slice and index_select (src/ops/index_ops.cpp).
#include <gtest/gtest.h>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// ---- concat

TEST(Concat, ForwardByHand) {
  Tensor a = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector(Shape{2, 1}, {5, 6});
  Tensor c = Tensor::from_vector(Shape{1, 2}, {7, 8});
  EXPECT_TRUE(all_close(concat({a, b}, 1), {1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(concat({a, b}, -1).shape(), (Shape{2, 3}));
  EXPECT_TRUE(all_close(concat({a, c}, 0), {1, 2, 3, 4, 7, 8}));
  EXPECT_EQ(concat({a, c, a}, 0).shape(), (Shape{5, 2}));
}

TEST(Concat, Gradients) {
  Tensor constant = Tensor::ones(Shape{2, 1, 3});  // needs no gradient
  EXPECT_TRUE(gradcheck([&](auto& in) { return concat({in[0], constant, in[1]}, 1); },
                        {random_input(Shape{2, 2, 3}, 1), random_input(Shape{2, 3, 3}, 2)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return concat({in[0], in[1]}, 0); },
                        {random_input(Shape{1, 4}, 3), random_input(Shape{2, 4}, 4)}));
  // The same tensor twice: both blocks' gradients add up.
  EXPECT_TRUE(gradcheck([](auto& in) { return concat({in[0], in[0] * 2.f, in[0]}, -1); },
                        {random_input(Shape{3, 2}, 5)}));
}

TEST(Concat, BadShapes) {
  Tensor a = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(concat({a, Tensor::zeros(Shape{3, 3})}, 1),
                   "concat: tensor 1 has shape [3, 3] but tensor 0 has shape [2, 3] (all dims "
                   "but 1 must agree)");
  EXPECT_THROW_MSG(concat({a, Tensor::zeros(Shape{2, 3, 1})}, 0), "concat: tensor 1 has shape");
  EXPECT_THROW_MSG(concat({}, 0), "concat: no tensors");
  EXPECT_THROW_MSG(concat({a}, 2), "concat: dimension 2 is out of range for shape [2, 3]");
}

// ---- slice, split

TEST(Slice, ForwardByHandViewOrCopy) {
  Tensor x = Tensor::from_vector(Shape{3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  Tensor rows = slice(x, 0, 1, 3);  // the first dim: a contiguous block, returned as a view
  EXPECT_EQ(rows.shape(), (Shape{2, 4}));
  EXPECT_EQ(rows.data(), x.data() + 4);
  EXPECT_TRUE(all_close(rows, {4, 5, 6, 7, 8, 9, 10, 11}));
  Tensor cols = slice(x, 1, 1, 3);  // a copy
  EXPECT_TRUE(all_close(cols, {1, 2, 5, 6, 9, 10}));
  Tensor y = Tensor::from_vector(Shape{1, 4, 1}, {0, 1, 2, 3});
  EXPECT_EQ(slice(y, 1, 2, 4).data(), y.data() + 2);  // first non-unit dim: still a view
  EXPECT_EQ(slice(x, -1, 2, 2).shape(), (Shape{3, 0}));
}

TEST(Slice, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return slice(in[0], 1, 1, 3); },
                        {random_input(Shape{2, 4, 3}, 6)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return slice(in[0], 0, 0, 1) * slice(in[0], 0, 1, 2); },
                        {random_input(Shape{3, 4}, 7)}));
}

TEST(Slice, GradientZeroesTheRestOfAStaleBuffer) {
  // After zero_grad the old buffer is reused without a memset; the slice must write zeros
  // outside its block (not leave the old 7s there).
  Tensor x = random_input(Shape{2, 4}, 8);
  x.set_grad(Tensor::full(Shape{2, 4}, 7.f));
  x.zero_grad();
  backward(slice(x, 1, 1, 3), Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4}));
  EXPECT_TRUE(all_close(x.grad(), {0, 1, 2, 0, 0, 3, 4, 0}));
}

TEST(Split, ForwardAndGradients) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  auto pieces = split(x, {1, 2}, 1);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_TRUE(all_close(pieces[0], {1, 4}));
  EXPECT_TRUE(all_close(pieces[1], {2, 3, 5, 6}));
  auto halves = split(x, {1, 1}, 0);
  EXPECT_TRUE(all_close(halves[1], {4, 5, 6}));
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        auto p = split(in[0], {1, 2, 1}, 1);
        return concat({p[2] * p[0], p[1]}, 1);
      },
      {random_input(Shape{3, 4}, 9)}));
  // An unused piece gets zero gradient.
  EXPECT_TRUE(gradcheck([](auto& in) { return split(in[0], {2, 2}, -1)[1]; },
                        {random_input(Shape{2, 4}, 10)}));
}

TEST(Slice, BadShapes) {
  Tensor x = Tensor::zeros(Shape{2, 3});
  EXPECT_THROW_MSG(slice(x, 1, 2, 5),
                   "slice: range [2, 5) is out of bounds for dimension 1 of [2, 3]");
  EXPECT_THROW_MSG(slice(x, 0, 2, 1), "slice: range [2, 1) is out of bounds");
  EXPECT_THROW_MSG(slice(x, 2, 0, 1), "slice: dimension 2 is out of range");
  EXPECT_THROW_MSG(split(x, {1, 1}, 1),
                   "split: sizes [1, 1] sum to 2 but dimension 1 of [2, 3] has size 3");
  EXPECT_THROW_MSG(split(x, {4, -1}, 1), "split: negative size in [4, -1]");
}

// ---- index_select

TEST(IndexSelect, ForwardByHand) {
  Tensor x = Tensor::from_vector(Shape{3, 2}, {1, 2, 3, 4, 5, 6});
  IntTensor idx = IntTensor::from_vector(Shape{4}, {2, 0, 2, 1});
  Tensor rows = index_select(x, 0, idx);
  EXPECT_EQ(rows.shape(), (Shape{4, 2}));
  EXPECT_TRUE(all_close(rows, {5, 6, 1, 2, 5, 6, 3, 4}));
  Tensor cols = index_select(x, 1, IntTensor::from_vector(Shape{3}, {1, 1, 0}));
  EXPECT_TRUE(all_close(cols, {2, 2, 1, 4, 4, 3, 6, 6, 5}));
}

TEST(IndexSelect, GradientsWithRepeatedIndices) {
  IntTensor idx = IntTensor::from_vector(Shape{5}, {1, 3, 1, 1, 0});  // 2 never picked
  EXPECT_TRUE(gradcheck([&](auto& in) { return index_select(in[0], 0, idx); },
                        {random_input(Shape{4, 3}, 11)}));
  EXPECT_TRUE(gradcheck([&](auto& in) { return index_select(in[0], 1, idx); },
                        {random_input(Shape{2, 4, 3}, 12)}));
  // By hand: row 1 picked three times gets three times the output gradient.
  Tensor x = random_input(Shape{4, 2}, 13);
  backward(index_select(x, 0, idx), Tensor::ones(Shape{5, 2}));
  EXPECT_TRUE(all_close(x.grad(), {1, 1, 3, 3, 0, 0, 1, 1}));
}

TEST(IndexSelect, LargeBackwardIsDeterministicAcrossThreadCounts) {
  Rng rng(14);
  Tensor x = Tensor::uniform(Shape{50, 700}, rng);
  std::vector<std::int32_t> ids(300);
  for (auto& id : ids) id = static_cast<std::int32_t>(rng.randint(0, 50));
  IntTensor idx = IntTensor::from_vector(Shape{300}, ids);
  Tensor dy = Tensor::uniform(Shape{300, 700}, rng);
  auto grad_with_threads = [&](int threads) {
    set_num_threads(threads);
    Tensor leaf = x.detach().set_requires_grad();
    backward(index_select(leaf, 0, idx), dy);
    return leaf.grad().to_vector();
  };
  const int saved = num_threads();
  const auto one = grad_with_threads(1);
  const auto two = grad_with_threads(2);
  set_num_threads(saved);
  EXPECT_EQ(one, two);
  // Against a serial scatter-add in index order.
  std::vector<float> want(50 * 700, 0.f);
  for (int j = 0; j < 300; ++j)
    for (int c = 0; c < 700; ++c) want[ids[j] * 700 + c] += dy.data()[j * 700 + c];
  EXPECT_EQ(one, want);
}

TEST(IndexSelect, BadIndex) {
  Tensor x = Tensor::zeros(Shape{5, 3});
  EXPECT_THROW_MSG(index_select(x, 0, IntTensor::from_vector(Shape{3}, {0, 4, 5})),
                   "index_select: index 5 at position 2 is out of range [0, 5) for dimension 0 "
                   "of [5, 3]");
  EXPECT_THROW_MSG(index_select(x, 1, IntTensor::from_vector(Shape{1}, {-1})),
                   "index_select: index -1 at position 0");
  EXPECT_THROW_MSG(index_select(x, 0, IntTensor(Shape{2, 2})), "index_select: index must be 1-D");
  EXPECT_THROW_MSG(index_select(x, 2, IntTensor(Shape{1})), "index_select: dimension 2");
}

}  // namespace
}  // namespace heed
