// Records for the event store's tests and benchmark: GenAI-shaped spans, log records and
// events with ids made from numbers, so a test can name what it expects.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "events/model.h"

namespace tyto::eventstore::testdata {

inline constexpr int64_t kNanosPerMilli = 1'000'000;

// 32 hex digits; never all zero.
inline std::string TraceId(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64, n + 1, static_cast<uint64_t>(n * 0x9e3779b97f4a7c15ull));
  return buf;
}

// 16 hex digits; never all zero.
inline std::string SpanId(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, n + 1);
  return buf;
}

struct SpanSpec {
  uint64_t trace = 0;
  uint64_t span = 0;
  int64_t parent = -1;  // a span number, or -1 for a root
  std::string service = "chat-api";
  std::string name = "chat llama-3.1-8b";
  std::string model = "llama-3.1-8b";  // gen_ai.request.model; none when empty
  int64_t start_ms = 0;
  int64_t duration_ms = 100;
  events::StatusCode status = events::StatusCode::kUnset;
  std::vector<events::Attribute> extra{};  // more span attributes
  std::string pod = "chat-api-0";          // the resource's k8s.pod.name
};

inline events::Span MakeSpan(const SpanSpec& s) {
  events::Span span;
  span.trace_id = TraceId(s.trace);
  span.span_id = SpanId(s.span);
  if (s.parent >= 0) span.parent_span_id = SpanId(static_cast<uint64_t>(s.parent));
  span.service = s.service;
  span.name = s.name;
  span.kind = s.parent >= 0 ? events::SpanKind::kClient : events::SpanKind::kServer;
  span.start_unix_nano = s.start_ms * kNanosPerMilli;
  span.end_unix_nano = (s.start_ms + s.duration_ms) * kNanosPerMilli;
  span.status = s.status;
  if (s.status == events::StatusCode::kError) span.status_message = "upstream timed out";
  span.scope_name = "opentelemetry.instrumentation.openai";
  span.attributes = {{"gen_ai.operation.name", "chat"},
                     {"gen_ai.provider.name", "openai"},
                     {"gen_ai.usage.input_tokens", std::to_string(100 + s.span % 900)},
                     {"gen_ai.usage.output_tokens", std::to_string(20 + s.span % 300)},
                     {"gen_ai.response.finish_reasons", "[\"stop\"]"},
                     {"server.address", "10.0.0.7"}};
  if (!s.model.empty()) {
    span.attributes.push_back({"gen_ai.request.model", s.model});
    span.attributes.push_back({"gen_ai.response.model", s.model + "-2024-07-18"});
  }
  for (const events::Attribute& a : s.extra) span.attributes.push_back(a);
  span.resource = {{"service.name", s.service},
                   {"k8s.pod.name", s.pod},
                   {"k8s.namespace.name", "inference"},
                   {"host.name", "gpu-node-3"},
                   {"telemetry.sdk.language", "python"}};
  return span;
}

struct LogSpec {
  int64_t time_ms = 0;
  std::string body = "request served";
  int32_t severity = 9;  // INFO
  std::string service = "chat-api";
  std::string trace_id{};  // hex, or empty
  std::vector<events::Attribute> attributes{};
};

inline events::LogRecord MakeLog(const LogSpec& s) {
  events::LogRecord r;
  r.time_unix_nano = s.time_ms * kNanosPerMilli;
  r.severity_number = s.severity;
  r.severity_text = s.severity >= 17 ? "ERROR" : s.severity >= 13 ? "WARN" : "INFO";
  r.body = s.body;
  r.trace_id = s.trace_id;
  if (!s.trace_id.empty()) r.span_id = SpanId(7);
  r.service = s.service;
  r.attributes = s.attributes;
  r.resource = {{"service.name", s.service}, {"k8s.pod.name", s.service + "-0"}};
  return r;
}

// A chat request's trace: a gateway root, an LLM call (with a prompt event and first token) and a
// vector search, both children of the root.
inline std::vector<events::Span> ThreeSpanTrace(uint64_t trace, int64_t start_ms) {
  events::Span root = MakeSpan({.trace = trace, .span = trace * 10, .service = "gateway", .name = "POST /chat",
                                .model = "", .start_ms = start_ms, .duration_ms = 900});
  events::Span llm = MakeSpan({.trace = trace, .span = trace * 10 + 1, .parent = static_cast<int64_t>(trace * 10),
                               .start_ms = start_ms + 10, .duration_ms = 700});
  llm.events = {{(start_ms + 20) * kNanosPerMilli, "gen_ai.content.prompt", {{"gen_ai.prompt", "[redacted]"}}},
                {(start_ms + 500) * kNanosPerMilli, "first_token", {}}};
  events::Span tool = MakeSpan({.trace = trace, .span = trace * 10 + 2, .parent = static_cast<int64_t>(trace * 10),
                                .service = "retriever", .name = "vector search", .model = "",
                                .start_ms = start_ms + 5, .duration_ms = 3});
  return {root, llm, tool};
}

}  // namespace tyto::eventstore::testdata
