// The JSON-lines events and logs APIs: every field of every type, the per-line error policy with
// line numbers and field names, unknown-field warnings, timestamps, and the limits.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "events/jsonl_decode.h"

namespace tyto::events {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

std::string Errors(const LineReport& r) {
  std::string out;
  for (const LineError& e : r.errors) out += std::to_string(e.line) + ": " + e.message + "\n";
  return out;
}

// The error of a one-line body, or "OK".
std::string EventError(const std::string& line) {
  DecodedEvents d = DecodeEventsJsonLines(line, kNow, DecodeLimits());
  if (d.report.errors.empty()) return "OK";
  return d.report.errors[0].message;
}

TEST(EventsJsonLinesTest, InferenceEveryField) {
  const std::string body = R"({"type":"inference","timestamp":"2026-11-22T12:00:00.250Z","request_id":"r-1","model":"llama-3-8b",)"
                           R"("model_version":"2026-11-01","endpoint":"chat","tenant":"acme","service":"gateway","provider":"vllm",)"
                           R"("operation":"chat","node":"gpu-3","conversation_id":"c-9","status":"ok","latency_ms":1250,)"
                           R"("queue_ms":15.5,"ttft_s":0.2,"input_tokens":120,"output_tokens":48,"finish_reasons":["stop"],)"
                           R"("prompt":"What is 2+2?","response":{"text":"4"},"features":{"age":42,"country":"NZ"},)"
                           R"("prediction":{"label":"fraud","score":0.93},"trace_id":"5B8EFFF798038103D269B633813FC60C",)"
                           R"("span_id":"eee19b7ec3c1b174"})";
  DecodedEvents d = DecodeEventsJsonLines(body, kNow, DecodeLimits());
  ASSERT_EQ(d.report.errors.size(), 0u) << Errors(d.report);
  EXPECT_TRUE(d.report.warnings.empty());
  EXPECT_EQ(d.report.lines, 1u);
  EXPECT_EQ(d.report.accepted, 1u);
  ASSERT_EQ(d.inferences.size(), 1u);
  const InferenceEvent& e = d.inferences[0];
  EXPECT_EQ(e.timestamp_ms, 1'795'348'800'250);
  EXPECT_EQ(e.request_id, "r-1");
  EXPECT_EQ(e.model, "llama-3-8b");
  EXPECT_EQ(e.model_version, "2026-11-01");
  EXPECT_EQ(e.endpoint, "chat");
  EXPECT_EQ(e.tenant, "acme");
  EXPECT_EQ(e.service, "gateway");
  EXPECT_EQ(e.provider, "vllm");
  EXPECT_EQ(e.operation, "chat");
  EXPECT_EQ(e.node, "gpu-3");
  EXPECT_EQ(e.conversation_id, "c-9");
  EXPECT_FALSE(e.error);
  EXPECT_DOUBLE_EQ(e.latency_s, 1.25);
  EXPECT_DOUBLE_EQ(e.queue_s, 0.0155);
  EXPECT_DOUBLE_EQ(e.ttft_s, 0.2);
  EXPECT_EQ(e.input_tokens, 120);
  EXPECT_EQ(e.output_tokens, 48);
  EXPECT_EQ(e.finish_reasons, (std::vector<std::string>{"stop"}));
  EXPECT_EQ(e.prompt, "What is 2+2?");
  EXPECT_EQ(e.response, R"({"text":"4"})");
  ASSERT_EQ(e.features.size(), 2u);
  EXPECT_EQ(e.features[0].name, "age");
  EXPECT_TRUE(e.features[0].is_number);
  EXPECT_EQ(e.features[0].number, 42);
  EXPECT_EQ(e.features[1].name, "country");
  EXPECT_FALSE(e.features[1].is_number);
  EXPECT_EQ(e.features[1].text, "NZ");
  ASSERT_EQ(e.prediction.size(), 2u);
  EXPECT_EQ(e.prediction[0].text, "fraud");
  EXPECT_EQ(e.prediction[1].number, 0.93);
  EXPECT_EQ(e.trace_id, "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(e.span_id, "eee19b7ec3c1b174");
}

TEST(EventsJsonLinesTest, InferenceDefaultsAndStatus) {
  DecodedEvents d = DecodeEventsJsonLines(
      "{\"model\":\"m\"}\n"
      "{\"model\":\"m\",\"timestamp\":1700000000.5,\"status\":503}\n"
      "{\"model\":\"m\",\"timestamp\":\"1700000000\",\"status\":\"error\"}\n"
      "{\"model\":\"m\",\"status\":429,\"error_type\":\"rate_limited\",\"prediction\":0.7,\"finish_reasons\":\"length\"}\n"
      "{\"model\":\"m\",\"error_type\":\"timeout\",\"prediction\":\"cat\",\"trace_id\":\"00000000000000000000000000000000\"}\n"
      "{\"model\":\"m\",\"status\":200}\n",
      kNow, DecodeLimits());
  ASSERT_TRUE(d.report.errors.empty()) << Errors(d.report);
  ASSERT_EQ(d.inferences.size(), 6u);
  const auto& ev = d.inferences;
  EXPECT_EQ(ev[0].timestamp_ms, kNow);  // no timestamp: the receive time
  EXPECT_FALSE(ev[0].error);
  EXPECT_TRUE(std::isnan(ev[0].latency_s));
  EXPECT_EQ(ev[0].input_tokens, -1);
  EXPECT_EQ(ev[1].timestamp_ms, 1'700'000'000'500);
  EXPECT_TRUE(ev[1].error);
  EXPECT_EQ(ev[1].error_type, "503");
  EXPECT_EQ(ev[2].timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(ev[2].error_type, "_OTHER");
  EXPECT_EQ(ev[3].error_type, "rate_limited");
  ASSERT_EQ(ev[3].prediction.size(), 1u);
  EXPECT_EQ(ev[3].prediction[0].name, "");
  EXPECT_EQ(ev[3].prediction[0].number, 0.7);
  EXPECT_EQ(ev[3].finish_reasons, (std::vector<std::string>{"length"}));
  EXPECT_TRUE(ev[4].error);  // error_type alone
  EXPECT_EQ(ev[4].prediction[0].text, "cat");
  EXPECT_EQ(ev[4].trace_id, "");  // all zeros: none
  EXPECT_FALSE(ev[5].error);
}

TEST(EventsJsonLinesTest, PipelineStageAndDeployment) {
  DecodedEvents d = DecodeEventsJsonLines(
      R"({"type":"pipeline_stage","pipeline":"features","stage":"join","run_id":"run-7","start_time":"2026-11-22T12:00:00Z",)"
      R"("end_time":"2026-11-22T12:05:00Z","rows_in":1000,"rows_out":990,"rows_rejected":10,"schema_fingerprint":"sha256:ab",)"
      R"("fields":{"user_id":"int64","country":"string"},"status":"error","error":"3 nulls in user_id"})"
      "\n"
      R"({"type":"pipeline_stage","pipeline":"p","stage":"s","end_time":1700000000})"
      "\n"
      R"({"type":"deployment","timestamp":1700000000,"model":"llama","version":"v2","previous_version":"v1",)"
      R"("action":"rollback","who":"alice","note":"p99 regression"})"
      "\n"
      R"({"type":"deployment","model":"llama","version":"v3"})",
      kNow, DecodeLimits());
  ASSERT_TRUE(d.report.errors.empty()) << Errors(d.report);
  ASSERT_EQ(d.pipeline_stages.size(), 2u);
  const PipelineStageEvent& p = d.pipeline_stages[0];
  EXPECT_EQ(p.pipeline, "features");
  EXPECT_EQ(p.stage, "join");
  EXPECT_EQ(p.run_id, "run-7");
  EXPECT_EQ(p.start_ms, 1'795'348'800'000);
  EXPECT_EQ(p.end_ms, 1'795'349'100'000);
  EXPECT_EQ(p.rows_in, 1000);
  EXPECT_EQ(p.rows_out, 990);
  EXPECT_EQ(p.rows_rejected, 10);
  EXPECT_EQ(p.schema_fingerprint, "sha256:ab");
  ASSERT_EQ(p.fields.size(), 2u);
  EXPECT_EQ(p.fields[1].name, "country");
  EXPECT_EQ(p.fields[1].type, "string");
  EXPECT_TRUE(p.failed);
  EXPECT_EQ(p.error, "3 nulls in user_id");
  EXPECT_EQ(d.pipeline_stages[1].start_ms, 1'700'000'000'000);  // no start: the end
  EXPECT_FALSE(d.pipeline_stages[1].failed);
  EXPECT_EQ(d.pipeline_stages[1].rows_in, -1);

  ASSERT_EQ(d.deployments.size(), 2u);
  const DeploymentEvent& dep = d.deployments[0];
  EXPECT_EQ(dep.timestamp_ms, 1'700'000'000'000);
  EXPECT_EQ(dep.model, "llama");
  EXPECT_EQ(dep.version, "v2");
  EXPECT_EQ(dep.previous_version, "v1");
  EXPECT_EQ(dep.action, "rollback");
  EXPECT_EQ(dep.who, "alice");
  EXPECT_EQ(dep.note, "p99 regression");
  EXPECT_EQ(d.deployments[1].action, "deploy");
  EXPECT_EQ(d.deployments[1].timestamp_ms, kNow);
}

TEST(EventsJsonLinesTest, EveryErrorNamesItsField) {
  EXPECT_EQ(EventError(R"({"request_id":"r"})"), "model: required");
  EXPECT_EQ(EventError(R"({"model":""})"), "model: required");
  EXPECT_EQ(EventError(R"({"model":7})"), "model: expected a string");
  EXPECT_EQ(EventError(R"({"type":"span","model":"m"})"),
            "type: unknown value \"span\" (expected inference, pipeline_stage or deployment)");
  EXPECT_EQ(EventError(R"({"model":"m","latency_ms":-1})"), "latency_ms: expected a number >= 0");
  EXPECT_EQ(EventError(R"({"model":"m","latency_ms":"5"})"), "latency_ms: expected a number >= 0");
  EXPECT_EQ(EventError(R"({"model":"m","latency_ms":5,"latency_s":0.005})"), "latency_ms and latency_s: give one, not both");
  EXPECT_EQ(EventError(R"({"model":"m","queue_s":true})"), "queue_s: expected a number >= 0");
  EXPECT_EQ(EventError(R"({"model":"m","input_tokens":1.5})"), "input_tokens: expected a whole number >= 0");
  EXPECT_EQ(EventError(R"({"model":"m","output_tokens":-2})"), "output_tokens: expected a whole number >= 0");
  EXPECT_EQ(EventError(R"({"model":"m","status":"failed"})"),
            "status: expected \"ok\", \"error\" or an HTTP status code (100 to 599)");
  EXPECT_EQ(EventError(R"({"model":"m","status":600})"),
            "status: expected \"ok\", \"error\" or an HTTP status code (100 to 599)");
  EXPECT_EQ(EventError(R"({"model":"m","status":"ok","error_type":"x"})"),
            "error_type: given with a status that is not an error");
  EXPECT_EQ(EventError(R"({"model":"m","status":201,"error_type":"x"})"),
            "error_type: given with a status that is not an error");
  EXPECT_EQ(EventError(R"({"model":"m","finish_reasons":[1]})"), "finish_reasons: expected an array of strings");
  EXPECT_EQ(EventError(R"({"model":"m","finish_reasons":{}})"), "finish_reasons: expected an array of strings or a string");
  EXPECT_EQ(EventError(R"({"model":"m","features":[1]})"), "features: expected an object of names to numbers or strings");
  EXPECT_EQ(EventError(R"({"model":"m","features":{"a":true}})"), "features.a: expected a number or a string");
  EXPECT_EQ(EventError(R"({"model":"m","prediction":[1]})"),
            "prediction: expected a number, a string or an object of names to numbers or strings");
  EXPECT_EQ(EventError(R"({"model":"m","prediction":{"p":null}})"), "prediction.p: expected a number or a string");
  EXPECT_EQ(EventError(R"({"model":"m","trace_id":"abc"})"), "trace_id: \"abc\" is not 32 hex digits");
  EXPECT_EQ(EventError(R"({"model":"m","span_id":12})"), "span_id: expected a string of hex digits");
  EXPECT_EQ(EventError(R"({"model":"m","timestamp":"yesterday"})"),
            "timestamp: \"yesterday\": not an RFC 3339 time (2026-11-22T12:00:00Z)");
  EXPECT_EQ(EventError(R"({"model":"m","timestamp":1700000000000})"),
            "timestamp: 1700000000000 is after the year 2262; Unix seconds are expected (not milliseconds)");
  EXPECT_EQ(EventError(R"({"model":"m","timestamp":-5})"),
            "timestamp: expected Unix seconds (a number >= 0) or an RFC 3339 time (2026-11-22T12:00:00Z)");
  EXPECT_EQ(EventError(R"({"model":"m","timestamp":"1969-12-31T23:59:59Z"})"),
            "timestamp: \"1969-12-31T23:59:59Z\" is before 1970");
  EXPECT_EQ(EventError(R"({"model":"m","timestamp":[]})"),
            "timestamp: expected Unix seconds (a number >= 0) or an RFC 3339 time (2026-11-22T12:00:00Z)");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","stage":"s"})"), "pipeline: required");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p"})"), "stage: required");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","start_time":20,"end_time":10})"),
            "end_time: before start_time");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","rows_in":"9"})"),
            "rows_in: expected a whole number >= 0");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","fields":["a"]})"),
            "fields: expected an object of field names to type names");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","fields":{"a":1}})"),
            "fields.a: expected a type name (a string)");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","status":500})"),
            "status: expected \"ok\" or \"error\"");
  EXPECT_EQ(EventError(R"({"type":"pipeline_stage","pipeline":"p","stage":"s","status":"ok","error":"x"})"),
            "error: given with status \"ok\"");
  EXPECT_EQ(EventError(R"({"type":"deployment","version":"v"})"), "model: required");
  EXPECT_EQ(EventError(R"({"type":"deployment","model":"m"})"), "version: required");
  EXPECT_EQ(EventError(R"({"type":"deployment","model":"m","version":"v","action":"undeploy"})"),
            "action: expected \"deploy\" or \"rollback\"");
  // Line-level errors.
  EXPECT_EQ(EventError(R"(["model"])"), "expected a JSON object");
  EXPECT_EQ(EventError(R"({"model":"m"} x)"), "invalid JSON at byte 14: The document root must not be followed by other values.");
  EXPECT_EQ(EventError("{\"model\":\"\xff\"}").rfind("invalid JSON at byte ", 0), 0u);
  EXPECT_EQ(EventError(R"({"model":"m","model":"n"})"), "field \"model\" given twice");
  std::string deep = R"({"model":"m","prompt":)" + std::string(40, '[') + std::string(40, ']') + "}";
  EXPECT_EQ(EventError(deep), "arrays and objects nested deeper than 32");
}

