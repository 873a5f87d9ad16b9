#include "heed/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "heed/optim/sgd.h"
#include "testing/gradcheck.h"

namespace heed {
namespace {

// Expected values are worked out by hand from the formulas in lr_schedule.h (the irrational
// ones evaluated to 9 digits).

float lr(const LrScheduleOptions& options, std::int64_t step) {
  return make_lr_schedule(options)->lr_at(step);
}

TEST(LrSchedule, ConstantWithAndWithoutWarmup) {
  const LrScheduleOptions warm{.peak_lr = 0.1f, .warmup_steps = 4};
  EXPECT_FLOAT_EQ(lr(warm, 0), 0.f);
  EXPECT_FLOAT_EQ(lr(warm, 1), 0.025f);  // 0.1 · 1/4
  EXPECT_FLOAT_EQ(lr(warm, 3), 0.075f);
  EXPECT_FLOAT_EQ(lr(warm, 4), 0.1f);    // end of warmup: the peak
  EXPECT_FLOAT_EQ(lr(warm, 1000), 0.1f);
  const LrScheduleOptions flat{.peak_lr = 0.1f};
  EXPECT_FLOAT_EQ(lr(flat, 0), 0.1f);
  EXPECT_FLOAT_EQ(lr(flat, 1), 0.1f);
}

TEST(LrSchedule, InverseSqrtPaperForm) {
  // Vaswani et al. base model: d_model 512, warmup 4000, factor 1.
  const LrScheduleOptions o{.kind = LrScheduleKind::kInverseSqrt, .warmup_steps = 4000,
                            .d_model = 512};
  EXPECT_FLOAT_EQ(lr(o, 0), 0.f);
  EXPECT_FLOAT_EQ(lr(o, 1), 1.74692811e-7f);     // 512^-0.5 · 1 · 4000^-1.5
  EXPECT_FLOAT_EQ(lr(o, 2), 2 * 1.74692811e-7f);  // linear during warmup
  EXPECT_FLOAT_EQ(lr(o, 4000), 6.98771243e-4f);  // peak: (512 · 4000)^-0.5
  EXPECT_FLOAT_EQ(lr(o, 16000), 3.49385621e-4f); // 4× the steps: half the lr
  LrScheduleOptions doubled = o;
  doubled.factor = 2.f;
  EXPECT_FLOAT_EQ(lr(doubled, 4000), 2 * 6.98771243e-4f);
}

TEST(LrSchedule, InverseSqrtPeakFormAgreesWithThePaperForm) {
  const LrScheduleOptions o{.kind = LrScheduleKind::kInverseSqrt, .peak_lr = 1e-3f,
                            .warmup_steps = 4000};
  EXPECT_FLOAT_EQ(lr(o, 1), 2.5e-7f);      // 1e-3 · 1/4000
  EXPECT_FLOAT_EQ(lr(o, 4000), 1e-3f);
  EXPECT_FLOAT_EQ(lr(o, 16000), 5e-4f);    // 1e-3 · sqrt(4000/16000)
  // With peak_lr = (512 · 4000)^-0.5 both forms give the same curve.
  const LrScheduleOptions peak{.kind = LrScheduleKind::kInverseSqrt,
                               .peak_lr = 6.98771243e-4f, .warmup_steps = 4000};
  const LrScheduleOptions paper{.kind = LrScheduleKind::kInverseSqrt, .warmup_steps = 4000,
                                .d_model = 512};
  for (std::int64_t step : {1, 100, 3999, 4000, 4001, 50000})
    EXPECT_NEAR(lr(peak, step), lr(paper, step), 1e-6 * lr(paper, step)) << "step " << step;
}

TEST(LrSchedule, WarmupThenCosineToMinLr) {
  const LrScheduleOptions o{.kind = LrScheduleKind::kCosine, .peak_lr = 1.f,
                            .warmup_steps = 10, .total_steps = 110, .min_lr = 0.1f};
  EXPECT_FLOAT_EQ(lr(o, 0), 0.f);
  EXPECT_FLOAT_EQ(lr(o, 1), 0.1f);           // 1 · 1/10
  EXPECT_FLOAT_EQ(lr(o, 10), 1.f);           // warmup ends at the peak, cos(0) = 1
  EXPECT_FLOAT_EQ(lr(o, 35), 0.868198052f);  // 0.1 + 0.45 · (1 + cos(π/4))
  EXPECT_FLOAT_EQ(lr(o, 60), 0.55f);         // halfway: the mean of peak and floor
  EXPECT_FLOAT_EQ(lr(o, 110), 0.1f);
  EXPECT_FLOAT_EQ(lr(o, 500), 0.1f);         // after total_steps: stays at min_lr
}

TEST(LrSchedule, KindNames) {
  EXPECT_EQ(lr_schedule_kind_from_string("inverse_sqrt"), LrScheduleKind::kInverseSqrt);
  EXPECT_STREQ(to_string(LrScheduleKind::kCosine), "cosine");
  EXPECT_THROW_MSG(lr_schedule_kind_from_string("noam"),
                   "lr_schedule: unknown kind 'noam' (expected constant, inverse_sqrt or cosine)");
}

TEST(LrSchedule, BadOptionsNameTheField) {
  using K = LrScheduleKind;
  EXPECT_THROW_MSG(make_lr_schedule({.peak_lr = 0.f}), "lr_schedule: peak_lr must be > 0 (got 0)");
  EXPECT_THROW_MSG(make_lr_schedule({.peak_lr = 1.f, .warmup_steps = -1}),
                   "lr_schedule: warmup_steps must be >= 0 (got -1)");
  EXPECT_THROW_MSG(make_lr_schedule({.kind = K::kInverseSqrt, .peak_lr = 1.f}),
                   "lr_schedule: inverse_sqrt needs warmup_steps > 0 (got 0)");
  EXPECT_THROW_MSG(
      make_lr_schedule({.kind = K::kInverseSqrt, .peak_lr = 1.f, .warmup_steps = 10,
                        .d_model = 512}),
      "lr_schedule: inverse_sqrt takes either peak_lr or d_model with factor, not both");
  EXPECT_THROW_MSG(make_lr_schedule({.kind = K::kCosine, .peak_lr = 1.f, .warmup_steps = 10,
                                     .total_steps = 10}),
                   "lr_schedule: cosine needs total_steps > warmup_steps (got total_steps 10, "
                   "warmup_steps 10)");
  EXPECT_THROW_MSG(make_lr_schedule({.kind = K::kCosine, .peak_lr = 1.f, .total_steps = 10,
                                     .min_lr = 2.f}),
                   "lr_schedule: min_lr must be in [0, peak_lr = 1] (got 2)");
  // A field the kind does not use is an error, not silently ignored.
  EXPECT_THROW_MSG(make_lr_schedule({.peak_lr = 1.f, .total_steps = 100}),
                   "lr_schedule: total_steps is not used by the 'constant' schedule (got 100)");
  EXPECT_THROW_MSG(make_lr_schedule({.kind = K::kInverseSqrt, .peak_lr = 1.f,
                                     .warmup_steps = 10, .factor = 2.f}),
                   "lr_schedule: factor (without d_model) is not used by the 'inverse_sqrt'");
  EXPECT_THROW_MSG(lr({.peak_lr = 1.f}, -1), "lr_schedule: step must be >= 0 (got -1)");
}

TEST(LrScheduler, SetsTheLrOfEachStepAndResumesFromItsState) {
  Tensor p = Tensor::zeros(Shape{1}).set_requires_grad(true);
  Sgd opt({{"p", p}});
  const LrScheduleOptions o{.peak_lr = 0.1f, .warmup_steps = 4};
  LrScheduler scheduler(o);
  EXPECT_FLOAT_EQ(scheduler.advance(opt), 0.025f);  // step 1
  EXPECT_FLOAT_EQ(opt.lr(), 0.025f);
  EXPECT_FLOAT_EQ(scheduler.advance(opt), 0.05f);   // step 2
  EXPECT_EQ(scheduler.step(), 2);

  LrScheduler resumed(o);
  resumed.load_state(scheduler.state());
  EXPECT_FLOAT_EQ(resumed.advance(opt), 0.075f);    // step 3
  EXPECT_FLOAT_EQ(opt.lr(), 0.075f);
  EXPECT_THROW_MSG(resumed.load_state({.step = -2}), "lr_scheduler: load_state: step must be");
}

}  // namespace
}  // namespace heed
