// Metadata and exemplars through the Prometheus HTTP API, in Prometheus's shapes:
//   GET /api/v1/metadata[?metric=NAME][&limit=N][&limit_per_metric=N]           read
//       {"NAME": [{"type": "counter", "help": "...", "unit": ""}], ...}
//   GET|POST /api/v1/query_exemplars?query=EXPR[&start=T][&end=T]                read
//       [{"seriesLabels": {...}, "exemplars": [{"labels": {...}, "value": "0.42",
//         "timestamp": 1700000000.123}]}]
// query_exemplars takes a PromQL expression, as Grafana sends its panel's query
// (`histogram_quantile(0.9, sum by (le) (rate(lat_bucket{job="vllm"}[5m])))`), and returns the
// exemplars of the series any of its selectors match, by series. Times are Unix seconds or
// RFC 3339.
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
