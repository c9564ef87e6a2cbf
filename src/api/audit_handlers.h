// The audit trail over HTTP (docs/format/audit.md):
//   GET /api/v1/audit[?start=&end=&action=&principal=&tenant=&limit=N]   admin
// Records oldest first, the newest `limit` (default 100, at most 10000) that match: `start` and
// `end` (inclusive) as in the Prometheus API (Unix seconds or RFC 3339), `action` exactly or by
// its area ("silence" matches "silence.create"), `principal` and `tenant` exactly. A token
// granted admin for any tenant ("*") reads every record and may filter by `tenant`; any other
// admin reads only the records of the tenant it acts for (records of no tenant, such as failed
// logins, are not shown to it), and naming another tenant is 403.
// Answer: {"status":"success","data":{"records":[<record as written>, ...]}}.
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::audit {
class Trail;
}

namespace tyto::api {

// `trail` must outlive the router.
void AddAuditRoutes(http::Router* router, auth::Guard* guard, const audit::Trail* trail);

}  // namespace tyto::api
