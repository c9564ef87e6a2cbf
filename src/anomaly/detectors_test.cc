#include "anomaly/detectors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace tyto::anomaly {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// Monday 13 November 2023 00:00 UTC.
constexpr int64_t kMonday = 1'699'833'600'000;

// A daily cycle between 20 and 80 (peak at 12:00) with a little noise.
double Daily(int64_t t, std::mt19937& rng) {
  const double hour = static_cast<double>((t % kDay)) / kHour;
  std::normal_distribution<double> noise(0, 1);
  return 50 - 30 * std::cos(2 * M_PI * hour / 24) + noise(rng);
}

TEST(SeasonalBaselineTest, FlagsASpikeNotTheDailyCycle) {
  SeasonalBaseline b;
  std::mt19937 rng(1);
  int64_t t = kMonday;
  // Two days to learn (the hour-of-day fallback needs min_seasons = 2 completed days).
  for (; t < kMonday + 2 * kDay; t += kMinute) {
    Verdict v = b.Observe(t, Daily(t, rng));
    EXPECT_FALSE(v.ready) << (t - kMonday) / kMinute;
  }
  // The third day: the cycle itself (from 20 at night to 80 at noon) is not anomalous...
  int flagged = 0, ready = 0;
  for (; t < kMonday + 3 * kDay; t += kMinute) {
    Verdict v = b.Observe(t, Daily(t, rng));
    ready += v.ready;
    flagged += v.anomalous;
  }
  EXPECT_EQ(ready, 24 * 60);
  EXPECT_LE(flagged, 5);
  // ...but 80 at 03:00, where 23 is usual, is; so is 20 at noon.
  Verdict spike = b.Observe(kMonday + 3 * kDay + 3 * kHour, 80);
  EXPECT_TRUE(spike.ready);
  EXPECT_TRUE(spike.anomalous);
  EXPECT_GT(spike.score, 10);
  Verdict dip = b.Observe(kMonday + 3 * kDay + 12 * kHour, 20);
  EXPECT_TRUE(dip.anomalous);
  Verdict usual = b.Observe(kMonday + 3 * kDay + 12 * kHour + kMinute, 80);
  EXPECT_FALSE(usual.anomalous) << usual.score;
}

TEST(SeasonalBaselineTest, SlotStatisticsAreMedianAndMad) {
  SeasonalOptions o;
  o.values_per_slot = 4;
  o.seasons = 1;
  o.min_seasons = 1;
  SeasonalBaseline b(o);
  // Monday 00:00-01:00: four values kept, one per quarter hour.
  const double values[] = {10, 12, 14, 100};
  for (int i = 0; i < 4; ++i) (void)b.Observe(kMonday + i * 15 * kMinute, values[i]);
  auto s = b.WeekSlot(0);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->median, 13);  // of 10, 12, 14, 100
  EXPECT_DOUBLE_EQ(s->mad, 2);      // of 3, 1, 1, 87
  auto d = b.DaySlot(0);
  ASSERT_TRUE(d.has_value());
  EXPECT_DOUBLE_EQ(d->median, 13);
  EXPECT_FALSE(b.WeekSlot(1).has_value());
  // Values within one quarter hour are not kept twice.
  (void)b.Observe(kMonday + 59 * kMinute, 1000);
  EXPECT_DOUBLE_EQ(b.WeekSlot(0)->median, 13);
}

TEST(SeasonalBaselineTest, PrefersTheWeekSlotOnceWeeksAreSeen) {
  SeasonalOptions o;
  o.min_seasons = 2;
  SeasonalBaseline b(o);
  // Weekdays at 100, weekends at 10: the hour-of-day fallback mixes them, the week slots don't.
  auto value = [](int64_t t) {
    const int64_t day = (t - kMonday) / kDay % 7;
    return day >= 5 ? 10.0 : 100.0 + static_cast<double>(t / kMinute % 3);
  };
  int64_t t = kMonday;
  for (; t < kMonday + 14 * kDay; t += 5 * kMinute) (void)b.Observe(t, value(t));
  // Third Saturday: 10 is usual.
  int flagged = 0;
  for (t = kMonday + 19 * kDay; t < kMonday + 20 * kDay; t += 5 * kMinute) flagged += b.Observe(t, value(t)).anomalous;
  EXPECT_EQ(flagged, 0);
  // 100 on a Sunday is not.
  EXPECT_TRUE(b.Observe(kMonday + 20 * kDay + 10 * kHour, 100).anomalous);
}

TEST(SeasonalBaselineTest, ScoresEveryPointWhenMinSeasonsEqualsSeasons) {
  SeasonalOptions o;
  o.seasons = 2;
  o.min_seasons = 2;
  SeasonalBaseline b(o);
  std::mt19937 rng(5);
  int64_t t = kMonday;
  for (; t < kMonday + 2 * kDay; t += kMinute) (void)b.Observe(t, Daily(t, rng));
  // From the third day on every point is scored, the second minute of an hour as the first.
  int ready = 0;
  for (; t < kMonday + 5 * kDay; t += kMinute) ready += b.Observe(t, Daily(t, rng)).ready;
  EXPECT_EQ(ready, 3 * 24 * 60);
}

