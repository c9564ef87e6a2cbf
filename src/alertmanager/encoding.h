// Byte encodings the integrations share: base64 (HTTP basic auth, SMTP AUTH), lowercase hex
// and SHA-256 (PagerDuty's dedup key). Private to src/alertmanager.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tyto::alertmanager {

// Standard base64 with padding.
std::string Base64(std::string_view bytes);
// The bytes of standard base64 with padding; nullopt when `text` is not that.
std::optional<std::string> Base64Decode(std::string_view text);
// Two lowercase hex digits a byte.
std::string HexLower(std::string_view bytes);
// SHA-256 of `bytes` in lowercase hex (64 digits).
std::string Sha256Hex(std::string_view bytes);

}  // namespace tyto::alertmanager
