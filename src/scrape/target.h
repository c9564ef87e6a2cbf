// Targets: from discovered groups (static_configs, file_sd_configs) to what a scrape loop needs,
// as Prometheus's PopulateLabels does it: a target's labels start as its group's labels plus
// __address__, the job's defaults are added (job, __scheme__, __metrics_path__,
// __scrape_interval__, __scrape_timeout__, __param_<name>), relabel_configs run (and may drop
// it), `instance` defaults to __address__, and every label starting with "__" is removed from
// the labels its series get.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "relabel/relabel.h"
#include "scrape/config.h"
#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::scrape {

struct TargetGroup {
  std::vector<std::string> targets;  // host:port
  std::map<std::string, std::string> labels;
  std::string source;  // where it came from, for errors: "static_configs[0]", a file path
};

struct Target {
  Labels labels;      // what its series get (no "__" labels)
  Labels discovered;  // before relabelling
  bool https = false;
  std::string host;  // without brackets
  uint16_t port = 0;
  std::string path_and_query;  // escaped
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{0};

  std::string Url() const;
  // Identity for keeping a target's loop across reloads: labels and URL.
  std::string Key() const;
};

struct TargetsResult {
  std::vector<Target> targets;
  std::vector<Labels> dropped;      // discovered labels of targets relabelling dropped
  std::vector<std::string> errors;  // targets that could not be built, each naming why
};

TargetsResult BuildTargets(const ScrapeConfig& job, const relabel::Relabeler& relabel,
                           const std::vector<TargetGroup>& groups);

}  // namespace tyto::scrape
