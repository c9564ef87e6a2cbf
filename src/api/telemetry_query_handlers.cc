#include "api/telemetry_query_handlers.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/json.h"
#include "api/params.h"
#include "common/units.h"
#include "eventstore/telemetry_store.h"
#include "eventstore/trace_tree.h"
#include "http/sse.h"
#include "inference/hub.h"
#include "quality/ground_truth.h"
#include "tenant/tenant_storage.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

constexpr int64_t kMaxWaitMs = 30'000;

Response BadData(const std::string& message) { return Response::Error(400, "bad_data", message); }

Response StoreError(const Status& st) {
  if (st.code() == StatusCode::kInvalidArgument) return BadData(st.message());
  if (st.code() == StatusCode::kNotFound) return Response::Error(404, "not_found", st.message());
  return Response::Error(503, "unavailable", st.message());
}

// A Go duration ("1.5s", "250ms", "1h30m", "2us", "2µs"), in nanoseconds.
Result<int64_t> ParseGoDuration(std::string_view name, std::string_view text) {
  auto bad = [&] { return InvalidArgument("invalid " + std::string(name) + " '" + std::string(text) + "': expected a duration such as 1.5s or 250ms"); };
  if (text.empty()) return bad();
  if (text == "0") return int64_t{0};
  double total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && ((rest[i] >= '0' && rest[i] <= '9') || rest[i] == '.')) ++i;
    if (i == 0) return bad();
    double v = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + i, v);
    if (ec != std::errc() || ptr != rest.data() + i) return bad();
    rest.remove_prefix(i);
    double unit = 0;
    for (auto [u, ns] : std::initializer_list<std::pair<std::string_view, double>>{
             {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}}) {
      if (rest.substr(0, u.size()) == u && (u != "m" || rest.substr(0, 2) != "ms")) {
        unit = ns;
        rest.remove_prefix(u.size());
        break;
      }
    }
    if (unit == 0) return bad();
    total += v * unit;
  }
  if (!(total < 9.2e18)) return bad();
  return static_cast<int64_t>(total);
}

Result<size_t> ParseLimit(const Request& req, size_t dflt) {
  auto p = req.Param("limit");
  if (!p || p->empty()) return dflt;
  size_t v = 0;
  auto [ptr, ec] = std::from_chars(p->data(), p->data() + p->size(), v);
  if (ec != std::errc() || ptr != p->data() + p->size() || v == 0 || v > 10000) {
    return InvalidArgument("invalid limit '" + std::string(*p) + "': expected 1 to 10000");
  }
  return v;
}

// start and end (Prometheus's forms: Unix seconds or RFC 3339) as Unix milliseconds; the
// defaults are the last hour.
Status ParseRangeMs(const Request& req, const Clock* clock, int64_t* start, int64_t* end) {
  *end = clock->NowMillis();
  *start = *end - 3'600'000;
  if (auto e = req.Param("end"); e && !e->empty()) {
    TYTO_ASSIGN_OR_RETURN(*end, ParseTimeParam("end", *e));
  }
  if (auto s = req.Param("start"); s && !s->empty()) {
    TYTO_ASSIGN_OR_RETURN(*start, ParseTimeParam("start", *s));
  } else if (req.Param("end")) {
    *start = *end - 3'600'000;
  }
  if (*end < *start) return InvalidArgument("end is before start");
  return Status();
}

// attr=key=value, repeated.
Result<std::vector<eventstore::AttributeFilter>> ParseAttrs(const Request& req) {
  std::vector<eventstore::AttributeFilter> out;
  for (std::string_view a : req.Params("attr")) {
    size_t eq = a.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgument("invalid attr '" + std::string(a) + "': expected key=value");
    }
    out.push_back({std::string(a.substr(0, eq)), std::string(a.substr(eq + 1))});
  }
  return out;
}

std::string Param(const Request& req, std::string_view name) { return std::string(req.Param(name).value_or("")); }

void Str(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void Attributes(JsonWriter& w, std::string_view key, const std::vector<events::Attribute>& attrs) {
  Key(w, key);
  w.StartObject();
  for (const events::Attribute& a : attrs) String(w, a.key, a.value);
  w.EndObject();
}

std::string_view KindName(events::SpanKind k) {
  switch (k) {
    case events::SpanKind::kInternal: return "internal";
    case events::SpanKind::kServer: return "server";
    case events::SpanKind::kClient: return "client";
    case events::SpanKind::kProducer: return "producer";
    case events::SpanKind::kConsumer: return "consumer";
    case events::SpanKind::kUnspecified: break;
  }
  return "unspecified";
}

std::string_view StatusName(events::StatusCode c) {
  switch (c) {
    case events::StatusCode::kOk: return "ok";
    case events::StatusCode::kError: return "error";
    case events::StatusCode::kUnset: break;
  }
  return "unset";
}

Result<std::optional<events::StatusCode>> ParseStatus(std::string_view s) {
  if (s.empty()) return std::optional<events::StatusCode>();
  if (s == "ok") return std::optional(events::StatusCode::kOk);
  if (s == "error") return std::optional(events::StatusCode::kError);
  if (s == "unset") return std::optional(events::StatusCode::kUnset);
  return InvalidArgument("invalid status '" + std::string(s) + "': expected ok, error or unset");
}

// ---- Jaeger -------------------------------------------------------------------------------

Response JaegerData(const std::function<void(JsonWriter&)>& data, size_t total) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, "data");
  data(w);
  Key(w, "total");
  w.Uint64(total);
  Key(w, "limit");
  w.Int(0);
  Key(w, "offset");
  w.Int(0);
  Key(w, "errors");
  w.Null();
  w.EndObject();
  return Response::Json(200, std::string(buf.GetString(), buf.GetSize()));
}