TEST(EventsJsonLinesTest, Embedding) {
  DecodedEvents d = DecodeEventsJsonLines(R"({"model":"m","embedding":[0.5,-1,2e3]})", kNow, DecodeLimits());
  ASSERT_EQ(d.inferences.size(), 1u) << Errors(d.report);
  EXPECT_EQ(d.inferences[0].embedding, (std::vector<float>{0.5f, -1.0f, 2000.0f}));
  EXPECT_EQ(EventError(R"({"model":"m","embedding":{}})"), "embedding: expected an array of numbers");
  EXPECT_EQ(EventError(R"({"model":"m","embedding":[1,"2"]})"), "embedding[1]: expected a finite number");
  EXPECT_EQ(EventError(R"({"model":"m","embedding":[1e300]})"), "embedding[0]: expected a finite number");
  DecodeLimits small;
  small.max_embedding_dims = 2;
  d = DecodeEventsJsonLines(R"({"model":"m","embedding":[1,2,3]})", kNow, small);
  ASSERT_EQ(d.report.errors.size(), 1u);
  EXPECT_EQ(d.report.errors[0].message, "embedding: 3 numbers, more than the limit of 2");
}

TEST(EventsJsonLinesTest, ReferenceRows) {
  DecodedEvents d = DecodeReferenceJsonLines(
      "{\"features\":{\"age\":3}}\n{\"model\":\"m\",\"input_tokens\":4}\n{\"model\":\"x\"}\n"
      "{\"type\":\"deployment\"}\n",
      "m", kNow, DecodeLimits());
  ASSERT_EQ(d.inferences.size(), 2u) << Errors(d.report);
  EXPECT_EQ(d.inferences[0].model, "m");
  EXPECT_EQ(d.inferences[0].features[0].number, 3);
  EXPECT_EQ(d.inferences[1].input_tokens, 4);
  EXPECT_EQ(Errors(d.report),
            "3: model: \"x\" is not the reference's model \"m\"\n4: type: expected \"inference\" (a reference row)\n");
}

