#include "api/otlp_handler.h"

#include <optional>
#include <string>
#include <utility>

#include "api/otlp_body.h"
#include "api/status_counters.h"
#include "common/log.h"
#include "ingest/otlp_metrics.h"
#include "ingest/otlp_receiver.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;
using ingest::ExportResult;

const log::Logger kLog("api");

Response Handle(ingest::OtlpReceiver* receiver, Request& req) {
  OtlpBody in;
  if (std::optional<Response> refused = ReadOtlpBody(req, receiver->options().max_decompressed_bytes, &in)) {
    receiver->CountInvalidBody();
    return std::move(*refused);
  }
  const OtlpFormat format = in.format;
  const std::string_view body = in.bytes;
  ingest::otlp::MetricsRequest request;
  Status st = format == OtlpFormat::kJson ? ingest::otlp::DecodeJson(body, &request)
                                      : ingest::otlp::DecodeProtobuf(body, &request);
  if (!st.ok()) {
    receiver->CountInvalidBody();
    kLog.Warn("otlp request refused", {{"remote", req.remote}, {"by", req.principal.name}, {"error", st.message()}});
    return OtlpError(400, format, kRpcInvalidArgument, st.message());
  }
  ExportResult r = receiver->Export(request);
  switch (r.outcome) {
    case ExportResult::Outcome::kStored:
      return OtlpEncoded(200, format,
                     format == OtlpFormat::kJson ? ingest::otlp::EncodeResponseJson(0, "")
                                             : ingest::otlp::EncodeResponseProtobuf(0, ""));
    case ExportResult::Outcome::kPartlyRejected: {
      kLog.Warn("otlp data points refused", {{"remote", req.remote},
                                             {"by", req.principal.name},
                                             {"rejected", r.points_rejected},
                                             {"error", r.error.message()}});
      const auto rejected = static_cast<int64_t>(r.points_rejected);
      return OtlpEncoded(200, format,
                     format == OtlpFormat::kJson ? ingest::otlp::EncodeResponseJson(rejected, r.error.message())
                                             : ingest::otlp::EncodeResponseProtobuf(rejected, r.error.message()));
    }
    case ExportResult::Outcome::kStorageFailed: {
      Response resp = OtlpError(503, format, kRpcUnavailable,
                            "storage failed, nothing of this request was stored; retry: " + r.error.message());
      resp.headers.emplace_back("Retry-After", "5");
      return resp;
    }
  }
  return OtlpError(503, format, kRpcUnavailable, "unreachable");
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
