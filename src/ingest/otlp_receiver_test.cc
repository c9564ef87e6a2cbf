// OtlpReceiver into a real head: every metric type's series, the name and label mapping,
// target_info, delta to cumulative, staleness, partial success and storage failures.
#include "ingest/otlp_receiver.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ingest/otlp_names.h"
#include "testing/otlp_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::ingest {
namespace {

namespace pb = testing::otlp_pb;
using Outcome = ExportResult::Outcome;

constexpr uint64_t kSec = 1'000'000'000;

class OtlpReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::milliseconds(0);
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), o, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    receiver_ = std::make_unique<OtlpReceiver>(head_.get(), OtlpOptions{.delta_series = 2}, &registry_);
  }
  ExportResult Export(const std::string& body, OtlpReceiver* receiver = nullptr) {
    otlp::MetricsRequest req;
    Status st = otlp::DecodeProtobuf(body, &req);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return (receiver != nullptr ? receiver : receiver_.get())->Export(req);
  }
  // Every stored sample whose metric name starts with `prefix`: "labels t v" lines.
  std::string Stored(const std::string& prefix) {
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    EXPECT_TRUE(q.ok());
    auto set = (*q)->Select({*Matcher::Make(MatchType::kRegexMatch, "__name__", prefix + ".*")});
    std::string out;
    while (set->Next()) {
      auto it = set->Iterator();
      while (it->Next()) {
        const double v = it->At().v;
        out += set->labels().ToString() + " " + std::to_string(it->At().t) + " " +
               (IsStaleMarker(v) ? std::string("stale") : otlp::FormatBound(v)) + "\n";
      }
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  instrumentation::Registry registry_;
  std::unique_ptr<OtlpReceiver> receiver_;
};

std::string OneResource(const std::vector<std::string>& metrics,
                        std::vector<std::string> resource = {pb::Attr("service.name", "api"),
                                                             pb::Attr("service.instance.id", "pod-1")}) {
  return pb::Request({pb::ResourceMetrics(resource, {pb::ScopeMetrics("lib", "1.0", metrics)})});
}

TEST_F(OtlpReceiverTest, GaugesAndSumsWithNamesLabelsAndTargetInfo) {
  const std::string body = pb::Request({pb::ResourceMetrics(
      {pb::Attr("service.name", "api"), pb::Attr("service.namespace", "shop"), pb::Attr("service.instance.id", "pod-1"),
       pb::Attr("k8s.pod.name", "api-7d"), pb::Attr("host.name", "n1")},
      {pb::ScopeMetrics(
          "io.opentelemetry.runtime", "2.1",
          {pb::Metric("system.cpu.utilization", "1", pb::kGauge,
                      pb::Gauge({pb::NumberPoint({pb::Attr("cpu.id", "0"), pb::Attr("cpu-id", "x")}, 10 * kSec + 999'999, 0.5)})),
           pb::Metric("http.requests", "{request}", pb::kSum,
                      pb::Sum({pb::IntPoint({pb::Attr("http.method", "GET")}, 12 * kSec, 7)}, pb::kCumulative, true)),
           pb::Metric("queue.size", "By", pb::kSum, pb::Sum({pb::NumberPoint({}, 11 * kSec, 3)}, pb::kCumulative, false))})})});
  ExportResult r = Export(body);
  ASSERT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  EXPECT_EQ(r.points_received, 3u);
  EXPECT_EQ(r.samples_stored, 4u);  // three points and target_info
  // "cpu-id" and "cpu.id" both become cpu_id: joined with ';' in key order.
  EXPECT_EQ(Stored("system"),
            "system_cpu_utilization_ratio{cpu_id=\"x;0\", instance=\"pod-1\", job=\"shop/api\", "
            "otel_scope_name=\"io.opentelemetry.runtime\", otel_scope_version=\"2.1\"} 10000 0.5\n");
  EXPECT_EQ(Stored("http"),
            "http_requests_total{http_method=\"GET\", instance=\"pod-1\", job=\"shop/api\", "
            "otel_scope_name=\"io.opentelemetry.runtime\", otel_scope_version=\"2.1\"} 12000 7\n");
  EXPECT_EQ(Stored("queue"),
            "queue_size_bytes{instance=\"pod-1\", job=\"shop/api\", otel_scope_name=\"io.opentelemetry.runtime\", "
            "otel_scope_version=\"2.1\"} 11000 3\n");
  EXPECT_EQ(Stored("target"),
            "target_info{host_name=\"n1\", instance=\"pod-1\", job=\"shop/api\", k8s_pod_name=\"api-7d\"} 12000 1\n");
}

TEST_F(OtlpReceiverTest, NoTargetInfoWithOnlyIdentifyingAttributes) {
  ASSERT_EQ(Export(OneResource({pb::Metric("g", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, kSec, 1)}))})).outcome,
            Outcome::kStored);
  EXPECT_EQ(Stored("target"), "");
}

TEST_F(OtlpReceiverTest, HistogramsAndSummaries) {
  ExportResult r = Export(OneResource(
      {pb::Metric("http.duration", "s", pb::kHistogram,
                  pb::Histogram({pb::HistogramPoint({}, 5 * kSec, 6, 2.5, {1, 2, 3}, {0.1, 1})}, pb::kCumulative)),
       pb::Metric("rpc.latency", "ms", pb::kSummary, pb::Summary({pb::SummaryPoint({}, 5 * kSec, 10, 55, {{0.5, 4}, {0.99, 9}})}))},
      {pb::Attr("service.name", "api")}));
  ASSERT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  const std::string l = "job=\"api\", otel_scope_name=\"lib\", otel_scope_version=\"1.0\"";
  const std::string j = "job=\"api\", ", o = ", otel_scope_name=\"lib\", otel_scope_version=\"1.0\"";
  EXPECT_EQ(Stored("http"), "http_duration_seconds_bucket{" + j + "le=\"+Inf\"" + o + "} 5000 6\n" +
                                "http_duration_seconds_bucket{" + j + "le=\"0.1\"" + o + "} 5000 1\n" +
                                "http_duration_seconds_bucket{" + j + "le=\"1\"" + o + "} 5000 3\n" +
                                "http_duration_seconds_count{" + l + "} 5000 6\n" +
                                "http_duration_seconds_sum{" + l + "} 5000 2.5\n");
  EXPECT_EQ(Stored("rpc"), "rpc_latency_milliseconds{" + l + ", quantile=\"0.5\"} 5000 4\n" +
                               "rpc_latency_milliseconds{" + l + ", quantile=\"0.99\"} 5000 9\n" +
                               "rpc_latency_milliseconds_count{" + l + "} 5000 10\n" +
                               "rpc_latency_milliseconds_sum{" + l + "} 5000 55\n");
}

TEST_F(OtlpReceiverTest, ExponentialHistogramsAtTheirBucketBoundaries) {
  // Scale 1 (base sqrt 2): positive buckets at offset -2 are (0.5, 0.707], (0.707, 1];
  // a negative bucket at index 0 is [-1.414, -1); zero bucket of threshold 0.5.
  ExportResult r = Export(OneResource(
      {pb::Metric("size", "By", pb::kExponentialHistogram,
                  pb::Histogram({pb::ExpHistogramPoint({}, kSec, 7, 3, 1, 1, pb::Buckets(-2, {2, 3}), pb::Buckets(0, {1}), 0.5)},
                                pb::kCumulative))},
      {pb::Attr("service.name", "api")}));
  ASSERT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  const std::string j = "job=\"api\", ", o = ", otel_scope_name=\"lib\", otel_scope_version=\"1.0\"";
  EXPECT_EQ(Stored("size_bytes_bucket"),
            "size_bytes_bucket{" + j + "le=\"+Inf\"" + o + "} 1000 7\n" +
                "size_bytes_bucket{" + j + "le=\"-1\"" + o + "} 1000 1\n" +
                "size_bytes_bucket{" + j + "le=\"0.5\"" + o + "} 1000 2\n" +
                "size_bytes_bucket{" + j + "le=\"0.7071067811865476\"" + o + "} 1000 4\n" +
                "size_bytes_bucket{" + j + "le=\"1\"" + o + "} 1000 7\n");

  // Scale 5 is reduced to 3: buckets 0..7 at scale 5 are bucket 0..1 at scale 3 (le 2^(1/8), 2^(2/8)).
  r = Export(OneResource({pb::Metric("fine", "", pb::kExponentialHistogram,
                                     pb::Histogram({pb::ExpHistogramPoint({}, kSec, 8, 3, 5, 0, pb::Buckets(0, {1, 1, 1, 1, 1, 1, 1, 1}))},
                                                   pb::kCumulative))},
                         {pb::Attr("service.name", "api")}));
  ASSERT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  EXPECT_EQ(Stored("fine_bucket"), "fine_bucket{" + j + "le=\"+Inf\"" + o + "} 1000 8\n" +
                                       "fine_bucket{" + j + "le=\"1.0905077326652577\"" + o + "} 1000 4\n" +
                                       "fine_bucket{" + j + "le=\"1.189207115002721\"" + o + "} 1000 8\n");

  // Out of OTLP's scale range: refused, named.
  r = Export(OneResource({pb::Metric("bad", "", pb::kExponentialHistogram,
                                     pb::Histogram({pb::ExpHistogramPoint({}, kSec, 1, 1, 99, 0, pb::Buckets(0, {1}))}, 2))}));
  EXPECT_EQ(r.outcome, Outcome::kPartlyRejected);
  EXPECT_NE(r.error.message().find("metrics[0].data_points[0]: scale 99 outside [-10, 20]"), std::string::npos)
      << r.error.message();
}

TEST_F(OtlpReceiverTest, DeltaSumsBecomeCumulativePerSeries) {
  const auto delta = [](uint64_t t, double v, std::string gpu) {
    return pb::Metric("tokens", "", pb::kSum, pb::Sum({pb::NumberPoint({pb::Attr("gpu", gpu)}, t * kSec, v)}, pb::kDelta, true));
  };
  ASSERT_EQ(Export(OneResource({delta(1, 5, "0"), delta(1, 1, "1")})).outcome, Outcome::kStored);
  ASSERT_EQ(Export(OneResource({delta(2, 3, "0")})).outcome, Outcome::kStored);
  // A retry of an already counted point is refused, not counted twice.
  ExportResult r = Export(OneResource({delta(2, 3, "0")}));
  EXPECT_EQ(r.outcome, Outcome::kPartlyRejected);
  EXPECT_NE(r.error.message().find("is not after the previous point"), std::string::npos) << r.error.message();
  ASSERT_EQ(Export(OneResource({delta(3, 2, "0")})).outcome, Outcome::kStored);
  const std::string l = "instance=\"pod-1\", job=\"api\", otel_scope_name=\"lib\", otel_scope_version=\"1.0\"";
  EXPECT_EQ(Stored("tokens"), "tokens_total{gpu=\"0\", " + l + "} 1000 5\n" + "tokens_total{gpu=\"0\", " + l +
                                  "} 2000 8\n" + "tokens_total{gpu=\"0\", " + l + "} 3000 10\n" +
                                  "tokens_total{gpu=\"1\", " + l + "} 1000 1\n");
  // At most two series are remembered (delta_series = 2): a third drops the least recent (gpu 1).
  ASSERT_EQ(Export(OneResource({delta(4, 1, "2")})).outcome, Outcome::kStored);
  EXPECT_EQ(receiver_->delta_series(), 2u);
  ASSERT_EQ(Export(OneResource({delta(4, 4, "1")})).outcome, Outcome::kStored);  // starts again from 4
  EXPECT_NE(Stored("tokens").find("tokens_total{gpu=\"1\", " + l + "} 4000 4\n"), std::string::npos) << Stored("tokens");
  EXPECT_NE(registry_.Expose().find("tyto_otlp_delta_series_evicted_total 2\n"), std::string::npos);

  // Delta histograms accumulate per bucket (a receiver that keeps enough series).
  instrumentation::Registry registry2;
  OtlpReceiver receiver2(head_.get(), {}, &registry2);
  const auto hist = [](uint64_t t, std::vector<uint64_t> counts) {
    uint64_t n = 0;
    for (uint64_t c : counts) n += c;
    return pb::Metric("lat", "", pb::kHistogram, pb::Histogram({pb::HistogramPoint({}, t * kSec, n, 1, counts, {1})}, pb::kDelta));
  };
  ASSERT_EQ(Export(OneResource({hist(1, {1, 2})}), &receiver2).outcome, Outcome::kStored);
  ASSERT_EQ(Export(OneResource({hist(2, {3, 0})}), &receiver2).outcome, Outcome::kStored);
  EXPECT_NE(Stored("lat_count").find("2000 6\n"), std::string::npos) << Stored("lat_count");
  EXPECT_NE(Stored("lat_bucket").find("le=\"1\", otel_scope_name=\"lib\", otel_scope_version=\"1.0\"} 2000 4\n"), std::string::npos) << Stored("lat_bucket");
}

TEST_F(OtlpReceiverTest, NoRecordedValueIsAStalenessMarker) {
  ASSERT_EQ(Export(OneResource({pb::Metric("g", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, kSec, 1)}))})).outcome,
            Outcome::kStored);
  ASSERT_EQ(Export(OneResource({pb::Metric("g", "", pb::kGauge,
                                           pb::Gauge({pb::NumberPoint({}, 2 * kSec, 0, otlp::kFlagNoRecordedValue)}))}))
                .outcome,
            Outcome::kStored);
  EXPECT_NE(Stored("g").find("} 2000 stale\n"), std::string::npos) << Stored("g");
}

