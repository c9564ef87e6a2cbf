#include "quality/evaluation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include "common/log.h"
#include "eventstore/telemetry_store.h"
#include "quality/metrics.h"
#include "redact/redactor.h"

namespace tyto::quality {
namespace {

const log::Logger kLog("quality");

constexpr size_t kRecordBatch = 512;      // evaluation records stored at once, at most
constexpr size_t kMaxHistograms = 10000;  // (model, version, evaluator) score histograms kept

// A uniform number in [0, 1) from an id (64-bit FNV-1a, then a finalizer so that ids differing
// only in their last characters spread).
double UnitHash(std::string_view id) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::atomic<uint64_t> anonymous_requests{0};

std::string FormatScore(double v) { return inference::FormatLe(v); }

}  // namespace

const std::vector<double>& ScoreBounds() {
  static const std::vector<double> bounds = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  return bounds;
}

TokenBucket::TokenBucket(double rate, int64_t now_ms) : rate_(rate), tokens_(std::max(1.0, rate)), last_ms_(now_ms) {}

bool TokenBucket::Take(int64_t now_ms) {
  if (now_ms > last_ms_) {
    tokens_ = std::min(std::max(1.0, rate_), tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000);
    last_ms_ = now_ms;
  }
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

bool Evaluations::Configured::Applies(const std::string& model) const {
  return models.empty() || std::find(models.begin(), models.end(), model) != models.end();
}

Evaluations::Evaluations(const EvaluationConfig& config, const Deps& deps, int64_t now_ms)
    : config_(config),
      deps_(deps),
      budget_(config.max_per_second, now_ms),
      remote_budget_(config.remote_max_per_second, now_ms) {}

Evaluations::~Evaluations() { Stop(); }

Result<std::unique_ptr<Evaluations>> Evaluations::Create(const EvaluationConfig& config,
                                                         const evaluate::Registry& registry, const Deps& deps,
                                                         int64_t now_ms) {
  std::unique_ptr<Evaluations> ev(new Evaluations(config, deps, now_ms));
  std::vector<EvaluatorConfig> wanted = config.evaluators;
  if (wanted.empty()) {
    for (const evaluate::Descriptor& d : registry.List()) {
      if (d.remote) continue;
      EvaluatorConfig c;
      c.name = d.name;
      wanted.push_back(std::move(c));
    }
  }
  for (const EvaluatorConfig& c : wanted) {
    Configured e;
    e.name = c.name;
    e.type = c.type.empty() ? c.name : c.type;
    e.models = c.models;
    e.weight = c.weight;
    Result<std::unique_ptr<evaluate::Evaluator>> made = registry.Create(e.type, c.options);
    if (!made.ok()) return made.status().WithContext("quality.evaluation.evaluators." + c.name);
    e.evaluator = std::move(*made);
    e.remote = e.evaluator->descriptor().remote;
    ev->any_remote_ = ev->any_remote_ || e.remote;
    ev->evaluators_.push_back(std::move(e));
  }
  return ev;
}

std::vector<Evaluations::Info> Evaluations::evaluators() const {
  std::vector<Info> out;
  for (const Configured& c : evaluators_) out.push_back({c.name, c.type, c.remote, c.weight});
  return out;
}

double Evaluations::RateOf(const std::string& model) const {
  for (const ModelRate& m : config_.models) {
    if (m.model == model) return m.sample_rate;
  }
  return config_.sample_rate;
}

void Evaluations::Offer(const events::InferenceEvent& e, int64_t now_ms) {
  if (!config_.enabled || evaluators_.empty()) return;
  if (e.response.empty() && e.finish_reasons.empty()) return;
  const double rate = RateOf(e.model);
  if (rate <= 0) return;
  const std::string& id = !e.request_id.empty() ? e.request_id : e.trace_id;
  const double u = id.empty() ? UnitHash(std::to_string(anonymous_requests.fetch_add(1))) : UnitHash(id);
  if (u >= rate) return;
  {
    MutexLock lock(&budget_mu_);
    if (!budget_.Take(now_ms)) {
      if (deps_.metrics != nullptr) deps_.metrics->evaluations_skipped.WithLabels({"budget"}).Inc();
      return;
    }
  }
  auto job = std::make_shared<Job>();
  job->sample.request_id = e.request_id;
  job->org = e.org;
  job->sample.model = e.model;
  job->sample.model_version = e.model_version;
  job->sample.prompt = e.prompt;
  job->sample.response = e.response;
  job->sample.finish_reasons = e.finish_reasons;
  job->sample.output_tokens = e.output_tokens;
  job->trace_id = e.trace_id;
  job->span_id = e.span_id;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (queue_.size() >= static_cast<size_t>(config_.queue_size)) {
      if (deps_.metrics != nullptr) deps_.metrics->evaluations_skipped.WithLabels({"queue_full"}).Inc();
      return;
    }
    queue_.push_back(std::move(job));
    if (deps_.metrics != nullptr) deps_.metrics->evaluation_queue.Set(static_cast<double>(queue_.size()));
  }
  queue_cv_.notify_one();
}

void Evaluations::RunOne(const std::shared_ptr<Job>& job, const Configured& c, int64_t now_ms) {
  (void)now_ms;
  Result<evaluate::Score> r = c.evaluator->Evaluate(job->sample);
  const char* result = "ok";
  if (!r.ok()) {
    result = "error";
    kLog.Debug("evaluation failed", {{"evaluator", c.name}, {"error", r.status().message()}});
  } else if (std::isnan(r->value)) {
    result = "not_applicable";
  }
  if (deps_.metrics != nullptr) {
    deps_.metrics->evaluations.WithLabels({c.name, result}).Inc();
    if (r.ok() && (r->input_tokens > 0 || r->output_tokens > 0 || r->cost > 0)) {
      deps_.metrics->evaluator_tokens.WithLabels({c.name, "input"}).Inc(static_cast<double>(r->input_tokens));
      deps_.metrics->evaluator_tokens.WithLabels({c.name, "output"}).Inc(static_cast<double>(r->output_tokens));
      deps_.metrics->evaluator_cost.WithLabels({c.name}).Inc(r->cost);
    }
  }
  if (!r.ok() || std::isnan(r->value)) return;
  evaluate::Score s = std::move(*r);
  s.value = std::clamp(s.value, 0.0, 1.0);
  std::lock_guard<std::mutex> lock(job->mu);
  job->scores.emplace_back(&c, std::move(s));
}

void Evaluations::Local(const std::shared_ptr<Job>& job, bool inline_remote, int64_t now_ms) {
  std::vector<const Configured*> remote;
  for (const Configured& c : evaluators_) {
    if (!c.Applies(job->sample.model)) continue;
    if (c.remote) {
      remote.push_back(&c);
      continue;
    }
    RunOne(job, c, now_ms);
  }
  bool take_remote = false;
  if (!remote.empty()) {
    MutexLock lock(&budget_mu_);
    take_remote = remote_budget_.Take(now_ms);
  }
  if (!remote.empty() && !take_remote && deps_.metrics != nullptr) {
    deps_.metrics->evaluations_skipped.WithLabels({"remote_budget"}).Inc();
  }
  if (!take_remote || remote.empty()) {
    Finish(job, now_ms);
    return;
  }
  if (inline_remote) {
    for (const Configured* c : remote) RunOne(job, *c, now_ms);
    Finish(job, now_ms);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    remote_queue_.push_back(job);
  }
  queue_cv_.notify_all();
}

void Evaluations::Observe(const std::string& model, const std::string& version, const std::string& evaluator,
                          double score) {
  auto key = std::make_tuple(model, version, evaluator);
  auto it = histograms_.find(key);
  if (it == histograms_.end()) {
    if (histograms_.size() >= kMaxHistograms) {
      // A flood of model names or versions must not grow memory without bound.
      if (deps_.metrics != nullptr) deps_.metrics->evaluations_skipped.WithLabels({"max_series"}).Inc();
      return;
    }
    it = histograms_.emplace(std::move(key), inference::HistogramState()).first;
  }
  it->second.Observe(ScoreBounds(), score);
}

void Evaluations::Finish(const std::shared_ptr<Job>& job, int64_t now_ms) {
  std::vector<std::pair<const Configured*, evaluate::Score>> scores;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    scores = std::move(job->scores);
  }
  if (scores.empty()) return;
  double weighted = 0, weights = 0;
  for (const auto& [c, s] : scores) {
    if (c->weight <= 0) continue;
    weighted += c->weight * s.value;
    weights += c->weight;
  }
  std::vector<events::LogRecord> records;
  auto record = [&](const std::string& name, const evaluate::Score& s) {
    events::LogRecord r;
    r.org = job->org;
    r.time_unix_nano = now_ms * 1'000'000;
    r.severity_number = 9;
    r.severity_text = "INFO";
    r.service = "tyto-quality";
    r.trace_id = job->trace_id;
    r.span_id = job->span_id;
    std::string explanation = s.explanation;
    if (deps_.redactor != nullptr) deps_.redactor->RedactInPlace(&explanation);
    r.body = name + ": " + FormatScore(s.value) + (s.label.empty() ? "" : " (" + s.label + ")") +
             (explanation.empty() ? "" : " " + explanation);
    r.attributes = {{"event.name", "gen_ai.evaluation.result"},
                    {"gen_ai.evaluation.name", name},
                    {"gen_ai.evaluation.score.value", FormatScore(s.value)},
                    {"gen_ai.evaluation.score.label", s.label},
                    {"gen_ai.evaluation.explanation", explanation},
                    {"gen_ai.request.model", job->sample.model},
                    {"gen_ai.response.id", job->sample.request_id},
                    {"tyto.model_version", job->sample.model_version}};
    records.push_back(std::move(r));
  };
  MutexLock lock(&results_mu_);
  for (const auto& [c, s] : scores) {
    Observe(job->sample.model, job->sample.model_version, c->name, s.value);
    record(c->name, s);
  }
  if (weights > 0) {
    evaluate::Score composite;
    composite.value = weighted / weights;
    composite.label = composite.value >= 0.5 ? "pass" : "fail";
    composite.explanation = "weighted mean of " + std::to_string(scores.size()) + " evaluator scores";
    Observe(job->sample.model, job->sample.model_version, "composite", composite.value);
    record("composite", composite);
  }
  for (events::LogRecord& r : records) records_.push_back(std::move(r));
}

