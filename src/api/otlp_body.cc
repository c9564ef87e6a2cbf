#include "api/otlp_body.h"

#include <utility>

#include "http/gzip.h"
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
  out->bytes = req.body;
  if (auto enc = req.Header("Content-Encoding")) {
    const std::string e = http::NormalizeHeaderValue(*enc);
    if (e == "gzip") {
      Result<std::string> inflated = http::GzipDecompress(req.body, max_decompressed);
      if (!inflated.ok()) {
        if (inflated.status().code() == StatusCode::kResourceExhausted) {
          return OtlpError(413, out->format, kRpcResourceExhausted,
                           "the gzip body decompresses to more than " + std::to_string(max_decompressed) + " bytes");
        }
        return OtlpError(400, out->format, kRpcInvalidArgument, "invalid gzip body: " + inflated.status().message());
      }
      out->inflated = std::move(*inflated);
      out->bytes = out->inflated;
    } else if (!e.empty() && e != "identity") {
      return http::Response::Text(415, "unsupported Content-Encoding \"" + std::string(*enc) +
                                           "\": OTLP/HTTP bodies are uncompressed or gzip\n");
    }
  }
  return std::nullopt;
}

}  // namespace tyto::api
