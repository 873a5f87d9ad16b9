// The Optimizer base: flat buffers, gradient handling, state export/import and resume.
#include "heed/optim/optimizer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "heed/optim/adam.h"
#include "heed/optim/sgd.h"
#include "optim/quadratic_problem.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

using testing::all_close;
using testing::QuadraticProblem;

class TwoLayers : public Module {
 public:
  TwoLayers() {
    weight_ = register_parameter("weight", Tensor::from_vector(Shape{2, 2}, {1, 2, 3, 4}));
    bias_ = register_parameter("bias", Tensor::from_vector(Shape{3}, {5, 6, 7}));
  }
  Tensor weight_, bias_;
};

TEST(Optimizer, GathersParametersIntoOneFlatBufferThatTheModelSees) {
  TwoLayers model;
  Tensor old_handle = model.weight_.detach();  // a view taken before: keeps the old storage
  Adam opt(model.named_parameters());
  // The model's own handles now live in one storage, each slice 64-byte aligned.
  EXPECT_EQ(model.weight_.storage(), model.bias_.storage());
  EXPECT_NE(model.weight_.storage(), old_handle.storage());
  EXPECT_EQ(model.weight_.storage_offset(), 0);
  EXPECT_EQ(model.bias_.storage_offset(), 16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(model.bias_.data()) % 64, 0u);
  EXPECT_TRUE(all_close(model.weight_, {1, 2, 3, 4}));
  EXPECT_TRUE(all_close(model.bias_, {5, 6, 7}));
  EXPECT_EQ(model.weight_.shape(), (Shape{2, 2}));
  EXPECT_TRUE(model.weight_.requires_grad());
  // Gradients are views into one flat buffer too, zero to start.
  Tensor gw = model.weight_.grad(), gb = model.bias_.grad();
  EXPECT_EQ(gw.storage(), gb.storage());
  EXPECT_NE(gw.storage(), model.weight_.storage());
  EXPECT_TRUE(all_close(gb, {0, 0, 0}, 0, 0));
}

TEST(Optimizer, BackwardWritesIntoTheFlatGradientBuffer) {
  QuadraticProblem problem;
  Sgd opt(problem.parameters(), SgdOptions{.lr = 1.f});
  Tensor flat_view = problem.w.grad();  // taken once; backward must write right here
  problem.backward();
  EXPECT_TRUE(all_close(flat_view, {0.6f, -2.3f, 0.95f, 5.5f, 0.025f, 0.2375f}));
  // And a second backward without zero_grad adds, as for any leaf.
  problem.backward();
  EXPECT_TRUE(all_close(flat_view, {1.2f, -4.6f, 1.9f, 11.f, 0.05f, 0.475f}));
  opt.step();  // p ← p − 1·g
  EXPECT_TRUE(all_close(problem.w, {-0.7f, 3.6f, -0.4f, -9.f, -0.3f, 0.275f}));
}

TEST(Optimizer, GradientFromBeforeConstructionIsKept) {
  QuadraticProblem problem;
  problem.backward();
  Sgd opt(problem.parameters(), SgdOptions{.lr = 1.f});
  EXPECT_TRUE(all_close(problem.b.grad(), {0.1f, 0.f, 0.45f}));
  opt.step();
  EXPECT_TRUE(all_close(problem.b, {0.f, -0.2f, -0.15f}));
}

TEST(Optimizer, ZeroGradMakesUnwrittenGradientsReadZero) {
  QuadraticProblem problem;
  Sgd opt(problem.parameters(), SgdOptions{.lr = 1.f});
  problem.backward();
  opt.zero_grad();
  problem.backward(/*with_b=*/false);
  opt.step();  // b's stale gradient must count as zero, not as the old [0.1, 0, 0.45]
  EXPECT_TRUE(all_close(problem.b, {0.1f, -0.2f, 0.3f}, 0, 0));
  EXPECT_TRUE(all_close(problem.b.grad(), {0.f, 0.f, 0.f}, 0, 0));
}

TEST(Optimizer, BadParameterListsAreErrors) {
  EXPECT_THROW_MSG(Adam(NamedParameters{}), "adam: empty parameter list");
  QuadraticProblem problem;
  EXPECT_THROW_MSG(Adam({{"w", problem.w}, {"w", problem.b}}),
                   "adam: parameter name 'w' appears twice");
  EXPECT_THROW_MSG(Sgd({{"w", problem.w}, {"tied", problem.w}}),
                   "sgd: parameters 'w' and 'tied' are the same tensor");
  EXPECT_THROW_MSG(Sgd({{"c", problem.cw}}), "sgd: parameter 'c' is not a leaf that requires");
  // A rejected list leaves the tensors where they were.
  EXPECT_TRUE(all_close(problem.w, {0.5f, -1.f, 1.5f, 2.f, -0.25f, 0.75f}));
}

TEST(Optimizer, ReplacedGradientIsAnErrorNamingTheParameter) {
  QuadraticProblem problem;
  Adam opt(problem.parameters());
  problem.b.set_grad(Tensor::zeros(Shape{3}));
  EXPECT_THROW_MSG(opt.step(), "adam: the gradient of parameter 'b' was replaced");
}

TEST(Optimizer, LearningRateCanChange) {
  Tensor p = Tensor::zeros(Shape{1}).set_requires_grad(true);
  Sgd opt({{"p", p}}, SgdOptions{.lr = 0.5f});
  EXPECT_EQ(opt.lr(), 0.5f);
  opt.set_lr(2.f);
  p.grad().fill_(1.f);
  opt.step();
  EXPECT_EQ(p.item(), -2.f);
}

