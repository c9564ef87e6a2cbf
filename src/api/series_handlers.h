// Series, label names and label values through the Prometheus HTTP API, in its shapes (Grafana's
// query editor and variables use them):
//   GET|POST /api/v1/series?match[]=SELECTOR...[&start=T][&end=T][&limit=N]        read
//   GET|POST /api/v1/labels[?match[]=...][&start=T][&end=T][&limit=N]             read
//   GET      /api/v1/label/:name/values[?match[]=...][&start=T][&end=T][&limit=N] read
// Several match[] select the union. Without start/end every stored time counts. A limit cuts the
// sorted result and says so in "warnings".
#pragma once

#include "auth/auth.h"
#include "http/router.h"
#include "tyto/storage.h"

namespace tyto::api {

// `storage` must outlive the router.
void AddSeriesRoutes(http::Router* router, auth::Guard* guard, Storage* storage);

}  // namespace tyto::api
