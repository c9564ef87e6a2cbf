// The JSON-lines bodies of Tyto's own APIs: POST /api/v1/events (inference, pipeline-stage and
// deployment events) and POST /api/v1/logs. docs/events-api.md is the user's reference for every
// field; this header is the contract for the handler.
//
// A body is lines separated by '\n' (a '\r' before it is dropped); blank lines (only spaces and
// tabs) are skipped but counted, so line numbers match the sender's editor. Each other line is one
// JSON object, decoded on its own:
//   - a valid line yields one item;
//   - an invalid line (not JSON, not UTF-8, not an object, a field of the wrong type or out of
//     range, a required field missing, longer than DecodeLimits::max_line_bytes) yields a
//     LineError with its 1-based line number and a message naming the field; the other lines are
//     still decoded.
// Unknown fields are ignored, so that senders written for a later Tyto keep working; each one
// yields a warning naming it (a typo such as "latncy_ms" shows in the response).
//
// What the handler answers (docs/events-api.md): 200 with {"accepted": N, "rejected": M,
// "errors": [...], "warnings": [...]} when at least one line was accepted or the body had no
// lines; 400 with the same body when every non-blank line was rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/decode_limits.h"
#include "events/model.h"
#include "tyto/status.h"

namespace tyto::events {

struct LineError {
  size_t line = 0;  // 1-based
  std::string message;
};

// What every JSON-lines result has besides its items.
struct LineReport {
  size_t lines = 0;                 // non-blank lines read
  size_t accepted = 0;              // lines that became an item
  size_t rejected = 0;              // lines refused (errors.size() may be smaller: max_listed_lines)
  std::vector<LineError> errors;    // the first max_listed_lines refused lines
  std::vector<LineError> warnings;  // unknown fields, the first max_listed_lines
  size_t warnings_total = 0;
  DecodeStats stats;
};

struct DecodedEvents {
  std::vector<InferenceEvent> inferences;
  std::vector<PipelineStageEvent> pipeline_stages;
  std::vector<DeploymentEvent> deployments;
  LineReport report;
};

struct DecodedFeedback {
  std::vector<Feedback> items;
  LineReport report;
};

struct DecodedLogLines {
  std::vector<LogRecord> records;
  LineReport report;
};

// POST /api/v1/events. `now_ms` (the receive time, from the server's Clock) stands in for a
// missing timestamp.
DecodedEvents DecodeEventsJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits);

// POST /api/v1/drift/reference?model=M: rows of a reference data set, written as inference events
// (features, prediction, embedding, tokens, latency) whose `model` may be left out; a row naming
// another model is a line error.
DecodedEvents DecodeReferenceJsonLines(std::string_view body, const std::string& model, int64_t now_ms,
                                       const DecodeLimits& limits);

// POST /api/v1/feedback: one Feedback per line (request_id required; at least one of label,
// rating and correction). `now_ms` stands in for a missing timestamp.
DecodedFeedback DecodeFeedbackJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits);

// POST /api/v1/logs. `now_ms` stands in for a missing timestamp.
DecodedLogLines DecodeLogsJsonLines(std::string_view body, int64_t now_ms, const DecodeLimits& limits);

// A timestamp as the JSON-lines APIs read it, from text: RFC 3339 ("2026-11-22T12:00:00Z",
// "2026-11-22T12:00:00.123456789+01:00"; 'T' or 't', 'Z' or 'z'), to nanoseconds since the Unix
// epoch; years 0000 to 9999. InvalidArgument says what is wrong.
Result<int64_t> ParseRfc3339Nanos(std::string_view text);

// OTLP's severity number of a level as logging libraries write it, case-insensitively: trace 1;
// debug 5; info, information 9; notice 10; warn, warning 13; error, err 17; fatal, critical, crit
// 21; alert 22; emergency, emerg 23; panic 24 (syslog's levels above error in their order);
// 0 (unspecified) for anything else.
int32_t SeverityNumberFromText(std::string_view level);

}  // namespace tyto::events
