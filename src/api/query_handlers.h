// PromQL over the Prometheus HTTP API, in its shapes (Grafana's Prometheus data source uses them):
//   GET|POST /api/v1/query?query=EXPR[&time=T]                                  read
//   GET|POST /api/v1/query_range?query=EXPR&start=T&end=T&step=DURATION|SECONDS  read
// Results: {"resultType": "vector"|"matrix"|"scalar"|"string", "result": ...} with timestamps as
// Unix seconds (milliseconds as a fraction) and values as strings, as Prometheus writes them.
// A query that does not parse is 400 bad_data (naming the position); one that fails while
// running is 422 execution; too many points per series (over 11,000) is 400.
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/clock.h"

namespace tyto::promql {
class Engine;
}

namespace tyto::api {

// `engine` and `clock` must outlive the router.
void AddQueryRoutes(http::Router* router, auth::Guard* guard, const promql::Engine* engine, Clock* clock);

}  // namespace tyto::api
