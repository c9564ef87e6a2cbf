// Dashboards as files: Grafana's dashboard JSON model (uid, title, tags, time, refresh,
// templating.list, annotations.list, panels[] with id/type/title/gridPos/targets/fieldConfig/
// options, row panels with nested panels), plus Tyto's panel types named "tyto-*". The UI
// (web/) renders them; the server only checks and stores them (docs/format/dashboards.md).
//
// ValidateDashboard reads outside input (POST /api/v1/dashboards, ui.dashboards files): every
// size and depth is bounded, errors name the place ("panels[3].targets[0].expr: ..."), and
// queries that do not parse as PromQL are warnings, not errors (Grafana dashboards often hold
// queries for other data sources).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::ui {

inline constexpr size_t kMaxDashboardBytes = 4 << 20;
// Arrays and objects nested deeper than this are refused (Grafana's own nest about 10 deep).
inline constexpr size_t kMaxDashboardDepth = 64;
// Queries checked with the PromQL parser per dashboard; more are accepted unchecked (a warning).
inline constexpr size_t kMaxCheckedQueries = 2000;

struct Dashboard {
  std::string uid;    // empty until given (see DashboardStore::Import)
  std::string title;
  std::vector<std::string> tags;
  std::string json;   // the dashboard object, compact JSON, its "uid" member equal to `uid`
};

struct ValidatedDashboard {
  Dashboard dashboard;
  bool overwrite = false;             // the import wrapper's "overwrite"
  std::vector<std::string> warnings;  // queries that do not parse, and the like
};

// Parses and checks a dashboard, given as the dashboard object or as Grafana's import wrapper
// {"dashboard":{...},"overwrite":bool}. kInvalidArgument names where the problem is: a JSON
// syntax error by line and column, anything else by its path in the document.
Result<ValidatedDashboard> ValidateDashboard(std::string_view text);

// A query with Grafana's macros ($__rate_interval, $__interval, $__range, their _ms and _s
// forms, $__from, $__to) and template variables ($var, ${var}, ${var:format}, [[var]]) replaced
// by values the PromQL parser accepts: any text inside a string literal; a duration where one
// is expected (in [...], after "offset"); otherwise `otherwise` (an identifier or a number,
// since a variable may stand for a label name, a metric or a count).
std::string ReplaceGrafanaVariables(std::string_view expr, std::string_view otherwise = "x");

// `json` (a dashboard object, as ValidateDashboard keeps it) with its "uid" member set to `uid`.
Result<std::string> SetUid(std::string_view json, std::string_view uid);

// Whether `uid` can name a dashboard (and so its file): 1 to 64 of [A-Za-z0-9_-], as Grafana's.
bool ValidUid(std::string_view uid);

// A uid made from a title: lowercase letters and digits, runs of anything else as one '-',
// at most 40 characters; "dashboard" when nothing is left.
std::string Slugify(std::string_view title);

}  // namespace tyto::ui
