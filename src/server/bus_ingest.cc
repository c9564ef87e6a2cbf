#include "server/bus_ingest.h"

#include <utility>

namespace tyto::server {
namespace {

bool IsJsonLines(std::string_view content_type) {
  const std::string_view type = content_type.substr(0, content_type.find(';'));
  return type == "application/x-ndjson" || type == "text/plain";
}

}  // namespace

std::string_view IngestRoute(std::string_view kind, std::string_view content_type, std::string_view content_encoding) {
  if (kind == "metrics") {
    return content_encoding == "snappy" || content_type.empty() ? "/api/v1/write" : "/v1/metrics";
  }
  if (kind == "spans") return "/v1/traces";
  if (kind == "logs") return IsJsonLines(content_type) ? "/api/v1/logs" : "/v1/logs";
  if (kind == "events") return "/api/v1/events";
  return {};
}

Status DispatchIngest(const http::Router& router, const std::string& bearer, BusMessage message) {
  const std::string_view path = IngestRoute(message.kind, message.content_type, message.content_encoding);
  if (path.empty()) return InvalidArgument("unknown telemetry kind '" + message.kind + "'");
  http::Request req;
  req.method = "POST";
  req.path = std::string(path);
  req.target = req.path;
  req.remote = "nats";
  const bool remote_write = path == "/api/v1/write";
  std::string type = message.content_type;
  if (type.empty()) type = path.starts_with("/api/v1/") && !remote_write ? "application/x-ndjson" : "application/x-protobuf";
  req.headers.emplace_back("Content-Type", std::move(type));
  std::string encoding = message.content_encoding;
  if (encoding.empty() && remote_write) encoding = "snappy";
  if (!encoding.empty()) req.headers.emplace_back("Content-Encoding", std::move(encoding));
  if (remote_write) req.headers.emplace_back("X-Prometheus-Remote-Write-Version", "0.1.0");
  if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
  req.headers.emplace_back("X-Scope-OrgID", message.tenant.empty() ? std::string("default") : message.tenant);
  if (!message.source.empty()) {
    req.headers.emplace_back("Idempotency-Key", message.source);
    if (message.first_delivery) req.headers.emplace_back("X-Tyto-First-Delivery", "true");
  }
  if (message.received_ms > 0) req.headers.emplace_back("X-Tyto-Received-At", std::to_string(message.received_ms));
  req.body = std::move(message.body);
  http::Response resp = router.Dispatch(req);
  return IngestAnswer(resp.status, path, resp.body);
}

Status IngestAnswer(int status, std::string_view where, std::string_view body) {
  if (status >= 200 && status < 300) return Status::Ok();
  std::string why = std::string(where) + " answered " + std::to_string(status) + ": " + std::string(body.substr(0, 512));
  if (status == 400 || status == 404 || status == 413 || status == 415) return InvalidArgument(std::move(why));
  return Unavailable(std::move(why));
}

}  // namespace tyto::server
