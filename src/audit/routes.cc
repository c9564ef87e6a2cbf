#include "audit/routes.h"

#include <rapidjson/document.h>

#include <array>

namespace tyto::audit {
namespace {

struct RouteRule {
  std::string_view method;
  std::string_view route;
  std::string_view action;
  // Members of the request's JSON body (strings) and of the answer's "data" (numbers) written
  // as the record's details: what was asked and what was done, for actions whose target is in
  // the body. Never secrets.
  std::array<std::string_view, 3> request_members = {};
  std::array<std::string_view, 3> answer_members = {};
};

// Every route that changes configuration or state a person owns. Keep in step with
// docs/format/audit.md.
constexpr std::array kRoutes{
    RouteRule{"POST", "/-/reload", "config.reload"},
    RouteRule{"PUT", "/-/reload", "config.reload"},
    RouteRule{"POST", "/-/log-level", "config.log_level"},
    RouteRule{"PUT", "/-/log-level", "config.log_level"},
    RouteRule{"POST", "/api/v1/admin/tsdb/flush", "storage.flush"},
    RouteRule{"PUT", "/api/v1/admin/tsdb/flush", "storage.flush"},
    RouteRule{"POST", "/api/v2/silences", "silence.create"},
    RouteRule{"DELETE", "/api/v2/silence/:id", "silence.expire"},
    RouteRule{"POST", "/api/v1/incidents/:id/acknowledge", "incident.acknowledge"},
    RouteRule{"POST", "/api/v1/incidents/:id/resolve", "incident.resolve"},
    RouteRule{"POST", "/api/v1/incidents/:id/notes", "incident.note"},
    RouteRule{"POST", "/api/v1/playbooks/runs/:id/approve", "playbook.approve"},
    RouteRule{"POST", "/api/v1/playbooks/runs/:id/reject", "playbook.reject"},
    RouteRule{"POST", "/api/v1/playbooks/runs/:id/cancel", "playbook.cancel"},
    RouteRule{"POST", "/api/v1/dashboards", "dashboard.save"},
    RouteRule{"DELETE", "/api/v1/dashboards/:uid", "dashboard.delete"},
    RouteRule{"POST", "/api/v1/drift/reference", "drift.reference"},
    RouteRule{"DELETE", "/api/v1/drift/reference", "drift.reference_reset"},
    RouteRule{"POST", "/api/v1/admin/erase", "data.erase", {"tenant", "user", "request_id"},
              {"spans", "logs", "inference_events"}},
};

constexpr size_t kMaxErrorBytes = 512;

std::string Outcome(int status) {
  if (status < 400) return "ok";
  if (status == 404) return "not_found";
  if (status < 500) return "invalid";
  return "failed";
}

// Members of a parsed JSON object, through const values (rapidjson's mutable iterators compare
// ambiguously in C++20).
const rapidjson::Value* Member(const rapidjson::Value& o, std::string_view key) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(rapidjson::StringRef(key.data(), key.size()));
  return it == o.MemberEnd() ? nullptr : &it->value;
}

std::string StringMember(const rapidjson::Value& o, std::string_view key) {
  const rapidjson::Value* v = Member(o, key);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

// `text` parsed into *doc; false when it is not a JSON object.
bool ParseObject(std::string_view text, rapidjson::Document* doc) {
  doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc->HasParseError() && doc->IsObject();
}

// The error message of an error answer: the "error" member of a JSON body, or a text body.
std::string ErrorOf(const http::Response& resp) {
  std::string out;
  rapidjson::Document doc;
  if (ParseObject(resp.body, &doc)) {
    out = StringMember(doc, "error");
  } else if (resp.content_type.starts_with("text/")) {
    out = resp.body;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  }
  if (out.size() > kMaxErrorBytes) out.resize(kMaxErrorBytes);
  return out;
}

// What a create answer names: Alertmanager's silenceID, or the data's uid or id.
std::string CreatedId(const http::Response& resp) {
  rapidjson::Document doc;
  if (!ParseObject(resp.body, &doc)) return "";
  if (std::string id = StringMember(doc, "silenceID"); !id.empty()) return id;
  const rapidjson::Value* data = Member(doc, "data");
  if (data == nullptr) return "";
  if (std::string uid = StringMember(*data, "uid"); !uid.empty()) return uid;
  return StringMember(*data, "id");
}

const RouteRule* FindRule(std::string_view method, std::string_view route) {
  for (const RouteRule& r : kRoutes) {
    if (r.method == method && r.route == route) return &r;
  }
  return nullptr;
}

// The rule's request and answer members, as details.
void AddMembers(const RouteRule& rule, const http::Request& req, const http::Response& resp, Event* e) {
  rapidjson::Document doc;
  if (!rule.request_members[0].empty() && ParseObject(req.body, &doc)) {
    for (std::string_view key : rule.request_members) {
      if (key.empty()) break;
      const rapidjson::Value* v = Member(doc, key);
      if (v != nullptr && v->IsString()) e->details.emplace_back(key, std::string(v->GetString(), v->GetStringLength()));
    }
  }
  if (!rule.answer_members[0].empty() && resp.status < 400 && ParseObject(resp.body, &doc)) {
    const rapidjson::Value* data = Member(doc, "data");
    if (data == nullptr) return;
    for (std::string_view key : rule.answer_members) {
      if (key.empty()) break;
      const rapidjson::Value* v = Member(*data, key);
      if (v != nullptr && v->IsUint64()) e->details.emplace_back(key, std::to_string(v->GetUint64()));
    }
  }
}

}  // namespace

std::string_view RouteAction(std::string_view method, std::string_view route) {
  const RouteRule* r = FindRule(method, route);
  return r == nullptr ? std::string_view() : r->action;
}

void RouteAuditor::Observe(const http::Request& req, const http::Response& resp) const {
  if (resp.status == 401 || resp.status == 403) {
    Event e = FromRequest(req, resp.status == 401 ? "auth.failed" : "auth.denied", req.path,
                          resp.status == 401 ? "unauthenticated" : "denied");
    e.details = {{"method", req.method}, {"why", ErrorOf(resp)}};
    recorder_->Record(e);
    return;
  }
  const RouteRule* rule = FindRule(req.method, resp.handler);
  if (rule == nullptr) return;
  std::string target;
  if (!req.path_params.empty()) {
    target = req.path_params.front().second;
  } else if (resp.status < 400) {
    target = CreatedId(resp);
  }
  Event e = FromRequest(req, std::string(rule->action), std::move(target), Outcome(resp.status));
  AddMembers(*rule, req, resp, &e);
  if (resp.status >= 400) {
    e.details.emplace_back("status", std::to_string(resp.status));
    e.details.emplace_back("error", ErrorOf(resp));
  }
  recorder_->Record(e);
}

}  // namespace tyto::audit
