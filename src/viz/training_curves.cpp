// Training curves: metrics.jsonl -> series -> SVG line charts -> HTML (training_curves.h).
#include "heed/viz/training_curves.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "heed/util/check.h"
#include "markup.h"
#include "page_assets.h"

namespace heed::viz {

namespace {

using detail::format_number;
using detail::xml_escape;

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
constexpr int kMaxHoverPoints = 400;
constexpr std::size_t kMaxDotPoints = 60;

std::string split_colour(const std::string& split, std::size_t index) {
  if (split == "train") return "#3b528b";
  if (split == "valid") return "#e6550d";
  static const char* kOthers[] = {"#21908c", "#8b3b7a", "#5dc963", "#444444"};
  return kOthers[index % 4];
}

std::string px(double v) { return format_number(v, 1); }

// Step labels: 1500 -> "1.5k", 2000000 -> "2M".
std::string step_label(double step) {
  const double a = std::abs(step);
  if (a >= 1e6) return format_number(step / 1e6, 2) + "M";
  if (a >= 1e4) return format_number(step / 1e3, 1) + "k";
  return format_number(step, 0);
}

// Value labels with as many decimals as the tick spacing needs; tiny ranges in e-notation.
std::string value_label(double v, double spacing) {
  if (v == 0) return "0";
  if (spacing < 1e-3) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2g", v);
    return buffer;
  }
  int decimals = 0;  // the fewest that write the tick spacing exactly (0.25 -> 2)
  while (decimals < 6) {
    const double scaled = spacing * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++decimals;
  }
  return format_number(v, decimals);
}

std::string point_label(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.5g", v);
  return buffer;
}

int metric_rank(const std::string& metric) {
  static const char* kOrder[] = {"loss",     "bleu",     "chrf", "exact_match",
                                 "accuracy", "macro_f1", "lr",   "tokens_per_s"};
  for (int i = 0; i < 8; ++i)
    if (metric == kOrder[i]) return i;
  return 8;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi && target >= 1,
        "nice_ticks: need finite lo <= hi and target >= 1 (got ", lo, ", ", hi, ", ", target, ")");
  if (lo == hi) {
    const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double spacing = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (raw <= m * magnitude * 1.0000001) {
      spacing = m * magnitude;
      break;
    }
  }
  // Loose ticks: from the last multiple <= lo to the first multiple >= hi.
  const double first = std::floor(lo / spacing + 1e-9), last = std::ceil(hi / spacing - 1e-9);
  std::vector<double> ticks;
  for (double k = first; k <= last; ++k) ticks.push_back(k == 0 ? 0.0 : k * spacing);
  return ticks;
}

MetricsHistory parse_metrics(std::istream& in, const std::string& source) {
  MetricsHistory history;
  std::string line;
  long number = 0;
  double last_epoch = std::nan("");
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      CHECK(false, "metrics: ", source, ":", number, ": not JSON (", e.what(), ")");
    }
    CHECK(record.is_object() && record.contains("step") && record["step"].is_number(),
          "metrics: ", source, ":", number, ": expected a JSON object with a numeric \"step\"");
    ++history.records;
    const double step = record["step"].get<double>();
    const std::string split = record.contains("split") && record["split"].is_string()
                                  ? record["split"].get<std::string>()
                                  : "";
    for (const auto& [key, value] : record.items()) {
      if (key == "step" || key == "split" || !value.is_number()) continue;
      const double v = value.get<double>();
      if (key == "epoch") {
        if (split != "valid" && v != last_epoch) {
          if (!std::isnan(last_epoch)) history.epochs.push_back({step, v});
          last_epoch = v;
        }
        continue;
      }
      auto it = std::find_if(history.series.begin(), history.series.end(),
                             [&](const Series& s) { return s.metric == key && s.split == split; });
      if (it == history.series.end()) {
        history.series.push_back({key, split, {}, {}});
        it = history.series.end() - 1;
      }
      it->steps.push_back(step);
      it->values.push_back(v);
    }
  }
  return history;
}

MetricsHistory read_metrics_history(const std::filesystem::path& path) {
  std::ifstream in(path);
  CHECK(in.good(), "metrics: cannot read ", path);
  return parse_metrics(in, path.string());
}

std::vector<Chart> standard_charts(const MetricsHistory& history) {
  std::vector<Chart> charts;
  for (const Series& s : history.series) {
    auto it = std::find_if(charts.begin(), charts.end(),
                           [&](const Chart& c) { return c.metric == s.metric; });
    if (it == charts.end()) {
      charts.push_back({s.metric, {}});
      it = charts.end() - 1;
    }
    it->lines.push_back(s);
  }
  std::stable_sort(charts.begin(), charts.end(), [](const Chart& a, const Chart& b) {
    return metric_rank(a.metric) < metric_rank(b.metric);
  });
  for (Chart& c : charts)  // train before valid before the rest
    std::stable_sort(c.lines.begin(), c.lines.end(), [](const Series& a, const Series& b) {
      auto rank = [](const std::string& s) { return s == "train" ? 0 : s == "valid" ? 1 : 2; };
      return rank(a.split) < rank(b.split);
    });
  return charts;
}

