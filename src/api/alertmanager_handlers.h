// Alertmanager's API v2 over the dispatcher (alertmanager/dispatch.h), in Alertmanager 0.27's
// shapes, so that Prometheus can send its alerts here (alerting: alertmanagers: [...]) and
// amtool, Grafana and Karma can read and silence them:
//   GET    /api/v2/alerts          read   [GettableAlert]; filter=<matcher> (repeated), active,
//                                         silenced, inhibited, unprocessed (true|false, default
//                                         true), receiver=<regex>
//   POST   /api/v2/alerts          write  [PostableAlert]; 200 with an empty body
//   GET    /api/v2/alerts/groups   read   [AlertGroup]; the same filters
//   GET    /api/v2/silences        read   [GettableSilence]; filter=<matcher> (repeated)
//   POST   /api/v2/silences        edit   PostableSilence (with "id": replaces that silence);
//                                         {"silenceID": "..."}
//   GET    /api/v2/silence/:id     read   GettableSilence; 404 when unknown
//   DELETE /api/v2/silence/:id     edit   expires it; 404 when unknown
//   GET    /api/v2/status          read   cluster (disabled), config.original, uptime, versionInfo
//   GET    /api/v2/receivers       read   [{"name": ...}]
//   GET    /api/v1/notifications   read   Tyto's notification log, newest first (?limit=N)
// Tenants: every route answers for the request's tenant (Principal::tenant) only: alerts posted
// are that tenant's (the label __tenant__, alertmanager/alert.h, is set from it, never shown;
// a __tenant__ in the body stands only where the credentials may write for that tenant, as a
// cluster peer forwarding every tenant's alerts may), lists and groups hold only its alerts and silences, notifications only
// its groups, and another tenant's silence id is 404 as an unknown one. Routes are shared (one
// alertmanager.yml) and may match __tenant__; a group never mixes tenants.
// Errors are Tyto's JSON errors ({"status":"error","errorType":"bad_data","error":...}); a bad
// alert names its index and field ("alert 2: labels: ...").
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/alert.h"
#include "alertmanager/silence.h"
#include "auth/auth.h"
#include "http/router.h"
#include "tyto/status.h"

namespace tyto::alertmanager {
class Dispatcher;
}

namespace tyto::api {

struct AlertmanagerApiOptions {
  // The configuration's text for /api/v2/status (config.original); nullptr: empty.
  std::function<std::string()> config_text;
  size_t max_body_bytes = 4 << 20;  // POST bodies; larger ones are 413
  size_t max_alerts = 10000;        // per POST /api/v2/alerts
  // Where POST /api/v2/alerts puts alerts (the server's fan-out to notification and incidents);
  // nullptr: the dispatcher.
  alertmanager::AlertReceiver* receiver = nullptr;
};

// `dispatcher` must outlive the router.
void AddAlertmanagerRoutes(http::Router* router, auth::Guard* guard, alertmanager::Dispatcher* dispatcher,
                           AlertmanagerApiOptions options = {});

// POST /api/v2/alerts's body: a JSON array of PostableAlert. Times are RFC 3339; Go's zero
// time and absent times are 0 (the dispatcher fills them in). InvalidArgument names the alert
// index and field.
Result<std::vector<alertmanager::Alert>> DecodePostableAlerts(std::string_view body, size_t max_alerts = 10000);

// POST /api/v2/silences's body: a PostableSilence (id optional). Validation beyond the shape
// (matchers, times) is the dispatcher's.
Result<alertmanager::Silence> DecodePostableSilence(std::string_view body);

}  // namespace tyto::api
