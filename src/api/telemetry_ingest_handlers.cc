#include "api/telemetry_ingest_handlers.h"

#include <charconv>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "api/json_lines.h"
#include "api/otlp_body.h"
#include "api/tenant_limit.h"
#include "auth/auth.h"
#include "common/log.h"
#include "events/decode_limits.h"
#include "events/jsonl_decode.h"
#include "events/otlp_decode.h"
#include "eventstore/telemetry_store.h"
#include "http/gzip.h"
#include "inference/hub.h"
#include "inference/metrics.h"
#include "tenant/limits.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

const log::Logger kLog("api");

void CountStats(inference::Metrics* m, const events::DecodeStats& s) {
  auto add = [m](const char* what, uint64_t n) {
    if (n > 0) m->truncated.WithLabels({what}).Inc(static_cast<double>(n));
  };
  add("attribute_value", s.values_truncated);
  add("attribute", s.attributes_dropped);
  add("span_event", s.span_events_dropped);
  add("content", s.content_truncated);
  add("line", s.lines_too_long);
  add("invalid_utf8", s.utf8_repaired);
}

// Where a batch came from, for a store that stores a repeated batch once: the client's
// Idempotency-Key (any client may send one: its retries are then stored once), or what the NATS
// consumer sets (server/bus_ingest.cc). A keyed request may be a retry, so the store looks for it
// first, unless the consumer says this is the message's first delivery.
struct Source {
  std::string key;  // what options.source views: it must live as long as the options
  eventstore::AppendOptions options;
  explicit Source(const Request& req) {
    key = std::string(req.Header("Idempotency-Key").value_or(""));
    if (key.size() > 256) key.resize(256);
    // Keys are the sender's: one tenant's key never matches another's earlier batch.
    if (!key.empty() && req.principal.tenant != auth::kDefaultTenant) key = req.principal.tenant + "/" + key;
    options.source = key;
    options.maybe_repeated = !key.empty() && req.Header("X-Tyto-First-Delivery").value_or("") != "true";
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
};

struct Context {
  inference::Hub* hub;
  inference::Metrics* metrics;
  const events::DecodeLimits* limits;
  Clock* clock;
  tenant::Limiter* limiter;  // may be null: no limits
};

// The time given to records that carry none: when the batch was received. A batch from the NATS
// bus says when it entered the stream (X-Tyto-Received-At, Unix ms), so every delivery of it
// decodes to the same rows, and a store that looks for an earlier copy by time finds it.
int64_t ReceivedAt(const Context& c, const Request& req) {
  if (std::optional<std::string_view> h = req.Header("X-Tyto-Received-At")) {
    int64_t ms = 0;
    const auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), ms);
    if (ec == std::errc() && end == h->data() + h->size() && ms > 0) return ms;
  }
  return c.clock->NowMillis();
}

// Every record belongs to the tenant the request acts for (Principal::tenant, set by the guard).
template <typename T>
void SetOrg(const Context& c, const Request& req, std::vector<T>* records) {
  for (T& r : *records) r.org = req.principal.tenant;
  if (c.limiter != nullptr) c.limiter->ChargeEvents(req.principal.tenant, records->size());
}

