#include "api/rules_handlers.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "api/json.h"
#include "tyto/selector.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

// Whether a filter parameter lets `v` through: given no values, everything passes.
bool InFilter(const std::vector<std::string_view>& set, std::string_view v) {
  return set.empty() || std::find(set.begin(), set.end(), v) != set.end();
}

bool MatchesAny(const std::vector<std::vector<Matcher>>& selectors, const Labels& labels) {
  if (selectors.empty()) return true;
  for (const auto& matchers : selectors) {
    bool all = true;
    for (const Matcher& m : matchers) all = all && m.Matches(labels.Get(m.name()));
    if (all) return true;
  }
  return false;
}

// Prometheus's token for the group a page starts at: opaque, stable while the groups are.
std::string NextToken(const RuleGroup& g) { return auth::HashSecret(g.file + ";" + g.name); }

// Go's strconv.ParseBool, after Prometheus lowers the case.
std::optional<bool> ParseBool(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "1" || s == "t" || s == "true") return true;
  if (s == "0" || s == "f" || s == "false") return false;
  return std::nullopt;
}

void Alert(JsonWriter& w, const ActiveAlert& a) {
  w.StartObject();
  Key(w, "labels");
  LabelsObject(w, a.labels);
  Key(w, "annotations");
  LabelsObject(w, a.annotations);
  String(w, "state", a.state);
  if (a.active_at_ms != 0) String(w, "activeAt", GoTime(a.active_at_ms));
  if (a.keep_firing_since_ms != 0) String(w, "keepFiringSince", GoTime(a.keep_firing_since_ms));
  String(w, "value", FormatFloatExponent(a.value));
  w.EndObject();
}

void WriteRule(JsonWriter& w, const Rule& r, bool with_alerts) {
  w.StartObject();
  const bool alerting = r.kind == Rule::Kind::kAlerting;
  if (alerting) String(w, "state", r.state);
  String(w, "name", r.name);
  String(w, "query", r.query);
  if (alerting) {
    Key(w, "duration");
    GoNumber(w, r.duration_seconds);
    Key(w, "keepFiringFor");
    GoNumber(w, r.keep_firing_for_seconds);
  }
  Key(w, "labels");
  LabelsObject(w, r.labels);
  if (alerting) {
    Key(w, "annotations");
    LabelsObject(w, r.annotations);
    Key(w, "alerts");
    if (with_alerts) {
      w.StartArray();
      for (const ActiveAlert& a : r.alerts) Alert(w, a);
      w.EndArray();
    } else {
      w.Null();
    }
  }
  String(w, "health", r.health);
  if (!r.last_error.empty()) String(w, "lastError", r.last_error);
  Key(w, "evaluationTime");
  GoNumber(w, r.evaluation_seconds);
  String(w, "lastEvaluation", GoTime(r.last_evaluation_ms));
  String(w, "type", alerting ? "alerting" : "recording");
  w.EndObject();
}

Response BadParam(std::string_view name, std::string_view why) {
  return Response::Error(400, "bad_data", "invalid parameter \"" + std::string(name) + "\": " + std::string(why));
}

