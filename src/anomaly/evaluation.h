// The detectors' precision and recall on labelled incidents of the simulated fleet (src/simulate),
// against a plain static threshold: the numbers docs/anomaly.md reports, computed by
// bench/anomaly_eval.cc and checked (a short run) by evaluation_test.cc.
//
// One vLLM node of the simulator runs for `days` of simulated time; its pages are rendered in
// process every `step` (no HTTP) and parsed with Tyto's text parser. Watched series:
//   gpu_temp  DCGM_FI_DEV_GPU_TEMP of each GPU                          (gpu_overheat incidents)
//   latency   mean end-to-end latency of each replica over the step:
//             delta of vllm:e2e_request_latency_seconds_sum / _count   (latency_increase, queue_buildup)
//   waiting   vllm:num_requests_waiting of each replica                (queue_buildup)
// After `warmup_days` without incidents, odd days carry one incident of each kind at
// pseudo-random hours and even days none (the incident-free days of the false-alarm rate).
// A point is positive while an incident acting on its series is active; GPU points while their
// replica's queue builds up are left out of the counts (the GPU is legitimately busier).
//
// Per family and detector: point-wise precision and recall; event-wise recall (an incident is
// detected when one of its series is flagged within `detection_window` of its start), the mean
// detection delay, event-wise precision (alarm runs, consecutive flagged points, that overlap an
// incident or its detection window over all alarm runs), and alarm runs per incident-free day.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::anomaly {

struct EvaluationOptions {
  int days = 14;
  int warmup_days = 3;
  std::chrono::milliseconds step{std::chrono::minutes(1)};
  std::chrono::milliseconds detection_window{std::chrono::minutes(30)};
  uint64_t seed = 42;
  int gpus = 8;
};

struct EvaluationRow {
  std::string family;    // gpu_temp, latency, waiting
  std::string detector;  // static, seasonal, trend, multivariate
  int64_t true_positives = 0, false_positives = 0, false_negatives = 0, true_negatives = 0;
  int incidents = 0, detected = 0;
  int mild_incidents = 0, mild_detected = 0;  // those that stay below the static threshold
  double mean_delay_minutes = 0;  // over detected incidents
  int alarm_runs = 0, true_alarm_runs = 0;
  double false_alarms_per_clean_day = 0;

  double precision() const;
  double recall() const;
  double event_precision() const;
  double event_recall() const;
};

// The values of a family's series outside incidents (scored days), beside its static threshold.
struct FamilyRange {
  std::string family;
  double p50 = 0, p99 = 0, max = 0;
  double static_threshold = 0;
};

struct EvaluationReport {
  EvaluationOptions options;
  std::vector<EvaluationRow> rows;
  std::vector<FamilyRange> ranges;
  int clean_days = 0;
  // A Markdown table, one row per family and detector.
  std::string ToMarkdown() const;
};

Result<EvaluationReport> Evaluate(const EvaluationOptions& options);

}  // namespace tyto::anomaly
