// Remediation playbooks over HTTP (docs/playbooks.md):
//   GET  /api/v1/playbooks                       read   the loaded playbooks
//   GET  /api/v1/playbooks/runs[?incident=ID]    read   runs, newest first
//   GET  /api/v1/playbooks/runs/{id}             read   one run with its steps
//   POST /api/v1/playbooks/runs/{id}/approve     operate  body optional: {"by":"...","comment":"..."}
//   POST /api/v1/playbooks/runs/{id}/reject      operate  the same
//   POST /api/v1/playbooks/runs/{id}/cancel      operate  the same
//   GET  /api/v1/playbooks/audit[?run=&incident=&limit=N]  read  audit records, oldest first
// Runs, decisions and audit records answer for the request's tenant: another tenant's run id is
// 404 as an unknown one; the playbooks themselves are the server's, listed to every tenant.
// Responses use the Prometheus API envelope ({"status":"success","data":...}); errors are 400
// bad_data, 404 not_found, 409 conflict (a run in the wrong state) or 503 unavailable. Who
// approved is the authenticated token's name; a "by" in the body is recorded beside it.
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::playbook {
class Engine;
}

namespace tyto::api {

// `engine` must outlive the router.
void AddPlaybookRoutes(http::Router* router, auth::Guard* guard, playbook::Engine* engine);

}  // namespace tyto::api
