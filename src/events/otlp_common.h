// What the OTLP traces and logs decoders share between the protobuf (otlp_proto_decode.cc) and
// JSON (otlp_json_decode.cc) readers: rejecting one item, naming it, and handing the items of one
// ResourceSpans / ResourceLogs to the result with their resource, under max_decoded_bytes.
// Private to src/events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/decode_limits.h"
#include "events/ids.h"
#include "events/model.h"

namespace tyto::events {

inline constexpr std::string_view kUnknownService = "unknown_service";

// Counts one rejected item in *out, keeping the first message.
template <typename Decoded>
void Reject(Decoded* out, std::string message) {
  if (out->rejected++ == 0) out->first_rejection = std::move(message);
}

// `where` with the span's name for a rejection message: `spans[2] "chat gpt-4"`.
std::string DescribeSpan(const std::string& where, std::string_view name);

// Checks an id converted by HexIdFromBytes / HexIdFromText (`what` is what they returned).
// Returns "" or "<field> <what is wrong>". A required id (a span's trace_id and span_id) must not
// be all zeros; an optional one (a parent_span_id, a log's trace_id and span_id) that is all zeros
// means none and is cleared. (An empty optional id is none without a check: callers skip it.)
std::string RequiredId(std::string_view field, const std::string& what, const std::string& hex);
std::string OptionalId(std::string_view field, const std::string& what, std::string* hex);

// The resource's service.name, or "unknown_service" (OpenTelemetry's default).
std::string ServiceName(const std::vector<Attribute>& resource);

// Bytes of text an item holds (what max_decoded_bytes counts), its resource's copy excluded.
size_t TextBytes(const std::vector<Attribute>& attrs);
size_t TextBytes(const Span& s);
size_t TextBytes(const LogRecord& r);

// Whether a fixed64 time fits the model's int64 nanoseconds (until the year 2262).
inline bool TimeFits(uint64_t unix_nano) {
  return unix_nano <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// The items of one ResourceSpans or ResourceLogs, given their resource, into out->spans or
// out->records: each gets the service name and a copy of the resource; an item that would take
// *decoded_bytes past limits.max_decoded_bytes is rejected instead (`where` names the resource).
template <typename Item, typename Decoded>
void Flush(std::vector<Item>* items, const std::vector<Attribute>& resource, const std::string& where,
           const DecodeLimits& limits, size_t* decoded_bytes, std::vector<Item>* dst, Decoded* out) {
  const std::string service = ServiceName(resource);
  const size_t resource_bytes = TextBytes(resource);
  for (Item& item : *items) {
    const size_t bytes = TextBytes(item) + resource_bytes;
    if (*decoded_bytes + bytes > limits.max_decoded_bytes) {
      Reject(out, where + ": the decoded body passes max_decoded_bytes (" + std::to_string(limits.max_decoded_bytes) +
                      " bytes); the rest of it is refused");
      continue;
    }
    *decoded_bytes += bytes;
    item.service = service;
    item.resource = resource;
    dst->push_back(std::move(item));
  }
  items->clear();
}

}  // namespace tyto::events
