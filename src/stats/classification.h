// Quality against ground truth: classification metrics from a confusion matrix, calibration of
// predicted scores, and fairness gaps between segments. Each accumulator is mergeable, so a
// window's metrics can be built per replica and combined.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tyto::stats {

// Counts of (actual, predicted) class pairs over string class names. Classes are those seen as
// actual or predicted (scikit-learn's labels=None: the union of y_true and y_pred). At most
// max_classes distinct names are kept; later new names count as "__other__" (one more class).
// Metrics follow scikit-learn's precision_recall_fscore_support with zero_division=0 (the value
// of its default "warn", without the warning): a ratio whose denominator is 0 is 0. F1 is
// 2 TP / (2 TP + FP + FN), as scikit-learn >= 1.3 computes it. Not synchronised.
class ConfusionMatrix {
 public:
  static constexpr std::string_view kOther = "__other__";
  static constexpr size_t kDefaultMaxClasses = 1000;

  explicit ConfusionMatrix(size_t max_classes = kDefaultMaxClasses) : max_classes_(max_classes) {}

  void Add(std::string_view actual, std::string_view predicted, uint64_t n = 1);
  void Merge(const ConfusionMatrix& other);

  uint64_t total() const { return total_; }
  // The count of one cell; 0 when never seen.
  uint64_t count(std::string_view actual, std::string_view predicted) const;
  // (correct predictions) / total; NaN when empty.
  double Accuracy() const;
  // Per class: TP / (TP + FP), TP / (TP + FN), 2 TP / (2 TP + FP + FN); 0 when the denominator
  // is 0 (zero_division=0); NaN for a class never seen as actual or predicted.
  double Precision(std::string_view cls) const;
  double Recall(std::string_view cls) const;
  double F1(std::string_view cls) const;
  // Unweighted means of the above over classes(); NaN when empty.
  double MacroPrecision() const;
  double MacroRecall() const;
  double MacroF1() const;
  // Every class seen as actual or predicted, sorted by name.
  std::vector<std::string> classes() const;

 private:
  struct ClassCounts {
    uint64_t true_positive = 0;
    uint64_t actual = 0;     // TP + FN
    uint64_t predicted = 0;  // TP + FP
  };
  std::string_view Intern(std::string_view name);
  template <typename Metric>
  double Macro(Metric metric) const;

  size_t max_classes_;
  uint64_t total_ = 0;
  uint64_t correct_ = 0;
  std::map<std::string, ClassCounts, std::less<>> classes_;
  std::map<std::pair<std::string, std::string>, uint64_t, std::less<>> cells_;
};

// Expected calibration error over `bins` equal-width bins of the predicted score on [0, 1]
// (Naeini et al. 2015; Guo et al. 2017): ECE = sum over bins of (n_b / N) |accuracy_b -
// mean score_b|. Bin b holds scores in [b/bins, (b+1)/bins), the last bin also 1.0; scores
// below 0 or above 1 are clamped to them, NaN scores ignored. bins < 1 is raised to 1.
class CalibrationBins {
 public:
  explicit CalibrationBins(int bins = 10);

  void Add(double score, bool correct);
  // Adds the other's counts bin by bin; false (nothing changes) when the bin counts differ.
  bool Merge(const CalibrationBins& other);
  // NaN when empty.
  double ExpectedCalibrationError() const;
  uint64_t total() const { return total_; }
  int bins() const { return static_cast<int>(bins_.size()); }

 private:
  struct Bin {
    uint64_t n = 0;
    uint64_t correct = 0;
    double score_sum = 0;
  };
  std::vector<Bin> bins_;
  uint64_t total_ = 0;
};

// Counts of one segment (a language, a region, a customer tier) for the fairness gaps.
struct SegmentRates {
  uint64_t n = 0;
  uint64_t predicted_positive = 0;
  uint64_t actual_positive = 0;
  uint64_t true_positive = 0;
};

// Demographic parity difference (Fairlearn's demographic_parity_difference): the largest minus
// the smallest selection rate predicted_positive / n over segments with n > 0. NaN with fewer
// than two such segments.
double DemographicParityDifference(const std::map<std::string, SegmentRates>& segments);
// Equal opportunity difference: the largest minus the smallest true positive rate
// true_positive / actual_positive over segments with actual_positive > 0. NaN with fewer than
// two such segments.
double EqualOpportunityDifference(const std::map<std::string, SegmentRates>& segments);

}  // namespace tyto::stats