std::string line_chart_svg(const Chart& chart, const std::vector<EpochStart>& epochs,
                           const ChartOptions& options) {
  const double W = options.width, H = options.height;
  const std::string title = options.title.empty() ? chart.metric : options.title;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Series& s : chart.lines)
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      x_lo = std::min(x_lo, s.steps[i]);
      x_hi = std::max(x_hi, s.steps[i]);
      y_lo = std::min(y_lo, s.values[i]);
      y_hi = std::max(y_hi, s.values[i]);
    }
  const bool empty = !std::isfinite(x_lo);
  if (empty) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  if (std::isfinite(options.x_min)) x_lo = std::min(x_lo, options.x_min);
  if (std::isfinite(options.x_max)) x_hi = std::max(x_hi, options.x_max);
  const std::vector<double> x_ticks = nice_ticks(x_lo, x_hi, 6);
  const std::vector<double> y_ticks = nice_ticks(y_lo, y_hi, 5);
  x_lo = std::min(x_lo, x_ticks.front());
  x_hi = std::max(x_hi, x_ticks.back());
  if (x_hi == x_lo) x_hi = x_lo + 1;
  y_lo = std::min(y_lo, y_ticks.front());
  y_hi = std::max(y_hi, y_ticks.back());
  const double y_spacing = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1;

  // Plot area.
  const double left = 62, right = W - 16, top = 34, bottom = H - 40;
  auto sx = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); };
  auto sy = [&](double y) { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); };

  std::ostringstream out;
  out << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\""
      << H << "\" viewBox=\"0 0 " << W << " " << H << "\" font-family=\"" << kFont
      << "\" font-size=\"11\">\n"
      << "<style>.pt{opacity:0}.pt:hover{opacity:1}</style>\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\" font-weight=\"bold\">"
      << xml_escape(title) << "</text>\n"
      << "<rect class=\"plot-area\" x=\"" << left << "\" y=\"" << top << "\" width=\""
      << right - left << "\" height=\"" << bottom - top
      << "\" fill=\"#ffffff\" stroke=\"#bbbbbb\"/>\n";

  // Grid and ticks.
  out << "<g stroke=\"#eeeeee\">\n";
  for (double t : y_ticks)
    out << "<line x1=\"" << left << "\" x2=\"" << right << "\" y1=\"" << px(sy(t)) << "\" y2=\""
        << px(sy(t)) << "\"/>\n";
  for (double t : x_ticks)
    out << "<line x1=\"" << px(sx(t)) << "\" x2=\"" << px(sx(t)) << "\" y1=\"" << top << "\" y2=\""
        << bottom << "\"/>\n";
  out << "</g>\n<g fill=\"#444444\">\n";
  for (double t : y_ticks)
    out << "<text x=\"" << left - 6 << "\" y=\"" << px(sy(t) + 4) << "\" text-anchor=\"end\">"
        << value_label(t, y_spacing) << "</text>\n";
  for (double t : x_ticks)
    out << "<text x=\"" << px(sx(t)) << "\" y=\"" << bottom + 15 << "\" text-anchor=\"middle\">"
        << step_label(t) << "</text>\n";
  out << "<text x=\"" << px((left + right) / 2) << "\" y=\"" << H - 6
      << "\" text-anchor=\"middle\" fill=\"#666666\">step</text>\n</g>\n";

  // Epoch starts: every boundary is drawn; a label only where it does not run into the previous
  // one (a long run has dozens of epochs; the hover title names each).
  constexpr double kEpochLabelWidth = 34;  // "ep 100" at 9 px
  double last_label_x = -1e9;
  for (const EpochStart& e : epochs) {
    if (e.step < x_lo || e.step > x_hi) continue;
    const double x = sx(e.step);
    out << "<g><title>epoch " << format_number(e.epoch, 0) << " from step "
        << format_number(e.step, 0) << "</title><line x1=\"" << px(x) << "\" x2=\"" << px(x)
        << "\" y1=\"" << top << "\" y2=\"" << bottom
        << "\" stroke=\"#aaaaaa\" stroke-dasharray=\"3,3\"/>";
    if (x - last_label_x >= kEpochLabelWidth && x + kEpochLabelWidth <= right + 4) {
      out << "<text x=\"" << px(x + 3) << "\" y=\"" << top + 10
          << "\" font-size=\"9\" fill=\"#888888\">ep " << format_number(e.epoch, 0) << "</text>";
      last_label_x = x;
    }
    out << "</g>\n";
  }

  // Lines.
  for (std::size_t k = 0; k < chart.lines.size(); ++k) {
    const Series& s = chart.lines[k];
    const std::string colour = split_colour(s.split, k);
    const std::string name = s.split.empty() ? s.metric : s.split;
    out << "<g class=\"series\" data-name=\"" << xml_escape(name)
        << "\">\n<polyline fill=\"none\" stroke=\"" << colour
        << "\" stroke-width=\"1.6\" stroke-linejoin=\"round\" points=\"";
    for (std::size_t i = 0; i < s.steps.size(); ++i)
      if (std::isfinite(s.values[i]))
        out << px(sx(s.steps[i])) << "," << px(sy(s.values[i])) << " ";
    out << "\"/>\n";
    if (s.steps.size() <= kMaxDotPoints)
      for (std::size_t i = 0; i < s.steps.size(); ++i)
        if (std::isfinite(s.values[i]))
          out << "<circle cx=\"" << px(sx(s.steps[i])) << "\" cy=\"" << px(sy(s.values[i]))
              << "\" r=\"2.5\" fill=\"" << colour << "\"/>\n";
    const std::size_t every =
        std::max<std::size_t>(1, (s.steps.size() + kMaxHoverPoints - 1) / kMaxHoverPoints);
    for (std::size_t i = 0; i < s.steps.size(); ++i) {
      if ((i % every != 0 && i + 1 != s.steps.size()) || !std::isfinite(s.values[i])) continue;
      out << "<circle class=\"pt\" cx=\"" << px(sx(s.steps[i])) << "\" cy=\"" << px(sy(s.values[i]))
          << "\" r=\"4\" fill=\"" << colour << "\" data-step=\"" << format_number(s.steps[i], 0)
          << "\" data-value=\"" << point_label(s.values[i]) << "\"><title>"
          << xml_escape(s.split.empty() ? "" : s.split + " ") << xml_escape(s.metric) << " at step "
          << format_number(s.steps[i], 0) << ": " << point_label(s.values[i])
          << "</title></circle>\n";
    }
    out << "</g>\n";
  }
  if (chart.lines.size() > 1) {  // legend, top right
    double x = right - 8;
    for (std::size_t k = chart.lines.size(); k-- > 0;) {
      const Series& s = chart.lines[k];
      const std::string name = s.split.empty() ? s.metric : s.split;
      x -= 7.0 * static_cast<double>(name.size()) + 26;
      out << "<g><line x1=\"" << px(x) << "\" x2=\"" << px(x + 16)
          << "\" y1=\"16\" y2=\"16\" stroke=\"" << split_colour(s.split, k)
          << "\" stroke-width=\"2.5\"/><text x=\"" << px(x + 20) << "\" y=\"20\">"
          << xml_escape(name) << "</text></g>\n";
    }
  }
  if (empty)
    out << "<text x=\"" << px((left + right) / 2) << "\" y=\"" << px((top + bottom) / 2)
        << "\" text-anchor=\"middle\" fill=\"#888888\">no values</text>\n";
  out << "<line class=\"guide\" x1=\"0\" x2=\"0\" y1=\"" << top << "\" y2=\"" << bottom
      << "\" stroke=\"#999999\" visibility=\"hidden\"/>\n"
      << "<text class=\"readout\" x=\"" << right << "\" y=\"" << top - 4
      << "\" text-anchor=\"end\" fill=\"#333333\"></text>\n</svg>\n";
  return out.str();
}

