// Correlator: when an alert fires, which other series changed around its start? (issue 9,
// docs/incidents.md "Correlation"). The link between a GPU symptom and a latency or quality
// regression on the same model, host or pod.
//
// Candidates are the series that share a value of one of the alert's identifying labels
// (model, Hostname, pod, ...: one equality selection per label, unioned) and contradict none
// of its `conflict_labels` (a series of another Hostname is never a candidate, even when it
// shares a job). Each is compared over two windows: before = [start - 30m, start - 2m], after =
// [start - 2m, start + 5m]. Counters (names ending _total, _count, _sum, _bucket) are compared by
// their per-second rate between samples (a reset counts from zero). The score is robust:
//   |median(after) - median(before)| / (1.4826 * MAD(before) + 0.01 * max(|median before|,
//                                        |median after|) + 1e-9)
// so noise scores low, a clean step scores high, and a jump from a flat line scores at most
// 100. A deployment (a tyto_model_deployment_timestamp_seconds value inside the windows)
// scores `deploy_score`.
//
// Bounded: at most `max_series` candidates are read, at most ten times that many selected series
// are looked at, and the work stops at `deadline` (what is ranked by then is returned). Thread-safe (no state but the options passed in).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/matchers.h"
#include "tyto/clock.h"
#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::correlate {

// The family a series belongs to, from its metric name.
enum class Kind { kGpu, kHost, kKvCache, kQueue, kInference, kQuality, kDrift, kDeploy, kOther };

// "gpu", "host", "kv_cache", "queue", "inference", "quality", "drift", "deploy", "other".
std::string_view KindName(Kind k);
// DCGM_FI_* and nvidia_* gpu; node_* host; names with kv_cache or cache_usage kv_cache; with
// queue, waiting or pending queue; vllm:*, tgi_*, tyto_inference_* inference; tyto_quality_*
// quality; tyto_drift_* drift; tyto_model_deployment_* deploy.
Kind KindOf(std::string_view metric_name);

struct Correlation {
  Labels labels;  // with __name__
  double score = 0;
  double before = 0;  // median over the before window (a rate for counters)
  double after = 0;   // median over the after window
  std::string direction;  // "up", "down", or "event" for a deployment
  Kind kind = Kind::kOther;
  // The shift holds: score >= change_point_score and at least half the after window's points
  // lie beyond the before median on the side of the change.
  bool change_point = false;
};

struct Options {
  std::vector<std::string> identifying_labels = {"model", "version", "Hostname", "instance", "node",
                                                 "pod",   "namespace", "gpu",    "UUID",     "job"};
  // A candidate whose value of one of these differs from the alert's is not related.
  std::vector<std::string> conflict_labels = {"model", "Hostname", "node", "pod", "gpu", "UUID"};
  // The metric names of the alert's own expression: those series are not candidates. Empty: a
  // series whose labels (but __name__) all appear in the alert with the same values is its own.
  std::vector<std::string> own_metrics;
  std::chrono::milliseconds before_from{std::chrono::minutes(30)};  // before = [start - before_from,
  std::chrono::milliseconds before_to{std::chrono::minutes(2)};     //           start - before_to]
  std::chrono::milliseconds after_from{std::chrono::minutes(2)};    // after = [start - after_from,
  std::chrono::milliseconds after_to{std::chrono::minutes(5)};      //          start + after_to]
  size_t top_n = 10;
  size_t max_series = 2'000;
  std::chrono::milliseconds deadline{std::chrono::seconds(2)};
  double deploy_score = 1'000;
  double change_point_score = 3;
  double min_score = 0;  // candidates scoring at or below it are left out
};

class Correlator {
 public:
  // Both must outlive the correlator.
  Correlator(Storage* storage, Clock* clock) : storage_(storage), clock_(clock) {}

  // The top `top_n` changed series, highest score first. kInvalidArgument when the alert has
  // none of the identifying labels or the windows are empty; a storage error otherwise.
  Result<std::vector<Correlation>> Rank(const alertmanager::LabelSet& alert_labels, int64_t start_ms,
                                        const Options& options) const;

 private:
  Storage* storage_;
  Clock* clock_;
};

// The statistics Rank uses, exposed for tests.
double Median(std::vector<double> v);
// Median absolute deviation from `median` (unscaled).
double MedianAbsoluteDeviation(const std::vector<double>& v, double median);
bool IsCounterName(std::string_view metric_name);

}  // namespace tyto::correlate
