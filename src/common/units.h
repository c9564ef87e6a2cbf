// Durations and byte sizes as users write them in configs, flags and queries.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto {

// Prometheus's duration syntax: one or more <integer><unit> in descending unit order, units
// y (365d), w, d, h, m, s, ms; e.g. "1h30m", "15s", "500ms", "0s". Also accepts a bare "0".
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest form ParseDuration reads back to the same value ("1h30m", "0s").
std::string FormatDuration(std::chrono::milliseconds d);

// Milliseconds since the Unix epoch as RFC 3339 in UTC with milliseconds:
// "2026-11-22T12:29:34.053Z" (log lines, API timestamps).
std::string FormatTimestamp(int64_t unix_millis);

// A time as Go's encoding/json writes a time.Time (RFC 3339, UTC here, the fraction's trailing
// zeros cut): "2023-11-14T22:13:20.5Z". 0 is Go's zero time, "0001-01-01T00:00:00Z", which
// Prometheus and Alertmanager show for "never". The API's and the webhook payload's times.
std::string GoTime(int64_t unix_millis);

// A byte size: an integer with an optional unit B, KiB, MiB, GiB, TiB, PiB (powers of 1024),
// or KB, MB, GB, TB, PB as Prometheus reads them (also powers of 1024); e.g. "512MiB", "10GB".
Result<uint64_t> ParseByteSize(std::string_view text);

// The largest exact binary unit: "512MiB", "1536B".
std::string FormatByteSize(uint64_t bytes);

}  // namespace tyto
