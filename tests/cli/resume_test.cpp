// Exact resume through the real program: a run killed with SIGKILL mid-way (and one stopped
// with SIGINT) and resumed with --resume logs exactly the losses and validation scores of an
// uninterrupted run, at every logged step.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "heed/train/metrics_log.h"
#include "testing/heed_process.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::HeedProcess;
using testing::ProcessResult;
using testing::run_heed;
using testing::TempDir;
namespace fs = std::filesystem;

// Everything of a metrics line that does not depend on time.
json without_timing(json record) {
  record.erase("tokens_per_s");
  record.erase("seconds");
  return record;
}

// The highest "train" step logged so far (0 if none); tolerates a half-written last line.
std::int64_t last_logged_step(const fs::path& metrics) {
  std::ifstream in(metrics);
  std::int64_t step = 0;
  for (std::string line; std::getline(in, line);) {
    const json record = json::parse(line, nullptr, false);
    if (!record.is_discarded() && record.contains("step")) step = record["step"];
  }
  return step;
}

void expect_same_metrics(const fs::path& expected, const fs::path& actual) {
  const std::vector<json> a = read_metrics(expected);
  const std::vector<json> b = read_metrics(actual);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(without_timing(a[i]), without_timing(b[i])) << "line " << i + 1;
  }
}

// One uninterrupted run (shared by the tests) to compare interrupted ones with.
class Resume : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    json config = testing::tiny_translation_config(dir_->path());
    config["train"]["max_steps"] = 400;
    config["train"]["log_every"] = 10;
    config["train"]["valid_every"] = 100;
    config["train"]["checkpoint_every"] = 50;
    config_ = new std::string(testing::write_config(dir_->path(), config).string());
    full_ = new ProcessResult(train("full"));
  }
  static void TearDownTestSuite() {
    delete full_;
    delete config_;
    delete dir_;
  }
  void SetUp() override { ASSERT_EQ(full_->status, 0) << full_->err; }

  static ProcessResult train(const std::string& run, bool resume = false) {
    std::vector<std::string> args = {"train", *config_, "--set",
                                     "run_dir=" + (*dir_ / run).string()};
    if (resume) args.push_back("--resume");
    return run_heed(args);
  }

  // Starts a run and sends `signal` once it has logged step `after` (and so has a checkpoint
  // from before that step).
  static ProcessResult interrupt(const std::string& run, int signal, std::int64_t after) {
    HeedProcess process({"train", *config_, "--set", "run_dir=" + (*dir_ / run).string()});
    const fs::path metrics = *dir_ / run / "metrics.jsonl";
    // The run ends by itself at max_steps, so this wait is bounded; the deadline only guards
    // against a hang. It is long because a loaded machine can slow the run many times over (a
    // 60 s limit killed it before step 170 while another training job held both cores).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    while (process.running() && last_logged_step(metrics) < after &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    process.kill(signal);
    return process.wait();
  }

  static fs::path path(const std::string& name) { return *dir_ / name; }

  static TempDir* dir_;
  static std::string* config_;
  static ProcessResult* full_;
};

TempDir* Resume::dir_ = nullptr;
std::string* Resume::config_ = nullptr;
ProcessResult* Resume::full_ = nullptr;

TEST_F(Resume, KilledRunResumesWithExactlyTheSameLosses) {
  // Killed between checkpoints (every 50 steps), after logging steps the checkpoint lacks.
  const ProcessResult killed = interrupt("killed", SIGKILL, 170);
  ASSERT_EQ(killed.signal, SIGKILL) << "the run ended before it could be killed: " << killed.err;
  const std::int64_t logged = last_logged_step(path("killed") / "metrics.jsonl");
  EXPECT_GT(logged, 150);
  EXPECT_LT(logged, 400);

  const ProcessResult resumed = train("killed", /*resume=*/true);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resumed from"), std::string::npos) << resumed.err;
  expect_same_metrics(path("full") / "metrics.jsonl", path("killed") / "metrics.jsonl");
}

TEST_F(Resume, InterruptedRunSavesACheckpointAndResumesExactly) {
  const ProcessResult stopped = interrupt("stopped", SIGINT, 130);
  ASSERT_EQ(stopped.status, 128 + SIGINT) << stopped.err;
  EXPECT_NE(stopped.err.find("stopped by SIGINT"), std::string::npos) << stopped.err;
  // The checkpoint is of the step it stopped at, not of an earlier multiple of 50.
  const std::int64_t logged = last_logged_step(path("stopped") / "metrics.jsonl");
  bool found_exact = false;
  for (const auto& entry : fs::directory_iterator(path("stopped") / "checkpoints")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step_", 0) == 0 && std::stoll(name.substr(5)) >= logged) found_exact = true;
  }
  EXPECT_TRUE(found_exact);

  const ProcessResult resumed = train("stopped", /*resume=*/true);
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  expect_same_metrics(path("full") / "metrics.jsonl", path("stopped") / "metrics.jsonl");
}

}  // namespace
}  // namespace heed
