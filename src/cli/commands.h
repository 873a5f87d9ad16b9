// The heed subcommands. Each lives in its own file and adds itself to the app.
#pragma once

#include <CLI/CLI.hpp>

namespace heed::cli {

void add_bench_command(CLI::App& app);

}  // namespace heed::cli
