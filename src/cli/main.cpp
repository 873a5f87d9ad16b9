// heed: the command-line program. Each subcommand lives in its own file under src/cli/ and adds
// itself to the app; main catches every heed::Error, prints it and exits non-zero.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "heed/util/check.h"

int main(int argc, char** argv) {
  CLI::App app{"heed: train and inspect attention models (Transformer, RNN + attention) on the CPU"};
  app.set_version_flag("--version", std::string("heed ") + HEED_VERSION);
  app.require_subcommand(0, 1);
  heed::cli::add_attention_command(app);
  heed::cli::add_plot_command(app);
  heed::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
    if (app.get_subcommands().empty()) std::cout << app.help();
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const heed::Error& e) {
    std::cerr << "heed: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "heed: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