void Evaluations::StoreRecords() {
  if (deps_.store == nullptr) {
    MutexLock lock(&results_mu_);
    records_.clear();
    return;
  }
  std::vector<events::LogRecord> batch;
  {
    MutexLock lock(&results_mu_);
    batch.swap(records_);
  }
  for (size_t i = 0; i < batch.size(); i += kRecordBatch) {
    const size_t n = std::min(kRecordBatch, batch.size() - i);
    Result<eventstore::AppendResult> r = deps_.store->AppendLogs(std::span(batch).subspan(i, n));
    if (!r.ok()) kLog.Warn("evaluation records not stored", {{"error", r.status().message()}});
  }
}

void Evaluations::RunPending(int64_t now_ms) {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (queue_.empty()) break;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Local(job, /*inline_remote=*/true, now_ms);
  }
  StoreRecords();
}

void Evaluations::Flush(int64_t now_ms, inference::SeriesWriter& w) {
  (void)now_ms;
  {
    MutexLock lock(&results_mu_);
    for (const auto& [key, h] : histograms_) {
      LabelsBuilder b;
      b.Set("model", std::get<0>(key));
      b.Set("version", std::get<1>(key));
      b.Set("evaluator", std::get<2>(key));
      h.Write(w, "tyto_quality_score", ScoreBounds(), b.Build());
    }
  }
  if (!threads_) StoreRecords();
}

