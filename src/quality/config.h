// The `quality:` section of tyto.yml: which requests are evaluated and by which evaluators, how
// ground truth joins predictions, and how drift windows and references are kept.
// docs/quality.md explains each option.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/schema.h"

namespace tyto::quality {

// One configured evaluator: a plugin (`type`, from the evaluate and judge registries) under a
// name of its own (the `evaluator` label), for some models, with options.
struct EvaluatorConfig {
  std::string name;
  std::string type;                            // empty: the same as name
  std::vector<std::string> models;             // empty: every model
  double weight = 1;                           // in the composite score; 0 leaves it out
  std::map<std::string, std::string> options;  // a YAML list's items joined with '\n'
  friend bool operator==(const EvaluatorConfig&, const EvaluatorConfig&) = default;
};

struct ModelRate {
  std::string model;
  double sample_rate = 0;
  friend bool operator==(const ModelRate&, const ModelRate&) = default;
};

struct EvaluationConfig {
  bool enabled = true;
  double sample_rate = 0.1;          // share of requests with a response that are evaluated
  std::vector<ModelRate> models;     // per-model sample rates
  double max_per_second = 500;       // budget of evaluated requests, every model together
  double remote_max_per_second = 1;  // budget of calls to remote evaluators (the LLM judge)
  int64_t remote_workers = 4;        // threads that wait on remote evaluators
  int64_t queue_size = 10000;        // requests waiting for evaluation; more are dropped (counted)
  // Empty: every built-in heuristic evaluator with its defaults.
  std::vector<EvaluatorConfig> evaluators;
  friend bool operator==(const EvaluationConfig&, const EvaluationConfig&) = default;
};

struct GroundTruthConfig {
  bool enabled = true;
  std::chrono::milliseconds window{std::chrono::hours(24)};       // metrics over feedback of this long
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)};  // predictions kept for joining
  std::string prediction_field = "label";  // the prediction's field holding the class ("" = unnamed)
  std::string score_field = "score";       // its probability, for the calibration error
  std::string positive_label;              // for binary precision/recall; empty: guessed from two classes
  std::string segment_feature;             // the feature whose values are the fairness segments
  friend bool operator==(const GroundTruthConfig&, const GroundTruthConfig&) = default;
};

struct DriftTestOverride {
  std::string feature;
  std::string test;       // ks, chisquare, z, psi, jensenshannon, wasserstein, hellinger
  double threshold = -1;  // < 0: the test's default
  friend bool operator==(const DriftTestOverride&, const DriftTestOverride&) = default;
};

struct DriftConfig {
  bool enabled = true;
  std::chrono::milliseconds window{std::chrono::hours(1)};  // the current window, sliding
  int64_t slots = 6;                                        // the window is kept as this many mergeable slices
  int64_t min_rows = 100;                                   // a window with fewer rows (or reference) is not tested
  std::string correction = "bonferroni";                    // bonferroni or none, across a model's features
  double drift_share = 0.5;  // the data set drifts when at least this share of columns does
  std::vector<DriftTestOverride> tests;
  int64_t max_models = 100;
  int64_t max_features = 100;  // per model; more are ignored (counted)
  int64_t max_categories = 1000;
  int64_t sketch_k = 200;
  int64_t embedding_reservoir = 256;
  int64_t permutations = 200;
  friend bool operator==(const DriftConfig&, const DriftConfig&) = default;
};

struct QualityConfig {
  EvaluationConfig evaluation;
  GroundTruthConfig ground_truth;
  DriftConfig drift;
  friend bool operator==(const QualityConfig&, const QualityConfig&) = default;
};

// Checks rates (0 to 1), budgets, duplicate names and models, test names, the correction.
// Evaluator types and options are checked when the monitor is built (they live in plugins).
const config::Section<QualityConfig>& QualitySchema();

}  // namespace tyto::quality
