#include "heed/ops/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "heed/autograd/engine.h"
#include "heed/ops/elementwise.h"
#include "heed/ops/reduce.h"
#include "heed/ops/softmax.h"
#include "heed/util/parallel.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::gradcheck;
using testing::random_input;

// The 3×5 logits of the PyTorch reference cases below.
Tensor reference_logits() {
  Tensor x = Tensor::from_vector(Shape{3, 5}, {1.0f, -0.5f, 2.0f, 0.3f, -1.2f,  //
                                               0.1f, 0.2f, -0.3f, 1.5f, 0.7f,   //
                                               -2.0f, 3.0f, 0.5f, 0.0f, -0.8f});
  x.set_requires_grad();
  return x;
}

// Cross-entropy from primitives: -Σ log_softmax(x) ⊙ target_distribution / n_valid, where a
// valid row's distribution is (1-ε)·onehot(t) + ε/V and an ignored row's is all zero.
Tensor cross_entropy_composite(const Tensor& logits, const IntTensor& targets,
                               const CrossEntropyOptions& options) {
  const Index V = logits.shape().back(), N = targets.numel();
  const float eps = options.label_smoothing;
  Tensor dist = Tensor::zeros(logits.shape());
  Index n_valid = 0;
  for (Index r = 0; r < N; ++r) {
    const int t = targets.data()[r];
    if (t == options.ignore_index) continue;
    ++n_valid;
    for (Index v = 0; v < V; ++v) dist.data()[r * V + v] = eps / V + (v == t ? 1 - eps : 0.f);
  }
  return -sum(log_softmax(logits) * dist) / static_cast<float>(n_valid);
}

// ---- forward and gradient against PyTorch

TEST(CrossEntropy, MatchesPyTorchWithLabelSmoothingAndIgnoredTarget) {
  // Reference (torch 1.13, float64):
  //   x = torch.tensor(<the logits above>, dtype=torch.float64, requires_grad=True)
  //   loss = F.cross_entropy(x, torch.tensor([2, -100, 4]), ignore_index=-100,
  //                          label_smoothing=0.1); loss.backward()
  Tensor x = reference_logits();
  IntTensor t = IntTensor::from_vector(Shape{3}, {2, -100, 4});
  Tensor loss = cross_entropy(x, t, {.ignore_index = -100, .label_smoothing = 0.1f});
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), 2.2690643569649467, 1e-6);
  backward(loss);
  EXPECT_TRUE(all_close(x.grad(),
                        {0.09991909f, 0.01452626f, -0.16120894f, 0.04458420f, 0.00217938f,  //
                         0, 0, 0, 0, 0,                                                     //
                         -0.00709817f, 0.42067035f, 0.02535157f, 0.01144181f, -0.45036557f},
                        1e-6));
}

TEST(CrossEntropy, MatchesPyTorchWithoutSmoothing) {
  // Reference (torch 1.13, float64): F.cross_entropy(x, torch.tensor([0, 3, 1])).
  Tensor x = reference_logits();
  Tensor loss = cross_entropy(x, IntTensor::from_vector(Shape{3}, {0, 3, 1}));
  EXPECT_NEAR(loss.item(), 0.8073376021875882, 1e-6);
  backward(loss);
  EXPECT_TRUE(all_close(x.grad(),
                        {-0.26005394f, 0.01635084f, 0.19919404f, 0.03638947f, 0.00811959f,  //
                         0.03852313f, 0.04257465f, 0.02582283f, -0.17711433f, 0.07019372f,  //
                         0.00193456f, -0.04621977f, 0.02356772f, 0.01429454f, 0.00642295f},
                        1e-6));
}

// ---- the fused op against its composite

TEST(CrossEntropy, FusedMatchesComposite) {
  // [2, 4, 7] logits (leading dims folded), a custom ignore_index, with and without smoothing.
  IntTensor t = IntTensor::from_vector(Shape{2, 4}, {3, 0, -1, 6, 2, 2, 5, -1});
  for (float eps : {0.f, 0.2f}) {
    const CrossEntropyOptions options{.ignore_index = -1, .label_smoothing = eps};
    Tensor a = random_input(Shape{2, 4, 7}, 11, -3.f, 3.f);
    Tensor b = a.copy_data();
    b.set_requires_grad();
    Tensor fused = cross_entropy(a, t, options);
    Tensor composite = cross_entropy_composite(b, t, options);
    EXPECT_NEAR(fused.item(), composite.item(), 1e-6) << "eps " << eps;
    backward(fused * 1.7f);
    backward(composite * 1.7f);
    EXPECT_TRUE(all_close(a.grad(), b.grad(), 1e-6)) << "eps " << eps;
  }
}

TEST(CrossEntropy, Gradients) {
  IntTensor t = IntTensor::from_vector(Shape{4}, {1, -100, 4, 0});
  for (float eps : {0.f, 0.1f}) {
    EXPECT_TRUE(gradcheck(
        [&](auto& in) { return cross_entropy(in[0], t, {.label_smoothing = eps}); },
        {random_input(Shape{4, 5}, 12, -2.f, 2.f)}))
        << "eps " << eps;
  }
  // Accumulate path: the logits' producer already holds a gradient when cross_entropy's
  // backward runs.
  EXPECT_TRUE(gradcheck(
      [&](auto& in) {
        Tensor h = in[0] * 2.f;
        return cross_entropy(h, t) + sum(h) * 0.1f;
      },
      {random_input(Shape{4, 5}, 13, -2.f, 2.f)}));
}

