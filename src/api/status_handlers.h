// The server's own state, in the shapes of Prometheus's /api/v1/status/* (its UI's status
// pages and Grafana read them):
//   GET /api/v1/status/buildinfo          read  version and revision
//   GET /api/v1/status/runtimeinfo        read  start time, working directory, reload state, retention
//   GET /api/v1/status/flags              read  the command-line flags, by name
//   GET /api/v1/status/config             read  {"yaml": the configuration in effect, secrets "<secret>"}
//   GET /api/v1/status/tsdb[?limit=N]     read  the in-memory head: its size and its cardinality,
//                                               the top N (default 10) of each ranking
// Fields that describe Go's runtime in Prometheus keep their names and say the nearest thing
// about Tyto's process: goroutineCount is its thread count, GOMAXPROCS the CPUs it may use,
// GOMEMLIMIT Go's "no limit" (Tyto has none), GOGC and GODEBUG empty.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "common/build_info.h"
#include "http/router.h"
#include "tyto/status.h"

namespace tyto::api {

struct RuntimeInfo {
  int64_t start_time_ms = 0;
  std::string cwd;
  std::string hostname;
  int64_t server_time_ms = 0;
  bool reload_config_success = true;
  int64_t last_config_time_ms = 0;
  // Damaged write-ahead logs repaired at start.
  int64_t corruption_count = 0;
  int64_t thread_count = 0;
  int64_t cpu_count = 0;
  // "15d", or "15d or 512MiB" with a size limit, as Prometheus writes its retention.
  std::string storage_retention;
};

// One label pair of the series in memory, and how many series carry it.
struct LabelPairCount {
  std::string name;
  std::string value;
  uint64_t series = 0;
};

// The series in memory (Prometheus's "head"), from which /api/v1/status/tsdb ranks.
struct HeadCardinality {
  uint64_t num_series = 0;
  uint64_t chunk_count = 0;
  int64_t min_time = 0;  // ms; 0 when empty
  int64_t max_time = 0;
  // Every distinct label pair (the metric name's included), in any order.
  std::vector<LabelPairCount> pairs;
};

// Where the answers come from; absent hooks answer 501 "unavailable". Hooks are called on the
// HTTP threads and must be thread-safe.
struct StatusSources {
  const BuildInfo* build = nullptr;  // null: this binary's, GetBuildInfo()
  std::function<RuntimeInfo()> runtime;
  std::map<std::string, std::string> flags;
  std::function<std::string()> config_yaml;
  std::function<Result<HeadCardinality>()> head;
};

void AddStatusRoutes(http::Router* router, auth::Guard* guard, StatusSources sources);

}  // namespace tyto::api
