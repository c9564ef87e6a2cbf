// What the OTLP/HTTP receivers (metrics, traces, logs) share: reading the request body as the
// OTLP/HTTP specification sends it (Content-Type application/x-protobuf or application/json,
// optionally Content-Encoding: gzip or zstd) and answering in the request's format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace tyto::api {

enum class OtlpFormat { kProtobuf, kJson };

// google.rpc.Code values used in error bodies.
inline constexpr int32_t kRpcInvalidArgument = 3;
inline constexpr int32_t kRpcResourceExhausted = 8;
inline constexpr int32_t kRpcUnavailable = 14;

struct OtlpBody {
  OtlpFormat format = OtlpFormat::kProtobuf;
  std::string_view bytes;  // the request's body, or `inflated`
  std::string inflated;
};

// Reads the format and the (decompressed) body into *out. On failure returns the answer to send:
// 415 for another Content-Type or Content-Encoding, 413 when the body decompresses to more than
// `max_decompressed` bytes (http::DecodeBody, which stops there), 400 for a broken stream.
std::optional<http::Response> ReadOtlpBody(const http::Request& req, size_t max_decompressed, OtlpBody* out);

// A response body in the request's format.
http::Response OtlpEncoded(int status, OtlpFormat f, std::string body);
// A google.rpc.Status error body in the request's format.
http::Response OtlpError(int status, OtlpFormat f, int32_t rpc_code, const std::string& message);

}  // namespace tyto::api
