// OTLP/HTTP traces and logs: ExportTraceServiceRequest and ExportLogsServiceRequest from the
// protobuf wire format (read by hand with ingest::ProtoReader) and from OTLP's JSON mapping, into
// the model's Span and LogRecord (model.h); and the Export*ServiceResponse bodies.
//
// The fields read (numbers as in opentelemetry-proto's trace.proto, logs.proto, common.proto and
// resource.proto; JSON names are the lowerCamelCase forms, proto names are accepted too):
//   ExportTraceServiceRequest  1 resource_spans
//   ResourceSpans     1 resource (Resource: 1 attributes)   2 scope_spans
//   ScopeSpans        1 scope (InstrumentationScope: 1 name)   2 spans
//   Span              1 trace_id (16 bytes)  2 span_id (8 bytes)  4 parent_span_id (8 bytes or
//                     empty)  5 name  6 kind  7 start_time_unix_nano (fixed64)  8 end_time_unix_nano
//                     (fixed64)  9 attributes  11 events  15 status
//   Span.Event        1 time_unix_nano (fixed64)  2 name  3 attributes
//   Status            2 message  3 code
//   ExportLogsServiceRequest   1 resource_logs
//   ResourceLogs      1 resource   2 scope_logs
//   ScopeLogs         1 scope   2 log_records
//   LogRecord         1 time_unix_nano (fixed64)  11 observed_time_unix_nano (fixed64)
//                     2 severity_number  3 severity_text  5 body (AnyValue)  6 attributes
//                     9 trace_id (16 bytes or empty)  10 span_id (8 bytes or empty)
//   KeyValue          1 key  2 value (AnyValue, written as a string: ingest/otlp_anyvalue.h)
// Skipped: trace_state (3), flags (16; LogRecord 8), dropped_*_count, links (13), schema URLs,
// scope versions and attributes, LogRecord.event_name (12).
//
// In OTLP JSON, trace and span ids are hex strings (not base64, the exception OTLP makes to the
// proto3 JSON mapping); enums are integers or their names ("SPAN_KIND_SERVER",
// "STATUS_CODE_ERROR", "SEVERITY_NUMBER_WARN"); 64-bit integers numbers or strings; unknown
// fields are ignored, as the OTLP specification requires.
//
// Two kinds of failure:
//   - The body cannot be read (not protobuf or JSON, a field of the wrong type, a value nested
//     too deep): the decoder returns InvalidArgument naming the path and byte, nothing is kept,
//     and the handler answers 400.
//   - One span or log record is invalid (an id of the wrong length, an all-zero trace or span id,
//     a time beyond 2262): it is left out and counted in `rejected`, the first reason kept in
//     `first_rejection` naming it ("resource_spans[0].scope_spans[0].spans[2] \"chat\": trace_id
//     is 15 bytes, expected 16"); the others are kept, and the handler answers 200 with
//     partial_success {rejected_spans: N, error_message: first_rejection}.
// An all-zero parent_span_id is read as no parent, an all-zero log trace_id or span_id as none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/decode_limits.h"
#include "events/model.h"
#include "tyto/status.h"

namespace tyto::events {

struct DecodedSpans {
  std::vector<Span> spans;  // in the order sent
  int64_t rejected = 0;     // spans left out, invalid
  std::string first_rejection;
  DecodeStats stats;
};

struct DecodedLogs {
  std::vector<LogRecord> records;  // in the order sent
  int64_t rejected = 0;
  std::string first_rejection;
  DecodeStats stats;
};

// Decode an uncompressed body into *out (replacing it). Errors as described above, e.g.
// "resource_spans[0].scope_spans[1].spans[2].name: invalid protobuf at byte 57: ..." or
// "resourceSpans[0].scopeSpans[0].spans[1].kind: unknown value \"SERVER\"".
Status DecodeTracesProtobuf(std::string_view body, const DecodeLimits& limits, DecodedSpans* out);
Status DecodeTracesJson(std::string_view body, const DecodeLimits& limits, DecodedSpans* out);
Status DecodeLogsProtobuf(std::string_view body, const DecodeLimits& limits, DecodedLogs* out);
Status DecodeLogsJson(std::string_view body, const DecodeLimits& limits, DecodedLogs* out);

// ExportTraceServiceResponse / ExportLogsServiceResponse, with partial_success {rejected_spans or
// rejected_log_records, error_message} set when `rejected` > 0 or there is a message; an empty
// message (protobuf) or "{}" (JSON) otherwise. Errors that refuse the whole body are answered with
// a google.rpc.Status: ingest::otlp::EncodeStatusProtobuf / EncodeStatusJson.
std::string EncodeTracesResponseProtobuf(int64_t rejected_spans, std::string_view error_message);
std::string EncodeTracesResponseJson(int64_t rejected_spans, std::string_view error_message);
std::string EncodeLogsResponseProtobuf(int64_t rejected_log_records, std::string_view error_message);
std::string EncodeLogsResponseJson(int64_t rejected_log_records, std::string_view error_message);

}  // namespace tyto::events
