// What the JSON-lines decoders (jsonl_events.cc, jsonl_logs.cc) share: walking a body line by
// line under the limits and the per-line error policy (jsonl_decode.h), and reading one line's
// fields with messages that name them. Private to src/events; include from .cc files only
// (RapidJSON by forward declaration).
#pragma once

#include <rapidjson/fwd.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "events/decode_limits.h"
#include "events/jsonl_decode.h"
#include "tyto/status.h"

namespace tyto::events::jsonl {

// One line's JSON object and which of its members were asked for. Every reader leaves *out alone
// when the member is absent or null, and returns InvalidArgument "<name>: <what>" when it has the
// wrong type or is out of range.
class Fields {
 public:
  Fields(const rapidjson::Value& object, const DecodeLimits& limits, DecodeStats* stats);

  // The member, marked as known; nullptr when absent or null.
  const rapidjson::Value* Get(std::string_view name);
  bool Has(std::string_view name) { return Get(name) != nullptr; }

  // A string, repaired and cut at max_attribute_value_bytes (LimitText).
  Status Text(std::string_view name, std::string* out);
  // Free text: a string as it is, or any other JSON value as compact JSON; cut at
  // max_content_bytes (LimitContent).
  Status Content(std::string_view name, std::string* out);
  // A whole number >= 0 (a JSON integer; 12.0 is not one).
  Status Count(std::string_view name, int64_t* out);
  // A duration given in milliseconds (`ms_name`) or in seconds (`s_name`), not both; a finite
  // number >= 0; *seconds in seconds.
  Status Duration(std::string_view ms_name, std::string_view s_name, double* seconds);
  // A time: Unix seconds (a number, or a string of one; fraction allowed) or RFC 3339 text;
  // *unix_nano in nanoseconds; *present says whether there was one.
  Status Timestamp(std::string_view name, int64_t* unix_nano, bool* present);
  // An optional trace or span id: hex digits, `bytes` long; all zeros is none (left empty).
  Status Id(std::string_view name, size_t bytes, std::string* hex);

  // Calls fn(name, value) for each member no reader asked for, in the line's order.
  void ForEachUnknown(const std::function<void(std::string_view, const rapidjson::Value&)>& fn) const;

  const DecodeLimits& limits() const { return limits_; }
  DecodeStats* stats() { return stats_; }

 private:
  const rapidjson::Value& object_;
  const DecodeLimits& limits_;
  DecodeStats* stats_;
  std::vector<bool> known_;  // by member index
};

// Decodes `body` line by line (jsonl_decode.h): skips blank lines, refuses lines over
// max_line_bytes, lines that are not a JSON object or repeat a member, and calls
// decode(fields) for the others; a non-OK Status from it is that line's error. After a line is
// accepted, its unknown members become warnings when `warn_unknown`. Fills *report.
void DecodeLines(std::string_view body, const DecodeLimits& limits, bool warn_unknown,
                 const std::function<Status(Fields&)>& decode, LineReport* report);

// A JSON value as an attribute value: a string as it is, true/false, an integer in decimal, another
// number as OTLP's double attribute is written (FormatAttributeDouble), null as "", an array or an
// object as compact JSON.
std::string AttributeValue(const rapidjson::Value& v);

}  // namespace tyto::events::jsonl
