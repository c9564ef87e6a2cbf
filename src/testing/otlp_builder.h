// OTLP metrics requests (ExportMetricsServiceRequest) built by hand in the protobuf wire format,
// for tests, the fuzzers' seeds and the e2e test. Written from opentelemetry-proto's field
// numbers independently of the decoder under test (src/ingest/otlp_proto.cc), so the two check
// each other. Each function returns one encoded message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "testing/remote_write_builder.h"

namespace tyto::testing::otlp_pb {

inline void PutFixed64Field(std::string* out, uint32_t field, uint64_t v) {
  PutKey(out, field, 1);
  coding::PutFixed64(out, v);
}
inline std::string Join(const std::vector<std::string>& parts, uint32_t field) {
  std::string out;
  for (const std::string& p : parts) PutBytesField(&out, field, p);
  return out;
}

// AnyValue
inline std::string StringValue(std::string_view s) {
  std::string v;
  PutBytesField(&v, 1, s);
  return v;
}
inline std::string IntValue(int64_t i) {
  std::string v;
  PutVarintField(&v, 3, static_cast<uint64_t>(i));
  return v;
}
// KeyValue with a string value, or with an encoded AnyValue.
inline std::string Attr(std::string_view key, std::string_view value) {
  std::string kv;
  PutBytesField(&kv, 1, key);
  PutBytesField(&kv, 2, StringValue(value));
  return kv;
}
inline std::string AttrAny(std::string_view key, const std::string& any_value) {
  std::string kv;
  PutBytesField(&kv, 1, key);
  PutBytesField(&kv, 2, any_value);
  return kv;
}

// NumberDataPoint (attributes are encoded KeyValues).
inline std::string NumberPoint(const std::vector<std::string>& attrs, uint64_t time_ns, double v, uint32_t flags = 0,
                               uint64_t start_ns = 0) {
  std::string p;
  if (start_ns) PutFixed64Field(&p, 2, start_ns);
  PutFixed64Field(&p, 3, time_ns);
  PutDoubleField(&p, 4, v);
  p += Join(attrs, 7);
  if (flags) PutVarintField(&p, 8, flags);
  return p;
}
inline std::string IntPoint(const std::vector<std::string>& attrs, uint64_t time_ns, int64_t v) {
  std::string p;
  PutFixed64Field(&p, 3, time_ns);
  PutFixed64Field(&p, 6, static_cast<uint64_t>(v));
  p += Join(attrs, 7);
  return p;
}
// HistogramDataPoint, bucket counts and bounds packed.
inline std::string HistogramPoint(const std::vector<std::string>& attrs, uint64_t time_ns, uint64_t count, double sum,
                                  const std::vector<uint64_t>& counts, const std::vector<double>& bounds,
                                  uint32_t flags = 0) {
  std::string p;
  PutFixed64Field(&p, 3, time_ns);
  PutFixed64Field(&p, 4, count);
  PutDoubleField(&p, 5, sum);
  std::string packed;
  for (uint64_t c : counts) coding::PutFixed64(&packed, c);
  PutBytesField(&p, 6, packed);
  packed.clear();
  for (double b : bounds) {
    uint64_t bits = 0;
    std::memcpy(&bits, &b, sizeof bits);
    coding::PutFixed64(&packed, bits);
  }
  PutBytesField(&p, 7, packed);
  p += Join(attrs, 9);
  if (flags) PutVarintField(&p, 10, flags);
  return p;
}
// ExponentialHistogram.Buckets, counts packed.
inline std::string Buckets(int32_t offset, const std::vector<uint64_t>& counts) {
  std::string b;
  PutVarintField(&b, 1, coding::ZigZag(offset));
  std::string packed;
  for (uint64_t c : counts) coding::PutVarint64(&packed, c);
  PutBytesField(&b, 2, packed);
  return b;
}
inline std::string ExpHistogramPoint(const std::vector<std::string>& attrs, uint64_t time_ns, uint64_t count,
                                     double sum, int32_t scale, uint64_t zero_count, const std::string& positive,
                                     const std::string& negative = "", double zero_threshold = 0) {
  std::string p;
  p += Join(attrs, 1);
  PutFixed64Field(&p, 3, time_ns);
  PutFixed64Field(&p, 4, count);
  PutDoubleField(&p, 5, sum);
  PutVarintField(&p, 6, coding::ZigZag(scale));
  PutFixed64Field(&p, 7, zero_count);
  if (!positive.empty()) PutBytesField(&p, 8, positive);
  if (!negative.empty()) PutBytesField(&p, 9, negative);
  if (zero_threshold != 0) PutDoubleField(&p, 14, zero_threshold);
  return p;
}
inline std::string SummaryPoint(const std::vector<std::string>& attrs, uint64_t time_ns, uint64_t count, double sum,
                                const std::vector<std::pair<double, double>>& quantiles) {
  std::string p;
  PutFixed64Field(&p, 3, time_ns);
  PutFixed64Field(&p, 4, count);
  PutDoubleField(&p, 5, sum);
  for (const auto& [q, v] : quantiles) {
    std::string vq;
    PutDoubleField(&vq, 1, q);
    PutDoubleField(&vq, 2, v);
    PutBytesField(&p, 6, vq);
  }
  p += Join(attrs, 7);
  return p;
}

constexpr uint32_t kDelta = 1, kCumulative = 2;

inline std::string Gauge(const std::vector<std::string>& points) { return Join(points, 1); }
inline std::string Summary(const std::vector<std::string>& points) { return Join(points, 1); }
inline std::string Sum(const std::vector<std::string>& points, uint32_t temporality, bool monotonic) {
  std::string s = Join(points, 1);
  PutVarintField(&s, 2, temporality);
  if (monotonic) PutVarintField(&s, 3, 1);
  return s;
}
inline std::string Histogram(const std::vector<std::string>& points, uint32_t temporality) {
  std::string s = Join(points, 1);
  PutVarintField(&s, 2, temporality);
  return s;
}

// Metric: `data_field` is 5 gauge, 7 sum, 9 histogram, 10 exponential histogram, 11 summary.
constexpr uint32_t kGauge = 5, kSum = 7, kHistogram = 9, kExponentialHistogram = 10, kSummary = 11;
inline std::string Metric(std::string_view name, std::string_view unit, uint32_t data_field, const std::string& data) {
  std::string m;
  PutBytesField(&m, 1, name);
  PutBytesField(&m, 2, "a description, skipped");
  if (!unit.empty()) PutBytesField(&m, 3, unit);
  PutBytesField(&m, data_field, data);
  return m;
}
inline std::string ScopeMetrics(std::string_view name, std::string_view version, const std::vector<std::string>& metrics) {
  std::string scope;
  PutBytesField(&scope, 1, name);
  if (!version.empty()) PutBytesField(&scope, 2, version);
  std::string sm;
  PutBytesField(&sm, 1, scope);
  sm += Join(metrics, 2);
  return sm;
}
inline std::string ResourceMetrics(const std::vector<std::string>& resource_attrs, const std::vector<std::string>& scopes) {
  std::string res = Join(resource_attrs, 1);
  std::string rm;
  PutBytesField(&rm, 1, res);
  rm += Join(scopes, 2);
  return rm;
}
inline std::string Request(const std::vector<std::string>& resource_metrics) { return Join(resource_metrics, 1); }

}  // namespace tyto::testing::otlp_pb
