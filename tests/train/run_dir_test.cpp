// Run directories: layout, listing and pruning checkpoints, best, and the start/resume rules.
#include "heed/train/run_dir.h"

#include <gtest/gtest.h>

#include <fstream>

#include "heed/nn/linear.h"
#include "heed/optim/sgd.h"
#include "heed/train/atomic_file.h"
#include "heed/train/checkpoint.h"
#include "heed/train/config.h"
#include "testing/gradcheck.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::TempDir;

const json kConfig = json::parse(R"({
  "model": {"type": "transformer", "d_model": 256, "layers": [2, 2], "dropout": 0.1},
  "data": {"train": "data/train.tsv", "max_tokens": 4096},
  "train": {"steps": 1000, "lr": 0.001}
})");

// A real (small) checkpoint at `step` whose saved config is `config`.
void save_at(const RunDir& run, std::int64_t step, const json& config = kConfig) {
  Rng rng(1);
  Linear model({.in_features = 2, .out_features = 2}, rng);
  Sgd optimizer(model.named_parameters(), SgdOptions{.lr = 0.1f});
  TrainingState state;
  state.counters.step = step;
  state.config = config;
  save_checkpoint(run.checkpoint_path(step), model, optimizer, state);
}

TEST(RunDir, LaysOutItsFiles) {
  const RunDir run("runs/mt");
  EXPECT_EQ(run.config_path(), std::filesystem::path("runs/mt/config.json"));
  EXPECT_EQ(run.checkpoint_path(1200),
            std::filesystem::path("runs/mt/checkpoints/step_1200.safetensors"));
  EXPECT_EQ(run.best_checkpoint_path(),
            std::filesystem::path("runs/mt/checkpoints/best.safetensors"));
  EXPECT_EQ(run.metrics_path(), std::filesystem::path("runs/mt/metrics.jsonl"));
  EXPECT_EQ(run.tokenizer_dir(), std::filesystem::path("runs/mt/tokenizer"));
  EXPECT_EQ(run.attention_dir(), std::filesystem::path("runs/mt/attention"));
  EXPECT_EQ(run.log_path(), std::filesystem::path("runs/mt/log.txt"));
  EXPECT_THROW_MSG(run.checkpoint_path(-1), "checkpoint step must be >= 0 (got -1)");
}

TEST(RunDir, ListsCheckpointsByStepIgnoringOtherFiles) {
  TempDir dir;
  const RunDir run(dir / "run");
  EXPECT_TRUE(run.checkpoints().empty());  // no directory yet
  run.create_directories();
  EXPECT_TRUE(std::filesystem::is_directory(run.tokenizer_dir()));
  EXPECT_TRUE(std::filesystem::is_directory(run.attention_dir()));
  for (const char* name :
       {"step_900.safetensors", "step_1200.safetensors", "step_100.safetensors", "best.safetensors",
        "step_1300.safetensors.tmp", "step_x.safetensors", "step_.safetensors", "notes.txt"}) {
    write_file_atomically(run.checkpoints_dir() / name, "x");
  }
  const std::vector<CheckpointFile> found = run.checkpoints();
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].step, 100);
  EXPECT_EQ(found[1].step, 900);
  EXPECT_EQ(found[2].step, 1200);
  EXPECT_EQ(found[2].path, run.checkpoint_path(1200));
  EXPECT_EQ(run.latest_checkpoint()->step, 1200);
}

TEST(RunDir, RemovesLeftoverTemporaries) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  write_file_atomically(run.checkpoint_path(5), "x");
  write_file_atomically(run.checkpoints_dir() / "step_10.safetensors.tmp", "partial");
  write_file_atomically(run.root() / "config.json.tmp", "partial");
  EXPECT_EQ(run.remove_temporaries(), 2);
  EXPECT_FALSE(std::filesystem::exists(run.checkpoints_dir() / "step_10.safetensors.tmp"));
  EXPECT_TRUE(std::filesystem::exists(run.checkpoint_path(5)));
  EXPECT_EQ(run.remove_temporaries(), 0);
}

