// Training curves from a run's metrics.jsonl (train/metrics_log.h): one line chart per quantity
// against the step, as standalone SVG or as one self-contained HTML page (`heed plot RUN_DIR`).
//
// Every record has an integer "step" and usually a "split" ("train" or "valid"); every other
// numeric key is a quantity — loss, lr, tokens_per_s, grad_norm, bleu, chrf, exact_match,
// accuracy, macro_f1, or anything a later version logs — plotted without knowing it in advance.
// A quantity logged under several splits ("loss" in train and valid lines) shares one chart.
// Changes of the "epoch" value in train lines are drawn as dashed vertical lines.
#pragma once

#include <cmath>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace heed::viz {

// One quantity of one split over the steps, in file order.
struct Series {
  std::string metric;  // the JSON key: "loss"
  std::string split;   // "train", "valid", or "" for records without a split
  std::vector<double> steps, values;
};

struct EpochStart {
  double step = 0;  // first logged step with this epoch
  double epoch = 0;
};

struct MetricsHistory {
  std::vector<Series> series;  // by first appearance
  std::vector<EpochStart> epochs;
  long records = 0;
};

// One JSON object per line (blank lines skipped). Throws naming `source` and the line for a line
// that is not a JSON object with a numeric "step". Non-numeric values (and null) are skipped.
MetricsHistory parse_metrics(std::istream& in, const std::string& source);
MetricsHistory read_metrics_history(const std::filesystem::path& path);

// A chart: one metric, one line per split.
struct Chart {
  std::string metric;
  std::vector<Series> lines;
};

// One chart per metric: loss first, then bleu, chrf, exact_match, accuracy, macro_f1, lr,
// tokens_per_s, then the others in order of appearance.
std::vector<Chart> standard_charts(const MetricsHistory& history);

struct ChartOptions {
  int width = 560;
  int height = 320;
  std::string title = "";  // default: the metric's name
  // Steps the x axis must span (e.g. the whole run, so that charts line up); NaN: the chart's own.
  double x_min = std::nan("");
  double x_max = std::nan("");
};

// An SVG line chart against the step: axes with "nice" ticks (1, 2, 2.5, 5 × 10^k), a light
// grid, the epoch starts, a legend when there are several lines, and a <title> tooltip on every
// point ("valid bleu at step 500: 12.7"; at most 400 hover points per line). Lines with at most
// 60 points also show their points as dots.
std::string line_chart_svg(const Chart& chart, const std::vector<EpochStart>& epochs,
                           const ChartOptions& options = {});

// line_chart_svg written to `path` (parent directories created).
void write_line_chart(const std::filesystem::path& path, const Chart& chart,
                      const std::vector<EpochStart>& epochs, const ChartOptions& options = {});

// The HTML page of every standard chart (with a hover readout of the values at the cursor's step).
std::string training_curves_html(const MetricsHistory& history, const std::string& title);
void write_training_curves(const std::filesystem::path& path, const MetricsHistory& history,
                           const std::string& title);

// Axis ticks: about `target` multiples of 1, 2, 2.5 or 5 × 10^k, from the last one <= lo to the
// first one >= hi (the chart's axis spans them). lo == hi gives ticks around the value.
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace heed::viz
