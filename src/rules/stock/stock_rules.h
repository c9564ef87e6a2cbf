// Tyto's stock alerting rules for AI fleets: the rule files of rules/ at the repository root
// (gpu.yml, inference.yml, slo.yml, quality.yml, pipelines.yml, targets.yml), compiled into the
// binary at build time so that the server can load them with no file to install. What each rule
// watches and how to change or turn them off: docs/stock-rules.md.
//
// The files are Prometheus rule files (rules::ParseRuleFile reads them); every expression
// returns nothing, never an error, where the series it reads are absent, so loading them on a
// fleet without GPUs, model servers or pipelines costs little and alerts on nothing.
#pragma once

#include <string>
#include <vector>

namespace tyto::rules {

struct StockFile {
  std::string name;      // the file's name in rules/, e.g. "gpu.yml"
  std::string contents;  // its bytes, exactly as in the source tree at build time
};

// Every rules/*.yml, sorted by name. Thread-safe; each call builds a new vector.
std::vector<StockFile> StockRuleFiles();

}  // namespace tyto::rules