Response JaegerError(int code, const std::string& msg) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, "data");
  w.Null();
  Key(w, "total");
  w.Int(0);
  Key(w, "limit");
  w.Int(0);
  Key(w, "offset");
  w.Int(0);
  Key(w, "errors");
  w.StartArray();
  w.StartObject();
  Key(w, "code");
  w.Int(code);
  String(w, "msg", msg);
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return Response::Json(code, std::string(buf.GetString(), buf.GetSize()));
}

void JaegerTag(JsonWriter& w, std::string_view key, std::string_view value) {
  w.StartObject();
  String(w, "key", key);
  String(w, "type", "string");
  String(w, "value", value);
  w.EndObject();
}

// One trace in Jaeger's JSON (model/json in jaeger): spans with references to their parents,
// microsecond times, tags, logs from span events; one process per service.
void JaegerTrace(JsonWriter& w, const std::vector<events::Span>& spans) {
  std::map<std::string, std::string> process_of;  // service -> p1, p2, ...
  std::map<std::string, const events::Span*> first_of;
  for (const events::Span& s : spans) {
    if (process_of.emplace(s.service, "p" + std::to_string(process_of.size() + 1)).second) first_of[s.service] = &s;
  }
  w.StartObject();
  String(w, "traceID", spans.empty() ? "" : spans.front().trace_id);
  Key(w, "spans");
  w.StartArray();
  for (const events::Span& s : spans) {
    w.StartObject();
    String(w, "traceID", s.trace_id);
    String(w, "spanID", s.span_id);
    String(w, "operationName", s.name);
    Key(w, "references");
    w.StartArray();
    if (!s.parent_span_id.empty()) {
      w.StartObject();
      String(w, "refType", "CHILD_OF");
      String(w, "traceID", s.trace_id);
      String(w, "spanID", s.parent_span_id);
      w.EndObject();
    }
    w.EndArray();
    Key(w, "startTime");
    w.Int64(s.start_unix_nano / 1000);
    Key(w, "duration");
    w.Int64(std::max<int64_t>(0, s.end_unix_nano - s.start_unix_nano) / 1000);
    Key(w, "tags");
    w.StartArray();
    JaegerTag(w, "span.kind", KindName(s.kind));
    if (s.status != events::StatusCode::kUnset) {
      JaegerTag(w, "otel.status_code", s.status == events::StatusCode::kOk ? "OK" : "ERROR");
    }
    if (!s.status_message.empty()) JaegerTag(w, "otel.status_description", s.status_message);
    if (s.status == events::StatusCode::kError) {
      w.StartObject();
      String(w, "key", "error");
      String(w, "type", "bool");
      Key(w, "value");
      w.Bool(true);
      w.EndObject();
    }
    if (!s.scope_name.empty()) JaegerTag(w, "otel.scope.name", s.scope_name);
    for (const events::Attribute& a : s.attributes) JaegerTag(w, a.key, a.value);
    w.EndArray();
    Key(w, "logs");
    w.StartArray();
    for (const events::SpanEvent& e : s.events) {
      w.StartObject();
      Key(w, "timestamp");
      w.Int64(e.time_unix_nano / 1000);
      Key(w, "fields");
      w.StartArray();
      JaegerTag(w, "event", e.name);
      for (const events::Attribute& a : e.attributes) JaegerTag(w, a.key, a.value);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    String(w, "processID", process_of[s.service]);
    Key(w, "warnings");
    w.Null();
    Key(w, "flags");
    w.Int(1);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "processes");
  w.StartObject();
  for (const auto& [service, id] : process_of) {
    Key(w, id);
    w.StartObject();
    String(w, "serviceName", service);
    Key(w, "tags");
    w.StartArray();
    for (const events::Attribute& a : first_of[service]->resource) {
      if (a.key != "service.name") JaegerTag(w, a.key, a.value);
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  Key(w, "warnings");
  w.Null();
  w.EndObject();
}

// Every query reads only the data of the request's tenant (Principal::tenant, set by the guard):
// another tenant's trace answers 404 like a missing one.
const std::string& Org(const Request& req) { return req.principal.tenant; }

Response JaegerServices(eventstore::TelemetryStore* store, const Request& req) {
  Result<std::vector<std::string>> r = store->Services(Org(req));
  if (!r.ok()) return JaegerError(500, r.status().message());
  return JaegerData(
      [&](JsonWriter& w) {
        w.StartArray();
        for (const std::string& s : *r) Str(w, s);
        w.EndArray();
      },
      r->size());
}

Response JaegerOperations(eventstore::TelemetryStore* store, const Request& req, std::string_view service,
                          bool with_kind, std::string_view kind_filter) {
  Result<std::vector<eventstore::Operation>> r = store->Operations(Org(req), service);
  if (!r.ok()) return JaegerError(500, r.status().message());
  size_t n = 0;
  return JaegerData(
      [&](JsonWriter& w) {
        w.StartArray();
        std::set<std::string> names;
        for (const eventstore::Operation& op : *r) {
          if (!kind_filter.empty() && KindName(op.kind) != kind_filter) continue;
          if (with_kind) {
            w.StartObject();
            String(w, "name", op.name);
            String(w, "spanKind", KindName(op.kind));
            w.EndObject();
            ++n;
          } else if (names.insert(op.name).second) {
            Str(w, op.name);
            ++n;
          }
        }
        w.EndArray();
      },
      n);
}

Response JaegerFind(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::TraceQuery q;
  q.org = Org(req);
  q.service = Param(req, "service");
  q.operation = Param(req, "operation");
  const int64_t now_us = clock->NowMillis() * 1000;
  int64_t end_us = now_us, start_us = now_us - 3'600'000'000LL;
  auto parse_us = [](std::string_view name, std::string_view v, int64_t* out) -> Status {
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
    if (ec != std::errc() || ptr != v.data() + v.size()) {
      return InvalidArgument("invalid " + std::string(name) + " '" + std::string(v) + "': expected microseconds since the epoch");
    }
    return Status();
  };
  if (auto v = req.Param("end"); v && !v->empty()) {
    if (Status st = parse_us("end", *v, &end_us); !st.ok()) return JaegerError(400, st.message());
  }
  if (auto v = req.Param("start"); v && !v->empty()) {
    if (Status st = parse_us("start", *v, &start_us); !st.ok()) return JaegerError(400, st.message());
  } else if (auto lb = req.Param("lookback"); lb && !lb->empty() && *lb != "custom") {
    Result<int64_t> d = ParseGoDuration("lookback", *lb);
    if (!d.ok()) return JaegerError(400, d.status().message());
    start_us = end_us - *d / 1000;
  }
  q.start_unix_nano = start_us * 1000;
  q.end_unix_nano = end_us * 1000;
  if (auto v = req.Param("minDuration"); v && !v->empty()) {
    Result<int64_t> d = ParseGoDuration("minDuration", *v);
    if (!d.ok()) return JaegerError(400, d.status().message());
    q.min_duration_nano = *d;
  }
  if (auto v = req.Param("maxDuration"); v && !v->empty()) {
    Result<int64_t> d = ParseGoDuration("maxDuration", *v);
    if (!d.ok()) return JaegerError(400, d.status().message());
    q.max_duration_nano = *d;
  }
  if (auto v = req.Param("tags"); v && !v->empty()) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(v->data(), v->size());
    if (doc.HasParseError() || !doc.IsObject()) return JaegerError(400, "invalid tags: expected a JSON object of strings");
    // (By index: RapidJSON's member iterators compare ambiguously under C++20.)
    for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
      const auto& member = *(doc.MemberBegin() + i);
      if (!member.value.IsString()) return JaegerError(400, "invalid tags: expected a JSON object of strings");
      std::string key(member.name.GetString(), member.name.GetStringLength());
      std::string value(member.value.GetString(), member.value.GetStringLength());
      if (key == "error") {
        if (value == "true") q.status = events::StatusCode::kError;
      } else if (key == "gen_ai.request.model" || key == "gen_ai.response.model") {
        q.model = value;
      } else {
        q.attributes.push_back({key, value});
      }
    }
  }
  Result<size_t> limit = ParseLimit(req, 20);
  if (!limit.ok()) return JaegerError(400, limit.status().message());
  q.limit = *limit;
  Result<std::vector<eventstore::TraceSummary>> found = store->FindTraces(q);
  if (!found.ok()) {
    return JaegerError(found.status().code() == StatusCode::kInvalidArgument ? 400 : 500, found.status().message());
  }
  std::vector<std::string> ids;
  for (const eventstore::TraceSummary& t : *found) ids.push_back(t.trace_id);
  Result<std::vector<std::vector<events::Span>>> traces = store->GetTraces(ids, {.org = Org(req)});
  if (!traces.ok()) return JaegerError(500, traces.status().message());
  return JaegerData(
      [&](JsonWriter& w) {
        w.StartArray();
        for (const auto& spans : *traces) JaegerTrace(w, spans);
        w.EndArray();
      },
      traces->size());
}

Response JaegerGet(eventstore::TelemetryStore* store, const Request& req, std::string_view id) {
  Result<std::vector<events::Span>> spans = store->GetTrace(id, {.org = Org(req)});
  if (!spans.ok()) {
    switch (spans.status().code()) {
      case StatusCode::kNotFound: return JaegerError(404, "trace not found");
      case StatusCode::kInvalidArgument: return JaegerError(400, spans.status().message());
      default: return JaegerError(500, spans.status().message());
    }
  }
  return JaegerData(
      [&](JsonWriter& w) {
        w.StartArray();
        JaegerTrace(w, *spans);
        w.EndArray();
      },
      1);
}

// ---- Tyto's own ---------------------------------------------------------------------------

void NanoString(JsonWriter& w, std::string_view key, int64_t ns) { String(w, key, std::to_string(ns)); }

Response FindTraces(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::TraceQuery q;
  q.org = Org(req);
  int64_t start = 0, end = 0;
  if (Status st = ParseRangeMs(req, clock, &start, &end); !st.ok()) return BadData(st.message());
  q.start_unix_nano = start * 1'000'000;
  q.end_unix_nano = end * 1'000'000;
  q.service = Param(req, "service");
  q.operation = Param(req, "operation");
  q.model = Param(req, "model");
  Result<std::optional<events::StatusCode>> status = ParseStatus(Param(req, "status"));
  if (!status.ok()) return BadData(status.status().message());
  q.status = *status;
  if (auto v = req.Param("min_duration"); v && !v->empty()) {
    Result<int64_t> d = ParseGoDuration("min_duration", *v);
    if (!d.ok()) return BadData(d.status().message());
    q.min_duration_nano = *d;
  }
  if (auto v = req.Param("max_duration"); v && !v->empty()) {
    Result<int64_t> d = ParseGoDuration("max_duration", *v);
    if (!d.ok()) return BadData(d.status().message());
    q.max_duration_nano = *d;
  }
  Result<std::vector<eventstore::AttributeFilter>> attrs = ParseAttrs(req);
  if (!attrs.ok()) return BadData(attrs.status().message());
  q.attributes = std::move(*attrs);
  Result<size_t> limit = ParseLimit(req, 20);
  if (!limit.ok()) return BadData(limit.status().message());
  q.limit = *limit;
  Result<std::vector<eventstore::TraceSummary>> r = store->FindTraces(q);
  if (!r.ok()) return StoreError(r.status());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const eventstore::TraceSummary& t : *r) {
      w.StartObject();
      String(w, "traceId", t.trace_id);
      String(w, "rootService", t.root_service);
      String(w, "rootName", t.root_name);
      NanoString(w, "startTimeUnixNano", t.start_unix_nano);
      Key(w, "durationMs");
      w.Double(static_cast<double>(t.end_unix_nano - t.start_unix_nano) / 1e6);
      Key(w, "spanCount");
      w.Uint(t.span_count);
      Key(w, "errorCount");
      w.Uint(t.error_count);
      Key(w, "services");
      w.StartArray();
      for (const std::string& s : t.services) Str(w, s);
      w.EndArray();
      Key(w, "models");
      w.StartArray();
      for (const std::string& s : t.models) Str(w, s);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

Response GetTrace(eventstore::TelemetryStore* store, const Request& req, std::string_view id) {
  Result<std::vector<events::Span>> spans = store->GetTrace(id, {.org = Org(req)});
  if (!spans.ok()) return StoreError(spans.status());
  eventstore::TraceTree tree = eventstore::BuildTraceTree(std::move(*spans));
  std::vector<size_t> parent(tree.spans.size(), std::numeric_limits<size_t>::max());
  for (size_t i = 0; i < tree.children.size(); ++i) {
    for (size_t c : tree.children[i]) parent[c] = i;
  }
  return Success([&](JsonWriter& w) {
    String(w, "traceId", tree.spans.empty() ? std::string_view(id) : std::string_view(tree.spans[0].trace_id));
    String(w, "logs", "/api/v1/logs?trace_id=" + (tree.spans.empty() ? std::string(id) : tree.spans[0].trace_id));
    Key(w, "spans");
    w.StartArray();
    for (size_t i : tree.DepthFirst()) {
      const events::Span& s = tree.spans[i];
      w.StartObject();
      String(w, "spanId", s.span_id);
      String(w, "parentSpanId", s.parent_span_id);
      Key(w, "depth");
      w.Uint64(tree.depth[i]);
      Key(w, "orphan");
      w.Bool(!s.parent_span_id.empty() && parent[i] == std::numeric_limits<size_t>::max());
      String(w, "service", s.service);
      String(w, "name", s.name);
      String(w, "kind", KindName(s.kind));
      NanoString(w, "startTimeUnixNano", s.start_unix_nano);
      NanoString(w, "endTimeUnixNano", s.end_unix_nano);
      Key(w, "durationMs");
      w.Double(static_cast<double>(s.end_unix_nano - s.start_unix_nano) / 1e6);
      String(w, "status", StatusName(s.status));
      if (!s.status_message.empty()) String(w, "statusMessage", s.status_message);
      Attributes(w, "attributes", s.attributes);
      Attributes(w, "resource", s.resource);
      Key(w, "events");
      w.StartArray();
      for (const events::SpanEvent& e : s.events) {
        w.StartObject();
        NanoString(w, "timeUnixNano", e.time_unix_nano);
        String(w, "name", e.name);
        Attributes(w, "attributes", e.attributes);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

void LogJson(JsonWriter& w, const eventstore::LogEntry& e) {
  const events::LogRecord& r = e.record;
  w.StartObject();
  Key(w, "cursor");
  w.Uint64(e.cursor);
  NanoString(w, "timeUnixNano", r.time_unix_nano);
  Key(w, "severityNumber");
  w.Int(r.severity_number);
  String(w, "severityText", r.severity_text);
  String(w, "body", r.body);
  String(w, "service", r.service);
  if (!r.trace_id.empty()) String(w, "traceId", r.trace_id);
  if (!r.span_id.empty()) String(w, "spanId", r.span_id);
  Attributes(w, "attributes", r.attributes);
  Attributes(w, "resource", r.resource);
  w.EndObject();
}

// The filters shared by search and tail.
Status ParseLogFilter(const Request& req, eventstore::LogQuery* q) {
  q->org = Org(req);
  q->text = Param(req, "query");
  q->trace_id = Param(req, "trace_id");
  q->service = Param(req, "service");
  std::string level = Param(req, "level");
  if (!level.empty()) {
    q->min_severity = events::SeverityNumberFromText(level);
    if (q->min_severity == 0) {
      return InvalidArgument("invalid level '" + level + "': expected trace, debug, info, warn, error or fatal");
    }
  }
  TYTO_ASSIGN_OR_RETURN(q->attributes, ParseAttrs(req));
  return Status();
}

Response SearchLogs(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::LogQuery q;
  if (Status st = ParseLogFilter(req, &q); !st.ok()) return BadData(st.message());
  int64_t start = 0, end = 0;
  if (Status st = ParseRangeMs(req, clock, &start, &end); !st.ok()) return BadData(st.message());
  q.start_unix_nano = start * 1'000'000;
  q.end_unix_nano = end * 1'000'000 + 999'999;
  Result<size_t> limit = ParseLimit(req, 100);
  if (!limit.ok()) return BadData(limit.status().message());
  q.limit = *limit;
  Result<std::vector<eventstore::LogEntry>> r = store->SearchLogs(q);
  if (!r.ok()) return StoreError(r.status());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const eventstore::LogEntry& e : *r) LogJson(w, e);
    w.EndArray();
  });
}

// The live tail as server-sent events (Accept: text/event-stream): each record as "event: log"
// with the long poll's JSON object and "id:" its cursor, so that EventSource's Last-Event-ID
// resumes after it. The stream reads the store only when a record is newer than its cursor.
Response TailLogsStream(eventstore::TelemetryStore* store, const Clock* clock, const Request& req, eventstore::LogQuery q,
                        uint64_t cursor, size_t limit) {
  if (auto last = req.Header("Last-Event-ID"); last && !last->empty()) {
    uint64_t resumed = 0;
    auto [ptr, ec] = std::from_chars(last->data(), last->data() + last->size(), resumed);
    if (ec == std::errc() && ptr == last->data() + last->size()) cursor = resumed;
  }
  auto producer = [store, q = std::move(q), cursor, limit]() mutable {
    http::BodyStream::Chunk out;
    if (store->LastLogCursor() <= cursor) return out;
    Result<eventstore::LogPage> page = store->LogsAfter(cursor, q, limit);
    if (!page.ok()) {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      String(w, "error", page.status().message());
      w.EndObject();
      out.data = http::SseEvent("error", std::string_view(buf.GetString(), buf.GetSize()));
      out.done = true;
      return out;
    }
    for (const eventstore::LogEntry& e : page->logs) {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      LogJson(w, e);
      out.data += http::SseEvent("log", std::string_view(buf.GetString(), buf.GetSize()), std::to_string(e.cursor));
    }
    cursor = page->next_cursor;
    return out;
  };
  return http::SseResponse(std::make_shared<http::SseStream>(std::move(producer), clock));
}

Response TailLogs(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::LogQuery q;
  if (Status st = ParseLogFilter(req, &q); !st.ok()) return BadData(st.message());
  uint64_t cursor = store->LastLogCursor();
  if (auto c = req.Param("cursor"); c && !c->empty()) {
    auto [ptr, ec] = std::from_chars(c->data(), c->data() + c->size(), cursor);
    if (ec != std::errc() || ptr != c->data() + c->size()) {
      return BadData("invalid cursor '" + std::string(*c) + "': pass the cursor of the previous answer");
    }
  }
  int64_t wait_ms = 0;
  if (auto v = req.Param("wait"); v && !v->empty()) {
    Result<std::chrono::milliseconds> d = ParseDuration(*v);
    if (!d.ok()) return BadData("invalid wait: " + d.status().message());
    wait_ms = std::min<int64_t>(d->count(), kMaxWaitMs);
  }
  Result<size_t> limit = ParseLimit(req, 100);
  if (!limit.ok()) return BadData(limit.status().message());
  if (http::WantsEventStream(req)) return TailLogsStream(store, clock, req, std::move(q), cursor, *limit);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    Result<eventstore::LogPage> page = store->LogsAfter(cursor, q, *limit);
    if (!page.ok()) return StoreError(page.status());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!page->logs.empty() || left.count() <= 0 || req.ClientGone()) {
      return Success([&](JsonWriter& w) {
        Key(w, "logs");
        w.StartArray();
        for (const eventstore::LogEntry& e : page->logs) LogJson(w, e);
        w.EndArray();
        Key(w, "cursor");
        w.Uint64(page->next_cursor);
      });
    }
    cursor = page->next_cursor;
    // Wake at least once a second to notice a client that went away.
    store->WaitForLogs(cursor, std::min(left, std::chrono::milliseconds(1000)));
  }
}

void FieldsJson(JsonWriter& w, std::string_view key, const std::vector<events::Field>& fields) {
  Key(w, key);
  w.StartObject();
  for (const events::Field& f : fields) {
    Key(w, f.name);
    if (!f.is_number) {
      Str(w, f.text);
    } else if (std::isfinite(f.number)) {
      w.Double(f.number);
    } else {
      w.Null();
    }
  }
  w.EndObject();
}

void MaybeNumber(JsonWriter& w, std::string_view key, double v) {
  if (!std::isfinite(v)) return;
  Key(w, key);
  w.Double(v);
}

Response Events(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::InferenceEventQuery q;
  q.org = Org(req);
  if (Status st = ParseRangeMs(req, clock, &q.start_ms, &q.end_ms); !st.ok()) return BadData(st.message());
  q.model = Param(req, "model");
  Result<size_t> limit = ParseLimit(req, 100);
  if (!limit.ok()) return BadData(limit.status().message());
  q.limit = *limit;
  Result<std::vector<events::InferenceEvent>> r = store->QueryInferenceEvents(q);
  if (!r.ok()) return StoreError(r.status());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const events::InferenceEvent& e : *r) {
      w.StartObject();
      Key(w, "timestamp");
      w.Double(static_cast<double>(e.timestamp_ms) / 1000);
      for (auto [k, v] : std::initializer_list<std::pair<std::string_view, const std::string*>>{
               {"request_id", &e.request_id}, {"model", &e.model}, {"model_version", &e.model_version},
               {"endpoint", &e.endpoint}, {"tenant", &e.tenant}, {"user", &e.user}, {"service", &e.service},
               {"node", &e.node},
               {"error_type", &e.error_type}, {"trace_id", &e.trace_id}, {"span_id", &e.span_id},
               {"prompt", &e.prompt}, {"response", &e.response}}) {
        if (!v->empty()) String(w, k, *v);
      }
      String(w, "status", e.error ? "error" : "ok");
      MaybeNumber(w, "latency_ms", e.latency_s * 1000);
      MaybeNumber(w, "queue_ms", e.queue_s * 1000);
      MaybeNumber(w, "ttft_ms", e.ttft_s * 1000);
      if (e.input_tokens >= 0) {
        Key(w, "input_tokens");
        w.Int64(e.input_tokens);
      }
      if (e.output_tokens >= 0) {
        Key(w, "output_tokens");
        w.Int64(e.output_tokens);
      }
      if (!e.features.empty()) FieldsJson(w, "features", e.features);
      if (!e.prediction.empty()) FieldsJson(w, "prediction", e.prediction);
      w.EndObject();
    }
    w.EndArray();
  });
}

