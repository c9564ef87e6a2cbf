// Trace and span ids: the bytes OTLP's protobuf sends, or the hex text OTLP JSON and the JSON-lines
// APIs send, as the lowercase hex the model keeps (32 digits for a trace id, 16 for a span id).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tyto::events {

inline constexpr size_t kTraceIdBytes = 16;
inline constexpr size_t kSpanIdBytes = 8;

// `bytes` as lowercase hex in *hex. Returns "" when it is `want_bytes` long, otherwise what is
// wrong ("is 15 bytes, expected 16"; *hex is then unspecified). All zeros is the caller's call.
std::string HexIdFromBytes(std::string_view bytes, size_t want_bytes, std::string* hex);

// `text` (hex digits, either case) lowercased in *hex. Returns "" when it is 2 * `want_bytes`
// digits, otherwise what is wrong ("\"abc\" is not 32 hex digits").
std::string HexIdFromText(std::string_view text, size_t want_bytes, std::string* hex);

// Whether `hex` is all '0': invalid for a span's own ids, "none" for a parent or a log's ids.
bool IsZeroHexId(std::string_view hex);

}  // namespace tyto::events