TEST(CrossEntropy, ExtremeLogitsStayFinite) {
  Tensor x = Tensor::from_vector(Shape{2, 3}, {1000, -1000, 0, -1000, 1000, 500});
  x.set_requires_grad();
  // Row 0 predicts its target with certainty (loss 0); row 1 misses by 2000.
  Tensor loss = cross_entropy(x, IntTensor::from_vector(Shape{2}, {0, 0}));
  EXPECT_NEAR(loss.item(), 1000.f, 1e-3);
  backward(loss);
  EXPECT_TRUE(all_close(x.grad(), {0, 0, 0, -0.5f, 0.5f, 0}));
}

TEST(CrossEntropy, AllTargetsIgnoredGivesZeroLossAndGradient) {
  Tensor x = random_input(Shape{2, 3}, 14);
  Tensor loss = cross_entropy(x, IntTensor::from_vector(Shape{2}, {-100, -100}));
  EXPECT_EQ(loss.item(), 0.f);
  backward(loss);
  EXPECT_TRUE(all_close(x.grad(), std::vector<float>(6, 0.f)));
}

TEST(CrossEntropy, DeterministicAcrossThreadCounts) {
  // [512, 1000] takes the parallel path; the loss is summed in row order, so 1 and 2 threads
  // must agree bitwise, and match a double reference.
  Rng rng(15);
  Tensor x = Tensor::uniform(Shape{512, 1000}, rng, -5.f, 5.f);
  IntTensor t(Shape{512});
  for (Index r = 0; r < 512; ++r) t.data()[r] = r % 7 == 0 ? -100 : (r * 37) % 1000;
  const int threads = num_threads();
  set_num_threads(1);
  const float one = cross_entropy(x, t).item();
  set_num_threads(2);
  const float two = cross_entropy(x, t).item();
  set_num_threads(threads);
  EXPECT_EQ(one, two);
  double total = 0;
  int n_valid = 0;
  for (Index r = 0; r < 512; ++r) {
    if (t.data()[r] == -100) continue;
    const float* xr = x.data() + r * 1000;
    double m = xr[0], s = 0;
    for (Index v = 0; v < 1000; ++v) m = std::max(m, static_cast<double>(xr[v]));
    for (Index v = 0; v < 1000; ++v) s += std::exp(xr[v] - m);
    total += m + std::log(s) - xr[t.data()[r]];
    ++n_valid;
  }
  EXPECT_NEAR(one, total / n_valid, 1e-5);
}

// ---- bad input names the op, the id and its position

TEST(CrossEntropy, BadTargetsAndShapes) {
  Tensor x = Tensor::zeros(Shape{2, 3, 5});
  EXPECT_THROW_MSG(cross_entropy(x, IntTensor::from_vector(Shape{2, 3}, {0, 1, 2, 3, 7, 4})),
                   "cross_entropy: target id 7 at position [1, 1] is out of range [0, 5)");
  EXPECT_THROW_MSG(cross_entropy(x, IntTensor::from_vector(Shape{2, 3}, {0, -2, 2, 3, 1, 4})),
                   "cross_entropy: target id -2 at position [0, 1]");
  // -100 is only allowed when it is the ignore_index.
  EXPECT_THROW_MSG(cross_entropy(x, IntTensor::from_vector(Shape{2, 3}, {0, 1, 2, 3, -100, 4}),
                                 {.ignore_index = -1}),
                   "cross_entropy: target id -100 at position [1, 1]");
  EXPECT_THROW_MSG(cross_entropy(x, IntTensor(Shape{6})),
                   "cross_entropy: targets [6] must have the shape of logits [2, 3, 5]");
  EXPECT_THROW_MSG(cross_entropy(x, IntTensor(Shape{2, 3}), {.label_smoothing = 1.5f}),
                   "cross_entropy: label_smoothing must be in [0, 1] (got 1.5)");
}

// ---- mse_loss

TEST(MseLoss, ForwardByHand) {
  Tensor p = Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4});
  Tensor q = Tensor::from_vector(Shape{2, 2}, {1, 0, 4, 1});
  // (0 + 4 + 1 + 9) / 4
  EXPECT_FLOAT_EQ(mse_loss(p, q).item(), 3.5f);
}

TEST(MseLoss, Gradients) {
  EXPECT_TRUE(gradcheck([](auto& in) { return mse_loss(in[0], in[1]); },
                        {random_input(Shape{3, 4}, 16), random_input(Shape{3, 4}, 17)}));
  // Accumulate path: the prediction's producer already holds a gradient.
  EXPECT_TRUE(gradcheck(
      [](auto& in) {
        Tensor h = in[0] * 2.f;
        return mse_loss(h, in[1]) + mse_loss(in[1], h);
      },
      {random_input(Shape{5}, 18), random_input(Shape{5}, 19)}));
}

TEST(MseLoss, BadShapes) {
  EXPECT_THROW_MSG(mse_loss(Tensor::zeros(Shape{2, 3}), Tensor::zeros(Shape{3})),
                   "mse_loss: prediction [2, 3] and target [3] differ in shape");
}

}  // namespace
}  // namespace heed
