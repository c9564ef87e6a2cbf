#include "api/incident_handlers.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>

#include "api/json.h"
#include "incident/tracker.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;
using incident::Incident;

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxByBytes = 256;
constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 10'000;

// StatusError, with Retry-After on 503 (the tracker is busy or stopping).
Response Failure(const Status& st) {
  Response r = StatusError(st);
  if (r.status == 503) r.headers.emplace_back("Retry-After", "5");
  return r;
}

// A positive decimal id of at most 19 digits.
Result<uint64_t> ParseId(const Request& req) {
  const std::string_view s = req.PathParam("id").value_or("");
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgument("incident id: expected a positive integer, got \"" + std::string(s.substr(0, 40)) + "\"");
  }
  uint64_t id = 0;
  for (char c : s) id = id * 10 + static_cast<uint64_t>(c - '0');
  if (id == 0) return InvalidArgument("incident id: expected a positive integer, got \"0\"");
  return id;
}

void Time(JsonWriter& w, std::string_view key, int64_t ms) {
  Key(w, key);
  if (ms == 0) {
    w.Null();
  } else {
    const std::string t = GoTime(ms);
    w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  }
}

void Number(JsonWriter& w, std::string_view key, double v) {
  Key(w, key);
  GoNumber(w, v);
}

void Summary(JsonWriter& w, const Incident& inc) {
  Key(w, "id");
  w.Uint64(inc.id);
  String(w, "title", inc.title);
  String(w, "state", incident::StateName(inc.state));
  String(w, "severity", inc.severity);
  Time(w, "openedAt", inc.opened_ms);
  Time(w, "updatedAt", inc.updated_ms);
  Time(w, "acknowledgedAt", inc.acknowledged_ms);
  String(w, "acknowledgedBy", inc.acknowledged_by);
  Time(w, "resolvedAt", inc.resolved_ms);
  String(w, "resolvedBy", inc.resolved_by);
  Key(w, "firingAlerts");
  w.Uint64(inc.FiringAlerts());
  Key(w, "totalAlerts");
  w.Uint64(inc.alerts.size());
}

void Detail(JsonWriter& w, const Incident& inc) {
  w.StartObject();
  Summary(w, inc);
  Key(w, "alerts");
  w.StartArray();
  for (const incident::IncidentAlert& a : inc.alerts) {
    w.StartObject();
    char fp[17];
    std::snprintf(fp, sizeof(fp), "%016" PRIx64, alertmanager::Fingerprint(a.labels));
    String(w, "fingerprint", fp);
    String(w, "state", a.firing ? "firing" : "resolved");
    StringMap(w, "labels", alertmanager::WithoutTenant(a.labels));
    StringMap(w, "annotations", a.annotations);
    Time(w, "startsAt", a.starts_at_ms);
    Time(w, "endsAt", a.ends_at_ms);
    String(w, "generatorURL", a.generator_url);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "correlations");
  w.StartArray();
  for (const incident::Correlation& c : inc.correlations) {
    w.StartObject();
    StringMap(w, "labels", c.labels);
    String(w, "kind", c.kind);
    Number(w, "score", c.score);
    Number(w, "before", c.before);
    Number(w, "after", c.after);
    String(w, "direction", c.direction);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "timeline");
  w.StartArray();
  for (const incident::TimelineEntry& e : inc.timeline) {
    w.StartObject();
    Time(w, "time", e.time_ms);
    String(w, "kind", incident::EntryKindName(e.kind));
    String(w, "by", e.by);
    String(w, "text", e.text);
    Key(w, "fields");
    w.StartObject();
    for (const auto& [k, v] : e.fields) String(w, k, v);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

Response List(incident::Tracker* t, const Request& req) {
  std::optional<incident::State> state;
  if (auto v = req.Param("state"); v && !v->empty()) {
    state = incident::ParseState(*v);
    if (!state) {
      return Response::Error(400, "bad_data",
                             "state: expected open, acknowledged or resolved, got \"" + std::string(v->substr(0, 40)) + "\"");
    }
  }
  size_t limit = kDefaultLimit;
  if (auto v = req.Param("limit"); v && !v->empty()) {
    size_t n = 0;
    bool ok = v->size() <= 5 && v->find_first_not_of("0123456789") == std::string_view::npos;
    for (char c : *v) n = ok ? n * 10 + static_cast<size_t>(c - '0') : 0;
    if (!ok || n == 0 || n > kMaxLimit) {
      return Response::Error(400, "bad_data",
                             "limit: expected an integer from 1 to " + std::to_string(kMaxLimit) + ", got \"" +
                                 std::string(v->substr(0, 40)) + "\"");
    }
    limit = n;
  }
  const std::vector<Incident> all = t->List(state, limit, req.principal.tenant);
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const Incident& inc : all) {
      w.StartObject();
      Summary(w, inc);
      w.EndObject();
    }
    w.EndArray();
  });
}

