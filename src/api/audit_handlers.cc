#include "api/audit_handlers.h"

#include <charconv>

#include "api/json.h"
#include "api/params.h"
#include "audit/trail.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

bool AdminForAnyTenant(const http::Principal& p) {
  for (const auto& [tenant, scopes] : p.grants) {
    if (tenant == "*" && (scopes & static_cast<uint32_t>(auth::Scope::kAdmin)) != 0) return true;
  }
  return false;
}

Response Find(const Request& req, const audit::Trail& trail) {
  audit::Query q;
  if (auto v = req.Param("start"); v && !v->empty()) {
    auto t = ParseTimeParam("start", *v);
    if (!t.ok()) return Response::Error(400, "bad_data", t.status().message());
    q.start_ms = *t;
  }
  if (auto v = req.Param("end"); v && !v->empty()) {
    auto t = ParseTimeParam("end", *v);
    if (!t.ok()) return Response::Error(400, "bad_data", t.status().message());
    q.end_ms = *t;
  }
  if (q.start_ms > q.end_ms) return Response::Error(400, "bad_data", "\"end\" is before \"start\"");
  q.action = std::string(req.Param("action").value_or(""));
  q.principal = std::string(req.Param("principal").value_or(""));
  q.tenant = std::string(req.Param("tenant").value_or(""));
  if (auto l = req.Param("limit"); l && !l->empty()) {
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    if (ec != std::errc() || ptr != l->data() + l->size() || n == 0 || n > audit::kMaxQueryLimit) {
      return Response::Error(400, "bad_data", "invalid parameter \"limit\": a number from 1 to " +
                                                  std::to_string(audit::kMaxQueryLimit));
    }
    q.limit = n;
  }
  if (!AdminForAnyTenant(req.principal)) {
    if (!q.tenant.empty() && q.tenant != req.principal.tenant) {
      return Response::Error(403, "forbidden",
                             "token '" + req.principal.name + "' may read the audit records of tenant '" +
                                 req.principal.tenant + "' only");
    }
    q.tenant = req.principal.tenant;
  }
  auto records = trail.Find(q);
  if (!records.ok()) return StatusError(records.status());
  return Success([&](JsonWriter& w) {
    Key(w, "records");
    w.StartArray();
    for (const auto& r : *records) w.RawValue(r.json.data(), r.json.size(), rapidjson::kObjectType);
    w.EndArray();
  });
}

}  // namespace

void AddAuditRoutes(http::Router* router, auth::Guard* guard, const audit::Trail* trail) {
  router->Add({"GET"}, "/api/v1/audit", "/api/v1/audit",
              guard->Require(auth::Scope::kAdmin, [trail](Request& req) { return Find(req, *trail); }));
}

}  // namespace tyto::api
