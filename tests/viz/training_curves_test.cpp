#include "heed/viz/training_curves.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/gradcheck.h"
#include "testing/viz_fixtures.h"

namespace heed::viz {
namespace {

const char* kMetrics =
    R"({"step":100,"split":"train","epoch":1,"loss":4.0,"lr":0.0003,"tokens_per_s":5000,"grad_norm":1.5}
{"step":200,"split":"train","epoch":1,"loss":3.5,"lr":0.0006,"tokens_per_s":5100,"grad_norm":1.25}
{"step":200,"split":"valid","loss":3.8,"bleu":10.5,"chrf":30.1,"exact_match":0.1,"seconds":2.0}

{"step":300,"split":"train","epoch":2,"loss":3.0,"lr":0.0005,"tokens_per_s":4900,"grad_norm":1.0}
{"step":400,"split":"valid","loss":3.2,"bleu":null,"chrf":35,"note":"text is skipped"}
)";

MetricsHistory history() {
  std::istringstream in(kMetrics);
  return parse_metrics(in, "metrics.jsonl");
}

const Series& find(const MetricsHistory& h, const std::string& metric, const std::string& split) {
  for (const Series& s : h.series)
    if (s.metric == metric && s.split == split) return s;
  ADD_FAILURE() << "no series " << metric << "/" << split;
  return h.series.front();
}

TEST(MetricsHistory, EveryNumericKeyBySplit) {
  const MetricsHistory h = history();
  EXPECT_EQ(h.records, 5);
  EXPECT_EQ(
      h.series.size(),
      9u);  // train: loss lr tokens_per_s grad_norm; valid: loss bleu chrf exact_match seconds
  EXPECT_EQ(find(h, "loss", "train").steps, (std::vector<double>{100, 200, 300}));
  EXPECT_EQ(find(h, "loss", "train").values, (std::vector<double>{4.0, 3.5, 3.0}));
  EXPECT_EQ(find(h, "loss", "valid").steps, (std::vector<double>{200, 400}));
  EXPECT_EQ(find(h, "bleu", "valid").values, (std::vector<double>{10.5}));  // null skipped
  EXPECT_EQ(find(h, "chrf", "valid").values, (std::vector<double>{30.1, 35}));
  ASSERT_EQ(h.epochs.size(), 1u);  // epoch 1 -> 2 at step 300
  EXPECT_EQ(h.epochs[0].step, 300);
  EXPECT_EQ(h.epochs[0].epoch, 2);
}

TEST(MetricsHistory, BadLinesNameTheLine) {
  std::istringstream not_json("{\"step\":1}\n{oops\n");
  EXPECT_THROW_MSG(parse_metrics(not_json, "m.jsonl"), "metrics: m.jsonl:2: not JSON");
  std::istringstream no_step("{\"loss\":1}\n");
  EXPECT_THROW_MSG(parse_metrics(no_step, "m.jsonl"),
                   "metrics: m.jsonl:1: expected a JSON object with a numeric \"step\"");
  EXPECT_THROW_MSG(read_metrics_history("/nonexistent/metrics.jsonl"), "metrics: cannot read");
}

TEST(StandardCharts, LossFirstThenMetricsThenRates) {
  const std::vector<Chart> charts = standard_charts(history());
  std::vector<std::string> order;
  for (const Chart& c : charts) order.push_back(c.metric);
  EXPECT_EQ(order, (std::vector<std::string>{"loss", "bleu", "chrf", "exact_match", "lr",
                                             "tokens_per_s", "grad_norm", "seconds"}));
  ASSERT_EQ(charts[0].lines.size(), 2u);
  EXPECT_EQ(charts[0].lines[0].split, "train");
  EXPECT_EQ(charts[0].lines[1].split, "valid");
}

TEST(LineChartSvg, ManyEpochsGetEveryLineButOnlyLabelsThatFit) {
  Chart chart{.metric = "loss", .lines = {{.metric = "loss", .split = "train", .steps = {}, .values = {}}}};
  std::vector<EpochStart> epochs;
  for (int step = 0; step <= 4000; step += 100) {
    chart.lines[0].steps.push_back(step);
    chart.lines[0].values.push_back(5.0 - step / 1000.0);
    if (step > 0) epochs.push_back({.step = double(step), .epoch = step / 100.0});
  }
  const std::string svg = line_chart_svg(chart, epochs);
  auto count = [&](const std::string& what) {
    int n = 0;
    for (std::size_t i = svg.find(what); i != std::string::npos; i = svg.find(what, i + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("stroke-dasharray=\"3,3\""), static_cast<int>(epochs.size()));
  const int labels = count(">ep ");
  EXPECT_GE(labels, 5);
  EXPECT_LT(labels, static_cast<int>(epochs.size()) / 2);  // 40 boundaries ~12 px apart
  EXPECT_NE(svg.find(">ep 1</text>"), std::string::npos);  // the first is always labelled
}

TEST(LineChartSvg, AxesPointsEpochsLegend) {
  const MetricsHistory h = history();
  const Chart loss = standard_charts(h)[0];
  const std::string svg = line_chart_svg(loss, h.epochs);
  testing::expect_well_formed_xml(svg, "loss.svg");
  EXPECT_NE(svg.find("<title>train loss at step 200: 3.5</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>valid loss at step 400: 3.2</title>"), std::string::npos);
  EXPECT_NE(svg.find(">ep 2</text>"), std::string::npos);
  EXPECT_NE(svg.find(">valid</text>"), std::string::npos);  // legend
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  // y ticks over [3, 4] in steps of 0.2; x ticks over [100, 400].
  EXPECT_NE(svg.find(">3.2</text>"), std::string::npos);
  EXPECT_NE(svg.find(">400</text>"), std::string::npos);
  int hover = 0;
  for (std::size_t i = svg.find("class=\"pt\""); i != std::string::npos;
       i = svg.find("class=\"pt\"", i + 1))
    ++hover;
  EXPECT_EQ(hover, 5);
}

TEST(LineChartSvg, LongRunsKeepAtMost400HoverPointsAndTheLast) {
  Chart chart{"loss", {{"loss", "train", {}, {}}}};
  for (int i = 1; i <= 1000; ++i) {
    chart.lines[0].steps.push_back(i * 10);
    chart.lines[0].values.push_back(1.0 / i);
  }
  const std::string svg = line_chart_svg(chart, {});
  int hover = 0;
  for (std::size_t i = svg.find("class=\"pt\""); i != std::string::npos;
       i = svg.find("class=\"pt\"", i + 1))
    ++hover;
  EXPECT_EQ(hover, 334);  // every 3rd of 1000 (0, 3, ..., 999)
  EXPECT_NE(svg.find("data-step=\"10000\""), std::string::npos);
  EXPECT_NE(svg.find(">10k</text>"), std::string::npos);
}

TEST(LineChartSvg, EmptyChartStillDraws) {
  const std::string svg = line_chart_svg(Chart{"bleu", {}}, {});
  testing::expect_well_formed_xml(svg, "empty.svg");
  EXPECT_NE(svg.find(">no values</text>"), std::string::npos);
}

TEST(NiceTicks, MultiplesOfOneTwoTwoAndAHalfFive) {
  EXPECT_EQ(nice_ticks(0, 1), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(nice_ticks(3.2, 9.1),
            (std::vector<double>{2, 4, 6, 8, 10}));  // loose: covers the range
  EXPECT_EQ(nice_ticks(0, 10, 4), (std::vector<double>{0, 2.5, 5, 7.5, 10}));
  const std::vector<double> lr = nice_ticks(1e-4, 5e-4);
  ASSERT_EQ(lr.size(), 5u);
  EXPECT_NEAR(lr[0], 1e-4, 1e-12);
  EXPECT_NEAR(lr[4], 5e-4, 1e-12);
  EXPECT_EQ(nice_ticks(2, 2).size(), 5u);  // around a single value: 1.8, 1.9, ..., 2.2
  EXPECT_THROW_MSG(nice_ticks(1, 0), "nice_ticks: need finite lo <= hi");
}

TEST(TrainingCurvesHtml, OneChartPerMetric) {
  const std::string html = training_curves_html(history(), "run <x>");
  EXPECT_NE(html.find("<title>run &lt;x&gt;</title>"), std::string::npos);
  int charts = 0;
  for (std::size_t i = html.find("<svg class=\"chart\""); i != std::string::npos;
       i = html.find("<svg class=\"chart\"", i + 1))
    ++charts;
  EXPECT_EQ(charts, 8);
  EXPECT_NE(html.find("id=\"heed-status\""), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);
}

}  // namespace
}  // namespace heed::viz
