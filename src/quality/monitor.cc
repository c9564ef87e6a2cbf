#include "quality/monitor.h"

#include <utility>

#include "common/log.h"
#include "redact/redactor.h"

namespace tyto::quality {
namespace {

const log::Logger kLog("quality");

}  // namespace

QualityMonitor::QualityMonitor(const QualityConfig& config, const MonitorDeps& deps) : config_(config), deps_(deps) {}

QualityMonitor::~QualityMonitor() { Stop(); }

Result<std::unique_ptr<QualityMonitor>> QualityMonitor::Open(const QualityConfig& config, const MonitorDeps& deps) {
  std::unique_ptr<QualityMonitor> m(new QualityMonitor(config, deps));
  const int64_t now = deps.clock->NowMillis();
  TYTO_ASSIGN_OR_RETURN(
      m->evaluations_,
      Evaluations::Create(
          config.evaluation, *deps.registry,
          {.store = deps.store, .redactor = deps.redactor, .metrics = deps.metrics, .clock = deps.clock}, now));
  if (config.ground_truth.enabled) {
    TYTO_ASSIGN_OR_RETURN(m->ground_truth_, GroundTruth::Open(config.ground_truth, deps.dir, deps.metrics, now, deps.encryption));
  }
  m->drift_ = std::make_unique<DriftMonitor>(config.drift, deps.dir + "/drift", deps.env, deps.metrics);
  TYTO_RETURN_IF_ERROR(m->drift_->Load().WithContext(deps.dir + "/drift"));
  return m;
}

void QualityMonitor::Start() { evaluations_->Start(); }

void QualityMonitor::Stop() {
  if (evaluations_ != nullptr) evaluations_->Stop();
  if (ground_truth_ != nullptr) {
    Status st = ground_truth_->Commit();
    if (!st.ok()) kLog.Warn("predictions not written", {{"error", st.message()}});
  }
}

void QualityMonitor::OnInferences(const std::vector<events::InferenceEvent>& events, int64_t now_ms) {
  if (config_.drift.enabled) drift_->Observe(events, now_ms);
  for (const events::InferenceEvent& e : events) {
    if (ground_truth_ != nullptr) ground_truth_->Record(e);
    evaluations_->Offer(e, now_ms);
  }
}

void QualityMonitor::OnFlush(int64_t now_ms, inference::SeriesWriter& w) {
  evaluations_->Flush(now_ms, w);
  if (ground_truth_ != nullptr) ground_truth_->Flush(now_ms, w);
  if (config_.drift.enabled) drift_->Flush(now_ms, w);
}

Result<FeedbackResult> QualityMonitor::IngestFeedback(std::vector<events::Feedback> items, int64_t now_ms) {
  if (ground_truth_ == nullptr) return FailedPrecondition("quality.ground_truth.enabled is false");
  if (deps_.redactor != nullptr) {
    for (events::Feedback& f : items) deps_.redactor->RedactInPlace(&f.correction);
  }
  return ground_truth_->Ingest(items, now_ms);
}

}  // namespace tyto::quality
