// heed attention, heed plot, heed translate --alignment and the attention pages the trainer
// writes at validation, on freshly trained tiny runs.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "testing/heed_process.h"
#include "testing/temp_dir.h"
#include "testing/train_fixtures.h"

namespace heed {
namespace {

using nlohmann::json;
using testing::ProcessResult;
using testing::run_heed;
using testing::TempDir;
namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The data embedded in an attention page.
json page_data(const fs::path& page) {
  const std::string html = slurp(page);
  const std::string open = "<script type=\"application/json\" id=\"heed-data\">";
  const std::size_t start = html.find(open);
  if (start == std::string::npos) return json();
  const std::size_t end = html.find("</script>", start);
  return json::parse(html.substr(start + open.size(), end - start - open.size()));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

TEST(VizCommands, TranslationAttentionAlignmentAndCurves) {
  TempDir dir;
  const std::string config =
      testing::write_config(dir.path(), testing::tiny_translation_config(dir.path())).string();
  const ProcessResult trained = run_heed({"train", config});
  ASSERT_EQ(trained.status, 0) << trained.err;
  const fs::path run = dir / "run";

  // The trainer's pages: one per validation, the first validation inputs.
  for (const char* step : {"step_200.html", "step_400.html"}) {
    const json data = page_data(run / "attention" / step);
    ASSERT_TRUE(data.is_object()) << step;
    EXPECT_EQ(data["examples"].size(), 4u);
    EXPECT_EQ(data["examples"][0]["input"], lines_of(slurp(dir / "dev.src"))[0]);
  }

  // heed attention: every map of the Transformer (1 + 1 layers, 2 heads) for two inputs.
  const ProcessResult page = run_heed({"attention", run.string(), "--text", "11 may 2035", "--text",
                                       "monday, january 26, 2026", "--threads", "1"});
  ASSERT_EQ(page.status, 0) << page.err;
  EXPECT_EQ(page.out, (run / "attention" / "attention.html").string() + "\n");
  const json data = page_data(run / "attention" / "attention.html");
  ASSERT_EQ(data["examples"].size(), 2u);
  const json& groups = data["examples"][1]["heatmaps"];
  ASSERT_EQ(groups.size(), 3u);
  for (const json& g : groups) {
    EXPECT_EQ(g["heads"], 2);
    EXPECT_EQ(g["layers"].size(), 1u);
  }
  EXPECT_EQ(groups[0]["title"], "Cross-attention");

  // Words without special tokens; an SVG of one head.
  const ProcessResult words =
      run_heed({"attention", run.string(), "--text", "11 may 2035", "--words", "--hide-special",
                "--out", (dir / "w.html").string()});
  ASSERT_EQ(words.status, 0) << words.err;
  const json words_page = page_data(dir / "w.html");
  const json& cross = words_page["examples"][0]["heatmaps"][0];
  EXPECT_EQ(cross["cols"], (json{"11", "may", "2035"}));
  const ProcessResult svg = run_heed({"attention", run.string(), "--text", "11 may 2035", "--out",
                                      (dir / "e.svg").string(), "--map", "encoder", "--head", "1"});
  ASSERT_EQ(svg.status, 0) << svg.err;
  const std::string picture = slurp(dir / "e.svg");
  EXPECT_TRUE(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""))
      << picture.substr(0, 80);
  EXPECT_NE(picture.find("Encoder self-attention, head 1"), std::string::npos);

  // translate --alignment: the same translations, then " ||| " and Marian's i-j pairs.
  const std::string input = "11 may 2035\n\nmonday, january 26, 2026\n";
  const ProcessResult plain = run_heed({"translate", run.string(), "--threads", "1"}, input);
  const ProcessResult aligned =
      run_heed({"translate", run.string(), "--alignment", "--threads", "1"}, input);
  ASSERT_EQ(aligned.status, 0) << aligned.err;
  const std::vector<std::string> texts = lines_of(plain.out), lines = lines_of(aligned.out);
  ASSERT_EQ(lines.size(), 3u);
  const std::regex format("^(.*) \\|\\|\\| ((\\d+-\\d+)( \\d+-\\d+)*)?$");
  for (std::size_t i = 0; i < 3; ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, format)) << lines[i];
    EXPECT_EQ(m[1].str(), texts[i]);
  }
  EXPECT_EQ(lines[1], " ||| ");  // an empty line stays empty

  // heed plot: a chart per logged quantity; one as SVG.
  const ProcessResult plot = run_heed({"plot", run.string()});
  ASSERT_EQ(plot.status, 0) << plot.err;
  const std::string curves = slurp(run / "training_curves.html");
  EXPECT_GE(count(curves, "<svg class=\"chart\""),
            7);  // loss lr tokens_per_s grad_norm padding bleu chrf exact_match seconds
  EXPECT_NE(curves.find("<title>valid exact_match at step 400: "), std::string::npos);
  const ProcessResult one =
      run_heed({"plot", run.string(), "--out", (dir / "bleu.svg").string(), "--metric", "bleu"});
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_NE(slurp(dir / "bleu.svg").find("<title>valid bleu at step 200: "), std::string::npos);

  // Wrong use names the problem.
  const ProcessResult nothing = run_heed({"attention", run.string()});
  EXPECT_EQ(nothing.status, 1);
  EXPECT_NE(nothing.err.find("attention: nothing to run the model on (give --text or --input)"),
            std::string::npos)
      << nothing.err;
  const ProcessResult no_metric =
      run_heed({"plot", run.string(), "--out", (dir / "x.svg").string(), "--metric", "nope"});
  EXPECT_EQ(no_metric.status, 1);
  EXPECT_NE(no_metric.err.find("has no metric 'nope' (it has: loss"), std::string::npos)
      << no_metric.err;
}

TEST(VizCommands, ClassifierAttention) {
  TempDir dir;
  const std::string config =
      testing::write_config(dir.path(), testing::tiny_classification_config(dir.path())).string();
  const ProcessResult trained = run_heed({"train", config});
  ASSERT_EQ(trained.status, 0) << trained.err;
  const fs::path run = dir / "run";
  EXPECT_TRUE(fs::exists(run / "attention" / "step_300.html"));

  std::ofstream(dir / "inputs.txt")
      << "we loved the food.\ni hated the cast but we liked the film for sure!\n";
  const ProcessResult page =
      run_heed({"attention", run.string(), "--input", (dir / "inputs.txt").string(), "--out",
                (dir / "c.html").string()});
  ASSERT_EQ(page.status, 0) << page.err;
  const json data = page_data(dir / "c.html");
  ASSERT_EQ(data["examples"].size(), 2u);
  const json& e = data["examples"][1];
  EXPECT_EQ(e["classes"]["names"].size(), 2u);
  ASSERT_EQ(e["token_weights"].size(), 1u);
  double sum = 0;
  for (const json& w : e["token_weights"][0]["weights"]) sum += w.get<double>();
  EXPECT_NEAR(sum, 1.0, 1e-3);

  const ProcessResult svg = run_heed({"attention", run.string(), "--text", "we loved the food.",
                                      "--out", (dir / "c.svg").string()});
  ASSERT_EQ(svg.status, 0) << svg.err;
  EXPECT_NE(slurp(dir / "c.svg").find("shading: attention weight"), std::string::npos);
}

}  // namespace
}  // namespace heed
