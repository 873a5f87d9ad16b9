// The heed subcommands. Each lives in its own file and adds itself to the app; a command that
// ends with a status other than 0 without an error (training stopped by a signal) throws
// CLI::RuntimeError(status), which main turns into the exit status without a message.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace heed::cli {

void add_bench_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_translate_command(CLI::App& app);
void add_classify_command(CLI::App& app);
void add_attention_command(CLI::App& app);  // attention.cpp
void add_plot_command(CLI::App& app);       // plot.cpp
void add_average_command(CLI::App& app);    // average.cpp
// Subcommands of `heed bench` (bench_train.cpp).
void add_bench_train_command(CLI::App& bench);

// Arguments and options several commands share, so that they are spelled, explained and checked
// alike (common_options.cpp).
//   MODEL           a run directory (its best checkpoint, else the latest) or a checkpoint
//   MODEL...        several; `several` says what the command makes of them
//   --threads N     0: all cores
//   --batch-tokens  > 0; 0 (not given): the config's eval.batch_tokens
void add_model_argument(CLI::App& command, std::string& model);
void add_model_arguments(CLI::App& command, std::vector<std::string>& models,
                         const std::string& several);
void add_threads_option(CLI::App& command, int& threads);
void add_batch_tokens_option(CLI::App& command, std::int64_t& batch_tokens);

}  // namespace heed::cli
