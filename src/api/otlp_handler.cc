#include "api/otlp_handler.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "api/status_counters.h"
#include "common/log.h"
#include "http/gzip.h"
#include "ingest/otlp_metrics.h"
#include "ingest/otlp_receiver.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;
using ingest::ExportResult;

const log::Logger kLog("api");

// google.rpc.Code values used in error bodies.
constexpr int32_t kInvalidArgument = 3;
constexpr int32_t kResourceExhausted = 8;
constexpr int32_t kUnavailable = 14;

enum class Format { kProtobuf, kJson };

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Response Encoded(int status, Format f, std::string body) {
  Response r;
  r.status = status;
  r.content_type = f == Format::kJson ? "application/json" : "application/x-protobuf";
  r.body = std::move(body);
  return r;
}

Response Error(int status, Format f, int32_t grpc_code, const std::string& message) {
  return Encoded(status, f,
                 f == Format::kJson ? ingest::otlp::EncodeStatusJson(grpc_code, message)
                                    : ingest::otlp::EncodeStatusProtobuf(grpc_code, message));
}

Response Handle(ingest::OtlpReceiver* receiver, Request& req) {
  const std::string type = Lower(Trim(req.Header("Content-Type").value_or("")));
  const std::string_view media = Trim(std::string_view(type).substr(0, type.find(';')));
  Format format;
  if (media == "application/x-protobuf") {
    format = Format::kProtobuf;
  } else if (media == "application/json") {
    format = Format::kJson;
  } else {
    receiver->CountInvalidBody();
    return Response::Text(415, "unsupported Content-Type \"" + std::string(req.Header("Content-Type").value_or("")) +
                                   "\": OTLP/HTTP bodies are application/x-protobuf or application/json\n");
  }
  std::string inflated;
  std::string_view body = req.body;
  if (auto enc = req.Header("Content-Encoding")) {
    const std::string e = Lower(Trim(*enc));
    if (e == "gzip") {
      Result<std::string> out = http::GzipDecompress(req.body, receiver->options().max_decompressed_bytes);
      if (!out.ok()) {
        receiver->CountInvalidBody();
        if (out.status().code() == StatusCode::kResourceExhausted) {
          return Error(413, format, kResourceExhausted,
                       "the gzip body decompresses to more than " +
                           std::to_string(receiver->options().max_decompressed_bytes) + " bytes");
        }
        return Error(400, format, kInvalidArgument, "invalid gzip body: " + out.status().message());
      }
      inflated = std::move(*out);
      body = inflated;
    } else if (!e.empty() && e != "identity") {
      receiver->CountInvalidBody();
      return Response::Text(415, "unsupported Content-Encoding \"" + std::string(*enc) +
                                     "\": OTLP/HTTP bodies are uncompressed or gzip\n");
    }
  }
  ingest::otlp::MetricsRequest request;
  Status st = format == Format::kJson ? ingest::otlp::DecodeJson(body, &request)
                                      : ingest::otlp::DecodeProtobuf(body, &request);
  if (!st.ok()) {
    receiver->CountInvalidBody();
    kLog.Warn("otlp request refused", {{"remote", req.remote}, {"by", req.principal.name}, {"error", st.message()}});
    return Error(400, format, kInvalidArgument, st.message());
  }
  ExportResult r = receiver->Export(request);
  switch (r.outcome) {
    case ExportResult::Outcome::kStored:
      return Encoded(200, format,
                     format == Format::kJson ? ingest::otlp::EncodeResponseJson(0, "")
                                             : ingest::otlp::EncodeResponseProtobuf(0, ""));
    case ExportResult::Outcome::kPartlyRejected: {
      kLog.Warn("otlp data points refused", {{"remote", req.remote},
                                             {"by", req.principal.name},
                                             {"rejected", r.points_rejected},
                                             {"error", r.error.message()}});
      const auto rejected = static_cast<int64_t>(r.points_rejected);
      return Encoded(200, format,
                     format == Format::kJson ? ingest::otlp::EncodeResponseJson(rejected, r.error.message())
                                             : ingest::otlp::EncodeResponseProtobuf(rejected, r.error.message()));
    }
    case ExportResult::Outcome::kStorageFailed: {
      Response resp = Error(503, format, kUnavailable,
                            "storage failed, nothing of this request was stored; retry: " + r.error.message());
      resp.headers.emplace_back("Retry-After", "5");
      return resp;
    }
  }
  return Error(503, format, kUnavailable, "unreachable");
}

}  // namespace

void AddOtlpRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                   ingest::OtlpReceiver* receiver) {
  auto& family = registry->AddCounter("tyto_otlp_requests_total", "OTLP/HTTP metrics requests answered, by HTTP status code.",
                                      {"code"});
  const StatusCounters<4> codes(family, {200, 400, 413, 415}, 503);
  router->Add({"POST"}, "/v1/metrics", "/v1/metrics",
              guard->Require(auth::Scope::kWrite, [receiver, codes](Request& req) {
                Response resp = Handle(receiver, req);
                codes.Count(resp.status);
                return resp;
              }));
}

}  // namespace tyto::api
