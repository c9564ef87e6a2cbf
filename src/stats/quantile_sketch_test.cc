#include "stats/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace tyto::stats {
namespace {

// The largest deviation of the sketch's answers from the true normalized ranks of `data`:
//   Quantile(q) for q = 0.001 .. 0.999: the distance from q to the true rank interval
//     [F(x-), F(x)] of the answer x (0 when x is a correct inverse-CDF answer);
//   Cdf(v) for v at the data's quantiles 0.001 .. 0.999: |Cdf(v) - F(v)|.
double MaxRankError(const QuantileSketch& sketch, std::vector<double> data) {
  std::sort(data.begin(), data.end());
  const double n = static_cast<double>(data.size());
  double worst = 0;
  for (int i = 1; i < 1000; ++i) {
    const double q = i / 1000.0;
    const double x = sketch.Quantile(q);
    const double lo = static_cast<double>(std::lower_bound(data.begin(), data.end(), x) - data.begin()) / n;
    const double hi = static_cast<double>(std::upper_bound(data.begin(), data.end(), x) - data.begin()) / n;
    worst = std::max(worst, q < lo ? lo - q : (q > hi ? q - hi : 0.0));
    const double v = data[static_cast<size_t>(q * (n - 1))];
    const double truth = static_cast<double>(std::upper_bound(data.begin(), data.end(), v) - data.begin()) / n;
    worst = std::max(worst, std::fabs(sketch.Cdf(v) - truth));
  }
  return worst;
}

QuantileSketch SketchOf(const std::vector<double>& data, uint32_t k = QuantileSketch::kDefaultK,
                        uint64_t seed = QuantileSketch::kDefaultSeed) {
  QuantileSketch s(k, seed);
  for (double v : data) s.Add(v);
  return s;
}

struct Stream {
  std::string name;
  std::function<std::vector<double>(size_t n, uint64_t seed)> make;
};

std::vector<Stream> Streams() {
  return {
      {"uniform",
       [](size_t n, uint64_t seed) {
         std::mt19937_64 rng(seed);
         std::uniform_real_distribution<double> u(0, 1);
         std::vector<double> v(n);
         for (double& x : v) x = u(rng);
         return v;
       }},
      {"normal",
       [](size_t n, uint64_t seed) {
         std::mt19937_64 rng(seed);
         std::normal_distribution<double> d(10, 3);
         std::vector<double> v(n);
         for (double& x : v) x = d(rng);
         return v;
       }},
      {"pareto_heavy_tail",
       [](size_t n, uint64_t seed) {
         // Pareto with shape 1.1: infinite variance, values up to ~1e5 and beyond.
         std::mt19937_64 rng(seed);
         std::uniform_real_distribution<double> u(0, 1);
         std::vector<double> v(n);
         for (double& x : v) x = std::pow(1 - u(rng), -1 / 1.1);
         return v;
       }},
      {"cauchy",
       [](size_t n, uint64_t seed) {
         std::mt19937_64 rng(seed);
         std::cauchy_distribution<double> d(0, 1);
         std::vector<double> v(n);
         for (double& x : v) x = d(rng);
         return v;
       }},
      {"sorted_ascending",
       [](size_t n, uint64_t) {
         std::vector<double> v(n);
         std::iota(v.begin(), v.end(), 0.0);
         return v;
       }},
      {"sorted_descending",
       [](size_t n, uint64_t) {
         std::vector<double> v(n);
         for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(n - i);
         return v;
       }},
      {"all_equal", [](size_t n, uint64_t) { return std::vector<double>(n, 42.5); }},
      {"alternating_extremes",
       [](size_t n, uint64_t) {
         // -1e12 + i and 1e12 - i alternately: every new value is a new extreme inwards.
         std::vector<double> v(n);
         for (size_t i = 0; i < n; ++i) v[i] = i % 2 ? 1e12 - static_cast<double>(i) : -1e12 + static_cast<double>(i);
         return v;
       }},
      {"zoom_in",
       [](size_t n, uint64_t) {
         // ±1/(i+1): values converging on 0 from both sides, each closer than all before.
         std::vector<double> v(n);
         for (size_t i = 0; i < n; ++i) v[i] = (i % 2 ? 1.0 : -1.0) / static_cast<double>(i + 1);
         return v;
       }},
      {"many_duplicates",
       [](size_t n, uint64_t seed) {
         // 50 distinct values with Zipf-like frequencies, shuffled.
         std::mt19937_64 rng(seed);
         std::uniform_real_distribution<double> u(0, 1);
         std::vector<double> v(n);
         for (double& x : v) x = std::floor(std::pow(50.0, u(rng)));
         return v;
       }},
      {"sawtooth_sorted_runs",
       [](size_t n, uint64_t) {
         // Ascending runs of 1000, each starting again: sorted blocks as batches arrive.
         std::vector<double> v(n);
         for (size_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1000) + static_cast<double>(i / 1000) * 1e-3;
         return v;
       }},
  };
}

TEST(QuantileSketch, EmptyAnswersNaN) {
  QuantileSketch s;
  EXPECT_EQ(s.count(), 0u);
  EXPECT_TRUE(std::isnan(s.min()));
  EXPECT_TRUE(std::isnan(s.max()));
  EXPECT_TRUE(std::isnan(s.mean()));
  EXPECT_TRUE(std::isnan(s.stddev()));
  EXPECT_TRUE(std::isnan(s.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(s.Cdf(1.0)));
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.distinct(), 0u);
  EXPECT_TRUE(s.CdfPoints().empty());
}

TEST(QuantileSketch, ExactSmallStream) {
  // 1..10: the inverse empirical CDF gives the ceil(10 q)-th value; mean 5.5; population
  // variance (sum of (i - 5.5)^2) / 10 = 82.5 / 10 = 8.25.
  QuantileSketch s;
  for (int i = 10; i >= 1; --i) s.Add(i);
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.RankErrorBound(), 0.0);
  EXPECT_EQ(s.count(), 10u);
  EXPECT_EQ(s.Quantile(0.5), 5.0);
  EXPECT_EQ(s.Quantile(0.3), 3.0);  // 10 * 0.3 is 3.0000000000000004 in floating point
  EXPECT_EQ(s.Quantile(0.31), 4.0);
  EXPECT_EQ(s.Quantile(0.0), 1.0);
  EXPECT_EQ(s.Quantile(1.0), 10.0);
  EXPECT_EQ(s.Quantile(0.95), 10.0);
  EXPECT_EQ(s.Cdf(5.0), 0.5);
  EXPECT_EQ(s.Cdf(5.5), 0.5);
  EXPECT_EQ(s.Cdf(0.0), 0.0);
  EXPECT_EQ(s.Cdf(10.0), 1.0);
  EXPECT_EQ(s.min(), 1.0);
  EXPECT_EQ(s.max(), 10.0);
  EXPECT_DOUBLE_EQ(s.mean(), 5.5);
  EXPECT_DOUBLE_EQ(s.stddev(), std::sqrt(8.25));
  EXPECT_DOUBLE_EQ(s.moments().sample_variance(), 82.5 / 9);
}

