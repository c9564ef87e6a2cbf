#include "api/alertmanager_handlers.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "alertmanager/dispatch.h"
#include "api/json.h"
#include "api/params.h"
#include "common/build_info.h"

namespace tyto::api {
namespace {

using alertmanager::AlertStatus;
using alertmanager::Dispatcher;
using alertmanager::LabelSet;
using alertmanager::MatchType;
using alertmanager::Silence;
using alertmanager::SilenceState;
using http::Request;
using http::Response;

constexpr unsigned kReadFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::string Str(const rapidjson::Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

// An RFC 3339 time; Go's zero time is 0.
Result<int64_t> ParseTime(std::string_view field, const rapidjson::Value& v) {
  if (!v.IsString()) return InvalidArgument(std::string(field) + ": expected an RFC 3339 time string");
  const std::string s = Str(v);
  if (s.rfind("0001-01-01T00:00:00", 0) == 0) return int64_t{0};
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || s.size() < 20) {
    return InvalidArgument(std::string(field) + ": invalid time \"" + s.substr(0, 64) + "\"");
  }
  auto ms = ParseTimeParam(field, s);
  if (!ms.ok()) return InvalidArgument(std::string(field) + ": invalid time \"" + s.substr(0, 64) + "\"");
  return *ms;
}

// A JSON object of strings.
Result<LabelSet> ParseLabelObject(std::string_view field, const rapidjson::Value& v) {
  if (!v.IsObject()) return InvalidArgument(std::string(field) + ": expected an object of strings");
  LabelSet out;
  for (rapidjson::SizeType i = 0; i < v.MemberCount(); ++i) {
    const auto& m = *(v.MemberBegin() + i);
    const std::string name = Str(m.name);
    if (!m.value.IsString()) {
      return InvalidArgument(std::string(field) + ": value of \"" + name.substr(0, 64) + "\" is not a string");
    }
    out[name] = Str(m.value);
  }
  return out;
}

bool ValidLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Status Parse(rapidjson::Document* doc, std::string_view body) {
  doc->Parse<kReadFlags>(body.data(), body.size());
  if (doc->HasParseError()) {
    return InvalidArgument("invalid JSON at offset " + std::to_string(doc->GetErrorOffset()));
  }
  return Status::Ok();
}

std::string FingerprintHex(uint64_t fp) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, fp);
  return buf;
}

void WriteAlert(JsonWriter& w, const AlertStatus& a) {
  w.StartObject();
  Key(w, "annotations");
  StringMapObject(w, a.alert.annotations);
  String(w, "endsAt", GoTime(a.alert.ends_at_ms));
  String(w, "fingerprint", FingerprintHex(a.fingerprint));
  Key(w, "receivers");
  w.StartArray();
  for (const std::string& r : a.receivers) {
    w.StartObject();
    String(w, "name", r);
    w.EndObject();
  }
  w.EndArray();
  String(w, "startsAt", GoTime(a.alert.starts_at_ms));
  Key(w, "status");
  w.StartObject();
  // The inhibiting alerts are not tracked one by one: an inhibited alert lists no fingerprint.
  Key(w, "inhibitedBy");
  w.StartArray();
  w.EndArray();
  Key(w, "silencedBy");
  w.StartArray();
  for (const std::string& id : a.silenced_by) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.EndArray();
  String(w, "state", a.state);
  w.EndObject();
  String(w, "updatedAt", GoTime(a.updated_at_ms));
  if (!a.alert.generator_url.empty()) String(w, "generatorURL", a.alert.generator_url);
  Key(w, "labels");
  StringMapObject(w, alertmanager::WithoutTenant(a.alert.labels));
  w.EndObject();
}

