// QualityMonitor: the quality side of inference telemetry (issue 8), fed by the inference hub
// with every request before sampling and redaction:
//   - Evaluations (evaluation.h): evaluators on a sample of responses -> tyto_quality_score
//     histograms and gen_ai.evaluation.result records;
//   - GroundTruth (ground_truth.h): predictions kept for late feedback -> accuracy, precision,
//     recall, F1, calibration, ratings, fairness gaps;
//   - DriftMonitor (drift.h): feature, prediction and embedding distributions against a
//     reference -> tyto_drift_* series.
// Their series are written in the hub's flush; their files live under <data>/quality/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "evaluate/registry.h"
#include "events/model.h"
#include "inference/hub.h"
#include "quality/config.h"
#include "quality/drift.h"
#include "quality/evaluation.h"
#include "quality/ground_truth.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::quality {

class Metrics;

struct MonitorDeps {
  std::string dir;                               // <data>/quality
  Env* env = nullptr;                            // required
  eventstore::TelemetryStore* store = nullptr;       // for evaluation records (null: not stored)
  const redact::Redactor* redactor = nullptr;    // scrubs corrections and explanations
  const evaluate::Registry* registry = nullptr;  // required: the evaluator plugins
  Metrics* metrics = nullptr;
  Clock* clock = nullptr;  // required
  // Encrypts stored feedback corrections (security.encryption_key_file); null: stored as given.
  std::shared_ptr<const crypto::FieldEncryption> encryption = nullptr;
};

class QualityMonitor : public inference::InferenceObserver {
 public:
  // Builds the evaluators (errors name the evaluator and option), opens the ground-truth file,
  // loads the drift references.
  static Result<std::unique_ptr<QualityMonitor>> Open(const QualityConfig& config, const MonitorDeps& deps);
  ~QualityMonitor() override;

  void Start();  // the evaluation threads
  void Stop();   // evaluates what is queued, stores it, commits predictions

  void OnInferences(const std::vector<events::InferenceEvent>& events, int64_t now_ms) override;
  void OnFlush(int64_t now_ms, inference::SeriesWriter& w) override;

  // POST /api/v1/feedback. Corrections are redacted before they are stored.
  Result<FeedbackResult> IngestFeedback(std::vector<events::Feedback> items, int64_t now_ms);

  DriftMonitor& drift() { return *drift_; }
  GroundTruth* ground_truth() { return ground_truth_.get(); }  // null when disabled
  Evaluations& evaluations() { return *evaluations_; }
  const QualityConfig& config() const { return config_; }

 private:
  QualityMonitor(const QualityConfig& config, const MonitorDeps& deps);

  const QualityConfig config_;
  const MonitorDeps deps_;
  std::unique_ptr<DriftMonitor> drift_;
  std::unique_ptr<GroundTruth> ground_truth_;
  std::unique_ptr<Evaluations> evaluations_;
};

}  // namespace tyto::quality