TEST(QuantileSketch, IgnoresNonFinite) {
  QuantileSketch s;
  s.Add(NAN);
  s.Add(INFINITY);
  s.Add(-INFINITY);
  s.Add(2.0);
  EXPECT_EQ(s.count(), 1u);
  EXPECT_EQ(s.Quantile(0.5), 2.0);
  EXPECT_EQ(s.distinct(), 1u);
}

TEST(QuantileSketch, DistinctValuesUntilCapped) {
  QuantileSketch s;
  for (int rep = 0; rep < 3; ++rep) {
    for (int i = 0; i < 16; ++i) s.Add(i * 0.5);
  }
  s.Add(-0.0);  // the same value as 0.0
  EXPECT_FALSE(s.distinct_capped());
  EXPECT_EQ(s.distinct(), 16u);
  ASSERT_EQ(s.small_values().size(), 16u);
  EXPECT_EQ(s.small_values().at(0.0), 4u);
  EXPECT_EQ(s.small_values().at(7.5), 3u);
  s.Add(100);  // the 17th distinct value
  EXPECT_TRUE(s.distinct_capped());
  EXPECT_EQ(s.distinct(), QuantileSketch::kMaxTrackedDistinct + 1);
  EXPECT_TRUE(s.small_values().empty());
  s.Add(0.0);
  EXPECT_TRUE(s.distinct_capped());
}

TEST(QuantileSketch, ExactUntilKThenCompacts) {
  QuantileSketch s(50);
  for (int i = 0; i < 50; ++i) s.Add(i);
  EXPECT_TRUE(s.exact());
  EXPECT_EQ(s.retained(), 50u);
  s.Add(50);
  EXPECT_FALSE(s.exact());
  EXPECT_LT(s.retained(), 51u);
  EXPECT_NEAR(s.RankErrorBound(), 2.296 / std::pow(50.0, 0.9723), 1e-15);
}