TEST(SeasonalBaselineTest, MemoryIsBoundedWhateverItSees) {
  SeasonalBaseline b;
  const size_t before = b.MemoryBytes();
  std::mt19937 rng(3);
  for (int64_t t = kMonday; t < kMonday + 30 * kDay; t += kMinute) (void)b.Observe(t, Daily(t, rng));
  EXPECT_EQ(b.MemoryBytes(), before);
  EXPECT_LT(before, 24 * 1024u);  // docs/anomaly.md: about 23 KB per series
}

TEST(TrendForecasterTest, ForecastsTheBreachOfALinearRamp) {
  TrendOptions o;
  o.threshold = 100;
  o.horizon_seconds = 3600;
  TrendForecaster f(o);
  // Flat at 10 for an hour: not heading anywhere.
  int64_t t = kMonday;
  Verdict v;
  for (; t < kMonday + kHour; t += kMinute) v = f.Observe(t, 10);
  EXPECT_TRUE(v.ready);
  EXPECT_TRUE(std::isinf(v.forecast_seconds));
  EXPECT_FALSE(v.anomalous);
  EXPECT_EQ(v.score, 0);
  // Then rising by 1 per minute: from 10 at minute 0 it reaches 100 at minute 90.
  const int64_t ramp_start = t;
  auto ramp = [&](int64_t until_minute) {
    for (; t <= ramp_start + until_minute * kMinute; t += kMinute) v = f.Observe(t, 10 + (t - ramp_start) / kMinute);
  };
  ramp(45);
  // At minute 45: 45 minutes to go, within 10%; the slope is learned.
  EXPECT_NEAR(v.forecast_seconds, 45 * 60, 0.1 * 45 * 60);
  EXPECT_NEAR(f.slope_per_second(), 1.0 / 60, 0.1 / 60);
  EXPECT_TRUE(v.anomalous);  // within the hour's horizon
  EXPECT_GT(v.score, 1);
  ramp(70);
  EXPECT_NEAR(v.forecast_seconds, 20 * 60, 0.1 * 20 * 60);
  // Beyond the threshold: 0 seconds.
  ramp(120);
  EXPECT_EQ(v.forecast_seconds, 0);
  EXPECT_TRUE(v.anomalous);
}

TEST(TrendForecasterTest, ARampFarFromTheThresholdIsNotAnomalous) {
  TrendOptions o;
  o.threshold = 1000;
  o.horizon_seconds = 3600;
  TrendForecaster f(o);
  Verdict v;
  for (int i = 0; i < 120; ++i) v = f.Observe(kMonday + i * kMinute, i);
  // At 1 a minute, 1000 is about 880 minutes away.
  EXPECT_NEAR(v.forecast_seconds, 880 * 60, 0.1 * 880 * 60);
  EXPECT_FALSE(v.anomalous);
  EXPECT_LT(v.score, 0.1);
}

TEST(TrendForecasterTest, BelowThresholdsAndWarmUp) {
  TrendOptions o;
  o.threshold = 0;
  o.above = false;
  o.min_samples = 5;
  TrendForecaster f(o);
  Verdict v;
  for (int i = 0; i < 4; ++i) {
    v = f.Observe(kMonday + i * kMinute, 100 - i);
    EXPECT_FALSE(v.ready);
  }
  for (int i = 4; i < 60; ++i) v = f.Observe(kMonday + i * kMinute, 100 - i);
  EXPECT_TRUE(v.ready);
  // Falling by 1 a minute from 41: about 41 minutes to 0.
  EXPECT_NEAR(v.forecast_seconds, 41 * 60, 6 * 60);
  // Same or older times are ignored.
  Verdict same = f.Observe(kMonday + 59 * kMinute, 1e9);
  EXPECT_FALSE(same.ready);
}

TEST(KMeansDetectorTest, ModelsAgreeOnAnOutlierAndNotOnNoise) {
  KMeansOptions o;
  o.train_window = 240;
  o.min_train = 120;
  o.train_every = 30;
  o.models = 3;
  KMeansDetector k(o);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  int64_t t = kMonday;
  for (int i = 0; i < 119; ++i, t += kMinute) EXPECT_FALSE(k.Observe(t, 50 + noise(rng)).ready);
  EXPECT_TRUE(k.Observe(t, 50 + noise(rng)).ready);
  t += kMinute;
  EXPECT_EQ(k.model_count(), 1);
  for (int i = 0; i < 120; ++i, t += kMinute) (void)k.Observe(t, 50 + noise(rng));
  EXPECT_EQ(k.model_count(), 3);  // at most `models` kept
  int flagged = 0;
  for (int i = 0; i < 300; ++i, t += kMinute) flagged += k.Observe(t, 50 + noise(rng)).anomalous;
  EXPECT_EQ(k.model_count(), 3);
  EXPECT_LE(flagged, 6);  // about 1% of points pass the 99th percentile of every model
  // A jump of 30 standard deviations: every model sees a feature vector far from its centroids.
  Verdict v = k.Observe(t, 80);
  EXPECT_TRUE(v.ready);
  EXPECT_TRUE(v.anomalous);
  EXPECT_GT(v.score, 3);
}

