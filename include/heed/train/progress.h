// Progress display for training and for evaluation/decoding loops.
//
// On a terminal the status is one line redrawn in place ("\r", then the line, then "erase to end
// of line"), at most 10 times a second however often update() is called, and cut to the
// terminal's width so that it never wraps. When stderr is not a terminal (a log file, CI, nohup)
// carriage returns would make a mess, so a plain line is printed every 30 seconds instead.
//
//   step 1200/10000 12% | ep 3 | loss 3.412 | lr 3.0e-04 | 4.6k tok/s | 12m05s | ETA 1h02m
//   decode 120/2000 6% | 35.2 sent/s | 3s | ETA 53s
//
// The loss shown is an exponential moving average (β = 0.98, bias-corrected as in Adam, so the
// first values are not pulled towards 0). Rates (tokens/s, steps/s for the ETA) are measured over
// the last 10 seconds of training, starting from the first update — a resumed run does not count
// the steps of earlier sessions as done in no time. Pauses (validation, checkpoints: a Pause
// while they run) are left out of the rates, so tokens/s is the training speed; the ETA adds
// them back in proportion (their share of the time so far).
//
// Everything that depends on time takes it from ProgressOptions::clock, so tests drive a fake
// clock; the format_* functions are pure.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace heed {

// ---- formatting

// Compact durations: "0s", "59s", "1m05s", "59m59s", "1h02m", "23h59m", "2d03h"; "?" for a
// negative, NaN or infinite value. Rounds down (an ETA of 59.9 s shows "59s").
std::string format_duration(double seconds);
// Counts with SI prefixes and about three significant digits: "0", "812", "4.6k" (one decimal
// below 10 of a unit), "46k", "462k", "1.2M", "3.4G"; below 10, one decimal: "3.5", "0.2".
std::string format_si(double value);
// A rate with its unit: format_rate(4630, "tok") == "4.6k tok/s".
std::string format_rate(double per_second, std::string_view unit);
// A learning rate in scientific notation with two significant digits: "3.0e-04".
std::string format_learning_rate(double lr);
// A loss: three decimals below 1000 ("3.412"), else four significant digits; "nan", "inf".
std::string format_loss(double loss);

// ---- measuring

// Exponential moving average with Adam-style bias correction: after n values v_i,
//   value() = Σ β^(n−i)(1−β) v_i / (1 − β^n).
class SmoothedValue {
 public:
  explicit SmoothedValue(double beta = 0.98) : beta_(beta) {}
  void add(double value);
  double value() const;  // NaN before the first add
  bool empty() const { return count_ == 0; }

 private:
  double beta_;
  double average_ = 0;
  double weight_ = 0;  // 1 − β^n
  std::int64_t count_ = 0;
};

// A rate over a sliding time window: add(time, running total) samples, rate() =
// Δtotal / Δtime between the oldest sample inside the window and the newest.
class RateMeter {
 public:
  explicit RateMeter(double window_seconds = 10) : window_(window_seconds) {}
  void add(double time, double total);
  // Moves every sample `seconds` later: time that passed without progress (a pause) is not
  // counted.
  void skip(double seconds);
  // NaN until two samples lie apart in time.
  double rate() const;

 private:
  struct Sample {
    double time, total;
  };
  double window_;
  std::deque<Sample> samples_;
};

// ---- output

struct ProgressOptions {
  std::ostream* out = nullptr;    // nullptr: std::cerr
  std::optional<bool> tty;        // unset: whether `out` is stderr and stderr a terminal
  int width = 0;                  // terminal columns; 0: ask the terminal (80 if unknown)
  double redraw_seconds = 0.1;    // terminal: at most one redraw per this
  double log_seconds = 30;        // no terminal: one line per this
  std::function<double()> clock;  // seconds on any fixed origin; unset: steady_clock
};

// The shared machinery: throttling, in-place redraws or plain lines, messages between them.
class ProgressLine {
 public:
  explicit ProgressLine(ProgressOptions options);

  double now() const;
  bool is_tty() const { return tty_; }
  // Whether a redraw is due at `now`: never drawn yet, or the redraw (terminal) or log (plain)
  // interval has passed since the last one.
  bool due(double now) const;
  // Shows `text` as the current status (terminal: redraws the line; plain: prints a line).
  void draw(const std::string& text, double now);
  // Prints `text` as a line of its own (terminal: clears the status line first and redraws it
  // after, so messages and the status never overprint each other).
  void message(std::string_view text);
  // Shows `text` as the final status and ends the line.
  void finish(const std::string& text);

 private:
  std::string fit(const std::string& text) const;  // cut to the terminal width

  ProgressOptions options_;
  std::ostream* out_;
  bool tty_;
  int width_;
  std::optional<double> last_draw_;
  std::string current_;  // the status line shown (terminal)
  bool finished_ = false;
};

// What the training loop reports after each step.
struct TrainStatus {
  std::int64_t step = 0;         // optimizer steps done (over the whole run)
  std::int64_t epoch = 0;        // current epoch
  double loss = 0;               // this step's training loss (smoothed here)
  double lr = 0;                 // the learning rate used
  std::int64_t tokens_seen = 0;  // training tokens so far (running total)
};

class TrainProgress {
 public:
  // `total_steps` > 0: the step count the run ends at.
  explicit TrainProgress(std::int64_t total_steps, ProgressOptions options = {});

  // A wall-clock budget (train.max_minutes): the ETA is the earlier of the step count's and the
  // budget's end, `seconds` after the first update.
  void set_time_budget(double seconds) { time_budget_ = seconds; }

  // Records a step; redraws if due.
  void update(const TrainStatus& status);

  // While alive, time does not count towards the rates (validation, checkpoints).
  class Pause {
   public:
    explicit Pause(TrainProgress& progress);
    ~Pause();
    Pause(const Pause&) = delete;
    Pause& operator=(const Pause&) = delete;

   private:
    TrainProgress& progress_;
    double start_;
  };
  void message(std::string_view text) { line_.message(text); }
  // Final redraw, ending the line (call once, after the loop).
  void finish();

  // The status line as it would be drawn now.
  std::string text() const;
  double smoothed_loss() const { return loss_.value(); }

 private:
  std::int64_t total_steps_;
  ProgressLine line_;
  TrainStatus last_;
  bool started_ = false;
  double start_time_ = 0;
  double time_budget_ = -1;  // < 0: none
  double paused_seconds_ = 0;  // since the first update
  SmoothedValue loss_;
  RateMeter steps_per_second_;
  RateMeter tokens_per_second_;
};

// For evaluation, decoding, data preparation: "<label> <done>/<total> <pct>% | <rate> <unit>/s |
// <elapsed> | ETA <remaining>". `total` 0 means unknown (no percentage, no ETA).
class Progress {
 public:
  Progress(std::string label, std::int64_t total, std::string unit, ProgressOptions options = {});

  void advance(std::int64_t n = 1) { set(done_ + n); }
  void set(std::int64_t done);
  void message(std::string_view text) { line_.message(text); }
  void finish();

  std::string text() const;
  std::int64_t done() const { return done_; }

 private:
  std::string label_;
  std::int64_t total_;
  std::string unit_;
  ProgressLine line_;
  double start_time_;
  std::int64_t done_ = 0;
  RateMeter rate_;
};

}  // namespace heed
