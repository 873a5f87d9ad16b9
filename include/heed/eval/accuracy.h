// Classification metrics from predicted and gold class ids in [0, num_classes).
//
//   accuracy     = #(predicted == gold) / N
//   precision_c  = TP_c / (TP_c + FP_c)   (0 when class c is never predicted)
//   recall_c     = TP_c / (TP_c + FN_c)   (0 when class c never occurs in gold)
//   f1_c         = 2 · precision_c · recall_c / (precision_c + recall_c)   (0 when both are 0)
//   macro_f1     = mean of f1_c over the classes that occur in gold or predictions
//
// The zero conventions and the choice of classes for the macro average are scikit-learn's
// defaults (zero_division=0, labels=None), so the numbers agree with sklearn.metrics.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace heed {

struct ClassificationReport {
  int num_classes = 0;
  std::int64_t count = 0;  // N
  double accuracy = 0.0;   // 0..1
  double macro_f1 = 0.0;   // 0..1
  std::vector<double> precision, recall, f1;  // [num_classes]
  std::vector<std::int64_t> support;           // [num_classes]: occurrences in gold
  // [num_classes, num_classes] row-major, rows = gold class, columns = predicted class.
  std::vector<std::int64_t> confusion;

  std::int64_t confusion_at(int gold, int predicted) const {
    return confusion[static_cast<std::size_t>(gold) * num_classes + predicted];
  }
};

// Throws heed::Error if the lengths differ, the input is empty, num_classes < 1 or an id is out of
// range (the message names the position and the value).
ClassificationReport classification_report(std::span<const std::int32_t> predicted,
                                           std::span<const std::int32_t> gold, int num_classes);

// Fraction of positions where predicted == gold (same checks as above, without a class count).
double accuracy(std::span<const std::int32_t> predicted, std::span<const std::int32_t> gold);

}  // namespace heed
