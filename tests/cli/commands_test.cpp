// heed eval, translate and classify on freshly trained tiny runs: the human-readable report with
// one JSON object as the last line, evaluation agreeing with validation, stdin -> stdout in order.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "heed/train/metrics_log.h"
#include "testing/heed_process.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::last_line;
using testing::ProcessResult;
using testing::run_heed;
using testing::TempDir;
namespace fs = std::filesystem;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The validation record of the best checkpoint's step.
json best_validation(const fs::path& run, const std::string& metric) {
  json best;
  for (const json& r : read_metrics(run / "metrics.jsonl")) {
    if (r["split"] == "valid" && (best.is_null() || r[metric] > best[metric])) best = r;
  }
  return best;
}

TEST(Commands, TranslationEvalTranslate) {
  TempDir dir;
  const json config = testing::tiny_translation_config(dir.path());
  const std::string config_path = testing::write_config(dir.path(), config).string();
  const ProcessResult trained = run_heed({"train", config_path});
  ASSERT_EQ(trained.status, 0) << trained.err;
  EXPECT_NE(trained.out.find("best exact_match"), std::string::npos) << trained.out;
  const std::string run = (dir / "run").string();

  // Ensembles are for classifiers: two translation models are refused with a reason.
  const ProcessResult ensemble = run_heed({"eval", run, run});
  EXPECT_NE(ensemble.status, 0);
  EXPECT_NE(ensemble.err.find("ensembles are for classification models"), std::string::npos)
      << ensemble.err;

  // Greedy evaluation of the validation split reproduces validation's scores.
  const ProcessResult eval = run_heed({"eval", run, "--split", "valid", "--beam", "1", "--threads",
                                       "1", "--out", (dir / "hyp.txt").string()});
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_NE(eval.out.find("BLEU:"), std::string::npos) << eval.out;
  const json scores = json::parse(last_line(eval.out));
  const json best = best_validation(dir / "run", "exact_match");
  EXPECT_EQ(scores["bleu"], best["bleu"]);
  EXPECT_EQ(scores["chrf"], best["chrf"]);
  EXPECT_EQ(scores["exact_match"], best["exact_match"]);
  EXPECT_EQ(scores["signature"].get<std::string>().rfind("nrefs:1|case:mixed|eff:no|tok:13a", 0),
            0u);
  std::ifstream hyp(dir / "hyp.txt");
  std::stringstream hyp_text;
  hyp_text << hyp.rdbuf();
  const std::vector<std::string> hypotheses = lines_of(hyp_text.str());
  EXPECT_EQ(hypotheses.size(), 200u);

  // The same files given explicitly; a checkpoint path instead of the run directory.
  const ProcessResult files =
      run_heed({"eval", run + "/checkpoints/best.safetensors", "--src", (dir / "dev.src").string(),
                "--ref", (dir / "dev.tgt").string(), "--beam", "1", "--threads", "1"});
  ASSERT_EQ(files.status, 0) << files.err;
  EXPECT_EQ(json::parse(last_line(files.out))["bleu"], scores["bleu"]);

  // translate: stdin lines -> stdout lines, in order, batched (the input is a file, not a tty).
  std::ifstream src(dir / "dev.src");
  std::stringstream src_text;
  src_text << src.rdbuf();
  const ProcessResult translated =
      run_heed({"translate", run, "--beam", "1", "--threads", "1"}, src_text.str());
  ASSERT_EQ(translated.status, 0) << translated.err;
  EXPECT_EQ(lines_of(translated.out), hypotheses);

  // Beam search runs too (the config's eval.beam is 2).
  const ProcessResult beam = run_heed({"eval", run, "--split", "valid", "--threads", "1"});
  ASSERT_EQ(beam.status, 0) << beam.err;
  EXPECT_GT(json::parse(last_line(beam.out))["bleu"].get<double>(), 30);

  // heed average: the run keeps its last checkpoints (steps 200 and 400); their mean is a
  // checkpoint that eval reads, and its step is the newest one's.
  const ProcessResult averaged = run_heed({"average", run, "--last", "2"});
  ASSERT_EQ(averaged.status, 0) << averaged.err;
  const std::string average_path = run + "/checkpoints/average_last_2.safetensors";
  EXPECT_EQ(averaged.out, average_path + "\n");
  EXPECT_NE(averaged.err.find("averaged 2 checkpoints: step_200.safetensors step_400.safetensors"),
            std::string::npos)
      << averaged.err;
  const ProcessResult average_eval =
      run_heed({"eval", average_path, "--split", "valid", "--beam", "1", "--threads", "1"});
  ASSERT_EQ(average_eval.status, 0) << average_eval.err;
  EXPECT_NE(average_eval.out.find("(step 400)"), std::string::npos) << average_eval.out;
  EXPECT_GT(json::parse(last_line(average_eval.out))["bleu"].get<double>(), 30);
  const ProcessResult too_many = run_heed({"average", run, "--last", "9"});
  EXPECT_EQ(too_many.status, 1);
  EXPECT_NE(too_many.err.find("--last 9 but"), std::string::npos) << too_many.err;
  // The average is not a step_<N> checkpoint: --resume still continues from step_400 (here a
  // finished run, so there is nothing left to do).
  const ProcessResult resumed = run_heed({"train", config_path, "--resume"});
  EXPECT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("step_400.safetensors at step 400"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("already reached its end (step 400)"), std::string::npos)
      << resumed.err;
}