void WriteSilence(JsonWriter& w, const Silence& s, int64_t now) {
  w.StartObject();
  String(w, "id", s.id);
  Key(w, "status");
  w.StartObject();
  String(w, "state", alertmanager::SilenceStateName(s.StateAt(now)));
  w.EndObject();
  String(w, "updatedAt", GoTime(s.updated_at));
  String(w, "comment", s.comment);
  String(w, "createdBy", s.created_by);
  String(w, "endsAt", GoTime(s.ends_at));
  Key(w, "matchers");
  w.StartArray();
  for (const alertmanager::Matcher& m : s.matchers) {
    w.StartObject();
    String(w, "name", m.name());
    String(w, "value", m.value());
    Key(w, "isRegex");
    w.Bool(m.type() == MatchType::kRegexMatch || m.type() == MatchType::kRegexNoMatch);
    Key(w, "isEqual");
    w.Bool(m.type() == MatchType::kEqual || m.type() == MatchType::kRegexMatch);
    w.EndObject();
  }
  w.EndArray();
  String(w, "startsAt", GoTime(s.starts_at));
  w.EndObject();
}

Response Raw(int status, const std::function<void(JsonWriter&)>& fill) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fill(w);
  return Response::Json(status, std::string(buf.GetString(), buf.GetSize()));
}

Response BadData(std::string_view msg) { return Response::Error(400, "bad_data", msg); }

// Go's strconv.ParseBool.
std::optional<bool> ParseBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") return false;
  return std::nullopt;
}

struct AlertFilter {
  std::string tenant;  // the request's: other tenants' alerts are never shown
  alertmanager::Matchers matchers;
  std::optional<alertmanager::Matcher> receiver;
  bool active = true, silenced = true, inhibited = true, unprocessed = true;

  bool Keep(const AlertStatus& a, int64_t now) const {
    if (a.alert.ResolvedAt(now) || alertmanager::AlertTenant(a.alert.labels) != tenant) return false;
    const bool is_silenced = !a.silenced_by.empty();
    if (!silenced && is_silenced) return false;
    if (!inhibited && a.inhibited) return false;
    if (!active && a.state == "active") return false;
    if (!unprocessed && a.state == "unprocessed") return false;
    if (receiver) {
      bool any = false;
      for (const std::string& r : a.receivers) any = any || receiver->MatchesValue(r);
      if (!any) return false;
    }
    return alertmanager::MatchesAll(matchers, alertmanager::WithoutTenant(a.alert.labels));
  }
};

Result<alertmanager::Matchers> FilterMatchers(const Request& req) {
  alertmanager::Matchers out;
  for (std::string_view f : req.Params("filter")) {
    auto m = alertmanager::ParseMatchers(f);
    if (!m.ok()) return InvalidArgument("bad matcher format: " + m.status().message());
    out.insert(out.end(), m->begin(), m->end());
  }
  return out;
}

Result<AlertFilter> ParseAlertFilter(const Request& req) {
  AlertFilter f;
  f.tenant = req.principal.tenant;
  TYTO_ASSIGN_OR_RETURN(f.matchers, FilterMatchers(req));
  for (auto [name, slot] : {std::pair<const char*, bool*>{"active", &f.active}, {"silenced", &f.silenced},
                            {"inhibited", &f.inhibited}, {"unprocessed", &f.unprocessed}}) {
    if (auto v = req.Param(name)) {
      auto b = ParseBool(*v);
      if (!b) return InvalidArgument(std::string("invalid parameter \"") + name + "\": expected true or false");
      *slot = *b;
    }
  }
  if (auto r = req.Param("receiver"); r && !r->empty()) {
    auto m = alertmanager::Matcher::Make(MatchType::kRegexMatch, "receiver", std::string(*r));
    if (!m.ok()) return InvalidArgument("failed to parse receiver param: " + m.status().message());
    f.receiver = std::move(*m);
  }
  return f;
}

Response GetAlerts(const Request& req, const Dispatcher& d) {
  auto filter = ParseAlertFilter(req);
  if (!filter.ok()) return BadData(filter.status().message());
  const int64_t now = d.clock()->NowMillis();
  const std::vector<AlertStatus> alerts = d.Alerts();
  return Raw(200, [&](JsonWriter& w) {
    w.StartArray();
    for (const AlertStatus& a : alerts) {
      if (filter->Keep(a, now)) WriteAlert(w, a);
    }
    w.EndArray();
  });
}

