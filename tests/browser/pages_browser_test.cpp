// heed's HTML pages in a real browser: writes synthetic attention pages (Transformer and RNN
// translation, pooling and Transformer classifiers, a hierarchical model, word labels with hidden
// special tokens) and a training-curves page, then runs scripts/browser_test.sh --check, which
// loads each one in headless Chromium (page.html#selftest draws every view) and compares what the
// page reports having drawn with the counts computed here, fails on any JavaScript error, and
// takes screenshots. Skipped when Chromium is not installed (scripts/browser_test.sh installs it).
//
// HEED_BROWSER_OUT=DIR keeps the pages and screenshots in DIR (default: build/browser_test).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "heed/viz/attention_page.h"
#include "heed/viz/training_curves.h"
#include "testing/viz_fixtures.h"

namespace heed {
namespace {

namespace fs = std::filesystem;
using viz::AttentionPage;
using viz::LabelOptions;
using viz::TokenUnit;

constexpr const char* kChromium = "/usr/bin/chromium";

// One "file<TAB>key<TAB>value" line per count the page must report.
void expect_counts(std::ofstream& expected, const std::string& file, const AttentionPage& page) {
  const viz::PageCounts c = viz::selftest_counts(page);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, long>>{{"examples", c.examples},
                                                 {"views", c.views},
                                                 {"cells", c.cells},
                                                 {"thumbnails", c.thumbnails},
                                                 {"tokens", c.tokens},
                                                 {"sentences", c.sentences},
                                                 {"hovers", c.hovers}})
    expected << file << "\t" << key << "\t" << value << "\n";
}

AttentionPage page_of(const std::string& title, const LabelOptions& labels) {
  AttentionPage page;
  page.title = title;
  page.unit = labels.unit;
  page.notes = {"synthetic attention (browser test)"};
  return page;
}

fs::path write_pages() {
  const char* out = std::getenv("HEED_BROWSER_OUT");
  const fs::path dir = out && *out ? fs::path(out) : fs::path(HEED_BINARY_DIR) / "browser_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream expected(dir / "expected.tsv");

  const LabelOptions pieces{}, words{.unit = TokenUnit::kWords, .hide_special = true};
  AttentionPage transformer = page_of("Transformer translation (synthetic)", pieces);
  transformer.examples.push_back(testing::transformer_example(12, 14, 4, 4, pieces, 1));
  transformer.examples.push_back(
      testing::transformer_example(40, 44, 4, 4, pieces, 2));  // ~50 pieces
  transformer.examples.push_back(testing::transformer_example(5, 4, 4, 4, pieces, 3));
  AttentionPage big = page_of("Transformer, 6 layers x 8 heads (synthetic)", pieces);
  big.examples.push_back(testing::transformer_example(20, 22, 6, 8, pieces, 4));
  AttentionPage rnn = page_of("Bahdanau attention (synthetic)", pieces);
  for (int i = 0; i < 3; ++i)
    rnn.examples.push_back(testing::rnn_example(8 + 6 * i, 9 + 6 * i, pieces, 10 + i));
  AttentionPage classifier = page_of("Classifiers (synthetic)", pieces);
  classifier.examples.push_back(
      testing::classifier_example(30, 0, 0, pieces, 20));  // BiGRU + pooling
  classifier.examples.push_back(testing::classifier_example(25, 2, 4, pieces, 21));  // Transformer
  AttentionPage han = page_of("Hierarchical attention (synthetic)", pieces);
  han.examples.push_back(testing::han_example(5, 12, pieces, 30));
  han.examples.push_back(testing::han_example(2, 6, pieces, 31));
  AttentionPage word_page = page_of("Words, special tokens hidden (synthetic)", words);
  word_page.examples.push_back(testing::transformer_example(12, 14, 2, 4, words, 40));
  word_page.examples.push_back(testing::classifier_example(20, 1, 2, words, 41));

  for (const auto& [file, page] :
       std::vector<std::pair<std::string, const AttentionPage*>>{{"transformer.html", &transformer},
                                                                 {"transformer_big.html", &big},
                                                                 {"rnn.html", &rnn},
                                                                 {"classifier.html", &classifier},
                                                                 {"han.html", &han},
                                                                 {"words.html", &word_page}}) {
    viz::write_attention_page(dir / file, *page);
    expect_counts(expected, file, *page);
  }

  // Training curves: 300 train lines (epochs of 100 steps), a validation every 50 steps.
  std::ostringstream metrics;
  for (int step = 10; step <= 3000; step += 10) {
    metrics << "{\"step\":" << step << ",\"split\":\"train\",\"epoch\":" << 1 + (step - 10) / 1000
            << ",\"loss\":" << 2 + 6.0 / (1 + step / 200.0)
            << ",\"lr\":" << 1e-3 * std::min(1.0, step / 400.0)
            << ",\"tokens_per_s\":" << 5000 + 300 * std::sin(step / 300.0) << "}\n";
    if (step % 500 == 0)
      metrics << "{\"step\":" << step
              << ",\"split\":\"valid\",\"loss\":" << 2.5 + 5.0 / (1 + step / 200.0)
              << ",\"bleu\":" << 30.0 * step / 3000 << "}\n";
  }
  std::istringstream in(metrics.str());
  const viz::MetricsHistory history = viz::parse_metrics(in, "synthetic");
  viz::write_training_curves(dir / "curves.html", history, "Training curves (synthetic)");
  long points = 0;
  for (const viz::Chart& chart : viz::standard_charts(history))
    for (const viz::Series& s : chart.lines)
      points += std::min<long>(static_cast<long>(s.steps.size()), 400);
  expected << "curves.html\tcharts\t" << viz::standard_charts(history).size() << "\n";
  expected << "curves.html\tpoints\t" << points << "\n";
  return dir;
}

TEST(Browser, PagesRenderWithoutJavaScriptErrors) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << "chromium is not installed (scripts/browser_test.sh installs it)";
  const fs::path dir = write_pages();
  const std::string command = std::string("bash '") + HEED_SOURCE_DIR +
                              "/scripts/browser_test.sh' --check '" + dir.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace heed
