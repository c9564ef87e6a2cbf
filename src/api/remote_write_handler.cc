#include "api/remote_write_handler.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "api/status_counters.h"
#include "api/tenant_limit.h"
#include "common/log.h"
#include "ingest/remote_write.h"
#include "tenant/tenancy.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;
using ingest::WriteResult;

const log::Logger kLog("api");

// Why the request's headers rule out a remote write 1.0 body, or "" when they do not.
// Prometheus's own receiver does not insist on the headers, so absent ones are accepted.
std::string UnsupportedEncoding(const Request& req) {
  if (auto enc = req.Header("Content-Encoding")) {
    if (http::NormalizeHeaderValue(*enc) != "snappy") {
      return "unsupported Content-Encoding \"" + std::string(*enc) +
             "\": remote write bodies are snappy-compressed (Content-Encoding: snappy)";
    }
  }
  if (auto type = req.Header("Content-Type")) {
    const std::string t = http::NormalizeHeaderValue(*type);
    const size_t proto = t.find("proto=");
    if (proto != std::string::npos && t.find("prometheus.writerequest", proto) == std::string::npos) {
      return "unsupported Content-Type \"" + std::string(*type) +
             "\": only remote write 1.0 (prometheus.WriteRequest) is supported";
    }
  }
  return "";
}

}  // namespace

void AddRemoteWriteRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                          ingest::RemoteWriteReceiver* receiver, const tenant::Tenancy* tenancy) {
  auto& family = registry->AddCounter("tyto_remote_write_requests_total",
                                      "Remote write requests answered, by HTTP status code.", {"code"});
  const StatusCounters<5> codes(family, {204, 400, 413, 415, 429}, 500);
  router->Add(
      {"POST"}, "/api/v1/write", "/api/v1/write",
      guard->Require(auth::Scope::kWrite, [receiver, tenancy, codes](Request& req) {
        Response resp;
        tenant::TenantStorage view = tenancy->View(req.principal.tenant);
        Status limited = tenancy->limiter() != nullptr ? tenancy->limiter()->CheckIngest(req.principal.tenant)
                                                       : Status::Ok();
        if (std::string why = UnsupportedEncoding(req); !why.empty()) {
          resp = Response::Text(415, why + "\n");
        } else if (!limited.ok()) {
          resp = TenantLimitResponse(limited);
        } else {
          WriteResult r = receiver->Write(req.body, &view, req.principal.tenant == auth::kDefaultTenant);
          switch (r.outcome) {
            case WriteResult::Outcome::kStored:
              resp = Response::Text(204, "");
              if (r.exemplars_ignored + r.histograms_ignored + r.metadata_ignored > 0) {
                resp.headers.emplace_back("X-Tyto-Ignored",
                                          "exemplars=" + std::to_string(r.exemplars_ignored) +
                                              " histograms=" + std::to_string(r.histograms_ignored) +
                                              " metadata=" + std::to_string(r.metadata_ignored));
              }
              break;
            case WriteResult::Outcome::kPartlyRejected:
              if (tenant::IsLimit(r.error)) {
                resp = TenantLimitResponse(r.error);
                break;
              }
              [[fallthrough]];
            case WriteResult::Outcome::kBadRequest: {
              const bool too_large = r.error.code() == StatusCode::kResourceExhausted &&
                                     r.outcome == WriteResult::Outcome::kBadRequest;
              resp = Response::Text(too_large ? 413 : 400, r.error.message() + "\n");
              if (too_large) resp.refused = "decompressed_too_large";  // the snappy block's declared size
              kLog.Warn("remote write refused", {{"status", resp.status},
                                                 {"remote", req.remote},
                                                 {"by", req.principal.name},
                                                 {"samples_stored", r.samples_stored},
                                                 {"samples_rejected", r.samples_rejected},
                                                 {"error", r.error.message()}});
              break;
            }
            case WriteResult::Outcome::kStorageFailed:
              resp = Response::Text(500, "storage failed, nothing of this request was stored; retry: " +
                                             r.error.message() + "\n");
              break;
          }
        }
        codes.Count(resp.status);
        return resp;
      }));
}

}  // namespace tyto::api
