#include "heed/ops/batched_matvec.h"

#include <gtest/gtest.h>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/matmul.h"
#include "heed/ops/shape_ops.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

TEST(BatchedMatvec, ForwardByHand) {
  // B = 2, S = 2, D = 3.
  Tensor m = Tensor::from_vector(Shape{2, 2, 3}, {1, 2, 3, 4, 5, 6, -1, 0, 1, 2, 2, 2});
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1, 0, -1, 0.5f, 1, 2});
  EXPECT_TRUE(all_close(batched_matvec(m, x), {1 - 3, 4 - 6, -0.5f + 2, 1 + 2 + 4}));
  Tensor w = Tensor::from_vector(Shape{2, 2}, {0.25f, 0.75f, 1, -1});
  EXPECT_TRUE(all_close(batched_vecmat(w, m), {0.25f + 3, 0.5f + 3.75f, 0.75f + 4.5f,  //
                                               -1 - 2, 0 - 2, 1 - 2}));
  EXPECT_EQ(batched_vecmat(w, m).shape(), (Shape{2, 3}));
}

// Both ops against matmul on [B, S, D] x [B, D, 1] and [B, 1, S] x [B, S, D], in values and in
// every gradient; sizes above kParallelGrain so the OpenMP paths run.
TEST(BatchedMatvec, MatchesMatmul) {
  const Index B = 16, S = 32, D = 96;
  auto m = random_input(Shape{B, S, D}, 1);
  auto x = random_input(Shape{B, D}, 2);
  auto w = random_input(Shape{B, S}, 3);
  Rng rng(4);
  Tensor gy = Tensor::uniform(Shape{B, S}, rng, -1.f, 1.f);
  Tensor gc = Tensor::uniform(Shape{B, D}, rng, -1.f, 1.f);

  // (y, context) from the fused ops, then from matmul; the gradients of all three inputs.
  Tensor y1 = batched_matvec(m, x), c1 = batched_vecmat(w, m);
  Tensor y2 = squeeze(matmul(m, unsqueeze(x, 2)), 2), c2 = squeeze(matmul(unsqueeze(w, 1), m), 1);
  EXPECT_TRUE(all_close(y1, y2, 1e-5, 1e-5));
  EXPECT_TRUE(all_close(c1, c2, 1e-5, 1e-5));
  backward(y1, gy);
  backward(c1, gc);
  const Tensor dm = m.grad().copy_data(), dx = x.grad().copy_data(), dw = w.grad().copy_data();
  m.zero_grad(), x.zero_grad(), w.zero_grad();
  backward(y2, gy);
  backward(c2, gc);
  EXPECT_TRUE(all_close(dm, m.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dx, x.grad(), 1e-5, 1e-5));
  EXPECT_TRUE(all_close(dw, w.grad(), 1e-5, 1e-5));
}

TEST(BatchedMatvec, Gradcheck) {
  EXPECT_TRUE(gradcheck([](auto& in) { return batched_matvec(in[0], in[1]); },
                        {random_input(Shape{2, 3, 4}, 5), random_input(Shape{2, 4}, 6)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return batched_vecmat(in[0], in[1]); },
                        {random_input(Shape{2, 3}, 7), random_input(Shape{2, 3, 4}, 8)}));
  // m used by both (as keys are by the scores and the context): its gradients add up.
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        return add(batched_vecmat(batched_matvec(in[0], in[1]), in[0]), in[1]);
      },
      {random_input(Shape{2, 3, 4}, 9), random_input(Shape{2, 4}, 10)}));
}

TEST(BatchedMatvec, BadShapes) {
  Tensor m = Tensor::zeros(Shape{2, 3, 4});
  EXPECT_THROW_MSG(batched_matvec(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{2, 3})),
                   "batched_matvec: m must be [B, S, D] (got [2, 3])");
  EXPECT_THROW_MSG(batched_matvec(m, Tensor::zeros(Shape{2, 3})),
                   "batched_matvec: x must be [B, D] = [2, 4] (got [2, 3], m [2, 3, 4])");
  EXPECT_THROW_MSG(batched_vecmat(Tensor::zeros(Shape{3, 3}), m),
                   "batched_vecmat: w must be [B, S] = [2, 3] (got [3, 3], m [2, 3, 4])");
}

}  // namespace
}  // namespace heed
