#include "api/series_handlers.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>

#include "api/json.h"
#include "api/params.h"
#include "tenant/tenancy.h"
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

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// A label name in a URL path as Prometheus 3 and Grafana escape names that are not
// [a-zA-Z_][a-zA-Z0-9_]*: "U__" then the name with "_" written "__" and any other character
// "_<hex code point>_" ("U__http_2e_method" is "http.method"). Anything malformed is taken as
// written, as Prometheus's model.UnescapeName does.
std::string UnescapeLabelName(const std::string& name) {
  if (name.rfind("U__", 0) != 0) return name;
  std::string out;
  for (size_t i = 3; i < name.size(); ++i) {
    if (name[i] != '_') {
      out.push_back(name[i]);
      continue;
    }
    if (++i >= name.size()) return name;
    if (name[i] == '_') {
      out.push_back('_');
      continue;
    }
    uint32_t cp = 0;
    size_t digits = 0;
    for (;; ++i, ++digits) {
      // At most five digits, as Prometheus reads them.
      if (i >= name.size() || digits >= 6) return name;
      if (name[i] == '_') break;
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
      if (!std::isxdigit(static_cast<unsigned char>(c))) return name;
      cp = cp * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return name;
    AppendUtf8(cp, &out);
  }
  return out;
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

void AddSeriesRoutes(http::Router* router, auth::Guard* guard, const tenant::Tenancy* tenancy) {
  router->Add({"GET", "POST"}, "/api/v1/series", "/api/v1/series",
              guard->Require(auth::Scope::kRead, [tenancy](Request& req) {
                auto c = ParseCommon(req, /*match_required=*/true);
                if (!c.ok()) return BadData(c.status());
                auto q = tenancy->View(req.principal.tenant).NewQuerier(c->start, c->end);
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
              guard->Require(auth::Scope::kRead, [tenancy](Request& req) {
                auto c = ParseCommon(req, /*match_required=*/false);
                if (!c.ok()) return BadData(c.status());
                auto q = tenancy->View(req.principal.tenant).NewQuerier(c->start, c->end);
                if (!q.ok()) return Internal(q.status());
                auto names = UnionOf(*c, [&](const std::vector<Matcher>& m) { return (*q)->LabelNames(m); });
                if (!names.ok()) return Internal(names.status());
                return Strings(std::move(names).value(), c->limit);
              }));

  router->Add({"GET"}, "/api/v1/label/:name/values", "/api/v1/label/:name/values",
              guard->Require(auth::Scope::kRead, [tenancy](Request& req) {
                const std::string name = UnescapeLabelName(std::string(req.PathParam("name").value_or("")));
                if (name.empty()) return Response::Error(400, "bad_data", "invalid label name: \"\"");
                auto c = ParseCommon(req, /*match_required=*/false);
                if (!c.ok()) return BadData(c.status());
                auto q = tenancy->View(req.principal.tenant).NewQuerier(c->start, c->end);
                if (!q.ok()) return Internal(q.status());
                auto values = UnionOf(*c, [&](const std::vector<Matcher>& m) { return (*q)->LabelValues(name, m); });
                if (!values.ok()) return Internal(values.status());
                return Strings(std::move(values).value(), c->limit);
              }));
}

}  // namespace tyto::api