TEST(Commands, BenchOpsPrintsARowPerGemm) {
  const ProcessResult bench = run_heed(
      {"bench", "ops", "--reps", "5", "--warmup", "1", "--threads", "1", "--shapes", "64x32x48"});
  ASSERT_EQ(bench.status, 0) << bench.err;
  for (const char* gemm : {"fwd", "bwd-dA", "bwd-dB"}) {
    EXPECT_NE(bench.out.find(std::string("64x32x48         ") + gemm), std::string::npos)
        << bench.out;
  }
}

TEST(Commands, ClassificationEvalClassify) {
  TempDir dir;
  const json config = testing::tiny_classification_config(dir.path());
  const ProcessResult trained =
      run_heed({"train", testing::write_config(dir.path(), config).string()});
  ASSERT_EQ(trained.status, 0) << trained.err;
  const std::string run = (dir / "run").string();

  const ProcessResult eval = run_heed({"eval", run, "--threads", "1"});  // no test split: valid
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_NE(eval.out.find("valid split, 300 examples"), std::string::npos) << eval.out;
  const json scores = json::parse(last_line(eval.out));
  EXPECT_EQ(scores["accuracy"], best_validation(dir / "run", "accuracy")["accuracy"]);
  EXPECT_EQ(scores["labels"], json({"negative", "positive"}));
  const json confusion = scores["confusion"];
  ASSERT_EQ(confusion.size(), 2u);
  EXPECT_EQ(confusion[0][0].get<int>() + confusion[0][1].get<int>() + confusion[1][0].get<int>() +
                confusion[1][1].get<int>(),
            300);

  // The same examples as "<label> <text>" lines (--format label_text): the same scores.
  {
    std::ifstream tsv(dir / "dev.tsv");
    std::ofstream label_text(dir / "dev.txt");
    std::string line;
    std::getline(tsv, line);  // the header
    while (std::getline(tsv, line)) {
      const size_t tab = line.find('\t');
      label_text << line.substr(0, tab) << ' ' << line.substr(tab + 1) << '\n';
    }
  }
  const ProcessResult other_format = run_heed({"eval", run, "--data", (dir / "dev.txt").string(),
                                               "--format", "label_text", "--threads", "1"});
  ASSERT_EQ(other_format.status, 0) << other_format.err;
  EXPECT_EQ(json::parse(last_line(other_format.out))["accuracy"], scores["accuracy"]);
  EXPECT_EQ(json::parse(last_line(other_format.out))["confusion"], confusion);
  const ProcessResult format_alone = run_heed({"eval", run, "--format", "label_text"});
  EXPECT_NE(format_alone.status, 0);
  EXPECT_NE(format_alone.err.find("--format describes --data"), std::string::npos)
      << format_alone.err;

  const ProcessResult classified =
      run_heed({"classify", run, "--threads", "1"}, "we loved the food.\nthe film was terrible.\n");
  ASSERT_EQ(classified.status, 0) << classified.err;
  const std::vector<std::string> lines = lines_of(classified.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].substr(0, lines[0].find('\t')), "positive");
  EXPECT_EQ(lines[1].substr(0, lines[1].find('\t')), "negative");
  const double probability = std::stod(lines[0].substr(lines[0].find('\t') + 1));
  EXPECT_GT(probability, 0.5);
  EXPECT_LE(probability, 1.0);
}