Response Deployments(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::DeploymentQuery q;
  if (Status st = ParseRangeMs(req, clock, &q.start_ms, &q.end_ms); !st.ok()) return BadData(st.message());
  if (!req.Param("start")) q.start_ms = 0;  // deployments are rare: all of them by default
  q.model = Param(req, "model");
  Result<size_t> limit = ParseLimit(req, 100);
  if (!limit.ok()) return BadData(limit.status().message());
  q.limit = *limit;
  Result<std::vector<events::DeploymentEvent>> r = store->Deployments(q);
  if (!r.ok()) return StoreError(r.status());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const events::DeploymentEvent& d : *r) {
      w.StartObject();
      Key(w, "timestamp");
      w.Double(static_cast<double>(d.timestamp_ms) / 1000);
      String(w, "model", d.model);
      String(w, "version", d.version);
      String(w, "previous_version", d.previous_version);
      String(w, "action", d.action.empty() ? "deploy" : d.action);
      String(w, "who", d.who);
      String(w, "note", d.note);
      w.EndObject();
    }
    w.EndArray();
  });
}

Response PipelineRuns(eventstore::TelemetryStore* store, const Clock* clock, const Request& req) {
  eventstore::PipelineRunQuery q;
  if (Status st = ParseRangeMs(req, clock, &q.start_ms, &q.end_ms); !st.ok()) return BadData(st.message());
  if (!req.Param("start")) q.start_ms = clock->NowMillis() - 7 * 24 * 3'600'000LL;
  q.pipeline = Param(req, "pipeline");
  q.stage = Param(req, "stage");
  Result<size_t> limit = ParseLimit(req, 100);
  if (!limit.ok()) return BadData(limit.status().message());
  q.limit = *limit;
  Result<std::vector<events::PipelineStageEvent>> r = store->PipelineRuns(q);
  if (!r.ok()) return StoreError(r.status());
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const events::PipelineStageEvent& p : *r) {
      w.StartObject();
      String(w, "pipeline", p.pipeline);
      String(w, "stage", p.stage);
      String(w, "run_id", p.run_id);
      Key(w, "start");
      w.Double(static_cast<double>(p.start_ms) / 1000);
      Key(w, "end");
      w.Double(static_cast<double>(p.end_ms) / 1000);
      for (auto [k, v] : std::initializer_list<std::pair<std::string_view, int64_t>>{
               {"rows_in", p.rows_in}, {"rows_out", p.rows_out}, {"rows_rejected", p.rows_rejected}}) {
        if (v < 0) continue;
        Key(w, k);
        w.Int64(v);
      }
      String(w, "status", p.failed ? "failed" : "success");
      if (!p.error.empty()) String(w, "error", p.error);
      if (!p.schema_fingerprint.empty()) String(w, "schema_fingerprint", p.schema_fingerprint);
      w.EndObject();
    }
    w.EndArray();
  });
}

