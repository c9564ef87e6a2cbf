// Parameters of the Prometheus HTTP API as Prometheus reads them (private to src/api).
#pragma once

#include <cstdint>
#include <string_view>

#include "tyto/status.h"

namespace tyto::api {

// A time parameter: Unix seconds with an optional fraction ("1700000000.123") or RFC 3339
// ("2026-11-22T12:00:00Z", "2026-11-22T12:00:00.5+01:00"); milliseconds since the epoch.
// kInvalidArgument names the parameter.
Result<int64_t> ParseTimeParam(std::string_view name, std::string_view value);

}  // namespace tyto::api