std::string FeedbackError(const std::string& line) {
  DecodedFeedback d = DecodeFeedbackJsonLines(line, kNow, DecodeLimits());
  if (d.report.errors.empty()) return "OK";
  return d.report.errors[0].message;
}

TEST(FeedbackJsonLinesTest, FieldsAndErrors) {
  DecodedFeedback d = DecodeFeedbackJsonLines(
      "{\"request_id\":\"r-1\",\"timestamp\":1800000001.5,\"model\":\"m\",\"label\":\"cat\",\"rating\":4}\n"
      "{\"request_id\":\"r-2\",\"label\":0.25}\n"
      "{\"request_id\":\"r-3\",\"label\":true,\"correction\":\"a dog\",\"extra\":1}\n",
      kNow, DecodeLimits());
  ASSERT_EQ(d.items.size(), 3u) << Errors(d.report);
  EXPECT_EQ(d.items[0].request_id, "r-1");
  EXPECT_EQ(d.items[0].timestamp_ms, 1'800'000'001'500);
  EXPECT_EQ(d.items[0].model, "m");
  EXPECT_TRUE(d.items[0].has_label);
  EXPECT_FALSE(d.items[0].label.is_number);
  EXPECT_EQ(d.items[0].label.text, "cat");
  EXPECT_EQ(d.items[0].rating, 4);
  EXPECT_EQ(d.items[1].timestamp_ms, kNow);
  EXPECT_TRUE(d.items[1].label.is_number);
  EXPECT_EQ(d.items[1].label.number, 0.25);
  EXPECT_TRUE(std::isnan(d.items[1].rating));
  EXPECT_EQ(d.items[2].label.text, "true");
  EXPECT_EQ(d.items[2].correction, "a dog");
  ASSERT_EQ(d.report.warnings.size(), 1u);
  EXPECT_EQ(d.report.warnings[0].line, 3u);

  EXPECT_EQ(FeedbackError(R"({"label":"x"})"), "request_id: required");
  EXPECT_EQ(FeedbackError(R"({"request_id":"r"})"), "label, rating or correction: required (at least one)");
  EXPECT_EQ(FeedbackError(R"({"request_id":"r","label":[1]})"), "label: expected a number or a string");
  EXPECT_EQ(FeedbackError(R"({"request_id":"r","rating":"5"})"), "rating: expected a number");
  EXPECT_EQ(FeedbackError(R"({"request_id":"r","rating":1,"timestamp":"x"})"),
            "timestamp: \"x\": not an RFC 3339 time (2026-11-22T12:00:00Z)");
}

