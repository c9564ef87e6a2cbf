#include "api/remote_write_handler.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "api/status_counters.h"
#include "common/log.h"
#include "ingest/remote_write.h"

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
                          ingest::RemoteWriteReceiver* receiver) {
  auto& family = registry->AddCounter("tyto_remote_write_requests_total",
                                      "Remote write requests answered, by HTTP status code.", {"code"});
  const StatusCounters<4> codes(family, {204, 400, 413, 415}, 500);
  router->Add(
      {"POST"}, "/api/v1/write", "/api/v1/write",
      guard->Require(auth::Scope::kWrite, [receiver, codes](Request& req) {
        Response resp;
        if (std::string why = UnsupportedEncoding(req); !why.empty()) {
          resp = Response::Text(415, why + "\n");
        } else {
          WriteResult r = receiver->Write(req.body);
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
            case WriteResult::Outcome::kBadRequest: {
              const bool too_large = r.error.code() == StatusCode::kResourceExhausted &&
                                     r.outcome == WriteResult::Outcome::kBadRequest;
              resp = Response::Text(too_large ? 413 : 400, r.error.message() + "\n");
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
