#include "heed/train/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "heed/util/check.h"

namespace heed {
namespace {

constexpr int kDefaultWidth = 80;
constexpr const char* kEraseToEndOfLine = "\x1b[K";

std::string printf_string(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

int terminal_columns() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return kDefaultWidth;
}

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// "12%" of done/total (rounded down, so 100% only when done).
std::string percent(std::int64_t done, std::int64_t total) {
  return std::to_string(total > 0 ? done * 100 / total : 0) + "%";
}

std::string eta(std::int64_t remaining, double rate) {
  if (!(rate > 0) || remaining < 0) return "?";
  return format_duration(static_cast<double>(remaining) / rate);
}

}  // namespace

// ---- formatting

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<std::int64_t>(seconds);
  char text[32];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(total));
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else if (total < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total % 3600 / 60));
  } else {
    std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(total / 86400),
                  static_cast<long long>(total % 86400 / 3600));
  }
  return text;
}

std::string format_si(double value) {
  if (std::isnan(value)) return "?";
  if (value < 0) return std::string(1, '-').append(format_si(-value));
  if (value == 0) return "0";
  if (std::isinf(value)) return "inf";
  static const char* const kPrefixes[] = {"", "k", "M", "G", "T", "P"};
  int prefix = 0;
  // 999.5 and up would print as "1000": move to the next prefix instead ("1.0k").
  while (value >= 999.5 && prefix < 5) {
    value /= 1000;
    ++prefix;
  }
  return printf_string(value < 9.95 ? "%.1f" : "%.0f", value) + kPrefixes[prefix];
}

std::string format_rate(double per_second, std::string_view unit) {
  return format_si(per_second) + " " + std::string(unit) + "/s";
}

std::string format_learning_rate(double lr) { return printf_string("%.1e", lr); }

std::string format_loss(double loss) {
  if (std::isnan(loss)) return "nan";
  if (std::isinf(loss)) return loss > 0 ? "inf" : "-inf";
  return printf_string(std::fabs(loss) < 1000 ? "%.3f" : "%.4g", loss);
}

// ---- measuring

void SmoothedValue::add(double value) {
  average_ = beta_ * average_ + (1 - beta_) * value;
  weight_ = beta_ * weight_ + (1 - beta_);
  ++count_;
}

double SmoothedValue::value() const { return count_ == 0 ? std::nan("") : average_ / weight_; }

void RateMeter::add(double time, double total) {
  // Samples closer than 1% of the window replace the newest one: at most ~100 samples kept.
  if (samples_.size() >= 2 && time - samples_[samples_.size() - 2].time < window_ / 100) {
    samples_.back() = {time, total};
  } else {
    samples_.push_back({time, total});
  }
  // Keep the newest sample at or before the window's start, so the rate spans the whole window.
  while (samples_.size() > 2 && samples_[1].time <= time - window_) samples_.pop_front();
}

void RateMeter::skip(double seconds) {
  for (Sample& sample : samples_) sample.time += seconds;
}

double RateMeter::rate() const {
  if (samples_.size() < 2) return std::nan("");
  const double dt = samples_.back().time - samples_.front().time;
  if (!(dt > 0)) return std::nan("");
  return (samples_.back().total - samples_.front().total) / dt;
}

// ---- output

ProgressLine::ProgressLine(ProgressOptions options) : options_(std::move(options)) {
  out_ = options_.out != nullptr ? options_.out : &std::cerr;
  tty_ = options_.tty.value_or(options_.out == nullptr && ::isatty(STDERR_FILENO) == 1);
  width_ = options_.width > 0 ? options_.width : (tty_ ? terminal_columns() : 0);
  if (!options_.clock) options_.clock = steady_seconds;
  CHECK(options_.redraw_seconds >= 0 && options_.log_seconds >= 0,
        "progress: redraw_seconds and log_seconds must be >= 0 (got ", options_.redraw_seconds,
        ", ", options_.log_seconds, ")");
}

double ProgressLine::now() const { return options_.clock(); }

bool ProgressLine::due(double now) const {
  if (finished_) return false;
  if (!last_draw_) return true;
  return now - *last_draw_ >= (tty_ ? options_.redraw_seconds : options_.log_seconds);
}

std::string ProgressLine::fit(const std::string& text) const {
  if (width_ <= 0 || static_cast<int>(text.size()) < width_) return text;
  return text.substr(0, width_ - 1);  // the last column would make some terminals wrap
}