TEST(RunDir, PrunesAllButTheLastK) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  for (int step : {100, 200, 300, 400, 500}) write_file_atomically(run.checkpoint_path(step), "x");
  write_file_atomically(run.best_checkpoint_path(), "best");
  const auto deleted = run.prune_checkpoints(2);
  EXPECT_EQ(deleted,
            (std::vector<std::filesystem::path>{run.checkpoint_path(100), run.checkpoint_path(200),
                                                run.checkpoint_path(300)}));
  const auto kept = run.checkpoints();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].step, 400);
  EXPECT_EQ(kept[1].step, 500);
  EXPECT_TRUE(std::filesystem::exists(run.best_checkpoint_path()));
  EXPECT_TRUE(run.prune_checkpoints(2).empty());
  EXPECT_THROW_MSG(run.prune_checkpoints(0), "keep_last must be >= 1 (got 0)");
}

TEST(RunDir, BestSurvivesPruningOfItsStep) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  save_at(run, 100);
  save_at(run, 200);
  run.mark_best(100);
  EXPECT_EQ(read_file(run.best_checkpoint_path()), read_file(run.checkpoint_path(100)));
  run.prune_checkpoints(1);  // deletes step_100, which best was made from
  EXPECT_FALSE(std::filesystem::exists(run.checkpoint_path(100)));
  EXPECT_EQ(read_checkpoint_info(run.best_checkpoint_path()).state.counters.step, 100);
  run.mark_best(200);  // replaces it
  EXPECT_EQ(read_checkpoint_info(run.best_checkpoint_path()).state.counters.step, 200);
  EXPECT_FALSE(std::filesystem::exists(temporary_path_for(run.best_checkpoint_path())));
  EXPECT_THROW_MSG(run.mark_best(300), "cannot mark step 300 as best");
}

TEST(RunDir, ConfigRoundTrips) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  run.write_config(kConfig);
  EXPECT_EQ(run.read_config(), kConfig);
  write_file_atomically(run.config_path(), "{oops");
  EXPECT_THROW_MSG(run.read_config(), run.config_path().string() + ": invalid JSON");
}

// ---- starting and resuming

TEST(StartRun, FreshRunCreatesTheLayoutAndWritesTheConfig) {
  TempDir dir;
  const RunDir run(dir / "new_run");
  const RunStart start = start_run(run, kConfig, /*resume=*/false);
  EXPECT_FALSE(start.resume_from.has_value());
  EXPECT_TRUE(start.notes.empty());
  EXPECT_TRUE(std::filesystem::is_directory(run.checkpoints_dir()));
  EXPECT_EQ(run.read_config(), kConfig);
}

TEST(StartRun, RefusesToStartOverExistingCheckpoints) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  save_at(run, 1000);
  save_at(run, 1200);
  EXPECT_THROW_MSG(start_run(run, kConfig, false),
                   "run directory " + run.root().string() +
                       " already has checkpoints (latest: step 1200); use --resume to continue "
                       "it, or choose another run directory / delete it");
}

TEST(StartRun, ResumeNeedsACheckpoint) {
  TempDir dir;
  const RunDir run(dir / "run");
  EXPECT_THROW_MSG(start_run(run, kConfig, true),
                   "run directory " + run.root().string() + " has no checkpoint to resume from");
}

TEST(StartRun, ResumesFromTheLatestCheckpointAndCleansTemporaries) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  save_at(run, 1000);
  save_at(run, 1200);
  write_file_atomically(run.checkpoints_dir() / "step_1400.safetensors.tmp", "killed mid-save");
  const RunStart start = start_run(run, kConfig, true);
  ASSERT_TRUE(start.resume_from.has_value());
  EXPECT_EQ(start.resume_from->step, 1200);
  EXPECT_EQ(start.resume_from->path, run.checkpoint_path(1200));
  EXPECT_TRUE(start.notes.empty());
  EXPECT_FALSE(std::filesystem::exists(run.checkpoints_dir() / "step_1400.safetensors.tmp"));
}

