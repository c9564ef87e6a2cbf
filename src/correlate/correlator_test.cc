#include "correlate/correlator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/db.h"

namespace tyto::correlate {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kStep = 15'000;

// Deterministic noise in [-amplitude, amplitude].
double Noise(int64_t i, double amplitude) {
  uint64_t x = static_cast<uint64_t>(i) * 2654435761u + 12345;
  x ^= x >> 13;
  x *= 0x9E3779B97F4A7C15ull;
  return amplitude * (static_cast<double>(x % 2001) / 1000.0 - 1.0);
}

class CorrelatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(Env::Default(), dir_.path(), tsdb::DBOptions{}, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  // Samples every 15 s over [start - 40m, start + 6m], the value a function of the time.
  void Series(const Labels& labels, const std::function<double(int64_t t, int64_t i)>& value) {
    std::unique_ptr<Appender> app = db_->NewAppender();
    int64_t i = 0;
    for (int64_t t = kStart - 40 * 60'000; t <= kStart + 6 * 60'000; t += kStep, ++i) {
      ASSERT_TRUE(app->Append(0, labels, t, value(t, i)).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + 6 * 60'000};
  std::unique_ptr<tsdb::DB> db_;
};

const alertmanager::LabelSet kAlert = {
    {"alertname", "HighLatency"}, {"model", "llama"}, {"Hostname", "h1"}, {"job", "dcgm"}, {"severity", "critical"}};

TEST_F(CorrelatorTest, TheGpuTemperatureStepRanksFirstAndOtherHostsNeverAppear) {
  Series(Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "Hostname", "h1", "gpu", "0", "job", "dcgm"}),
         [](int64_t t, int64_t i) { return (t < kStart ? 60.0 : 85.0) + Noise(i, 0.5); });
  Series(Labels::Of({"__name__", "node_load1", "Hostname", "h1"}), [](int64_t, int64_t i) { return 2 + Noise(i + 7, 0.3); });
  Series(Labels::Of({"__name__", "tyto_inference_requests_total", "Hostname", "h1", "model", "llama"}),
         [](int64_t t, int64_t) { return static_cast<double>(t - (kStart - 40 * 60'000)) / 100.0; });  // 10/s, steady
  // Another host, sharing only the job: a bigger step, never a candidate.
  Series(Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "Hostname", "h2", "gpu", "0", "job", "dcgm"}),
         [](int64_t t, int64_t) { return t < kStart ? 40.0 : 95.0; });
  // The alert's own series (its labels all in the alert): skipped.
  Series(Labels::Of({"__name__", "tyto_inference_latency_p99_seconds", "Hostname", "h1", "model", "llama"}),
         [](int64_t t, int64_t) { return t < kStart ? 0.2 : 3.0; });

  Correlator c(db_.get(), &clock_);
  Result<std::vector<Correlation>> r = c.Rank(kAlert, kStart, Options{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->empty());
  const Correlation& top = (*r)[0];
  EXPECT_EQ(top.labels.MetricName(), "DCGM_FI_DEV_GPU_TEMP");
  EXPECT_EQ(top.labels.Get("Hostname"), "h1");
  EXPECT_EQ(top.kind, Kind::kGpu);
  EXPECT_EQ(top.direction, "up");
  EXPECT_TRUE(top.change_point);
  EXPECT_NEAR(top.before, 60, 1);
  EXPECT_NEAR(top.after, 85, 1);
  EXPECT_GT(top.score, 10);
  for (const Correlation& x : *r) {
    EXPECT_NE(x.labels.Get("Hostname"), "h2") << x.labels.ToString();
    EXPECT_NE(x.labels.MetricName(), "tyto_inference_latency_p99_seconds");
    if (x.labels.MetricName() == "node_load1") {
      EXPECT_LT(x.score, 3);
      EXPECT_FALSE(x.change_point);
    }
    if (x.labels.MetricName() == "tyto_inference_requests_total") {
      EXPECT_NEAR(x.before, 10, 0.01);  // a rate, not the counter's value
      EXPECT_LT(x.score, 1);
    }
  }
}

TEST_F(CorrelatorTest, CountersCompareTheirRateAndResetsCountFromZero) {
  double v = 0;
  int64_t last = 0;
  Series(Labels::Of({"__name__", "vllm:num_preemptions_total", "model", "llama", "instance", "vllm-0:8000"}), [&](int64_t t, int64_t i) {
    if (i > 0) v += (t < kStart ? 1.0 : 20.0) * static_cast<double>(t - last) / 1000.0;
    last = t;
    if (t == kStart - 10 * 60'000) v = 0;  // a restart of the exporter
    return v;
  });
  Correlator c(db_.get(), &clock_);
  Result<std::vector<Correlation>> r = c.Rank(kAlert, kStart, Options{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_NEAR((*r)[0].before, 1, 0.01);
  EXPECT_NEAR((*r)[0].after, 20, 0.01);
  EXPECT_EQ((*r)[0].kind, Kind::kInference);
}

TEST_F(CorrelatorTest, ADeploymentInTheWindowRanksHigh) {
  Series(Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "Hostname", "h1", "gpu", "0"}),
         [](int64_t t, int64_t i) { return (t < kStart ? 60.0 : 85.0) + Noise(i, 0.5); });
  Series(Labels::Of({"__name__", "tyto_model_deployment_timestamp_seconds", "model", "llama", "version", "v2"}),
         [](int64_t, int64_t) { return static_cast<double>(kStart - 8 * 60'000) / 1000.0; });
  Series(Labels::Of({"__name__", "tyto_model_deployment_timestamp_seconds", "model", "llama", "version", "v1"}),
         [](int64_t, int64_t) { return static_cast<double>(kStart - 5 * 86'400'000LL) / 1000.0; });  // long ago
  Correlator c(db_.get(), &clock_);
  Result<std::vector<Correlation>> r = c.Rank(kAlert, kStart, Options{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].kind, Kind::kDeploy);
  EXPECT_EQ((*r)[0].direction, "event");
  EXPECT_EQ((*r)[0].labels.Get("version"), "v2");
  EXPECT_EQ((*r)[1].kind, Kind::kGpu);
}

TEST_F(CorrelatorTest, BoundsAndErrors) {
  for (int g = 0; g < 5; ++g) {
    Series(Labels::Of({"__name__", "DCGM_FI_DEV_GPU_UTIL", "Hostname", "h1", "gpu", std::to_string(g)}),
           [g](int64_t t, int64_t) { return t < kStart ? 10.0 : 20.0 + g; });
  }
  Correlator c(db_.get(), &clock_);
  Options o;
  o.max_series = 3;
  Result<std::vector<Correlation>> r = c.Rank(kAlert, kStart, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  o = Options{};
  o.top_n = 2;
  r = c.Rank(kAlert, kStart, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].labels.Get("gpu"), "4");  // the biggest step first
  // own_metrics names the alert's series explicitly.
  o = Options{};
  o.own_metrics = {"DCGM_FI_DEV_GPU_UTIL"};
  r = c.Rank(kAlert, kStart, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  EXPECT_EQ(c.Rank({{"alertname", "X"}}, kStart, Options{}).status().code(), StatusCode::kInvalidArgument);
  o = Options{};
  o.before_to = std::chrono::minutes(40);
  EXPECT_EQ(c.Rank(kAlert, kStart, o).status().code(), StatusCode::kInvalidArgument);
}

TEST(StatisticsTest, MedianMadAndKinds) {
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(Median({})));
  EXPECT_EQ(MedianAbsoluteDeviation({1, 2, 3, 4, 100}, 3), 1);
  EXPECT_TRUE(IsCounterName("x_total"));
  EXPECT_TRUE(IsCounterName("x_bucket"));
  EXPECT_FALSE(IsCounterName("x_seconds"));
  EXPECT_EQ(KindOf("DCGM_FI_DEV_GPU_TEMP"), Kind::kGpu);
  EXPECT_EQ(KindOf("node_load1"), Kind::kHost);
  EXPECT_EQ(KindOf("vllm:gpu_cache_usage_perc"), Kind::kKvCache);
  EXPECT_EQ(KindOf("vllm:num_requests_waiting"), Kind::kQueue);
  EXPECT_EQ(KindOf("tgi_queue_size"), Kind::kQueue);
  EXPECT_EQ(KindOf("tyto_inference_ttft_seconds_bucket"), Kind::kInference);
  EXPECT_EQ(KindOf("tyto_quality_score_bucket"), Kind::kQuality);
  EXPECT_EQ(KindOf("tyto_drift_share"), Kind::kDrift);
  EXPECT_EQ(KindOf("tyto_model_deployment_info"), Kind::kDeploy);
  EXPECT_EQ(KindOf("up"), Kind::kOther);
  EXPECT_EQ(KindName(Kind::kKvCache), "kv_cache");
}

}  // namespace
}  // namespace tyto::correlate