TEST(KMeansDetectorTest, AllModelsMustAgree) {
  // One model trained on a calm window and one on a wild one: a moderate change is anomalous to
  // the first only, so not anomalous.
  KMeansOptions o;
  o.train_window = 60;
  o.min_train = 60;
  o.train_every = 60;
  o.models = 2;
  KMeansDetector k(o);
  std::mt19937 rng(9);
  std::normal_distribution<double> noise(0, 1);
  int64_t t = kMonday;
  for (int i = 0; i < 60; ++i, t += kMinute) (void)k.Observe(t, 50 + 0.1 * noise(rng));
  ASSERT_EQ(k.model_count(), 1);
  for (int i = 0; i < 59; ++i, t += kMinute) (void)k.Observe(t, 50 + 10 * noise(rng));
  ASSERT_EQ(k.model_count(), 1);
  Verdict v = k.Observe(t, 50 + 10 * noise(rng));  // the second training
  t += kMinute;
  ASSERT_EQ(k.model_count(), 2);
  // Calm again, then a step of 5: huge for the calm model, ordinary for the wild one.
  for (int i = 0; i < 10; ++i, t += kMinute) (void)k.Observe(t, 50);
  v = k.Observe(t, 55);
  EXPECT_TRUE(v.ready);
  EXPECT_FALSE(v.anomalous) << v.score;
}

TEST(KMeansDetectorTest, MemoryIsBounded) {
  KMeansDetector k;
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 1);
  for (int i = 0; i < 2000; ++i) (void)k.Observe(kMonday + i * kMinute, noise(rng));
  const size_t bytes = k.MemoryBytes();
  for (int i = 2000; i < 6000; ++i) (void)k.Observe(kMonday + i * kMinute, noise(rng));
  EXPECT_EQ(k.MemoryBytes(), bytes);
  EXPECT_LT(bytes, 4096u);
  EXPECT_EQ(k.model_count(), 3);
}

TEST(DetectorsTest, IgnoreNonFiniteValues) {
  SeasonalBaseline s;
  TrendForecaster tr(TrendOptions{});
  KMeansDetector k;
  EXPECT_FALSE(s.Observe(kMonday, NAN).ready);
  EXPECT_FALSE(tr.Observe(kMonday, INFINITY).ready);
  EXPECT_FALSE(k.Observe(kMonday, NAN).ready);
}

}  // namespace
}  // namespace tyto::anomaly

namespace tyto::anomaly {
namespace {

TEST(DetectorsCodecTest, TruncatedOrForeignStateIsRefused) {
  KMeansDetector k;
  std::mt19937 rng(13);
  std::normal_distribution<double> noise(0, 1);
  for (int i = 0; i < 400; ++i) (void)k.Observe(kMonday + i * kMinute, noise(rng));
  std::string saved;
  k.Save(&saved);
  KMeansDetector copy;
  ASSERT_TRUE(copy.Load(saved));
  EXPECT_EQ(copy.model_count(), k.model_count());
  EXPECT_EQ(copy.Observe(kMonday + 400 * kMinute, 5).score, k.Observe(kMonday + 400 * kMinute, 5).score);
  for (size_t n : {size_t{0}, size_t{1}, saved.size() / 2, saved.size() - 1}) {
    KMeansDetector fresh;
    EXPECT_FALSE(fresh.Load(saved.substr(0, n))) << n;
    EXPECT_EQ(fresh.model_count(), 0);
  }
  KMeansOptions other;
  other.lag_n = 3;
  KMeansDetector different(other);
  EXPECT_FALSE(different.Load(saved));

  SeasonalBaseline s;
  std::string seasonal;
  s.Save(&seasonal);
  SeasonalOptions smaller;
  smaller.values_per_slot = 12;
  SeasonalBaseline t(smaller);
  EXPECT_FALSE(t.Load(seasonal));
  EXPECT_FALSE(s.Load(seasonal + "x"));
  EXPECT_TRUE(s.Load(seasonal));

  TrendForecaster tr(TrendOptions{});
  std::string trend;
  tr.Save(&trend);
  EXPECT_TRUE(tr.Load(trend));
  EXPECT_FALSE(tr.Load(trend.substr(1)));
}

}  // namespace
}  // namespace tyto::anomaly
