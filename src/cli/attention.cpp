// heed attention RUN_DIR|CHECKPOINT (--text TEXT ... | --input FILE) [--out FILE.html|FILE.svg]
//                [--pieces | --words] [--hide-special] [--beam N]
//                [--map NAME] [--layer L] [--head H] [--stretch]
//
// Runs a trained model on the given inputs and shows what it attends to (viz/model_attention.h):
// translation — decodes each source (greedy, or --beam N) and re-runs the model teacher-forced
// on its own output to get every attention map; classification — the pooling / hierarchical /
// self-attention weights and the predicted class.
//
// Output: an interactive HTML page of every input (default RUN_DIR/attention/attention.html), or
// with FILE.svg one picture of the first input: a heatmap (--map: "cross" by default, "encoder",
// "decoder", "self"; --layer: the last; --head: the mean of the heads) or a classifier's shaded
// text (--map pool).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/train/inference.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"
#include "heed/viz/model_attention.h"
#include "heed/viz/svg.h"

namespace heed::cli {

namespace {

namespace fs = std::filesystem;

struct AttentionArgs {
  std::string model;
  std::vector<std::string> texts;
  std::string input;
  std::string out;
  bool words = false;
  bool pieces = false;
  bool hide_special = false;
  int beam = 1;
  std::string map;
  int layer = -1;
  int head = -1;
  bool stretch = false;
  int threads = 0;
};

std::vector<std::string> read_inputs(const AttentionArgs& args) {
  std::vector<std::string> texts = args.texts;
  if (!args.input.empty()) {
    std::ifstream file;
    if (args.input != "-") {
      file.open(args.input);
      CHECK(file.good(), "attention: cannot read --input ", args.input);
    }
    std::istream& in = args.input == "-" ? std::cin : file;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      texts.push_back(line);
    }
  }
  CHECK(!texts.empty(), "attention: nothing to run the model on (give --text or --input)");
  return texts;
}

void run_attention(const AttentionArgs& args) {
  set_num_threads(args.threads);
  const std::vector<std::string> texts = read_inputs(args);
  const RunLocation location = locate_run(args.model);
  viz::AttentionRunOptions options;
  options.labels = {.unit = args.words ? viz::TokenUnit::kWords : viz::TokenUnit::kPieces,
                    .hide_special = args.hide_special};
  options.title =
      "heed attention: " + fs::absolute(location.run_dir).lexically_normal().filename().string();
  options.notes = {
      str("checkpoint step ", location.step, " (", location.checkpoint.filename().string(), ")")};
  viz::AttentionPage page;
  if (location.config.task == TaskKind::kTranslation) {
    LoadedTranslator loaded = load_translator(location);
    const EvalConfig& eval = location.config.eval;
    options.decode = {.beam_size = args.beam,
                      .length_penalty = static_cast<float>(eval.length_penalty),
                      .max_len_a = static_cast<float>(eval.max_len_a),
                      .max_len_b = eval.max_len_b,
                      .max_len = eval.max_len};
    options.max_source_length = eval.max_len;
    page =
        viz::translation_attention_page(*loaded.model.model, loaded.translator->source_tokenizer(),
                                        loaded.translator->target_tokenizer(), texts, options);
  } else {
    LoadedClassifier loaded = load_classifier(location);
    const TextEncoding& encoding = loaded.classifier->encoding();
    const viz::ClassifierSetup setup{.class_names = loaded.classifier->labels(),
                                     .hierarchical = encoding.hierarchical,
                                     .limits = encoding.limits,
                                     .max_length = encoding.max_length};
    page = viz::classification_attention_page(*loaded.model.model, loaded.classifier->tokenizer(),
                                              setup, texts, options);
  }
  const fs::path out =
      args.out.empty() ? location.run_dir / "attention" / "attention.html" : fs::path(args.out);
  if (out.extension() == ".svg") {
    const std::string svg = viz::example_svg(
        page.examples.front(),
        {.map = args.map, .layer = args.layer, .head = args.head, .stretch = args.stretch});
    fs::create_directories(fs::absolute(out).parent_path());
    std::ofstream file(out, std::ios::binary);
    file << svg;
    CHECK(file.good(), "attention: cannot write ", out);
  } else {
    viz::write_attention_page(out, page);
  }
  std::cout << out.string() << "\n";
}

}  // namespace

void add_attention_command(CLI::App& app) {
  auto args = std::make_shared<AttentionArgs>();
  CLI::App* command = app.add_subcommand(
      "attention", "Show what a trained model attends to (HTML page or SVG heatmap)");
  add_model_argument(*command, args->model);
  command->add_option("--text", args->texts, "An input (repeat for several)");
  command->add_option("--input", args->input, "A file of inputs, one per line ('-': stdin)");
  command->add_option("--out", args->out,
                      "Output .html (every input) or .svg (the first input; default: "
                      "RUN_DIR/attention/attention.html)");
  auto* words = command->add_flag("--words", args->words,
                                  "Label words: a word's pieces merged (source columns summed, "
                                  "target rows averaged)");
  command->add_flag("--pieces", args->pieces, "Label SentencePiece pieces (the default)")
      ->excludes(words);
  command->add_flag("--hide-special", args->hide_special,
                    "Hide <s>, </s> (their attention is not redistributed: rows sum to <= 1)");
  command->add_option("--beam", args->beam, "Beam size for translation (default 1: greedy)")
      ->check(CLI::Range(1, 256));
  command->add_option("--map", args->map,
                      "SVG: which attention (cross, encoder, decoder, self, pool)");
  command->add_option("--layer", args->layer, "SVG: layer (default: the last)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--head", args->head, "SVG: head (default: the mean of the heads)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--stretch", args->stretch,
                    "SVG: colours up to the matrix maximum (default: up to 1)");
  add_threads_option(*command, args->threads);
  command->callback([args] { run_attention(*args); });
}

}  // namespace heed::cli
