// Classification metrics; definitions and conventions in include/heed/eval/accuracy.h.
#include "heed/eval/accuracy.h"

#include "heed/util/check.h"

namespace heed {
namespace {

void check_lengths(const char* name, std::span<const std::int32_t> predicted,
                   std::span<const std::int32_t> gold) {
  CHECK(predicted.size() == gold.size(), name, ": ", predicted.size(), " predictions but ",
        gold.size(), " gold labels");
  CHECK(!gold.empty(), name, ": no examples");
}

double ratio_or_zero(std::int64_t numerator, std::int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

}  // namespace

double accuracy(std::span<const std::int32_t> predicted, std::span<const std::int32_t> gold) {
  check_lengths("accuracy", predicted, gold);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) correct += predicted[i] == gold[i];
  return ratio_or_zero(correct, static_cast<std::int64_t>(gold.size()));
}

ClassificationReport classification_report(std::span<const std::int32_t> predicted,
                                           std::span<const std::int32_t> gold, int num_classes) {
  check_lengths("classification_report", predicted, gold);
  CHECK(num_classes >= 1, "classification_report: num_classes must be >= 1 (got ", num_classes,
        ")");
  const auto C = static_cast<std::size_t>(num_classes);
  ClassificationReport report;
  report.num_classes = num_classes;
  report.count = static_cast<std::int64_t>(gold.size());
  report.confusion.assign(C * C, 0);
  for (std::size_t i = 0; i < gold.size(); ++i) {
    CHECK(gold[i] >= 0 && gold[i] < num_classes, "classification_report: gold[", i, "] = ",
          gold[i], " is outside [0, ", num_classes, ")");
    CHECK(predicted[i] >= 0 && predicted[i] < num_classes, "classification_report: predicted[",
          i, "] = ", predicted[i], " is outside [0, ", num_classes, ")");
    ++report.confusion[static_cast<std::size_t>(gold[i]) * C + predicted[i]];
  }

  report.precision.assign(C, 0.0);
  report.recall.assign(C, 0.0);
  report.f1.assign(C, 0.0);
  report.support.assign(C, 0);
  std::int64_t correct = 0;
  double f1_sum = 0.0;
  int present = 0;
  for (std::size_t c = 0; c < C; ++c) {
    const std::int64_t true_positive = report.confusion[c * C + c];
    std::int64_t gold_count = 0, predicted_count = 0;  // row and column sums
    for (std::size_t k = 0; k < C; ++k) {
      gold_count += report.confusion[c * C + k];
      predicted_count += report.confusion[k * C + c];
    }
    const double p = ratio_or_zero(true_positive, predicted_count);
    const double r = ratio_or_zero(true_positive, gold_count);
    report.precision[c] = p;
    report.recall[c] = r;
    report.f1[c] = p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
    report.support[c] = gold_count;
    correct += true_positive;
    if (gold_count > 0 || predicted_count > 0) {
      f1_sum += report.f1[c];
      ++present;
    }
  }
  report.accuracy = ratio_or_zero(correct, report.count);
  report.macro_f1 = f1_sum / present;  // present >= 1: the input is not empty
  return report;
}

}  // namespace heed
