// QuantileSketch: the distribution of a numeric column (a model's score, a feature, a latency)
// in bounded memory, mergeable across windows and replicas, serializable so that a reference
// distribution can be kept on disk. Quantiles, CDF values and the drift tests of drift.h come
// from it; mean and standard deviation are tracked exactly beside it.
//
//   stats::QuantileSketch sketch;            // k = 200: about 1.3% rank error, under 10 KiB
//   for (double v : scores) sketch.Add(v);
//   double p99 = sketch.Quantile(0.99);
//   std::string bytes = sketch.Serialize();  // docs/format/stats-sketches.md
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stats/moments.h"
#include "stats/random.h"
#include "tyto/status.h"

namespace tyto::stats {

// One point of a sketch's estimated cumulative distribution: `at_or_below` estimates how many of
// the added values are <= `value` (exactly that count while the sketch is exact).
struct CdfPoint {
  double value = 0;
  uint64_t at_or_below = 0;
};

// The KLL sketch (Karnin, Lang and Liberty, "Optimal Quantile Approximation in Streams", FOCS
// 2016), in the lazy form Apache DataSketches uses: levels of retained values, level h standing
// for 2^h added values each; level capacities shrink by 2/3 per level below the top, never below
// 8; when the sketch holds more than the sum of capacities, the lowest level at its capacity is
// sorted and every other value (odd or even positions, a fair coin from the seeded generator) is
// promoted to the level above with twice the weight. Memory is O(k log(n/k)) values: about 3k
// values retained plus 8 per level.
//
// Accuracy: a rank query (Cdf, Quantile) is within RankErrorBound() of the true normalized rank
// with 99% confidence; while the sketch has never compacted (count() <= k) it is exact.
//
// Values: NaN and ±Inf are ignored (not counted). count, min, max, mean and stddev are exact.
// Deterministic: the same seed and the same sequence of Add and Merge calls give the same sketch,
// byte for byte. Not synchronised: one writer, or a lock outside; const methods may run
// concurrently.
class QuantileSketch {
 public:
  static constexpr uint32_t kDefaultK = 200;
  static constexpr uint32_t kMinK = 8;                             // smaller k is raised to this
  static constexpr uint32_t kMaxK = 65535;                         // larger k is lowered to this
  static constexpr uint64_t kDefaultSeed = 0x7479746f6b6c6c31ULL;  // "tytokll1"
  // Distinct values are counted exactly up to this many.
  static constexpr size_t kMaxTrackedDistinct = 16;

  explicit QuantileSketch(uint32_t k = kDefaultK) : QuantileSketch(k, kDefaultSeed) {}
  QuantileSketch(uint32_t k, uint64_t seed);

  void Add(double v);
  // Adds every value `other` summarises. Sketches of different k give a sketch with the smaller
  // k (its accuracy). Merging a sketch into itself doubles every count.
  void Merge(const QuantileSketch& other);

  uint64_t count() const { return moments_.count(); }
  // Exact; NaN when empty.
  double min() const { return moments_.min(); }
  double max() const { return moments_.max(); }
  double mean() const { return moments_.mean(); }
  // Population standard deviation (divided by n, numpy's np.std default); NaN when empty.
  double stddev() const { return moments_.stddev(); }
  const RunningMoments& moments() const { return moments_; }

  // The smallest retained value whose estimated cumulative count reaches q * count(): the
  // inverse of the empirical CDF (numpy's method="inverted_cdf"), never interpolated. q <= 0
  // gives min(), q >= 1 max(). NaN when empty or q is NaN.
  double Quantile(double q) const;
  // The estimated fraction of added values <= v, in [0, 1]. NaN when empty or v is NaN.
  double Cdf(double v) const;
  // The estimated CDF at every distinct retained value, ascending; the last point's at_or_below
  // is count(). Empty when the sketch is. The basis of the two-sample tests in drift.h.
  std::vector<CdfPoint> CdfPoints() const;

  // The number of distinct values added, exact while it is at most kMaxTrackedDistinct; past
  // that, distinct_capped() is true and distinct() returns kMaxTrackedDistinct + 1 ("more").
  size_t distinct() const { return capped_ ? kMaxTrackedDistinct + 1 : small_.size(); }
  bool distinct_capped() const { return capped_; }
  // Value -> how many times it was added, while not capped (empty once capped). -0.0 and 0.0
  // count as one value.
  const std::map<double, uint64_t>& small_values() const { return small_; }

  // The normalized rank error of this sketch at 99% confidence: 0 while exact(), else
  // NormalizedRankError(k()).
  double RankErrorBound() const;
  // 2.296 / k^0.9723: the single-query rank error at 99% confidence that Apache DataSketches
  // measured for this KLL variant (m = 8, c = 2/3, lazy compaction); 0.0133 for k = 200. Our
  // tests check it on random and adversarial streams (quantile_sketch_test.cc).
  static double NormalizedRankError(uint32_t k);
  // True while every added value is retained with weight 1 (no compaction yet).
  bool exact() const { return begin_.size() == 1; }

  uint32_t k() const { return k_; }
  // Values retained over all levels.
  size_t retained() const { return items_.size(); }
  size_t num_levels() const { return begin_.size(); }
  // Heap and inline bytes this sketch holds (vector capacities, map nodes estimated).
  size_t MemoryBytes() const;

  // Layout: docs/format/stats-sketches.md ("TYKL", version 1). Deserialize checks every field
  // and invariant and answers InvalidArgument naming the first one that fails; it never crashes
  // on any input.
  std::string Serialize() const;
  static Result<QuantileSketch> Deserialize(std::string_view bytes);

 private:
  size_t LevelBegin(size_t h) const { return begin_[h]; }
  size_t LevelEnd(size_t h) const { return h == 0 ? items_.size() : begin_[h - 1]; }
  void TrackDistinct(double v, uint64_t n);
  void Compress();
  void CompactLevel(size_t h);
  void AddTopLevel();
  void UpdateCapacity();

  uint32_t k_;
  SplitMix64 rng_;
  RunningMoments moments_;
  // Every retained value in one buffer, the top level first and level 0 last, so that Add
  // appends: level h is items_[begin_[h], LevelEnd(h)) and stands for 2^h values each. Level 0
  // is in arrival order, the others sorted ascending. begin_.size() is the number of levels and
  // begin_[top] is 0.
  std::vector<double> items_;
  std::vector<size_t> begin_;
  size_t capacity_ = 0;  // sum of the levels' capacities; items_.size() <= capacity_ between calls
  std::map<double, uint64_t> small_;
  bool capped_ = false;
};

// Quantile and rank lookups over a sketch's CdfPoints(), for callers that ask many of one sketch
// without sorting its values each time. QuantileOfCdf(points, q), 0 < q < 1, is what
// QuantileSketch::Quantile answers (NaN for no points); CountAtOrBelow is the at_or_below of the
// last point <= v (0 when none is).
double QuantileOfCdf(const std::vector<CdfPoint>& points, double q);
uint64_t CountAtOrBelow(const std::vector<CdfPoint>& points, double v);

// The capacity of level h (0 = lowest) of a KLL sketch with `num_levels` levels:
// max(8, ceil(k * (2/3)^(num_levels - 1 - h))), in integer arithmetic so that it is the same on
// every platform (deserialization checks retained values against it).
size_t KllLevelCapacity(uint32_t k, size_t num_levels, size_t h);

}  // namespace tyto::stats
