// The incidents API (docs/incidents.md):
//   GET  /api/v1/incidents                     read   newest first; ?state=open|acknowledged|resolved,
//                                                     ?limit=N (1..10000, default 100)
//   GET  /api/v1/incidents/:id                 read   one incident: alerts, correlations, timeline
//   POST /api/v1/incidents/:id/acknowledge     operate  body {"by": "..."} optional
//   POST /api/v1/incidents/:id/notes           operate  body {"text": "...", "by": "..."}
//   POST /api/v1/incidents/:id/resolve         operate  body {"by": "..."} optional
// Every route answers for the request's tenant: lists hold its incidents only, and another
// tenant's incident id is 404 as an unknown one (alert labels are shown without __tenant__).
// Answers use Prometheus's envelope ({"status":"success","data":...}); errors are its error shape:
// 400 bad_data (bad id, parameter or body), 404 not_found, 409 conflict (already acknowledged or
// resolved), 413 (body over 64 KiB), 503 unavailable (the journal could not be written). "by"
// defaults to the authenticated token's name.
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::incident {
class Tracker;
}

namespace tyto::api {

// `tracker` must outlive the router.
void AddIncidentRoutes(http::Router* router, auth::Guard* guard, incident::Tracker* tracker);

}  // namespace tyto::api
