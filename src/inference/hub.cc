#include "inference/hub.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"
#include "events/access_log.h"
#include "events/genai.h"
#include "eventstore/telemetry_store.h"
#include "inference/metrics.h"
#include "redact/redactor.h"
#include "tyto/matcher.h"

namespace tyto::inference {
namespace {

const log::Logger kLog("inference");

// How often waiting traces are decided.
constexpr std::chrono::milliseconds kPollEvery{500};
// Nodes remembered per model.
constexpr size_t kNodesPerModel = 64;
// dcgm-exporter's utilization series, present for every GPU it sees.
constexpr std::string_view kGpuSeries = "DCGM_FI_DEV_GPU_UTIL";

}  // namespace

Hub::Hub(const InferenceConfig& config, const HubDeps& deps)
    : config_(config),
      deps_(deps),
      deriver_(config, deps.exemplars, deps.metrics, deps.clock->NowMillis()),
      sampler_(config.sampling, deps.metrics),
      pipelines_(config.pipelines, deps.metrics),
      gpu_cost_(config.cost),
      last_flush_ms_(deps.clock->NowMillis()) {
  RegisterMetadata(deps.metadata);
}

Hub::~Hub() { Stop(); }

void Hub::Start() {
  // The current version of each model survives a restart: read the deployments back.
  // (Newest first; the tracker keeps the latest per model whatever the order.)
  eventstore::DeploymentQuery q;
  q.limit = 10000;
  Result<std::vector<events::DeploymentEvent>> deployed = deps_.store->Deployments(q);
  if (deployed.ok()) {
    for (const events::DeploymentEvent& d : *deployed) deployments_.Observe(d);
  } else {
    kLog.Warn("could not read deployments back from the event store", {{"error", deployed.status().message()}});
  }
  thread_ = std::thread([this] { Loop(); });
}

void Hub::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<events::Span> kept;
  sampler_.Poll(deps_.clock->NowMillis(), true, &kept);
  (void)StoreSpans(std::move(kept));  // counted and logged there
  Flush(deps_.clock->NowMillis());
}

void Hub::Loop() {
  auto next_flush = std::chrono::steady_clock::now() + config_.flush_interval;
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, kPollEvery, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    const bool flush = std::chrono::steady_clock::now() >= next_flush;
    if (flush) next_flush += config_.flush_interval;
    RunOnce(flush);
    lock.lock();
  }
}

void Hub::RunOnce(bool flush) {
  const int64_t now = deps_.clock->NowMillis();
  std::vector<events::Span> kept;
  sampler_.Poll(now, false, &kept);
  (void)StoreSpans(std::move(kept));  // counted and logged there
  if (flush) Flush(now);
}

void Hub::RedactText(std::string* s, redact::Stats* stats) const {
  if (deps_.redactor == nullptr || s->empty()) return;
  deps_.redactor->RedactInPlace(s, stats);
}

void Hub::CountRedactions(const redact::Stats& stats) const {
  if (deps_.metrics == nullptr || deps_.redactor == nullptr) return;
  for (size_t i = 0; i < stats.findings.size(); ++i) {
    if (stats.findings[i] > 0) {
      deps_.metrics->redactions.WithLabels({deps_.redactor->rule_names()[i]}).Inc(static_cast<double>(stats.findings[i]));
    }
  }
}

Status Hub::Account(const Result<eventstore::AppendResult>& r, const char* table, size_t n) const {
  if (n == 0) return Status();
  if (!r.ok()) {
    if (deps_.metrics != nullptr) deps_.metrics->store_failures.WithLabels({table}).Inc(static_cast<double>(n));
    kLog.Warn("not stored", {{"table", table}, {"count", n}, {"error", r.status().message()}});
    return r.status();
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->stored.WithLabels({table}).Inc(static_cast<double>(r->stored));
    if (r->rejected > 0) deps_.metrics->store_failures.WithLabels({table}).Inc(static_cast<double>(r->rejected));
  }
  if (r->rejected > 0) {
    kLog.Warn("rows refused by the event store",
              {{"table", table}, {"rejected", r->rejected}, {"first", r->first_rejection}});
  }
  return Status();
}