TEST(QuantileSketch, NormalizedRankErrorForDefaultK) {
  // 2.296 / 200^0.9723 = 2.296 / 172.73 = 0.01329 (DataSketches' KLL accuracy table lists 1.33%
  // single-sided rank error at 99% confidence for k = 200).
  EXPECT_NEAR(QuantileSketch::NormalizedRankError(200), 0.01329, 1e-5);
}

TEST(QuantileSketch, KClamped) {
  EXPECT_EQ(QuantileSketch(1).k(), QuantileSketch::kMinK);
  EXPECT_EQ(QuantileSketch(1u << 20).k(), QuantileSketch::kMaxK);
}

TEST(QuantileSketch, LevelCapacities) {
  // k = 200 with 3 levels: ceil(200 * (2/3)^2) = ceil(88.9) = 89, ceil(133.3) = 134, 200.
  EXPECT_EQ(KllLevelCapacity(200, 3, 0), 89u);
  EXPECT_EQ(KllLevelCapacity(200, 3, 1), 134u);
  EXPECT_EQ(KllLevelCapacity(200, 3, 2), 200u);
  // Deep levels never go below 8: 200 * (2/3)^10 = 3.5.
  EXPECT_EQ(KllLevelCapacity(200, 11, 0), 8u);
  EXPECT_EQ(KllLevelCapacity(65535, 40, 0), 8u);
}

// Every stream, 3 seeds each, 200,000 values: the worst rank error over 2 x 999 queries stays
// within the documented 99%-confidence bound of one query.
TEST(QuantileSketch, RankErrorWithinBoundOnRandomAndAdversarialStreams) {
  const double bound = QuantileSketch::NormalizedRankError(QuantileSketch::kDefaultK);
  for (const Stream& stream : Streams()) {
    double worst = 0;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const std::vector<double> data = stream.make(200'000, seed);
      const QuantileSketch s = SketchOf(data, QuantileSketch::kDefaultK, seed);
      ASSERT_EQ(s.count(), data.size());
      EXPECT_FALSE(s.exact());
      EXPECT_LE(s.retained(), 1000u) << stream.name;
      const double err = MaxRankError(s, data);
      worst = std::max(worst, err);
      EXPECT_LE(err, bound) << stream.name << " seed " << seed;
      EXPECT_EQ(s.min(), *std::min_element(data.begin(), data.end()));
      EXPECT_EQ(s.max(), *std::max_element(data.begin(), data.end()));
    }
    std::printf("[ rank error ] %-22s worst %.5f (bound %.5f)\n", stream.name.c_str(), worst, bound);
  }
}

