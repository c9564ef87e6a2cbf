// The quality subsystem's own metrics (tyto_quality_* counters about its work, not the quality
// series it writes), registered once per process on the server's registry.
#pragma once

#include "instrumentation/metrics.h"

namespace tyto::quality {

class Metrics {
 public:
  explicit Metrics(instrumentation::Registry* registry);

  // Evaluations run, by evaluator and result ("ok", "not_applicable", "error").
  instrumentation::Family<instrumentation::Counter>& evaluations;
  // Sampled requests (or scores) not evaluated or not kept, by reason ("budget", "queue_full",
  // "remote_budget", "max_series").
  instrumentation::Family<instrumentation::Counter>& evaluations_skipped;
  instrumentation::Gauge& evaluation_queue;
  // What evaluators spent: tokens by evaluator and direction ("input", "output"), and cost.
  instrumentation::Family<instrumentation::Counter>& evaluator_tokens;
  instrumentation::Family<instrumentation::Counter>& evaluator_cost;
  // Feedback received, by result ("matched", "unmatched", "duplicate").
  instrumentation::Family<instrumentation::Counter>& feedback;
  instrumentation::Counter& predictions_recorded;
  instrumentation::Counter& predictions_dropped;
  // Drift: values not tracked, by reason ("max_models", "max_features", "type_mismatch",
  // "embedding_dim").
  instrumentation::Family<instrumentation::Counter>& drift_ignored;
  instrumentation::Gauge& drift_memory_bytes;
  instrumentation::Gauge& drift_columns;
};

}  // namespace tyto::quality