Status Hub::StoreSpans(std::vector<events::Span> spans, const eventstore::AppendOptions& source) {
  if (spans.empty()) return Status::Ok();
  redact::Stats stats;
  for (events::Span& s : spans) {
    for (events::Attribute& a : s.attributes) {
      if (events::IsContentAttribute(a.key)) RedactText(&a.value, &stats);
    }
    for (events::SpanEvent& e : s.events) {
      for (events::Attribute& a : e.attributes) {
        if (events::IsContentAttribute(a.key)) RedactText(&a.value, &stats);
      }
    }
  }
  CountRedactions(stats);
  return Account(deps_.store->AppendSpans(spans, source), "spans", spans.size());  // counted and logged there
}

void Hub::Observe(const events::InferenceEvent& e, int64_t now_ms, const char* source) {
  deriver_.Observe(e, now_ms);
  if (deps_.metrics != nullptr) deps_.metrics->requests_observed.WithLabels({source}).Inc();
  if (e.node.empty() || e.model.empty()) return;
  MutexLock lock(&nodes_mu_);
  std::vector<std::string>& nodes = model_nodes_[e.model];
  auto it = std::find(nodes.begin(), nodes.end(), e.node);
  if (it != nodes.end()) {
    if (it + 1 != nodes.end()) std::rotate(it, it + 1, nodes.end());  // most recent last
    return;
  }
  nodes.push_back(e.node);
  if (nodes.size() > kNodesPerModel) nodes.erase(nodes.begin());
}

Status Hub::IngestSpans(std::vector<events::Span> spans, const eventstore::AppendOptions& source) {
  const int64_t now = deps_.clock->NowMillis();
  const std::vector<events::InferenceEvent> inferences = events::InferencesFromSpans(spans);
  for (const events::InferenceEvent& e : inferences) Observe(e, now, "spans");
  if (deps_.observer != nullptr && !inferences.empty()) deps_.observer->OnInferences(inferences, now);
  std::vector<events::Span> kept;
  sampler_.Add(std::move(spans), now, &kept);
  return StoreSpans(std::move(kept), source);
}

Status Hub::IngestEvents(events::DecodedEvents in, const eventstore::AppendOptions& source) {
  const int64_t now = deps_.clock->NowMillis();
  redact::Stats stats;
  if (deps_.observer != nullptr && !in.inferences.empty()) deps_.observer->OnInferences(in.inferences, now);
  std::vector<events::InferenceEvent> kept;
  for (events::InferenceEvent& e : in.inferences) {
    Observe(e, now, "events");
    Decision d = DecideEvent(config_.sampling, e);
    if (deps_.metrics != nullptr) deps_.metrics->sampling_decisions.WithLabels({"event", DecisionName(d)}).Inc();
    if (!Kept(d)) continue;
    RedactText(&e.prompt, &stats);
    RedactText(&e.response, &stats);
    kept.push_back(std::move(e));
  }
  std::vector<events::LogRecord> mismatch_logs;
  for (const events::PipelineStageEvent& p : in.pipeline_stages) {
    for (const SchemaMismatch& m : pipelines_.Observe(p)) {
      events::LogRecord r;
      r.time_unix_nano = (p.end_ms != 0 ? p.end_ms : now) * 1'000'000;
      r.severity_number = 13;
      r.severity_text = "WARN";
      r.service = "tyto-pipelines";
      r.body = "schema mismatch in " + p.pipeline + "/" + p.stage + ": " + Describe(m);
      r.attributes = {{"pipeline", p.pipeline}, {"stage", p.stage}, {"run_id", p.run_id},
                      {"kind", m.kind},         {"field", m.field}};
      mismatch_logs.push_back(std::move(r));
    }
  }
  for (const events::DeploymentEvent& d : in.deployments) deployments_.Observe(d);

  CountRedactions(stats);
  Status first;
  auto keep = [&first](Status st) {
    if (first.ok()) first = std::move(st);
  };
  keep(Account(deps_.store->AppendInferenceEvents(kept, source), "inference_events", kept.size()));
  keep(Account(deps_.store->AppendPipelineStageEvents(in.pipeline_stages, source), "pipeline_stage_events",
               in.pipeline_stages.size()));
  keep(Account(deps_.store->AppendDeployments(in.deployments, source), "deployments", in.deployments.size()));
  keep(Account(deps_.store->AppendLogs(mismatch_logs, source), "logs", mismatch_logs.size()));
  return first;
}

