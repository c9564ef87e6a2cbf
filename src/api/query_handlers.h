// PromQL over the Prometheus HTTP API, in its shapes (Grafana's Prometheus data source uses them):
//   GET|POST /api/v1/query?query=EXPR[&time=T]                                  read
//   GET|POST /api/v1/query_range?query=EXPR&start=T&end=T&step=DURATION|SECONDS  read
// Results: {"resultType": "vector"|"matrix"|"scalar"|"string", "result": ...} with timestamps as
// Unix seconds (milliseconds as a fraction) and values as strings, as Prometheus writes them.
// A query that does not parse is 400 bad_data (naming the position); one that fails while
// running is 422 execution; too many points per series (over 11,000) is 400; a tenant's limit
// (tenant/limits.h) is 429.
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/clock.h"

namespace tyto::promql {
class Engine;
}
namespace tyto::tenant {
class Tenancy;
}

namespace tyto::api {

// Each query reads the request tenant's view of the metrics (tenancy->View) under its limits
// (query concurrency and samples: 429 when over). `engine`, `tenancy` and `clock` must outlive
// the router.
void AddQueryRoutes(http::Router* router, auth::Guard* guard, const promql::Engine* engine,
                    const tenant::Tenancy* tenancy, Clock* clock);

}  // namespace tyto::api
