#include "api/otlp_body.h"

#include <utility>

#include "http/content_encoding.h"
#include "ingest/otlp_metrics.h"

namespace tyto::api {
http::Response OtlpEncoded(int status, OtlpFormat f, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = f == OtlpFormat::kJson ? "application/json" : "application/x-protobuf";
  r.body = std::move(body);
  return r;
}

http::Response OtlpError(int status, OtlpFormat f, int32_t rpc_code, const std::string& message) {
  return OtlpEncoded(status, f,
                     f == OtlpFormat::kJson ? ingest::otlp::EncodeStatusJson(rpc_code, message)
                                            : ingest::otlp::EncodeStatusProtobuf(rpc_code, message));
}

std::optional<http::Response> ReadOtlpBody(const http::Request& req, size_t max_decompressed, OtlpBody* out) {
  const std::string type = http::NormalizeHeaderValue(req.Header("Content-Type").value_or(""));
  const std::string media = http::NormalizeHeaderValue(std::string_view(type).substr(0, type.find(';')));
  if (media == "application/x-protobuf") {
    out->format = OtlpFormat::kProtobuf;
  } else if (media == "application/json") {
    out->format = OtlpFormat::kJson;
  } else {
    return http::Response::Text(415, "unsupported Content-Type \"" +
                                         std::string(req.Header("Content-Type").value_or("")) +
                                         "\": OTLP/HTTP bodies are application/x-protobuf or application/json\n");
  }
  Status decoded = http::DecodeBody(req.Header("Content-Encoding"), req.body, max_decompressed, &out->inflated,
                                    &out->bytes);
  if (!decoded.ok()) {
    const int status = http::DecodeErrorStatus(decoded);
    if (status == 415) return http::Response::Text(415, decoded.message() + "\n");
    http::Response r = OtlpError(status, out->format, status == 413 ? kRpcResourceExhausted : kRpcInvalidArgument,
                                 decoded.message());
    r.refused = http::DecodeRefusal(decoded);
    return r;
  }
  return std::nullopt;
}

}  // namespace tyto::api
