// The Prometheus remote write 1.0 receiver's HTTP side:
//   POST /api/v1/write   write   a snappy-compressed protobuf WriteRequest
// Answers as the remote write specification asks, so that senders retry exactly what can
// succeed later:
//   204  every sample stored (exemplars, histograms and metadata are counted and skipped; the
//        X-Tyto-Ignored header says how many)
//   400  a bad body (snappy, protobuf), bad labels, or samples refused by the storage (out of
//        order, too old, duplicate, a limit): the valid samples of a decodable body are stored,
//        the message names the first error, where, and how many samples were refused
//   413  the body decompresses to more than the receiver's limit
//   415  a Content-Encoding other than snappy, or a remote write 2.0 body
//   500  the storage failed (disk full, I/O error): nothing of the request is stored; retry
// Counted in tyto_remote_write_requests_total{code}.
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "instrumentation/metrics.h"

namespace tyto::ingest {
class RemoteWriteReceiver;
}

namespace tyto::tenant {
class Tenancy;
}

namespace tyto::api {

// Samples are stored in the request tenant's view (tenancy->View), under its limits (429 when
// over). `receiver`, `registry` and `tenancy` must outlive the router.
void AddRemoteWriteRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry,
                          ingest::RemoteWriteReceiver* receiver, const tenant::Tenancy* tenancy);

}  // namespace tyto::api
