// heed average RUN_DIR [--last N] [--out FILE]
// heed average CHECKPOINT CHECKPOINT ... --out FILE
//
// Checkpoint averaging: the element-wise mean of the model parameters of the run's last N
// step_<N> checkpoints (or of the checkpoints given), written as one checkpoint for heed eval,
// translate, classify and attention. Averaging the last few checkpoints of a run usually gives a
// model better than any of them (Vaswani et al. 2017 average the last 5 or 20). The default output
// is RUN_DIR/checkpoints/average_last_<N>.safetensors; the run keeps `train.keep_checkpoints` of
// them, so N cannot exceed that.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/train/checkpoint.h"
#include "heed/train/run_dir.h"
#include "heed/util/check.h"

namespace heed::cli {

namespace {

namespace fs = std::filesystem;

struct AverageArgs {
  std::vector<std::string> inputs;
  int last = 5;
  std::string out;
};

void run_average(const AverageArgs& args) {
  std::vector<fs::path> checkpoints;
  fs::path out(args.out);
  if (args.inputs.size() == 1 && fs::is_directory(args.inputs[0])) {
    const RunDir run(args.inputs[0]);
    const std::vector<CheckpointFile> all = run.checkpoints();
    CHECK(!all.empty(), "average: ", run.checkpoints_dir(), " has no step_<N>.safetensors");
    CHECK(static_cast<int>(all.size()) >= args.last, "average: --last ", args.last, " but ",
          run.checkpoints_dir(), " has ", all.size(),
          " step checkpoints (train.keep_checkpoints sets how many a run keeps)");
    for (std::size_t i = all.size() - args.last; i < all.size(); ++i) {
      checkpoints.push_back(all[i].path);
    }
    if (out.empty()) out = run.checkpoints_dir() / ("average_last_" + std::to_string(args.last) +
                                                   ".safetensors");
  } else {
    for (const std::string& input : args.inputs) {
      CHECK(fs::is_regular_file(input), "average: ", input, " is not a checkpoint file",
            fs::is_directory(input) ? " (give one run directory, or checkpoint files)" : "");
      checkpoints.emplace_back(input);
    }
    CHECK(!out.empty(), "average: give --out FILE when averaging checkpoint files");
  }
  average_checkpoints(checkpoints, out);
  std::cerr << "averaged " << checkpoints.size() << " checkpoints:";
  for (const fs::path& c : checkpoints) std::cerr << " " << c.filename().string();
  std::cerr << "\n";
  std::cout << out.string() << "\n";
}

}  // namespace

void add_average_command(CLI::App& app) {
  auto args = std::make_shared<AverageArgs>();
  CLI::App* command = app.add_subcommand(
      "average", "Average the parameters of a run's last checkpoints into one checkpoint");
  command->add_option("inputs", args->inputs, "A run directory, or checkpoint files")
      ->required();
  command->add_option("--last", args->last, "How many of the run's newest checkpoints (default 5)")
      ->check(CLI::Range(1, 1000));
  command->add_option("--out", args->out,
                      "Output checkpoint (default: RUN_DIR/checkpoints/average_last_N.safetensors)");
  command->callback([args] { run_average(*args); });
}

}  // namespace heed::cli
