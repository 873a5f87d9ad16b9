#include "heed/viz/svg.h"

#include <gtest/gtest.h>

#include "heed/viz/colormap.h"
#include "testing/gradcheck.h"
#include "testing/viz_fixtures.h"

namespace heed::viz {
namespace {

// A weight as the SVG tooltips write it.
std::string detail_number(float v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  std::string s = buffer;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

TEST(XmlCheck, CatchesWhatItShould) {  // the checker the SVG tests rely on
  EXPECT_EQ(testing::xml_problem("<svg><g a=\"1\"/><text>a &amp; b</text></svg>"), "");
  EXPECT_NE(testing::xml_problem("<svg><g></svg>"), "");
  EXPECT_NE(testing::xml_problem("<svg a=1></svg>"), "");
  EXPECT_NE(testing::xml_problem("<svg>a & b</svg>"), "");
  EXPECT_NE(testing::xml_problem("<svg a=\"<\"></svg>"), "");
  EXPECT_NE(testing::xml_problem("<svg/><svg/>"), "");
  EXPECT_NE(testing::xml_problem("<svg a=\"1\" a=\"2\"/>"), "");
}

TEST(HeatmapSvg, WellFormedWithOneCellPerWeightAndTooltips) {
  const Matrix m(2, 3, {0.f, 0.25f, 0.75f, 1.f, 0.f, 0.f});
  const std::string svg =
      heatmap_svg(m, {"<s>", "b&c"}, {"x", "y", "z"}, {.title = "T \"1\"", .row_title = "output"});
  testing::expect_well_formed_xml(svg, "heatmap.svg");
  EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(count(svg, "<title>"), 6);  // one per cell; no label was truncated
  EXPECT_NE(svg.find("<title>&lt;s&gt; \xE2\x86\x92 z: 0.75</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>b&amp;c \xE2\x86\x92 x: 1</title>"), std::string::npos);
  // Colour of the cells: vmin 0 -> viridis(0), 1 -> viridis(1), 0.25 -> viridis(0.25).
  EXPECT_NE(svg.find("fill=\"#fde725\"><title>b&amp;c"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"" + to_hex(viridis(0.25)) + "\"><title>&lt;s&gt; \xE2\x86\x92 y"),
            std::string::npos);
  EXPECT_NE(svg.find("rotate(-45)"), std::string::npos);  // column labels
  EXPECT_NE(svg.find(">T &quot;1&quot;</text>"), std::string::npos);
}

TEST(HeatmapSvg, ColourBarFollowsTheRange) {
  const Matrix m(1, 2, {0.1f, 0.2f});
  const std::string fixed = heatmap_svg(m, {"a"}, {"b", "c"});
  EXPECT_NE(fixed.find(">1</text>"), std::string::npos);  // top tick of [0, 1]
  EXPECT_NE(fixed.find(">0.25</text>"), std::string::npos);
  const std::string stretched = heatmap_svg(m, {"a"}, {"b", "c"}, {.vmax = 0});  // to the maximum
  EXPECT_NE(stretched.find(">0.2</text>"), std::string::npos);
  EXPECT_NE(stretched.find(">0.05</text>"), std::string::npos);
  EXPECT_NE(stretched.find("fill=\"#fde725\"><title>a \xE2\x86\x92 c: 0.2</title>"),
            std::string::npos);
}

TEST(HeatmapSvg, FiftyTokenSentenceIsReadable) {
  // 50 × 50: cells of 12 px, 9 px labels; long labels truncated with the full text as tooltip.
  Rng rng(3);
  const Tensor w = testing::random_attention(1, 0, 50, 50, {50}, {50}, false, rng);
  const Matrix m(50, 50, std::vector<float>(w.data(), w.data() + w.numel()));
  std::vector<std::string> labels;
  for (int i = 0; i < 50; ++i)
    labels.push_back(i == 7 ? "Donaudampfschifffahrtsgesellschaft" : str("w", i));
  const std::string svg = heatmap_svg(m, labels, labels);
  testing::expect_well_formed_xml(svg, "heatmap50.svg");
  EXPECT_NE(svg.find("width=\"12\" height=\"12\""), std::string::npos);
  EXPECT_NE(svg.find("<g font-size=\"9\""), std::string::npos);
  EXPECT_NE(
      svg.find(
          "<title>Donaudampfschifffahrtsgesellschaft</title>Donaudampfschif\xE2\x80\xA6</text>"),
      std::string::npos);
  EXPECT_EQ(count(svg, "<rect x="), 2500 + 64 + 2);  // cells, colour bands, frame and bar outline
}

TEST(HeatmapSvg, RejectsLabelCountsThatDifferFromTheMatrix) {
  EXPECT_THROW_MSG(heatmap_svg(Matrix(2, 2), {"a"}, {"b", "c"}),
                   "heatmap_svg: 1 row and 2 column labels for a 2x2 matrix");
}

TEST(TextWeightsSvg, ShadesTokensByWeight) {
  const std::string W(kWordStart);
  const std::vector<TokenWeights> lines{{{W + "good", W + "fil", "m"}, {0.5f, 0.25f, 0.25f}},
                                        {{W + "bad", W + "end"}, {0.8f, 0.2f}}};
  const std::string svg = text_weights_svg(lines, {0.75f, 0.25f}, {.title = "HAN"});
  testing::expect_well_formed_xml(svg, "text.svg");
  // Shading ∝ sentence weight × word weight, over its maximum 0.75 · 0.5: "good" is 1, "bad"
  // 0.2/0.375.
  EXPECT_NE(svg.find("<title>" + W + "good: 0.5</title><rect"), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity=\"1\"/><text"), std::string::npos);
  EXPECT_NE(svg.find("fill-opacity=\"0.533\""), std::string::npos);  // 0.25 · 0.8 / 0.375
  EXPECT_NE(svg.find(">fil</text>"), std::string::npos);  // "▁" removed; "m" glued to it
  EXPECT_NE(svg.find(">m</text>"), std::string::npos);
  EXPECT_NE(svg.find("<title>sentence 1: weight 0.75</title>"), std::string::npos);
  EXPECT_THROW_MSG(text_weights_svg(lines, {1.f}), "text_weights_svg: 1 line weights for 2 lines");
}

TEST(ExampleSvg, PicksTheMapLayerAndHead) {
  const AttentionExample e = testing::transformer_example(6, 7, 3, 4, {}, 9);
  const std::string cross = example_svg(e);  // cross-attention, last layer, mean of the heads
  testing::expect_well_formed_xml(cross, "cross.svg");
  EXPECT_NE(cross.find("Cross-attention, layer 2, mean of 4 heads"), std::string::npos);
  const HeatmapGroup& encoder = e.heatmaps[1];
  const std::string svg = example_svg(e, {.map = "encoder", .layer = 0, .head = 1});
  EXPECT_NE(svg.find("Encoder self-attention, layer 0, head 1"), std::string::npos);
  // Its first cell is head 1's weight (4 decimals in the tooltip).
  EXPECT_NE(svg.find(": " + detail_number(encoder.at(0, 1)(0, 0)) + "</title></rect>"),
            std::string::npos);
  EXPECT_THROW_MSG(example_svg(e, {.map = "pool"}), "example_svg: '");
  EXPECT_THROW_MSG(example_svg(e, {.map = "nothing"}), "example_svg: no attention map 'nothing'");
  EXPECT_THROW_MSG(example_svg(e, {.map = "cross", .layer = 3}),
                   "example_svg: Cross-attention has 3 layers (asked for layer 3)");
  EXPECT_THROW_MSG(example_svg(e, {.map = "cross", .head = 4}),
                   "example_svg: Cross-attention has 4 heads (asked for head 4)");
}

TEST(ExampleSvg, ClassifiersShowTheirShadedText) {
  const std::string flat = example_svg(testing::classifier_example(8, 0, 0, {}, 2));
  testing::expect_well_formed_xml(flat, "flat.svg");
  EXPECT_NE(flat.find("shading: attention weight"), std::string::npos);
  const std::string han = example_svg(testing::han_example(3, 5, {}, 3));
  EXPECT_NE(han.find("<title>sentence 3: weight"), std::string::npos);
  EXPECT_NE(han.find("positive (80%)"), std::string::npos);
}

}  // namespace
}  // namespace heed::viz
