// The limits every decoder of src/events applies to what clients send (OTLP traces and logs, the
// JSON-lines events and logs APIs), the repairs it makes to text, and the counts of both, which
// the caller exports as counters. A limit never makes a request fail: values are cut, extra
// attributes dropped, and only a JSON line over max_line_bytes is refused (as that line's error).
// docs/events-api.md lists them for users.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/model.h"

namespace tyto::events {

struct DecodeLimits {
  // An attribute value (of a span, span event, resource or log record, or a JSON line's attribute)
  // or a short text field (a name, a status message, a severity text, a JSON line's string field)
  // longer than this is cut to at most this many bytes, at a UTF-8 character boundary. The
  // content attributes (IsContentAttribute, genai.h) are cut at max_content_bytes instead.
  size_t max_attribute_value_bytes = 4096;
  // Attributes after the first this many of one span, span event, resource or log record are
  // dropped (the OpenTelemetry SDKs' default attribute count limit).
  size_t max_attributes = 128;
  // Events after the first this many of one span are dropped (the SDKs' default event limit).
  size_t max_span_events = 128;
  // Free text: prompts and responses (gen_ai.input.messages, gen_ai.output.messages and their
  // deprecated forms; a JSON line's prompt and response) and log bodies are cut to this.
  size_t max_content_bytes = 64 * 1024;
  // Spans or log records of one OTLP body, counted by their text (names, ids, attributes, and
  // their resource's attributes, which each of them carries a copy of), beyond this many bytes are
  // rejected: a large resource shared by many small spans must not multiply into gigabytes.
  size_t max_decoded_bytes = 64 * 1024 * 1024;
  // An inference event's embedding with more numbers than this is refused (a line error).
  size_t max_embedding_dims = 4096;
  // A JSON line longer than this (without its '\n') is refused with a line error.
  size_t max_line_bytes = 1024 * 1024;
  // At most this many line errors and this many warnings are listed in a result; the rest are
  // only counted (a body of a million bad lines must not make a million messages).
  size_t max_listed_lines = 100;
};

// What the limits cut; each counts items (values, attributes, events, lines), not bytes.
struct DecodeStats {
  uint64_t values_truncated = 0;     // attribute values cut at max_attribute_value_bytes
  uint64_t attributes_dropped = 0;   // attributes beyond max_attributes
  uint64_t span_events_dropped = 0;  // span events beyond max_span_events
  uint64_t content_truncated = 0;    // prompts, responses and log bodies cut at max_content_bytes
  uint64_t lines_too_long = 0;       // JSON lines refused for max_line_bytes
  uint64_t utf8_repaired = 0;        // protobuf strings that were not UTF-8 (RepairUtf8)

  DecodeStats& operator+=(const DecodeStats& o) {
    values_truncated += o.values_truncated;
    attributes_dropped += o.attributes_dropped;
    span_events_dropped += o.span_events_dropped;
    content_truncated += o.content_truncated;
    lines_too_long += o.lines_too_long;
    utf8_repaired += o.utf8_repaired;
    return *this;
  }
};

// Cuts *s to at most `max` bytes without splitting a UTF-8 sequence (a cut never leaves a partial
// character; bytes that are not UTF-8 are treated as one-byte characters). Returns whether it cut.
bool TruncateUtf8(std::string* s, size_t max);

// Replaces every byte of *s that does not start a valid UTF-8 sequence with U+FFFD, so that what
// the protobuf decoders keep is text every later consumer (JSON, SQLite, label values) can hold.
// Returns whether it changed anything. (JSON bodies are checked by the parser instead.)
bool RepairUtf8(std::string* s);

// A short text field (a span, event or scope name, a status message, a severity text): repaired
// (RepairUtf8) and cut at max_attribute_value_bytes, counted as a value. LimitContent: free text
// (a log body, a prompt, a response), repaired and cut at max_content_bytes.
void LimitText(std::string* s, const DecodeLimits& limits, DecodeStats* stats);
void LimitContent(std::string* s, const DecodeLimits& limits, DecodeStats* stats);

// Appends `a` to *attrs under `limits`, counting in *stats: dropped when *attrs already holds
// max_attributes; otherwise its key and value repaired (RepairUtf8) and its value cut at
// max_attribute_value_bytes, or at max_content_bytes for a content attribute (IsContentAttribute).
// Keys are never cut (a cut key would be another attribute); max_decoded_bytes bounds them.
void AddAttribute(std::vector<Attribute>* attrs, Attribute a, const DecodeLimits& limits, DecodeStats* stats);

}  // namespace tyto::events