TEST(Optimizer, StateRoundTripsIntoAFreshOptimizer) {
  QuadraticProblem a;
  Adam opt_a(a.parameters(), AdamOptions{.lr = 0.1f});
  for (int t = 0; t < 2; ++t) {
    opt_a.zero_grad();
    a.backward();
    opt_a.step();
  }
  OptimizerState saved = opt_a.state();
  // The export is a copy: later steps do not change it.
  const std::vector<float> exp_avg_w = saved.tensors[0].second.to_vector();
  opt_a.step();
  EXPECT_EQ(saved.tensors[0].second.to_vector(), exp_avg_w);

  QuadraticProblem b;
  Adam opt_b(b.parameters(), AdamOptions{.lr = 0.1f});
  opt_b.load_state(saved);
  EXPECT_EQ(opt_b.step_count(), 2);
  OptimizerState reloaded = opt_b.state();
  ASSERT_EQ(reloaded.tensors.size(), saved.tensors.size());
  for (size_t i = 0; i < saved.tensors.size(); ++i) {
    EXPECT_EQ(reloaded.tensors[i].first, saved.tensors[i].first);
    EXPECT_EQ(reloaded.tensors[i].second.to_vector(), saved.tensors[i].second.to_vector());
  }
}

// STYLE.md §7: N steps, save, load into a fresh model and optimizer, N more == 2N uninterrupted.
TEST(Optimizer, ResumeFromStateIsBitwiseIdenticalToUninterruptedTraining) {
  auto train = [](QuadraticProblem& problem, Optimizer& opt, int steps) {
    for (int t = 0; t < steps; ++t) {
      opt.zero_grad();
      problem.backward();
      opt.step();
    }
  };
  const AdamWOptions options{.lr = 0.05f, .weight_decay = 0.1};
  QuadraticProblem straight;
  AdamW opt_straight(straight.parameters(), options);
  train(straight, opt_straight, 6);

  QuadraticProblem first;
  AdamW opt_first(first.parameters(), options);
  train(first, opt_first, 3);
  OptimizerState checkpoint = opt_first.state();
  QuadraticProblem resumed;  // fresh model: copy the weights in place, as a checkpoint load does
  resumed.w.copy_from_(first.w);
  resumed.b.copy_from_(first.b);
  AdamW opt_resumed(resumed.parameters(), options);
  opt_resumed.load_state(checkpoint);
  train(resumed, opt_resumed, 3);

  EXPECT_EQ(std::memcmp(resumed.w.data(), straight.w.data(), 6 * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(resumed.b.data(), straight.b.data(), 3 * sizeof(float)), 0);
  EXPECT_EQ(opt_resumed.step_count(), 6);
}

TEST(Optimizer, LoadStateErrorsNameTheEntryAndLeaveStateUntouched) {
  QuadraticProblem problem;
  Adam opt(problem.parameters());
  opt.zero_grad();
  problem.backward();
  opt.step();
  const OptimizerState good = opt.state();

  OptimizerState wrong_shape = good;
  wrong_shape.tensors[1].second = Tensor::zeros(Shape{3, 2});  // w.exp_avg_sq
  EXPECT_THROW_MSG(opt.load_state(wrong_shape),
                   "adam: load_state: 'w.exp_avg_sq' has shape [3, 2] but parameter 'w' has "
                   "shape [2, 3]");

  OptimizerState missing = good;
  missing.tensors.pop_back();  // b.exp_avg_sq
  EXPECT_THROW_MSG(opt.load_state(missing), "adam: load_state: missing 'b.exp_avg_sq' for "
                   "parameter 'b'");

  OptimizerState unknown = good;
  unknown.tensors.emplace_back("decoder.w.exp_avg", Tensor::zeros(Shape{2, 3}));
  EXPECT_THROW_MSG(opt.load_state(unknown), "adam: load_state: unexpected entry "
                   "'decoder.w.exp_avg'");

  OptimizerState twice = good;
  twice.tensors.push_back(good.tensors[0]);
  EXPECT_THROW_MSG(opt.load_state(twice), "adam: load_state: entry 'w.exp_avg' appears twice");

  // SGD's buffer in an Adam: unexpected, named.
  OptimizerState sgd_like = good;
  sgd_like.tensors[0].first = "w.momentum_buffer";
  EXPECT_THROW_MSG(opt.load_state(sgd_like), "'w.momentum_buffer'");

  OptimizerState negative = good;
  negative.step = -1;
  EXPECT_THROW_MSG(opt.load_state(negative), "adam: load_state: step must be >= 0 (got -1)");

  // A failed load left everything as it was (checks run before any write). The corrupted
  // entry in `wrong_shape` was exp_avg_sq of w, still intact:
  const OptimizerState after = opt.state();
  EXPECT_EQ(after.step, 1);
  for (size_t i = 0; i < good.tensors.size(); ++i)
    EXPECT_EQ(after.tensors[i].second.to_vector(), good.tensors[i].second.to_vector());
}

TEST(Optimizer, RebindStorageChecksTheRange) {
  Tensor t = Tensor::zeros(Shape{2, 3});
  auto storage = std::make_shared<Storage>(8);
  EXPECT_THROW_MSG(t.rebind_storage(storage, 4), "rebind_storage: view [4, 10) of a [2, 3] "
                   "tensor exceeds storage of 8 elements");
  t.rebind_storage(storage, 2);
  EXPECT_EQ(t.data(), storage->data() + 2);
}

}  // namespace
}  // namespace heed
