#include "heed/ops/matmul.h"

#include <gtest/gtest.h>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/precision.h"
#include "ops/kernels/dnnl_matmul.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

TEST(Matmul, ForwardByHand) {
  Tensor a = Tensor::from_vector(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector(Shape{3, 2}, {7, 8, 9, 10, 11, 12});
  EXPECT_TRUE(all_close(matmul(a, b), {58, 64, 139, 154}));
  // Transposed operands read through strides: aᵀ·a and a·aᵀ.
  EXPECT_TRUE(all_close(matmul(a, a, true, false), {17, 22, 27, 22, 29, 36, 27, 36, 45}));
  EXPECT_TRUE(all_close(matmul(a, a, false, true), {14, 32, 32, 77}));
}

TEST(Matmul, BatchedAndFoldedForward) {
  // Batched: two independent 1x2 · 2x1 products.
  Tensor a = Tensor::from_vector(Shape{2, 1, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector(Shape{2, 2, 1}, {5, 6, 7, 8});
  EXPECT_TRUE(all_close(matmul(a, b), {17, 53}));
  EXPECT_EQ(matmul(a, b).shape(), (Shape{2, 1, 1}));
  // Folded: a [2, 1, 2] times a 2-D b [2, 1] is one GEMM over 2 rows.
  Tensor w = Tensor::from_vector(Shape{2, 1}, {1, 1});
  EXPECT_TRUE(all_close(matmul(a, w), {3, 7}));
}

TEST(Linear, ForwardByHand) {
  Tensor x = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  Tensor w = Tensor::from_vector(Shape{3, 2}, {1, 0, 0, 1, 1, 1});  // [out=3, in=2]
  Tensor b = Tensor::from_vector(Shape{3}, {0.5f, -1, 0});
  EXPECT_TRUE(all_close(linear(x, w, b), {1.5f, 1, 3, 3.5f, 3, 7}));
  EXPECT_TRUE(all_close(linear(x, w), {1, 2, 3, 3, 4, 7}));
}

TEST(Matmul, Gradients) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      Shape sa = ta ? Shape{4, 3} : Shape{3, 4};
      Shape sb = tb ? Shape{5, 4} : Shape{4, 5};
      EXPECT_TRUE(gradcheck([=](auto& in) { return matmul(in[0], in[1], ta, tb); },
                            {random_input(sa, 1), random_input(sb, 2)}))
          << "transpose_a=" << ta << " transpose_b=" << tb;
      Shape ba = ta ? Shape{2, 4, 3} : Shape{2, 3, 4};
      Shape bb = tb ? Shape{2, 5, 4} : Shape{2, 4, 5};
      EXPECT_TRUE(gradcheck([=](auto& in) { return matmul(in[0], in[1], ta, tb); },
                            {random_input(ba, 3), random_input(bb, 4)}))
          << "batched, transpose_a=" << ta << " transpose_b=" << tb;
    }
  // Folded: [2, 3, 4] · [4, 5] (the weight gradient sums over all 6 rows).
  EXPECT_TRUE(gradcheck([](auto& in) { return matmul(in[0], in[1]); },
                        {random_input(Shape{2, 3, 4}, 5), random_input(Shape{4, 5}, 6)}));
}

TEST(Linear, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return linear(in[0], in[1], in[2]); },
                        {random_input(Shape{2, 3, 4}, 7), random_input(Shape{5, 4}, 8),
                         random_input(Shape{5}, 9)}));
  EXPECT_TRUE(gradcheck([](auto& in) { return linear(in[0], in[1]); },
                        {random_input(Shape{3, 4}, 10), random_input(Shape{2, 4}, 11)}));
}

TEST(Linear, TiedWeightGradientsAccumulate) {
  // The same weight used twice (as tied embeddings are): its gradient is the sum, produced
  // through the GEMM's accumulate (sum post-op) path.
  EXPECT_TRUE(gradcheck(
      [](auto& in) { return linear(in[0], in[1]) + linear(in[2], in[1]); },
      {random_input(Shape{3, 4}, 12), random_input(Shape{2, 4}, 13),
       random_input(Shape{3, 4}, 14)}));
}

TEST(Matmul, PrimitivesAreCachedByShape) {
  Rng rng(1);
  Tensor a = Tensor::uniform(Shape{17, 19}, rng), b = Tensor::uniform(Shape{19, 23}, rng);
  matmul(a, b);
  const auto created = kernels::matmul_primitives_created();
  for (int i = 0; i < 5; ++i) matmul(a, b);
  EXPECT_EQ(kernels::matmul_primitives_created(), created);
}

TEST(Matmul, BadShapes) {
  Tensor a = Tensor::zeros(Shape{2, 3}), b = Tensor::zeros(Shape{4, 5});
  EXPECT_THROW_MSG(matmul(a, b), "matmul: inner dims differ (a=[2, 3], b=[4, 5]");
  EXPECT_THROW_MSG(matmul(Tensor::zeros(Shape{2, 2, 3}), Tensor::zeros(Shape{3, 3, 4})),
                   "matmul: batch dims differ");
  EXPECT_THROW_MSG(matmul(Tensor::zeros(Shape{3}), b), "matmul: operands need at least 2 dims");
  EXPECT_THROW_MSG(linear(a, Tensor::zeros(Shape{4, 2})), "linear: input features differ");
  EXPECT_THROW_MSG(linear(a, Tensor::zeros(Shape{4, 3}), Tensor::zeros(Shape{5})),
                   "linear: bias must be [4]");
}

}  // namespace
}  // namespace heed

namespace heed {
namespace {

// bf16 matmuls (train.precision "bf16"): operands rounded to bf16 (8 significant bits), fp32
// accumulation. Values and gradients agree with fp32 to bf16's precision, and the process-wide
// setting is restored. Skipped where the CPU has no native bf16.
TEST(MatmulBf16, AgreesWithFp32ToBf16Precision) {
  if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU has no avx512_bf16: bf16 matmuls not offered";
  struct Result {
    Tensor y, dx, dw;
  };
  auto run = [](MatmulPrecision precision) {
    set_matmul_precision(precision);
    Tensor x = random_input(Shape{64, 96}, 1);
    Tensor w = random_input(Shape{48, 96}, 2);
    Tensor b = random_input(Shape{48}, 3);
    Tensor y = linear(x, w, b);
    Rng rng(4);
    backward(y, Tensor::uniform(y.shape(), rng, -1, 1));
    set_matmul_precision(MatmulPrecision::kF32);
    return Result{y.detach(), x.grad(), w.grad()};
  };
  const Result fp32 = run(MatmulPrecision::kF32);
  const Result bf16 = run(MatmulPrecision::kBf16);
  EXPECT_EQ(matmul_precision(), MatmulPrecision::kF32);
  // Sums of 96 (or 64) products of numbers in [-1, 1) with relative error 2^-8 each.
  EXPECT_TRUE(all_close(bf16.y, fp32.y, 0.08, 0.02));
  EXPECT_TRUE(all_close(bf16.dx, fp32.dx, 0.08, 0.02));
  EXPECT_TRUE(all_close(bf16.dw, fp32.dw, 0.08, 0.02));
  // ... and really were computed differently (bf16 rounding shows).
  EXPECT_FALSE(all_close(bf16.y, fp32.y, 1e-6, 1e-6));
}

}  // namespace
}  // namespace heed