// The nodes serving `model`: from its requests (events naming their node), and from scraped
// series labelled with it (vLLM's model_name, discovery's and the simulator's model), whose
// node is their Hostname, node or host label, or their instance's host.
Response ModelGpus(inference::Hub* hub, Storage* storage, const Clock* clock, std::string_view model) {
  const int64_t now = clock->NowMillis();
  std::set<std::string> nodes;
  for (const std::string& n : hub->NodesOf(std::string(model))) nodes.insert(n);
  Result<std::unique_ptr<Querier>> q = storage->NewQuerier(now - 5 * 60'000, now);
  if (!q.ok()) return StoreError(q.status());
  auto node_of = [](const Labels& l) {
    for (std::string_view name : {"Hostname", "node", "host", "hostname"}) {
      if (std::string_view v = l.Get(name); !v.empty()) return std::string(v);
    }
    std::string instance(l.Get("instance"));
    return instance.substr(0, instance.rfind(':'));
  };
  for (std::string_view label : {"model_name", "model"}) {
    Result<Matcher> m = Matcher::Make(MatchType::kEqual, std::string(label), std::string(model));
    if (!m.ok()) continue;
    std::unique_ptr<SeriesSet> set = (*q)->Select({*m});
    while (set->Next()) {
      std::string n = node_of(set->labels());
      if (!n.empty()) nodes.insert(n);
    }
  }
  struct GpuRow {
    std::string node, gpu, uuid, model_name, device;
  };
  std::vector<GpuRow> gpus;
  for (const std::string& node : nodes) {
    for (std::string_view label : {"Hostname", "node"}) {
      Result<Matcher> name = Matcher::Make(MatchType::kEqual, "__name__", "DCGM_FI_DEV_GPU_UTIL");
      Result<Matcher> host = Matcher::Make(MatchType::kEqual, std::string(label), node);
      if (!name.ok() || !host.ok()) continue;
      std::unique_ptr<SeriesSet> set = (*q)->Select({*name, *host});
      size_t before = gpus.size();
      std::set<std::string> seen;
      while (set->Next()) {
        const Labels& l = set->labels();
        std::string uuid(l.Get("UUID"));
        if (!seen.insert(uuid + "/" + std::string(l.Get("gpu"))).second) continue;
        gpus.push_back({node, std::string(l.Get("gpu")), uuid, std::string(l.Get("modelName")),
                        std::string(l.Get("device"))});
      }
      if (gpus.size() > before) break;
    }
  }
  return Success([&](JsonWriter& w) {
    String(w, "model", model);
    Key(w, "nodes");
    w.StartArray();
    for (const std::string& n : nodes) Str(w, n);
    w.EndArray();
    Key(w, "gpus");
    w.StartArray();
    for (const GpuRow& g : gpus) {
      w.StartObject();
      String(w, "node", g.node);
      String(w, "gpu", g.gpu);
      String(w, "UUID", g.uuid);
      String(w, "modelName", g.model_name);
      String(w, "device", g.device);
      w.EndObject();
    }
    w.EndArray();
  });
}

// POST /api/v1/admin/erase {"tenant": "...", "user": "...", "request_id": "..."}: the right to
// be forgotten. Removes the records from the store (eventstore::TelemetryStore::Erase says which
// and how), then the quality monitor's predictions and feedback of the erased events' request
// ids (and of the named request id, for the default tenant, whose the quality monitor is: another
// tenant's request ids are only those its erased events prove its own), and answers the counts.
// The tenant is the one the request acts for (X-Scope-OrgID for a token of several); naming
// another is refused.
Response Erase(eventstore::TelemetryStore* store, quality::GroundTruth* ground_truth, const Request& req) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(req.body.data(), req.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return BadData("invalid erase request: expected a JSON object {\"tenant\", \"user\", \"request_id\"}");
  }
  eventstore::EraseRequest e;
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto& member = *(doc.MemberBegin() + i);
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    std::string* field = key == "tenant" ? &e.org : key == "user" ? &e.user : key == "request_id" ? &e.request_id : nullptr;
    if (field == nullptr) return BadData("invalid erase request: unknown field '" + key + "'");
    if (!member.value.IsString()) return BadData("invalid erase request: '" + key + "' must be a string");
    *field = std::string(member.value.GetString(), member.value.GetStringLength());
  }
  if (e.org.empty()) return BadData("invalid erase request: 'tenant' is required");
  if (!auth::ValidTenant(e.org)) return BadData("invalid erase request: '" + e.org.substr(0, 80) + "' is not a tenant name");
  if (e.org != Org(req)) {
    return Response::Error(403, "forbidden",
                           "this request acts for tenant '" + Org(req) + "', not '" + e.org +
                               "': send X-Scope-OrgID: " + e.org + " with an admin token of that tenant");
  }
  Result<eventstore::EraseResult> r = store->Erase(e);
  if (!r.ok()) return StoreError(r.status());
  uint64_t predictions = 0, feedback = 0;
  if (ground_truth != nullptr) {
    std::vector<std::string> ids = std::move(r->request_ids);
    if (!e.request_id.empty() && e.org == auth::kDefaultTenant) ids.push_back(e.request_id);
    if (Status s = ground_truth->Erase(ids, &predictions, &feedback); !s.ok()) return StoreError(s);
  }
  return Success([&](JsonWriter& w) {
    String(w, "tenant", e.org);
    Key(w, "spans");
    w.Uint64(r->spans);
    Key(w, "logs");
    w.Uint64(r->logs);
    Key(w, "inference_events");
    w.Uint64(r->inference_events);
    Key(w, "predictions");
    w.Uint64(predictions);
    Key(w, "feedback");
    w.Uint64(feedback);
  });
}

}  // namespace

