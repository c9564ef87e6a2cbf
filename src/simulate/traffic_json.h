// The simulated traffic's wire formats: OTLP/HTTP JSON (ExportTraceServiceRequest and
// ExportLogsServiceRequest, in OTLP's JSON mapping of opentelemetry-proto) and the JSON lines of
// Tyto's events API (docs/events-api.md: inference, pipeline_stage and deployment lines, every
// field one the API reads, times in RFC 3339 with nanoseconds, durations in ms, `status` an HTTP
// code) and of its feedback API (POST /api/v1/feedback: ground truth for earlier requests).
//
// OTLP JSON as the specification maps it: lowerCamelCase field names; trace and span ids as
// lowercase hex (not base64); 64-bit integers (times in ns, intValue) as decimal strings; enums
// (span kind, status code, severity number) as integers; AnyValue as {"stringValue": ...},
// {"intValue": "..."}, {"doubleValue": ...}, {"boolValue": ...}, {"arrayValue": {"values": [...]}}.
// Records are grouped by resource (one ResourceSpans or ResourceLogs per resource that has any,
// in resource order) under one scope, "tyto.simulate".
#pragma once

#include <span>
#include <string>
#include <vector>

#include "simulate/traffic.h"

namespace tyto::simulate {

// The instrumentation scope of every span and log record.
inline constexpr const char* kScopeName = "tyto.simulate";

// ExportTraceServiceRequest. `resources` are what SpanRecord::resource indexes.
std::string TracesJson(const std::vector<Resource>& resources, std::span<const SpanRecord> spans);

// ExportLogsServiceRequest.
std::string LogsJson(const std::vector<Resource>& resources, std::span<const LogRecordOut> logs);

// One JSON object per line, each ending in '\n': the batch's deployments, then its pipeline
// stages, then its inference events. Empty when the batch has none.
std::string EventsJsonLines(const TrafficBatch& batch);

// The body of POST /api/v1/feedback: one JSON object per line, each ending in '\n':
// {"request_id", "timestamp" (RFC 3339 with nanoseconds), "model", "label", "rating",
// "correction"}, the last three only when set. Empty for no feedback.
std::string FeedbackJsonLines(std::span<const FeedbackRecord> feedback);

}  // namespace tyto::simulate
