// The traffic's encodings, parsed back with RapidJSON and checked against OTLP's JSON mapping
// (opentelemetry-proto's trace.proto, logs.proto, common.proto, resource.proto: field names,
// which fields are strings, numbers or objects) and against the JSON lines of the events API.
#include "simulate/traffic_json.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <string_view>
#include <utility>

#include "events/genai.h"
#include "events/jsonl_decode.h"
#include "events/otlp_decode.h"
#include "simulate/fleet.h"
#include "testing/fake_clock.h"

namespace tyto::simulate {
namespace {

using rapidjson::Value;

// Fails the test, naming `where`, when `v` has a member not in `allowed`.
void OnlyFields(const Value& v, const std::set<std::string_view>& allowed, const std::string& where) {
  ASSERT_TRUE(v.IsObject()) << where;
  for (const auto& m : v.GetObject()) {
    EXPECT_TRUE(allowed.count(m.name.GetString())) << where << ": unexpected field " << m.name.GetString();
  }
}

bool IsDecimalString(const Value& v) { return v.IsString() && std::regex_match(v.GetString(), std::regex("[0-9]+")); }

bool IsHex(const Value& v, size_t digits) {
  return v.IsString() && v.GetStringLength() == digits && std::regex_match(v.GetString(), std::regex("[0-9a-f]+")) &&
         std::string(v.GetString()) != std::string(digits, '0');
}

// An AnyValue: exactly one of its value fields, of the right JSON type.
void CheckAnyValue(const Value& v, const std::string& where) {
  OnlyFields(v, {"stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"},
             where);
  ASSERT_EQ(v.MemberCount(), 1u) << where;
  const auto& m = *v.MemberBegin();
  const std::string_view kind = m.name.GetString();
  if (kind == "stringValue") {
    EXPECT_TRUE(m.value.IsString()) << where;
  }
  if (kind == "boolValue") {
    EXPECT_TRUE(m.value.IsBool()) << where;
  }
  if (kind == "intValue") {
    EXPECT_TRUE(IsDecimalString(m.value)) << where << ": intValue is a decimal string";
  }
  if (kind == "doubleValue") {
    EXPECT_TRUE(m.value.IsNumber()) << where;
  }
  if (kind == "arrayValue") {
    OnlyFields(m.value, {"values"}, where);
    ASSERT_TRUE(m.value["values"].IsArray()) << where;
    for (const Value& item : m.value["values"].GetArray()) CheckAnyValue(item, where + "[]");
  }
}

// KeyValue list; returns key -> value.
std::map<std::string, const Value*> CheckAttributes(const Value& parent, const std::string& where) {
  std::map<std::string, const Value*> out;
  if (!parent.HasMember("attributes")) return out;
  const Value& attrs = parent["attributes"];
  EXPECT_TRUE(attrs.IsArray()) << where;
  if (!attrs.IsArray()) return out;
  for (const Value& kv : attrs.GetArray()) {
    OnlyFields(kv, {"key", "value"}, where);
    EXPECT_TRUE(kv["key"].IsString()) << where;
    CheckAnyValue(kv["value"], where + "." + kv["key"].GetString());
    EXPECT_TRUE(out.emplace(kv["key"].GetString(), &kv["value"]).second) << where << ": key twice";
  }
  return out;
}

std::string StringOf(const Value* any) {
  return any != nullptr && any->HasMember("stringValue") ? (*any)["stringValue"].GetString() : "";
}

// Resource and scope of one ResourceSpans / ResourceLogs; returns the service name.
std::string CheckResourceAndScope(const Value& rs, const char* scope_list, const char* records,
                                  const std::string& where) {
  OnlyFields(rs, {"resource", scope_list, "schemaUrl"}, where);
  OnlyFields(rs["resource"], {"attributes", "droppedAttributesCount"}, where + ".resource");
  auto attrs = CheckAttributes(rs["resource"], where + ".resource");
  EXPECT_TRUE(attrs.count("service.name")) << where;
  EXPECT_TRUE(attrs.count("host.name")) << where;
  EXPECT_TRUE(attrs.count("tyto.simulated") && (*attrs["tyto.simulated"])["boolValue"].GetBool()) << where;
  const Value& scopes = rs[scope_list];
  EXPECT_TRUE(scopes.IsArray() && scopes.Size() == 1) << where;
  const Value& scope = scopes[0];
  OnlyFields(scope, {"scope", records, "schemaUrl"}, where);
  OnlyFields(scope["scope"], {"name", "version", "attributes", "droppedAttributesCount"}, where + ".scope");
  EXPECT_STREQ(scope["scope"]["name"].GetString(), kScopeName);
  EXPECT_TRUE(scope["scope"]["version"].IsString());
  EXPECT_TRUE(scope[records].IsArray() && scope[records].Size() > 0) << where;
  return StringOf(attrs["service.name"]) + " on " + StringOf(attrs["host.name"]);
}

class TrafficJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FleetOptions o;
    o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
    auto f = Fleet::Create(o, &clock_);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fleet_ = std::move(f).value();
    generator_ = fleet_->NewTrafficGenerator({});
    for (int64_t t = 1; t <= 100; ++t) generator_->Generate(t, &batch_);
    ASSERT_GT(batch_.spans.size(), 1000u);
  }

  testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<TrafficGenerator> generator_;
  TrafficBatch batch_;
};

TEST_F(TrafficJsonTest, TracesAreAnExportTraceServiceRequest) {
  const std::string json = TracesJson(generator_->resources(), batch_.spans);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json.substr(0, 500);
  OnlyFields(doc, {"resourceSpans"}, "request");
  ASSERT_TRUE(doc["resourceSpans"].IsArray());
  size_t spans = 0;
  std::set<std::string> services;
  for (const Value& rs : doc["resourceSpans"].GetArray()) {
    const std::string where_from = CheckResourceAndScope(rs, "scopeSpans", "spans", "resourceSpans[]");
    EXPECT_TRUE(services.insert(where_from).second) << "one ResourceSpans per resource";
    const std::string service = where_from.substr(0, where_from.find(" on "));
    for (const Value& s : rs["scopeSpans"][0]["spans"].GetArray()) {
      ++spans;
      const std::string where = service + " span";
      OnlyFields(s,
                 {"traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind", "startTimeUnixNano",
                  "endTimeUnixNano", "attributes", "droppedAttributesCount", "events", "droppedEventsCount", "links",
                  "droppedLinksCount", "status"},
                 where);
      EXPECT_TRUE(IsHex(s["traceId"], 32)) << where;
      EXPECT_TRUE(IsHex(s["spanId"], 16)) << where;
      if (s.HasMember("parentSpanId")) {
        EXPECT_TRUE(IsHex(s["parentSpanId"], 16)) << where;
      }
      EXPECT_EQ(s.HasMember("parentSpanId"), service != "gateway") << where;
      EXPECT_TRUE(s["name"].IsString() && s["name"].GetStringLength() > 0) << where;
      EXPECT_TRUE(s["kind"].IsInt() && s["kind"].GetInt() == 2) << where << ": SPAN_KIND_SERVER as an integer";
      ASSERT_TRUE(IsDecimalString(s["startTimeUnixNano"])) << where;
      ASSERT_TRUE(IsDecimalString(s["endTimeUnixNano"])) << where;
      EXPECT_LE(std::stoll(s["startTimeUnixNano"].GetString()), std::stoll(s["endTimeUnixNano"].GetString()));
      auto attrs = CheckAttributes(s, where);
      if (service == "gateway") {
        EXPECT_TRUE(attrs.count("http.response.status_code") &&
                    attrs["http.response.status_code"]->HasMember("intValue"));
      } else {
        for (const char* key :
             {"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
              "gen_ai.conversation.id", "tyto.model.version", "tyto.endpoint", "tyto.tenant"}) {
          EXPECT_TRUE(attrs.count(key) && (*attrs[key]).HasMember("stringValue")) << where << ": " << key;
        }
        for (const char* key : {"gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"}) {
          EXPECT_TRUE(attrs.count(key) && (*attrs[key]).HasMember("intValue")) << where << ": " << key;
        }
        EXPECT_TRUE(attrs.count("tyto.queue_time") && (*attrs["tyto.queue_time"]).HasMember("doubleValue"));
        if (attrs.count("gen_ai.response.finish_reasons")) {
          EXPECT_TRUE((*attrs["gen_ai.response.finish_reasons"]).HasMember("arrayValue"));
        }
      }
      if (s.HasMember("events")) {
        for (const Value& e : s["events"].GetArray()) {
          OnlyFields(e, {"timeUnixNano", "name", "attributes", "droppedAttributesCount"}, where + " event");
          EXPECT_TRUE(IsDecimalString(e["timeUnixNano"]));
          CheckAttributes(e, where + " event");
        }
      }
      OnlyFields(s["status"], {"code", "message"}, where + ".status");
      if (s["status"].HasMember("code")) {
        EXPECT_TRUE(s["status"]["code"].IsInt() && s["status"]["code"].GetInt() == 2) << where;
        EXPECT_TRUE(attrs.count("error.type")) << where;
      }
    }
  }
  EXPECT_EQ(spans, batch_.spans.size());
  EXPECT_TRUE(services.count("gateway on gateway-0"));
  EXPECT_TRUE(services.count("gateway on gateway-1"));
  EXPECT_TRUE(services.count("vllm-gpu-node-000-0 on gpu-node-000"));
  EXPECT_TRUE(services.count("vllm-gpu-node-000-1 on gpu-node-000"));
  EXPECT_EQ(services.size(), 4u) << "node 3 reports events, not spans";
}

