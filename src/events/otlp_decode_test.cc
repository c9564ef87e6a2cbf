// The OTLP traces and logs decoders: bodies built by hand in the protobuf wire format (from
// opentelemetry-proto's field numbers, independently of the decoder) and the same requests in
// OTLP JSON, which must decode to the same spans and records.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/otlp_decode.h"
#include "ingest/otlp_metrics.h"
#include "testing/otlp_builder.h"

namespace tyto::events {
namespace {

namespace pb = testing::otlp_pb;
using testing::PutBytesField;
using testing::PutVarintField;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}
const std::string kTrace = Bytes({0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c});
const std::string kTraceHex = "5b8efff798038103d269b633813fc60c";
const std::string kSpan = Bytes({0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74});
const std::string kSpanHex = "eee19b7ec3c1b174";
const std::string kParent = Bytes({0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73});
const std::string kParentHex = "eee19b7ec3c1b173";

// Span.Event
std::string Event(uint64_t time_ns, std::string_view name, const std::vector<std::string>& attrs) {
  std::string e;
  pb::PutFixed64Field(&e, 1, time_ns);
  PutBytesField(&e, 2, name);
  e += pb::Join(attrs, 3);
  return e;
}
struct SpanFields {
  std::string trace_id = kTrace, span_id = kSpan, parent_span_id;
  std::string name = "chat gpt-4o";
  uint64_t kind = 3;
  uint64_t start = 1'700'000'000'000'000'000, end = 1'700'000'001'500'000'000;
  std::vector<std::string> attrs, events;
  bool status = false;
  std::string status_message;
  uint64_t status_code = 0;
};
// Span, fields in an order that is not the field numbers' (a decoder must not depend on it).
std::string SpanMsg(const SpanFields& f) {
  std::string s;
  PutBytesField(&s, 5, f.name);
  PutBytesField(&s, 1, f.trace_id);
  PutBytesField(&s, 2, f.span_id);
  PutBytesField(&s, 3, "vendor=x");  // trace_state: skipped
  if (!f.parent_span_id.empty()) PutBytesField(&s, 4, f.parent_span_id);
  PutVarintField(&s, 6, f.kind);
  pb::PutFixed64Field(&s, 7, f.start);
  pb::PutFixed64Field(&s, 8, f.end);
  s += pb::Join(f.attrs, 9);
  PutVarintField(&s, 10, 2);  // dropped_attributes_count: skipped
  s += pb::Join(f.events, 11);
  PutBytesField(&s, 13, "");  // a link: skipped
  if (f.status) {
    std::string st;
    PutBytesField(&st, 2, f.status_message);
    PutVarintField(&st, 3, f.status_code);
    PutBytesField(&s, 15, st);
  }
  testing::PutKey(&s, 16, 5);  // flags, fixed32: skipped
  coding::PutFixed32(&s, 1);
  return s;
}
std::string ScopeSpans(std::string_view scope, const std::vector<std::string>& spans) {
  std::string sc;
  PutBytesField(&sc, 1, scope);
  PutBytesField(&sc, 2, "1.0");
  std::string ss = pb::Join(spans, 2);  // spans before the scope
  PutBytesField(&ss, 1, sc);
  return ss;
}
// ResourceSpans with the resource after its scope spans.
std::string ResourceSpans(const std::vector<std::string>& resource_attrs, const std::vector<std::string>& scopes) {
  std::string rs = pb::Join(scopes, 2);
  PutBytesField(&rs, 1, pb::Join(resource_attrs, 1));
  PutBytesField(&rs, 3, "https://opentelemetry.io/schemas/1.30.0");
  return rs;
}

std::string DoubleValue(double d) {
  std::string v;
  testing::PutDoubleField(&v, 4, d);
  return v;
}
std::string BoolValue(bool b) {
  std::string v;
  PutVarintField(&v, 2, b ? 1 : 0);
  return v;
}
std::string ArrayValue(const std::vector<std::string>& values) {
  std::string arr = pb::Join(values, 1), any;
  PutBytesField(&any, 5, arr);
  return any;
}

// One request with every field the decoder reads, protobuf and JSON.
std::string TracesProtobuf() {
  SpanFields server;
  server.kind = 2;
  server.name = "POST /v1/chat/completions";
  server.attrs = {pb::Attr("http.route", "/v1/chat/completions"), pb::AttrAny("http.response.status_code", pb::IntValue(200))};
  SpanFields client;
  client.span_id = kParent;
  client.parent_span_id = kSpan;
  client.attrs = {pb::Attr("gen_ai.request.model", "gpt-4o"), pb::AttrAny("gen_ai.usage.input_tokens", pb::IntValue(12)),
                  pb::AttrAny("gen_ai.response.finish_reasons", ArrayValue({pb::StringValue("stop")})),
                  pb::AttrAny("gen_ai.response.time_to_first_chunk", DoubleValue(0.25)),
                  pb::AttrAny("stream", BoolValue(true))};
  client.events = {Event(1'700'000'000'100'000'000, "gen_ai.content.prompt", {pb::Attr("gen_ai.prompt", "hi")})};
  client.status = true;
  client.status_message = "upstream timeout";
  client.status_code = 2;
  return pb::Request({ResourceSpans({pb::Attr("service.name", "gateway"), pb::Attr("host.name", "gpu-7")},
                                    {ScopeSpans("openai", {SpanMsg(server), SpanMsg(client)})}),
                      ResourceSpans({}, {ScopeSpans("", {SpanMsg(SpanFields{})})})});
}

constexpr const char* kTracesJson = R"({"resourceSpans":[
 {"scopeSpans":[{"spans":[
    {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174","traceState":"vendor=x",
     "name":"POST /v1/chat/completions","kind":"SPAN_KIND_SERVER",
     "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":1700000001500000000,
     "attributes":[{"key":"http.route","value":{"stringValue":"/v1/chat/completions"}},
                   {"key":"http.response.status_code","value":{"intValue":"200"}}],
     "droppedAttributesCount":2,"links":[{}],"flags":1},
    {"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b173","parent_span_id":"eee19b7ec3c1b174",
     "name":"chat gpt-4o","kind":3,"start_time_unix_nano":"1700000000000000000","endTimeUnixNano":"1700000001500000000",
     "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
                   {"key":"gen_ai.usage.input_tokens","value":{"intValue":12}},
                   {"key":"gen_ai.response.finish_reasons","value":{"arrayValue":{"values":[{"stringValue":"stop"}]}}},
                   {"key":"gen_ai.response.time_to_first_chunk","value":{"doubleValue":0.25}},
                   {"key":"stream","value":{"boolValue":true}}],
     "events":[{"timeUnixNano":"1700000000100000000","name":"gen_ai.content.prompt",
                "attributes":[{"key":"gen_ai.prompt","value":{"stringValue":"hi"}}]}],
     "status":{"message":"upstream timeout","code":"STATUS_CODE_ERROR"}}],
   "scope":{"name":"openai","version":"1.0"}}],
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gateway"}},
                            {"key":"host.name","value":{"stringValue":"gpu-7"}}]},
  "schemaUrl":"https://opentelemetry.io/schemas/1.30.0"},
 {"scopeSpans":[{"scope":{"name":""},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
   "name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001500000000"}]}]}
],"someFutureField":true})";

