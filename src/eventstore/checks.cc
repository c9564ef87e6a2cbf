#include "eventstore/checks.h"

#include <algorithm>
#include <string>

#include "common/units.h"
#include "eventstore/codec.h"

namespace tyto::eventstore {

Result<size_t> QueryLimit(size_t limit, size_t default_limit) {
  if (limit == 0) return default_limit;
  if (limit > kMaxQueryLimit) {
    return InvalidArgument("limit " + std::to_string(limit) + " is over the most allowed, " +
                           std::to_string(kMaxQueryLimit));
  }
  return limit;
}

Status CheckRange(int64_t start, int64_t end, std::string_view unit) {
  if (start > end) {
    return InvalidArgument("the start (" + std::to_string(start) + " " + std::string(unit) + ") is after the end (" +
                           std::to_string(end) + ")");
  }
  return Status::Ok();
}

Status CheckAttributes(const std::vector<AttributeFilter>& filters) {
  for (const AttributeFilter& f : filters) {
    if (f.key.empty()) return InvalidArgument("an attribute filter has an empty key");
  }
  return Status::Ok();
}

const char* DecodeSpanIds(const events::Span& span, std::string* trace_id, std::string* span_id,
                          std::string* parent_id, std::string* why) {
  parent_id->clear();
  const std::string_view parent = span.parent_span_id;
  const bool zero_parent =
      parent.size() == 16 && std::all_of(parent.begin(), parent.end(), [](char c) { return c == '0'; });
  if (!DecodeHexId(span.trace_id, 16, trace_id)) {
    *why = "trace id '" + ShownId(span.trace_id) + "' is not 32 hex digits (or is all zero)";
    return "invalid_id";
  }
  if (!DecodeHexId(span.span_id, 8, span_id)) {
    *why = "span id '" + ShownId(span.span_id) + "' is not 16 hex digits (or is all zero)";
    return "invalid_id";
  }
  if (!parent.empty() && !zero_parent && !DecodeHexId(parent, 8, parent_id)) {
    *why = "parent span id '" + ShownId(parent) + "' is not 16 hex digits";
    return "invalid_id";
  }
  return nullptr;
}

const char* CheckAppendTime(std::chrono::milliseconds retention, std::chrono::milliseconds max_future,
                            int64_t now_ms, int64_t time_ms, std::string* why) {
  if (time_ms < now_ms - retention.count()) {
    *why = FormatTimestamp(time_ms) + " is older than the retention (" + FormatDuration(retention) + ")";
    return "too_old";
  }
  if (time_ms > now_ms + max_future.count()) {
    *why = FormatTimestamp(time_ms) + " is more than " + FormatDuration(max_future) + " after now (" +
           FormatTimestamp(now_ms) + ")";
    return "too_new";
  }
  return nullptr;
}

}  // namespace tyto::eventstore
