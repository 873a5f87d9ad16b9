#include "heed/tensor/tensor.h"

#include <gtest/gtest.h>

#include "heed/util/check.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

TEST(Shape, NumelStridesAndAxes) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s[-1], 4);
  EXPECT_EQ(s.strides()[0], 12);
  EXPECT_EQ(s.strides()[1], 4);
  EXPECT_EQ(s.outer(1), 2);
  EXPECT_EQ(s.inner(1), 4);
  EXPECT_EQ(s.without(1), (Shape{2, 4}));
  EXPECT_EQ(s.with_inserted(0, 5), (Shape{5, 2, 3, 4}));
  EXPECT_EQ(s.to_string(), "[2, 3, 4]");
  EXPECT_THROW_MSG(s.axis(3, "softmax"), "softmax: dimension 3 is out of range");
}

TEST(Shape, Broadcast) {
  EXPECT_EQ(broadcast_shapes(Shape{2, 1, 4}, Shape{3, 1}, "add"), (Shape{2, 3, 4}));
  EXPECT_THROW_MSG(broadcast_shapes(Shape{2, 3}, Shape{4}, "add"),
                   "add: shapes cannot be broadcast (a=[2, 3], b=[4])");
}

TEST(Tensor, CopiesShareStorageAndCloneDoesNot) {
  Tensor a = Tensor::zeros(Shape{2, 2});
  Tensor b = a;  // a handle copy
  b.data()[0] = 5.f;
  EXPECT_EQ(a.data()[0], 5.f);
  Tensor c = a.copy_data();
  c.data()[1] = 7.f;
  EXPECT_EQ(a.data()[1], 0.f);
  Tensor v = a.with_shape(Shape{4});
  v.data()[3] = 9.f;
  EXPECT_EQ(a.data()[3], 9.f);
  EXPECT_THROW_MSG(a.with_shape(Shape{3}), "with_shape: cannot view [2, 2]");
}

TEST(Tensor, CreationHelpers) {
  EXPECT_TRUE(testing::all_close(Tensor::arange(4), {0, 1, 2, 3}));
  EXPECT_TRUE(testing::all_close(Tensor::full(Shape{3}, 2.5f), {2.5f, 2.5f, 2.5f}));
  EXPECT_EQ(Tensor::scalar(3.f).item(), 3.f);
  EXPECT_EQ(Tensor::scalar(3.f).ndim(), 0);
  EXPECT_THROW_MSG(Tensor::from_vector(Shape{2, 2}, {1, 2, 3}), "needs 4 values (got 3)");
  EXPECT_THROW_MSG(Tensor::zeros(Shape{2}).item(), "item: tensor of shape [2]");
}

TEST(Tensor, PrintingIsReadable) {
  Tensor t = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  const std::string s = t.to_string();
  EXPECT_NE(s.find("Tensor[2, 2]"), std::string::npos);
  EXPECT_NE(s.find("[1, 2]"), std::string::npos);
  EXPECT_NE(s.find("[3, 4]"), std::string::npos);
  Tensor big = Tensor::arange(100);
  EXPECT_NE(big.to_string().find("..."), std::string::npos);
}

TEST(Rng, SeededAndReproducible) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.next_u32(), b.next_u32());
  EXPECT_NE(Rng(42).next_u32(), c.next_u32());
  // The state is (seed, counter): restoring it replays the same draws.
  Rng r(7);
  r.uniform();
  const Rng::State saved = r.state();
  const float x = r.uniform();
  r.set_state(saved);
  EXPECT_EQ(r.uniform(), x);
}

TEST(Rng, UniformAndNormalMoments) {
  Rng rng(1);
  Tensor u = Tensor::uniform(Shape{100000}, rng);
  Tensor z = Tensor::normal(Shape{100000}, rng);
  double su = 0, sz = 0, szz = 0;
  for (Index i = 0; i < u.numel(); ++i) {
    ASSERT_GE(u.data()[i], 0.f);
    ASSERT_LT(u.data()[i], 1.f);
    su += u.data()[i];
    sz += z.data()[i];
    szz += z.data()[i] * z.data()[i];
  }
  EXPECT_NEAR(su / 1e5, 0.5, 0.01);
  EXPECT_NEAR(sz / 1e5, 0.0, 0.02);
  EXPECT_NEAR(szz / 1e5, 1.0, 0.02);
}

TEST(BufferPool, ReusesReleasedBuffers) {
  auto& pool = BufferPool::instance();
  { Tensor t = Tensor::empty(Shape{12345}); }
  const auto before = pool.stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = Tensor::empty(Shape{12345});
    t.data()[0] = 1.f;
  }
  const auto after = pool.stats();
  EXPECT_EQ(after.fresh, before.fresh) << "a released buffer of the same size was not reused";
  EXPECT_EQ(after.allocations, before.allocations + 10);
}

TEST(IntTensor, Basics) {
  IntTensor t = IntTensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(t.data()[3], 4);
  EXPECT_EQ(t.with_shape(Shape{4}).shape(), Shape{4});
  EXPECT_THROW_MSG(IntTensor::from_vector(Shape{3}, {1}), "needs 3 values");
}

}  // namespace
}  // namespace heed
