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

// Appends "key":"value" to an object being written, after a ',' unless the object has just
// opened; nothing when `omit_empty` and the value is empty (Go's omitempty).
void AppendJsonMember(std::string* out, std::string_view key, std::string_view value, bool omit_empty);

// Appends {"name":"value",...} in name order.
void AppendJsonObject(std::string* out, const LabelSet& labels);

}  // namespace tyto::alertmanager