void ExpectSameAttributes(const std::vector<Attribute>& a, const std::vector<Attribute>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].value, b[i].value) << a[i].key;
  }
}

void ExpectSameSpans(const std::vector<Span>& a, const std::vector<Span>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("span " + std::to_string(i));
    EXPECT_EQ(a[i].trace_id, b[i].trace_id);
    EXPECT_EQ(a[i].span_id, b[i].span_id);
    EXPECT_EQ(a[i].parent_span_id, b[i].parent_span_id);
    EXPECT_EQ(a[i].service, b[i].service);
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].start_unix_nano, b[i].start_unix_nano);
    EXPECT_EQ(a[i].end_unix_nano, b[i].end_unix_nano);
    EXPECT_EQ(a[i].status, b[i].status);
    EXPECT_EQ(a[i].status_message, b[i].status_message);
    EXPECT_EQ(a[i].scope_name, b[i].scope_name);
    ExpectSameAttributes(a[i].attributes, b[i].attributes);
    ExpectSameAttributes(a[i].resource, b[i].resource);
    ASSERT_EQ(a[i].events.size(), b[i].events.size());
    for (size_t k = 0; k < a[i].events.size(); ++k) {
      EXPECT_EQ(a[i].events[k].time_unix_nano, b[i].events[k].time_unix_nano);
      EXPECT_EQ(a[i].events[k].name, b[i].events[k].name);
      ExpectSameAttributes(a[i].events[k].attributes, b[i].events[k].attributes);
    }
  }
}