TEST_F(OtlpReceiverTest, PartialSuccessCountsAndNamesTheFirstRefusal) {
  ASSERT_EQ(Export(OneResource({pb::Metric("g", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, 5 * kSec, 1)}))})).outcome,
            Outcome::kStored);
  ExportResult r = Export(OneResource({
      pb::Metric("g", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, 1 * kSec, 2), pb::NumberPoint({}, 6 * kSec, 3)})),
      pb::Metric("...", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, kSec, 1)})),
      pb::Metric("h", "", pb::kHistogram, pb::Histogram({pb::HistogramPoint({}, kSec, 1, 1, {1}, {1})}, 2)),
      pb::Metric("nt", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, 0, 1)})),
      pb::Metric("bad_label", "", pb::kGauge, pb::Gauge({pb::NumberPoint({pb::Attr("...", "x")}, kSec, 1)})),
  }));
  EXPECT_EQ(r.outcome, Outcome::kPartlyRejected);
  EXPECT_EQ(r.points_received, 6u);
  EXPECT_EQ(r.points_rejected, 5u);
  EXPECT_EQ(r.error.message().rfind("5 of 6 data points rejected; the first: "
                                    "resource_metrics[0].scope_metrics[0].metrics[0].data_points[0]: ",
                                    0),
            0u)
      << r.error.message();
  EXPECT_NE(Stored("g").find("} 6000 3\n"), std::string::npos);  // the valid point is stored
  const std::string metrics = registry_.Expose();
  EXPECT_NE(metrics.find("tyto_otlp_datapoints_rejected_total{reason=\"out_of_order\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tyto_otlp_datapoints_rejected_total{reason=\"invalid\"} 4\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tyto_otlp_datapoints_received_total 7\n"), std::string::npos);
}