Response GetGroups(const Request& req, const Dispatcher& d) {
  auto filter = ParseAlertFilter(req);
  if (!filter.ok()) return BadData(filter.status().message());
  const int64_t now = d.clock()->NowMillis();
  const std::vector<alertmanager::AlertGroupStatus> groups = d.Groups();
  return Raw(200, [&](JsonWriter& w) {
    w.StartArray();
    for (const auto& g : groups) {
      std::vector<const AlertStatus*> kept;
      for (const AlertStatus& a : g.alerts) {
        if (filter->Keep(a, now)) kept.push_back(&a);
      }
      if (kept.empty()) continue;
      w.StartObject();
      Key(w, "labels");
      StringMapObject(w, alertmanager::WithoutTenant(g.labels));
      Key(w, "receiver");
      w.StartObject();
      String(w, "name", g.receiver);
      w.EndObject();
      Key(w, "alerts");
      w.StartArray();
      for (const AlertStatus* a : kept) WriteAlert(w, *a);
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

// Whether `p` holds the write scope for `tenant` (a grant naming it, or "*").
bool MayWrite(const http::Principal& p, std::string_view tenant) {
  for (const auto& [t, scopes] : p.grants) {
    if ((t == tenant || t == "*") && (scopes & static_cast<uint32_t>(auth::Scope::kWrite)) != 0) return true;
  }
  return false;
}

Response PostAlerts(const Request& req, Dispatcher* d, const AlertmanagerApiOptions& o) {
  if (req.body.size() > o.max_body_bytes) {
    return Response::Error(413, "bad_data", "request body larger than " + std::to_string(o.max_body_bytes) + " bytes");
  }
  auto alerts = DecodePostableAlerts(req.body, o.max_alerts);
  if (!alerts.ok()) return BadData(alerts.status().message());
  // An alert's __tenant__ stands when the credentials may write for that tenant (a token granted
  // several, or a cluster peer forwarding alerts of every tenant); otherwise the alert is the
  // request's tenant's, whatever the body says.
  for (alertmanager::Alert& a : *alerts) {
    auto named = a.labels.find(alertmanager::kTenantLabel);
    if (named == a.labels.end() || !MayWrite(req.principal, named->second)) {
      alertmanager::SetAlertTenant(&a.labels, req.principal.tenant);
    }
  }
  if (o.receiver != nullptr) {
    o.receiver->Put(*alerts);
  } else {
    d->Put(*alerts);
  }
  return Response::Json(200, "");
}

// Active silences first (by end), then pending (by start), then expired (latest end first).
void SortSilences(std::vector<Silence>* silences, int64_t now) {
  auto rank = [now](const Silence& s) {
    switch (s.StateAt(now)) {
      case SilenceState::kActive: return 0;
      case SilenceState::kPending: return 1;
      case SilenceState::kExpired: return 2;
    }
    return 3;
  };
  std::stable_sort(silences->begin(), silences->end(), [&](const Silence& a, const Silence& b) {
    const int ra = rank(a), rb = rank(b);
    if (ra != rb) return ra < rb;
    if (ra == 0) return a.ends_at < b.ends_at;
    if (ra == 1) return a.starts_at < b.starts_at;
    return a.ends_at > b.ends_at;
  });
}

// A silence passes a filter matcher when it has a matcher on that label whose value the filter
// matcher matches (Alertmanager's silence filter).
bool SilenceMatches(const Silence& s, const alertmanager::Matchers& filter) {
  for (const alertmanager::Matcher& f : filter) {
    bool any = false;
    for (const alertmanager::Matcher& m : s.matchers) any = any || (m.name() == f.name() && f.MatchesValue(m.value()));
    if (!any) return false;
  }
  return true;
}

Response GetSilences(const Request& req, const Dispatcher& d) {
  auto filter = FilterMatchers(req);
  if (!filter.ok()) return BadData(filter.status().message());
  const int64_t now = d.clock()->NowMillis();
  std::vector<Silence> silences = d.Silences(req.principal.tenant);
  SortSilences(&silences, now);
  return Raw(200, [&](JsonWriter& w) {
    w.StartArray();
    for (const Silence& s : silences) {
      if (SilenceMatches(s, *filter)) WriteSilence(w, s, now);
    }
    w.EndArray();
  });
}

Response PostSilence(const Request& req, Dispatcher* d, const AlertmanagerApiOptions& o) {
  if (req.body.size() > o.max_body_bytes) {
    return Response::Error(413, "bad_data", "request body larger than " + std::to_string(o.max_body_bytes) + " bytes");
  }
  auto s = DecodePostableSilence(req.body);
  if (!s.ok()) return BadData(s.status().message());
  s->tenant = req.principal.tenant;
  auto id = d->SetSilence(std::move(*s));
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kNotFound) return Response::Error(404, "not_found", id.status().message());
    return BadData(id.status().message());
  }
  return Raw(200, [&](JsonWriter& w) {
    w.StartObject();
    String(w, "silenceID", *id);
    w.EndObject();
  });
}

// The notification config is the server's, not a tenant's: only callers for the default tenant
// see its text; others get the rest of the status (what Grafana's health check reads).
Response StatusResponse(const Dispatcher& d, const AlertmanagerApiOptions& o, std::string_view tenant) {
  const BuildInfo& b = GetBuildInfo();
  const std::string config = o.config_text && tenant == auth::kDefaultTenant ? o.config_text() : "";
  return Raw(200, [&](JsonWriter& w) {
    w.StartObject();
    Key(w, "cluster");
    w.StartObject();
    String(w, "name", "");
    Key(w, "peers");
    w.StartArray();
    w.EndArray();
    String(w, "status", "disabled");
    w.EndObject();
    Key(w, "config");
    w.StartObject();
    String(w, "original", config);
    w.EndObject();
    String(w, "uptime", GoTime(d.started_at_ms()));
    Key(w, "versionInfo");
    w.StartObject();
    String(w, "branch", "");
    String(w, "buildDate", "");
    String(w, "buildUser", "");
    String(w, "goVersion", "");
    String(w, "revision", b.revision);
    String(w, "version", b.version);
    w.EndObject();
    w.EndObject();
  });
}

}  // namespace

Result<std::vector<alertmanager::Alert>> DecodePostableAlerts(std::string_view body, size_t max_alerts) {
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(&doc, body));
  if (!doc.IsArray()) return InvalidArgument("expected a JSON array of alerts");
  if (doc.Size() > max_alerts) {
    return InvalidArgument(std::to_string(doc.Size()) + " alerts in one request; at most " + std::to_string(max_alerts));
  }
  std::vector<alertmanager::Alert> out;
  out.reserve(doc.Size());
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    const std::string where = "alert " + std::to_string(i) + ": ";
    const rapidjson::Value& v = doc[i];
    if (!v.IsObject()) return InvalidArgument(where + "expected an object");
    alertmanager::Alert a;
    const rapidjson::Value* labels = Member(v, "labels");
    if (labels == nullptr) return InvalidArgument(where + "labels: required");
    auto ls = ParseLabelObject("labels", *labels);
    if (!ls.ok()) return InvalidArgument(where + ls.status().message());
    if (ls->empty()) return InvalidArgument(where + "labels: must not be empty");
    for (const auto& [name, value] : *ls) {
      if (!ValidLabelName(name)) return InvalidArgument(where + "labels: invalid label name \"" + name.substr(0, 64) + "\"");
      if (value.empty()) return InvalidArgument(where + "labels: empty value for \"" + name + "\"");
    }
    a.labels = std::move(*ls);
    if (const rapidjson::Value* ann = Member(v, "annotations"); ann != nullptr && !ann->IsNull()) {
      auto as = ParseLabelObject("annotations", *ann);
      if (!as.ok()) return InvalidArgument(where + as.status().message());
      a.annotations = std::move(*as);
    }
    if (const rapidjson::Value* t = Member(v, "startsAt"); t != nullptr && !t->IsNull()) {
      auto ms = ParseTime("startsAt", *t);
      if (!ms.ok()) return InvalidArgument(where + ms.status().message());
      a.starts_at_ms = *ms;
    }
    if (const rapidjson::Value* t = Member(v, "endsAt"); t != nullptr && !t->IsNull()) {
      auto ms = ParseTime("endsAt", *t);
      if (!ms.ok()) return InvalidArgument(where + ms.status().message());
      a.ends_at_ms = *ms;
    }
    if (a.starts_at_ms != 0 && a.ends_at_ms != 0 && a.ends_at_ms < a.starts_at_ms) {
      return InvalidArgument(where + "endsAt: before startsAt (start time must be before end time)");
    }
    if (const rapidjson::Value* g = Member(v, "generatorURL"); g != nullptr && !g->IsNull()) {
      if (!g->IsString()) return InvalidArgument(where + "generatorURL: expected a string");
      a.generator_url = Str(*g);
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<alertmanager::Silence> DecodePostableSilence(std::string_view body) {
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(&doc, body));
  if (!doc.IsObject()) return InvalidArgument("expected a JSON object (a silence)");
  Silence s;
  auto str = [&doc](const char* name, bool required, std::string* out) -> tyto::Status {
    const rapidjson::Value* v = Member(doc, name);
    if (v == nullptr || v->IsNull()) {
      return required ? InvalidArgument(std::string(name) + " in body is required") : tyto::Status::Ok();
    }
    if (!v->IsString()) return InvalidArgument(std::string(name) + ": expected a string");
    *out = Str(*v);
    return tyto::Status::Ok();
  };
  TYTO_RETURN_IF_ERROR(str("id", false, &s.id));
  TYTO_RETURN_IF_ERROR(str("createdBy", true, &s.created_by));
  TYTO_RETURN_IF_ERROR(str("comment", true, &s.comment));
  for (auto [name, slot] : {std::pair<const char*, int64_t*>{"startsAt", &s.starts_at}, {"endsAt", &s.ends_at}}) {
    const rapidjson::Value* v = Member(doc, name);
    if (v == nullptr || v->IsNull()) return InvalidArgument(std::string(name) + " in body is required");
    TYTO_ASSIGN_OR_RETURN(*slot, ParseTime(name, *v));
  }
  const rapidjson::Value* ms = Member(doc, "matchers");
  if (ms == nullptr || !ms->IsArray()) return InvalidArgument("matchers in body is required (an array)");
  if (ms->Size() > 1000) return InvalidArgument("matchers: at most 1000");
  for (rapidjson::SizeType i = 0; i < ms->Size(); ++i) {
    const std::string where = "matchers[" + std::to_string(i) + "]: ";
    const rapidjson::Value& m = (*ms)[i];
    if (!m.IsObject()) return InvalidArgument(where + "expected an object");
    const rapidjson::Value* name = Member(m, "name");
    const rapidjson::Value* value = Member(m, "value");
    if (name == nullptr || !name->IsString()) return InvalidArgument(where + "name: required string");
    if (value == nullptr || !value->IsString()) return InvalidArgument(where + "value: required string");
    bool is_regex = false, is_equal = true;
    if (const rapidjson::Value* r = Member(m, "isRegex"); r != nullptr) {
      if (!r->IsBool()) return InvalidArgument(where + "isRegex: expected a boolean");
      is_regex = r->GetBool();
    }
    if (const rapidjson::Value* e = Member(m, "isEqual"); e != nullptr) {
      if (!e->IsBool()) return InvalidArgument(where + "isEqual: expected a boolean");
      is_equal = e->GetBool();
    }
    const MatchType type = is_regex ? (is_equal ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                                    : (is_equal ? MatchType::kEqual : MatchType::kNotEqual);
    auto matcher = alertmanager::Matcher::Make(type, Str(*name), Str(*value));
    if (!matcher.ok()) return InvalidArgument(where + matcher.status().message());
    s.matchers.push_back(std::move(*matcher));
  }
  return s;
}

void AddAlertmanagerRoutes(http::Router* router, auth::Guard* guard, Dispatcher* d, AlertmanagerApiOptions options) {
  auto o = std::make_shared<const AlertmanagerApiOptions>(std::move(options));
  router->Add({"GET"}, "/api/v2/alerts", "/api/v2/alerts",
              guard->Require(auth::Scope::kRead, [d](Request& req) { return GetAlerts(req, *d); }));
  router->Add({"POST"}, "/api/v2/alerts", "/api/v2/alerts",
              guard->Require(auth::Scope::kWrite, [d, o](Request& req) { return PostAlerts(req, d, *o); }));
  router->Add({"GET"}, "/api/v2/alerts/groups", "/api/v2/alerts/groups",
              guard->Require(auth::Scope::kRead, [d](Request& req) { return GetGroups(req, *d); }));
  router->Add({"GET"}, "/api/v2/silences", "/api/v2/silences",
              guard->Require(auth::Scope::kRead, [d](Request& req) { return GetSilences(req, *d); }));
  router->Add({"POST"}, "/api/v2/silences", "/api/v2/silences",
              guard->Require(auth::Scope::kEdit, [d, o](Request& req) { return PostSilence(req, d, *o); }));
  router->Add({"GET"}, "/api/v2/silence/:id", "/api/v2/silence/:id", guard->Require(auth::Scope::kRead, [d](Request& req) {
                const std::string id(req.PathParam("id").value_or(""));
                auto s = d->GetSilence(id, req.principal.tenant);
                if (!s) return Response::Error(404, "not_found", "silence " + id + " not found");
                const int64_t now = d->clock()->NowMillis();
                return Raw(200, [&](JsonWriter& w) { WriteSilence(w, *s, now); });
              }));
  router->Add({"DELETE"}, "/api/v2/silence/:id", "/api/v2/silence/:id",
              guard->Require(auth::Scope::kEdit, [d](Request& req) {
                const std::string id(req.PathParam("id").value_or(""));
                tyto::Status s = d->ExpireSilence(id, req.principal.tenant);
                if (s.code() == StatusCode::kNotFound) return Response::Error(404, "not_found", s.message());
                if (!s.ok()) return BadData(s.message());
                return Response::Json(200, "");
              }));
  router->Add({"GET"}, "/api/v2/status", "/api/v2/status",
              guard->Require(auth::Scope::kRead,
                             [d, o](Request& req) { return StatusResponse(*d, *o, req.principal.tenant); }));
  router->Add({"GET"}, "/api/v2/receivers", "/api/v2/receivers", guard->Require(auth::Scope::kRead, [d](Request&) {
                const auto config = d->config();
                return Raw(200, [&](JsonWriter& w) {
                  w.StartArray();
                  for (const alertmanager::Receiver& r : config->receivers) {
                    w.StartObject();
                    String(w, "name", r.name);
                    w.EndObject();
                  }
                  w.EndArray();
                });
              }));
  router->Add({"GET"}, "/api/v1/notifications", "/api/v1/notifications",
              guard->Require(auth::Scope::kRead, [d](Request& req) {
                size_t limit = 0;
                if (auto v = req.Param("limit"); v && !v->empty()) {
                  const std::string s(*v);
                  char* end = nullptr;
                  const long long n = std::strtoll(s.c_str(), &end, 10);
                  if (end != s.c_str() + s.size() || n < 0) {
                    return BadData("invalid parameter \"limit\": expected a non-negative integer");
                  }
                  limit = static_cast<size_t>(n);
                }
                // The request tenant's newest `limit`: others' are left out before counting.
                std::vector<alertmanager::DeliveryRecord> records = d->Deliveries(0);
                std::erase_if(records, [&req](const alertmanager::DeliveryRecord& r) {
                  return r.tenant != req.principal.tenant;
                });
                if (limit != 0 && records.size() > limit) records.resize(limit);
                return Success([&](JsonWriter& w) {
                  Key(w, "notifications");
                  w.StartArray();
                  for (const auto& r : records) {
                    w.StartObject();
                    String(w, "time", GoTime(r.time_ms));
                    String(w, "receiver", r.receiver);
                    String(w, "integration", r.integration);
                    Key(w, "integrationIndex");
                    w.Int(r.integration_index);
                    String(w, "groupKey", r.group_key);
                    Key(w, "alerts");
                    w.Uint64(r.alerts);
                    Key(w, "firing");
                    w.Uint64(r.firing);
                    Key(w, "resolved");
                    w.Uint64(r.resolved);
                    String(w, "state", r.state);
                    Key(w, "attempts");
                    w.Int(r.attempts);
                    String(w, "outcome", r.outcome);
                    if (!r.error.empty()) String(w, "error", r.error);
                    w.EndObject();
                  }
                  w.EndArray();
                });
              }));
}

}  // namespace tyto::api
