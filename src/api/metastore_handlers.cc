#include "api/metastore_handlers.h"

#include <cstdlib>
#include <map>

#include "api/json.h"
#include "api/params.h"
#include "metastore/metastore.h"
#include "promql/parser.h"
#include "tenant/tenant_storage.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

// A non-negative integer parameter; 0 when absent.
Result<size_t> Count(const Request& req, std::string_view name) {
  auto v = req.Param(name);
  if (!v || v->empty()) return 0;
  const std::string s(*v);
  char* end = nullptr;
  const long long n = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || n < 0) {
    return InvalidArgument("invalid parameter \"" + std::string(name) + "\": \"" + s + "\" is not a count");
  }
  return static_cast<size_t>(n);
}

// The matchers of every vector selector in `e`, as Prometheus's parser.ExtractSelectors.
void Selectors(const promql::Expr& e, std::vector<std::vector<Matcher>>* out) {
  if (e.kind() == promql::NodeKind::kVectorSelector) out->push_back(e.As<promql::VectorSelector>().matchers);
  promql::ForEachChild(e, [out](const promql::Expr& child) { Selectors(child, out); });
}

}  // namespace

void AddMetastoreRoutes(http::Router* router, auth::Guard* guard, const metastore::MetadataStore* metadata,
                        const metastore::ExemplarStore* exemplars) {
  router->Add({"GET"}, "/api/v1/metadata", "/api/v1/metadata",
              guard->Require(auth::Scope::kRead, [metadata](Request& req) {
                auto limit = Count(req, "limit");
                auto per_metric = Count(req, "limit_per_metric");
                if (!limit.ok()) return Response::Error(400, "bad_data", limit.status().message());
                if (!per_metric.ok()) return Response::Error(400, "bad_data", per_metric.status().message());
                // Metadata comes from scrapes, which write the default tenant's series.
                const auto families = req.principal.tenant == auth::kDefaultTenant
                                          ? metadata->Get(std::string(req.Param("metric").value_or("")), *limit, *per_metric)
                                          : decltype(metadata->Get("", 0, 0)){};
                return Success([&](JsonWriter& w) {
                  for (const auto& [name, list] : families) {
                    Key(w, name);
                    w.StartArray();
                    for (const metastore::Metadata& m : list) {
                      w.StartObject();
                      String(w, "type", m.type);
                      String(w, "help", m.help);
                      String(w, "unit", m.unit);
                      w.EndObject();
                    }
                    w.EndArray();
                  }
                });
              }));

  router->Add({"GET", "POST"}, "/api/v1/query_exemplars", "/api/v1/query_exemplars",
              guard->Require(auth::Scope::kRead, [exemplars](Request& req) {
                auto expr = promql::Parse(req.Param("query").value_or(""));
                if (!expr.ok()) return Response::Error(400, "bad_data", expr.status().message());
                std::vector<std::vector<Matcher>> selectors;
                Selectors(**expr, &selectors);
                int64_t start = INT64_MIN;
                int64_t end = INT64_MAX;
                if (auto s = req.Param("start"); s && !s->empty()) {
                  auto t = ParseTimeParam("start", *s);
                  if (!t.ok()) return Response::Error(400, "bad_data", t.status().message());
                  start = *t;
                }
                if (auto e = req.Param("end"); e && !e->empty()) {
                  auto t = ParseTimeParam("end", *e);
                  if (!t.ok()) return Response::Error(400, "bad_data", t.status().message());
                  end = *t;
                }
                if (end < start) {
                  return Response::Error(400, "bad_data", "end timestamp must not be before start time");
                }
                // A series several selectors match has the same exemplars for each: once is enough.
                std::map<Labels, std::vector<metastore::Exemplar>> by_series;
                // Exemplars are kept by the series' stored labels (scrapes and the inference hub's:
                // a tenant's carry __tenant__), so each selector is the request tenant's, and the
                // label is not shown.
                for (const auto& matchers : selectors) {
                  Result<std::vector<Matcher>> scoped = tenant::ScopeMatchers(req.principal.tenant, matchers);
                  if (!scoped.ok()) return Response::Error(500, "internal", scoped.status().message());
                  for (metastore::ExemplarSeries& s : exemplars->Query(*scoped, start, end)) {
                    by_series.try_emplace(tenant::WithoutTenant(s.series), std::move(s.exemplars));
                  }
                }
                std::vector<metastore::ExemplarSeries> found;
                for (auto& [series, list] : by_series) found.push_back({series, std::move(list)});
                return SuccessValue([&](JsonWriter& w) {
                  w.StartArray();
                  for (const metastore::ExemplarSeries& s : found) {
                    w.StartObject();
                    Key(w, "seriesLabels");
                    LabelsObject(w, s.series);
                    Key(w, "exemplars");
                    w.StartArray();
                    for (const metastore::Exemplar& e : s.exemplars) {
                      w.StartObject();
                      Key(w, "labels");
                      LabelsObject(w, e.labels);
                      // As Prometheus's marshalExemplarJSON: the value as a sample's.
                      String(w, "value", FormatFloat(e.value));
                      Key(w, "timestamp");
                      Timestamp(w, e.timestamp_ms);
                      w.EndObject();
                    }
                    w.EndArray();
                    w.EndObject();
                  }
                  w.EndArray();
                });
              }));
}

}  // namespace tyto::api