TEST(OtlpTracesTest, ProtobufEveryField) {
  DecodedSpans d;
  Status st = DecodeTracesProtobuf(TracesProtobuf(), DecodeLimits(), &d);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(d.rejected, 0);
  ASSERT_EQ(d.spans.size(), 3u);
  const Span& server = d.spans[0];
  EXPECT_EQ(server.trace_id, kTraceHex);
  EXPECT_EQ(server.span_id, kSpanHex);
  EXPECT_EQ(server.parent_span_id, "");
  EXPECT_EQ(server.service, "gateway");
  EXPECT_EQ(server.name, "POST /v1/chat/completions");
  EXPECT_EQ(server.kind, SpanKind::kServer);
  EXPECT_EQ(server.start_unix_nano, 1'700'000'000'000'000'000);
  EXPECT_EQ(server.end_unix_nano, 1'700'000'001'500'000'000);
  EXPECT_EQ(server.status, StatusCode::kUnset);
  EXPECT_EQ(server.scope_name, "openai");
  ASSERT_EQ(server.attributes.size(), 2u);
  EXPECT_EQ(server.attributes[1].key, "http.response.status_code");
  EXPECT_EQ(server.attributes[1].value, "200");
  ASSERT_EQ(server.resource.size(), 2u);
  EXPECT_EQ(server.resource[1].value, "gpu-7");

  const Span& client = d.spans[1];
  EXPECT_EQ(client.span_id, kParentHex);
  EXPECT_EQ(client.parent_span_id, kSpanHex);
  EXPECT_EQ(client.kind, SpanKind::kClient);
  EXPECT_EQ(client.status, StatusCode::kError);
  EXPECT_EQ(client.status_message, "upstream timeout");
  ASSERT_EQ(client.attributes.size(), 5u);
  EXPECT_EQ(*FindAttribute(client.attributes, "gen_ai.response.finish_reasons"), "[\"stop\"]");
  EXPECT_EQ(*FindAttribute(client.attributes, "gen_ai.response.time_to_first_chunk"), "0.25");
  EXPECT_EQ(*FindAttribute(client.attributes, "stream"), "true");
  ASSERT_EQ(client.events.size(), 1u);
  EXPECT_EQ(client.events[0].time_unix_nano, 1'700'000'000'100'000'000);
  EXPECT_EQ(client.events[0].name, "gen_ai.content.prompt");
  EXPECT_EQ(client.events[0].attributes[0].value, "hi");

  EXPECT_EQ(d.spans[2].service, "unknown_service");  // no service.name
  EXPECT_TRUE(d.spans[2].resource.empty());
  EXPECT_EQ(d.spans[2].scope_name, "");
}

TEST(OtlpTracesTest, JsonDecodesAsProtobuf) {
  DecodedSpans from_pb, from_json;
  ASSERT_TRUE(DecodeTracesProtobuf(TracesProtobuf(), DecodeLimits(), &from_pb).ok());
  Status st = DecodeTracesJson(kTracesJson, DecodeLimits(), &from_json);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(from_json.rejected, 0);
  ExpectSameSpans(from_pb.spans, from_json.spans);
}

