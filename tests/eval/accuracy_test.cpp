#include "heed/eval/accuracy.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/gradcheck.h"

namespace heed {
namespace {

TEST(Accuracy, FractionCorrect) {
  EXPECT_DOUBLE_EQ(accuracy(std::vector<int>{1, 0, 2, 2}, std::vector<int>{1, 1, 2, 0}), 0.5);
  EXPECT_DOUBLE_EQ(accuracy(std::vector<int>{3}, std::vector<int>{3}), 1.0);
}

TEST(ClassificationReport, HandComputedThreeClassesPlusAnAbsentOne) {
  //                 i:  0  1  2  3  4  5  6
  std::vector<int> predicted{0, 1, 2, 1, 0, 2, 2};
  std::vector<int> gold{0, 1, 1, 1, 2, 2, 0};
  ClassificationReport report = classification_report(predicted, gold, 4);
  // Rows gold, columns predicted.
  const std::vector<std::int64_t> confusion = {1, 0, 1, 0,   // gold 0
                                               0, 2, 1, 0,   // gold 1
                                               1, 0, 1, 0,   // gold 2
                                               0, 0, 0, 0};  // gold 3 (absent)
  EXPECT_EQ(report.confusion, confusion);
  EXPECT_EQ(report.confusion_at(1, 2), 1);
  EXPECT_EQ(report.count, 7);
  EXPECT_DOUBLE_EQ(report.accuracy, 4.0 / 7.0);
  // class 0: TP 1, predicted 2, gold 2; class 1: TP 2, predicted 2, gold 3;
  // class 2: TP 1, predicted 3, gold 2; class 3: nothing.
  EXPECT_EQ(report.precision, (std::vector<double>{0.5, 1.0, 1.0 / 3.0, 0.0}));
  EXPECT_EQ(report.recall, (std::vector<double>{0.5, 2.0 / 3.0, 0.5, 0.0}));
  EXPECT_DOUBLE_EQ(report.f1[0], 0.5);
  EXPECT_DOUBLE_EQ(report.f1[1], 0.8);
  EXPECT_DOUBLE_EQ(report.f1[2], 0.4);
  EXPECT_EQ(report.f1[3], 0.0);
  EXPECT_EQ(report.support, (std::vector<std::int64_t>{2, 3, 2, 0}));
  // Class 3 occurs nowhere, so (as in scikit-learn) it is left out of the macro average.
  EXPECT_DOUBLE_EQ(report.macro_f1, (0.5 + 0.8 + 0.4) / 3.0);
}

TEST(ClassificationReport, PredictedButNeverGoldCountsInMacroF1) {
  // Class 1 is predicted once but never gold: precision 0, recall 0, F1 0, and it is averaged.
  ClassificationReport report =
      classification_report(std::vector<int>{0, 1}, std::vector<int>{0, 0}, 2);
  EXPECT_DOUBLE_EQ(report.f1[0], 2.0 / 3.0);
  EXPECT_EQ(report.f1[1], 0.0);
  EXPECT_DOUBLE_EQ(report.macro_f1, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(report.accuracy, 0.5);
}

TEST(ClassificationReport, BadInputNamesTheProblem) {
  EXPECT_THROW_MSG(classification_report(std::vector<int>{0, 1}, std::vector<int>{0}, 2),
                   "classification_report: 2 predictions but 1 gold labels");
  EXPECT_THROW_MSG(classification_report(std::vector<int>{0, 2}, std::vector<int>{0, 1}, 2),
                   "classification_report: predicted[1] = 2 is outside [0, 2)");
  EXPECT_THROW_MSG(classification_report(std::vector<int>{0}, std::vector<int>{-1}, 2),
                   "classification_report: gold[0] = -1 is outside [0, 2)");
  EXPECT_THROW_MSG(classification_report(std::vector<int>{}, std::vector<int>{}, 2),
                   "classification_report: no examples");
  EXPECT_THROW_MSG(classification_report(std::vector<int>{0}, std::vector<int>{0}, 0),
                   "classification_report: num_classes must be >= 1 (got 0)");
  EXPECT_THROW_MSG(accuracy(std::vector<int>{0}, std::vector<int>{0, 1}),
                   "accuracy: 1 predictions but 2 gold labels");
}

}  // namespace
}  // namespace heed
