// heed eval RUN_DIR|CHECKPOINT... [--split valid|test | --src F --ref F | --data F [--format FMT]]
//           [--beam N] [--length-penalty X] [--out FILE]
//
// Scores a trained model. Translation: beam search (eval.beam of the run's config unless --beam),
// detokenized output against the raw references: sacreBLEU's BLEU and chrF, and exact match.
// Classification: accuracy, macro F1 and the confusion matrix; several models are scored as
// their ensemble (class probabilities averaged). Human-readable results first;
// the LAST line of stdout is one JSON object for scripts:
//   {"bleu": 27.31, "chrf": 55.02, "exact_match": 0.01, "signature": "nrefs:1|...", ...}
//   {"accuracy": 0.912, "macro_f1": 0.911, "confusion": [[..], [..]], "labels": [..]}
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "heed/data/readers.h"
#include "heed/eval/accuracy.h"
#include "heed/train/inference.h"
#include "heed/train/task.h"
#include "heed/util/check.h"
#include "heed/util/parallel.h"

namespace heed::cli {

namespace {

struct EvalArgs {
  std::vector<std::string> models;
  std::string split;
  std::string src, ref, data;
  std::string format;  // of --data; empty: the run's data.format
  int beam = 0;
  double length_penalty = -1;  // < 0: eval.length_penalty of the config
  std::string out;
  int threads = 0;
  std::int64_t batch_tokens = 0;
};

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  CHECK(out.good(), "--out: cannot write ", path);
  for (const std::string& line : lines) out << line << '\n';
  CHECK(out.good(), "--out: write to ", path, " failed");
}

// What is evaluated, for the report: "test split (data/dates/test.src)".
std::string split_name(const EvalArgs& args) {
  if (!args.src.empty()) return args.src;
  if (!args.data.empty()) return args.data;
  return args.split + " split";
}

void eval_translation(const EvalArgs& args, const RunLocation& location) {
  const Config& config = location.config;
  std::vector<std::string> sources, references;
  if (!args.src.empty()) {
    ParallelText text = read_parallel_files(args.src, args.ref);
    sources = std::move(text.source);
    references = std::move(text.target);
  } else {
    ParallelText text = read_translation_split(config, args.split);
    sources = std::move(text.source);
    references = std::move(text.target);
  }
  LoadedTranslator loaded = load_translator(location);
  TranslateOptions options{
      .decode = {.beam_size = args.beam > 0 ? args.beam : config.eval.beam,
                 .length_penalty = static_cast<float>(
                     args.length_penalty >= 0 ? args.length_penalty : config.eval.length_penalty),
                 .max_len_a = static_cast<float>(config.eval.max_len_a),
                 .max_len_b = config.eval.max_len_b,
                 .max_len = config.eval.max_len},
      .batch_tokens = args.batch_tokens > 0 ? args.batch_tokens : config.eval.batch_tokens,
      .max_source_length = config.eval.max_len};
  Progress progress("translate", static_cast<std::int64_t>(sources.size()), "sent");
  const std::vector<std::string> hypotheses =
      loaded.translator->translate(sources, options, &progress);
  progress.finish();
  if (!args.out.empty()) write_lines(args.out, hypotheses);

  const TranslationScores scores = score_translations(hypotheses, references);
  std::printf("model:       %s (step %lld)\n", location.checkpoint.string().c_str(),
              static_cast<long long>(location.step));
  std::printf("data:        %s, %zu sentences, beam %d, length penalty %g\n",
              split_name(args).c_str(), sources.size(), options.decode.beam_size,
              static_cast<double>(options.decode.length_penalty));
  std::printf("BLEU:        %.2f  (%s)\n", scores.bleu, scores.bleu_signature.c_str());
  std::printf("chrF:        %.2f  (%s)\n", scores.chrf, scores.chrf_signature.c_str());
  std::printf("exact match: %.4f\n", scores.exact_match);
  const nlohmann::json result = {{"bleu", scores.bleu},
                                 {"chrf", scores.chrf},
                                 {"exact_match", scores.exact_match},
                                 {"signature", scores.bleu_signature},
                                 {"chrf_signature", scores.chrf_signature}};
  std::cout << result.dump() << std::endl;
}

// --format's value, checked against the same names by the option.
std::optional<ClassificationFormat> data_format(const EvalArgs& args) {
  for (const auto& [name, format] : kClassificationFormatNames) {
    if (name == args.format) return format;
  }
  return std::nullopt;
}

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const auto& entry : kClassificationFormatNames) names.emplace_back(entry.first);
  return names;
}

// The texts and labels to score: --data, or the split of the first model's data. An ensemble's
// members must read the same split (a holdout drawn with other seeds would hold out texts that
// other members trained on, and overstate the ensemble).
ClassificationData classification_data(const EvalArgs& args,
                                       const std::vector<RunLocation>& locations) {
  const Config& config = locations.front().config;
  if (!args.data.empty()) return read_classification_file(config, args.data, data_format(args));
  ClassificationData data = read_classification_split(config, args.split);
  for (std::size_t m = 1; m < locations.size(); ++m) {
    const ClassificationData other = read_classification_split(locations[m].config, args.split);
    CHECK(other.texts == data.texts && other.labels == data.labels, "ensemble: the ", args.split,
          " split of ", locations[m].checkpoint.string(), " is not the one of ",
          locations.front().checkpoint.string(),
          " (train the members with the same data and data.valid_holdout_seed, or give --data)");
  }
  return data;
}

