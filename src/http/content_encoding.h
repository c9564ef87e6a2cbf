// Request bodies by Content-Encoding (identity, gzip, zstd), decoded under a cap on the decoded
// size, so a small compressed body (a decompression bomb: 10 MB that expands to 10 GB) is
// refused before it is allocated: every ingest route that accepts compressed bodies (OTLP,
// JSON lines) decodes through DecodeBody. Remote write's snappy blocks go through
// ingest::SnappyUncompress, which checks the length a block declares against its cap the same way.
//
// Memory: gzip and zstd are decoded in 64 KiB steps and stop at the cap, so a request costs at
// most the cap (plus the output string's growth); a zstd frame that declares its content size
// is refused from its header alone, and its window is bounded (kZstdMaxWindowLog).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::http {

// The largest zstd window accepted, as a power of two (2^24 = 16 MiB, what zstd's levels up to
// 19 use); a frame asking for more is refused rather than allocated.
inline constexpr int kZstdMaxWindowLog = 24;

// Decompresses one zstd stream (one or more frames) into at most `max_output` bytes. Errors:
// kResourceExhausted naming the limit (from the declared size, or once the output reaches it),
// kInvalidArgument for malformed input.
Result<std::string> ZstdDecompress(std::string_view data, size_t max_output);
std::string ZstdCompress(std::string_view data, int level = 3);

// Decodes `body` as its Content-Encoding header says (`content_encoding`; absent, empty or
// "identity": as is; "gzip"; "zstd"; names compared case-insensitively), into *storage when it
// is compressed; *out views the decoded bytes (`body` itself or *storage). Errors:
//   kResourceExhausted  the decoded body would pass `max_output`; the message names the
//                       encoding and the limit (answer 413)
//   kInvalidArgument    a malformed compressed stream (answer 400)
//   kUnimplemented      another encoding (answer 415); the message lists the accepted ones
Status DecodeBody(std::optional<std::string_view> content_encoding, std::string_view body, size_t max_output,
                  std::string* storage, std::string_view* out);

// The HTTP status that answers DecodeBody's error: 413, 415 or 400.
int DecodeErrorStatus(const Status& s);

// tyto_http_requests_refused_total's reason for a DecodeBody error ("decompressed_too_large"),
// or "" when it is not a refusal for size.
std::string DecodeRefusal(const Status& s);

}  // namespace tyto::http
