// heed: the command-line program. Each subcommand lives in its own file under src/cli/ and
// registers itself here; main catches every heed::Error, prints it and exits non-zero.
#include <CLI/CLI.hpp>

#include <iostream>

#include "heed/util/check.h"

int main(int argc, char** argv) {
  CLI::App app{"heed: train and inspect attention models (Transformer, RNN + attention) on the CPU"};
  app.set_version_flag("--version", std::string("heed ") + HEED_VERSION);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (app.get_subcommands().empty()) {
      std::cout << app.help();
      return 0;
    }
  } catch (const heed::Error& e) {
    std::cerr << "heed: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "heed: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