TEST_F(TrafficJsonTest, LogsAreAnExportLogsServiceRequest) {
  const std::string json = LogsJson(generator_->resources(), batch_.logs);
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError());
  OnlyFields(doc, {"resourceLogs"}, "request");
  size_t records = 0;
  std::set<std::string> severities;
  for (const Value& rl : doc["resourceLogs"].GetArray()) {
    const std::string where_from = CheckResourceAndScope(rl, "scopeLogs", "logRecords", "resourceLogs[]");
    const std::string service = where_from.substr(0, where_from.find(" on "));
    for (const Value& l : rl["scopeLogs"][0]["logRecords"].GetArray()) {
      ++records;
      const std::string where = service + " log";
      OnlyFields(l,
                 {"timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText", "body", "attributes",
                  "droppedAttributesCount", "flags", "traceId", "spanId", "eventName"},
                 where);
      EXPECT_TRUE(IsDecimalString(l["timeUnixNano"])) << where;
      EXPECT_TRUE(IsDecimalString(l["observedTimeUnixNano"])) << where;
      ASSERT_TRUE(l["severityNumber"].IsInt()) << where;
      const int sev = l["severityNumber"].GetInt();
      EXPECT_TRUE(sev == 9 || sev == 13 || sev == 17) << sev;
      severities.insert(l["severityText"].GetString());
      CheckAnyValue(l["body"], where + ".body");
      EXPECT_TRUE(l["body"].HasMember("stringValue"));
      CheckAttributes(l, where);
      if (l.HasMember("traceId")) {
        EXPECT_TRUE(IsHex(l["traceId"], 32)) << where;
      }
      if (l.HasMember("spanId")) {
        EXPECT_TRUE(IsHex(l["spanId"], 16)) << where;
      }
      if (service != "gateway") {
        // A model server's request log carries its request, tokens and latency.
        auto attrs = CheckAttributes(l, where);
        if (l.HasMember("traceId")) {
          for (const char* key : {"gen_ai.response.id", "tyto.model.version", "gen_ai.usage.input_tokens",
                                  "gen_ai.usage.output_tokens", "tyto.latency"}) {
            EXPECT_TRUE(attrs.count(key)) << where << ": " << key;
          }
        }
      }
    }
  }
  EXPECT_EQ(records, batch_.logs.size());
  EXPECT_TRUE(severities.count("INFO"));
}

