// Standalone SVG heatmaps and shaded texts (svg.h).
//
// Text is measured by estimate (no font metrics here): labels get 0.62 em per character, which
// bounds common sans-serif fonts from above; shaded texts use a monospace font (0.6 em).
#include "heed/viz/svg.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "heed/util/check.h"
#include "heed/viz/colormap.h"
#include "markup.h"

namespace heed::viz {

namespace {

using detail::format_number;
using detail::truncate_utf8;
using detail::utf8_length;
using detail::xml_escape;

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr const char* kMonoFont = "DejaVu Sans Mono, Menlo, Consolas, monospace";
constexpr double kSin45 = 0.70710678118654752;

std::string px(double v) { return format_number(v, 1); }

// <text> with its full label as tooltip when it was truncated.
void label_text(std::ostringstream& out, const std::string& label, int max_chars,
                const std::string& attributes) {
  const std::string shown = truncate_utf8(label, max_chars);
  out << "<text " << attributes << ">";
  if (shown != label) out << "<title>" << xml_escape(label) << "</title>";
  out << xml_escape(shown) << "</text>\n";
}

double max_label_width(const std::vector<std::string>& labels, int max_chars, double char_width) {
  int longest = 0;
  for (const std::string& l : labels)
    longest = std::max(longest, std::min(utf8_length(l), max_chars));
  return longest * char_width;
}

}  // namespace

std::string heatmap_svg(const Matrix& matrix, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels,
                        const HeatmapSvgOptions& options) {
  CHECK(static_cast<int>(row_labels.size()) == matrix.rows &&
            static_cast<int>(col_labels.size()) == matrix.cols,
        "heatmap_svg: ", row_labels.size(), " row and ", col_labels.size(), " column labels for a ",
        matrix.rows, "x", matrix.cols, " matrix");
  CHECK(options.max_label_chars >= 2, "heatmap_svg: max_label_chars must be >= 2 (got ",
        options.max_label_chars, ")");
  const int R = matrix.rows, C = matrix.cols;
  const int n = std::max({R, C, 1});
  const double cell =
      options.cell_size > 0 ? options.cell_size : std::clamp(std::round(560.0 / n), 12.0, 28.0);
  const double font = std::clamp(std::round(cell * 0.72), 9.0, 14.0);
  const double char_width = font * 0.62;

  float vmin = options.vmin, vmax = options.vmax;
  if (vmax <= vmin) {
    vmax = vmin;
    for (float v : matrix.values) vmax = std::max(vmax, v);
    if (vmax <= vmin) vmax = vmin + 1e-6f;
  }

  // Layout, from the top: title, note, column title, rotated column labels, matrix.
  const double pad = 12;
  const double title_h = options.title.empty() ? 0 : 26;
  const double note_h = options.note.empty() ? 0 : 18;
  const double col_title_h = options.col_title.empty() ? 0 : font + 10;
  const double row_title_w = options.row_title.empty() ? 0 : font + 10;
  const double row_label_w = max_label_width(row_labels, options.max_label_chars, char_width);
  const double col_label_w = max_label_width(col_labels, options.max_label_chars, char_width);
  const double x0 = pad + row_title_w + row_label_w + 8;
  const double y0 = pad + title_h + note_h + col_title_h + col_label_w * kSin45 + font + 6;
  const double matrix_w = C * cell, matrix_h = R * cell;
  const double bar_x = x0 + matrix_w + 24, bar_w = 14;
  const double bar_h = std::max(matrix_h, 120.0);
  double right = bar_x + bar_w + 8 + 6 * char_width;
  for (int c = 0; c < C; ++c) {
    const int chars =
        std::min(utf8_length(col_labels[static_cast<std::size_t>(c)]), options.max_label_chars);
    right = std::max(right, x0 + (c + 0.5) * cell + (chars * char_width + font) * kSin45);
  }
  right = std::max(right, pad + utf8_length(options.title) * 16 * 0.62);
  right = std::max(right, pad + utf8_length(options.note) * 12 * 0.62);
  const double width = std::ceil(right + pad);
  const double height = std::ceil(y0 + std::max(matrix_h, bar_h) + font + pad);

  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\" font-family=\"" << kFont << "\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!options.title.empty())
    out << "<text x=\"" << pad << "\" y=\"" << pad + 16
        << "\" font-size=\"16\" font-weight=\"bold\">" << xml_escape(options.title) << "</text>\n";
  if (!options.note.empty())
    out << "<text x=\"" << pad << "\" y=\"" << pad + title_h + 12
        << "\" font-size=\"12\" fill=\"#555555\">" << xml_escape(options.note) << "</text>\n";
  if (!options.col_title.empty())
    out << "<text x=\"" << px(x0 + matrix_w / 2) << "\" y=\"" << px(pad + title_h + note_h + font)
        << "\" font-size=\"" << font << "\" text-anchor=\"middle\" fill=\"#555555\">"
        << xml_escape(options.col_title) << "</text>\n";
  if (!options.row_title.empty())
    out << "<text transform=\"translate(" << px(pad + font) << "," << px(y0 + matrix_h / 2)
        << ") rotate(-90)\" font-size=\"" << font << "\" text-anchor=\"middle\" fill=\"#555555\">"
        << xml_escape(options.row_title) << "</text>\n";

  // Cells, with their values as tooltips.
  out << "<g shape-rendering=\"crispEdges\">\n";
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      const float v = matrix(r, c);
      out << "<rect x=\"" << px(x0 + c * cell) << "\" y=\"" << px(y0 + r * cell) << "\" width=\""
          << px(cell) << "\" height=\"" << px(cell) << "\" fill=\""
          << to_hex(viridis((v - vmin) / (vmax - vmin))) << "\"><title>"
          << xml_escape(row_labels[static_cast<std::size_t>(r)]) << " \xE2\x86\x92 "
          << xml_escape(col_labels[static_cast<std::size_t>(c)]) << ": " << format_number(v, 4)
          << "</title></rect>\n";
    }
  }
  out << "</g>\n";
  out << "<rect x=\"" << px(x0) << "\" y=\"" << px(y0) << "\" width=\"" << px(matrix_w)
      << "\" height=\"" << px(matrix_h) << "\" fill=\"none\" stroke=\"#888888\"/>\n";

  // Labels.
  out << "<g font-size=\"" << font << "\" fill=\"#222222\">\n";
  for (int r = 0; r < R; ++r)
    label_text(out, row_labels[static_cast<std::size_t>(r)], options.max_label_chars,
               str("x=\"", px(x0 - 5), "\" y=\"", px(y0 + (r + 0.5) * cell + font * 0.35),
                   "\" text-anchor=\"end\""));
  for (int c = 0; c < C; ++c)
    label_text(out, col_labels[static_cast<std::size_t>(c)], options.max_label_chars,
               str("transform=\"translate(", px(x0 + (c + 0.5) * cell + font * 0.3), ",",
                   px(y0 - 5), ") rotate(-45)\""));
  out << "</g>\n";

  // Colour bar: 64 bands from vmax (top) to vmin, five ticks.
  constexpr int kBands = 64;
  out << "<g shape-rendering=\"crispEdges\">\n";
  for (int k = 0; k < kBands; ++k)
    out << "<rect x=\"" << px(bar_x) << "\" y=\"" << px(y0 + bar_h * k / kBands) << "\" width=\""
        << px(bar_w) << "\" height=\"" << px(bar_h / kBands + 0.5) << "\" fill=\""
        << to_hex(viridis(1.0 - (k + 0.5) / kBands)) << "\"/>\n";
  out << "</g>\n";
  out << "<rect x=\"" << px(bar_x) << "\" y=\"" << px(y0) << "\" width=\"" << px(bar_w)
      << "\" height=\"" << px(bar_h) << "\" fill=\"none\" stroke=\"#888888\"/>\n";
  out << "<g font-size=\"" << font << "\" fill=\"#222222\">\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = y0 + bar_h * (1.0 - i / 4.0);
    out << "<line x1=\"" << px(bar_x + bar_w) << "\" y1=\"" << px(y) << "\" x2=\""
        << px(bar_x + bar_w + 4) << "\" y2=\"" << px(y) << "\" stroke=\"#888888\"/>";
    out << "<text x=\"" << px(bar_x + bar_w + 6) << "\" y=\"" << px(y + font * 0.35) << "\">"
        << format_number(vmin + (vmax - vmin) * i / 4.0, 3) << "</text>\n";
  }
  out << "</g>\n</svg>\n";
  return out.str();
}

