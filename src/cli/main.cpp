// heed: the command-line program. Each subcommand lives in its own file under src/cli/ and adds
// itself to the app; main catches every heed::Error, prints it and exits non-zero.
//
// Exit status: 0 success; 1 an error (heed: error: ...); 2 wrong usage (the message, then the
// command's usage); 3 an internal error; 128 + N training stopped by signal N (checkpoint saved).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "heed/util/check.h"

int main(int argc, char** argv) {
  CLI::App app{
      "heed: train and use attention models (Transformer, RNN + attention, classifiers) on the CPU",
      "heed"};
  app.set_version_flag("--version", std::string("heed ") + HEED_VERSION);
  app.require_subcommand(0, 1);
  // Wrong usage: the message, then the usage of the command that was given.
  app.failure_message([](const CLI::App* root, const CLI::Error& e) {
    const CLI::App* command = root;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    return "heed: error: " + std::string(e.what()) + "\n\n" + command->help();
  });
  heed::cli::add_train_command(app);
  heed::cli::add_eval_command(app);
  heed::cli::add_translate_command(app);
  heed::cli::add_classify_command(app);
  heed::cli::add_attention_command(app);
  heed::cli::add_plot_command(app);
  heed::cli::add_average_command(app);
  heed::cli::add_bench_command(app);
  try {
    app.parse(argc, argv);  // runs the chosen subcommand's callback
    if (app.get_subcommands().empty()) std::cout << app.help();
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == static_cast<int>(CLI::ExitCodes::Success) || e.get_name() == "RuntimeError"
               ? status
               : 2;
  } catch (const heed::Error& e) {
    std::cerr << "heed: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "heed: internal error: " << e.what() << "\n";
    return 3;
  }
  return 0;
}
