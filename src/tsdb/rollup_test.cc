// Rollup aggregates on hand-computed examples, and the counter join across sources.
#include "tsdb/rollup.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "tsdb/querier.h"

namespace tyto::tsdb::rollup {
namespace {

constexpr int64_t kMin = 60000;

std::vector<std::pair<int64_t, double>> Raw() {
  const double nan = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  return {
      // window [0, 5m): a reset (20 -> 5) and an ordinary NaN
      {0, 10}, {1 * kMin, 20}, {2 * kMin, 5}, {4 * kMin, nan}, {5 * kMin - 1, 7},
      // [5m, 10m): a staleness marker, which is not aggregated
      {5 * kMin, StaleMarker()}, {400000, 9},
      // [10m, 15m): only a staleness marker: no window at all
      {700000, StaleMarker()},
      // [15m, 20m): another reset (9 -> 1)
      {15 * kMin, 1}, {16 * kMin, 4},
  };
}

void ExpectSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].t, want[i].t) << i;
    if (std::isnan(want[i].v)) {
      EXPECT_TRUE(std::isnan(got[i].v)) << i;
    } else {
      EXPECT_EQ(got[i].v, want[i].v) << i;
    }
  }
}

TEST(RollupTest, AggregatesPerWindow) {
  SeriesRollup r = Compute(Raw(), k5m);
  const double nan = std::nan("");
  ExpectSamples(r.count, {{5 * kMin - 1, 5}, {400000, 1}, {16 * kMin, 2}});
  ExpectSamples(r.sum, {{5 * kMin - 1, nan}, {400000, 9}, {16 * kMin, 5}});  // NaN sums to NaN
  ExpectSamples(r.min, {{5 * kMin - 1, 5}, {400000, 9}, {16 * kMin, 1}});    // NaN skipped
  ExpectSamples(r.max, {{5 * kMin - 1, 20}, {400000, 9}, {16 * kMin, 4}});
  // 10, +10, reset +5, +2 = 27 at the first window's end; +2 = 29; reset +1, +3 = 33; then the
  // last raw value (4) again at the same time.
  ExpectSamples(r.counter, {{0, 10}, {5 * kMin - 1, 27}, {400000, 29}, {16 * kMin, 33}, {16 * kMin, 4}});
}

TEST(RollupTest, OneHourWindowsAndEdgeCases) {
  SeriesRollup r = Compute(Raw(), k1h);
  ExpectSamples(r.count, {{16 * kMin, 8}});
  ExpectSamples(r.min, {{16 * kMin, 1}});
  ExpectSamples(r.counter, {{0, 10}, {16 * kMin, 33}, {16 * kMin, 4}});
  // One sample: the counter is that sample and its tail.
  ExpectSamples(Compute({{-5, 3}}, k5m).counter, {{-5, 3}, {-5, 3}});
  ExpectSamples(Compute({{-5, 3}}, k5m).count, {{-5, 1}});
  // Only staleness markers and NaN: counts, but no counter.
  SeriesRollup stale = Compute({{1, StaleMarker()}, {2, std::nan("")}}, k5m);
  ExpectSamples(stale.count, {{2, 1}});
  EXPECT_TRUE(stale.counter.empty());
  EXPECT_TRUE(Compute({{1, StaleMarker()}}, k5m).count.empty());
}

TEST(RollupTest, FunctionsPickAggregates) {
  EXPECT_EQ(ForFunction("rate"), Aggregate::kCounter);
  EXPECT_EQ(ForFunction("increase"), Aggregate::kCounter);
  EXPECT_EQ(ForFunction("irate"), Aggregate::kCounter);
  EXPECT_EQ(ForFunction("resets"), Aggregate::kCounter);
  EXPECT_EQ(ForFunction("min_over_time"), Aggregate::kMin);
  EXPECT_EQ(ForFunction("min"), Aggregate::kMin);
  EXPECT_EQ(ForFunction("max_over_time"), Aggregate::kMax);
  EXPECT_EQ(ForFunction("sum_over_time"), Aggregate::kSum);
  EXPECT_EQ(ForFunction("count_over_time"), Aggregate::kCount);
  EXPECT_EQ(ForFunction("avg_over_time"), std::nullopt);
  EXPECT_EQ(ForFunction("sum"), std::nullopt);  // a sum across series wants each series' value
  EXPECT_EQ(ForFunction(""), std::nullopt);
}

TEST(RollupTest, ReservedLabel) {
  Labels l = Labels::Of({"__name__", "m", "A", "x", "z", "y"});
  auto with = WithAggregate(l, Aggregate::kMax);
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with->Get(kLabel), "max");
  EXPECT_EQ(Strip(*with), l);
  EXPECT_EQ(WithAggregate(*with, Aggregate::kMin).status().code(), StatusCode::kInvalidArgument);
}

std::vector<Sample> Drain(SeriesIterator* it) {
  std::vector<Sample> out;
  while (it->Next()) out.push_back(it->At());
  EXPECT_TRUE(it->status().ok());
  return out;
}

TEST(RollupTest, CounterChainContinuesAcrossSources) {
  auto sources = [] {
    std::vector<std::unique_ptr<SeriesIterator>> its;
    // A rollup: raw 10, a reset inside, adjusted 30 at t=100 where the raw value was 5.
    its.push_back(NewVectorIterator({{0, 10}, {100, 30}, {100, 5}}));
    // Raw samples: 5 -> 8 continues (+3), 8 -> 2 is a reset the reader of raw data sees itself.
    its.push_back(NewVectorIterator({{200, 8}, {300, 2}, {350, StaleMarker()}}));
    // A rollup starting below the last raw value (2): a reset between the sources.
    its.push_back(NewVectorIterator({{400, 1}, {500, 3}, {500, 3}}));
    return its;
  };
  auto it = NewCounterChainIterator(sources(), /*keep_tail=*/false);
  auto got = Drain(it.get());
  ASSERT_EQ(got.size(), 7u);
  ExpectSamples({got.begin(), got.begin() + 5}, {{0, 10}, {100, 30}, {200, 33}, {300, 27}, {350, std::nan("")}});
  EXPECT_TRUE(IsStaleMarker(got[4].v));  // passed through bit for bit
  // After the raw source ended at 2 (emitted 27), a 1 is a reset: 27 + 1, then + 2.
  ExpectSamples({got.begin() + 5, got.end()}, {{400, 28}, {500, 30}});
  // Merging rollup blocks keeps the last tail.
  auto merged = NewCounterChainIterator(sources(), /*keep_tail=*/true);
  auto with_tail = Drain(merged.get());
  ASSERT_EQ(with_tail.size(), 8u);
  EXPECT_EQ(with_tail.back().t, 500);
  EXPECT_EQ(with_tail.back().v, 3);
  // Seek.
  auto seeking = NewCounterChainIterator(sources(), false);
  ASSERT_TRUE(seeking->Seek(250));
  EXPECT_EQ(seeking->At().t, 300);
  EXPECT_EQ(seeking->At().v, 27);
}

}  // namespace
}  // namespace tyto::tsdb::rollup