std::string text_weights_svg(const std::vector<TokenWeights>& lines,
                             const std::vector<float>& line_weights,
                             const TextWeightsSvgOptions& options) {
  CHECK(line_weights.empty() || line_weights.size() == lines.size(),
        "text_weights_svg: ", line_weights.size(), " line weights for ", lines.size(), " lines");
  for (const TokenWeights& line : lines)
    CHECK(line.labels.size() == line.weights.size(), "text_weights_svg: ", line.labels.size(),
          " labels but ", line.weights.size(), " weights");
  const double font = options.font_size;
  const double char_width = font * 0.6, line_h = font * 1.8, box_h = font * 1.4;
  const double pad = 12;
  const bool bars = !line_weights.empty();
  const double bar_w = 80, text_x = pad + (bars ? bar_w + 60 : 0);
  const double text_right = std::max<double>(options.width - pad, text_x + 20 * char_width);

  auto shade_of = [&](std::size_t line, std::size_t i) {
    return (bars ? line_weights[line] : 1.f) * lines[line].weights[i];
  };
  float max_shade = 0;
  for (std::size_t l = 0; l < lines.size(); ++l)
    for (std::size_t i = 0; i < lines[l].weights.size(); ++i)
      max_shade = std::max(max_shade, shade_of(l, i));
  if (max_shade <= 0) max_shade = 1;

  std::ostringstream body;
  double y = pad + (options.title.empty() ? 0 : 26) + (options.note.empty() ? 0 : 18);
  for (std::size_t l = 0; l < lines.size(); ++l) {
    double x = text_x;
    if (bars) {
      const float w = line_weights[l];
      body << "<g><title>sentence " << l + 1 << ": weight " << format_number(w, 4) << "</title>"
           << "<rect x=\"" << pad << "\" y=\"" << px(y + (line_h - box_h) / 2) << "\" width=\""
           << px(bar_w * std::clamp(w, 0.f, 1.f)) << "\" height=\"" << px(box_h)
           << "\" fill=\"#3b528b\"/><rect x=\"" << pad << "\" y=\"" << px(y + (line_h - box_h) / 2)
           << "\" width=\"" << bar_w << "\" height=\"" << px(box_h)
           << "\" fill=\"none\" stroke=\"#888888\"/><text x=\"" << pad + bar_w + 6 << "\" y=\""
           << px(y + line_h / 2 + font * 0.35) << "\" font-size=\"" << font * 0.85 << "\">"
           << format_number(w, 3) << "</text></g>\n";
    }
    const TokenWeights& line = lines[l];
    for (std::size_t i = 0; i < line.labels.size(); ++i) {
      std::string text = line.labels[i];
      bool space = i > 0 && !options.words_are_pieces;
      if (options.words_are_pieces && text.starts_with(kWordStart)) {
        text.erase(0, kWordStart.size());
        space = i > 0;
      }
      if (text.empty()) text.push_back(' ');
      const double w = utf8_length(text) * char_width;
      if (space) x += char_width;
      if (x + w > text_right && x > text_x) {  // wrap
        x = text_x;
        y += line_h;
      }
      const double alpha = shade_of(l, i) / max_shade;
      body << "<g><title>" << xml_escape(line.labels[i]) << ": "
           << format_number(line.weights[i], 4) << "</title><rect x=\"" << px(x) << "\" y=\""
           << px(y + (line_h - box_h) / 2) << "\" width=\"" << px(w) << "\" height=\"" << px(box_h)
           << "\" fill=\"#e6550d\" fill-opacity=\"" << format_number(alpha, 3) << "\"/><text x=\""
           << px(x) << "\" y=\"" << px(y + line_h / 2 + font * 0.35) << "\">" << xml_escape(text)
           << "</text></g>\n";
      x += w;
    }
    y += line_h + (bars ? font * 0.4 : 0);
  }

  const double width = options.width, height = std::ceil(y + pad);
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << " " << height << "\">\n";
  out << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  if (!options.title.empty())
    out << "<text x=\"" << pad << "\" y=\"" << pad + 16 << "\" font-family=\"" << kFont
        << "\" font-size=\"16\" font-weight=\"bold\">" << xml_escape(options.title) << "</text>\n";
  if (!options.note.empty())
    out << "<text x=\"" << pad << "\" y=\"" << pad + (options.title.empty() ? 0 : 26) + 12
        << "\" font-family=\"" << kFont << "\" font-size=\"12\" fill=\"#555555\">"
        << xml_escape(options.note) << "</text>\n";
  out << "<g font-family=\"" << kMonoFont << "\" font-size=\"" << font
      << "\" fill=\"#111111\" xml:space=\"preserve\">\n"
      << body.str() << "</g>\n</svg>\n";
  return out.str();
}

