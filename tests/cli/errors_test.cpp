// Every way `heed` can be used wrongly ends with a non-zero status and a message that names the
// key, the file or the line: config errors, data errors, run-directory rules, command-line usage.
#include <gtest/gtest.h>

#include <fstream>

#include "testing/heed_process.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::ProcessResult;
using testing::run_heed;
using testing::TempDir;

#define EXPECT_FAILS_WITH(result, status_code, text)                              \
  do {                                                                            \
    const ProcessResult& r_ = (result);                                           \
    EXPECT_EQ(r_.status, status_code) << r_.err;                                  \
    EXPECT_NE(r_.err.find(text), std::string::npos) << "stderr was:\n" << r_.err; \
  } while (0)

class Errors : public ::testing::Test {
 protected:
  ProcessResult train(const json& config, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"train", testing::write_config(dir_.path(), config).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_heed(args);
  }
  json translation() { return testing::tiny_translation_config(dir_.path()); }

  TempDir dir_;
};

TEST_F(Errors, UnknownKeySuggestsTheKnownOne) {
  json config = translation();
  config["train"]["max_step"] = 10;
  EXPECT_FAILS_WITH(train(config), 1,
                    "heed: error: train.max_step: unknown key (did you mean \"max_steps\"?)");
}

TEST_F(Errors, BadValueNamesKeyRuleAndValue) {
  EXPECT_FAILS_WITH(train(translation(), {"--set", "train.label_smoothing=1.5"}), 1,
                    "train.label_smoothing: must be in [0, 1) (got 1.5)");
  EXPECT_FAILS_WITH(train(translation(), {"--set", "model.type=lstm"}), 1,
                    "model.type: must be one of");
}

TEST_F(Errors, MissingFileNamesThePath) {
  json config = translation();
  config["data"]["valid"]["src"] = "nowhere.src";
  EXPECT_FAILS_WITH(train(config), 1,
                    "data.valid.src: no such file: " + (dir_ / "nowhere.src").string());
}

TEST_F(Errors, MalformedDataLineNamesFileAndLine) {
  json config = testing::tiny_classification_config(dir_.path());
  std::ofstream(dir_ / "dev.tsv", std::ios::app) << "positive\tfine\textra field\n";
  EXPECT_FAILS_WITH(train(config), 1, (dir_ / "dev.tsv").string() + ":302");
  // ... unless malformed lines are to be skipped.
  const ProcessResult skipped =
      train(config, {"--set", "data.skip_malformed=true", "--set", "train.max_steps=2"});
  EXPECT_EQ(skipped.status, 0) << skipped.err;
  EXPECT_NE(skipped.err.find("1 malformed line skipped"), std::string::npos) << skipped.err;
}

TEST_F(Errors, InvalidJsonGivesLineAndColumn) {
  std::ofstream(dir_ / "broken.json")
      << "{\n  \"task\": \"translation\"\n  \"run_dir\": \"x\"\n}\n";
  EXPECT_FAILS_WITH(run_heed({"train", (dir_ / "broken.json").string()}), 1,
                    (dir_ / "broken.json").string() + ":3:");
}

TEST_F(Errors, RunDirectoryRules) {
  json config = translation();
  config["train"]["max_steps"] = 4;
  config["train"]["valid_every"] = 4;
  ASSERT_EQ(train(config).status, 0);
  // Starting again over a run with checkpoints is refused...
  EXPECT_FAILS_WITH(train(config), 1, "already has checkpoints (latest: step 4); use --resume");
  // ... resuming with another model is refused, naming every change...
  EXPECT_FAILS_WITH(train(config, {"--resume", "--set", "model.d_model=32"}), 1,
                    "model.d_model: 64 -> 32");
  // ... and resuming with more steps is fine.
  const ProcessResult more = train(config, {"--resume", "--set", "train.max_steps=6"});
  EXPECT_EQ(more.status, 0) << more.err;
  EXPECT_NE(more.err.find("train.max_steps: 4 -> 6"), std::string::npos) << more.err;
  // --resume of a directory without checkpoints says so.
  EXPECT_FAILS_WITH(train(config, {"--resume", "--set", "run_dir=" + (dir_ / "new").string()}), 1,
                    "has no checkpoint to resume from");
}

TEST_F(Errors, UsageErrorsPrintTheCommandsUsage) {
  EXPECT_FAILS_WITH(run_heed({"train"}), 2, "config is required");
  EXPECT_NE(run_heed({"train"}).err.find("--resume"), std::string::npos);  // the usage
  EXPECT_FAILS_WITH(run_heed({"eval"}), 2, "model is required");
  EXPECT_FAILS_WITH(run_heed({"eval", dir_.path().string(), "--beam", "0"}), 2, "--beam");
  EXPECT_FAILS_WITH(run_heed({"frobnicate"}), 2, "frobnicate");
  EXPECT_FAILS_WITH(run_heed({"train", (dir_ / "no.json").string()}), 2, "no.json");
}

TEST_F(Errors, EveryCommandHasHelp) {
  for (const char* command : {"train", "eval", "translate", "classify"}) {
    const ProcessResult help = run_heed({command, "--help"});
    EXPECT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find("Usage"), std::string::npos) << command << ":\n" << help.out;
  }
}

TEST_F(Errors, EvaluatingSomethingThatIsNotARunFails) {
  EXPECT_FAILS_WITH(run_heed({"eval", (dir_ / "missing").string()}), 1,
                    "no such run directory or checkpoint file");
  EXPECT_FAILS_WITH(run_heed({"translate", dir_.path().string()}), 1, "no checkpoint in");
}

}  // namespace
}  // namespace heed
