#include "api/telemetry_ingest_handlers.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "api/json_lines.h"
#include "api/otlp_body.h"
#include "common/log.h"
#include "events/decode_limits.h"
#include "events/jsonl_decode.h"
#include "events/otlp_decode.h"
#include "http/gzip.h"
#include "inference/hub.h"
#include "inference/metrics.h"

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

struct Context {
  inference::Hub* hub;
  inference::Metrics* metrics;
  const events::DecodeLimits* limits;
  Clock* clock;
};

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
  c.hub->IngestSpans(std::move(d.spans));
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
  Status stored = c.hub->IngestLogs(std::move(d.records));
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
  events::DecodedEvents d = events::DecodeEventsJsonLines(body, c.clock->NowMillis(), *c.limits);
  events::LineReport report = std::move(d.report);
  CountStats(c.metrics, report.stats);
  if (report.rejected > 0) {
    c.metrics->rejected.WithLabels({"/api/v1/events", "line"}).Inc(static_cast<double>(report.rejected));
  }
  std::vector<std::string> notes;
  Status st = c.hub->IngestEvents(std::move(d));
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
  events::DecodedLogLines d = events::DecodeLogsJsonLines(body, c.clock->NowMillis(), *c.limits);
  CountStats(c.metrics, d.report.stats);
  if (d.report.rejected > 0) {
    c.metrics->rejected.WithLabels({"/api/v1/logs", "line"}).Inc(static_cast<double>(d.report.rejected));
  }
  Status st = c.hub->IngestLogs(std::move(d.records));
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
                              Clock* clock) {
  const Context c{hub, metrics, limits, clock};
  auto& family = registry->AddCounter("tyto_telemetry_requests_total",
                                      "Trace, log and event ingest requests answered, by endpoint and HTTP status code.",
                                      {"handler", "code"});
  auto add = [&](const std::string& path, Response (*handle)(const Context&, Request&)) {
    router->Add({"POST"}, path, path,
                guard->Require(auth::Scope::kWrite, [c, handle, &family, path](Request& req) {
                  Response resp = handle(c, req);
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