void ProgressLine::draw(const std::string& text, double now) {
  if (finished_) return;
  last_draw_ = now;
  if (tty_) {
    current_ = fit(text);
    *out_ << '\r' << current_ << kEraseToEndOfLine << std::flush;
  } else {
    *out_ << text << '\n' << std::flush;
  }
}

void ProgressLine::message(std::string_view text) {
  if (tty_ && !current_.empty() && !finished_) {
    *out_ << '\r' << kEraseToEndOfLine << text << '\n' << current_ << kEraseToEndOfLine;
  } else {
    *out_ << text << '\n';
  }
  *out_ << std::flush;
}

void ProgressLine::finish(const std::string& text) {
  if (finished_) return;
  finished_ = true;
  if (tty_) {
    *out_ << '\r' << fit(text) << kEraseToEndOfLine << '\n';
  } else {
    *out_ << text << '\n';
  }
  *out_ << std::flush;
}

// ---- training

TrainProgress::TrainProgress(std::int64_t total_steps, ProgressOptions options)
    : total_steps_(total_steps), line_(std::move(options)) {
  CHECK(total_steps > 0, "progress: total_steps must be > 0 (got ", total_steps, ")");
}

void TrainProgress::update(const TrainStatus& status) {
  const double now = line_.now();
  if (!started_) {
    started_ = true;
    start_time_ = now;
  }
  last_ = status;
  loss_.add(status.loss);
  steps_per_second_.add(now, static_cast<double>(status.step));
  tokens_per_second_.add(now, static_cast<double>(status.tokens_seen));
  if (line_.due(now)) line_.draw(text(), now);
}

TrainProgress::Pause::Pause(TrainProgress& progress)
    : progress_(progress), start_(progress.line_.now()) {}

TrainProgress::Pause::~Pause() {
  if (!progress_.started_) return;  // nothing measured yet: nothing to correct
  const double seconds = progress_.line_.now() - start_;
  progress_.paused_seconds_ += seconds;
  progress_.steps_per_second_.skip(seconds);
  progress_.tokens_per_second_.skip(seconds);
}

std::string TrainProgress::text() const {
  const double now = line_.now();
  std::string text = "step " + std::to_string(last_.step) + "/" + std::to_string(total_steps_) +
                     " " + percent(last_.step, total_steps_);
  text += " | ep " + std::to_string(last_.epoch);
  text += " | loss " + format_loss(loss_.value());
  text += " | lr " + format_learning_rate(last_.lr);
  text += " | " + format_rate(tokens_per_second_.rate(), "tok");
  text += " | " + format_duration(started_ ? now - start_time_ : 0);
  // Steps per second of wall time: the training rate, slowed by the pauses' share so far.
  const double elapsed = started_ ? now - start_time_ : 0;
  const double training = elapsed - paused_seconds_;
  const double rate = paused_seconds_ > 0 && training > 0
                          ? steps_per_second_.rate() * training / elapsed
                          : steps_per_second_.rate();
  std::string until_end = eta(total_steps_ - last_.step, rate);
  if (time_budget_ >= 0 && started_) {
    const double left = std::max(0.0, time_budget_ - (now - start_time_));
    const bool budget_first =
        !(rate > 0) || left < static_cast<double>(total_steps_ - last_.step) / rate;
    if (budget_first) until_end = format_duration(left);
  }
  text += " | ETA " + until_end;
  return text;
}

void TrainProgress::finish() { line_.finish(text()); }

// ---- generic loops

Progress::Progress(std::string label, std::int64_t total, std::string unit, ProgressOptions options)
    : label_(std::move(label)), total_(total), unit_(std::move(unit)), line_(std::move(options)) {
  CHECK(total >= 0, "progress ", label_, ": total must be >= 0 (got ", total, ")");
  start_time_ = line_.now();
  rate_.add(start_time_, 0);
}

void Progress::set(std::int64_t done) {
  done_ = done;
  const double now = line_.now();
  rate_.add(now, static_cast<double>(done));
  if (line_.due(now)) line_.draw(text(), now);
}

std::string Progress::text() const {
  const double elapsed = line_.now() - start_time_;
  std::string text = label_ + " " + std::to_string(done_);
  if (total_ > 0)
    text.append("/").append(std::to_string(total_)).append(" ").append(percent(done_, total_));
  text += " | " + format_rate(rate_.rate(), unit_);
  text += " | " + format_duration(elapsed);
  if (total_ > 0) text += " | ETA " + eta(total_ - done_, rate_.rate());
  return text;
}

void Progress::finish() { line_.finish(text()); }

}  // namespace heed
