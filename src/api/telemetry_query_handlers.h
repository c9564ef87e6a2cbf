// Reading inference telemetry back (docs/events-api.md, "Query API"). All need the read scope.
//
// Jaeger's query API, so that Grafana's Jaeger data source (and Jaeger's own UI) read Tyto's
// traces with Tyto's address as their URL:
//   GET /api/services                       service names
//   GET /api/services/:service/operations   span names of a service
//   GET /api/operations?service=&spanKind=  span names with kinds
//   GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&start=&end=&lookback=&limit=
//                                           traces, each whole; times in microseconds, durations
//                                           as Go writes them ("1.5s", "250ms"); tags a JSON object
//                                           ({"gen_ai.request.model":"llama","error":"true"})
//   GET /api/traces/:id                     one trace
// Tyto's own, in the Prometheus API's envelope ({"status":"success","data":...}):
//   GET /api/v1/traces?service=&operation=&model=&status=&min_duration=&max_duration=&attr=k=v
//                     &start=&end=&limit=   trace summaries, newest first
//   GET /api/v1/traces/:id                  the trace as a tree (spans depth first, with depth and
//                                           parent), with links to its logs
//   GET /api/v1/logs?query=&level=&trace_id=&service=&attr=k=v&start=&end=&limit=
//                                           log search (query: full text, see eventstore)
//   GET /api/v1/logs/tail?cursor=&wait=&limit= (+ the search filters)
//                                           live tail: records committed after `cursor` (the
//                                           newest one when absent), waiting up to `wait` (at most
//                                           30 s) for one; answer carries the next cursor
//                                           With "Accept: text/event-stream": server-sent events
//                                           instead, "event: log" per record (the same JSON
//                                           object), "id:" its cursor (Last-Event-ID resumes),
//                                           `wait` ignored, `limit` per read
//   GET /api/v1/events?model=&start=&end=&limit=        stored (sampled) inference events
//   GET /api/v1/deployments?model=&start=&end=&limit=   deployment events
//   GET /api/v1/pipelines/runs?pipeline=&stage=&start=&end=&limit=
//   GET /api/v1/models/:model/gpus          the nodes that served the model (from its requests and
//                                           from scraped series labelled with it) and their GPUs
//                                           (dcgm-exporter's series on those nodes)
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/clock.h"
#include "tyto/storage.h"

namespace tyto::eventstore {
class TelemetryStore;
}
namespace tyto::inference {
class Hub;
}
namespace tyto::quality {
class GroundTruth;
}

namespace tyto::api {

// Everything must outlive the router.
// `ground_truth` (the quality monitor's predictions and feedback; may be null) forgets the
// request ids an erasure names or erases.
void AddTelemetryQueryRoutes(http::Router* router, auth::Guard* guard, eventstore::TelemetryStore* store,
                             inference::Hub* hub, Storage* metrics_storage, Clock* clock,
                             quality::GroundTruth* ground_truth = nullptr);

}  // namespace tyto::api