std::string training_curves_html(const MetricsHistory& history, const std::string& title) {
  const std::vector<Chart> charts = standard_charts(history);
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<meta name=\"generator\" content=\"heed\">\n"
      << "<title>" << xml_escape(title) << "</title>\n<style>" << detail::kPageCss
      << "</style>\n</head>\n<body>\n<div id=\"heed-status\" data-state=\"loading\" hidden></div>\n"
      << "<header><h1>" << xml_escape(title) << "</h1><p class=\"notes\"><span>" << history.records
      << " records</span>";
  double last_step = 0;
  for (const Series& s : history.series)
    if (!s.steps.empty()) last_step = std::max(last_step, s.steps.back());
  out << "<span>last step " << format_number(last_step, 0) << "</span>";
  if (!history.epochs.empty())
    out << "<span>" << history.epochs.size() << " epoch boundaries (dashed)</span>";
  out << "<span>hover a chart for its values</span></p></header>\n<main>\n<div class=\"charts\">\n";
  ChartOptions options;  // every chart over the steps of the whole run
  for (const Series& s : history.series)
    for (double step : s.steps) {
      options.x_min = std::isnan(options.x_min) ? step : std::min(options.x_min, step);
      options.x_max = std::isnan(options.x_max) ? step : std::max(options.x_max, step);
    }
  for (const Chart& chart : charts)
    out << "<figure>" << line_chart_svg(chart, history.epochs, options) << "</figure>\n";
  if (charts.empty()) out << "<p>No metrics yet.</p>\n";
  out << "</div>\n</main>\n<script>" << detail::kCurvesPageScript
      << "</script>\n</body>\n</html>\n";
  return out.str();
}

void write_line_chart(const std::filesystem::path& path, const Chart& chart,
                      const std::vector<EpochStart>& epochs, const ChartOptions& options) {
  detail::write_text_file(path, line_chart_svg(chart, epochs, options), "write_line_chart");
}

void write_training_curves(const std::filesystem::path& path, const MetricsHistory& history,
                           const std::string& title) {
  detail::write_text_file(path, training_curves_html(history, title), "write_training_curves");
}

}  // namespace heed::viz