TEST(EventsJsonLinesTest, GoodLinesAcceptedBadLinesReported) {
  const std::string body =
      "{\"model\":\"a\"}\r\n"
      "\n"
      "   \t\n"
      "{\"model\":\"b\",\"latncy_ms\":5,\"future_field\":{\"x\":1}}\n"
      "not json\n"
      "{\"model\":\"c\",\"input_tokens\":\"5\"}\n"
      "{\"model\":\"d\"}";  // no final newline
  DecodedEvents d = DecodeEventsJsonLines(body, kNow, DecodeLimits());
  EXPECT_EQ(d.report.lines, 5u);
  EXPECT_EQ(d.report.accepted, 3u);
  EXPECT_EQ(d.report.rejected, 2u);
  ASSERT_EQ(d.inferences.size(), 3u);
  EXPECT_EQ(d.inferences[2].model, "d");
  EXPECT_EQ(Errors(d.report),
            "5: invalid JSON at byte 1: Invalid value.\n"
            "6: input_tokens: expected a whole number >= 0\n");
  ASSERT_EQ(d.report.warnings.size(), 2u);
  EXPECT_EQ(d.report.warnings[0].line, 4u);
  EXPECT_EQ(d.report.warnings[0].message, "unknown field \"latncy_ms\" ignored");
  EXPECT_EQ(d.report.warnings[1].message, "unknown field \"future_field\" ignored");
  EXPECT_EQ(d.report.warnings_total, 2u);

  DecodedEvents empty = DecodeEventsJsonLines("\n\n", kNow, DecodeLimits());
  EXPECT_EQ(empty.report.lines, 0u);
  EXPECT_TRUE(empty.report.errors.empty());
}

