#include "heed/viz/attention_page.h"

#include <gtest/gtest.h>

#include "testing/gradcheck.h"
#include "testing/viz_fixtures.h"

namespace heed::viz {
namespace {

using nlohmann::json;

// The JSON embedded in the page, parsed back.
json embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"heed-data\">";
  const std::size_t start = html.find(open);
  EXPECT_NE(start, std::string::npos);
  const std::size_t end = html.find("</script>", start);
  return json::parse(html.substr(start + open.size(), end - start - open.size()));
}

AttentionPage mixed_page(const LabelOptions& labels) {
  AttentionPage page;
  page.title = "test page";
  page.notes = {"synthetic"};
  page.unit = labels.unit;
  page.examples.push_back(testing::transformer_example(9, 11, 3, 4, labels, 1));
  page.examples.push_back(testing::rnn_example(6, 7, labels, 2));
  page.examples.push_back(testing::classifier_example(12, 2, 2, labels, 3));
  page.examples.push_back(testing::han_example(3, 6, labels, 4));
  return page;
}

TEST(AttentionPage, EmbedsEveryLayerAndHead) {
  const AttentionPage page = mixed_page({});
  const std::string html = attention_page_html(page);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<div id=\"heed-status\" data-state=\"loading\" hidden></div>"),
            std::string::npos);
  const json data = embedded_data(html);
  ASSERT_EQ(data["examples"].size(), 4u);
  EXPECT_EQ(data["colormap"].size(), 256u);
  EXPECT_EQ(data["unit"], "pieces");

  const json& transformer = data["examples"][0]["heatmaps"];
  ASSERT_EQ(transformer.size(), 3u);  // cross, encoder self, decoder self
  EXPECT_EQ(transformer[0]["title"], "Cross-attention");
  EXPECT_EQ(transformer[1]["title"], "Encoder self-attention");
  EXPECT_EQ(transformer[2]["title"], "Decoder self-attention");
  for (const json& g : transformer) {
    EXPECT_EQ(g["heads"], 4);
    ASSERT_EQ(g["layers"].size(), 3u);
    ASSERT_EQ(g["values"].size(), 3u);
    for (const json& layer : g["values"]) {
      ASSERT_EQ(layer.size(), 4u);
      for (const json& head : layer) EXPECT_EQ(head.size(), g["rows"].size() * g["cols"].size());
    }
  }
  EXPECT_EQ(transformer[0]["layers"][2], "decoder.layers.2.multihead_attn");
  EXPECT_EQ(data["examples"][1]["heatmaps"][0]["heads"], 1);
  EXPECT_EQ(data["examples"][2]["heatmaps"][0]["title"], "Self-attention");
  EXPECT_EQ(data["examples"][3]["sentence_weights"].size(), 3u);
  EXPECT_EQ(data["examples"][3]["token_weights"].size(), 3u);
  EXPECT_EQ(data["examples"][2]["classes"]["names"], (json{"negative", "positive"}));
  EXPECT_NE(data["examples"][0]["alignment"].get<std::string>(), "");
}

// Every heatmap row written into the page that holds a full distribution sums to 1 (5-decimal
// rounding leaves at most cols · 5e-6), and so does every pooling vector.
void expect_rows_sum_to_one(const json& data, bool hidden_special) {
  long rows_checked = 0, short_rows = 0;
  for (const json& example : data["examples"]) {
    for (const json& g : example["heatmaps"]) {
      const std::size_t R = g["rows"].size(), C = g["cols"].size();
      const bool complete = g["complete_rows"];
      EXPECT_EQ(complete, !(hidden_special && g["title"] == "Decoder self-attention"))
          << g["title"];
      for (const json& layer : g["values"])
        for (const json& head : layer)
          for (std::size_t r = 0; r < R; ++r) {
            double sum = 0;
            for (std::size_t c = 0; c < C; ++c) sum += head[r * C + c].get<double>();
            if (complete) {
              EXPECT_NEAR(sum, 1.0, 1e-3) << g["id"] << " row " << r;
            } else {
              EXPECT_LE(sum, 1.0 + 1e-3) << g["id"] << " row " << r;
              short_rows += sum < 0.999;
            }
            ++rows_checked;
          }
    }
    for (const json& tw : example["token_weights"]) {
      double sum = 0;
      for (const json& w : tw["weights"]) sum += w.get<double>();
      EXPECT_NEAR(sum, 1.0, 1e-3);
    }
  }
  EXPECT_GT(rows_checked, 300);
  if (hidden_special) {
    EXPECT_GT(short_rows, 0);  // the hidden <s> took attention
  }
}

