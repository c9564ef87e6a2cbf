// JSON written byte for byte as Go's encoding/json writes it (Alertmanager's payloads): strings
// with <, > and & escaped as \u003c, \u003e, \u0026, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD; maps with their keys sorted. Private to src/alertmanager.
#pragma once

#include <string>
#include <string_view>

#include "alertmanager/matchers.h"

namespace tyto::alertmanager {

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string* out, std::string_view s);

// Appends "key": (quoted key and colon).
void AppendJsonKey(std::string* out, std::string_view key);

// Appends {"name":"value",...} in name order.
void AppendJsonObject(std::string* out, const LabelSet& labels);

}  // namespace tyto::alertmanager