TEST(OtlpTracesTest, ProtobufErrorsNameWhereAndWhat) {
  DecodedSpans d;
  const std::string body = TracesProtobuf();
  // Every truncation is an error or a shorter valid body; never a crash.
  for (size_t n = 0; n < body.size(); ++n) (void)DecodeTracesProtobuf(std::string_view(body).substr(0, n), DecodeLimits(), &d);

  Status st = DecodeTracesProtobuf(body.substr(0, body.size() - 3), DecodeLimits(), &d);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("resource_spans[1]", 0), 0u) << st.message();
  EXPECT_TRUE(d.spans.empty());  // nothing kept from a body that cannot be read

  st = DecodeTracesProtobuf("\xff\xff\xff", DecodeLimits(), &d);
  EXPECT_EQ(st.message().rfind("ExportTraceServiceRequest: invalid protobuf at byte 0", 0), 0u) << st.message();

  // A name sent as a varint.
  std::string span;
  PutVarintField(&span, 5, 7);
  st = DecodeTracesProtobuf(pb::Request({ResourceSpans({}, {ScopeSpans("s", {SpanMsg({}), span})})}), DecodeLimits(), &d);
  EXPECT_EQ(st.code(), ::tyto::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("resource_spans[0].scope_spans[0].spans[1].name: invalid protobuf at byte ", 0), 0u)
      << st.message();
  EXPECT_NE(st.message().find("wire type varint"), std::string::npos) << st.message();

  // An attribute value nested too deep.
  std::string any = pb::StringValue("x");
  for (int i = 0; i < 40; ++i) any = ArrayValue({any});
  SpanFields deep;
  deep.attrs = {pb::AttrAny("deep", any)};
  st = DecodeTracesProtobuf(pb::Request({ResourceSpans({}, {ScopeSpans("s", {SpanMsg(deep)})})}), DecodeLimits(), &d);
  EXPECT_EQ(st.message().rfind("resource_spans[0].scope_spans[0].spans[0].attributes[0].value.array_value.values[0]", 0), 0u)
      << st.message();
  EXPECT_NE(st.message().find("nested deeper than 32"), std::string::npos) << st.message();
}

TEST(OtlpTracesTest, InvalidSpansAreRejectedOthersKept) {
  SpanFields short_trace, zero_span, bad_parent, zero_parent, late;
  short_trace.trace_id = kTrace.substr(0, 15);
  short_trace.name = "short";
  zero_span.span_id = std::string(8, '\0');
  bad_parent.parent_span_id = "\x01\x02";
  zero_parent.parent_span_id = std::string(8, '\0');
  late.end = UINT64_MAX;
  SpanFields missing;
  missing.trace_id.clear();
  const std::string body = pb::Request({ResourceSpans(
      {}, {ScopeSpans("s", {SpanMsg(short_trace), SpanMsg(zero_span), SpanMsg(bad_parent), SpanMsg(zero_parent),
                            SpanMsg(late), SpanMsg(missing)})})});
  DecodedSpans d;
  ASSERT_TRUE(DecodeTracesProtobuf(body, DecodeLimits(), &d).ok());
  EXPECT_EQ(d.rejected, 5);
  EXPECT_EQ(d.first_rejection, "resource_spans[0].scope_spans[0].spans[0] \"short\": trace_id is 15 bytes, expected 16");
  ASSERT_EQ(d.spans.size(), 1u);  // the all-zero parent reads as a root span
  EXPECT_EQ(d.spans[0].parent_span_id, "");

  const auto first = [](const SpanFields& f) {
    DecodedSpans one;
    EXPECT_TRUE(DecodeTracesProtobuf(pb::Request({ResourceSpans({}, {ScopeSpans("s", {SpanMsg(f)})})}), DecodeLimits(), &one).ok());
    return one.first_rejection;
  };
  EXPECT_EQ(first(zero_span), "resource_spans[0].scope_spans[0].spans[0] \"chat gpt-4o\": span_id is all zeros");
  EXPECT_EQ(first(bad_parent), "resource_spans[0].scope_spans[0].spans[0] \"chat gpt-4o\": parent_span_id is 2 bytes, expected 8");
  EXPECT_EQ(first(late), "resource_spans[0].scope_spans[0].spans[0] \"chat gpt-4o\": end_time_unix_nano 18446744073709551615 is after 2262");
  EXPECT_EQ(first(missing), "resource_spans[0].scope_spans[0].spans[0] \"chat gpt-4o\": trace_id is 0 bytes, expected 16");
}

