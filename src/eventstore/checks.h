// The checks every TelemetryStore makes on what the caller asks and on the rows it appends (the
// embedded store's and ClickHouse's alike, so both answer the same way), and a timer for the
// query-duration histograms.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/model.h"
#include "eventstore/telemetry_store.h"
#include "instrumentation/metrics.h"
#include "tyto/status.h"

namespace tyto::eventstore {

// The most rows one query may ask for.
inline constexpr size_t kMaxQueryLimit = 10'000;

// Observes a query's duration (seconds) when it goes out of scope.
class QueryTimer {
 public:
  explicit QueryTimer(instrumentation::Histogram& h) : h_(h), start_(std::chrono::steady_clock::now()) {}
  ~QueryTimer() { h_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()); }
  QueryTimer(const QueryTimer&) = delete;
  QueryTimer& operator=(const QueryTimer&) = delete;

 private:
  instrumentation::Histogram& h_;
  std::chrono::steady_clock::time_point start_;
};

// The limit a query asked for, `default_limit` when it asked for 0; kInvalidArgument over
// kMaxQueryLimit.
Result<size_t> QueryLimit(size_t limit, size_t default_limit);
// kInvalidArgument when start is after end (`unit` names them in the message, e.g. "ns").
Status CheckRange(int64_t start, int64_t end, std::string_view unit);
// kInvalidArgument when a filter has an empty key.
Status CheckAttributes(const std::vector<AttributeFilter>& filters);

// Decodes a span's ids as both stores keep them: the trace id (32 hex digits) into *trace_id,
// the span id (16) into *span_id, the parent's (16) into *parent_id, left empty when the span
// has none or it is sixteen zeros (how some SDKs say "no parent"). Null when they are valid,
// else "invalid_id" with *why naming the first bad one.
const char* DecodeSpanIds(const events::Span& span, std::string* trace_id, std::string* span_id,
                          std::string* parent_id, std::string* why);

// Whether a row at `time_ms` may be stored at `now_ms`: null when it may, else the reason it is
// refused ("too_old": before now - retention; "too_new": more than max_future after now) with
// *why set to a description naming the times.
const char* CheckAppendTime(std::chrono::milliseconds retention, std::chrono::milliseconds max_future,
                            int64_t now_ms, int64_t time_ms, std::string* why);

}  // namespace tyto::eventstore
