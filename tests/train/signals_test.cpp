// Stop signals: the first SIGINT/SIGTERM sets the flag, a second one kills the process, and the
// previous handlers come back when the StopSignalHandler goes away.
#include "heed/train/signals.h"

#include <gtest/gtest.h>

#include <csignal>

#include "testing/gradcheck.h"

namespace heed {
namespace {

TEST(StopSignals, SigintSetsTheFlag) {
  StopSignalHandler handler;
  EXPECT_FALSE(stop_requested());
  EXPECT_EQ(stop_signal(), 0);
  ASSERT_EQ(std::raise(SIGINT), 0);  // handled synchronously by this thread
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGINT);
  EXPECT_STREQ(stop_signal_name(stop_signal()), "SIGINT");
  clear_stop_request();
  EXPECT_FALSE(stop_requested());
}

TEST(StopSignals, SigtermSetsTheFlag) {
  StopSignalHandler handler;
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGTERM);
  EXPECT_STREQ(stop_signal_name(SIGTERM), "SIGTERM");
}

TEST(StopSignals, InstallingClearsAnOldRequest) {
  {
    StopSignalHandler handler;
    std::raise(SIGINT);
  }
  StopSignalHandler again;
  EXPECT_FALSE(stop_requested());
}

TEST(StopSignals, OnlyOneHandlerAtATime) {
  StopSignalHandler handler;
  EXPECT_THROW_MSG(StopSignalHandler(), "one is installed already");
}

void previous_handler(int) {}

TEST(StopSignals, RestoresThePreviousHandlers) {
  struct sigaction mine {};
  mine.sa_handler = previous_handler;
  sigemptyset(&mine.sa_mask);
  struct sigaction saved_int {
  }, saved_term{};
  ASSERT_EQ(::sigaction(SIGINT, &mine, &saved_int), 0);
  ASSERT_EQ(::sigaction(SIGTERM, &mine, &saved_term), 0);
  {
    StopSignalHandler handler;
    struct sigaction now {};
    ::sigaction(SIGINT, nullptr, &now);
    EXPECT_NE(now.sa_handler, previous_handler);
  }
  struct sigaction after_int {
  }, after_term{};
  ::sigaction(SIGINT, nullptr, &after_int);
  ::sigaction(SIGTERM, nullptr, &after_term);
  EXPECT_EQ(after_int.sa_handler, previous_handler);
  EXPECT_EQ(after_term.sa_handler, previous_handler);
  ::sigaction(SIGINT, &saved_int, nullptr);
  ::sigaction(SIGTERM, &saved_term, nullptr);
}

TEST(StopSignalsDeathTest, SecondSignalKillsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        StopSignalHandler handler;
        std::raise(SIGINT);  // first: only the flag (and a line on stderr)
        std::raise(SIGINT);  // second: the default action, death by SIGINT
        std::exit(0);        // not reached
      },
      ::testing::KilledBySignal(SIGINT), "SIGINT: stopping after this step");
}

}  // namespace
}  // namespace heed
