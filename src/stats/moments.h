// RunningMoments: count, mean, variance, minimum and maximum of a stream of numbers in constant
// memory, mergeable. The accumulator behind QuantileSketch's exact mean and standard deviation,
// and on its own the one for mean scores and ratings (a judge's 1-5 rating, a latency mean).
#pragma once

#include <cmath>
#include <cstdint>

namespace tyto::stats {

// Mean and variance by Welford's update (Welford 1962), merged by Chan, Golub and LeVeque's
// pairwise formula (1979): a merge agrees with one pass over both streams up to rounding, and
// both stay accurate where the naive sum of squares cancels (values near 1e9 that differ by 1).
// Non-finite values (NaN, ±Inf) are ignored. Not synchronised: one writer, or a lock outside.
class RunningMoments {
 public:
  void Add(double v) {
    if (!std::isfinite(v)) return;
    if (count_ == 0) {
      min_ = v;
      max_ = v;
    } else {
      if (v < min_) min_ = v;
      if (v > max_) max_ = v;
    }
    ++count_;
    const double delta = v - mean_;
    mean_ += delta / static_cast<double>(count_);
    m2_ += delta * (v - mean_);
  }
  void Merge(const RunningMoments& other);

  uint64_t count() const { return count_; }
  // NaN when empty.
  double mean() const;
  double min() const;
  double max() const;
  // Population variance and standard deviation: divided by n (numpy's np.var and np.std with
  // ddof=0, which Evidently's normed Wasserstein distance uses). 0 for one value; NaN when empty.
  double variance() const;
  double stddev() const;
  // Sample variance: divided by n - 1 (ddof=1). NaN for fewer than two values.
  double sample_variance() const;
  // The sum of squared deviations from the mean (n times the population variance).
  double m2() const { return m2_; }

  // Rebuilds a RunningMoments from its parts (deserialization); the caller checks them.
  static RunningMoments FromParts(uint64_t count, double mean, double m2, double min, double max);

 private:
  uint64_t count_ = 0;
  double mean_ = 0;
  double m2_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace tyto::stats