std::string example_svg(const AttentionExample& example, const ExampleSvgOptions& options) {
  const std::string subject = detail::truncate_utf8(example.input, 70);
  const bool text = options.map == "pool" || (example.heatmaps.empty() && options.map.empty());
  if (text) {
    CHECK(!example.token_weights.empty(), "example_svg: '", subject, "' has no pooling weights");
    std::string title = subject;
    if (!example.classes.names.empty())
      title = example.classes.names[static_cast<std::size_t>(example.classes.predicted)] + " (" +
              format_number(
                  100.0 * example.classes
                              .probabilities[static_cast<std::size_t>(example.classes.predicted)],
                  1) +
              "%): " + subject;
    return text_weights_svg(
        example.token_weights, example.sentence_weights,
        {.title = title,
         .note = example.sentence_weights.empty()
                     ? "shading: attention weight"
                     : "bars: sentence attention; shading: sentence × word attention"});
  }
  const HeatmapGroup* group = nullptr;
  std::string known;
  for (const HeatmapGroup& g : example.heatmaps) {
    known += " '" + g.id + "'";
    if (!group && (options.map.empty() || g.id.find(options.map) != std::string::npos ||
                   g.title.find(options.map) != std::string::npos ||
                   detail::to_lower(g.title).find(options.map) != std::string::npos))
      group = &g;
  }
  CHECK(group, "example_svg: no attention map '", options.map, "' for '", subject,
        "' (it has:", known.empty() ? std::string(" none") : known, ")");
  const int layer = options.layer < 0 ? group->layers() - 1 : options.layer;
  CHECK(layer < group->layers(), "example_svg: ", group->title, " has ", group->layers(),
        " layers (asked for layer ", options.layer, ")");
  CHECK(options.head < group->heads, "example_svg: ", group->title, " has ", group->heads,
        " heads (asked for head ", options.head, ")");
  const Matrix m = options.head < 0 ? group->head_mean(layer) : group->at(layer, options.head);
  std::string where = group->title;
  if (group->layers() > 1) where += str(", layer ", layer);
  if (group->heads > 1)
    where +=
        options.head < 0 ? str(", mean of ", group->heads, " heads") : str(", head ", options.head);
  std::string note =
      example.output.empty()
          ? where
          : where + " \xE2\x80\x94 output: " + detail::truncate_utf8(example.output, 60);
  if (!group->complete_rows) note += " (special tokens hidden: rows sum to \xE2\x89\xA4 1)";
  return heatmap_svg(m, group->row_labels, group->col_labels,
                     {.title = subject,
                      .note = note,
                      .row_title = group->row_title,
                      .col_title = group->col_title,
                      .vmin = 0.f,
                      .vmax = options.stretch ? 0.f : 1.f});
}

}  // namespace heed::viz