Response Traces(const Context& c, Request& req) {
  OtlpBody in;
  if (std::optional<Response> refused = ReadOtlpBody(req, c.limits->max_decoded_bytes, &in)) {
    c.metrics->rejected.WithLabels({"/v1/traces", "body"}).Inc();
    return std::move(*refused);
  }
  events::DecodedSpans d;
  Status st = in.format == OtlpFormat::kJson ? events::DecodeTracesJson(in.bytes, *c.limits, &d)
                                             : events::DecodeTracesProtobuf(in.bytes, *c.limits, &d);
  if (!st.ok()) {
    c.metrics->rejected.WithLabels({"/v1/traces", "body"}).Inc();
    kLog.Warn("otlp traces refused", {{"remote", req.remote}, {"by", req.principal.name}, {"error", st.message()}});
    return OtlpError(400, in.format, kRpcInvalidArgument, st.message());
  }
  CountStats(c.metrics, d.stats);
  if (d.rejected > 0) c.metrics->rejected.WithLabels({"/v1/traces", "span"}).Inc(static_cast<double>(d.rejected));
  SetOrg(c, req, &d.spans);
  const Source source(req);
  if (Status stored = c.hub->IngestSpans(std::move(d.spans), source.options); !stored.ok()) {
    Response r = OtlpError(503, in.format, kRpcUnavailable,
                           "the event store failed, the spans of this request were not kept; retry: " + stored.message());
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return OtlpEncoded(200, in.format,
                     in.format == OtlpFormat::kJson ? events::EncodeTracesResponseJson(d.rejected, d.first_rejection)
                                                    : events::EncodeTracesResponseProtobuf(d.rejected, d.first_rejection));
}

Response OtlpLogs(const Context& c, Request& req) {
  OtlpBody in;
  if (std::optional<Response> refused = ReadOtlpBody(req, c.limits->max_decoded_bytes, &in)) {
    c.metrics->rejected.WithLabels({"/v1/logs", "body"}).Inc();
    return std::move(*refused);
  }
  events::DecodedLogs d;
  Status st = in.format == OtlpFormat::kJson ? events::DecodeLogsJson(in.bytes, *c.limits, &d)
                                             : events::DecodeLogsProtobuf(in.bytes, *c.limits, &d);
  if (!st.ok()) {
    c.metrics->rejected.WithLabels({"/v1/logs", "body"}).Inc();
    kLog.Warn("otlp logs refused", {{"remote", req.remote}, {"by", req.principal.name}, {"error", st.message()}});
    return OtlpError(400, in.format, kRpcInvalidArgument, st.message());
  }
  CountStats(c.metrics, d.stats);
  if (d.rejected > 0) c.metrics->rejected.WithLabels({"/v1/logs", "record"}).Inc(static_cast<double>(d.rejected));
  SetOrg(c, req, &d.records);
  const Source source(req);
  Status stored = c.hub->IngestLogs(std::move(d.records), source.options);
  if (!stored.ok()) {
    Response r = OtlpError(503, in.format, kRpcUnavailable,
                           "the event store failed, no log record of this request was kept; retry: " + stored.message());
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return OtlpEncoded(200, in.format,
                     in.format == OtlpFormat::kJson ? events::EncodeLogsResponseJson(d.rejected, d.first_rejection)
                                                    : events::EncodeLogsResponseProtobuf(d.rejected, d.first_rejection));
}

Response Events(const Context& c, Request& req) {
  std::string inflated;
  std::string_view body;
  if (std::optional<Response> refused = ReadJsonLinesBody(req, c.limits->max_decoded_bytes, &inflated, &body)) {
    c.metrics->rejected.WithLabels({"/api/v1/events", "body"}).Inc();
    return std::move(*refused);
  }
  events::DecodedEvents d = events::DecodeEventsJsonLines(body, ReceivedAt(c, req), *c.limits);
  events::LineReport report = std::move(d.report);
  CountStats(c.metrics, report.stats);
  if (report.rejected > 0) {
    c.metrics->rejected.WithLabels({"/api/v1/events", "line"}).Inc(static_cast<double>(report.rejected));
  }
  if (req.principal.tenant != auth::kDefaultTenant && (!d.deployments.empty() || !d.pipeline_stages.empty())) {
    // Playbook rollbacks of every tenant read deployments: only the server's operators write them.
    c.metrics->rejected.WithLabels({"/api/v1/events", "tenant"}).Inc();
    return Response::Error(403, "forbidden",
                           "deployment and pipeline_stage events are the server's, not a tenant's: send them for "
                           "tenant 'default' (this request was for '" + req.principal.tenant +
                               "'); nothing of it was stored");
  }
  std::vector<std::string> notes;
  SetOrg(c, req, &d.inferences);
  const Source source(req);
  Status st = c.hub->IngestEvents(std::move(d), source.options);
  if (!st.ok() && !source.key.empty()) {
    // A keyed batch can be sent again without being stored twice (its metrics are counted again).
    Response r = Response::Error(503, "unavailable",
                                 "the event store failed; send the batch again with the same Idempotency-Key: " +
                                     st.message());
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  if (!st.ok()) notes.push_back("counted in the metrics, but not all kept in the event store: " + st.message());
  return JsonLinesReport(report, JsonLinesStatus(report), notes);
}

Response LogLines(const Context& c, Request& req) {
  std::string inflated;
  std::string_view body;
  if (std::optional<Response> refused = ReadJsonLinesBody(req, c.limits->max_decoded_bytes, &inflated, &body)) {
    c.metrics->rejected.WithLabels({"/api/v1/logs", "body"}).Inc();
    return std::move(*refused);
  }
  events::DecodedLogLines d = events::DecodeLogsJsonLines(body, ReceivedAt(c, req), *c.limits);
  CountStats(c.metrics, d.report.stats);
  if (d.report.rejected > 0) {
    c.metrics->rejected.WithLabels({"/api/v1/logs", "line"}).Inc(static_cast<double>(d.report.rejected));
  }
  SetOrg(c, req, &d.records);
  const Source source(req);
  Status st = c.hub->IngestLogs(std::move(d.records), source.options);
  if (!st.ok()) {
    Response r = Response::Error(503, "unavailable",
                                 "the event store failed, no line of this request was kept; retry: " + st.message());
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return JsonLinesReport(d.report, JsonLinesStatus(d.report), {});
}

}  // namespace

void AddTelemetryIngestRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                              inference::Hub* hub, inference::Metrics* metrics, const events::DecodeLimits* limits,
                              Clock* clock, tenant::Limiter* limiter) {
  const Context c{hub, metrics, limits, clock, limiter};
  auto& family = registry->AddCounter("tyto_telemetry_requests_total",
                                      "Trace, log and event ingest requests answered, by endpoint and HTTP status code.",
                                      {"handler", "code"});
  auto add = [&](const std::string& path, Response (*handle)(const Context&, Request&)) {
    router->Add({"POST"}, path, path,
                guard->Require(auth::Scope::kWrite, [c, handle, &family, path](Request& req) {
                  Status limited = c.limiter != nullptr ? c.limiter->CheckEvents(req.principal.tenant) : Status::Ok();
                  Response resp = limited.ok() ? handle(c, req) : TenantLimitResponse(limited);
                  family.WithLabels({path, std::to_string(resp.status)}).Inc();
                  return resp;
                }));
  };
  add("/v1/traces", Traces);
  add("/v1/logs", OtlpLogs);
  add("/api/v1/events", Events);
  add("/api/v1/logs", LogLines);
}

}  // namespace tyto::api