TEST(OtlpTracesTest, JsonErrorsAndRejections) {
  DecodedSpans d;
  const auto error = [&](std::string_view body) {
    Status st = DecodeTracesJson(body, DecodeLimits(), &d);
    return st.ok() ? std::string("OK") : st.message();
  };
  const std::string span = R"("traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174")";
  const auto one = [&](const std::string& fields) {
    return R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)" + span + fields + "}]}]}]}";
  };
  EXPECT_EQ(error(one("")), "OK");
  EXPECT_EQ(error(one(R"(,"kind":"SERVER")")), "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown value \"SERVER\"");
  EXPECT_EQ(error(one(R"(,"kind":1.5)")), "resourceSpans[0].scopeSpans[0].spans[0].kind: expected an integer or an enum name");
  EXPECT_EQ(error(one(R"(,"status":{"code":"ERROR"})")),
            "resourceSpans[0].scopeSpans[0].spans[0].status.code: unknown value \"ERROR\"");
  EXPECT_EQ(error(one(R"(,"startTimeUnixNano":"1e9")")),
            "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned 64-bit integer (a number or a "
            "string of digits)");
  EXPECT_EQ(error(one(R"(,"attributes":[{"key":"k","value":{"intValue":"x"}}])")),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected a signed 64-bit integer (a "
            "number or a string of digits)");
  EXPECT_EQ(error(one(R"(,"events":[{"name":3}])")), "resourceSpans[0].scopeSpans[0].spans[0].events[0].name: expected a string");
  EXPECT_EQ(error(one(R"(,"parentSpanId":7)")), "resourceSpans[0].scopeSpans[0].spans[0].parentSpanId: expected a string of hex digits");
  EXPECT_EQ(error(R"({"resourceSpans":{}})"), "resourceSpans: expected an array");
  EXPECT_EQ(error(R"({"resourceSpans":[{"scopeSpans":[{"spans":[7]}]}]})"), "resourceSpans[0].scopeSpans[0].spans[0]: expected an object");
  EXPECT_EQ(error("[]"), "ExportTraceServiceRequest: the body is not a JSON object");
  EXPECT_EQ(error("{\"a\":\"\xff\"}").rfind("invalid JSON at byte ", 0), 0u);
  EXPECT_EQ(error(""), "invalid JSON at byte 0: The document is empty.");

  // Invalid ids: the span is rejected, the body accepted.
  ASSERT_EQ(error(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AAAAAAAAAAAAAAAAAAAAAA==","spanId":"eee19b7ec3c1b174","name":"b64"},
      {"traceId":"00000000000000000000000000000000","spanId":"eee19b7ec3c1b174"},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"0000000000000000","kind":9},
      {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"xyz"}]}]}]})"),
            "OK");
  EXPECT_EQ(d.rejected, 3);
  EXPECT_EQ(d.first_rejection,
            "resourceSpans[0].scopeSpans[0].spans[0] \"b64\": traceId \"AAAAAAAAAAAAAAAAAAAAAA==\" is not 32 hex digits");
  ASSERT_EQ(d.spans.size(), 1u);
  EXPECT_EQ(d.spans[0].parent_span_id, "");
  EXPECT_EQ(d.spans[0].kind, SpanKind::kUnspecified);  // an enum value this version does not know
}

TEST(OtlpTracesTest, Limits) {
  DecodeLimits limits;
  limits.max_attributes = 2;
  limits.max_attribute_value_bytes = 5;
  limits.max_span_events = 1;
  limits.max_content_bytes = 8;
  SpanFields f;
  f.name = "a-very-long-span-name";
  f.attrs = {pb::Attr("gen_ai.input.messages", "[{\"role\":\"user\"}]"), pb::Attr("k", "h\xc3\xa9llo"), pb::Attr("x", "y")};
  f.events = {Event(1, "e1", {pb::Attr("a", "1"), pb::Attr("b", "2"), pb::Attr("c", "3")}), Event(2, "e2", {})};
  const std::string body = pb::Request({ResourceSpans({pb::Attr("service.name", "svc"), pb::Attr("r1", "v"), pb::Attr("r2", "v")},
                                                      {ScopeSpans("s", {SpanMsg(f)})})});
  for (bool json : {false, true}) {
    SCOPED_TRACE(json ? "json" : "protobuf");
    DecodedSpans d;
    if (json) {
      const std::string j = R"({"resourceSpans":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"svc"}},{"key":"r1","value":{"stringValue":"v"}},{"key":"r2","value":{"stringValue":"v"}}]},
        "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a-very-long-span-name",
        "attributes":[{"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\"}]"}},
                      {"key":"k","value":{"stringValue":"h\u00e9llo"}},{"key":"x","value":{"stringValue":"y"}}],
        "events":[{"name":"e1","attributes":[{"key":"a","value":{"stringValue":"1"}},{"key":"b","value":{"stringValue":"2"}},
                                             {"key":"c","value":{"stringValue":"3"}}]},{"name":"e2"}]}]}]}]})";
      ASSERT_TRUE(DecodeTracesJson(j, limits, &d).ok());
    } else {
      ASSERT_TRUE(DecodeTracesProtobuf(body, limits, &d).ok());
    }
    ASSERT_EQ(d.spans.size(), 1u);
    const Span& s = d.spans[0];
    EXPECT_EQ(s.name, "a-ver");
    ASSERT_EQ(s.attributes.size(), 2u);
    EXPECT_EQ(s.attributes[0].value, "[{\"role\"");  // a content attribute: max_content_bytes
    EXPECT_EQ(s.attributes[1].value, "h\xc3\xa9ll");  // 5 of "héllo"'s 6 bytes
    ASSERT_EQ(s.events.size(), 1u);
    EXPECT_EQ(s.events[0].attributes.size(), 2u);
    EXPECT_EQ(s.resource.size(), 2u);
    EXPECT_EQ(s.service, "svc");
    EXPECT_EQ(d.stats.attributes_dropped, 3u);  // one span attribute, one event attribute, one resource attribute
    EXPECT_EQ(d.stats.span_events_dropped, 1u);
    EXPECT_EQ(d.stats.content_truncated, 1u);
    EXPECT_EQ(d.stats.values_truncated, 2u);  // the name and "héllo"
  }
}

