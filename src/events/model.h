// What Tyto keeps of inference telemetry between decoding and storing: spans (OTLP traces), log
// records (OTLP logs and JSON-lines logs), inference events (the JSON-lines events API, or derived
// from GenAI spans), data-pipeline stage events and model deployment events.
//
// Every span, log record and inference event belongs to an `org`: the tenant of Tyto that sent it
// (the owning team, the request's auth principal tenant; src/auth/), which alone may read or erase
// it. Empty means "default" (auth::kDefaultTenant). It is not InferenceEvent::tenant, which is a
// dimension of the data: the model-serving customer the request was served for.
//
// Decoders (src/events/*_decode.h) fill these; the redactor (src/redact/) scrubs their free text;
// the deriver (src/inference/) turns them into metrics; the event store (src/eventstore/) keeps the
// sampled ones on disk. Plain structs, no behaviour: every subsystem of issue 7 meets here.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace tyto::events {

// An attribute with its value written as a string, as Prometheus's OTLP receiver writes one
// (strings as they are, booleans "true"/"false", integers in decimal, doubles as JavaScript prints
// them, bytes in base64, arrays and maps as JSON).
struct Attribute {
  std::string key;
  std::string value;
};

// Returns the value of `key`, or nullptr.
inline const std::string* FindAttribute(const std::vector<Attribute>& attrs, std::string_view key) {
  for (const Attribute& a : attrs) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

// OTLP's Span.SpanKind and Status.StatusCode, numbered as in opentelemetry-proto.
enum class SpanKind : uint8_t { kUnspecified = 0, kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  int64_t time_unix_nano = 0;
  std::string name;
  std::vector<Attribute> attributes;
};

struct Span {
  std::string org;             // the Tyto tenant that owns it (see the file comment); empty: "default"
  std::string trace_id;        // 32 lowercase hex digits
  std::string span_id;         // 16 lowercase hex digits
  std::string parent_span_id;  // empty for a root span
  std::string service;         // the resource's service.name ("unknown_service" when absent)
  std::string name;
  SpanKind kind = SpanKind::kUnspecified;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
  std::string scope_name;
  std::vector<Attribute> attributes;  // the span's own
  std::vector<Attribute> resource;    // its resource's
  std::vector<SpanEvent> events;
};

// OTLP's SeverityNumber ranges: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR,
// 21-24 FATAL; 0 unspecified.
struct LogRecord {
  std::string org;                      // the Tyto tenant that owns it; empty: "default"
  int64_t time_unix_nano = 0;           // when it happened; observed time when that is absent
  int32_t severity_number = 0;
  std::string severity_text;            // as sent ("INFO", "warning", ...)
  std::string body;                     // a string body as it is; any other AnyValue as an attribute
                                        // value is written (arrays and maps as JSON)
  std::string trace_id;                 // hex, empty when not part of a trace
  std::string span_id;
  std::string service;
  std::vector<Attribute> attributes;
  std::vector<Attribute> resource;
};

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// A named input feature or prediction: a number, or a category (text) when `is_number` is false.
struct Field {
  std::string name;
  bool is_number = true;
  double number = kUnknown;
  std::string text;
};

// One inference request. Durations in seconds, NaN when not known; token counts -1 when not known.
struct InferenceEvent {
  int64_t timestamp_ms = 0;  // when the request ended
  std::string request_id;
  std::string model;
  std::string model_version;
  std::string endpoint;
  std::string tenant;       // the model-serving customer the request was for (a dimension; not `org`)
  std::string org;          // the Tyto tenant that owns the record (see the file comment); empty: "default"
  std::string user;         // the end user it was served for (enduser.id), when sent; what erasure by user matches
  std::string service;      // the sending service (a span's service.name)
  std::string provider;     // gen_ai.provider.name (or the deprecated gen_ai.system)
  std::string operation;    // gen_ai.operation.name ("chat", "text_completion", "embeddings", ...)
  std::string node;         // the host or pod that served it, to attribute GPU cost
  bool error = false;
  std::string error_type;   // error.type, or the HTTP status code ("503"), or "_OTHER"; empty when !error
  double latency_s = kUnknown;
  double queue_s = kUnknown;
  double ttft_s = kUnknown;  // time to first token (gen_ai.response.time_to_first_chunk)
  int64_t input_tokens = -1;
  int64_t output_tokens = -1;
  std::vector<std::string> finish_reasons;
  std::string conversation_id;
  std::string prompt;    // optional content; redacted before it is stored
  std::string response;
  std::vector<Field> features;  // optional, for quality and drift (issue 8)
  std::vector<Field> prediction;  // a single unnamed prediction has an empty name
  std::vector<float> embedding;   // optional, for embedding drift (issue 8); not stored
  std::string trace_id;
  std::string span_id;
};

// Ground truth for one earlier request (POST /api/v1/feedback), joined to it by request id: its true
// label, a user's rating, or a correction; hours or days after the request.
struct Feedback {
  int64_t timestamp_ms = 0;  // when the feedback was given
  std::string request_id;
  std::string model;         // optional: narrows the join when request ids are per model
  bool has_label = false;
  Field label;               // the true class (text) or value (number); booleans as "true"/"false"
  double rating = kUnknown;  // a user's rating, as sent (1 to 5 by convention)
  std::string correction;    // a corrected answer (free text; redacted before it is stored)
};

// One run of one stage of a data pipeline.
struct PipelineStageEvent {
  std::string pipeline;
  std::string stage;
  std::string run_id;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t rows_in = -1;
  int64_t rows_out = -1;
  int64_t rows_rejected = -1;
  std::string schema_fingerprint;  // as the sender computed it, or empty
  struct FieldType {
    std::string name;
    std::string type;  // free text ("int64", "string", ...), compared as written
  };
  std::vector<FieldType> fields;   // the stage's output fields, when sent
  bool failed = false;
  std::string error;
};

// A model version going live, or being rolled back.
struct DeploymentEvent {
  int64_t timestamp_ms = 0;
  std::string model;
  std::string version;
  std::string previous_version;
  std::string action;  // "deploy" or "rollback"
  std::string who;
  std::string note;
};

}  // namespace tyto::events
