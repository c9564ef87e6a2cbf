// The web UI's routes (docs/ui-server.md):
//   GET  /                           public  302 to /ui/
//   GET  /ui, /ui/*path              public  the built UI (src/ui/assets.h): a file when the path
//                                            names one (assets/ cached for a year: their names are
//                                            hashed), index.html for any other path (the app routes
//                                            in the browser); a page saying how to build the UI when
//                                            the binary has none; 400 for "..", "." or NUL
//   GET  /api/v1/stream?interval=5s  read    server-sent events that keep the UI live:
//                                              event: tick       {"time":<unix seconds, float>}
//                                                                every interval (1s..60s)
//                                              event: alerts     {"firing":N,"pending":N}
//                                              event: incidents  {"open":N,"acknowledged":N}
//                                            alerts and incidents at the start and whenever they
//                                            change (the request tenant's only); a heartbeat
//                                            comment every 15 s
//   GET  /api/v1/dashboards          read    [{"uid","title","tags","source"}] (builtin, file or
//                                            imported), sorted by title
//   GET  /api/v1/dashboards/:uid     read    the dashboard's JSON
//   POST /api/v1/dashboards          write   a dashboard, or Grafana's {"dashboard":{...},
//                                            "overwrite":bool}: {"uid","warnings":[...]}
//   DELETE /api/v1/dashboards/:uid   write   imported dashboards only
// Errors in Prometheus's shape: 400 bad_data, 404 not_found, 409 conflict (the uid is taken and
// overwrite is false), 413 (body over the dashboard size limit), 503 unavailable (disk).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "api/rules_source.h"
#include "auth/auth.h"
#include "http/router.h"
#include "tyto/clock.h"

namespace tyto::ui {
class DashboardStore;
class UiAssets;
}  // namespace tyto::ui

namespace tyto::api {

struct IncidentCounts {
  size_t open = 0;
  size_t acknowledged = 0;
  friend bool operator==(const IncidentCounts&, const IncidentCounts&) = default;
};

struct UiSources {
  ui::DashboardStore* dashboards = nullptr;
  // The UI's files now (embedded, or ui.assets_dir, which a reload may change). Thread-safe.
  std::function<std::shared_ptr<const ui::UiAssets>()> assets;
  // Alert counts, read as /api/v1/alerts reads them (the request tenant's groups); null: none.
  const RulesSource* rules = nullptr;
  // A tenant's incidents not resolved; null: none. Thread-safe.
  std::function<IncidentCounts(std::string_view tenant)> incidents;
  const Clock* clock = nullptr;
};

// Everything in `sources` must outlive the router.
void AddUiRoutes(http::Router* router, auth::Guard* guard, UiSources sources);

}  // namespace tyto::api
