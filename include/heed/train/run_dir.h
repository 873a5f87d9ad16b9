// The run directory: where one training run keeps everything it writes.
//
//   RUN_DIR/
//     config.json                      the resolved configuration (after --set overrides)
//     checkpoints/step_<N>.safetensors the last K checkpoints (older ones deleted after a save)
//     checkpoints/best.safetensors     the best one so far (a hard link, or a copy)
//     metrics.jsonl                    one JSON object per line (metrics_log.h)
//     tokenizer/*.model                SentencePiece models
//     attention/                       attention maps
//     log.txt                          the run's log
//
// start_run() enforces the rules of starting and resuming:
//   - a directory that already has checkpoints is only continued with --resume; starting there
//     anew is an error saying what to do (nothing is overwritten by accident);
//   - --resume continues from the latest step_<N> checkpoint, and only with the same "model" and
//     "data" configuration as that checkpoint's: a change is an error listing every changed key
//     ("model.d_model: 256 -> 512"). Other sections ("train": more steps, another lr...) may
//     change; the changes come back as notes for the log.
// Leftover "*.tmp" files (a save interrupted by a kill, see atomic_file.h) are deleted then.
//
// A trainer's use of the pieces of train/:
//   RunDir run(run_dir);
//   RunStart start = start_run(run, resolved_config, resume);
//   for (const std::string& note : start.notes) log(note);
//   MetricsLog metrics = start.resume_from
//                            ? MetricsLog::resume(run.metrics_path(), start.resume_from->step)
//                            : MetricsLog::start(run.metrics_path());
//   if (start.resume_from) state = load_checkpoint(start.resume_from->path, model, optimizer);
//   ... every N steps:
//   save_checkpoint(run.checkpoint_path(step), model, optimizer, state);
//   if (improved) run.mark_best(step);
//   run.prune_checkpoints(keep_last);
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace heed {

struct CheckpointFile {
  std::int64_t step = 0;
  std::filesystem::path path;
};

class RunDir {
 public:
  explicit RunDir(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config_path() const { return root_ / "config.json"; }
  std::filesystem::path checkpoints_dir() const { return root_ / "checkpoints"; }
  // checkpoints/step_<step>.safetensors
  std::filesystem::path checkpoint_path(std::int64_t step) const;
  std::filesystem::path best_checkpoint_path() const;
  std::filesystem::path metrics_path() const { return root_ / "metrics.jsonl"; }
  std::filesystem::path tokenizer_dir() const { return root_ / "tokenizer"; }
  std::filesystem::path attention_dir() const { return root_ / "attention"; }
  std::filesystem::path log_path() const { return root_ / "log.txt"; }

  // Creates the root and its checkpoints/, tokenizer/ and attention/ directories.
  void create_directories() const;

  // The step_<N>.safetensors files, by increasing step (best.safetensors and *.tmp excluded).
  std::vector<CheckpointFile> checkpoints() const;
  std::optional<CheckpointFile> latest_checkpoint() const;

  // Deletes leftover "*.tmp" files in the root and checkpoints/; returns how many.
  int remove_temporaries() const;

  // Keeps the `keep_last` (>= 1) newest step_<N> checkpoints and deletes the older ones; call it
  // after a successful save. best.safetensors is a separate file and is kept. Returns the
  // deleted paths.
  std::vector<std::filesystem::path> prune_checkpoints(int keep_last) const;

  // Makes best.safetensors the checkpoint of `step` (which must exist): a hard link where the
  // file system allows it, else a copy; replaced atomically either way.
  void mark_best(std::int64_t step) const;

  // config.json, written atomically (pretty-printed, keys sorted) / read back.
  void write_config(const nlohmann::json& resolved_config) const;
  nlohmann::json read_config() const;

 private:
  std::filesystem::path root_;
};

// What start_run() decided.
struct RunStart {
  std::optional<CheckpointFile> resume_from;  // set when resuming
  std::vector<std::string> notes;             // allowed config changes on resume, for the log
};

// Prepares `run` for training with `resolved_config` (creates directories, removes *.tmp,
// writes config.json) after checking the rules above. With `resume`, the latest checkpoint's
// header is read to compare configurations; the trainer then loads it (load_checkpoint).
RunStart start_run(const RunDir& run, const nlohmann::json& resolved_config, bool resume);

// Every difference between two JSON values as "<key path>: <before> -> <after>", keys sorted,
// recursing into objects and into arrays of equal length ("model.layers[1]: ..."); a key that
// exists on one side only shows "(absent)" on the other. `path` is the key path of the values
// ("" for whole documents). Long values are cut to 60 characters.
std::vector<std::string> json_differences(const nlohmann::json& before, const nlohmann::json& after,
                                          const std::string& path = "");

}  // namespace heed
