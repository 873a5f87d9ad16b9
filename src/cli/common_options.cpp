// The arguments and options several commands share (commands.h).
#include "cli/commands.h"

namespace heed::cli {
namespace {

constexpr const char* kModelHelp =
    "A run directory (its best checkpoint, else the latest) or a checkpoint";

}  // namespace

void add_model_argument(CLI::App& command, std::string& model) {
  command.add_option("model", model, kModelHelp)->required();
}

void add_model_arguments(CLI::App& command, std::vector<std::string>& models,
                         const std::string& several) {
  command.add_option("model", models, std::string(kModelHelp) + "; " + several)->required();
}

void add_threads_option(CLI::App& command, int& threads) {
  command.add_option("--threads", threads, "Threads (0: all cores)")
      ->check(CLI::NonNegativeNumber);
}

void add_batch_tokens_option(CLI::App& command, std::int64_t& batch_tokens) {
  command
      .add_option("--batch-tokens", batch_tokens,
                  "Tokens per batch (default: eval.batch_tokens of the config)")
      ->check(CLI::PositiveNumber);
}

}  // namespace heed::cli