void Evaluations::Start() {
  std::lock_guard<std::mutex> lock(queue_mu_);
  if (threads_ || stopping_) return;
  threads_ = true;
  workers_.emplace_back([this] { WorkerLoop(); });
  if (any_remote_) {
    for (int64_t i = 0; i < config_.remote_workers; ++i) workers_.emplace_back([this] { RemoteLoop(); });
  }
}

void Evaluations::Stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  // The remote pool may have stopped before the worker handed it its last jobs.
  std::deque<std::shared_ptr<Job>> left;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    left.swap(remote_queue_);
  }
  const int64_t now = deps_.clock->NowMillis();
  for (const std::shared_ptr<Job>& job : left) {
    for (const Configured& c : evaluators_) {
      if (c.remote && c.Applies(job->sample.model)) RunOne(job, c, now);
    }
    Finish(job, now);
  }
  StoreRecords();
}

void Evaluations::WorkerLoop() {
  auto last_store = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(queue_mu_);
  while (true) {
    queue_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) break;
    if (!queue_.empty()) {
      std::shared_ptr<Job> job = std::move(queue_.front());
      queue_.pop_front();
      if (deps_.metrics != nullptr) deps_.metrics->evaluation_queue.Set(static_cast<double>(queue_.size()));
      lock.unlock();
      const int64_t now = deps_.clock->NowMillis();
      Local(job, /*inline_remote=*/false, now);
      lock.lock();
    }
    if (std::chrono::steady_clock::now() - last_store >= std::chrono::seconds(1)) {
      lock.unlock();
      StoreRecords();
      last_store = std::chrono::steady_clock::now();
      lock.lock();
    }
  }
}

void Evaluations::RemoteLoop() {
  std::unique_lock<std::mutex> lock(queue_mu_);
  while (true) {
    queue_cv_.wait(lock, [this] { return stopping_ || !remote_queue_.empty(); });
    if (remote_queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    std::shared_ptr<Job> job = std::move(remote_queue_.front());
    remote_queue_.pop_front();
    lock.unlock();
    const int64_t now = deps_.clock->NowMillis();
    for (const Configured& c : evaluators_) {
      if (c.remote && c.Applies(job->sample.model)) RunOne(job, c, now);
    }
    Finish(job, now);
    lock.lock();
  }
}

}  // namespace tyto::quality
