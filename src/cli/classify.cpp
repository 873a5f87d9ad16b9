// heed classify RUN_DIR|CHECKPOINT...
//
// Classifies each line of standard input (a text, or for the hierarchical model a whole
// document) and writes "label<TAB>probability" per line to standard output, in order. Several
// models classify as their ensemble (class probabilities averaged).
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/stdin_chunks.h"
#include "heed/train/inference.h"
#include "heed/util/parallel.h"

namespace heed::cli {

namespace {

struct ClassifyArgs {
  std::vector<std::string> models;
  int threads = 0;
  std::int64_t batch_tokens = 0;
};

void run_classify(const ClassifyArgs& args) {
  set_num_threads(args.threads);
  std::vector<LoadedClassifier> loaded;
  std::vector<const TextClassifier*> members;
  for (const std::string& model : args.models) {
    loaded.push_back(load_classifier(locate_run(model)));
    members.push_back(loaded.back().classifier.get());
  }
  const ClassifierEnsemble ensemble(members);
  const std::int64_t batch_tokens =
      args.batch_tokens > 0 ? args.batch_tokens : loaded.front().location.config.eval.batch_tokens;
  const std::vector<std::string>& labels = ensemble.labels();
  std::ios::sync_with_stdio(false);
  char probability[32];
  for (std::vector<std::string> lines = read_stdin_chunk(); !lines.empty();
       lines = read_stdin_chunk()) {
    for (const Prediction& p : ensemble.predict(lines, batch_tokens)) {
      std::snprintf(probability, sizeof(probability), "%.4f", p.probability);
      std::cout << labels[p.label] << '\t' << probability << '\n';
    }
    std::cout.flush();
  }
}

}  // namespace

void add_classify_command(CLI::App& app) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* command = app.add_subcommand(
      "classify", "Classify lines from stdin with a trained model: label<TAB>probability");
  add_model_arguments(*command, args->models, "several: their ensemble (mean class probabilities)");
  add_threads_option(*command, args->threads);
  add_batch_tokens_option(*command, args->batch_tokens);
  command->callback([args] { run_classify(*args); });
}

}  // namespace heed::cli
