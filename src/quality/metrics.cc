#include "quality/metrics.h"

namespace tyto::quality {

Metrics::Metrics(instrumentation::Registry* r)
    : evaluations(r->AddCounter("tyto_quality_evaluations_total", "Evaluations run, by evaluator and result.",
                                {"evaluator", "result"})),
      evaluations_skipped(r->AddCounter("tyto_quality_evaluations_skipped_total",
                                        "Requests sampled for evaluation but not evaluated, by reason.", {"reason"})),
      evaluation_queue(
          r->AddGauge("tyto_quality_evaluation_queue", "Requests waiting to be evaluated.").WithLabels({})),
      evaluator_tokens(r->AddCounter("tyto_quality_evaluator_tokens_total",
                                     "Tokens spent by evaluators (the LLM judge), by evaluator and direction.",
                                     {"evaluator", "direction"})),
      evaluator_cost(r->AddCounter("tyto_quality_evaluator_cost_total",
                                   "Cost of the tokens spent by evaluators, by evaluator.", {"evaluator"})),
      feedback(r->AddCounter("tyto_quality_feedback_total",
                             "Feedback received (POST /api/v1/feedback), by whether it joined a prediction.",
                             {"result"})),
      predictions_recorded(
          r->AddCounter("tyto_quality_predictions_recorded_total", "Predictions kept for ground truth to join.")
              .WithLabels({})),
      predictions_dropped(r->AddCounter("tyto_quality_predictions_dropped_total",
                                        "Predictions that could not be kept for joining (store errors, backlog).")
                              .WithLabels({})),
      drift_ignored(r->AddCounter("tyto_drift_ignored_total", "Values not tracked for drift, by reason.", {"reason"})),
      drift_memory_bytes(
          r->AddGauge("tyto_drift_memory_bytes", "Memory held by drift sketches, windows and references.")
              .WithLabels({})),
      drift_columns(
          r->AddGauge("tyto_drift_columns", "Columns tracked for drift, every model together.").WithLabels({})) {}

}  // namespace tyto::quality
