// Progress display: the formatting functions, the smoothing, and throttled output driven by a
// fake clock into a string stream.
#include "heed/train/progress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace heed {
namespace {

TEST(ProgressFormat, Durations) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(59.9), "59s");
  EXPECT_EQ(format_duration(60), "1m00s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3599), "59m59s");
  EXPECT_EQ(format_duration(3600 + 2 * 60 + 30), "1h02m");
  EXPECT_EQ(format_duration(23 * 3600 + 59 * 60 + 59), "23h59m");
  EXPECT_EQ(format_duration(2 * 86400 + 3 * 3600 + 100), "2d03h");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(NAN), "?");
  EXPECT_EQ(format_duration(INFINITY), "?");
}

TEST(ProgressFormat, SiCountsAndRates) {
  EXPECT_EQ(format_si(0), "0");
  EXPECT_EQ(format_si(0.25), "0.2");  // %.1f of 0.25 (binary: exactly 0.25, rounds to even)
  EXPECT_EQ(format_si(3.46), "3.5");
  EXPECT_EQ(format_si(12.3), "12");
  EXPECT_EQ(format_si(812), "812");
  EXPECT_EQ(format_si(999.4), "999");
  EXPECT_EQ(format_si(999.6), "1.0k");  // not "1000"
  EXPECT_EQ(format_si(4630), "4.6k");
  EXPECT_EQ(format_si(46200), "46k");
  EXPECT_EQ(format_si(462000), "462k");
  EXPECT_EQ(format_si(1.23e6), "1.2M");
  EXPECT_EQ(format_si(3.4e9), "3.4G");
  EXPECT_EQ(format_si(-4630), "-4.6k");
  EXPECT_EQ(format_si(NAN), "?");
  EXPECT_EQ(format_rate(4630, "tok"), "4.6k tok/s");
  EXPECT_EQ(format_rate(35.2, "sent"), "35 sent/s");
  EXPECT_EQ(format_rate(NAN, "tok"), "? tok/s");
}

TEST(ProgressFormat, LearningRatesAndLosses) {
  EXPECT_EQ(format_learning_rate(3e-4), "3.0e-04");
  EXPECT_EQ(format_learning_rate(0.00124), "1.2e-03");
  EXPECT_EQ(format_learning_rate(0), "0.0e+00");
  EXPECT_EQ(format_loss(3.41249), "3.412");
  EXPECT_EQ(format_loss(12345.6), "1.235e+04");
  EXPECT_EQ(format_loss(NAN), "nan");
  EXPECT_EQ(format_loss(INFINITY), "inf");
}

TEST(SmoothedValue, IsBiasCorrected) {
  SmoothedValue loss(0.9);
  EXPECT_TRUE(std::isnan(loss.value()));
  loss.add(4.0);
  EXPECT_DOUBLE_EQ(loss.value(), 4.0);  // not 0.4: the correction divides by 1 − 0.9
  loss.add(2.0);
  // (0.9·0.1·4 + 0.1·2) / (1 − 0.81) = 0.56 / 0.19
  EXPECT_DOUBLE_EQ(loss.value(), 0.56 / 0.19);
}

TEST(RateMeter, MeasuresOverTheWindow) {
  RateMeter meter(10);
  EXPECT_TRUE(std::isnan(meter.rate()));
  meter.add(0, 0);
  EXPECT_TRUE(std::isnan(meter.rate()));
  meter.add(2, 100);
  EXPECT_DOUBLE_EQ(meter.rate(), 50);
  meter.add(12, 200);  // the sample at t = 2 is the oldest within 10 s of t = 12
  EXPECT_DOUBLE_EQ(meter.rate(), 10);
  meter.add(30, 2000);  // a burst: the older samples fall out of the window
  EXPECT_DOUBLE_EQ(meter.rate(), 1800.0 / 18);
  meter.add(30.01, 2010);  // close samples replace the newest one
  EXPECT_NEAR(meter.rate(), 1810.0 / 18.01, 1e-9);
}