TEST(OtlpTracesTest, DecodedBytesBudget) {
  // A large resource shared by many spans: each span carries a copy, which the budget counts.
  std::vector<std::string> spans(10, SpanMsg({}));
  const std::string body =
      pb::Request({ResourceSpans({pb::Attr("service.name", "svc"), pb::Attr("big", std::string(1000, 'x'))},
                                 {ScopeSpans("s", spans)})});
  DecodeLimits limits;
  limits.max_decoded_bytes = 5000;
  DecodedSpans d;
  ASSERT_TRUE(DecodeTracesProtobuf(body, limits, &d).ok());
  EXPECT_EQ(d.spans.size(), 4u);
  EXPECT_EQ(d.rejected, 6);
  EXPECT_EQ(d.first_rejection, "resource_spans[0]: the decoded body passes max_decoded_bytes (5000 bytes); the rest of it is refused");
}

TEST(OtlpTracesTest, InvalidUtf8IsRepaired) {
  SpanFields f;
  f.name = "bad\xff name";
  f.attrs = {pb::Attr("k\xc3", "v\xe2\x82")};
  DecodedSpans d;
  ASSERT_TRUE(DecodeTracesProtobuf(pb::Request({ResourceSpans({}, {ScopeSpans("s", {SpanMsg(f)})})}), DecodeLimits(), &d).ok());
  ASSERT_EQ(d.spans.size(), 1u);
  EXPECT_EQ(d.spans[0].name, "bad\xef\xbf\xbd name");
  EXPECT_EQ(d.spans[0].attributes[0].key, "k\xef\xbf\xbd");
  EXPECT_EQ(d.spans[0].attributes[0].value, "v\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(d.stats.utf8_repaired, 3u);
}

// LogRecord, fields out of number order.
struct LogFields {
  uint64_t time = 1'700'000'000'000'000'001, observed = 1'700'000'000'500'000'000;
  uint64_t severity = 17;
  std::string text = "ERROR";
  std::string body = pb::StringValue("model load failed");
  std::vector<std::string> attrs;
  std::string trace_id = kTrace, span_id = kSpan;
};
std::string LogMsg(const LogFields& f) {
  std::string r;
  PutBytesField(&r, 5, f.body);
  if (f.time) pb::PutFixed64Field(&r, 1, f.time);
  pb::PutFixed64Field(&r, 11, f.observed);
  PutVarintField(&r, 2, f.severity);
  PutBytesField(&r, 3, f.text);
  r += pb::Join(f.attrs, 6);
  PutVarintField(&r, 7, 1);  // dropped_attributes_count: skipped
  testing::PutKey(&r, 8, 5);  // flags (fixed32): skipped
  coding::PutFixed32(&r, 1);
  if (!f.trace_id.empty()) PutBytesField(&r, 9, f.trace_id);
  if (!f.span_id.empty()) PutBytesField(&r, 10, f.span_id);
  PutBytesField(&r, 12, "event.name");  // event_name: skipped
  return r;
}
std::string LogsRequest(const std::vector<std::string>& resource_attrs, const std::vector<std::string>& records) {
  std::string sl;
  PutBytesField(&sl, 1, "");  // scope
  sl += pb::Join(records, 2);
  std::string rl;
  PutBytesField(&rl, 2, sl);
  PutBytesField(&rl, 1, pb::Join(resource_attrs, 1));
  std::string req;
  PutBytesField(&req, 1, rl);
  return req;
}

std::string LogsProtobuf() {
  LogFields a;
  a.attrs = {pb::Attr("gpu", "3"), pb::AttrAny("retries", pb::IntValue(2))};
  LogFields b;
  b.time = 0;  // observed time stands in
  b.severity = 9;
  b.text = "info";
  std::string kvl, any;
  PutBytesField(&kvl, 1, pb::AttrAny("n", pb::IntValue(1)));
  PutBytesField(&any, 6, kvl);
  b.body = any;
  b.trace_id = std::string(16, '\0');  // all zeros: no trace
  b.span_id = std::string(8, '\0');
  return LogsRequest({pb::Attr("service.name", "vllm"), pb::Attr("k8s.pod.name", "vllm-0")}, {LogMsg(a), LogMsg(b)});
}

constexpr const char* kLogsJson = R"({"resourceLogs":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"vllm"}},{"key":"k8s.pod.name","value":{"stringValue":"vllm-0"}}]},
  "scopeLogs":[{"scope":{},"logRecords":[
   {"timeUnixNano":"1700000000000000001","observedTimeUnixNano":"1700000000500000000","severityNumber":"SEVERITY_NUMBER_ERROR",
    "severityText":"ERROR","body":{"stringValue":"model load failed"},
    "attributes":[{"key":"gpu","value":{"stringValue":"3"}},{"key":"retries","value":{"intValue":"2"}}],
    "droppedAttributesCount":1,"flags":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"x"},
   {"observed_time_unix_nano":1700000000500000000,"severity_number":9,"severity_text":"info",
    "body":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":1}}]}},
    "traceId":"00000000000000000000000000000000","spanId":""}]}]}]})";

