#include "stats/classification.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tyto::stats {
namespace {

// A 3-class example, rows actual, columns predicted:
//              cat  dog  bird
//   cat          5    2     1     (8 actual cats)
//   dog          1    6     1     (8 dogs)
//   bird         0    2     4     (6 birds)
//   predicted    6   10     6     total 22, correct 15
ConfusionMatrix Example() {
  ConfusionMatrix m;
  m.Add("cat", "cat", 5);
  m.Add("cat", "dog", 2);
  m.Add("cat", "bird", 1);
  m.Add("dog", "cat", 1);
  m.Add("dog", "dog", 6);
  m.Add("dog", "bird", 1);
  m.Add("bird", "dog", 2);
  m.Add("bird", "bird", 4);
  return m;
}

TEST(ConfusionMatrix, HandWorkedThreeClasses) {
  const ConfusionMatrix m = Example();
  EXPECT_EQ(m.total(), 22u);
  EXPECT_DOUBLE_EQ(m.Accuracy(), 15.0 / 22);
  // Precision = TP / predicted: cat 5/6, dog 6/10, bird 4/6.
  EXPECT_DOUBLE_EQ(m.Precision("cat"), 5.0 / 6);
  EXPECT_DOUBLE_EQ(m.Precision("dog"), 0.6);
  EXPECT_DOUBLE_EQ(m.Precision("bird"), 4.0 / 6);
  // Recall = TP / actual: cat 5/8, dog 6/8, bird 4/6.
  EXPECT_DOUBLE_EQ(m.Recall("cat"), 5.0 / 8);
  EXPECT_DOUBLE_EQ(m.Recall("dog"), 0.75);
  EXPECT_DOUBLE_EQ(m.Recall("bird"), 4.0 / 6);
  // F1 = 2 TP / (predicted + actual): cat 10/14, dog 12/18, bird 8/12.
  EXPECT_DOUBLE_EQ(m.F1("cat"), 10.0 / 14);
  EXPECT_DOUBLE_EQ(m.F1("dog"), 12.0 / 18);
  EXPECT_DOUBLE_EQ(m.F1("bird"), 8.0 / 12);
  // Macro averages (sklearn average="macro"): precision (0.833333 + 0.6 + 0.666667) / 3 =
  // 0.7; recall (0.625 + 0.75 + 0.666667) / 3 = 0.680556; F1 (0.714286 + 0.666667 +
  // 0.666667) / 3 = 0.682540.
  EXPECT_NEAR(m.MacroPrecision(), 0.7, 1e-15);
  EXPECT_NEAR(m.MacroRecall(), (5.0 / 8 + 0.75 + 4.0 / 6) / 3, 1e-15);
  EXPECT_NEAR(m.MacroRecall(), 0.680556, 1e-6);
  EXPECT_NEAR(m.MacroF1(), 0.682540, 1e-6);
  EXPECT_EQ(m.classes(), (std::vector<std::string>{"bird", "cat", "dog"}));
  EXPECT_EQ(m.count("dog", "bird"), 1u);
  EXPECT_EQ(m.count("bird", "cat"), 0u);
}

TEST(ConfusionMatrix, ZeroDivisionIsZeroAndAbsentClassIsNaN) {
  // "fish" is actual once and never predicted: precision 0/0 -> 0 (sklearn zero_division=0),
  // recall 0/1 = 0, F1 0. It still counts in the macro average, as in sklearn.
  ConfusionMatrix m;
  m.Add("cat", "cat", 3);
  m.Add("fish", "cat");
  EXPECT_EQ(m.Precision("fish"), 0.0);
  EXPECT_EQ(m.Recall("fish"), 0.0);
  EXPECT_EQ(m.F1("fish"), 0.0);
  EXPECT_DOUBLE_EQ(m.MacroPrecision(), (0.75 + 0) / 2);
  EXPECT_DOUBLE_EQ(m.MacroRecall(), (1.0 + 0) / 2);
  EXPECT_TRUE(std::isnan(m.Precision("horse")));
  EXPECT_TRUE(std::isnan(ConfusionMatrix().Accuracy()));
  EXPECT_TRUE(std::isnan(ConfusionMatrix().MacroF1()));
}

TEST(ConfusionMatrix, MergeAndClassCap) {
  ConfusionMatrix a = Example(), b = Example();
  a.Merge(b);
  EXPECT_EQ(a.total(), 44u);
  EXPECT_DOUBLE_EQ(a.Accuracy(), 15.0 / 22);
  EXPECT_DOUBLE_EQ(a.MacroF1(), Example().MacroF1());
  ConfusionMatrix capped(2);
  capped.Add("a", "a");
  capped.Add("b", "c");  // "c" is the third name: counted as __other__
  EXPECT_EQ(capped.classes(), (std::vector<std::string>{"__other__", "a", "b"}));
  EXPECT_EQ(capped.count("b", "__other__"), 1u);
}

TEST(CalibrationBins, HandWorkedEce) {
  // 10 bins. Bin [0.9, 1.0]: scores 0.95, 0.95, 0.95, 0.95 with 3 correct: accuracy 0.75,
  // confidence 0.95, gap 0.2. Bin [0.6, 0.7): scores 0.65 x 4, 2 correct: accuracy 0.5,
  // confidence 0.65, gap 0.15. Bin [0.2, 0.3): 0.25 x 2, 0 correct: gap 0.25.
  // ECE = (4/10) 0.2 + (4/10) 0.15 + (2/10) 0.25 = 0.08 + 0.06 + 0.05 = 0.19.
  CalibrationBins c;
  for (int i = 0; i < 4; ++i) c.Add(0.95, i < 3);
  for (int i = 0; i < 4; ++i) c.Add(0.65, i < 2);
  for (int i = 0; i < 2; ++i) c.Add(0.25, false);
  EXPECT_EQ(c.total(), 10u);
  EXPECT_NEAR(c.ExpectedCalibrationError(), 0.19, 1e-12);
  // A perfectly calibrated bin contributes nothing; 1.0 lands in the last bin, NaN nowhere.
  CalibrationBins perfect;
  perfect.Add(1.0, true);
  perfect.Add(1.0, true);
  perfect.Add(NAN, false);
  EXPECT_EQ(perfect.total(), 2u);
  EXPECT_EQ(perfect.ExpectedCalibrationError(), 0.0);
  EXPECT_TRUE(std::isnan(CalibrationBins().ExpectedCalibrationError()));
}

TEST(CalibrationBins, Merge) {
  CalibrationBins a, b, c(5);
  a.Add(0.95, true);
  b.Add(0.95, false);
  EXPECT_TRUE(a.Merge(b));
  EXPECT_EQ(a.total(), 2u);
  EXPECT_NEAR(a.ExpectedCalibrationError(), 0.45, 1e-12);  // accuracy 0.5, confidence 0.95
  EXPECT_FALSE(a.Merge(c));
  EXPECT_TRUE(a.Merge(a));
  EXPECT_EQ(a.total(), 4u);
}

TEST(Fairness, HandWorkedGaps) {
  // Selection rates: en 30/100 = 0.3, de 10/50 = 0.2, fr 18/40 = 0.45, empty ignored:
  // parity difference 0.45 - 0.2 = 0.25. True positive rates: en 20/25 = 0.8, de 6/10 = 0.6,
  // fr has no actual positives (ignored): equal opportunity difference 0.2.
  const std::map<std::string, SegmentRates> segments = {
      {"en", {100, 30, 25, 20}}, {"de", {50, 10, 10, 6}}, {"fr", {40, 18, 0, 0}}, {"empty", {}}};
  EXPECT_NEAR(DemographicParityDifference(segments), 0.25, 1e-15);
  EXPECT_NEAR(EqualOpportunityDifference(segments), 0.2, 1e-15);
  EXPECT_TRUE(std::isnan(DemographicParityDifference({{"en", {100, 30, 25, 20}}})));
  EXPECT_TRUE(std::isnan(EqualOpportunityDifference({{"fr", {40, 18, 0, 0}}, {"de", {50, 10, 10, 6}}})));
}

}  // namespace
}  // namespace tyto::stats
