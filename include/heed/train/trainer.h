// The training loop: `heed train CONFIG.json [--set key=value ...] [--resume]`.
//
// One loop for every task (task.h supplies the model, the batches and the validation):
//
//   for each step:  lr = schedule(step); loss = task.forward_backward(); clip; optimizer.step()
//     every log_every steps:         a "train" line in metrics.jsonl (averages over the window)
//     every valid_every steps:       validation; a "valid" line; best checkpoint; early stopping
//     every checkpoint_every steps:  a checkpoint (the last keep_checkpoints are kept)
//   valid_every 0: no validation; every training example trains and each checkpoint is the best
//   SIGINT/SIGTERM: a checkpoint after the current step, then return (kInterrupted)
//
// Exact resume: a checkpoint holds everything later steps depend on — parameters, optimizer
// moments and step, the schedule's step, the batcher's position and shuffle state, the model's
// random streams, the early-stopping state and the running sums of the current log window — so
// a run resumed from any checkpoint (even after kill -9) logs exactly the losses of an
// uninterrupted run with the same thread count. The same config twice gives the same losses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "heed/train/config.h"

namespace heed {

struct TrainOptions {
  bool resume = false;
  std::ostream* progress = nullptr;  // status line and log messages; nullptr: stderr
};

enum class TrainOutcome {
  kFinished,      // max_steps / max_epochs / max_minutes reached
  kEarlyStopped,  // patience exhausted
  kInterrupted,   // SIGINT or SIGTERM: checkpoint saved, resume with --resume
};

struct TrainResult {
  TrainOutcome outcome = TrainOutcome::kFinished;
  std::int64_t step = 0;             // steps done, over all sessions
  int signal = 0;                    // kInterrupted: the signal
  std::optional<double> best_score;  // of the early-stopping metric
  std::int64_t best_step = 0;
  std::filesystem::path run_dir;
};

// Trains `loaded` (from load_config) in its run directory.
TrainResult train(const LoadedConfig& loaded, const TrainOptions& options = {});

}  // namespace heed
