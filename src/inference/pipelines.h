// Data-pipeline health and model deployments, as metrics.
//
// PipelineMonitor turns pipeline-stage events into stage latency, runs, rows (in, out, rejected),
// throughput, rejection ratio and freshness series, and checks each run's fields against the
// stage's registered schema (from inference.pipelines.schemas, or learned from the stage's first
// run when learn_schemas is on): a missing, extra or retyped field is counted and returned so the
// caller can store it as an event.
//
// DeploymentTracker keeps each model's latest deployment event and writes
// tyto_model_deployment_info{model,version,previous_version,action} 1 for it (the series of the
// version it replaced ends with a staleness marker) and tyto_model_deployment_timestamp_seconds.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "inference/config.h"
#include "inference/series_writer.h"

namespace tyto::inference {

class Metrics;

struct SchemaMismatch {
  std::string kind;   // "missing", "extra", "retyped"
  std::string field;
  std::string expected_type;  // empty for "extra"
  std::string actual_type;    // empty for "missing"
};

// "missing field user_id (int64)", "extra field debug (bool)", "field amount is string, expected double".
std::string Describe(const SchemaMismatch& m);

class PipelineMonitor {
 public:
  // `metrics` may be null.
  PipelineMonitor(const PipelinesConfig& config, Metrics* metrics);

  // Counts the run; returns how its fields differ from the stage's schema (none when the event
  // lists no fields, or the stage has no schema and learning is off).
  std::vector<SchemaMismatch> Observe(const events::PipelineStageEvent& e) EXCLUDES(mu_);
  void Flush(int64_t now_ms, SeriesWriter& w) EXCLUDES(mu_);
  // The schema registered for a stage (configured or learned); empty when none.
  std::map<std::string, std::string> Schema(const std::string& pipeline, const std::string& stage) const
      EXCLUDES(mu_);

 private:
  struct Stage {
    HistogramState duration;
    uint64_t succeeded = 0, failed = 0;
    double rows_in = 0, rows_out = 0, rows_rejected = 0;
    double last_rows_per_second = -1;
    double last_rejected_ratio = -1;
    int64_t last_success_end_ms = 0;
    std::map<std::string, uint64_t> mismatches;  // by kind
    std::map<std::string, std::string> schema;
    bool has_schema = false;
  };
  const bool learn_;
  Metrics* const metrics_;
  mutable Mutex mu_;
  std::map<std::pair<std::string, std::string>, Stage> stages_ GUARDED_BY(mu_);
};

class DeploymentTracker {
 public:
  void Observe(const events::DeploymentEvent& e) EXCLUDES(mu_);
  void Flush(SeriesWriter& w) const EXCLUDES(mu_);
  // Each model's current deployment.
  std::vector<events::DeploymentEvent> Current() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::map<std::string, events::DeploymentEvent> latest_ GUARDED_BY(mu_);
};

// Stage duration buckets, seconds: 0.1 s to 6 h.
const std::vector<double>& StageDurationBuckets();

}  // namespace tyto::inference
