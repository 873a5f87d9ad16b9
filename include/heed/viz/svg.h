// Standalone SVG pictures (one self-contained file each, no script): an attention heatmap, and a
// text with each token shaded by its attention weight. For papers, READMEs and `heed attention
// --out FILE.svg`; the interactive HTML page is attention_page.h.
#pragma once

#include <string>
#include <vector>

#include "heed/viz/attention_view.h"
#include "heed/viz/tokens.h"

namespace heed::viz {

struct HeatmapSvgOptions {
  std::string title = "";
  std::string note = "";       // a smaller line under the title
  std::string row_title = "";  // what the rows are ("output"), written beside the row labels
  std::string col_title = "";  // ... and the columns ("source")
  // Colour range: vmin -> viridis(0), vmax -> viridis(1). vmax <= vmin: the matrix maximum.
  float vmin = 0.f;
  float vmax = 1.f;
  int max_label_chars = 16;  // longer labels end in "…" (the full text is their tooltip)
  int cell_size = 0;         // px; 0: 28 px for small matrices down to 12 px from ~47 tokens
};

// Heatmap of `matrix` (rows = queries, columns = keys): one square cell per weight with its value
// as tooltip ("row → column: 0.1234"), row labels on the left, column labels above rotated −45°,
// a colour bar with ticks. Throws if the label counts differ from the matrix shape.
std::string heatmap_svg(const Matrix& matrix, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels,
                        const HeatmapSvgOptions& options = {});

struct TextWeightsSvgOptions {
  std::string title = "";
  std::string note = "";
  int width = 760;  // px; lines wrap at it
  int font_size = 14;
  bool words_are_pieces = true;  // labels are SentencePiece pieces: "▁x" starts a word, else glued
};

// Tokens shaded by weight, one block per entry of `lines` (a text, or each sentence of a
// document); shading ∝ weight / the largest weight shown. With `line_weights` (one per line,
// e.g. HAN's sentence attention) each line gets a bar of its weight and its words are shaded by
// line weight × word weight. Tooltips give the weights.
std::string text_weights_svg(const std::vector<TokenWeights>& lines,
                             const std::vector<float>& line_weights,
                             const TextWeightsSvgOptions& options = {});

// Which picture of an AttentionExample example_svg draws.
struct ExampleSvgOptions {
  // A heatmap group, by a substring of its id or title ("cross", "encoder", "decoder", "self",
  // "multihead_attn"...); empty: the first group (cross-attention for translation). "pool" (or a
  // classifier without heatmaps): the shaded text.
  std::string map = "";
  int layer = -1;        // -1: the last layer
  int head = -1;         // -1: the mean of the heads
  bool stretch = false;  // colours up to the matrix maximum instead of 1
};

// One picture of an example: a heatmap (with the example's text and the map, layer and head in
// its title) or its shaded text. Throws naming the choices if `map`, `layer` or `head` is not
// there.
std::string example_svg(const AttentionExample& example, const ExampleSvgOptions& options = {});

}  // namespace heed::viz