TEST(AttentionPage, WrittenRowsSumToOne) {
  expect_rows_sum_to_one(embedded_data(attention_page_html(mixed_page({}))), false);
  expect_rows_sum_to_one(
      embedded_data(attention_page_html(mixed_page({.unit = TokenUnit::kWords}))), false);
}

TEST(AttentionPage, HiddenSpecialTokensLeaveRowsAtMostOne) {
  expect_rows_sum_to_one(embedded_data(attention_page_html(
                             mixed_page({.unit = TokenUnit::kWords, .hide_special = true}))),
                         true);
}

TEST(AttentionPage, TextCannotBreakOutOfTheDataScript) {
  AttentionPage page;
  AttentionExample e;
  e.input = "</script><script>alert(1)</script> & <!-- x";
  page.examples.push_back(e);
  page.title = "<b>t</b>";
  const std::string html = attention_page_html(page);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("<title>&lt;b&gt;t&lt;/b&gt;</title>"), std::string::npos);
  EXPECT_EQ(embedded_data(html)["examples"][0]["input"], e.input);  // intact after parsing
}

TEST(AttentionPage, SelfContainedWithoutNetwork) {
  const std::string html = attention_page_html(mixed_page({}));
  EXPECT_EQ(html.find("http"), std::string::npos);  // no URL at all: nothing to fetch
  EXPECT_EQ(html.find(" src="), std::string::npos);
}

TEST(AttentionPage, SelftestCounts) {
  const AttentionPage page = mixed_page({});
  const PageCounts counts = selftest_counts(page);
  EXPECT_EQ(counts.examples, 4);
  // Transformer: 3 groups × 3 layers × (4 heads + mean); RNN: 1; Transformer classifier: 2 × 3.
  EXPECT_EQ(counts.views, 45 + 1 + 6);
  const HeatmapGroup& cross = page.examples[0].heatmaps[0];
  long cells = 0;
  for (const AttentionExample& e : page.examples)
    for (const HeatmapGroup& g : e.heatmaps)
      cells += static_cast<long>(g.layers()) * (g.heads > 1 ? g.heads + 1 : 1) *
               static_cast<long>(g.row_labels.size() * g.col_labels.size());
  EXPECT_EQ(counts.cells, cells);
  EXPECT_GT(static_cast<long>(cross.row_labels.size()), 11);
  EXPECT_EQ(counts.thumbnails, 3 * 15 * 15 + 6 * 6);
  EXPECT_EQ(counts.sentences, 3);
  EXPECT_EQ(counts.hovers, 3 + 1 + 1);  // one per heatmap group
  long tokens = static_cast<long>(page.examples[2].token_weights[0].labels.size());
  for (const TokenWeights& tw : page.examples[3].token_weights)
    tokens += static_cast<long>(tw.labels.size());
  EXPECT_EQ(counts.tokens, tokens);
}

TEST(AttentionPage, WritesTheFile) {
  const auto path =
      std::filesystem::temp_directory_path() / "heed_viz_page_test" / "sub" / "page.html";
  std::filesystem::remove_all(path.parent_path().parent_path());
  write_attention_page(path, mixed_page({}));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), attention_page_html(mixed_page({})));
  std::filesystem::remove_all(path.parent_path().parent_path());
}

}  // namespace
}  // namespace heed::viz
