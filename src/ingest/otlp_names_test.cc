#include "ingest/otlp_names.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tyto::ingest::otlp {
namespace {

std::string Name(std::string_view name, std::string_view unit, MetricType type, bool monotonic = false) {
  Result<std::string> r = MetricName(name, unit, type, monotonic);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(OtlpNamesTest, MetricNamesAsPrometheusTranslatesThem) {
  EXPECT_EQ(Name("http.server.request.duration", "s", MetricType::kHistogram), "http_server_request_duration_seconds");
  EXPECT_EQ(Name("requests.count", "1", MetricType::kSum, true), "requests_count_total");
  EXPECT_EQ(Name("requests_total", "", MetricType::kSum, true), "requests_total");
  EXPECT_EQ(Name("total.requests", "", MetricType::kSum, true), "requests_total");  // "total" moves to the end
  EXPECT_EQ(Name("queue.depth", "", MetricType::kSum, false), "queue_depth");       // not monotonic: a gauge
  EXPECT_EQ(Name("system.cpu.utilization", "1", MetricType::kGauge), "system_cpu_utilization_ratio");
  EXPECT_EQ(Name("cache.hit.ratio", "1", MetricType::kGauge), "cache_hit_ratio");
  EXPECT_EQ(Name("queue.depth", "1", MetricType::kSum, false), "queue_depth");  // _ratio for gauges only
  EXPECT_EQ(Name("memory.usage", "By", MetricType::kGauge), "memory_usage_bytes");
  EXPECT_EQ(Name("network.io", "By/s", MetricType::kGauge), "network_io_bytes_per_second");
  EXPECT_EQ(Name("requests", "{request}/s", MetricType::kGauge), "requests_per_second");
  EXPECT_EQ(Name("active", "{connections}", MetricType::kGauge), "active");
  EXPECT_EQ(Name("latency_seconds", "s", MetricType::kHistogram), "latency_seconds");  // no doubled unit
  EXPECT_EQ(Name("temp", "Cel", MetricType::kGauge), "temp_celsius");
  EXPECT_EQ(Name("odd", "m.s", MetricType::kGauge), "odd_m_s");  // unknown units cleaned and kept
  EXPECT_EQ(Name("bytes.sent", "By", MetricType::kSum, true), "bytes_sent_total");  // "bytes" already a word
  EXPECT_EQ(Name("a__b..c", "", MetricType::kGauge), "a_b_c");
  EXPECT_EQ(Name("ns:metric", "", MetricType::kGauge), "ns:metric");
  EXPECT_EQ(Name("2xx.responses", "", MetricType::kGauge), "_2xx_responses");
  EXPECT_EQ(Name("gpu.température", "", MetricType::kGauge), "gpu_temp_rature");
  EXPECT_EQ(Name("...", "", MetricType::kGauge).rfind("ERROR: metric name \"...\"", 0), 0u);
  EXPECT_EQ(Name("", "", MetricType::kGauge).rfind("ERROR:", 0), 0u);
}

TEST(OtlpNamesTest, UnitSuffixes) {
  EXPECT_EQ(UnitSuffix("ms"), "milliseconds");
  EXPECT_EQ(UnitSuffix("KiBy"), "kibibytes");
  EXPECT_EQ(UnitSuffix("1"), "");
  EXPECT_EQ(UnitSuffix("%"), "percent");
  EXPECT_EQ(UnitSuffix("By/s"), "bytes_per_second");
  EXPECT_EQ(UnitSuffix("{packets}"), "");
  EXPECT_EQ(UnitSuffix("1/s"), "per_second");
}

TEST(OtlpNamesTest, LabelNames) {
  const auto label = [](std::string_view k) {
    Result<std::string> r = LabelName(k);
    return r.ok() ? *r : "ERROR: " + r.status().message();
  };
  EXPECT_EQ(label("http.method"), "http_method");
  EXPECT_EQ(label("k8s.pod.name"), "k8s_pod_name");
  EXPECT_EQ(label("a..b"), "a_b");
  EXPECT_EQ(label("123abc"), "key_123abc");
  EXPECT_EQ(label("_private"), "_private");
  EXPECT_EQ(label("__reserved__"), "__reserved__");
  EXPECT_EQ(label("__a.b__"), "__a_b__");
  EXPECT_EQ(label("é"), "ERROR: attribute key \"é\" has no character of [a-zA-Z0-9]");
  EXPECT_EQ(label("..."), "ERROR: attribute key \"...\" has no character of [a-zA-Z0-9]");
  EXPECT_EQ(label(""), "ERROR: empty attribute key");
}

TEST(OtlpNamesTest, Formatting) {
  EXPECT_EQ(FormatBound(0.005), "0.005");
  EXPECT_EQ(FormatBound(10), "10");
  EXPECT_EQ(FormatBound(1e-9), "0.000000001");
  EXPECT_EQ(FormatBound(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatBound(-2.5), "-2.5");
  EXPECT_EQ(FormatAttributeDouble(1.5), "1.5");
  EXPECT_EQ(FormatAttributeDouble(1e21), "1e+21");
  EXPECT_EQ(FormatAttributeDouble(1.5e-7), "1.5e-7");
  EXPECT_EQ(FormatAttributeDouble(100), "100");
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64(std::string_view("\xff\x00\x10", 3)), "/wAQ");
  std::string json;
  AppendJsonString(&json, "a\"b\\c\n\x01");
  EXPECT_EQ(json, "\"a\\\"b\\\\c\\n\\u0001\"");
}

}  // namespace
}  // namespace tyto::ingest::otlp
