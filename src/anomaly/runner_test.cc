#include "anomaly/runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "instrumentation/metrics.h"
#include "promql/engine.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::anomaly {
namespace {

constexpr int64_t kMinute = 60'000;
// Monday 13 November 2023 00:00 UTC.
constexpr int64_t kStart = 1'699'833'600'000;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    engine_ = std::make_unique<promql::Engine>(head_.get());
  }

  void Put(const Labels& l, int64_t t, double v) {
    auto app = head_->NewAppender();
    ASSERT_TRUE(app->Append(0, l, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  // The value of `query` at `t`, by the result's labels as text; empty when none.
  std::map<std::string, double> Query(const std::string& query, int64_t t) {
    std::map<std::string, double> out;
    auto r = engine_->Instant(query, t);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      for (const promql::Element& e : r->vector) out[e.metric.ToString()] = e.v;
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<promql::Engine> engine_;
  testing::FakeClock clock_{kStart};
  instrumentation::Registry registry_;
};

TEST_F(RunnerTest, TrendForecastsAndMultivariateRatesEndToEnd) {
  AnomalyConfig c;
  DetectorConfig trend;
  trend.name = "lat";
  trend.query = "latency";
  trend.kind = "trend";
  trend.threshold = 100;
  trend.horizon = std::chrono::minutes(60);
  DetectorConfig multi;
  multi.name = "ml";
  multi.query = "load";
  multi.kind = "multivariate";
  multi.host_label = "host";
  multi.train_window = 60;
  multi.train_every = 30;
  multi.models = 2;
  c.detectors = {trend, multi};
  auto runner = Runner::Create(c, engine_.get(), head_.get(), &clock_, &registry_);
  ASSERT_TRUE(runner.ok()) << runner.status().ToString();

  const Labels a = Labels::Of({"__name__", "latency", "pod", "a"});
  const Labels b = Labels::Of({"__name__", "latency", "pod", "b"});
  int64_t t = kStart;
  for (int i = 0; i < 120; ++i, t += kMinute) {
    // a ramps by 1 a minute from 0 (crossing 100 at minute 100); b is flat.
    Put(a, t, i);
    Put(b, t, 5);
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 3; ++s) {
        const std::string host = "h" + std::to_string(h), series = "s" + std::to_string(s);
        // Host h1's series all jump at minute 114 (after the last training, at 111).
        const double v = 10 + std::sin(i * 0.7 + s) + ((h == 1 && i >= 114) ? 50 * (i - 113) : 0);
        Put(Labels::Of({"__name__", "load", "host", host, "s", series}), t, v);
      }
    }
    clock_.SetMillis(t);
    ASSERT_TRUE((*runner)->Step(t).ok());
  }
  const int64_t last = t - kMinute;
  auto forecast = Query("tyto_anomaly_forecast_seconds", last);
  ASSERT_EQ(forecast.size(), 2u);
  // At minute 119 a is beyond 100: 0 seconds; b is flat: +Inf.
  EXPECT_EQ(forecast.at(R"(tyto_anomaly_forecast_seconds{detector="lat", pod="a"})"), 0);
  EXPECT_TRUE(std::isinf(forecast.at(R"(tyto_anomaly_forecast_seconds{detector="lat", pod="b"})")));
  // Forty minutes before the crossing, the forecast said about forty minutes.
  auto earlier = Query(R"(tyto_anomaly_forecast_seconds{pod="a"})", kStart + 60 * kMinute);
  ASSERT_EQ(earlier.size(), 1u);
  EXPECT_NEAR(earlier.begin()->second, 40 * 60, 6 * 60);
  EXPECT_EQ(Query(R"(tyto_anomaly{detector="lat", pod="a"})", kStart + 60 * kMinute).begin()->second, 1);
  EXPECT_EQ(Query(R"(tyto_anomaly{detector="lat", pod="b"})", last).begin()->second, 0);

  // The host whose series all jumped has every series anomalous; the other none.
  auto rate = Query("tyto_anomaly_rate", last);
  EXPECT_EQ(rate.at(R"(tyto_anomaly_rate{detector="ml", host="h1"})"), 1);
  EXPECT_EQ(rate.at(R"(tyto_anomaly_rate{detector="ml", host="h0"})"), 0);
  EXPECT_EQ(Query(R"(tyto_anomaly_score{detector="ml"})", last).size(), 6u);
  EXPECT_EQ((*runner)->SeriesCount("ml"), 6u);
  EXPECT_EQ((*runner)->SeriesCount("lat"), 2u);
  EXPECT_GT((*runner)->MemoryBytes(), 0u);
  EXPECT_NE(registry_.Expose().find(R"(tyto_anomaly_evaluations_total{detector="lat"} 120)"), std::string::npos);
}

TEST_F(RunnerTest, BoundsSeriesAndDropsTheGone) {
  AnomalyConfig c;
  c.max_series = 3;
  c.series_ttl = std::chrono::minutes(10);
  DetectorConfig d;
  d.name = "s";
  d.query = "x";
  c.detectors = {d};
  auto runner = Runner::Create(c, engine_.get(), head_.get(), &clock_, &registry_);
  ASSERT_TRUE(runner.ok());
  int64_t t = kStart;
  for (int i = 0; i < 5; ++i) Put(Labels::Of({"__name__", "x", "i", std::to_string(i)}), t, 1);
  ASSERT_TRUE((*runner)->Step(t).ok());
  EXPECT_EQ((*runner)->SeriesCount("s"), 3u);
  const size_t bytes = (*runner)->MemoryBytes();
  EXPECT_GT(bytes, 0u);
  const std::string metrics = registry_.Expose();
  EXPECT_NE(metrics.find(R"(tyto_anomaly_series_refused_total{detector="s"} 2)"), std::string::npos) << metrics;
  // The series stop; after the lookback (5m) the query no longer returns them, after the TTL
  // their models go.
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE((*runner)->Step(t + i * kMinute).ok());
  EXPECT_EQ((*runner)->SeriesCount("s"), 0u);
  EXPECT_EQ((*runner)->MemoryBytes(), 0u);
  EXPECT_NE(registry_.Expose().find(R"(tyto_anomaly_series_dropped_total{detector="s"} 3)"), std::string::npos);
}

TEST_F(RunnerTest, QueryErrors) {
  AnomalyConfig c;
  DetectorConfig d;
  d.name = "bad";
  d.query = "rate(x[";
  c.detectors = {d};
  auto r = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("anomaly detector 'bad'"), std::string::npos) << r.status().message();
  c.detectors[0].query = "x[5m]";
  r = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("range vector"), std::string::npos) << r.status().message();
  // A scalar is one series without labels.
  c.detectors[0].query = "vector(1) * 0 + 3";
  c.detectors[0].kind = "trend";
  c.detectors[0].threshold = 10;
  r = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int i = 0; i < 12; ++i) ASSERT_TRUE((*r)->Step(kStart + i * kMinute).ok());
  EXPECT_EQ(Query("tyto_anomaly_forecast_seconds", kStart + 11 * kMinute).size(), 1u);
}

