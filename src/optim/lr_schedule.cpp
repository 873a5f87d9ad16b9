// Learning-rate schedules: the formulas and references are in include/heed/optim/lr_schedule.h.
#include "heed/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "heed/util/check.h"

namespace heed {
namespace {

void check_step(std::int64_t step) {
  CHECK(step >= 0, "lr_schedule: step must be >= 0 (got ", step, ")");
}

class ConstantSchedule final : public LrSchedule {
 public:
  explicit ConstantSchedule(const LrScheduleOptions& options) : LrSchedule(options) {}
  float lr_at(std::int64_t step) const override {
    check_step(step);
    const auto& o = options();
    if (step >= o.warmup_steps) return o.peak_lr;
    return static_cast<float>(double(o.peak_lr) * double(step) / double(o.warmup_steps));
  }
};

class InverseSqrtSchedule final : public LrSchedule {
 public:
  explicit InverseSqrtSchedule(const LrScheduleOptions& options) : LrSchedule(options) {}
  float lr_at(std::int64_t step) const override {
    check_step(step);
    if (step == 0) return 0.f;  // t · W^-1.5 = 0 in both forms
    const auto& o = options();
    const double t = double(step), warmup = double(o.warmup_steps);
    if (o.d_model > 0)
      return static_cast<float>(double(o.factor) / std::sqrt(double(o.d_model)) *
                                std::min(1.0 / std::sqrt(t), t * std::pow(warmup, -1.5)));
    return static_cast<float>(double(o.peak_lr) * std::min(t / warmup, std::sqrt(warmup / t)));
  }
};

class CosineSchedule final : public LrSchedule {
 public:
  explicit CosineSchedule(const LrScheduleOptions& options) : LrSchedule(options) {}
  float lr_at(std::int64_t step) const override {
    check_step(step);
    const auto& o = options();
    const double peak = o.peak_lr, floor = o.min_lr;
    if (step < o.warmup_steps) return static_cast<float>(peak * double(step) / o.warmup_steps);
    if (step >= o.total_steps) return o.min_lr;
    const double progress =
        double(step - o.warmup_steps) / double(o.total_steps - o.warmup_steps);
    return static_cast<float>(floor +
                              0.5 * (peak - floor) * (1.0 + std::cos(std::numbers::pi * progress)));
  }
};

// A field the kind does not use must keep its default.
void check_unused(bool used, bool at_default, LrScheduleKind kind, const char* field,
                  double value) {
  CHECK(used || at_default, "lr_schedule: ", field, " is not used by the '", to_string(kind),
        "' schedule (got ", value, ")");
}

void validate(const LrScheduleOptions& o) {
  const LrScheduleKind kind = o.kind;
  const bool paper_form = kind == LrScheduleKind::kInverseSqrt && o.d_model > 0;
  const LrScheduleOptions defaults;

  CHECK(o.warmup_steps >= 0, "lr_schedule: warmup_steps must be >= 0 (got ", o.warmup_steps,
        ")");
  CHECK(o.d_model >= 0, "lr_schedule: d_model must be >= 0 (got ", o.d_model, ")");
  if (paper_form) {
    CHECK(o.peak_lr == 0.f, "lr_schedule: inverse_sqrt takes either peak_lr or d_model with "
          "factor, not both (got peak_lr ", o.peak_lr, ", d_model ", o.d_model, ")");
    CHECK(std::isfinite(o.factor) && o.factor > 0.f, "lr_schedule: factor must be > 0 (got ",
          o.factor, ")");
  } else {
    CHECK(std::isfinite(o.peak_lr) && o.peak_lr > 0.f, "lr_schedule: peak_lr must be > 0 (got ",
          o.peak_lr, ")");
  }
  if (kind == LrScheduleKind::kInverseSqrt)
    CHECK(o.warmup_steps > 0, "lr_schedule: inverse_sqrt needs warmup_steps > 0 (got ",
          o.warmup_steps, ")");
  if (kind == LrScheduleKind::kCosine) {
    CHECK(o.total_steps > o.warmup_steps, "lr_schedule: cosine needs total_steps > warmup_steps "
          "(got total_steps ", o.total_steps, ", warmup_steps ", o.warmup_steps, ")");
    CHECK(o.min_lr >= 0.f && o.min_lr <= o.peak_lr, "lr_schedule: min_lr must be in [0, peak_lr "
          "= ", o.peak_lr, "] (got ", o.min_lr, ")");
  }
  const bool cosine = kind == LrScheduleKind::kCosine;
  check_unused(cosine, o.total_steps == defaults.total_steps, kind, "total_steps",
               double(o.total_steps));
  check_unused(cosine, o.min_lr == defaults.min_lr, kind, "min_lr", o.min_lr);
  check_unused(kind == LrScheduleKind::kInverseSqrt, o.d_model == defaults.d_model, kind,
               "d_model", double(o.d_model));
  check_unused(paper_form, o.factor == defaults.factor, kind, "factor (without d_model)",
               o.factor);
}

}  // namespace

const char* to_string(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::kConstant: return "constant";
    case LrScheduleKind::kInverseSqrt: return "inverse_sqrt";
    case LrScheduleKind::kCosine: return "cosine";
  }
  return "?";
}

LrScheduleKind lr_schedule_kind_from_string(const std::string& name) {
  for (LrScheduleKind kind :
       {LrScheduleKind::kConstant, LrScheduleKind::kInverseSqrt, LrScheduleKind::kCosine})
    if (name == to_string(kind)) return kind;
  CHECK(false, "lr_schedule: unknown kind '", name,
        "' (expected constant, inverse_sqrt or cosine)");
  return LrScheduleKind::kConstant;
}

std::unique_ptr<LrSchedule> make_lr_schedule(const LrScheduleOptions& options) {
  validate(options);
  switch (options.kind) {
    case LrScheduleKind::kConstant: return std::make_unique<ConstantSchedule>(options);
    case LrScheduleKind::kInverseSqrt: return std::make_unique<InverseSqrtSchedule>(options);
    case LrScheduleKind::kCosine: return std::make_unique<CosineSchedule>(options);
  }
  CHECK(false, "lr_schedule: unknown kind ", static_cast<int>(options.kind));
  return nullptr;
}

LrScheduler::LrScheduler(const LrScheduleOptions& options)
    : schedule_(make_lr_schedule(options)) {}

float LrScheduler::advance(Optimizer& optimizer) {
  const float lr = schedule_->lr_at(step_ + 1);
  optimizer.set_lr(lr);
  ++step_;
  return lr;
}

void LrScheduler::load_state(const LrSchedulerState& state) {
  CHECK(state.step >= 0, "lr_scheduler: load_state: step must be >= 0 (got ", state.step, ")");
  step_ = state.step;
}

}  // namespace heed
