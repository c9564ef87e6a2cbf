// How OTLP names and values become Prometheus names and label values, following Prometheus 3's
// OTLP receiver with its default translation (UnderscoreEscapingWithSuffixes; the UTF-8 "no
// translation" strategies are not offered):
//   metric names  split into words at every character outside [a-zA-Z0-9:] (so runs of '_' and
//                 '.' become one '_'); the unit's suffix appended ("s" -> "seconds", "By" ->
//                 "bytes", "By/s" -> "bytes_per_second", a unit in {braces} adds nothing) unless
//                 the name already has that word; "_total" for monotonic sums; "_ratio" for
//                 gauges with unit "1"; a leading digit gets a '_' prefix
//   label names   each run of characters outside [a-zA-Z0-9] becomes one '_' (a reserved
//                 "__x__" keeps its outer underscores); a leading digit gets "key_"
// Names that come out empty or only underscores are refused, as Prometheus refuses them.
#pragma once

#include <string>
#include <string_view>

#include "ingest/otlp_metrics.h"
#include "tyto/status.h"

namespace tyto::ingest::otlp {

// The Prometheus metric name of an OTLP metric of `type` (monotonic: a monotonic sum).
Result<std::string> MetricName(std::string_view name, std::string_view unit, MetricType type, bool monotonic);

// The Prometheus label name of an attribute key.
Result<std::string> LabelName(std::string_view key);

// The unit's Prometheus suffix words: "s" -> "seconds", "By/s" -> "bytes_per_second", "1" -> "".
std::string UnitSuffix(std::string_view unit);

// A float as Prometheus writes `le` and `quantile` values (Go's FormatFloat(v, 'f', -1, 64)):
// the shortest decimal that reads back to v, never an exponent; "+Inf", "-Inf", "NaN".
std::string FormatBound(double v);

// A double attribute value as OpenTelemetry's pcommon writes it (as JavaScript prints numbers):
// fixed notation for 1e-6 <= |v| < 1e21, otherwise the shortest exponent form ("1e+21", "1e-7").
std::string FormatAttributeDouble(double v);

// Standard base64 with padding (bytes attribute values).
std::string Base64(std::string_view bytes);

// Appends `s` as a JSON string literal (quotes and escapes), for array and map attribute values.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace tyto::ingest::otlp