void eval_classification(const EvalArgs& args, const std::vector<RunLocation>& locations) {
  const Config& config = locations.front().config;
  const ClassificationData data = classification_data(args, locations);
  std::vector<LoadedClassifier> loaded;
  std::vector<const TextClassifier*> members;
  for (const RunLocation& location : locations) {
    loaded.push_back(load_classifier(location));
    members.push_back(loaded.back().classifier.get());
  }
  const ClassifierEnsemble ensemble(members);
  Progress progress("classify", static_cast<std::int64_t>(data.texts.size() * members.size()),
                    "text");
  const std::vector<Prediction> predictions = ensemble.predict(
      data.texts, args.batch_tokens > 0 ? args.batch_tokens : config.eval.batch_tokens, &progress);
  progress.finish();
  const std::vector<std::string>& labels = ensemble.labels();
  std::vector<std::int32_t> predicted;
  for (const Prediction& p : predictions) predicted.push_back(p.label);
  if (!args.out.empty()) {
    std::vector<std::string> lines;
    for (const Prediction& p : predictions) lines.push_back(labels[p.label]);
    write_lines(args.out, lines);
  }
  const int C = static_cast<int>(labels.size());
  const ClassificationReport report = classification_report(predicted, data.labels, C);
  nlohmann::json models = nlohmann::json::array();
  for (const RunLocation& location : locations) {
    std::printf("model:    %s (step %lld)\n", location.checkpoint.string().c_str(),
                static_cast<long long>(location.step));
    models.push_back(location.checkpoint.string());
  }
  if (locations.size() > 1) {
    std::printf("          the ensemble of these %zu (mean class probabilities)\n",
                locations.size());
  }
  std::printf("data:     %s, %zu examples\n", split_name(args).c_str(), data.texts.size());
  std::printf("accuracy: %.4f\nmacro F1: %.4f\n\n", report.accuracy, report.macro_f1);
  std::printf("%-16s %9s %9s %9s %9s\n", "class", "precision", "recall", "F1", "support");
  for (int c = 0; c < C; ++c) {
    std::printf("%-16s %9.4f %9.4f %9.4f %9lld\n", labels[c].c_str(), report.precision[c],
                report.recall[c], report.f1[c], static_cast<long long>(report.support[c]));
  }
  std::printf("\nconfusion (rows: gold, columns: predicted)\n");
  nlohmann::json confusion = nlohmann::json::array();
  for (int g = 0; g < C; ++g) {
    nlohmann::json row = nlohmann::json::array();
    std::printf("%-16s", labels[g].c_str());
    for (int p = 0; p < C; ++p) {
      row.push_back(report.confusion_at(g, p));
      std::printf(" %8lld", static_cast<long long>(report.confusion_at(g, p)));
    }
    std::printf("\n");
    confusion.push_back(row);
  }
  const nlohmann::json result = {{"accuracy", report.accuracy},
                                 {"macro_f1", report.macro_f1},
                                 {"confusion", confusion},
                                 {"labels", labels},
                                 {"models", models}};
  std::cout << result.dump() << std::endl;
}

void run_eval(EvalArgs args) {
  set_num_threads(args.threads);
  std::vector<RunLocation> locations;
  for (const std::string& model : args.models) locations.push_back(locate_run(model));
  const RunLocation& location = locations.front();
  const bool translation = location.config.task == TaskKind::kTranslation;
  for (const RunLocation& other : locations) {
    CHECK((other.config.task == TaskKind::kTranslation) == translation, "ensemble: ",
          other.checkpoint.string(), " and ", location.checkpoint.string(),
          " are models of different tasks");
  }
  if (translation) {
    CHECK(locations.size() == 1,
          "ensembles are for classification models; give one translation model");
    CHECK(args.data.empty(),
          "--data is for classification models; for translation give --src and --ref");
    CHECK(args.src.empty() == args.ref.empty(), "--src and --ref go together");
  } else {
    CHECK(args.src.empty() && args.ref.empty(),
          "--src/--ref are for translation models; for classification give --data");
  }
  CHECK(args.format.empty() || !args.data.empty(), "--format describes --data; give --data too");
  CHECK(args.split.empty() || (args.src.empty() && args.data.empty()),
        "give either --split or the files to evaluate, not both");
  if (args.split.empty()) {
    const bool has_test = translation ? location.config.data.translation.test.defined()
                                      : !location.config.data.classification.test.empty();
    args.split = has_test ? "test" : "valid";
  }
  if (translation) {
    eval_translation(args, location);
  } else {
    eval_classification(args, locations);
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* command = app.add_subcommand(
      "eval",
      "Score a trained model on a split of its data or on given files; the last line "
      "of the output is JSON");
  add_model_arguments(*command, args->models,
                      "several classification models: their ensemble (mean class probabilities)");
  command
      ->add_option("--split", args->split,
                   "A split of the run's data (default: test if it has one, else valid)")
      ->check(CLI::IsMember({"valid", "test"}));
  command->add_option("--src", args->src, "Translation: source file (plain or .gz)")
      ->check(CLI::ExistingFile);
  command->add_option("--ref", args->ref, "Translation: reference file, line-aligned with --src")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--data", args->data, "Classification: a file in the format of the run's data")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--format", args->format,
                   "Classification: the format of --data when it is not the run's (label_text: "
                   "\"<label> <text>\" lines; tsv/csv: a header, then label and text columns)")
      ->check(CLI::IsMember(format_names()));
  command->add_option("--beam", args->beam, "Beam size (default: eval.beam of the config)")
      ->check(CLI::Range(1, 256));
  command
      ->add_option("--length-penalty", args->length_penalty,
                   "Beam search length penalty (default: eval.length_penalty of the config)")
      ->check(CLI::Range(0.0, 10.0));
  command->add_option("--out", args->out,
                      "Write the translations (or predicted labels) to this file, one per line");
  add_threads_option(*command, args->threads);
  add_batch_tokens_option(*command, args->batch_tokens);
  command->callback([args] { run_eval(*args); });
}

}  // namespace heed::cli