Status Hub::IngestLogs(std::vector<events::LogRecord> logs, const eventstore::AppendOptions& source) {
  if (logs.empty()) return Status();
  if (deps_.access_logs != nullptr) deps_.access_logs->Observe(logs);
  redact::Stats stats;
  for (events::LogRecord& r : logs) RedactText(&r.body, &stats);
  CountRedactions(stats);
  return Account(deps_.store->AppendLogs(logs, source), "logs", logs.size());
}

std::vector<Gpu> Hub::KnownGpus(int64_t now_ms) const {
  std::vector<Gpu> out;
  // A GPU counts while dcgm-exporter reported it within the last two flush intervals.
  const int64_t window = std::max<int64_t>(2 * config_.flush_interval.count(), 60'000);
  Result<std::unique_ptr<Querier>> q = deps_.metrics_storage->NewQuerier(now_ms - window, now_ms);
  if (!q.ok()) return out;
  Result<Matcher> m = Matcher::Make(MatchType::kEqual, "__name__", std::string(kGpuSeries));
  if (!m.ok()) return out;
  std::set<std::pair<std::string, std::string>> seen;  // (node, gpu id)
  std::unique_ptr<SeriesSet> set = (*q)->Select({*m});
  while (set->Next()) {
    const Labels& l = set->labels();
    std::string node(l.Get("Hostname"));
    if (node.empty()) node = std::string(l.Get("node"));
    std::string id(l.Get("UUID"));
    if (id.empty()) id = std::string(l.Get("gpu"));
    if (!seen.insert({node, id}).second) continue;
    out.push_back({node, std::string(l.Get("modelName"))});
  }
  return out;
}

void Hub::Flush(int64_t now_ms) {
  MutexLock lock(&flush_mu_);
  const double seconds = static_cast<double>(now_ms - last_flush_ms_) / 1000;
  last_flush_ms_ = now_ms;
  gpu_cost_.Accumulate(KnownGpus(now_ms), deriver_.TakeNodeBusy(), seconds);
  std::unique_ptr<Appender> app = deps_.metrics_storage->NewAppender();
  writer_.Begin(app.get(), now_ms);
  deriver_.Flush(now_ms, writer_);
  pipelines_.Flush(now_ms, writer_);
  deployments_.Flush(writer_);
  gpu_cost_.Write(writer_);
  if (deps_.observer != nullptr) deps_.observer->OnFlush(now_ms, writer_);
  Status st = writer_.End();
  // Samples the engine refused one by one (out of order after a clock step) are reported, the
  // rest committed.
  Status commit = app->Commit();
  if (!st.ok() || !commit.ok()) {
    if (deps_.metrics != nullptr) deps_.metrics->flush_failures.Inc();
    kLog.Warn("derived inference series not all written",
              {{"error", !commit.ok() ? commit.message() : st.message()}});
  }
}

std::vector<std::string> Hub::NodesOf(const std::string& model) const {
  MutexLock lock(&nodes_mu_);
  auto it = model_nodes_.find(model);
  return it == model_nodes_.end() ? std::vector<std::string>() : it->second;
}

}  // namespace tyto::inference
