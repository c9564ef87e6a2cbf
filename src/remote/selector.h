// PromQL text for a storage selection, as RemoteStorage sends it to a remote store's query API.
//
// A selection (matchers, [mint, maxt]) becomes the instant query `{matchers}[<range>ms]` at
// time maxt, which Prometheus, VictoriaMetrics, Mimir and Thanos answer with the raw samples in
// (maxt - range, maxt]. Every matcher is written inside the braces (the metric name as
// __name__="..."), values with Go's strconv.Quote escapes (\" \\ \n \t \xNN \uNNNN), which
// both Prometheus's and VictoriaMetrics's parsers read back to the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/matcher.h"

namespace tyto::remote {

// {__name__="up",job=~"a|b"}: the matchers in the order given. A label name that is not
// [a-zA-Z_][a-zA-Z0-9_]* is quoted ({"my.label"="x"}), as Prometheus 3 writes UTF-8 names
// (stores that predate them refuse such a query with their own error).
std::string SelectorText(const std::vector<Matcher>& matchers);

// The longest range a query asks for (about 250 years: Go's durations end at 292).
inline constexpr int64_t kMaxRangeMs = int64_t{250} * 365 * 24 * 3600 * 1000;

// The query that returns the raw samples of `matchers` in [mint, maxt] (inclusive): the
// selector with the range maxt - mint + 1 ms, to be evaluated at time maxt. A range over
// kMaxRangeMs is cut to it (the earliest samples are then not asked for).
// Precondition: mint <= maxt.
std::string RangeQueryText(const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt);

// Milliseconds as the API's decimal seconds: 1700000000123 -> "1700000000.123", -1500 -> "-1.500".
std::string FormatSeconds(int64_t ms);

// A label name for the path of /api/v1/label/<name>/values: as it is when it is
// [a-zA-Z_][a-zA-Z0-9_]*, otherwise Prometheus's "U__" value escaping (each character other
// than a letter, a digit or ':' as _<hex code point>_, '_' as "__", a byte that is not UTF-8 as
// _FFFD_), which is one safe path segment and which Prometheus 3 decodes back.
std::string LabelNamePathSegment(std::string_view name);

}  // namespace tyto::remote
