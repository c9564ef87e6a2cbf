// `tyto check config --connect`: reaches every scale-out engine a configuration selects
// (storage.events: clickhouse, storage.metrics: remote, storage.bus / storage.shared_state:
// nats) the way the server would, without changing anything there (no table, stream or bucket
// is created), and says for each whether it answers.
#pragma once

#include <vector>

#include "api/ops_handlers.h"
#include "server/config.h"
#include "tyto/env.h"

namespace tyto::server {

// One entry per engine the configuration uses (none for the embedded default); each Status
// names the server that failed and why (credentials files are read, TLS files loaded).
std::vector<api::DependencyHealth> ProbeDependencies(const Config& config, Env* env);

}  // namespace tyto::server
