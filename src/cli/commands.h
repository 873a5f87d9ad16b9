// The heed subcommands. Each lives in its own file and adds itself to the app; a command that
// ends with a status other than 0 without an error (training stopped by a signal) throws
// CLI::RuntimeError(status), which main turns into the exit status without a message.
#pragma once

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

}  // namespace heed::cli
