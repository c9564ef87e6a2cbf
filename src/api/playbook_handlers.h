// Remediation playbooks over HTTP (docs/playbooks.md):
//   GET  /api/v1/playbooks                       read   the loaded playbooks
//   GET  /api/v1/playbooks/runs[?incident=ID]    read   runs, newest first
//   GET  /api/v1/playbooks/runs/{id}             read   one run with its steps
//   POST /api/v1/playbooks/runs/{id}/approve     write  body optional: {"by":"...","comment":"..."}
//   POST /api/v1/playbooks/runs/{id}/reject      write  the same
//   POST /api/v1/playbooks/runs/{id}/cancel      write  the same
//   GET  /api/v1/playbooks/audit[?run=&incident=&limit=N]  read  audit records, oldest first
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
