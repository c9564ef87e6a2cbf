#include "api/playbook_handlers.h"

#include <rapidjson/document.h>

#include <charconv>

#include "api/json.h"
#include "common/units.h"
#include "playbook/engine.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

constexpr size_t kMaxDecisionBodyBytes = 64 * 1024;

void Bool(JsonWriter& w, std::string_view key, bool v) {
  Key(w, key);
  w.Bool(v);
}

void Int(JsonWriter& w, std::string_view key, int64_t v) {
  Key(w, key);
  w.Int64(v);
}

void Time(JsonWriter& w, std::string_view key, int64_t ms) {
  Key(w, key);
  if (ms == 0) {
    w.Null();
  } else {
    const std::string t = FormatTimestamp(ms);
    w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  }
}

void WritePlaybook(JsonWriter& w, const playbook::Playbook& p) {
  w.StartObject();
  String(w, "name", p.name);
  String(w, "description", p.description);
  String(w, "file", p.file);
  Key(w, "match");
  w.StartArray();
  for (const auto& m : p.match) {
    const std::string s = m.ToString();
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
  w.EndArray();
  Bool(w, "dry_run", p.dry_run);
  String(w, "approval", p.approval_required ? "required" : "none");
  String(w, "approval_timeout", FormatDuration(p.approval_timeout));
  String(w, "cooldown", FormatDuration(p.cooldown));
  Int(w, "max_runs_per_hour", p.max_runs_per_hour);
  String(w, "on_failure", p.on_failure == playbook::OnFailure::kEscalate ? "escalate" : "stop");
  Key(w, "steps");
  w.StartArray();
  for (const auto& s : p.steps) {
    w.StartObject();
    String(w, "name", s.name);
    String(w, "kind", playbook::StepKindName(s.kind));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteRun(JsonWriter& w, const playbook::Run& r, bool with_steps) {
  w.StartObject();
  String(w, "id", r.id);
  String(w, "playbook", r.playbook);
  String(w, "incident", r.incident_id);
  String(w, "state", playbook::RunStateName(r.state));
  Bool(w, "dry_run", r.dry_run);
  Bool(w, "escalated", r.escalated);
  String(w, "reason", r.reason);
  StringMap(w, "alert_labels", r.alert_labels);
  Time(w, "created", r.created_ms);
  Time(w, "started", r.started_ms);
  Time(w, "finished", r.finished_ms);
  if (r.state == playbook::RunState::kAwaitingApproval) Time(w, "approval_expires", r.approval_deadline_ms);
  String(w, "decided_by", r.decided_by);
  String(w, "comment", r.comment);
  Int(w, "steps_done", static_cast<int64_t>(r.steps.size()));
  if (with_steps) {
    StringMap(w, "alert_annotations", r.alert_annotations);
    Key(w, "steps");
    w.StartArray();
    for (const auto& s : r.steps) {
      w.StartObject();
      Int(w, "index", static_cast<int64_t>(s.index));
      String(w, "name", s.name);
      String(w, "kind", s.kind);
      String(w, "outcome", s.outcome);
      String(w, "rendered", s.rendered);
      String(w, "output", s.output);
      String(w, "error", s.error);
      if (s.kind == "command" || s.exit_code != -1) Int(w, "exit_code", s.exit_code);
      if (s.http_status != 0) Int(w, "http_status", s.http_status);
      Time(w, "started", s.started_ms);
      Time(w, "finished", s.finished_ms);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

// Who decided: the token's name, with the body's "by" beside it when it differs.
Status ReadDecision(const Request& req, std::string* who, std::string* comment) {
  std::string by;
  if (!req.body.empty()) {
    if (req.body.size() > kMaxDecisionBodyBytes) return InvalidArgument("body larger than 64 KiB");
    rapidjson::Document parsed;
    parsed.Parse<rapidjson::kParseIterativeFlag>(req.body.data(), req.body.size());
    if (parsed.HasParseError() || !parsed.IsObject()) return InvalidArgument("body must be a JSON object");
    const rapidjson::Document& doc = parsed;
    for (const char* key : {"by", "comment"}) {
      auto it = doc.FindMember(key);
      if (it == doc.MemberEnd()) continue;
      if (!it->value.IsString()) return InvalidArgument(std::string("\"") + key + "\" must be a string");
      std::string v(it->value.GetString(), it->value.GetStringLength());
      if (v.size() > 4096) return InvalidArgument(std::string("\"") + key + "\" longer than 4096 bytes");
      (key[0] == 'b' ? by : *comment) = std::move(v);
    }
  }
  const std::string& principal = req.principal.name;
  // With authentication off every caller is "anonymous": the body's name is all there is.
  if (principal.empty() || principal == "anonymous") {
    *who = by.empty() ? "anonymous" : by;
  } else if (by.empty() || by == principal) {
    *who = principal;
  } else {
    *who = principal + " (for " + by + ")";
  }
  return Status::Ok();
}

// The run `id` when it is the request tenant's; another tenant's is nullopt, as an unknown id.
std::optional<playbook::Run> TenantRun(const Request& req, const playbook::Engine& engine, const std::string& id) {
  std::optional<playbook::Run> run = engine.GetRun(id);
  if (run && run->tenant != req.principal.tenant) return std::nullopt;
  return run;
}

// Whose an audit record is: its "tenant" member, absent for the default tenant (Engine::Record).
std::string RecordTenant(const playbook::AuditRecord& r) {
  rapidjson::Document parsed;
  parsed.Parse<rapidjson::kParseIterativeFlag>(r.json.data(), r.json.size());
  if (parsed.HasParseError() || !parsed.IsObject()) return "";  // shown to no one
  const rapidjson::Document& d = parsed;
  auto it = d.FindMember("tenant");
  if (it == d.MemberEnd()) return std::string(auth::kDefaultTenant);
  return it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength()) : "";
}

Response Decision(Request& req, playbook::Engine* engine, std::string_view action) {
  const std::string id(req.PathParam("id").value_or(""));
  // A run's tenant never changes, so checking it first is enough.
  if (!TenantRun(req, *engine, id)) return Response::Error(404, "not_found", "no playbook run " + id);
  std::string who, comment;
  Status s = ReadDecision(req, &who, &comment);
  if (s.ok()) {
    if (action == "approve") {
      s = engine->Approve(id, who, comment);
    } else if (action == "reject") {
      s = engine->Reject(id, who, comment);
    } else {
      s = engine->Cancel(id, who);
    }
  }
  if (!s.ok()) return StatusError(s);
  auto run = engine->GetRun(id);
  return Success([&](JsonWriter& w) {
    Key(w, "run");
    if (run) {
      WriteRun(w, *run, false);
    } else {
      w.Null();
    }
  });
}

}  // namespace

void AddPlaybookRoutes(http::Router* router, auth::Guard* guard, playbook::Engine* engine) {
  router->Add({"GET"}, "/api/v1/playbooks", "/api/v1/playbooks", guard->Require(auth::Scope::kRead, [engine](Request&) {
                const playbook::PlaybookList list = engine->Playbooks();
                return Success([&](JsonWriter& w) {
                  Key(w, "playbooks");
                  w.StartArray();
                  for (const auto& p : list) WritePlaybook(w, *p);
                  w.EndArray();
                });
              }));
  router->Add({"GET"}, "/api/v1/playbooks/runs", "/api/v1/playbooks/runs",
              guard->Require(auth::Scope::kRead, [engine](Request& req) {
                std::vector<playbook::Run> runs = engine->Runs(std::string(req.Param("incident").value_or("")));
                std::erase_if(runs, [&req](const playbook::Run& r) { return r.tenant != req.principal.tenant; });
                return Success([&](JsonWriter& w) {
                  Key(w, "runs");
                  w.StartArray();
                  for (const auto& r : runs) WriteRun(w, r, false);
                  w.EndArray();
                });
              }));
  router->Add({"GET"}, "/api/v1/playbooks/runs/:id", "/api/v1/playbooks/runs/:id",
              guard->Require(auth::Scope::kRead, [engine](Request& req) {
                const std::string id(req.PathParam("id").value_or(""));
                auto run = TenantRun(req, *engine, id);
                if (!run) return Response::Error(404, "not_found", "no playbook run " + id);
                return Success([&](JsonWriter& w) {
                  Key(w, "run");
                  WriteRun(w, *run, true);
                });
              }));
  for (const char* action : {"approve", "reject", "cancel"}) {
    const std::string pattern = std::string("/api/v1/playbooks/runs/:id/") + action;
    router->Add({"POST"}, pattern, pattern, guard->Require(auth::Scope::kOperate, [engine, action](Request& req) {
                  return Decision(req, engine, action);
                }));
  }
  router->Add({"GET"}, "/api/v1/playbooks/audit", "/api/v1/playbooks/audit",
              guard->Require(auth::Scope::kRead, [engine](Request& req) {
                playbook::AuditFilter filter;
                filter.run_id = std::string(req.Param("run").value_or(""));
                filter.incident_id = std::string(req.Param("incident").value_or(""));
                if (auto l = req.Param("limit"); l && !l->empty()) {
                  uint64_t n = 0;
                  auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
                  if (ec != std::errc() || ptr != l->data() + l->size() || n == 0 || n > playbook::kMaxAuditReadLimit) {
                    return Response::Error(400, "bad_data", "invalid parameter \"limit\": a number from 1 to " +
                                                                std::to_string(playbook::kMaxAuditReadLimit));
                  }
                  filter.limit = n;
                }
                // The request tenant's newest `limit`: read as many as may be read, then keep its own.
                const size_t limit = filter.limit;
                filter.limit = playbook::kMaxAuditReadLimit;
                auto records = engine->Audit(filter);
                if (!records.ok()) return StatusError(records.status());
                std::erase_if(*records, [&req](const playbook::AuditRecord& r) { return RecordTenant(r) != req.principal.tenant; });
                if (records->size() > limit) records->erase(records->begin(), records->end() - static_cast<std::ptrdiff_t>(limit));
                return Success([&](JsonWriter& w) {
                  Key(w, "records");
                  w.StartArray();
                  for (const auto& r : *records) {
                    w.RawValue(r.json.data(), r.json.size(), rapidjson::kObjectType);
                  }
                  w.EndArray();
                });
              }));
}

}  // namespace tyto::api