// A storage whose commits fail: nothing is stored, the request is retryable.
class FailingStorage final : public Storage {
 public:
  class App final : public Appender {
   public:
    Result<SeriesRef> Append(SeriesRef, const Labels&, int64_t, double) override { return SeriesRef{1}; }
    Status Commit() override { return IOError("disk full"); }
    void Rollback() override {}
  };
  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override { return Internal("no"); }
};

TEST(OtlpReceiverStorageTest, StorageFailureStoresNothingAndKeepsDeltaTotals) {
  FailingStorage storage;
  instrumentation::Registry registry;
  OtlpReceiver receiver(&storage, {}, &registry);
  otlp::MetricsRequest req;
  ASSERT_TRUE(otlp::DecodeProtobuf(OneResource({pb::Metric("c", "", pb::kSum, pb::Sum({pb::NumberPoint({}, kSec, 1)}, pb::kDelta, true))}),
                                   &req)
                  .ok());
  ExportResult r = receiver.Export(req);
  EXPECT_EQ(r.outcome, Outcome::kStorageFailed);
  EXPECT_NE(r.error.message().find("disk full"), std::string::npos);
  EXPECT_EQ(receiver.delta_series(), 0u);  // totals change only on commit
}

}  // namespace
}  // namespace tyto::ingest