Response Rules(const Request& req, const RulesSource& source) {
  std::string type(req.Param("type").value_or(""));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!type.empty() && type != "alert" && type != "record") {
    return BadParam("type", "not supported value \"" + type + "\"");
  }
  bool exclude_alerts = false;
  if (auto e = req.Param("exclude_alerts"); e && !e->empty()) {
    auto b = ParseBool(std::string(*e));
    if (!b) {
      return BadParam("exclude_alerts", "error converting exclude_alerts: strconv.ParseBool: parsing \"" +
                                            std::string(*e) + "\": invalid syntax");
    }
    exclude_alerts = *b;
  }
  std::vector<std::vector<Matcher>> selectors;
  for (std::string_view m : req.Params("match[]")) {
    auto matchers = ParseSeriesSelector(m);
    if (!matchers.ok()) return BadParam("match[]", matchers.status().message());
    selectors.push_back(std::move(matchers).value());
  }
  int64_t group_limit = 0;  // 0: all
  const std::string next_token(req.Param("group_next_token").value_or(""));
  if (auto l = req.Param("group_limit"); l && !l->empty()) {
    const std::string s(*l);
    char* end = nullptr;
    const long long n = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() + s.size() || n > INT32_MAX || n < INT32_MIN) {
      return Response::Error(400, "bad_data", "group_limit needs to be a valid number: \"" + s + "\"");
    }
    if (n <= 0) return Response::Error(400, "bad_data", "group_limit needs to be greater than 0");
    group_limit = n;
  } else if (!next_token.empty()) {
    return Response::Error(400, "bad_data", "group_limit needs to be present in order to paginate over the groups");
  }
  const std::vector<std::string_view> rule_names = req.Params("rule_name[]");
  const std::vector<std::string_view> group_names = req.Params("rule_group[]");
  const std::vector<std::string_view> files = req.Params("file[]");

  std::vector<RuleGroup> groups = source.Groups();
  std::erase_if(groups, [&req](const RuleGroup& g) { return g.tenant != req.principal.tenant; });
  // The groups kept, each with the rules of it kept.
  std::vector<std::pair<const RuleGroup*, std::vector<const Rule*>>> kept;
  std::string group_next_token;
  bool found_token = next_token.empty();
  for (const RuleGroup& g : groups) {
    if (!found_token) {
      if (NextToken(g) != next_token) continue;
      found_token = true;
    }
    if (!InFilter(group_names, g.name) || !InFilter(files, g.file)) continue;
    std::vector<const Rule*> rules;
    for (const Rule& r : g.rules) {
      const bool alerting = r.kind == Rule::Kind::kAlerting;
      if ((alerting && type == "record") || (!alerting && type == "alert")) continue;
      if (!InFilter(rule_names, r.name) || !MatchesAny(selectors, r.labels)) continue;
      rules.push_back(&r);
    }
    if (rules.empty()) continue;
    if (group_limit > 0 && static_cast<int64_t>(kept.size()) == group_limit) {
      group_next_token = NextToken(g);
      break;
    }
    kept.emplace_back(&g, std::move(rules));
  }
  if (!found_token) {
    return Response::Error(400, "bad_data", "invalid group_next_token '" + next_token + "'. were rule groups changed?");
  }
  return Success([&](JsonWriter& w) {
    Key(w, "groups");
    w.StartArray();
    for (const auto& [g, rules] : kept) {
      w.StartObject();
      String(w, "name", g->name);
      String(w, "file", g->file);
      Key(w, "rules");
      w.StartArray();
      for (const Rule* r : rules) WriteRule(w, *r, !exclude_alerts);
      w.EndArray();
      Key(w, "interval");
      GoNumber(w, g->interval_seconds);
      Key(w, "limit");
      w.Int64(g->limit);
      Key(w, "evaluationTime");
      GoNumber(w, g->evaluation_seconds);
      String(w, "lastEvaluation", GoTime(g->last_evaluation_ms));
      w.EndObject();
    }
    w.EndArray();
    if (!group_next_token.empty()) String(w, "groupNextToken", group_next_token);
  });
}

}  // namespace

void AddRulesRoutes(http::Router* router, auth::Guard* guard, const RulesSource* rules) {
  router->Add({"GET"}, "/api/v1/rules", "/api/v1/rules",
              guard->Require(auth::Scope::kRead, [rules](Request& req) { return Rules(req, *rules); }));

  router->Add({"GET"}, "/api/v1/alerts", "/api/v1/alerts", guard->Require(auth::Scope::kRead, [rules](Request& req) {
                std::vector<RuleGroup> groups = rules->Groups();
                std::erase_if(groups, [&req](const RuleGroup& g) { return g.tenant != req.principal.tenant; });
                return Success([&](JsonWriter& w) {
                  Key(w, "alerts");
                  w.StartArray();
                  for (const RuleGroup& g : groups) {
                    for (const Rule& r : g.rules) {
                      if (r.kind != Rule::Kind::kAlerting) continue;
                      for (const ActiveAlert& a : r.alerts) Alert(w, a);
                    }
                  }
                  w.EndArray();
                });
              }));
}

}  // namespace tyto::api
