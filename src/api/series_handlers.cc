#include "api/series_handlers.h"

#include <algorithm>
#include <set>

#include "api/json.h"
#include "api/params.h"
#include "tyto/selector.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

struct Common {
  std::vector<std::vector<Matcher>> selectors;  // one per match[]
  int64_t start = INT64_MIN;
  int64_t end = INT64_MAX;
  size_t limit = 0;  // 0: none
};

Result<Common> ParseCommon(const Request& req, bool match_required) {
  Common c;
  for (std::string_view m : req.Params("match[]")) {
    auto matchers = ParseSeriesSelector(m);
    if (!matchers.ok()) return InvalidArgument("invalid parameter \"match[]\": " + matchers.status().message());
    c.selectors.push_back(std::move(matchers).value());
  }
  if (match_required && c.selectors.empty()) return InvalidArgument("no match[] parameter provided");
  if (auto s = req.Param("start"); s && !s->empty()) {
    TYTO_ASSIGN_OR_RETURN(c.start, ParseTimeParam("start", *s));
  }
  if (auto e = req.Param("end"); e && !e->empty()) {
    TYTO_ASSIGN_OR_RETURN(c.end, ParseTimeParam("end", *e));
  }
  if (c.end < c.start) return InvalidArgument("end timestamp must not be before start time");
  if (auto l = req.Param("limit"); l && !l->empty()) {
    const std::string s(*l);
    char* endp = nullptr;
    const long long n = std::strtoll(s.c_str(), &endp, 10);
    if (endp != s.c_str() + s.size() || n < 0) {
      return InvalidArgument("invalid parameter \"limit\": \"" + s + "\" is not a non-negative integer");
    }
    c.limit = static_cast<size_t>(n);
  }
  return c;
}

Response BadData(const Status& s) { return Response::Error(400, "bad_data", s.message()); }
Response Internal(const Status& s) { return Response::Error(500, "internal", s.message()); }

// Sorted, distinct strings from every selector (or the one empty selector).
template <typename Fn>
Result<std::vector<std::string>> UnionOf(const Common& c, Fn fn) {
  std::set<std::string> all;
  const std::vector<std::vector<Matcher>> selectors = c.selectors.empty() ? std::vector<std::vector<Matcher>>{{}} : c.selectors;
  for (const auto& m : selectors) {
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> part, fn(m));
    all.insert(part.begin(), part.end());
  }
  return std::vector<std::string>(all.begin(), all.end());
}

std::vector<std::string> Truncate(std::vector<std::string>* v, size_t limit) {
  if (limit == 0 || v->size() <= limit) return {};
  v->resize(limit);
  return {"results truncated due to limit"};
}

Response Strings(std::vector<std::string> values, size_t limit) {
  const auto warnings = Truncate(&values, limit);
  return SuccessValue(
      [&](JsonWriter& w) {
        w.StartArray();
        for (const std::string& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
        w.EndArray();
      },
      warnings);
}

}  // namespace

void AddSeriesRoutes(http::Router* router, auth::Guard* guard, Storage* storage) {
  router->Add({"GET", "POST"}, "/api/v1/series", "/api/v1/series",
              guard->Require(auth::Scope::kRead, [storage](Request& req) {
                auto c = ParseCommon(req, /*match_required=*/true);
                if (!c.ok()) return BadData(c.status());
                auto q = storage->NewQuerier(c->start, c->end);
                if (!q.ok()) return Internal(q.status());
                std::set<Labels> found;
                for (const auto& m : c->selectors) {
                  auto set = (*q)->Select(m);
                  while (set->Next()) found.insert(set->labels());
                  if (!set->status().ok()) return Internal(set->status());
                }
                std::vector<std::string> warnings;
                size_t n = found.size();
                if (c->limit > 0 && n > c->limit) {
                  n = c->limit;
                  warnings.push_back("results truncated due to limit");
                }
                return SuccessValue(
                    [&](JsonWriter& w) {
                      w.StartArray();
                      size_t i = 0;
                      for (const Labels& l : found) {
                        if (i++ == n) break;
                        LabelsObject(w, l);
                      }
                      w.EndArray();
                    },
                    warnings);
              }));

  router->Add({"GET", "POST"}, "/api/v1/labels", "/api/v1/labels",
              guard->Require(auth::Scope::kRead, [storage](Request& req) {
                auto c = ParseCommon(req, /*match_required=*/false);
                if (!c.ok()) return BadData(c.status());
                auto q = storage->NewQuerier(c->start, c->end);
                if (!q.ok()) return Internal(q.status());
                auto names = UnionOf(*c, [&](const std::vector<Matcher>& m) { return (*q)->LabelNames(m); });
                if (!names.ok()) return Internal(names.status());
                return Strings(std::move(names).value(), c->limit);
              }));

  router->Add({"GET"}, "/api/v1/label/:name/values", "/api/v1/label/:name/values",
              guard->Require(auth::Scope::kRead, [storage](Request& req) {
                const std::string name(req.PathParam("name").value_or(""));
                if (name.empty()) return Response::Error(400, "bad_data", "invalid label name: \"\"");
                auto c = ParseCommon(req, /*match_required=*/false);
                if (!c.ok()) return BadData(c.status());
                auto q = storage->NewQuerier(c->start, c->end);
                if (!q.ok()) return Internal(q.status());
                auto values = UnionOf(*c, [&](const std::vector<Matcher>& m) { return (*q)->LabelValues(name, m); });
                if (!values.ok()) return Internal(values.status());
                return Strings(std::move(values).value(), c->limit);
              }));
}

}  // namespace tyto::api