TEST(EventsJsonLinesTest, Limits) {
  DecodeLimits limits;
  limits.max_line_bytes = 40;
  limits.max_listed_lines = 2;
  limits.max_content_bytes = 3;
  limits.max_attribute_value_bytes = 4;
  limits.max_attributes = 1;
  std::string body = "{\"model\":\"" + std::string(50, 'x') + "\"}\n";  // too long
  body += "{\"model\":\"modelname\",\"prompt\":\"hello\"}\n";
  body += "{\"model\":\"m\",\"features\":{\"a\":1,\"b\":2}}\n";
  body += "1\n2\n3\n";
  body += "{\"model\":\"m\",\"x\":1,\"y\":2,\"z\":3}\n";
  DecodedEvents d = DecodeEventsJsonLines(body, kNow, limits);
  EXPECT_EQ(d.report.rejected, 4u);
  ASSERT_EQ(d.report.errors.size(), 2u);  // only the first two listed
  EXPECT_EQ(d.report.errors[0].line, 1u);
  EXPECT_EQ(d.report.errors[0].message, "line is 62 bytes, more than the limit of 40");
  EXPECT_EQ(d.report.errors[1].line, 4u);
  EXPECT_EQ(d.report.stats.lines_too_long, 1u);
  ASSERT_EQ(d.inferences.size(), 3u);
  EXPECT_EQ(d.inferences[0].model, "mode");
  EXPECT_EQ(d.inferences[0].prompt, "hel");
  EXPECT_EQ(d.inferences[1].features.size(), 1u);
  EXPECT_EQ(d.report.stats.values_truncated, 1u);
  EXPECT_EQ(d.report.stats.content_truncated, 1u);
  EXPECT_EQ(d.report.stats.attributes_dropped, 1u);
  EXPECT_EQ(d.report.warnings.size(), 2u);
  EXPECT_EQ(d.report.warnings_total, 3u);
}