TEST(OtlpLogsTest, ProtobufEveryFieldAndJsonTheSame) {
  DecodedLogs from_pb, from_json;
  Status st = DecodeLogsProtobuf(LogsProtobuf(), DecodeLimits(), &from_pb);
  ASSERT_TRUE(st.ok()) << st.ToString();
  st = DecodeLogsJson(kLogsJson, DecodeLimits(), &from_json);
  ASSERT_TRUE(st.ok()) << st.ToString();
  for (const DecodedLogs* d : {&from_pb, &from_json}) {
    EXPECT_EQ(d->rejected, 0);
    ASSERT_EQ(d->records.size(), 2u);
    const LogRecord& a = d->records[0];
    EXPECT_EQ(a.time_unix_nano, 1'700'000'000'000'000'001);
    EXPECT_EQ(a.severity_number, 17);
    EXPECT_EQ(a.severity_text, "ERROR");
    EXPECT_EQ(a.body, "model load failed");
    EXPECT_EQ(a.trace_id, kTraceHex);
    EXPECT_EQ(a.span_id, kSpanHex);
    EXPECT_EQ(a.service, "vllm");
    ASSERT_EQ(a.attributes.size(), 2u);
    EXPECT_EQ(a.attributes[1].value, "2");
    ASSERT_EQ(a.resource.size(), 2u);
    EXPECT_EQ(a.resource[1].value, "vllm-0");
    const LogRecord& b = d->records[1];
    EXPECT_EQ(b.time_unix_nano, 1'700'000'000'500'000'000);
    EXPECT_EQ(b.severity_number, 9);
    EXPECT_EQ(b.body, "{\"n\":1}");
    EXPECT_EQ(b.trace_id, "");
    EXPECT_EQ(b.span_id, "");
  }
}

