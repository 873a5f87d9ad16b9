// Same seed, same data, same thread count: training is bitwise reproducible, through the whole
// optimizer path (flat buffers, gradient clipping, schedule, AdamW).
#include <gtest/gtest.h>

#include <cstring>

#include "heed/optim/adam.h"
#include "heed/optim/lr_schedule.h"
#include "optim/toy_mlp.h"

namespace heed {
namespace {

using testing::Mlp;

struct TrainingResult {
  std::vector<std::vector<float>> parameters;
  OptimizerState state;
};

TrainingResult train(std::uint64_t seed, int steps) {
  Rng rng(seed);
  const testing::Spirals data = testing::make_spirals(100, rng);
  Mlp model(32, rng);
  AdamW opt(model.named_parameters(), AdamWOptions{.lr = 0.f, .weight_decay = 0.01});
  LrScheduler schedule({.kind = LrScheduleKind::kCosine, .peak_lr = 0.02f, .warmup_steps = 5,
                        .total_steps = steps});
  for (int t = 0; t < steps; ++t) {
    opt.zero_grad();
    testing::logistic_backward(model, data);
    opt.clip_grad_norm(1.f);
    schedule.advance(opt);
    opt.step();
  }
  TrainingResult run{{}, opt.state()};
  for (const auto& [_, p] : model.named_parameters()) run.parameters.push_back(p.to_vector());
  return run;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Determinism, SameSeedGivesBitwiseIdenticalParametersAndState) {
  const TrainingResult a = train(17, 40);
  const TrainingResult b = train(17, 40);
  ASSERT_EQ(a.parameters.size(), 4u);
  for (size_t i = 0; i < a.parameters.size(); ++i)
    EXPECT_TRUE(bitwise_equal(a.parameters[i], b.parameters[i])) << "parameter " << i;
  EXPECT_EQ(a.state.step, 40);
  ASSERT_EQ(a.state.tensors.size(), b.state.tensors.size());
  for (size_t i = 0; i < a.state.tensors.size(); ++i)
    EXPECT_TRUE(bitwise_equal(a.state.tensors[i].second.to_vector(),
                              b.state.tensors[i].second.to_vector()))
        << a.state.tensors[i].first;

  // The comparison can fail: another seed gives other parameters.
  const TrainingResult c = train(18, 40);
  EXPECT_FALSE(bitwise_equal(a.parameters[0], c.parameters[0]));
}

}  // namespace
}  // namespace heed