TEST(LogsJsonLinesTest, EveryField) {
  const std::string body =
      R"({"timestamp":"2026-11-22T12:00:00.123456789Z","level":"warning","message":"KV cache 95% full",)"
      R"("trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174","service":"vllm",)"
      R"("attributes":{"gpu":3,"ratio":0.95,"ok":false,"tags":["a","b"],"none":null},"pod":"vllm-0","retry":{"n":1}})"
      "\n"
      R"({"severity":17,"body":{"error":"oom"}})"
      "\n"
      R"({"level":"CRITICAL","message":"down","timestamp":1700000000.25})"
      "\n"
      R"({"severity":"verbose"})";
  DecodedLogLines d = DecodeLogsJsonLines(body, kNow, DecodeLimits());
  ASSERT_TRUE(d.report.errors.empty()) << Errors(d.report);
  EXPECT_TRUE(d.report.warnings.empty());  // other fields are attributes, never unknown
  ASSERT_EQ(d.records.size(), 4u);
  const LogRecord& a = d.records[0];
  EXPECT_EQ(a.time_unix_nano, 1'795'348'800'123'456'789);
  EXPECT_EQ(a.severity_text, "warning");
  EXPECT_EQ(a.severity_number, 13);
  EXPECT_EQ(a.body, "KV cache 95% full");
  EXPECT_EQ(a.trace_id, "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(a.span_id, "eee19b7ec3c1b174");
  EXPECT_EQ(a.service, "vllm");
  ASSERT_EQ(a.attributes.size(), 7u);
  EXPECT_EQ(a.attributes[0].key, "gpu");
  EXPECT_EQ(a.attributes[0].value, "3");
  EXPECT_EQ(a.attributes[1].value, "0.95");
  EXPECT_EQ(a.attributes[2].value, "false");
  EXPECT_EQ(a.attributes[3].value, "[\"a\",\"b\"]");
  EXPECT_EQ(a.attributes[4].value, "");
  EXPECT_EQ(a.attributes[5].key, "pod");
  EXPECT_EQ(a.attributes[5].value, "vllm-0");
  EXPECT_EQ(a.attributes[6].key, "retry");
  EXPECT_EQ(a.attributes[6].value, "{\"n\":1}");
  const LogRecord& b = d.records[1];
  EXPECT_EQ(b.time_unix_nano, kNow * 1'000'000);
  EXPECT_EQ(b.severity_number, 17);
  EXPECT_EQ(b.severity_text, "");
  EXPECT_EQ(b.body, "{\"error\":\"oom\"}");
  EXPECT_EQ(b.service, "unknown_service");
  EXPECT_EQ(d.records[2].severity_number, 21);
  EXPECT_EQ(d.records[2].time_unix_nano, 1'700'000'000'250'000'000);
  EXPECT_EQ(d.records[3].severity_text, "verbose");
  EXPECT_EQ(d.records[3].severity_number, 0);
}

TEST(LogsJsonLinesTest, Errors) {
  const auto error = [](const std::string& line) {
    DecodedLogLines d = DecodeLogsJsonLines(line, kNow, DecodeLimits());
    return d.report.errors.empty() ? std::string("OK") : d.report.errors[0].message;
  };
  EXPECT_EQ(error(R"({"level":"info","severity":"info"})"), "level and severity: give one, not both");
  EXPECT_EQ(error(R"({"message":"a","body":"b"})"), "message and body: give one, not both");
  EXPECT_EQ(error(R"({"level":30})"), "level: expected a level name (\"info\") or an OTLP severity number (1 to 24)");
  EXPECT_EQ(error(R"({"severity":true})"), "severity: expected a level name (\"info\") or an OTLP severity number (1 to 24)");
  EXPECT_EQ(error(R"({"attributes":[1]})"), "attributes: expected an object");
  EXPECT_EQ(error(R"({"trace_id":"xyz"})"), "trace_id: \"xyz\" is not 32 hex digits");
  EXPECT_EQ(error(R"({"service":1})"), "service: expected a string");
  EXPECT_EQ(error(R"({"timestamp":"2026-02-30T00:00:00Z"})"), "timestamp: \"2026-02-30T00:00:00Z\": day 30 out of range");
  EXPECT_EQ(error("{}"), "OK");
}

TEST(LogsJsonLinesTest, SeverityFromText) {
  EXPECT_EQ(SeverityNumberFromText("TRACE"), 1);
  EXPECT_EQ(SeverityNumberFromText("debug"), 5);
  EXPECT_EQ(SeverityNumberFromText("Info"), 9);
  EXPECT_EQ(SeverityNumberFromText("information"), 9);
  EXPECT_EQ(SeverityNumberFromText("notice"), 10);
  EXPECT_EQ(SeverityNumberFromText("warn"), 13);
  EXPECT_EQ(SeverityNumberFromText("WARNING"), 13);
  EXPECT_EQ(SeverityNumberFromText("error"), 17);
  EXPECT_EQ(SeverityNumberFromText("err"), 17);
  EXPECT_EQ(SeverityNumberFromText("fatal"), 21);
  EXPECT_EQ(SeverityNumberFromText("critical"), 21);
  EXPECT_EQ(SeverityNumberFromText("alert"), 22);
  EXPECT_EQ(SeverityNumberFromText("emerg"), 23);
  EXPECT_EQ(SeverityNumberFromText("panic"), 24);
  EXPECT_EQ(SeverityNumberFromText("loud"), 0);
  EXPECT_EQ(SeverityNumberFromText(""), 0);
}

TEST(TimestampTest, Rfc3339) {
  EXPECT_EQ(*ParseRfc3339Nanos("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339Nanos("2026-11-22T12:00:00Z"), 1'795'348'800'000'000'000);
  EXPECT_EQ(*ParseRfc3339Nanos("2026-11-22t12:00:00.5z"), 1'795'348'800'500'000'000);
  EXPECT_EQ(*ParseRfc3339Nanos("2026-11-22T13:30:00.000000001+01:30"), 1'795'348'800'000'000'001);
  EXPECT_EQ(*ParseRfc3339Nanos("2026-11-22T11:00:00.1234567899-01:00"), 1'795'348'800'123'456'789);
  EXPECT_EQ(*ParseRfc3339Nanos("2024-02-29T00:00:00Z"), 1'709'164'800'000'000'000);
  EXPECT_EQ(*ParseRfc3339Nanos("1969-12-31T23:59:59Z"), -1'000'000'000);
  EXPECT_EQ(ParseRfc3339Nanos("2023-02-29T00:00:00Z").status().message(), "day 29 out of range");
  EXPECT_EQ(ParseRfc3339Nanos("2026-13-01T00:00:00Z").status().message(), "month 13 out of range");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22T24:00:00Z").status().message(), "time of day out of range");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22T12:00:00").status().message(), "no time zone (Z or an offset such as +01:00)");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22T12:00:00+0100").status().message(),
            "not an RFC 3339 time zone offset (Z, +01:00)");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22T12:00:00.Z").status().message(), "no digits after the decimal point");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22T12:00:00Zjunk").status().message(), "unexpected text after the time");
  EXPECT_EQ(ParseRfc3339Nanos("2026-11-22 12:00:00Z").status().message(), "not an RFC 3339 time (2026-11-22T12:00:00Z)");
  EXPECT_EQ(ParseRfc3339Nanos("9999-12-31T23:59:59Z").status().message(), "after the year 2262 or before 1677");
  EXPECT_EQ(ParseRfc3339Nanos("").status().message(), "not an RFC 3339 time (2026-11-22T12:00:00Z)");
}

}  // namespace
}  // namespace tyto::events