// A clock the test moves by hand.
struct FakeClock {
  double now = 0;
  std::function<double()> function() {
    return [this] { return now; };
  }
};

TEST(TrainProgress, RedrawsInPlaceAtMostTenTimesASecond) {
  FakeClock clock;
  std::ostringstream out;
  TrainProgress progress(1000, {.out = &out, .tty = true, .width = 200, .clock = clock.function()});
  progress.update({.step = 1, .epoch = 0, .loss = 5.0, .lr = 1e-4, .tokens_seen = 1000});
  const std::string first = out.str();
  EXPECT_EQ(first,
            "\rstep 1/1000 0% | ep 0 | loss 5.000 | lr 1.0e-04 | ? tok/s | 0s | ETA ?\x1b[K");
  clock.now += 0.0625;  // (binary fractions keep the arithmetic exact)
  progress.update({.step = 2, .epoch = 0, .loss = 3.0, .lr = 1e-4, .tokens_seen = 2000});
  EXPECT_EQ(out.str(), first);  // throttled: less than 0.1 s since the last redraw
  clock.now += 0.0625;
  progress.update({.step = 3, .epoch = 0, .loss = 3.0, .lr = 2e-4, .tokens_seen = 3000});
  // 2 steps and 2000 tokens in 0.125 s since the first update; 997 steps left at 16 steps/s.
  const std::string second = out.str().substr(first.size());
  EXPECT_EQ(second.substr(0, 26), "\rstep 3/1000 0% | ep 0 | l");
  EXPECT_NE(second.find("| lr 2.0e-04 | 16k tok/s | 0s | ETA 1m02s\x1b[K"), std::string::npos)
      << second;
  EXPECT_EQ(second.find('\n'), std::string::npos);
}

TEST(TrainProgress, ShowsTheSmoothedLossAndResumedStepCounts) {
  FakeClock clock;
  std::ostringstream out;
  TrainProgress progress(100, {.out = &out, .tty = true, .width = 200, .clock = clock.function()});
  // A resumed run: starts at step 50; rates count only this session's steps.
  for (int step = 51; step <= 60; ++step) {
    progress.update({.step = step,
                     .epoch = 1,
                     .loss = step % 2 ? 2.0 : 4.0,
                     .lr = 1e-3,
                     .tokens_seen = step * 100});
    clock.now += 1;
  }
  const std::string text = progress.text();
  EXPECT_EQ(text.substr(0, 27), "step 60/100 60% | ep 1 | lo");
  EXPECT_NEAR(progress.smoothed_loss(), 3.0, 0.1);
  // 9 steps in 9 s -> 1 step/s, 40 steps left; 100 tokens/s; 10 s since the first update.
  EXPECT_NE(text.find("| 100 tok/s | 10s | ETA 40s"), std::string::npos) << text;
}

TEST(TrainProgress, ATimeBudgetEndsTheEtaWhenItComesFirst) {
  FakeClock clock;
  std::ostringstream out;
  TrainProgress progress(1000, {.out = &out, .tty = true, .width = 200, .clock = clock.function()});
  progress.set_time_budget(25);  // seconds left of train.max_minutes
  for (int step = 1; step <= 11; ++step) {
    progress.update({.step = step, .epoch = 0, .loss = 1, .lr = 1e-3, .tokens_seen = step});
    clock.now += 1;
  }
  // 1 step/s: 989 steps would take 16m29s, but the budget ends in 25 - 11 = 14 s.
  EXPECT_NE(progress.text().find("| 11s | ETA 14s"), std::string::npos) << progress.text();
  progress.set_time_budget(100000);  // the steps end first
  EXPECT_NE(progress.text().find("| ETA 16m29s"), std::string::npos) << progress.text();
}

