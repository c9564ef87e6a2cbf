// Byte encodings that HTTP-speaking code shares: base64 (basic auth in the token gate, scrapes,
// integrations and SMTP AUTH), lowercase hex and SHA-256 hex (PagerDuty's dedup key, the
// playbook audit log's chain). Through OpenSSL, which tyto_http links already.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tyto::http {

// Standard base64 with padding.
std::string Base64(std::string_view bytes);
// The bytes of standard base64 with padding; nullopt when `text` is not that.
std::optional<std::string> Base64Decode(std::string_view text);
// Two lowercase hex digits a byte.
std::string HexLower(std::string_view bytes);
// SHA-256 of `bytes` in lowercase hex (64 digits).
std::string Sha256Hex(std::string_view bytes);

}  // namespace tyto::http
