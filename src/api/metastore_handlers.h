// Metadata and exemplars through the Prometheus HTTP API, in Prometheus's shapes:
//   GET /api/v1/metadata[?metric=NAME][&limit=N][&limit_per_metric=N]           read
//       {"NAME": [{"type": "counter", "help": "...", "unit": ""}], ...}
//   GET|POST /api/v1/query_exemplars?query=SELECTOR[&start=T][&end=T]            read
//       [{"seriesLabels": {...}, "exemplars": [{"labels": {...}, "value": "0.42",
//         "timestamp": 1700000000.123}]}]
// query_exemplars takes a series selector (`lat_bucket{job="vllm"}`); full PromQL expressions
// come with the query engine. Times are Unix seconds or RFC 3339.
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::metastore {
class MetadataStore;
class ExemplarStore;
}

namespace tyto::api {

// The stores must outlive the router.
void AddMetastoreRoutes(http::Router* router, auth::Guard* guard, const metastore::MetadataStore* metadata,
                        const metastore::ExemplarStore* exemplars);

}  // namespace tyto::api
