// heed plot RUN_DIR|METRICS.jsonl [--out FILE.html|FILE.svg] [--metric NAME] [--title TEXT]
//
// Training curves from a run's metrics.jsonl (viz/training_curves.h): an HTML page with one chart
// per logged quantity (default RUN_DIR/training_curves.html), or with --out FILE.svg one chart as
// standalone SVG (--metric, default loss).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "heed/util/check.h"
#include "heed/viz/training_curves.h"

namespace heed::cli {

namespace {

namespace fs = std::filesystem;

struct PlotArgs {
  std::string run;
  std::string out;
  std::string metric = "loss";
  std::string title;
};

void run_plot(const PlotArgs& args) {
  const fs::path input(args.run);
  const bool is_dir = fs::is_directory(input);
  const fs::path metrics = is_dir ? input / "metrics.jsonl" : input;
  CHECK(fs::exists(metrics), "plot: ", metrics, " does not exist",
        is_dir ? " (has this run logged anything yet?)" : "");
  const viz::MetricsHistory history = viz::read_metrics_history(metrics);
  const std::string title =
      !args.title.empty() ? args.title
                          : "heed training curves: " +
                                (is_dir ? fs::absolute(input).lexically_normal().filename().string()
                                        : metrics.filename().string());
  fs::path out =
      args.out.empty() ? metrics.parent_path() / "training_curves.html" : fs::path(args.out);
  if (out.extension() == ".svg") {
    for (const viz::Chart& chart : viz::standard_charts(history)) {
      if (chart.metric != args.metric) continue;
      viz::write_line_chart(out, chart, history.epochs);
      std::cout << out.string() << "\n";
      return;
    }
    std::string known;
    for (const viz::Chart& chart : viz::standard_charts(history)) known += " " + chart.metric;
    CHECK(false, "plot: ", metrics, " has no metric '", args.metric, "' (it has:", known, ")");
  }
  viz::write_training_curves(out, history, title);
  std::cout << out.string() << "\n";
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* command =
      app.add_subcommand("plot", "Training curves of a run (HTML page or one SVG chart)");
  command->add_option("run", args->run, "A run directory, or a metrics.jsonl file")->required();
  command->add_option("--out", args->out,
                      "Output .html (every chart) or .svg (one chart; default: "
                      "RUN_DIR/training_curves.html)");
  command->add_option("--metric", args->metric, "The chart of an .svg output (default: loss)");
  command->add_option("--title", args->title, "Page title");
  command->callback([args] { run_plot(*args); });
}

}  // namespace heed::cli