TEST(StartRun, ResumeWithChangedModelOrDataListsEveryChange) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  run.write_config(kConfig);
  save_at(run, 1200);
  json changed = kConfig;
  changed["model"]["d_model"] = 512;
  changed["model"]["layers"][1] = 3;
  changed["model"].erase("dropout");
  changed["data"]["max_tokens"] = 2048;
  try {
    start_run(run, changed, true);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("cannot resume run directory " + run.root().string() +
                           ": the model or data configuration differs from the one of its "
                           "checkpoint at step 1200:"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("\n  model.d_model: 256 -> 512"), std::string::npos) << message;
    EXPECT_NE(message.find("\n  model.layers[1]: 2 -> 3"), std::string::npos) << message;
    EXPECT_NE(message.find("\n  model.dropout: 0.1 -> (absent)"), std::string::npos) << message;
    EXPECT_NE(message.find("\n  data.max_tokens: 4096 -> 2048"), std::string::npos) << message;
    EXPECT_EQ(message.find("train."), std::string::npos) << message;
  }
  // The config on disk is still the original one.
  EXPECT_EQ(run.read_config(), kConfig);
}

TEST(StartRun, ResumeAllowsTrainChangesWithANote) {
  TempDir dir;
  const RunDir run(dir / "run");
  start_run(run, kConfig, false);
  save_at(run, 1200);
  json changed = kConfig;
  changed["train"]["steps"] = 2000;
  changed["eval"] = {{"beam", 4}};
  const RunStart start = start_run(run, changed, true);
  EXPECT_EQ(start.notes, (std::vector<std::string>{
                             "config changed since the checkpoint at step 1200: eval: (absent) "
                             "-> {\"beam\":4}",
                             "config changed since the checkpoint at step 1200: train.steps: "
                             "1000 -> 2000"}));
  EXPECT_EQ(run.read_config(), changed);  // the new resolved config is the run's config now
}

TEST(StartRun, KeysAddedSinceTheCheckpointTakeTheirDefaults) {
  TempDir dir;
  const json resolved =
      load_config(testing::write_config(dir.path(), testing::tiny_classification_config(dir.path())),
                  {})
          .resolved;
  ASSERT_TRUE(resolved["model"].contains("embedding_dropout"));
  json older = resolved;  // written before model.embedding_dropout existed
  older["model"].erase("embedding_dropout");
  const RunDir run(dir / "run");
  run.create_directories();
  save_at(run, 100, older);
  EXPECT_TRUE(start_run(run, resolved, true).notes.empty());
  // A real change is still refused.
  json changed = resolved;
  changed["model"]["hidden"] = 64;
  EXPECT_THROW_MSG(start_run(run, changed, true), "model.hidden: 32 -> 64");
}

TEST(StartRun, CorruptLatestCheckpointSuggestsThePreviousOne) {
  TempDir dir;
  const RunDir run(dir / "run");
  run.create_directories();
  save_at(run, 1000);
  save_at(run, 1200);
  const std::string whole = read_file(run.checkpoint_path(1200));
  write_file_atomically(run.checkpoint_path(1200), whole.substr(0, 20));
  EXPECT_THROW_MSG(start_run(run, kConfig, true),
                   "delete it to resume from the previous checkpoint (step 1000)");
}

TEST(JsonDifferences, ListsKeyPathsSorted) {
  const json a = json::parse(R"({"b": 1, "a": {"x": [1, 2], "y": "s"}, "c": [1]})");
  const json b = json::parse(R"({"b": 1.0, "a": {"x": [1, 5], "z": true}, "c": [1, 2]})");
  EXPECT_EQ(json_differences(a, b),
            (std::vector<std::string>{"a.x[1]: 2 -> 5", "a.y: \"s\" -> (absent)",
                                      "a.z: (absent) -> true", "c: [1] -> [1,2]"}));
  EXPECT_TRUE(json_differences(a, a).empty());
  EXPECT_EQ(json_differences(json(1), json("1"), "model.n"),
            (std::vector<std::string>{"model.n: 1 -> \"1\""}));
  const std::string long_text(100, 'x');
  EXPECT_EQ(json_differences(json(long_text), json(1), "k")[0],
            "k: \"" + std::string(56, 'x') + "... -> 1");
}

}  // namespace
}  // namespace heed
