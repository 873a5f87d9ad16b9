#include "heed/autograd/engine.h"

#include <gtest/gtest.h>

#include "heed/autograd/grad_mode.h"
#include "heed/autograd/node.h"
#include "heed/ops/elementwise.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

TEST(Autograd, ChainRuleOnAScalarExpression) {
  // L = (a·b + a)² at a = 2, b = 3: L = 64, dL/da = 2·8·(b + 1) = 64, dL/db = 2·8·a = 32.
  Tensor a = Tensor::scalar(2.f).set_requires_grad();
  Tensor b = Tensor::scalar(3.f).set_requires_grad();
  Tensor l = pow(a * b + a, 2.f);
  EXPECT_FLOAT_EQ(l.item(), 64.f);
  backward(l);
  EXPECT_FLOAT_EQ(a.grad().item(), 64.f);
  EXPECT_FLOAT_EQ(b.grad().item(), 32.f);
}

TEST(Autograd, GradientsAccumulateOverReuse) {
  // y = x + x + x·x: dy/dx = 2 + 2x (x used three times, as residuals and tied weights are).
  Tensor x = Tensor::from_vector(Shape{2}, {1.f, -3.f}).set_requires_grad();
  Tensor y = add(add(x, x), mul(x, x));
  backward(y, Tensor::ones(Shape{2}));
  EXPECT_TRUE(testing::all_close(x.grad(), {4.f, -4.f}));
  // A second graph adds to the existing gradient until zero_grad().
  backward(mul(x, 2.f), Tensor::ones(Shape{2}));
  EXPECT_TRUE(testing::all_close(x.grad(), {6.f, -2.f}));
  x.zero_grad();
  backward(mul(x, 3.f), Tensor::ones(Shape{2}));
  EXPECT_TRUE(testing::all_close(x.grad(), {3.f, 3.f}));
}

TEST(Autograd, ZeroGradWithoutBackwardReadsZero) {
  Tensor x = Tensor::ones(Shape{3}).set_requires_grad();
  backward(mul(x, 2.f), Tensor::ones(Shape{3}));
  x.zero_grad();
  EXPECT_TRUE(testing::all_close(x.grad(), {0.f, 0.f, 0.f}));
}

TEST(Autograd, NoGradGuardBuildsNoGraph) {
  Tensor x = Tensor::ones(Shape{3}).set_requires_grad();
  {
    NoGradGuard guard;
    Tensor y = exp(x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(exp(x).requires_grad());
}

TEST(Autograd, GraphIsFreedAfterBackward) {
  Tensor x = Tensor::ones(Shape{3}).set_requires_grad();
  Tensor y = exp(x);
  std::weak_ptr<Node> exp_node = y.grad_fn();
  Tensor l = mul(y, 2.f);
  y = Tensor();  // only the graph keeps exp's node alive now
  ASSERT_FALSE(exp_node.expired());
  backward(l, Tensor::ones(Shape{3}));
  EXPECT_TRUE(exp_node.expired()) << "backward must release the graph it consumed";
  EXPECT_THROW_MSG(backward(l, Tensor::ones(Shape{3})), "already freed");
}

TEST(Autograd, LongChainNeedsNoRecursion) {
  // 100k ops deep: far beyond what a recursive topological sort or a recursive destructor
  // chain survives with the default 8 MB stack.
  Tensor x = Tensor::scalar(1.f).set_requires_grad();
  Tensor h = x;
  for (int i = 0; i < 100000; ++i) h = add(h, 1e-6f);
  backward(h);
  EXPECT_FLOAT_EQ(x.grad().item(), 1.f);
  // And a long graph dropped without backward must also be destroyed iteratively.
  Tensor g = x;
  for (int i = 0; i < 100000; ++i) g = add(g, 1e-6f);
  g = Tensor();
  SUCCEED();
}

TEST(Autograd, ErrorsAreClear) {
  Tensor x = Tensor::ones(Shape{2});
  EXPECT_THROW_MSG(backward(x), "does not require grad");
  Tensor p = Tensor::ones(Shape{2}).set_requires_grad();
  EXPECT_THROW_MSG(backward(exp(p)), "pass root_grad for a non-scalar root");
  EXPECT_THROW_MSG(exp(p).set_requires_grad(), "only leaf tensors");
}

}  // namespace
}  // namespace heed
