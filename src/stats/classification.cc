#include "stats/classification.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tyto::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Ratio(uint64_t num, uint64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}
}  // namespace

std::string_view ConfusionMatrix::Intern(std::string_view name) {
  auto it = classes_.find(name);
  if (it != classes_.end()) return it->first;
  const size_t named = classes_.size() - (classes_.count(kOther) ? 1 : 0);
  if (name != kOther && named >= max_classes_) name = kOther;
  return classes_.try_emplace(std::string(name)).first->first;
}

void ConfusionMatrix::Add(std::string_view actual, std::string_view predicted, uint64_t n) {
  if (n == 0) return;
  const std::string_view a = Intern(actual);
  const std::string_view p = Intern(predicted);
  total_ += n;
  classes_.find(a)->second.actual += n;
  classes_.find(p)->second.predicted += n;
  if (a == p) {
    correct_ += n;
    classes_.find(a)->second.true_positive += n;
  }
  cells_[{std::string(a), std::string(p)}] += n;
}

void ConfusionMatrix::Merge(const ConfusionMatrix& other) {
  if (&other == this) {
    const ConfusionMatrix copy = other;
    Merge(copy);
    return;
  }
  for (const auto& [cell, n] : other.cells_) Add(cell.first, cell.second, n);
}

uint64_t ConfusionMatrix::count(std::string_view actual, std::string_view predicted) const {
  auto it = cells_.find(std::pair<std::string, std::string>(actual, predicted));
  return it == cells_.end() ? 0 : it->second;
}

double ConfusionMatrix::Accuracy() const {
  return total_ == 0 ? kNaN : static_cast<double>(correct_) / static_cast<double>(total_);
}

double ConfusionMatrix::Precision(std::string_view cls) const {
  auto it = classes_.find(cls);
  if (it == classes_.end()) return kNaN;
  return Ratio(it->second.true_positive, it->second.predicted);
}

double ConfusionMatrix::Recall(std::string_view cls) const {
  auto it = classes_.find(cls);
  if (it == classes_.end()) return kNaN;
  return Ratio(it->second.true_positive, it->second.actual);
}

double ConfusionMatrix::F1(std::string_view cls) const {
  auto it = classes_.find(cls);
  if (it == classes_.end()) return kNaN;
  const ClassCounts& c = it->second;
  // 2 TP + FP + FN = (TP + FP) + (TP + FN).
  return Ratio(2 * c.true_positive, c.predicted + c.actual);
}

template <typename Metric>
double ConfusionMatrix::Macro(Metric metric) const {
  if (classes_.empty()) return kNaN;
  double sum = 0;
  for (const auto& [name, c] : classes_) sum += metric(name);
  return sum / static_cast<double>(classes_.size());
}

double ConfusionMatrix::MacroPrecision() const {
  return Macro([this](std::string_view c) { return Precision(c); });
}
double ConfusionMatrix::MacroRecall() const {
  return Macro([this](std::string_view c) { return Recall(c); });
}
double ConfusionMatrix::MacroF1() const {
  return Macro([this](std::string_view c) { return F1(c); });
}

std::vector<std::string> ConfusionMatrix::classes() const {
  std::vector<std::string> out;
  out.reserve(classes_.size());
  for (const auto& [name, c] : classes_) out.push_back(name);
  return out;
}

CalibrationBins::CalibrationBins(int bins) : bins_(static_cast<size_t>(std::max(bins, 1))) {}

void CalibrationBins::Add(double score, bool correct) {
  if (std::isnan(score)) return;
  score = std::clamp(score, 0.0, 1.0);
  const size_t count = bins_.size();
  const auto b = std::min(count - 1, static_cast<size_t>(score * static_cast<double>(count)));
  Bin& bin = bins_[b];
  ++bin.n;
  bin.correct += correct ? 1 : 0;
  bin.score_sum += score;
  ++total_;
}

bool CalibrationBins::Merge(const CalibrationBins& other) {
  if (other.bins_.size() != bins_.size()) return false;
  // Copies taken before adding keep a self-merge correct.
  const uint64_t their_total = other.total_;
  for (size_t i = 0; i < bins_.size(); ++i) {
    const Bin theirs = other.bins_[i];
    bins_[i].n += theirs.n;
    bins_[i].correct += theirs.correct;
    bins_[i].score_sum += theirs.score_sum;
  }
  total_ += their_total;
  return true;
}

double CalibrationBins::ExpectedCalibrationError() const {
  if (total_ == 0) return kNaN;
  double ece = 0;
  for (const Bin& bin : bins_) {
    if (bin.n == 0) continue;
    const double n = static_cast<double>(bin.n);
    const double accuracy = static_cast<double>(bin.correct) / n;
    const double confidence = bin.score_sum / n;
    ece += n / static_cast<double>(total_) * std::fabs(accuracy - confidence);
  }
  return ece;
}

namespace {
template <typename Rate>
double Gap(const std::map<std::string, SegmentRates>& segments, Rate rate) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  int used = 0;
  for (const auto& [name, s] : segments) {
    const double r = rate(s);
    if (std::isnan(r)) continue;
    lo = std::min(lo, r);
    hi = std::max(hi, r);
    ++used;
  }
  return used < 2 ? kNaN : hi - lo;
}
}  // namespace

double DemographicParityDifference(const std::map<std::string, SegmentRates>& segments) {
  return Gap(segments, [](const SegmentRates& s) {
    return s.n == 0 ? kNaN : static_cast<double>(s.predicted_positive) / static_cast<double>(s.n);
  });
}

double EqualOpportunityDifference(const std::map<std::string, SegmentRates>& segments) {
  return Gap(segments, [](const SegmentRates& s) {
    return s.actual_positive == 0 ? kNaN
                                  : static_cast<double>(s.true_positive) / static_cast<double>(s.actual_positive);
  });
}

}  // namespace tyto::stats
