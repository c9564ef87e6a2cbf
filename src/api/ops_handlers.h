// Operational endpoints, named as Prometheus names them so probes and scripts work unchanged:
//   GET  /-/healthy                 public   200 while the process runs
//   GET  /-/ready                   public   200 once ready to serve, 503 before
//   GET  /metrics                   read     the server's own metrics (text format 0.0.4)
//   POST /-/reload  (or PUT)        admin    re-read the configuration file
//   GET  /-/log-level               read     {"level":"info"}
//   PUT  /-/log-level?level=debug   admin    change the log level at run time (also POST)
// (/api/v1/status/* are in status_handlers.h.)
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "http/router.h"
#include "instrumentation/metrics.h"

namespace tyto::api {

struct ReloadOutcome {
  Status status;
  // Keys whose new value only takes effect after a restart (e.g. "http.listen").
  std::vector<std::string> restart_required;
};

// What a flush wrote: blocks cut from the head, and blocks compaction then merged.
struct FlushOutcome {
  int blocks_written = 0;
  int compactions = 0;
};

struct OpsHooks {
  std::function<bool()> ready;
  std::function<ReloadOutcome()> reload;
  // POST /api/v1/admin/tsdb/flush (admin): writes everything in the head to blocks now and
  // compacts them, for backups and for measuring disk use (as VictoriaMetrics's
  // /internal/force_flush). Samples older than what it wrote are refused afterwards, as after
  // any block cut. Absent: the route answers 501.
  std::function<Result<FlushOutcome>()> flush;
};

void AddOpsRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry, OpsHooks hooks);

}  // namespace tyto::api
