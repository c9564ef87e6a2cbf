// The OTLP 1.x metrics request (opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest)
// as Tyto keeps it between decoding and storing, its two decoders (the protobuf wire format, read
// by hand with ProtoReader, and OTLP's JSON mapping, read with RapidJSON inside otlp_json.cc) and
// the ExportMetricsServiceResponse encoders.
//
// The fields read (numbers as in opentelemetry-proto's .proto files; JSON names are the
// lowerCamelCase forms, the proto names are accepted too):
//   ExportMetricsServiceRequest 1 resource_metrics
//   ResourceMetrics      1 resource (Resource: 1 attributes)   2 scope_metrics
//   ScopeMetrics         1 scope (InstrumentationScope: 1 name, 2 version)   2 metrics
//   Metric               1 name  2 description  3 unit  5 gauge  7 sum  9 histogram
//                        10 exponential_histogram  11 summary (one of; the last one wins)
//   Gauge, Summary       1 data_points
//   Sum                  1 data_points  2 aggregation_temporality  3 is_monotonic
//   Histogram, ExponentialHistogram  1 data_points  2 aggregation_temporality
//   NumberDataPoint      7 attributes  2 start_time_unix_nano (fixed64)  3 time_unix_nano (fixed64)
//                        4 as_double  6 as_int (sfixed64)  8 flags
//   HistogramDataPoint   9 attributes  2, 3 times  4 count (fixed64)  5 sum  6 bucket_counts
//                        (fixed64, packed)  7 explicit_bounds (double, packed)  10 flags
//   ExponentialHistogramDataPoint  1 attributes  2, 3 times  4 count  5 sum  6 scale (sint32)
//                        7 zero_count (fixed64)  8 positive  9 negative (Buckets: 1 offset
//                        (sint32), 2 bucket_counts (uint64, packed))  10 flags  14 zero_threshold
//   SummaryDataPoint     7 attributes  2, 3 times  4 count  5 sum  6 quantile_values
//                        (ValueAtQuantile: 1 quantile, 2 value)  8 flags
//   KeyValue             1 key  2 value (AnyValue: 1 string 2 bool 3 int 4 double 5 array
//                        6 kvlist 7 bytes)
// Exemplars, min/max, descriptions and schema URLs are skipped: Tyto has no store for them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace tyto::ingest::otlp {

// An attribute with its value already written as a string, as Prometheus's OTLP receiver writes
// it: strings as they are, booleans "true"/"false", integers in decimal, doubles as JavaScript
// prints them, bytes in base64, arrays and maps as JSON.
struct Attribute {
  std::string key;
  std::string value;
};

enum class MetricType { kNone, kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };
enum class Temporality { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

// DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK: the point marks the series as having no value.
inline constexpr uint32_t kFlagNoRecordedValue = 1;

// One data point of any type; the fields its metric's type does not use stay at their defaults.
struct DataPoint {
  std::vector<Attribute> attributes;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  uint32_t flags = 0;
  double value = 0;  // gauge and sum: as_double, or as_int converted
  // Histograms and summaries.
  uint64_t count = 0;
  bool has_sum = false;
  double sum = 0;
  std::vector<uint64_t> bucket_counts;  // explicit buckets: one more than explicit_bounds
  std::vector<double> explicit_bounds;
  // Exponential histograms: bucket i of `positive` counts (base^(offset+i), base^(offset+i+1)]
  // with base = 2^(2^-scale); `negative` mirrors it below zero.
  int32_t scale = 0;
  uint64_t zero_count = 0;
  double zero_threshold = 0;
  int32_t positive_offset = 0, negative_offset = 0;
  std::vector<uint64_t> positive, negative;
  // Summaries: (quantile, value).
  std::vector<std::pair<double, double>> quantiles;
};

struct Metric {
  std::string name;
  std::string unit;
  MetricType type = MetricType::kNone;
  Temporality temporality = Temporality::kUnspecified;  // sums and histograms
  bool monotonic = false;                                // sums
  std::vector<DataPoint> points;
};

struct ScopeMetrics {
  std::string name;
  std::string version;
  std::vector<Metric> metrics;
};

struct ResourceMetrics {
  std::vector<Attribute> attributes;
  std::vector<ScopeMetrics> scopes;
};

struct MetricsRequest {
  std::vector<ResourceMetrics> resources;
};

// Limits that keep a small body from becoming a large structure or a deep recursion.
inline constexpr int kMaxAnyValueDepth = 32;  // arrays and maps nested in an attribute value

// Decodes an uncompressed protobuf ExportMetricsServiceRequest into *out (replacing it). Errors
// are InvalidArgument naming where, by field name and index, and the byte:
// "resource_metrics[0].scope_metrics[1].metrics[2].sum.data_points[0]: invalid protobuf at byte 57: ...".
Status DecodeProtobuf(std::string_view body, MetricsRequest* out);

// Decodes an ExportMetricsServiceRequest in OTLP's JSON mapping into *out. 64-bit integers as
// strings or numbers, enums as integers (or their names), doubles as numbers or "NaN",
// "Infinity", "-Infinity"; unknown fields are ignored, as the OTLP specification requires.
// Errors are InvalidArgument naming the path ("resourceMetrics[0].scopeMetrics[0].metrics[1]
// .gauge.dataPoints[0].timeUnixNano: ...") or, for a syntax error, the byte offset.
Status DecodeJson(std::string_view body, MetricsRequest* out);

// ExportMetricsServiceResponse, with partial_success set when rejected_data_points > 0.
std::string EncodeResponseProtobuf(int64_t rejected_data_points, std::string_view error_message);
std::string EncodeResponseJson(int64_t rejected_data_points, std::string_view error_message);

// google.rpc.Status {code, message}, the body of an OTLP/HTTP error response.
std::string EncodeStatusProtobuf(int32_t grpc_code, std::string_view message);
std::string EncodeStatusJson(int32_t grpc_code, std::string_view message);

}  // namespace tyto::ingest::otlp
