// The interactive attention page: data as JSON, HTML around it (attention_page.h).
#include "heed/viz/attention_page.h"

#include <cmath>
#include <sstream>

#include "heed/viz/colormap.h"
#include "markup.h"
#include "page_assets.h"

namespace heed::viz {

namespace {

using nlohmann::json;

// Weights as JSON numbers rounded to 5 decimals (a row of 50 weights then sums to 1 within
// 2.5e-4), which keeps pages of long sentences small.
double rounded(float v) {
  return std::isfinite(v) ? std::round(static_cast<double>(v) * 1e5) / 1e5 : 0.0;
}

json numbers(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) out.push_back(rounded(v));
  return out;
}

json group_json(const HeatmapGroup& g) {
  json values = json::array();
  for (int layer = 0; layer < g.layers(); ++layer) {
    json heads = json::array();
    for (int head = 0; head < g.heads; ++head) heads.push_back(numbers(g.at(layer, head).values));
    values.push_back(std::move(heads));
  }
  return {{"id", g.id},
          {"title", g.title},
          {"kind", g.kind},
          {"row_title", g.row_title},
          {"col_title", g.col_title},
          {"rows", g.row_labels},
          {"cols", g.col_labels},
          {"layers", g.layer_names},
          {"heads", g.heads},
          {"complete_rows", g.complete_rows},
          {"values", std::move(values)}};
}

json example_json(const AttentionExample& e) {
  json token_weights = json::array();
  for (const TokenWeights& tw : e.token_weights)
    token_weights.push_back({{"labels", tw.labels}, {"weights", numbers(tw.weights)}});
  json heatmaps = json::array();
  for (const HeatmapGroup& g : e.heatmaps) heatmaps.push_back(group_json(g));
  return {{"input", e.input},
          {"output", e.output},
          {"alignment", e.alignment},
          {"classes",
           {{"names", e.classes.names},
            {"probabilities", numbers(e.classes.probabilities)},
            {"predicted", e.classes.predicted},
            {"gold", e.classes.gold}}},
          {"token_weights", std::move(token_weights)},
          {"sentence_weights", numbers(e.sentence_weights)},
          {"heatmaps", std::move(heatmaps)}};
}

}  // namespace

json attention_page_json(const AttentionPage& page) {
  json examples = json::array();
  for (const AttentionExample& e : page.examples) examples.push_back(example_json(e));
  return {{"title", page.title},
          {"notes", page.notes},
          {"unit", page.unit == TokenUnit::kWords ? "words" : "pieces"},
          {"colormap", viridis_table(256)},
          {"examples", std::move(examples)}};
}

std::string attention_page_html(const AttentionPage& page) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<meta name=\"generator\" content=\"heed\">\n"
      << "<title>" << detail::xml_escape(page.title) << "</title>\n"
      << "<style>" << detail::kPageCss << "</style>\n</head>\n<body>\n"
      << "<div id=\"heed-status\" data-state=\"loading\" hidden></div>\n"
      << "<header><h1>" << detail::xml_escape(page.title) << "</h1><p class=\"notes\">";
  for (const std::string& note : page.notes)
    out << "<span>" << detail::xml_escape(note) << "</span>";
  out << "</p></header>\n"
      << "<noscript><p>This page draws the attention maps with JavaScript; please enable "
         "it.</p></noscript>\n"
      << "<main id=\"app\"></main>\n"
      << "<script type=\"application/json\" id=\"heed-data\">"
      << detail::script_json(attention_page_json(page)) << "</script>\n"
      << "<script>" << detail::kAttentionPageScript << "</script>\n</body>\n</html>\n";
  return out.str();
}

void write_attention_page(const std::filesystem::path& path, const AttentionPage& page) {
  detail::write_text_file(path, attention_page_html(page), "write_attention_page");
}

PageCounts selftest_counts(const AttentionPage& page) {
  PageCounts counts;
  for (const AttentionExample& e : page.examples) {
    ++counts.examples;
    for (const TokenWeights& tw : e.token_weights)
      counts.tokens += static_cast<long>(tw.labels.size());
    if (!e.sentence_weights.empty()) counts.sentences += static_cast<long>(e.token_weights.size());
    for (const HeatmapGroup& g : e.heatmaps) {
      ++counts.hovers;
      const long views = static_cast<long>(g.layers()) * (g.heads > 1 ? g.heads + 1 : 1);
      counts.views += views;
      counts.cells += views * static_cast<long>(g.row_labels.size() * g.col_labels.size());
      counts.thumbnails += views > 1 ? views * views : 0;
    }
  }
  return counts;
}

}  // namespace heed::viz
