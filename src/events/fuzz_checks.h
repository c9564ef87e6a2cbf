// Invariants the events fuzzers (otlp_traces_fuzz.cc, otlp_logs_fuzz.cc, events_jsonl_fuzz.cc)
// check on whatever the decoders return: ids are lowercase hex of the right length, text is UTF-8,
// the limits hold, counts add up. A broken one traps, so libFuzzer reports the input.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/decode_limits.h"
#include "events/genai.h"
#include "events/model.h"
#include "scrape/text_lexing.h"

namespace tyto::events::fuzz {

// Small limits, so that short inputs reach every cut.
inline DecodeLimits SmallLimits() {
  DecodeLimits l;
  l.max_attribute_value_bytes = 16;
  l.max_attributes = 4;
  l.max_span_events = 2;
  l.max_content_bytes = 32;
  l.max_line_bytes = 512;
  l.max_embedding_dims = 8;
  l.max_decoded_bytes = 8192;
  l.max_listed_lines = 3;
  return l;
}

inline void Check(bool ok) {
  if (!ok) __builtin_trap();
}

inline void CheckText(std::string_view s) { Check(scrape::FindInvalidUtf8(s) == s.size()); }

// Empty, or `digits` lowercase hex digits not all zero.
inline void CheckId(std::string_view id, size_t digits, bool required) {
  if (id.empty()) {
    Check(!required);
    return;
  }
  Check(id.size() == digits);
  bool zero = true;
  for (char c : id) {
    Check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    zero &= c == '0';
  }
  Check(!zero);
}

inline void CheckAttributes(const std::vector<Attribute>& attrs, const DecodeLimits& l) {
  Check(attrs.size() <= l.max_attributes);
  for (const Attribute& a : attrs) {
    CheckText(a.key);
    CheckText(a.value);
    Check(a.value.size() <= (IsContentAttribute(a.key) ? l.max_content_bytes : l.max_attribute_value_bytes));
  }
}

inline void CheckSpan(const Span& s, const DecodeLimits& l) {
  CheckId(s.trace_id, 32, true);
  CheckId(s.span_id, 16, true);
  CheckId(s.parent_span_id, 16, false);
  Check(!s.service.empty());
  for (const std::string* t : {&s.name, &s.status_message, &s.scope_name, &s.service}) CheckText(*t);
  Check(s.name.size() <= l.max_attribute_value_bytes);
  Check(s.start_unix_nano >= 0 && s.end_unix_nano >= 0);
  CheckAttributes(s.attributes, l);
  CheckAttributes(s.resource, l);
  Check(s.events.size() <= l.max_span_events);
  for (const SpanEvent& e : s.events) {
    CheckText(e.name);
    CheckAttributes(e.attributes, l);
  }
}

inline void CheckLog(const LogRecord& r, const DecodeLimits& l) {
  CheckId(r.trace_id, 32, false);
  CheckId(r.span_id, 16, false);
  Check(!r.service.empty());
  Check(r.time_unix_nano >= 0);
  for (const std::string* t : {&r.severity_text, &r.body, &r.service}) CheckText(*t);
  Check(r.body.size() <= l.max_content_bytes);
  CheckAttributes(r.attributes, l);
  CheckAttributes(r.resource, l);
}

inline void CheckInference(const InferenceEvent& e) {
  Check(!e.model.empty());
  Check(e.input_tokens >= -1 && e.output_tokens >= -1);
  for (double d : {e.latency_s, e.queue_s, e.ttft_s}) Check(std::isnan(d) || d >= 0);
  Check(e.error == !e.error_type.empty());
}

// Spans also go through the GenAI mapping: every event must make sense.
inline void CheckSpans(const std::vector<Span>& spans, const DecodeLimits& l) {
  for (const Span& s : spans) CheckSpan(s, l);
  const std::vector<InferenceEvent> events = InferencesFromSpans(spans);
  Check(events.size() <= spans.size());
  for (const InferenceEvent& e : events) CheckInference(e);
}

}  // namespace tyto::events::fuzz
