// heed train CONFIG.json [--set key.path=value ...] [--resume] [--threads N]
//
// Trains the configuration in its run directory (see heed/train/trainer.h and docs/config.md).
// Progress and the log go to stderr (and RUN_DIR/log.txt); when training ends, one summary line
// goes to stdout. Stopped by SIGINT/SIGTERM, it saves a checkpoint and exits with 128 + signal.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/train/trainer.h"

namespace heed::cli {

namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
  int threads = -1;
};

void run_train(const TrainArgs& args) {
  std::vector<std::string> overrides = args.overrides;
  if (args.threads >= 0) overrides.push_back("train.threads=" + std::to_string(args.threads));
  const LoadedConfig loaded = load_config(args.config, overrides);
  const TrainResult result = train(loaded, {.resume = args.resume});
  std::cout << "run " << result.run_dir.string() << ": step " << result.step;
  if (result.best_score) {
    std::cout << ", best " << loaded.config.train.early_stopping.metric << " " << *result.best_score
              << " at step " << result.best_step;
  }
  std::cout << (result.outcome == TrainOutcome::kEarlyStopped ? " (stopped early)"
                : result.outcome == TrainOutcome::kInterrupted
                    ? " (interrupted; --resume continues)"
                    : "")
            << std::endl;
  if (result.outcome == TrainOutcome::kInterrupted) throw CLI::RuntimeError(128 + result.signal);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* command =
      app.add_subcommand("train", "Train a model from a JSON config (every key: docs/config.md)");
  command->add_option("config", args->config, "The configuration file (JSON, comments allowed)")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--set", args->overrides,
                   "Override a config key, e.g. --set train.max_steps=500 (repeatable; the value "
                   "is JSON if it parses, else a string)")
      ->type_name("KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_flag("--resume", args->resume,
                    "Continue the run directory from its latest checkpoint (exactly)");
  command
      ->add_option("--threads", args->threads,
                   "Threads (same as --set train.threads=N; 0: all cores)")
      ->check(CLI::NonNegativeNumber);
  command->callback([args] { run_train(*args); });
}

}  // namespace heed::cli
