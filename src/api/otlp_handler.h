// The OTLP/HTTP metrics receiver's HTTP side (OTLP 1.x, opentelemetry-proto's
// ExportMetricsServiceRequest):
//   POST /v1/metrics   write   Content-Type application/x-protobuf or application/json,
//                              optionally Content-Encoding: gzip or zstd
// Answers as the OTLP/HTTP specification asks, in the request's format:
//   200  ExportMetricsServiceResponse; with partial_success {rejected_data_points,
//        error_message} when some points were refused (the others are stored; not retryable)
//   400  an undecodable body: google.rpc.Status naming what and where (resource, scope, metric
//        and data point index, the field, the byte)
//   413  the body is larger than http.max_body_bytes (answered by the HTTP server) or
//        decompresses to more than the receiver's limit
//   415  a Content-Type other than the two above, or a Content-Encoding other than gzip or zstd
//   503  the storage failed: nothing stored; retryable (Retry-After is set)
// Counted in tyto_otlp_requests_total{code}.
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "instrumentation/metrics.h"

namespace tyto::ingest {
class OtlpReceiver;
}

namespace tyto::tenant {
class Tenancy;
}

namespace tyto::api {

// Samples are stored in the request tenant's view (tenancy->View), under its limits (429 when
// over). `receiver`, `registry` and `tenancy` must outlive the router.
void AddOtlpRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                   ingest::OtlpReceiver* receiver, const tenant::Tenancy* tenancy);

}  // namespace tyto::api
