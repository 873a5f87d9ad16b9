// heed translate RUN_DIR|CHECKPOINT [--beam N] [--alignment]
//
// Translates standard input to standard output, one line per line, in order. Lines are read in
// chunks and decoded in batches of similar length (one at a time from a terminal).
//
// --alignment appends the hard word alignment as Marian does: "translation ||| 0-0 1-2 2-1",
// source-target word index pairs from 0 (viz/alignment.h, docs/attention.md).
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/stdin_chunks.h"
#include "heed/train/inference.h"
#include "heed/util/parallel.h"

namespace heed::cli {

namespace {

struct TranslateArgs {
  std::string model;
  int beam = 0;
  int threads = 0;
  std::int64_t batch_tokens = 0;
  bool alignment = false;
};

void run_translate(const TranslateArgs& args) {
  set_num_threads(args.threads);
  const RunLocation location = locate_run(args.model);
  LoadedTranslator loaded = load_translator(location);
  const EvalConfig& eval = location.config.eval;
  const TranslateOptions options{
      .decode = {.beam_size = args.beam > 0 ? args.beam : eval.beam,
                 .length_penalty = static_cast<float>(eval.length_penalty),
                 .max_len_a = static_cast<float>(eval.max_len_a),
                 .max_len_b = eval.max_len_b,
                 .max_len = eval.max_len},
      .batch_tokens = args.batch_tokens > 0 ? args.batch_tokens : eval.batch_tokens,
      .max_source_length = eval.max_len};
  std::ios::sync_with_stdio(false);
  for (std::vector<std::string> lines = read_stdin_chunk(); !lines.empty();
       lines = read_stdin_chunk()) {
    if (args.alignment) {
      for (const Translator::Aligned& t : loaded.translator->translate_aligned(lines, options)) {
        std::cout << t.text << " ||| " << t.alignment << '\n';
      }
    } else {
      for (const std::string& translation : loaded.translator->translate(lines, options)) {
        std::cout << translation << '\n';
      }
    }
    std::cout.flush();
  }
}

}  // namespace

void add_translate_command(CLI::App& app) {
  auto args = std::make_shared<TranslateArgs>();
  CLI::App* command =
      app.add_subcommand("translate", "Translate lines from stdin to stdout with a trained model");
  add_model_argument(*command, args->model);
  command->add_option("--beam", args->beam, "Beam size (default: eval.beam of the config)")
      ->check(CLI::Range(1, 256));
  add_threads_option(*command, args->threads);
  add_batch_tokens_option(*command, args->batch_tokens);
  command->add_flag(
      "--alignment", args->alignment,
      "Append \" ||| \" and the hard word alignment (Marian's i-j source-target pairs)");
  command->callback([args] { run_translate(*args); });
}

}  // namespace heed::cli
