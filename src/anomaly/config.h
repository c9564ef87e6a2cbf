// The `anomaly:` section of tyto.yml: which series are watched by which detector, and how often.
// docs/anomaly.md explains each option; AnomalySchema() is the option table that decodes,
// validates (with file:line:column) and documents it.
//
//   anomaly:
//     interval: 1m
//     detectors:
//       - name: gpu_temp
//         query: DCGM_FI_DEV_GPU_TEMP
//         kind: seasonal
//       - name: p99_slo
//         query: histogram_quantile(0.99, sum by (le, model) (rate(vllm:e2e_request_latency_seconds_bucket[5m])))
//         kind: trend
//         threshold: 2.5
//         horizon: 1h
//       - name: host_ml
//         query: '{job="node"}'
//         kind: multivariate
//         host_label: instance
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "config/schema.h"

namespace tyto::anomaly {

struct DetectorConfig {
  std::string name;   // the `detector` label of the result series
  std::string query;  // PromQL, evaluated as an instant query every interval
  std::string kind = "seasonal";  // seasonal, trend or multivariate
  // A point is anomalous when its score reaches this; 0: the kind's default (seasonal 5 robust
  // standard deviations, multivariate 1.5 x the training distances' percentile). Unused by trend.
  double sensitivity = 0;
  // trend: the threshold whose crossing is forecast, its direction, and how far ahead a breach
  // counts as anomalous.
  double threshold = 0;
  std::string direction = "above";  // above or below
  std::chrono::milliseconds horizon{std::chrono::hours(1)};
  double alpha = 0.3;
  double beta = 0.1;
  // seasonal: values kept per hour slot, and the seasons they cover; a slot scores after
  // min_seasons (weeks, or days for the hour-of-day fallback).
  int64_t values_per_slot = 24;
  int64_t seasons = 3;
  int64_t min_seasons = 2;
  // multivariate: the label naming a series' host (tyto_anomaly_rate is per value of it), the
  // training window and cadence (in evaluations), the models that must agree, the feature shape.
  std::string host_label = "instance";
  int64_t train_window = 360;
  int64_t train_every = 60;
  int64_t models = 3;
  int64_t lag = 5;
  int64_t smooth = 3;
  int64_t diff = 1;
  double percentile = 99;
  int64_t max_series = 0;  // 0: the section's max_series
  friend bool operator==(const DetectorConfig&, const DetectorConfig&) = default;
};

struct AnomalyConfig {
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  // Series modelled per detector at most; more are refused (counted in
  // tyto_anomaly_series_refused_total).
  int64_t max_series = 1000;
  // A series' model is dropped when its query has not returned it for this long.
  std::chrono::milliseconds series_ttl{std::chrono::hours(6)};
  std::vector<DetectorConfig> detectors;
  friend bool operator==(const AnomalyConfig&, const AnomalyConfig&) = default;
};

// Checks names (unique, non-empty), queries (non-empty; they are parsed when the runner is
// built), kinds, directions, ranges, and that min_seasons <= seasons <= values_per_slot.
const config::Section<AnomalyConfig>& AnomalySchema();

}  // namespace tyto::anomaly
