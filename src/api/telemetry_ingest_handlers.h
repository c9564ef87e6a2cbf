// The receivers of inference telemetry (docs/events-api.md has the formats):
//   POST /v1/traces       write   OTLP/HTTP traces, protobuf or JSON, optionally gzip
//   POST /v1/logs         write   OTLP/HTTP logs, protobuf or JSON, optionally gzip
//   POST /api/v1/events   write   JSON lines: inference, pipeline_stage and deployment events
//   POST /api/v1/logs     write   JSON lines: log records
//
// OTLP answers as the OTLP/HTTP specification asks (as /v1/metrics does): 200 with partial_success
// when some spans or records were invalid (the others are kept); 400 naming the field and byte for
// an undecodable body; 413/415 for size, type and encoding; 503 (retryable) when the event store
// failed to keep log records.
// JSON lines answer {"accepted":N,"rejected":M,"errors":[{"line":L,"message":"..."}],
// "warnings":[...]}: 200 when a line was accepted or there were none, 400 when every line was
// refused, 503 when log lines could not be stored. The valid lines of a body with bad ones are
// kept (the documented policy). Events are counted in the metrics as they arrive; a store failure
// for events does not fail the request (retrying would count the requests twice): it is counted in
// tyto_telemetry_store_failures_total and named in the answer's "warnings" -- unless the request
// has an Idempotency-Key, which makes it 503 (a retry with the key is stored once).
//
// Idempotency-Key (any of these routes, at most 256 bytes kept): the store keeps it with the rows
// (ClickHouse; the embedded store ignores it), and a request sent again with the same key is not
// stored twice (its metrics are derived again). The NATS consumer sets it to the message id.
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "instrumentation/metrics.h"
#include "tyto/clock.h"

namespace tyto::events {
struct DecodeLimits;
}
namespace tyto::inference {
class Hub;
class Metrics;
}  // namespace tyto::inference

namespace tyto::tenant {
class Limiter;
}

namespace tyto::api {

// Everything must outlive the router. `clock` stamps lines without a timestamp. Records carry
// the request's tenant; `limiter` (may be null) holds each tenant to its event rate (429).
void AddTelemetryIngestRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                              inference::Hub* hub, inference::Metrics* metrics, const events::DecodeLimits* limits,
                              Clock* clock, tenant::Limiter* limiter = nullptr);

}  // namespace tyto::api