TEST_F(TrafficJsonTest, EventsAreJsonLines) {
  const std::string lines = EventsJsonLines(batch_);
  ASSERT_FALSE(lines.empty());
  ASSERT_EQ(lines.back(), '\n');
  std::map<std::string, int> types;
  size_t start = 0;
  while (start < lines.size()) {
    const size_t end = lines.find('\n', start);
    const std::string line = lines.substr(start, end - start);
    start = end + 1;
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    ASSERT_FALSE(doc.HasParseError()) << line;
    ASSERT_TRUE(doc.IsObject());
    ASSERT_TRUE(doc["type"].IsString()) << line;
    const std::string type = doc["type"].GetString();
    ++types[type];
    if (type == "inference") {
      for (const char* key : {"request_id", "model", "model_version", "endpoint", "tenant", "service", "operation",
                              "conversation_id", "trace_id", "span_id"}) {
        EXPECT_TRUE(doc.HasMember(key) && doc[key].IsString()) << key << " in " << line;
      }
      EXPECT_TRUE(doc.HasMember("latency_ms") && doc["latency_ms"].IsNumber()) << line;
      EXPECT_TRUE(
          std::regex_match(doc["timestamp"].GetString(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z)")))
          << line;
      if (doc.HasMember("embedding")) {
        // One vector of unit length per request, of the configured dimensions.
        ASSERT_TRUE(doc["embedding"].IsArray()) << line;
        EXPECT_EQ(doc["embedding"].Size(), 16u) << line;
        double norm = 0;
        for (const Value& x : std::as_const(doc)["embedding"].GetArray()) {
          ASSERT_TRUE(x.IsNumber()) << line;
          norm += x.GetDouble() * x.GetDouble();
        }
        EXPECT_NEAR(norm, 1, 1e-3) << line;
        ++types["embedding"];
      }
      const std::string model = doc["model"].GetString();
      if (model != "meta-llama/Llama-3.1-70B-Instruct") {
        // A classifier the gateway calls: features, a prediction {label, score}, no tokens.
        ++types[model];
        EXPECT_TRUE(model == "intent-router" || model == "escalation-classifier") << line;
        EXPECT_EQ(doc["status"].GetInt(), 200) << line;
        for (const char* key : {"input_tokens", "output_tokens", "queue_ms", "ttft_ms", "node", "prompt"}) {
          EXPECT_FALSE(doc.HasMember(key)) << key << " in " << line;
        }
        ASSERT_TRUE(doc.HasMember("features") && doc["features"].IsObject()) << line;
        ASSERT_TRUE(doc.HasMember("prediction") && doc["prediction"].IsObject()) << line;
        const Value& p = doc["prediction"];
        EXPECT_EQ(p.MemberCount(), 2u) << line;
        ASSERT_TRUE(p.HasMember("label") && p["label"].IsString()) << line;
        ASSERT_TRUE(p.HasMember("score") && p["score"].IsNumber()) << line;
        EXPECT_GE(p["score"].GetDouble(), model == "intent-router" ? 0.4 : 0.5) << line;
        EXPECT_LE(p["score"].GetDouble(), 1) << line;
        if (model == "escalation-classifier") {
          EXPECT_TRUE(std::string(p["label"].GetString()) == "true" || std::string(p["label"].GetString()) == "false");
          EXPECT_TRUE(doc["features"].HasMember("region")) << line;
        }
        for (const auto& m : std::as_const(doc)["features"].GetObject()) {
          EXPECT_TRUE(m.value.IsNumber() || m.value.IsString()) << line;
        }
        continue;
      }
      for (const char* key : {"provider", "node"}) EXPECT_TRUE(doc.HasMember(key) && doc[key].IsString()) << key;
      EXPECT_TRUE(doc.HasMember("queue_ms") && doc["queue_ms"].IsNumber()) << line;
      for (const char* key : {"input_tokens", "output_tokens"}) {
        EXPECT_TRUE(doc.HasMember(key) && doc[key].IsUint64()) << key << " in " << line;
      }
      EXPECT_TRUE(IsHex(doc["trace_id"], 32));
      EXPECT_TRUE(IsHex(doc["span_id"], 16));
      ASSERT_TRUE(doc["status"].IsInt()) << line;
      const int status = doc["status"].GetInt();
      EXPECT_TRUE(status == 200 || status == 400 || status == 500 || status == 503) << line;
      EXPECT_EQ(doc.HasMember("error_type"), status >= 400) << line;
      EXPECT_EQ(doc.HasMember("finish_reasons"), status == 200) << line;
      if (status == 200) {
        EXPECT_TRUE(doc.HasMember("ttft_ms")) << line;
      } else if (status == 400 || status == 503) {
        EXPECT_FALSE(doc.HasMember("ttft_ms")) << line;
      }
      // A sampled prompt comes with its response when the request succeeded, even an empty one.
      EXPECT_EQ(doc.HasMember("response"), doc.HasMember("prompt") && status == 200) << line;
      if (doc.HasMember("response")) {
        EXPECT_TRUE(doc["response"].IsString());
      }
      if (doc.HasMember("features")) {
        ASSERT_TRUE(doc["features"].IsObject());
        for (const auto& m : std::as_const(doc)["features"].GetObject()) EXPECT_TRUE(m.value.IsNumber() || m.value.IsString());
        EXPECT_TRUE(doc["features"].HasMember("prompt_length")) << line;
      }
      EXPECT_FALSE(doc.HasMember("prediction")) << "the LLM's own events predict no class: " << line;
    } else if (type == "deployment") {
      for (const char* key : {"model", "version", "previous_version", "action"}) {
        EXPECT_TRUE(doc.HasMember(key) && doc[key].IsString()) << key;
      }
    } else {
      ASSERT_EQ(type, "pipeline_stage");
      for (const char* key : {"pipeline", "stage", "run_id", "status"}) EXPECT_TRUE(doc[key].IsString()) << key;
      for (const char* key : {"rows_in", "rows_out", "rows_rejected"}) EXPECT_TRUE(doc[key].IsInt64()) << key;
      for (const char* key : {"start_time", "end_time"}) EXPECT_TRUE(doc[key].IsString()) << key;
      ASSERT_TRUE(doc["fields"].IsObject());
      for (const auto& m : std::as_const(doc)["fields"].GetObject()) EXPECT_TRUE(m.value.IsString());
    }
  }
  EXPECT_EQ(types["deployment"], 1);
  EXPECT_EQ(types["pipeline_stage"], 4);
  EXPECT_GT(types["intent-router"], 200);
  EXPECT_GT(types["escalation-classifier"], 200);
  EXPECT_GT(types["embedding"], 200);
  EXPECT_EQ(static_cast<size_t>(types["inference"]), batch_.inferences.size());
  EXPECT_EQ(EventsJsonLines(TrafficBatch{}), "");
}

// Tyto's own decoders (src/events) read all of it: no span, record or line refused, no unknown
// field, and the GenAI spans become inference events with the dimensions the traffic meant.
TEST_F(TrafficJsonTest, TytosDecodersReadEverythingSent) {
  const events::DecodeLimits limits;
  events::DecodedSpans spans;
  ASSERT_TRUE(events::DecodeTracesJson(TracesJson(generator_->resources(), batch_.spans), limits, &spans).ok());
  EXPECT_EQ(spans.rejected, 0) << spans.first_rejection;
  ASSERT_EQ(spans.spans.size(), batch_.spans.size());
  // Spans come grouped by resource: compare the number per service.
  std::map<std::string, int> sent_per_service, got_per_service;
  for (const SpanRecord& s : batch_.spans) ++sent_per_service[generator_->resources()[s.resource].service];
  size_t model_spans = 0;
  for (const events::Span& got : spans.spans) {
    ++got_per_service[got.service];
    model_spans += got.service != "gateway";
  }
  EXPECT_EQ(got_per_service, sent_per_service);
  const std::vector<events::InferenceEvent> inferences = events::InferencesFromSpans(spans.spans);
  ASSERT_EQ(inferences.size(), model_spans) << "every model-server span, and no gateway span, is an inference";
  size_t with_prompt = 0;
  for (const events::InferenceEvent& e : inferences) {
    EXPECT_EQ(e.model, "meta-llama/Llama-3.1-70B-Instruct");
    EXPECT_EQ(e.model_version, kModelVersion);
    EXPECT_EQ(e.provider, "vllm");
    EXPECT_EQ(e.node, "gpu-node-000");
    EXPECT_TRUE(e.endpoint == "/v1/chat/completions" || e.endpoint == "/v1/completions" || e.endpoint == "/v1/extract")
        << e.endpoint;
    EXPECT_NE(e.tenant, "");
    EXPECT_GE(e.queue_s, 0);
    EXPECT_GE(e.latency_s, e.queue_s);
    EXPECT_GE(e.input_tokens, 1);
    if (e.error) {
      EXPECT_NE(e.error_type, "");
    } else {
      EXPECT_GE(e.ttft_s, e.queue_s);
      EXPECT_EQ(e.finish_reasons.size(), 1u);
    }
    with_prompt += !e.prompt.empty();
  }
  EXPECT_GT(with_prompt, 0u);

  events::DecodedLogs logs;
  ASSERT_TRUE(events::DecodeLogsJson(LogsJson(generator_->resources(), batch_.logs), limits, &logs).ok());
  EXPECT_EQ(logs.rejected, 0) << logs.first_rejection;
  EXPECT_EQ(logs.records.size(), batch_.logs.size());

  const events::DecodedEvents decoded = events::DecodeEventsJsonLines(EventsJsonLines(batch_), 0, limits);
  EXPECT_EQ(decoded.report.rejected, 0u) << (decoded.report.errors.empty() ? "" : decoded.report.errors[0].message);
  EXPECT_EQ(decoded.report.warnings_total, 0u)
      << (decoded.report.warnings.empty() ? "" : decoded.report.warnings[0].message);
  ASSERT_EQ(decoded.inferences.size(), batch_.inferences.size());
  ASSERT_EQ(decoded.deployments.size(), 1u);
  EXPECT_EQ(decoded.deployments[0].version, kModelVersion);
  EXPECT_EQ(decoded.deployments[0].timestamp_ms, batch_.deployments[0].time_unix_nano / 1'000'000);
  ASSERT_EQ(decoded.pipeline_stages.size(), 4u);
  EXPECT_EQ(decoded.pipeline_stages[2].fields.size(), 8u);
  EXPECT_EQ(decoded.pipeline_stages[3].end_ms, batch_.pipeline_stages[3].end_unix_nano / 1'000'000);
  EXPECT_EQ(decoded.pipeline_stages[1].rows_rejected, batch_.pipeline_stages[1].rows_rejected);
  size_t with_features = 0, predictions = 0, embeddings = 0;
  for (size_t i = 0; i < decoded.inferences.size(); ++i) {
    const events::InferenceEvent& got = decoded.inferences[i];
    const InferenceRecord& sent = batch_.inferences[i];
    EXPECT_EQ(got.request_id, sent.request_id);
    EXPECT_EQ(got.model, sent.model);
    EXPECT_EQ(got.response, sent.response);
    ASSERT_EQ(got.features.size(), sent.features.size());
    for (size_t j = 0; j < got.features.size(); ++j) {
      EXPECT_EQ(got.features[j].name, sent.features[j].name);
      EXPECT_EQ(got.features[j].is_number, sent.features[j].is_number);
      if (sent.features[j].is_number) {
        EXPECT_EQ(got.features[j].number, sent.features[j].number);
      }
      EXPECT_EQ(got.features[j].text, sent.features[j].text);
    }
    ASSERT_EQ(got.prediction.size(), sent.prediction.size());
    predictions += !got.prediction.empty();
    ASSERT_EQ(got.embedding.size(), sent.embedding.size());
    for (size_t j = 0; j < got.embedding.size(); ++j) EXPECT_NEAR(got.embedding[j], sent.embedding[j], 1e-6);
    embeddings += !got.embedding.empty();
    if (sent.model != "meta-llama/Llama-3.1-70B-Instruct") {
      ASSERT_EQ(got.prediction.size(), 2u);
      EXPECT_EQ(got.prediction[0].name, "label");
      EXPECT_EQ(got.prediction[0].text, sent.prediction[0].text);
      EXPECT_EQ(got.prediction[1].name, "score");
      EXPECT_EQ(got.prediction[1].number, sent.prediction[1].number);
      EXPECT_EQ(got.input_tokens, -1);
      EXPECT_TRUE(std::isnan(got.queue_s));
      continue;
    }
    EXPECT_EQ(got.node, "gpu-node-003");
    EXPECT_EQ(got.service, sent.service);
    EXPECT_EQ(got.error, !sent.ok);
    EXPECT_EQ(got.trace_id, sent.trace_id);
    EXPECT_EQ(got.input_tokens, sent.input_tokens);
    EXPECT_NEAR(got.latency_s * 1e3, sent.latency_ms, 1e-6);
    EXPECT_EQ(got.timestamp_ms, sent.end_unix_nano / 1'000'000);
    if (sent.ttft_ms >= 0) {
      EXPECT_NEAR(got.ttft_s * 1e3, sent.ttft_ms, 1e-6);
    } else {
      EXPECT_TRUE(std::isnan(got.ttft_s)) << "no first token: unknown";
    }
    with_features += !got.features.empty();
  }
  EXPECT_GT(with_features, 0u);
  EXPECT_GT(predictions, 400u);
  EXPECT_GT(embeddings, 400u);
}

}  // namespace
}  // namespace tyto::simulate