TEST(TrainProgress, PausesAreLeftOutOfTheRatesButNotOutOfTheEta) {
  FakeClock clock;
  std::ostringstream out;
  TrainProgress progress(1000, {.out = &out, .tty = true, .width = 200, .clock = clock.function()});
  for (int step = 1; step <= 20; ++step) {
    progress.update({.step = step, .epoch = 0, .loss = 1, .lr = 1e-3, .tokens_seen = step * 100});
    clock.now += 1;
  }
  {
    const TrainProgress::Pause validation(progress);
    clock.now += 20;  // validation and a checkpoint: no steps
  }
  progress.update({.step = 21, .epoch = 0, .loss = 1, .lr = 1e-3, .tokens_seen = 2100});
  // Training still runs at 1 step/s, 100 tokens/s (not 1 step over the 20 s pause); the pauses
  // took 20 of the 40 s so far, so the 979 steps left should take twice 979 s: 32m38s.
  EXPECT_NE(progress.text().find("| 100 tok/s | 40s | ETA 32m38s"), std::string::npos)
      << progress.text();
}

TEST(RateMeter, SkipLeavesAPauseOut) {
  RateMeter meter(10);
  meter.add(0, 0);
  meter.add(2, 100);
  meter.skip(30);
  meter.add(33, 150);  // 150 units in 2 + 1 s of progress
  EXPECT_DOUBLE_EQ(meter.rate(), 50);
}

TEST(TrainProgress, PlainOutputPrintsALineEveryLogInterval) {
  FakeClock clock;
  std::ostringstream out;
  TrainProgress progress(10,
                         {.out = &out, .tty = false, .log_seconds = 30, .clock = clock.function()});
  for (int step = 1; step <= 10; ++step) {
    progress.update({.step = step, .epoch = 0, .loss = 1.0, .lr = 1e-3, .tokens_seen = step});
    clock.now += 10;
  }
  progress.finish();
  const std::string text = out.str();
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("\x1b"), std::string::npos);
  // Lines at steps 1, 4, 7, 10 (every 30 s), then the final one.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
  EXPECT_EQ(text.substr(0, 15), "step 1/10 10% |");
  EXPECT_NE(text.find("\nstep 4/10 40% |"), std::string::npos);
  EXPECT_NE(text.find("\nstep 10/10 100% |"), std::string::npos);
}

TEST(ProgressLine, MessagesDoNotOverprintTheStatus) {
  FakeClock clock;
  std::ostringstream out;
  ProgressLine line({.out = &out, .tty = true, .width = 10, .clock = clock.function()});
  line.draw("status line that is long", clock.now);
  line.message("saved checkpoint");
  line.finish("done");
  EXPECT_EQ(out.str(),
            "\rstatus li\x1b[K"                          // cut to width − 1
            "\r\x1b[Ksaved checkpoint\nstatus li\x1b[K"  // message, then the status again
            "\rdone\x1b[K\n");
}

TEST(Progress, CountsItemsWithRateAndEta) {
  FakeClock clock;
  std::ostringstream out;
  Progress progress("decode", 2000, "sent",
                    {.out = &out, .tty = true, .width = 200, .clock = clock.function()});
  clock.now += 4;
  progress.advance(120);
  EXPECT_EQ(progress.text(), "decode 120/2000 6% | 30 sent/s | 4s | ETA 1m02s");
  clock.now += 4;
  progress.set(2000);
  progress.finish();
  EXPECT_EQ(out.str().substr(out.str().rfind('\r')),
            "\rdecode 2000/2000 100% | 250 sent/s | 8s | ETA 0s\x1b[K\n");

  Progress unknown("read", 0, "lines", {.out = &out, .tty = false, .clock = clock.function()});
  clock.now += 2;
  unknown.advance(5000);
  EXPECT_EQ(unknown.text(), "read 5000 | 2.5k lines/s | 2s");
}

}  // namespace
}  // namespace heed
