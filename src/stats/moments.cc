#include "stats/moments.h"

#include <cmath>
#include <limits>

namespace tyto::stats {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

void RunningMoments::Merge(const RunningMoments& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  const double n_a = static_cast<double>(count_);
  const double n_b = static_cast<double>(other.count_);
  const double n = n_a + n_b;
  const double delta = other.mean_ - mean_;
  mean_ += delta * (n_b / n);
  m2_ += other.m2_ + delta * delta * (n_a * n_b / n);
  count_ += other.count_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

double RunningMoments::mean() const { return count_ == 0 ? kNaN : mean_; }
double RunningMoments::min() const { return count_ == 0 ? kNaN : min_; }
double RunningMoments::max() const { return count_ == 0 ? kNaN : max_; }

double RunningMoments::variance() const {
  if (count_ == 0) return kNaN;
  return m2_ / static_cast<double>(count_);
}

double RunningMoments::stddev() const { return std::sqrt(variance()); }

double RunningMoments::sample_variance() const {
  if (count_ < 2) return kNaN;
  return m2_ / static_cast<double>(count_ - 1);
}

RunningMoments RunningMoments::FromParts(uint64_t count, double mean, double m2, double min, double max) {
  RunningMoments m;
  m.count_ = count;
  m.mean_ = mean;
  m.m2_ = m2;
  m.min_ = min;
  m.max_ = max;
  return m;
}

}  // namespace tyto::stats
