// Checkpoints: everything a run needs to continue exactly where it stopped, in ONE safetensors
// file that Python can open too.
//
// Tensors:
//   model.<parameter>            F32  every parameter, by its dotted name (named_parameters())
//   optim.<parameter>.<buffer>   F32  optimizer state (OptimizerState: exp_avg, exp_avg_sq,
//                                     momentum_buffer)
// Metadata (safetensors metadata values are strings; structured ones hold compact JSON):
//   format           "heed-checkpoint-1"
//   heed_version     the writer's version, e.g. "0.1.0"
//   counters         {"step", "epoch", "tokens_seen", "elapsed_seconds"}
//   optimizer        {"name": "adam", "step": 1200}
//   lr_scheduler     {"step": 1200}
//   data             {"epoch", "position", "rng": {"seed", "counter"}}    (BatcherState)
//   rngs             {"dropout": {"seed", "counter"}, ...}                 (every other Rng)
//   early_stopping   {"best_score": 27.3 or null, "best_step", "evals_without_improvement"}
//   trainer          the training loop's own running values (e.g. the loss sums of the current
//                    log window), opaque here; optional when reading ({} if absent)
//   config           the resolved configuration
//   config_hash      its fingerprint, as the caller computed it
//   checksum         "crc32:<8 hex digits>"
// The checksum is a CRC-32 of the data section followed by every other metadata entry (key, NUL,
// value, NUL, in key order), so a flipped bit in the weights or in the step count is caught alike:
// "checkpoint <path> is corrupt: checksum mismatch".
//
// Files are written atomically (atomic_file.h): a run killed while saving leaves the previous
// checkpoint intact and a stray "<path>.tmp", which is never read. A truncated or damaged file is
// reported with its path.
//
// Loading checks everything before changing anything: every model parameter must be present with
// its shape (errors name the parameter and both shapes), no tensor may be left over, and the
// optimizer must be of the same kind; then parameters are copied in place (copy_from_, which keeps
// the optimizer's flat buffers valid) and the optimizer state is restored. Values are restored
// bit for bit.
//
//   TrainingState state;                       // filled by the trainer as it goes
//   state.counters.step = 1200;  state.lr_scheduler = scheduler.state();
//   state.data = batcher.state();  state.rngs["dropout"] = dropout_rng.state();
//   save_checkpoint(run.checkpoint_path(1200), model, optimizer, state);
//   ...
//   TrainingState resumed = load_checkpoint(path, model, optimizer);
//   scheduler.load_state(resumed.lr_scheduler);  batcher.set_state(resumed.data);  ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "heed/data/batcher.h"
#include "heed/nn/module.h"
#include "heed/optim/lr_schedule.h"
#include "heed/optim/optimizer.h"
#include "heed/tensor/rng.h"

namespace heed {

// What the training loop has counted so far, over all sessions of the run.
struct TrainingCounters {
  std::int64_t step = 0;         // optimizer updates done
  std::int64_t epoch = 0;        // epochs started (0-based index of the current one)
  std::int64_t tokens_seen = 0;  // training tokens consumed
  double elapsed_seconds = 0;    // training wall time, resumed sessions added up
};

// Early stopping on a validation score (higher or lower is better per the config).
struct EarlyStoppingState {
  std::optional<double> best_score;  // none before the first evaluation
  std::int64_t best_step = 0;        // step of the best evaluation
  std::int64_t evals_without_improvement = 0;
};

// Everything of a run's state that is not a tensor. The optimizer's step and buffers travel
// separately (they are restored into the optimizer itself).
struct TrainingState {
  TrainingCounters counters;
  LrSchedulerState lr_scheduler;
  BatcherState data;                       // the training batcher's position
  std::map<std::string, Rng::State> rngs;  // every other generator, by role ("dropout", ...)
  EarlyStoppingState early_stopping;
  // Values the training loop accumulates between log lines, so that a resumed run logs exactly
  // what an uninterrupted one would (a JSON object the trainer defines).
  nlohmann::json trainer = nlohmann::json::object();
  nlohmann::json config = nlohmann::json::object();  // the resolved configuration
  std::string config_hash;
};

// A checkpoint's header, read without its tensors.
struct CheckpointInfo {
  TrainingState state;
  std::string heed_version;    // of the writer
  std::string optimizer_name;  // "adam", "sgd", ...
  std::int64_t optimizer_step = 0;
  std::int64_t parameter_count = 0;  // model tensors
};

// Writes model parameters, optimizer state and `state` to `path` atomically.
void save_checkpoint(const std::filesystem::path& path, const Module& model,
                     const Optimizer& optimizer, const TrainingState& state);

// Restores `model` and `optimizer` from `path` (bit for bit) and returns the rest of the state.
// Throws, changing nothing, if the file is corrupt or does not fit the model or the optimizer.
TrainingState load_checkpoint(const std::filesystem::path& path, Module& model,
                              Optimizer& optimizer);

// Restores only the model's parameters (for evaluation and decoding); the checksum is verified.
// Optimizer tensors in the file are ignored.
TrainingState load_model_weights(const std::filesystem::path& path, Module& model);

// Checkpoint averaging (Vaswani et al. 2017; fairseq's average_checkpoints.py): writes to
// `output` a checkpoint whose model parameters are the element-wise means of those of `inputs`,
// all of one run (same config_hash and parameters; errors name the file and the tensor). It holds
// no optimizer state, records the inputs' steps as metadata "averaged_from" (a JSON list), takes
// the newest input's counters, and is for evaluation and decoding: load_model_weights reads it,
// load_checkpoint refuses it.
void average_checkpoints(const std::vector<std::filesystem::path>& inputs,
                         const std::filesystem::path& output);

// Reads the metadata only (no tensors, no checksum): fast, for resume checks and listings.
CheckpointInfo read_checkpoint_info(const std::filesystem::path& path);

// ---- typed metadata values (the JSON in the file), exposed for tests and tools

nlohmann::json to_json(const TrainingCounters& counters);
nlohmann::json to_json(const EarlyStoppingState& state);
nlohmann::json to_json(const BatcherState& state);
nlohmann::json to_json(const Rng::State& state);

// Each parser requires exactly its keys with the right types; `where` prefixes errors, e.g.
// `checkpoint run/checkpoints/step_100.safetensors: metadata "counters": missing key "step"`.
TrainingCounters training_counters_from_json(const nlohmann::json& j, const std::string& where);
EarlyStoppingState early_stopping_from_json(const nlohmann::json& j, const std::string& where);
BatcherState batcher_state_from_json(const nlohmann::json& j, const std::string& where);
Rng::State rng_state_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace heed