TEST_F(RunnerTest, StartsAndStops) {
  AnomalyConfig c;
  c.interval = std::chrono::seconds(1);
  DetectorConfig d;
  d.name = "s";
  d.query = "x";
  c.detectors = {d};
  auto runner = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_TRUE(runner.ok());
  ASSERT_TRUE((*runner)->Start().ok());
  EXPECT_FALSE((*runner)->Start().ok());
  (*runner)->Stop();
  (*runner)->Stop();
  ASSERT_TRUE((*runner)->Start().ok());
  (*runner)->Stop();
}

}  // namespace
}  // namespace tyto::anomaly

namespace tyto::anomaly {
namespace {

TEST_F(RunnerTest, ModelsSurviveARestart) {
  AnomalyConfig c;
  DetectorConfig seasonal;
  seasonal.name = "s";
  seasonal.query = "x";
  DetectorConfig trend;
  trend.name = "t";
  trend.query = "x";
  trend.kind = "trend";
  trend.threshold = 1000;
  DetectorConfig multi;
  multi.name = "m";
  multi.query = "x";
  multi.kind = "multivariate";
  multi.train_window = 60;
  c.detectors = {seasonal, trend, multi};
  auto first = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_TRUE(first.ok());
  // Three days of a daily cycle: the seasonal models score from the third day.
  int64_t t = kStart;
  const int64_t end = kStart + 3 * 24 * 60 * kMinute;
  for (int i = 0; t < end; ++i, t += 5 * kMinute) {
    Put(Labels::Of({"__name__", "x", "pod", "a"}), t, 50 + 30 * std::sin(i * 2 * M_PI / 288) + (i % 7));
    ASSERT_TRUE((*first)->Step(t).ok());
  }
  const std::string path = dir_.Path("anomaly.models");
  EXPECT_EQ((*first)->LoadModels(Env::Default(), path).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*first)->SaveModels(Env::Default(), path).ok());

  auto second = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_TRUE(second.ok());
  auto loaded = (*second)->LoadModels(Env::Default(), path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, 3u);
  EXPECT_EQ((*second)->MemoryBytes(), (*first)->MemoryBytes());
  // Both runners say the same about the next value: the second did not relearn.
  Put(Labels::Of({"__name__", "x", "pod", "a"}), t, 200);
  ASSERT_TRUE((*first)->Step(t).ok());
  const auto before = Query("tyto_anomaly_score", t);
  ASSERT_EQ(before.size(), 3u);
  ASSERT_TRUE((*second)->Step(t).ok());  // the same samples again: accepted as duplicates
  EXPECT_EQ(Query("tyto_anomaly_score", t), before);
  EXPECT_GT(before.at(R"(tyto_anomaly_score{detector="s", pod="a"})"), 5);

  // A detector whose options changed shape does not take the old models.
  AnomalyConfig changed = c;
  changed.detectors[0].values_per_slot = 12;
  auto third = Runner::Create(changed, engine_.get(), head_.get(), &clock_, nullptr);
  ASSERT_TRUE(third.ok());
  auto some = (*third)->LoadModels(Env::Default(), path);
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, 2u);
  EXPECT_EQ((*third)->SeriesCount("s"), 0u);

  // Any damaged byte is caught by the checksum; nothing is loaded.
  auto data = Env::Default()->ReadFile(path);
  ASSERT_TRUE(data.ok());
  for (size_t at : {size_t{0}, size_t{5}, data->size() / 2, data->size() - 1}) {
    std::string bad = *data;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, bad).ok());
    auto fourth = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
    ASSERT_TRUE(fourth.ok());
    EXPECT_EQ((*fourth)->LoadModels(Env::Default(), path).status().code(), StatusCode::kCorruption) << at;
    EXPECT_EQ((*fourth)->SeriesCount("s") + (*fourth)->SeriesCount("t") + (*fourth)->SeriesCount("m"), 0u);
  }
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, data->substr(0, data->size() - 9)).ok());
  auto fifth = Runner::Create(c, engine_.get(), head_.get(), &clock_, nullptr);
  EXPECT_EQ((*fifth)->LoadModels(Env::Default(), path).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace tyto::anomaly