// The incident `id` when it is `tenant`'s; another tenant's is kNotFound, as an unknown id.
Result<Incident> GetForTenant(incident::Tracker* t, uint64_t id, std::string_view tenant) {
  Result<Incident> inc = t->Get(id);
  if (inc.ok() && inc->tenant != tenant) return NotFound("incident " + std::to_string(id) + " not found");
  return inc;
}

Response One(incident::Tracker* t, uint64_t id, std::string_view tenant) {
  Result<Incident> inc = GetForTenant(t, id, tenant);
  if (!inc.ok()) return Failure(inc.status());
  return SuccessValue([&](JsonWriter& w) { Detail(w, *inc); });
}

struct Body {
  std::string by;
  std::string text;
};

// Reads {"by": "...", "text": "..."} ("text" only where `text_allowed`); an empty body is {}.
Result<Body> ParseBody(const Request& req, bool text_allowed) {
  Body b;
  std::string_view s = req.body;
  if (s.find_first_not_of(" \t\r\n") == std::string_view::npos) return b;
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(s.data(), s.size());
  if (d.HasParseError()) {
    return InvalidArgument("body: invalid JSON at offset " + std::to_string(d.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(d.GetParseError()));
  }
  if (!d.IsObject()) return InvalidArgument("body: expected a JSON object");
  const std::string expected = text_allowed ? "text, by" : "by";
  for (rapidjson::SizeType i = 0; i < d.MemberCount(); ++i) {
    const auto& m = *(d.MemberBegin() + i);
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key != "by" && !(text_allowed && key == "text")) {
      return InvalidArgument("body: unknown key \"" + key.substr(0, 40) + "\" (expected " + expected + ")");
    }
    if (!m.value.IsString()) return InvalidArgument("body: \"" + key + "\" must be a string");
    std::string value(m.value.GetString(), m.value.GetStringLength());
    if (key == "by") {
      if (value.size() > kMaxByBytes) return InvalidArgument("body: \"by\" longer than " + std::to_string(kMaxByBytes) + " bytes");
      b.by = std::move(value);
    } else {
      b.text = std::move(value);
    }
  }
  return b;
}

enum class Action { kAcknowledge, kNote, kResolve };

Response Post(incident::Tracker* t, Request& req, Action action) {
  Result<uint64_t> id = ParseId(req);
  if (!id.ok()) return Failure(id.status());
  if (req.body.size() > kMaxBodyBytes) {
    return Response::Error(413, "bad_data", "request body larger than " + std::to_string(kMaxBodyBytes) + " bytes");
  }
  Result<Body> body = ParseBody(req, action == Action::kNote);
  if (!body.ok()) return Failure(body.status());
  // An incident's tenant never changes, so checking it first is enough.
  if (Result<Incident> inc = GetForTenant(t, *id, req.principal.tenant); !inc.ok()) return Failure(inc.status());
  std::string by = body->by.empty() ? req.principal.name : body->by;
  Status st;
  switch (action) {
    case Action::kAcknowledge:
      st = t->Acknowledge(*id, std::move(by));
      break;
    case Action::kNote:
      if (body->text.empty()) return Response::Error(400, "bad_data", "body: \"text\" is required and must not be empty");
      st = t->AddNote(*id, std::move(by), std::move(body->text));
      break;
    case Action::kResolve:
      st = t->Resolve(*id, std::move(by));
      break;
  }
  if (!st.ok()) return Failure(st);
  return One(t, *id, req.principal.tenant);
}

}  // namespace

void AddIncidentRoutes(http::Router* router, auth::Guard* guard, incident::Tracker* tracker) {
  router->Add({"GET"}, "/api/v1/incidents", "/api/v1/incidents",
              guard->Require(auth::Scope::kRead, [tracker](Request& req) { return List(tracker, req); }));
  router->Add({"GET"}, "/api/v1/incidents/:id", "/api/v1/incidents/:id",
              guard->Require(auth::Scope::kRead, [tracker](Request& req) {
                Result<uint64_t> id = ParseId(req);
                if (!id.ok()) return Failure(id.status());
                return One(tracker, *id, req.principal.tenant);
              }));
  router->Add({"POST"}, "/api/v1/incidents/:id/acknowledge", "/api/v1/incidents/:id/acknowledge",
              guard->Require(auth::Scope::kOperate,
                             [tracker](Request& req) { return Post(tracker, req, Action::kAcknowledge); }));
  router->Add({"POST"}, "/api/v1/incidents/:id/notes", "/api/v1/incidents/:id/notes",
              guard->Require(auth::Scope::kOperate, [tracker](Request& req) { return Post(tracker, req, Action::kNote); }));
  router->Add({"POST"}, "/api/v1/incidents/:id/resolve", "/api/v1/incidents/:id/resolve",
              guard->Require(auth::Scope::kOperate,
                             [tracker](Request& req) { return Post(tracker, req, Action::kResolve); }));
}

}  // namespace tyto::api
