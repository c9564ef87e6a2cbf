// Series, label names and label values through the Prometheus HTTP API, in its shapes (Grafana's
// query editor and variables use them):
//   GET|POST /api/v1/series?match[]=SELECTOR...[&start=T][&end=T][&limit=N]        read
//   GET|POST /api/v1/labels[?match[]=...][&start=T][&end=T][&limit=N]             read
//   GET      /api/v1/label/:name/values[?match[]=...][&start=T][&end=T][&limit=N] read
// A label name not of the form [a-zA-Z_][a-zA-Z0-9_]* comes escaped in the path as Prometheus 3
// and Grafana write it: "U__http_2e_method" for "http.method".
// Several match[] select the union. Without start/end every stored time counts. A limit cuts the
// sorted result and says so in "warnings".
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/storage.h"

namespace tyto::tenant {
class Tenancy;
}

namespace tyto::api {

// Each request sees its tenant's series (tenancy->View). `tenancy` must outlive the router.
void AddSeriesRoutes(http::Router* router, auth::Guard* guard, const tenant::Tenancy* tenancy);

}  // namespace tyto::api
