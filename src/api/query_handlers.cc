#include "api/query_handlers.h"

#include <cmath>

#include "api/json.h"
#include "api/params.h"
#include "api/tenant_limit.h"
#include "common/units.h"
#include "promql/engine.h"
#include "tenant/tenancy.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

void PointArray(JsonWriter& w, int64_t t, const std::string& value) {
  w.StartArray();
  Timestamp(w, t);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  w.EndArray();
}

Response QueryResponse(const promql::QueryResult& r) {
  return SuccessValue(
      [&](JsonWriter& w) {
        w.StartObject();
        String(w, "resultType", promql::ValueTypeApiName(r.type));
        Key(w, "result");
        switch (r.type) {
          case promql::ValueType::kScalar:
            PointArray(w, r.time, FormatFloat(r.scalar));
            break;
          case promql::ValueType::kString:
            PointArray(w, r.time, r.string);
            break;
          case promql::ValueType::kVector:
            w.StartArray();
            for (const promql::Element& e : r.vector) {
              w.StartObject();
              Key(w, "metric");
              LabelsObject(w, e.metric);
              Key(w, "value");
              PointArray(w, r.time, FormatFloat(e.v));
              w.EndObject();
            }
            w.EndArray();
            break;
          default:
            w.StartArray();
            for (const promql::Series& s : r.matrix) {
              w.StartObject();
              Key(w, "metric");
              LabelsObject(w, s.metric);
              Key(w, "values");
              w.StartArray();
              for (const promql::Point& p : s.points) PointArray(w, p.t, FormatFloat(p.v));
              w.EndArray();
              w.EndObject();
            }
            w.EndArray();
            break;
        }
        w.EndObject();
      },
      r.warnings);
}

// A duration ("15s", "1m") or seconds ("15", "0.5") to milliseconds; `name` is the parameter.
Result<int64_t> DurationParam(std::string_view name, std::string_view v) {
  if (auto d = ParseDuration(v); d.ok()) return d->count();
  const std::string s(v);
  char* end = nullptr;
  const double secs = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(secs)) {
    return InvalidArgument("invalid parameter \"" + std::string(name) + "\": cannot parse \"" + s +
                           "\" to a valid duration");
  }
  return static_cast<int64_t>(std::llround(secs * 1000));
}

// What stops the query besides the engine's own limits: the client going away, and the
// request's `timeout` parameter.
Result<promql::QueryContext> Context(const Request& req) {
  promql::QueryContext ctx;
  ctx.cancelled = [&req] { return req.ClientGone(); };
  if (auto t = req.Param("timeout"); t && !t->empty()) {
    TYTO_ASSIGN_OR_RETURN(int64_t ms, DurationParam("timeout", *t));
    if (ms <= 0) return InvalidArgument("invalid parameter \"timeout\": must be positive");
    ctx.timeout = std::chrono::milliseconds(ms);
  }
  return ctx;
}

Response QueryError(const Status& s) {
  if (tenant::IsLimit(s)) return TenantLimitResponse(s);
  // As Prometheus answers: a timeout is 503 "timeout", a client gone 499 "canceled", a limit
  // or a run-time failure 422 "execution", a parse or type error 400 "bad_data".
  if (s.code() == StatusCode::kDeadlineExceeded) return Response::Error(503, "timeout", s.message());
  if (s.code() == StatusCode::kCancelled) return Response::Error(499, "canceled", s.message());
  if (s.code() == StatusCode::kResourceExhausted) return Response::Error(422, "execution", s.message());
  if (s.message().find("parse error") != std::string::npos ||
      s.message().rfind("invalid expression type", 0) == 0) {  // a string over a range: refused before running
    return Response::Error(400, "bad_data", s.message());
  }
  if (s.code() == StatusCode::kInvalidArgument) return Response::Error(422, "execution", s.message());
  return Response::Error(500, "internal", s.message());
}

// Runs `run` with the query context for the request's tenant: its view of the metrics, its
// samples limit, within its concurrency limit.
template <typename Run>
Response RunForTenant(const Request& req, promql::QueryContext ctx, const tenant::Tenancy* tenancy, Run run) {
  tenant::TenantStorage view = tenancy->View(req.principal.tenant);
  ctx.storage = &view;
  tenant::Limiter::QueryPermit permit;
  if (tenant::Limiter* limiter = tenancy->limiter()) {
    auto started = limiter->StartQuery(req.principal.tenant);
    if (!started.ok()) return TenantLimitResponse(started.status());
    permit = std::move(started).value();
    ctx.max_samples = limiter->For(req.principal.tenant).max_query_samples;
  }
  auto r = run(ctx);
  if (!r.ok()) return QueryError(r.status());
  return QueryResponse(*r);
}

}  // namespace

void AddQueryRoutes(http::Router* router, auth::Guard* guard, const promql::Engine* engine,
                    const tenant::Tenancy* tenancy, Clock* clock) {
  router->Add({"GET", "POST"}, "/api/v1/query", "/api/v1/query",
              guard->Require(auth::Scope::kRead, [engine, tenancy, clock](Request& req) {
                auto q = req.Param("query");
                if (!q || q->empty()) return Response::Error(400, "bad_data", "invalid parameter \"query\": empty query");
                int64_t t = clock->NowMillis();
                if (auto tp = req.Param("time"); tp && !tp->empty()) {
                  auto parsed = ParseTimeParam("time", *tp);
                  if (!parsed.ok()) return Response::Error(400, "bad_data", parsed.status().message());
                  t = *parsed;
                }
                auto ctx = Context(req);
                if (!ctx.ok()) return Response::Error(400, "bad_data", ctx.status().message());
                return RunForTenant(req, *ctx, tenancy, [&](const promql::QueryContext& c) {
                  return engine->Instant(*q, t, c);
                });
              }));

  router->Add({"GET", "POST"}, "/api/v1/query_range", "/api/v1/query_range",
              guard->Require(auth::Scope::kRead, [engine, tenancy](Request& req) {
                auto q = req.Param("query");
                if (!q || q->empty()) return Response::Error(400, "bad_data", "invalid parameter \"query\": empty query");
                auto start = ParseTimeParam("start", req.Param("start").value_or(""));
                if (!start.ok()) return Response::Error(400, "bad_data", start.status().message());
                auto end = ParseTimeParam("end", req.Param("end").value_or(""));
                if (!end.ok()) return Response::Error(400, "bad_data", end.status().message());
                if (*end < *start) {
                  return Response::Error(400, "bad_data", "invalid parameter \"end\": end timestamp must not be before start time");
                }
                auto step = DurationParam("step", req.Param("step").value_or(""));
                if (!step.ok()) return Response::Error(400, "bad_data", step.status().message());
                if (*step <= 0) {
                  return Response::Error(400, "bad_data",
                                         "invalid parameter \"step\": zero or negative query resolution step widths are "
                                         "not accepted. Try a positive integer");
                }
                if ((*end - *start) / *step > 11000) {
                  return Response::Error(400, "bad_data",
                                         "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                                         "the query resolution (?step=XX)");
                }
                auto ctx = Context(req);
                if (!ctx.ok()) return Response::Error(400, "bad_data", ctx.status().message());
                return RunForTenant(req, *ctx, tenancy, [&](const promql::QueryContext& c) {
                  return engine->Range(*q, *start, *end, *step, c);
                });
              }));
}

}  // namespace tyto::api
