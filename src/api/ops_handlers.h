// Operational endpoints, named as Prometheus names them so probes and scripts work unchanged:
//   GET  /-/healthy                 public   200 while the process runs
//   GET  /-/ready                   public   200 once ready to serve and every dependency (the
//                                            scale-out engines: ClickHouse, the remote metrics
//                                            store, NATS) answers; 503 before, or naming each
//                                            dependency that does not
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

// One external engine the server depends on, as /-/ready reports it.
struct DependencyHealth {
  std::string name;  // "clickhouse", "remote_metrics", "nats", ...
  Status status;     // OK, or why it cannot be used now (naming the server)
};

struct OpsHooks {
  std::function<bool()> ready;
  // The scale-out engines in use (none on the embedded default), asked at each /-/ready.
  std::function<std::vector<DependencyHealth>()> dependencies;
  std::function<ReloadOutcome()> reload;
  // POST /api/v1/admin/tsdb/flush (admin): writes everything in the head to blocks now and
  // compacts them, for backups and for measuring disk use (as VictoriaMetrics's
  // /internal/force_flush). Samples older than what it wrote are refused afterwards, as after
  // any block cut. Absent: the route answers 501.
  std::function<Result<FlushOutcome>()> flush;
};

void AddOpsRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry, OpsHooks hooks);

}  // namespace tyto::api