// The probability of "negative" on each of `classify`'s "label<TAB>probability" lines (the
// printed probability is the predicted label's).
std::vector<double> negative_probabilities(const std::string& out) {
  std::vector<double> p;
  for (const std::string& line : lines_of(out)) {
    const double top = std::stod(line.substr(line.find('\t') + 1));
    p.push_back(line.substr(0, line.find('\t')) == "negative" ? top : 1.0 - top);
  }
  return p;
}

TEST(Commands, EnsembleOfClassifiersAveragesTheirProbabilities) {
  TempDir dir;
  json config = testing::tiny_classification_config(dir.path());
  ASSERT_EQ(run_heed({"train", testing::write_config(dir.path(), config).string()}).status, 0);
  config["run_dir"] = "run2";
  config["train"]["seed"] = 2;
  config["train"]["max_steps"] = 100;  // a weaker model, so the two disagree more
  ASSERT_EQ(run_heed({"train", testing::write_config(dir.path(), config).string()}).status, 0);
  const std::string run1 = (dir / "run").string(), run2 = (dir / "run2").string();

  const std::string texts =
      "we loved the food.\nthe film was terrible.\nan ordinary evening.\nnot bad at all.\n";
  std::vector<std::vector<double>> single;
  for (const std::string& run : {run1, run2}) {
    const ProcessResult classified = run_heed({"classify", run, "--threads", "1"}, texts);
    ASSERT_EQ(classified.status, 0) << classified.err;
    single.push_back(negative_probabilities(classified.out));
  }
  const ProcessResult both = run_heed({"classify", run1, run2, "--threads", "1"}, texts);
  ASSERT_EQ(both.status, 0) << both.err;
  const std::vector<double> ensemble = negative_probabilities(both.out);
  ASSERT_EQ(ensemble.size(), 4u);
  for (std::size_t i = 0; i < ensemble.size(); ++i) {
    // The printed probabilities have 4 decimals: the mean of two agrees to 1e-4.
    EXPECT_NEAR(ensemble[i], (single[0][i] + single[1][i]) / 2, 1.01e-4) << "text " << i;
  }

  // eval: both models listed, and the ensemble's confusion counts every validation example once.
  const ProcessResult eval = run_heed({"eval", run1, run2, "--threads", "1"});
  ASSERT_EQ(eval.status, 0) << eval.err;
  EXPECT_NE(eval.out.find("the ensemble of these 2"), std::string::npos) << eval.out;
  const json scores = json::parse(last_line(eval.out));
  EXPECT_EQ(scores["models"].size(), 2u);
  int counted = 0;
  for (const json& row : scores["confusion"]) counted += row[0].get<int>() + row[1].get<int>();
  EXPECT_EQ(counted, 300);

  // Members validated on other examples than each other: refused, --data accepted.
  config["run_dir"] = "run3";
  config["data"]["valid"] = "train.tsv";
  config["train"]["max_steps"] = 20;
  ASSERT_EQ(run_heed({"train", testing::write_config(dir.path(), config).string()}).status, 0);
  const std::string run3 = (dir / "run3").string();
  const ProcessResult other_split = run_heed({"eval", run1, run3, "--split", "valid"});
  EXPECT_NE(other_split.status, 0);
  EXPECT_NE(other_split.err.find("ensemble: the valid split of"), std::string::npos)
      << other_split.err;
  const ProcessResult given_data =
      run_heed({"eval", run1, run3, "--data", (dir / "dev.tsv").string(), "--threads", "1"});
  EXPECT_EQ(given_data.status, 0) << given_data.err;

  // A member that is not a run: named in the error.
  const ProcessResult no_model = run_heed({"eval", run1, (dir / "no_such_run").string()});
  EXPECT_NE(no_model.status, 0);
  EXPECT_NE(no_model.err.find("no_such_run"), std::string::npos) << no_model.err;
}

}  // namespace
}  // namespace heed