TEST(OtlpLogsTest, ErrorsAndRejections) {
  DecodedLogs d;
  Status st = DecodeLogsProtobuf(LogsProtobuf().substr(0, 20), DecodeLimits(), &d);
  EXPECT_EQ(st.message().rfind("resource_logs[0]", 0), 0u) << st.message();
  LogFields bad;
  bad.span_id = "\x01";
  LogFields late;
  late.time = UINT64_MAX;
  ASSERT_TRUE(DecodeLogsProtobuf(LogsRequest({}, {LogMsg(bad), LogMsg(late), LogMsg({})}), DecodeLimits(), &d).ok());
  EXPECT_EQ(d.rejected, 2);
  EXPECT_EQ(d.first_rejection, "resource_logs[0].scope_logs[0].log_records[0]: span_id is 1 bytes, expected 8");
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].service, "unknown_service");

  const auto error = [&](std::string_view body) {
    Status s = DecodeLogsJson(body, DecodeLimits(), &d);
    return s.ok() ? std::string("OK") : s.message();
  };
  EXPECT_EQ(error(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_LOUD"}]}]}]})"),
            "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: unknown value \"SEVERITY_NUMBER_LOUD\"");
  EXPECT_EQ(error(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"text"}]}]}]})"),
            "resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an object");
  EXPECT_EQ(error("7"), "ExportLogsServiceRequest: the body is not a JSON object");
  EXPECT_EQ(error(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"abc"},{}]}]}]})"), "OK");
  EXPECT_EQ(d.rejected, 1);
  EXPECT_EQ(d.first_rejection, "resourceLogs[0].scopeLogs[0].logRecords[0]: traceId \"abc\" is not 32 hex digits");
  EXPECT_EQ(error(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN3"},
      {"severityNumber":"SEVERITY_NUMBER_FATAL4"},{"severityNumber":"SEVERITY_NUMBER_UNSPECIFIED"}]}]}]})"),
            "OK");
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_EQ(d.records[0].severity_number, 15);
  EXPECT_EQ(d.records[1].severity_number, 24);
  EXPECT_EQ(d.records[2].severity_number, 0);
}

TEST(OtlpLogsTest, MoreErrors) {
  DecodedLogs d;
  // severity_text sent as a varint.
  std::string rec;
  PutVarintField(&rec, 3, 1);
  Status st = DecodeLogsProtobuf(LogsRequest({}, {LogMsg({}), rec}), DecodeLimits(), &d);
  EXPECT_EQ(st.message().rfind("resource_logs[0].scope_logs[0].log_records[1].severity_text: invalid protobuf at byte ", 0), 0u)
      << st.message();
  st = DecodeLogsJson(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":4294967296}]}]}]})", DecodeLimits(), &d);
  EXPECT_EQ(st.message(), "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: expected a 32-bit integer");
  st = DecodeLogsJson(R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]})", DecodeLimits(), &d);
  EXPECT_EQ(st.message(), "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: expected an unsigned 64-bit integer (a "
                          "number or a string of digits)");

  // The decoded-bytes budget holds for logs too.
  DecodeLimits limits;
  limits.max_decoded_bytes = 100;
  ASSERT_TRUE(DecodeLogsProtobuf(LogsRequest({pb::Attr("service.name", std::string(60, 's'))}, {LogMsg({}), LogMsg({})}),
                                 limits, &d)
                  .ok());
  EXPECT_EQ(d.records.size(), 0u);
  EXPECT_EQ(d.rejected, 2);
  EXPECT_EQ(d.first_rejection,
            "resource_logs[0]: the decoded body passes max_decoded_bytes (100 bytes); the rest of it is refused");
}

TEST(OtlpLogsTest, BodyIsContent) {
  DecodeLimits limits;
  limits.max_content_bytes = 4;
  LogFields f;
  DecodedLogs d;
  ASSERT_TRUE(DecodeLogsProtobuf(LogsRequest({}, {LogMsg(f)}), limits, &d).ok());
  EXPECT_EQ(d.records[0].body, "mode");
  EXPECT_EQ(d.stats.content_truncated, 1u);
}

TEST(OtlpResponseTest, PartialSuccess) {
  EXPECT_EQ(EncodeTracesResponseProtobuf(0, ""), "");
  EXPECT_EQ(EncodeTracesResponseProtobuf(3, "bad"), std::string("\x0a\x07\x08\x03\x12\x03" "bad", 9));
  EXPECT_EQ(EncodeLogsResponseProtobuf(1, "x"), std::string("\x0a\x05\x08\x01\x12\x01x", 7));
  EXPECT_EQ(EncodeTracesResponseJson(0, ""), "{}");
  EXPECT_EQ(EncodeTracesResponseJson(3, "bad \"id\""),
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad \"id\""}})");
  EXPECT_EQ(EncodeLogsResponseJson(2, "x"), R"({"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"x"}})");
}

}  // namespace
}  // namespace tyto::events
