#include "heed/ops/embedding.h"

#include <gtest/gtest.h>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

TEST(Embedding, ForwardByHand) {
  Tensor w = Tensor::from_vector(Shape{4, 2}, {0, 0, 1, 2, 3, 4, 5, 6});
  IntTensor ids = IntTensor::from_vector(Shape{2, 3}, {1, 3, 0, 3, 3, 2});
  Tensor y = embedding(w, ids, /*padding_idx=*/0);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2}));
  EXPECT_TRUE(all_close(y, {1, 2, 5, 6, 0, 0, 5, 6, 5, 6, 3, 4}));
  EXPECT_EQ(embedding(w, IntTensor::from_vector(Shape{}, {2})).shape(), (Shape{2}));
}

TEST(Embedding, GradientsWithRepeatedIds) {
  IntTensor ids = IntTensor::from_vector(Shape{2, 3}, {1, 4, 1, 0, 1, 4});  // 2, 3 unused
  EXPECT_TRUE(gradcheck([&](auto& in) { return embedding(in[0], ids); },
                        {random_input(Shape{5, 3}, 1)}));
}

TEST(Embedding, PaddingRowGetsNoGradient) {
  Tensor w = random_input(Shape{3, 2}, 2);
  IntTensor ids = IntTensor::from_vector(Shape{4}, {0, 2, 0, 1});
  Tensor dy = Tensor::from_vector(Shape{4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  backward(embedding(w, ids, /*padding_idx=*/0), dy);
  EXPECT_TRUE(all_close(w.grad(), {0, 0, 7, 8, 3, 4}));
}

TEST(Embedding, TiedWithLinearSumsBothGradients) {
  // The same [V, D] matrix as input embedding and output projection (Press & Wolf 2017), with
  // V == D so the two [N, V] results can be added. Both orders of the two uses.
  IntTensor ids = IntTensor::from_vector(Shape{3}, {2, 0, 2});
  EXPECT_TRUE(gradcheck([&](auto& in) { return embedding(in[0], ids) + linear(in[1], in[0]); },
                        {random_input(Shape{4, 4}, 3), random_input(Shape{3, 4}, 4)}));
  EXPECT_TRUE(gradcheck([&](auto& in) { return linear(in[1], in[0]) * embedding(in[0], ids); },
                        {random_input(Shape{4, 4}, 5), random_input(Shape{3, 4}, 6)}));
  // V != D: flatten both and join them.
  EXPECT_TRUE(gradcheck(
      [&](auto& in) {
        return concat({reshape(embedding(in[0], ids, 1), Shape{9}),
                       reshape(linear(in[1], in[0]), Shape{10})}, 0);
      },
      {random_input(Shape{5, 3}, 7), random_input(Shape{2, 3}, 8)}));
}

TEST(Embedding, OverwritesAStaleGradientAndAddsToALiveOne) {
  Tensor w = random_input(Shape{3, 2}, 9);
  IntTensor ids = IntTensor::from_vector(Shape{2}, {2, 2});
  Tensor dy = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  w.set_grad(Tensor::full(Shape{3, 2}, 7.f));
  w.zero_grad();  // the buffer still holds 7s; backward must write every row
  backward(embedding(w, ids), dy);
  EXPECT_TRUE(all_close(w.grad(), {0, 0, 0, 0, 4, 6}));
  backward(embedding(w, ids), dy);  // no zero_grad: adds
  EXPECT_TRUE(all_close(w.grad(), {0, 0, 0, 0, 8, 12}));
}

TEST(Embedding, LargeBackwardIsDeterministicAcrossThreadCounts) {
  // Zipf-like ids (many repeats of small ids), big enough for the parallel path.
  constexpr Index V = 1000, D = 96, N = 4000;
  Rng rng(10);
  Tensor w = Tensor::uniform(Shape{V, D}, rng);
  std::vector<std::int32_t> values(N);
  for (auto& id : values) {
    const float u = rng.uniform();
    id = static_cast<std::int32_t>(static_cast<float>(V - 1) * u * u * u);
  }
  IntTensor ids = IntTensor::from_vector(Shape{N}, values);
  Tensor dy = Tensor::uniform(Shape{N, D}, rng, -1.f, 1.f);
  auto grad_with_threads = [&](int threads) {
    set_num_threads(threads);
    Tensor leaf = w.detach().set_requires_grad();
    backward(embedding(leaf, ids, /*padding_idx=*/3), dy);
    return leaf.grad().to_vector();
  };
  const int saved = num_threads();
  const auto one = grad_with_threads(1);
  const auto two = grad_with_threads(2);
  set_num_threads(saved);
  EXPECT_EQ(one, two);
  // Against a serial scatter-add in position order (the same summation order, so bitwise).
  std::vector<float> want(V * D, 0.f);
  for (Index n = 0; n < N; ++n)
    if (values[n] != 3)
      for (Index d = 0; d < D; ++d) want[values[n] * D + d] += dy.data()[n * D + d];
  EXPECT_EQ(one, want);
}

TEST(Embedding, BadIdsAndShapes) {
  Tensor w = Tensor::zeros(Shape{5, 2});
  EXPECT_THROW_MSG(embedding(w, IntTensor::from_vector(Shape{2, 2}, {0, 1, 7, 2})),
                   "embedding: id 7 at position [1, 0] of ids [2, 2] is out of range [0, 5)");
  EXPECT_THROW_MSG(embedding(w, IntTensor::from_vector(Shape{1}, {-1})),
                   "embedding: id -1 at position [0] of ids [1]");
  EXPECT_THROW_MSG(embedding(Tensor::zeros(Shape{5}), IntTensor(Shape{1})),
                   "embedding: weight must be [V, D] (got [5])");
  EXPECT_THROW_MSG(embedding(w, IntTensor(Shape{1}), 5),
                   "embedding: padding_idx 5 is out of range [0, 5) for weight [5, 2]");
}

}  // namespace
}  // namespace heed