TEST(QuantileSketch, MergeOfPartsWithinBoundOfTheUnion) {
  const double bound = QuantileSketch::NormalizedRankError(QuantileSketch::kDefaultK);
  for (const Stream& stream : Streams()) {
    const std::vector<double> data = stream.make(200'000, 7);
    // 16 parts of unequal length, merged as a tree would: pairs, then pairs of pairs.
    std::vector<QuantileSketch> parts;
    size_t begin = 0;
    for (int p = 0; p < 16; ++p) {
      const size_t end = p == 15 ? data.size() : begin + (data.size() / 16) * (p % 3 + 1) / 2;
      QuantileSketch s(QuantileSketch::kDefaultK, 100 + p);
      for (size_t i = begin; i < end; ++i) s.Add(data[i]);
      parts.push_back(s);
      begin = end;
    }
    while (parts.size() > 1) {
      std::vector<QuantileSketch> next;
      for (size_t i = 0; i + 1 < parts.size(); i += 2) {
        next.push_back(parts[i]);
        next.back().Merge(parts[i + 1]);
      }
      parts = std::move(next);
    }
    const QuantileSketch& merged = parts[0];
    ASSERT_EQ(merged.count(), data.size()) << stream.name;
    EXPECT_LE(MaxRankError(merged, data), bound) << stream.name;
    // Exact moments after merging: compare with one pass.
    const QuantileSketch one = SketchOf(data);
    // Rounding differs with the order of operations; it is relative to the values' spread (the
    // alternating stream's mean is near 0 with values at ±1e12).
    const double scale = std::max({1.0, one.stddev(), std::fabs(one.mean())});
    EXPECT_NEAR(merged.mean(), one.mean(), 1e-9 * scale) << stream.name;
    EXPECT_NEAR(merged.stddev(), one.stddev(), 1e-9 * scale) << stream.name;
    EXPECT_EQ(merged.min(), one.min());
    EXPECT_EQ(merged.max(), one.max());
  }
}

TEST(QuantileSketch, SequentialMergeOfManySmallSketches) {
  // 1000 windows of 200 values merged one after another into a running total, the way a
  // reference builds up from minute windows.
  const std::vector<double> data = Streams()[1].make(200'000, 11);
  QuantileSketch total;
  for (size_t w = 0; w < 1000; ++w) {
    QuantileSketch window(QuantileSketch::kDefaultK, w);
    for (size_t i = w * 200; i < (w + 1) * 200; ++i) window.Add(data[i]);
    EXPECT_TRUE(window.exact());
    total.Merge(window);
  }
  EXPECT_EQ(total.count(), data.size());
  EXPECT_LE(MaxRankError(total, data), QuantileSketch::NormalizedRankError(QuantileSketch::kDefaultK));
}

TEST(QuantileSketch, MergeExactSketchesStaysExact) {
  QuantileSketch a, b;
  for (int i = 0; i < 50; ++i) a.Add(i);
  for (int i = 50; i < 100; ++i) b.Add(i);
  a.Merge(b);
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.Quantile(0.5), 49.0);
  EXPECT_EQ(a.Cdf(74), 0.75);
  EXPECT_TRUE(a.distinct_capped());
}

TEST(QuantileSketch, MergeWithItselfDoublesCounts) {
  QuantileSketch a;
  for (int i = 0; i < 5; ++i) a.Add(i);
  a.Merge(a);
  EXPECT_EQ(a.count(), 10u);
  EXPECT_EQ(a.small_values().at(3.0), 2u);
  EXPECT_EQ(a.Cdf(1), 0.4);
}

TEST(QuantileSketch, MergeDifferentKTakesTheSmaller) {
  QuantileSketch a(400), b(100);
  for (int i = 0; i < 10000; ++i) {
    a.Add(i);
    b.Add(-i);
  }
  a.Merge(b);
  EXPECT_EQ(a.k(), 100u);
  EXPECT_EQ(a.count(), 20000u);
  EXPECT_NEAR(a.Cdf(0), 0.5, QuantileSketch::NormalizedRankError(100));
}

TEST(QuantileSketch, DeterministicForASeed) {
  const std::vector<double> data = Streams()[0].make(50'000, 3);
  const QuantileSketch a = SketchOf(data, 200, 9);
  const QuantileSketch b = SketchOf(data, 200, 9);
  const QuantileSketch c = SketchOf(data, 200, 10);
  EXPECT_EQ(a.Serialize(), b.Serialize());
  EXPECT_NE(a.Serialize(), c.Serialize());
}

TEST(QuantileSketch, MemoryStaysBounded) {
  // O(k log(n / k)): about 3k retained values plus 8 per level; the figures for the report are
  // in bench/stats_bench.cc.
  QuantileSketch s;
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 2'000'000; ++i) s.Add(u(rng));
  EXPECT_LE(s.retained(), 3 * 200 + 8 * s.num_levels());
  EXPECT_LT(s.MemoryBytes(), 8u * 1024);
  EXPECT_LE(s.num_levels(), 16u);
}

TEST(RunningMoments, MergeMatchesOnePassWhereNaiveSumsCancel) {
  // 1e9 + {1, 2, 3, 4}: mean 1e9 + 2.5, population variance 1.25 (the naive sum of squares
  // would lose it entirely at 1e18 magnitude).
  RunningMoments a, b, all;
  for (double v : {1e9 + 1, 1e9 + 2}) {
    a.Add(v);
    all.Add(v);
  }
  for (double v : {1e9 + 3, 1e9 + 4}) {
    b.Add(v);
    all.Add(v);
  }
  a.Merge(b);
  EXPECT_DOUBLE_EQ(a.mean(), 1e9 + 2.5);
  EXPECT_NEAR(a.variance(), 1.25, 1e-9);
  EXPECT_NEAR(all.variance(), 1.25, 1e-9);
  EXPECT_EQ(a.min(), 1e9 + 1);
  EXPECT_EQ(a.max(), 1e9 + 4);
  RunningMoments one;
  one.Add(3);
  EXPECT_EQ(one.variance(), 0.0);
  EXPECT_TRUE(std::isnan(one.sample_variance()));
}

}  // namespace
}  // namespace tyto::stats
