// The two OTLP decoders: hand-built protobuf bodies (src/testing/otlp_builder.h) and JSON bodies.
#include <gtest/gtest.h>

#include <cmath>

#include "ingest/otlp_metrics.h"
#include "testing/otlp_builder.h"

namespace tyto::ingest::otlp {
namespace {

namespace pb = testing::otlp_pb;

std::string EveryType() {
  return pb::Request({pb::ResourceMetrics(
      {pb::Attr("service.name", "api"), pb::AttrAny("replicas", pb::IntValue(3))},
      {pb::ScopeMetrics("io.vllm", "1.2",
                        {pb::Metric("temp", "Cel", pb::kGauge, pb::Gauge({pb::NumberPoint({pb::Attr("gpu", "0")}, 5'000'000'000, 41.5)})),
                         pb::Metric("reqs", "", pb::kSum, pb::Sum({pb::IntPoint({}, 6'000'000'000, -7)}, pb::kDelta, true)),
                         pb::Metric("lat", "s", pb::kHistogram,
                                    pb::Histogram({pb::HistogramPoint({}, 7'000'000'000, 3, 0.6, {1, 2, 0}, {0.1, 1})}, pb::kCumulative)),
                         pb::Metric("size", "By", pb::kExponentialHistogram,
                                    pb::Histogram({pb::ExpHistogramPoint({}, 8'000'000'000, 4, 10, 1, 1, pb::Buckets(-2, {1, 2}),
                                                                         pb::Buckets(0, {0}), 0.5)}, pb::kCumulative)),
                         pb::Metric("rpc", "ms", pb::kSummary, pb::Summary({pb::SummaryPoint({}, 9'000'000'000, 10, 55, {{0.5, 4}, {0.99, 9}})}))})})});
}

TEST(OtlpDecodeTest, ProtobufEveryMetricType) {
  MetricsRequest req;
  ASSERT_TRUE(DecodeProtobuf(EveryType(), &req).ok());
  ASSERT_EQ(req.resources.size(), 1u);
  const ResourceMetrics& rm = req.resources[0];
  ASSERT_EQ(rm.attributes.size(), 2u);
  EXPECT_EQ(rm.attributes[0].key, "service.name");
  EXPECT_EQ(rm.attributes[1].value, "3");
  ASSERT_EQ(rm.scopes.size(), 1u);
  EXPECT_EQ(rm.scopes[0].name, "io.vllm");
  EXPECT_EQ(rm.scopes[0].version, "1.2");
  const auto& ms = rm.scopes[0].metrics;
  ASSERT_EQ(ms.size(), 5u);
  EXPECT_EQ(ms[0].type, MetricType::kGauge);
  EXPECT_EQ(ms[0].unit, "Cel");
  EXPECT_EQ(ms[0].points[0].value, 41.5);
  EXPECT_EQ(ms[0].points[0].time_unix_nano, 5'000'000'000u);
  EXPECT_EQ(ms[0].points[0].attributes[0].value, "0");
  EXPECT_EQ(ms[1].type, MetricType::kSum);
  EXPECT_EQ(ms[1].temporality, Temporality::kDelta);
  EXPECT_TRUE(ms[1].monotonic);
  EXPECT_EQ(ms[1].points[0].value, -7);
  EXPECT_EQ(ms[2].type, MetricType::kHistogram);
  EXPECT_EQ(ms[2].points[0].bucket_counts, (std::vector<uint64_t>{1, 2, 0}));
  EXPECT_EQ(ms[2].points[0].explicit_bounds, (std::vector<double>{0.1, 1}));
  EXPECT_TRUE(ms[2].points[0].has_sum);
  EXPECT_EQ(ms[3].type, MetricType::kExponentialHistogram);
  const DataPoint& e = ms[3].points[0];
  EXPECT_EQ(e.scale, 1);
  EXPECT_EQ(e.positive_offset, -2);
  EXPECT_EQ(e.positive, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(e.negative, (std::vector<uint64_t>{0}));
  EXPECT_EQ(e.zero_count, 1u);
  EXPECT_EQ(e.zero_threshold, 0.5);
  EXPECT_EQ(ms[4].type, MetricType::kSummary);
  EXPECT_EQ(ms[4].points[0].quantiles, (std::vector<std::pair<double, double>>{{0.5, 4}, {0.99, 9}}));
  EXPECT_EQ(ms[4].points[0].count, 10u);
}

TEST(OtlpDecodeTest, ProtobufAttributeValuesAsStrings) {
  std::string arr;  // ArrayValue [ "a", 2 ]
  testing::PutBytesField(&arr, 1, pb::StringValue("a"));
  testing::PutBytesField(&arr, 1, pb::IntValue(2));
  std::string any_arr;
  testing::PutBytesField(&any_arr, 5, arr);
  std::string kvl;  // KeyValueList {"k": "v"}
  testing::PutBytesField(&kvl, 1, pb::Attr("k", "v\""));
  std::string any_kvl;
  testing::PutBytesField(&any_kvl, 6, kvl);
  std::string any_bool, any_double, any_bytes;
  testing::PutVarintField(&any_bool, 2, 1);
  testing::PutDoubleField(&any_double, 4, 0.25);
  testing::PutBytesField(&any_bytes, 7, "foo");
  const std::string body = pb::Request({pb::ResourceMetrics(
      {pb::AttrAny("arr", any_arr), pb::AttrAny("map", any_kvl), pb::AttrAny("b", any_bool),
       pb::AttrAny("d", any_double), pb::AttrAny("bytes", any_bytes), pb::AttrAny("empty", "")},
      {})});
  MetricsRequest req;
  ASSERT_TRUE(DecodeProtobuf(body, &req).ok());
  const auto& a = req.resources[0].attributes;
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].value, "[\"a\",2]");
  EXPECT_EQ(a[1].value, "{\"k\":\"v\\\"\"}");
  EXPECT_EQ(a[2].value, "true");
  EXPECT_EQ(a[3].value, "0.25");
  EXPECT_EQ(a[4].value, "Zm9v");
  EXPECT_EQ(a[5].value, "");
}

TEST(OtlpDecodeTest, ProtobufErrorsNameWhereAndWhat) {
  MetricsRequest req;
  const std::string body = EveryType();
  // Every truncation of a valid body is an error or a shorter valid body; never a crash.
  for (size_t n = 0; n < body.size(); ++n) (void)DecodeProtobuf(std::string_view(body).substr(0, n), &req);

  Status st = DecodeProtobuf(body.substr(0, body.size() - 3), &req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("resource_metrics[0]: invalid protobuf at byte ", 0), 0u) << st.message();

  // A time_unix_nano sent as a varint instead of fixed64.
  std::string point;
  testing::PutVarintField(&point, 3, 5);
  const std::string wrong = pb::Request({pb::ResourceMetrics(
      {}, {pb::ScopeMetrics("s", "", {pb::Metric("m", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, 1, 1), point}))})})});
  st = DecodeProtobuf(wrong, &req);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[1].time_unix_nano: "
                               "invalid protobuf at byte ", 0),
            0u)
      << st.message();
  EXPECT_NE(st.message().find("wire type varint"), std::string::npos) << st.message();

  st = DecodeProtobuf("\xff\xff\xff", &req);
  EXPECT_EQ(st.message().rfind("ExportMetricsServiceRequest: invalid protobuf at byte 0", 0), 0u) << st.message();

  // Packed fixed64 bucket counts whose length is not a multiple of 8.
  std::string hp;
  testing::PutBytesField(&hp, 6, "12345");
  st = DecodeProtobuf(pb::Request({pb::ResourceMetrics(
                          {}, {pb::ScopeMetrics("s", "", {pb::Metric("h", "", pb::kHistogram, pb::Histogram({hp}, 2))})})}),
                      &req);
  EXPECT_NE(st.message().find("histogram.data_points[0].bucket_counts: invalid protobuf at byte "), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("not a multiple of 8"), std::string::npos);

  // Attribute values nested too deep.
  std::string any = pb::StringValue("x");
  for (int i = 0; i < 40; ++i) {
    std::string arr;
    testing::PutBytesField(&arr, 1, any);
    any.clear();
    testing::PutBytesField(&any, 5, arr);
  }
  st = DecodeProtobuf(pb::Request({pb::ResourceMetrics({pb::AttrAny("deep", any)}, {})}), &req);
  EXPECT_NE(st.message().find("nested deeper than 32"), std::string::npos) << st.message();
}

TEST(OtlpDecodeTest, ResponsesAndStatus) {
  EXPECT_EQ(EncodeResponseProtobuf(0, ""), "");
  EXPECT_EQ(EncodeResponseProtobuf(3, "bad"), std::string("\x0a\x07\x08\x03\x12\x03" "bad", 9));
  EXPECT_EQ(EncodeResponseJson(0, ""), "{}");
  EXPECT_EQ(EncodeResponseJson(3, "bad"), R"({"partialSuccess":{"rejectedDataPoints":"3","errorMessage":"bad"}})");
  EXPECT_EQ(EncodeStatusProtobuf(3, "x"), std::string("\x08\x03\x12\x01x", 5));
  EXPECT_EQ(EncodeStatusJson(3, "x"), R"({"code":3,"message":"x"})");
}

constexpr const char* kJsonEveryType = R"({"resourceMetrics":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},
                            {"key":"replicas","value":{"intValue":"3"}},
                            {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"boolValue":true}]}}}]},
  "scopeMetrics":[{"scope":{"name":"io.vllm","version":"1.2"},"metrics":[
    {"name":"temp","unit":"Cel","gauge":{"dataPoints":[{"attributes":[{"key":"gpu","value":{"stringValue":"0"}}],
       "timeUnixNano":"5000000000","asDouble":41.5}]}},
    {"name":"reqs","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{"timeUnixNano":6000000000,"asInt":"-7"}]}},
    {"name":"lat","unit":"s","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"7000000000",
       "count":"3","sum":0.6,"bucketCounts":["1","2",0],"explicitBounds":[0.1,1]}]}},
    {"name":"size","unit":"By","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"8000000000",
       "count":"4","sum":10,"scale":1,"zeroCount":"1","zeroThreshold":0.5,"positive":{"offset":-2,"bucketCounts":["1","2"]},
       "negative":{"bucketCounts":["0"]},"flags":1}]}},
    {"name":"rpc","unit":"ms","summary":{"dataPoints":[{"timeUnixNano":"9000000000","count":"10","sum":55,
       "quantileValues":[{"quantile":0.5,"value":4},{"quantile":0.99,"value":"Infinity"}]}]}},
    {"name":"unknown_fields","description":"x","someFutureField":{"a":1},"gauge":{"dataPoints":[]}}
  ]}]}]})";

TEST(OtlpDecodeTest, JsonEveryMetricType) {
  MetricsRequest req;
  Status st = DecodeJson(kJsonEveryType, &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  MetricsRequest from_pb;
  ASSERT_TRUE(DecodeProtobuf(EveryType(), &from_pb).ok());
  const auto& ms = req.resources[0].scopes[0].metrics;
  ASSERT_EQ(ms.size(), 6u);
  EXPECT_EQ(req.resources[0].attributes[1].value, "3");
  EXPECT_EQ(req.resources[0].attributes[2].value, "[\"a\",true]");
  EXPECT_EQ(req.resources[0].scopes[0].version, "1.2");
  EXPECT_EQ(ms[0].points[0].value, 41.5);
  EXPECT_EQ(ms[0].points[0].time_unix_nano, 5'000'000'000u);
  EXPECT_EQ(ms[1].temporality, Temporality::kDelta);
  EXPECT_TRUE(ms[1].monotonic);
  EXPECT_EQ(ms[1].points[0].value, -7);
  EXPECT_EQ(ms[2].points[0].bucket_counts, from_pb.resources[0].scopes[0].metrics[2].points[0].bucket_counts);
  EXPECT_EQ(ms[2].points[0].explicit_bounds, (std::vector<double>{0.1, 1}));
  const DataPoint& e = ms[3].points[0];
  EXPECT_EQ(e.scale, 1);
  EXPECT_EQ(e.positive_offset, -2);
  EXPECT_EQ(e.positive, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(e.zero_threshold, 0.5);
  EXPECT_EQ(e.flags, kFlagNoRecordedValue);
  EXPECT_TRUE(std::isinf(ms[4].points[0].quantiles[1].second));
  EXPECT_EQ(ms[5].type, MetricType::kGauge);
}

TEST(OtlpDecodeTest, JsonErrorsNameWhereAndWhat) {
  MetricsRequest req;
  const auto error = [&](std::string_view body) {
    Status st = DecodeJson(body, &req);
    return st.ok() ? std::string("OK") : st.message();
  };
  EXPECT_EQ(error(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{},{"timeUnixNano":"12x"}]}}]}]}]})"),
            "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1].timeUnixNano: expected an unsigned 64-bit "
            "integer (a number or a string of digits)");
  EXPECT_EQ(error(R"({"resourceMetrics":{}})"), "resourceMetrics: expected an array");
  EXPECT_EQ(error(R"([])"), "ExportMetricsServiceRequest: the body is not a JSON object");
  EXPECT_EQ(error(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{},"gauge":{}}]}]}]})"),
            "resourceMetrics[0].scopeMetrics[0].metrics[0]: more than one of gauge, sum, histogram, exponentialHistogram, summary");
  EXPECT_EQ(error(R"({"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":{"intValue":1.5}}]}}]})"),
            "resourceMetrics[0].resource.attributes[0].value.intValue: expected a signed 64-bit integer (a number or a "
            "string of digits)");
  EXPECT_EQ(error(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","sum":{"aggregationTemporality":"x"}}]}]}]})"),
            "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality: unknown value \"x\"");
  EXPECT_EQ(error(R"({"resourceMetrics": [)").rfind("invalid JSON at byte 21: ", 0), 0u) << error(R"({"resourceMetrics": [)");
  EXPECT_EQ(error("{\"a\":\"\xff\"}").rfind("invalid JSON at byte ", 0), 0u);  // not UTF-8
  EXPECT_EQ(error("garbage").rfind("invalid JSON at byte 0: ", 0), 0u);
  EXPECT_EQ(error(""), "invalid JSON at byte 0: The document is empty.");
  EXPECT_EQ(error("{}"), "OK");
  // Deep nesting: an error, never a stack overflow (the parser is iterative, values are capped).
  std::string deep = R"({"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":)";
  for (int i = 0; i < 100; ++i) deep += R"({"arrayValue":{"values":[)";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "]}}";
  deep += "}]}}]}";
  EXPECT_NE(error(deep).find("nested deeper than 32"), std::string::npos) << error(deep);
  EXPECT_EQ(error(std::string(100000, '[')).rfind("invalid JSON at byte ", 0), 0u);
}

}  // namespace
}  // namespace tyto::ingest::otlp