void AddTelemetryQueryRoutes(http::Router* router, auth::Guard* guard, eventstore::TelemetryStore* store,
                             inference::Hub* hub, Storage* metrics_storage, Clock* clock,
                             quality::GroundTruth* ground_truth) {
  auto get = [&](const std::string& pattern, http::Handler h) {
    router->Add({"GET"}, pattern, pattern, guard->Require(auth::Scope::kRead, std::move(h)));
  };
  get("/api/services", [store](Request& req) { return JaegerServices(store, req); });
  get("/api/services/:service/operations", [store](Request& req) {
    return JaegerOperations(store, req, req.PathParam("service").value_or(""), false, "");
  });
  get("/api/operations", [store](Request& req) {
    return JaegerOperations(store, req, req.Param("service").value_or(""), true, req.Param("spanKind").value_or(""));
  });
  get("/api/traces", [store, clock](Request& req) { return JaegerFind(store, clock, req); });
  get("/api/traces/:id", [store](Request& req) { return JaegerGet(store, req, req.PathParam("id").value_or("")); });
  get("/api/v1/traces", [store, clock](Request& req) { return FindTraces(store, clock, req); });
  get("/api/v1/traces/:id", [store](Request& req) { return GetTrace(store, req, req.PathParam("id").value_or("")); });
  get("/api/v1/logs", [store, clock](Request& req) { return SearchLogs(store, clock, req); });
  get("/api/v1/logs/tail", [store, clock](Request& req) { return TailLogs(store, clock, req); });
  get("/api/v1/events", [store, clock](Request& req) { return Events(store, clock, req); });
  router->Add({"POST"}, "/api/v1/admin/erase", "/api/v1/admin/erase",
              guard->Require(auth::Scope::kAdmin,
                             [store, ground_truth](Request& req) { return Erase(store, ground_truth, req); }));
  // Deployments and pipeline runs are the server's (only the default tenant writes them): other
  // tenants see none.
  const auto servers = [](Request& req, auto query) {
    if (req.principal.tenant != auth::kDefaultTenant) return SuccessValue([](JsonWriter& w) { w.StartArray(); w.EndArray(); });
    return query();
  };
  get("/api/v1/deployments", [store, clock, servers](Request& req) { return servers(req, [&] { return Deployments(store, clock, req); }); });
  get("/api/v1/pipelines/runs", [store, clock, servers](Request& req) { return servers(req, [&] { return PipelineRuns(store, clock, req); }); });
  get("/api/v1/models/:model/gpus", [hub, metrics_storage, clock](Request& req) {
    // The scraped series are read through the tenant's view: another tenant's GPUs stay unseen.
    tenant::TenantStorage view(metrics_storage, req.principal.tenant);
    return ModelGpus(hub, &view, clock, req.PathParam("model").value_or(""));
  });
}

}  // namespace tyto::api
