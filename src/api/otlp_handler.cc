#include "api/otlp_handler.h"

#include <optional>
#include <string>
#include <utility>

#include "api/otlp_body.h"
#include "api/status_counters.h"
#include "api/tenant_limit.h"
#include "common/log.h"
#include "ingest/otlp_metrics.h"
#include "ingest/otlp_receiver.h"
#include "tenant/tenancy.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;
using ingest::ExportResult;

const log::Logger kLog("api");

Response Handle(ingest::OtlpReceiver* receiver, const tenant::Tenancy* tenancy, Request& req) {
  if (tenant::Limiter* limiter = tenancy->limiter()) {
    if (Status limited = limiter->CheckIngest(req.principal.tenant); !limited.ok()) {
      return TenantLimitResponse(limited);
    }
  }
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
  tenant::TenantStorage view = tenancy->View(req.principal.tenant);
  ExportResult r = receiver->Export(request, &view, req.principal.tenant);
  if (r.outcome == ExportResult::Outcome::kPartlyRejected && tenant::IsLimit(r.error)) {
    return TenantLimitResponse(r.error);
  }
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
                   ingest::OtlpReceiver* receiver, const tenant::Tenancy* tenancy) {
  auto& family = registry->AddCounter("tyto_otlp_requests_total", "OTLP/HTTP metrics requests answered, by HTTP status code.",
                                      {"code"});
  const StatusCounters<5> codes(family, {200, 400, 413, 415, 429}, 503);
  router->Add({"POST"}, "/v1/metrics", "/v1/metrics",
              guard->Require(auth::Scope::kWrite, [receiver, tenancy, codes](Request& req) {
                Response resp = Handle(receiver, tenancy, req);
                codes.Count(resp.status);
                return resp;
              }));
}

}  // namespace tyto::api
