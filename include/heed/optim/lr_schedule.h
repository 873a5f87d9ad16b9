// Learning-rate schedules: pure functions of the (1-based) optimizer step.
//
// Step t = 1 is the first update; lr_at(0) is defined too (0 during a warmup). W = warmup_steps,
// T = total_steps, all arithmetic in double:
//
//   constant      lr = peak_lr · min(1, t / W)                        (peak_lr when W = 0)
//   inverse_sqrt  lr = factor · d_model^-0.5 · min(t^-0.5, t · W^-1.5)
//                   — Vaswani et al., "Attention Is All You Need", NeurIPS 2017, §5.3, eq. (3),
//                     used when d_model > 0; or, the same curve by its peak (reached at t = W):
//                 lr = peak_lr · min(t / W, sqrt(W / t))
//                   (the two agree when peak_lr = factor · (d_model · W)^-0.5)
//   cosine        lr = peak_lr · t / W                                 for t < W
//                 lr = min_lr + ½(peak_lr − min_lr)(1 + cos(π (t − W) / (T − W)))   W ≤ t ≤ T
//                 lr = min_lr                                          for t > T
//                   — SGDR's cosine annealing (Loshchilov & Hutter, ICLR 2017) without restarts,
//                     after a linear warmup.
//
// make_lr_schedule() validates the options strictly: a field the kind does not use must keep its
// default, so a misplaced setting is an error rather than silently ignored.
//
// LrScheduler pairs a schedule with the step it is at, for checkpoints: call advance(optimizer)
// once before each optimizer.step(); state()/load_state() export and import that step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "heed/optim/optimizer.h"

namespace heed {

enum class LrScheduleKind { kConstant, kInverseSqrt, kCosine };

// "constant", "inverse_sqrt", "cosine" (the names configs use), and back; an unknown name
// throws listing the valid ones.
const char* to_string(LrScheduleKind kind);
LrScheduleKind lr_schedule_kind_from_string(const std::string& name);

struct LrScheduleOptions {
  LrScheduleKind kind = LrScheduleKind::kConstant;
  float peak_lr = 0.f;             // constant, cosine, inverse_sqrt (peak form)
  std::int64_t warmup_steps = 0;   // all kinds; inverse_sqrt needs > 0
  std::int64_t total_steps = 0;    // cosine: > warmup_steps
  float min_lr = 0.f;              // cosine: the floor, <= peak_lr
  std::int64_t d_model = 0;        // inverse_sqrt (paper form)
  float factor = 1.f;              // inverse_sqrt (paper form)
};

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  // The learning rate for step `step` (>= 0; the first optimizer step is 1).
  virtual float lr_at(std::int64_t step) const = 0;
  const LrScheduleOptions& options() const { return options_; }

 protected:
  explicit LrSchedule(const LrScheduleOptions& options) : options_(options) {}

 private:
  LrScheduleOptions options_;
};

// Validates `options` (errors name the field and value) and builds the schedule.
std::unique_ptr<LrSchedule> make_lr_schedule(const LrScheduleOptions& options);

struct LrSchedulerState {
  std::int64_t step = 0;  // steps taken so far
};

class LrScheduler {
 public:
  explicit LrScheduler(const LrScheduleOptions& options);

  // Moves to the next step and sets the optimizer's lr for it; returns that lr.
  float advance(Optimizer& optimizer);
  // Steps taken so far (the last step whose lr was set).
  std::int64_t step() const { return step_; }
  const LrSchedule& schedule() const { return *schedule_; }

  LrSchedulerState state() const { return {step_}; }
  void load_state(const LrSchedulerState& state);

 private:
  std::unique_ptr<LrSchedule> schedule_;
  std::int64_t step_ = 0;
};

}  // namespace heed
