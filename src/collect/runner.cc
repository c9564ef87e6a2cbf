#include "collect/runner.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "instrumentation/metrics.h"
#include "metastore/metastore.h"

namespace tyto::collect {
namespace {

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kInfo:
      return "info";
  }
  return "unknown";
}

struct StoredSeries {
  Labels labels;
  SeriesRef ref = 0;
};
using SeriesMap = std::unordered_map<Labels, StoredSeries, LabelsHash>;

}  // namespace

struct Runner::Entry {
  std::unique_ptr<Collector> collector;
  std::string name;
  std::chrono::milliseconds interval{0};
  int64_t next_ms = 0;  // 0: not scheduled yet
  // The previous round's series (as the collector gave them) with their stored labels (job and
  // instance added) and refs: refs skip the storage's lookup by labels, and a series missing
  // from the next round gets a staleness marker.
  std::unordered_map<Labels, StoredSeries, LabelsHash> series;
  std::unordered_set<std::string> described;  // families whose metadata was recorded
  CollectorStatus status;

  instrumentation::Counter* rounds = nullptr;
  instrumentation::Counter* failures = nullptr;
  instrumentation::Counter* append_errors = nullptr;
  instrumentation::Gauge* samples = nullptr;
  instrumentation::Gauge* duration = nullptr;
};

namespace {

// Appends one round to an appender, tracking which series the round had.
class AppendSink final : public Sink {
 public:
  AppendSink(Appender* app, int64_t now_ms, const SeriesMap* previous, std::string_view job, std::string_view instance,
             std::unordered_set<std::string>* described, metastore::MetadataStore* metadata)
      : app_(app),
        now_ms_(now_ms),
        previous_(previous),
        job_(job),
        instance_(instance),
        described_(described),
        metadata_(metadata) {}

  void Describe(std::string_view name, MetricType type, std::string_view help) override {
    if (metadata_ == nullptr) return;
    auto [it, added] = described_->emplace(name);
    if (!added) return;
    metadata_->Update(*it, metastore::Metadata{TypeName(type), std::string(help), ""});
  }

  void Add(const Labels& labels, double value) override {
    StoredSeries stored;
    if (auto it = previous_->find(labels); it != previous_->end()) {
      stored = it->second;
    } else {
      LabelsBuilder b(labels);
      if (!labels.Has("job")) b.Set("job", job_);
      if (!labels.Has("instance")) b.Set("instance", instance_);
      stored.labels = b.Build();
    }
    auto r = app_->Append(stored.ref, stored.labels, now_ms_, value);
    if (!r.ok()) {
      ++errors;
      if (first_error.empty()) first_error = r.status().ToString();
      return;
    }
    stored.ref = *r;
    current.emplace(labels, std::move(stored));
    ++samples;
  }

  SeriesMap current;
  uint64_t samples = 0;
  uint64_t errors = 0;
  std::string first_error;

 private:
  Appender* app_;
  int64_t now_ms_;
  const SeriesMap* previous_;
  std::string_view job_;
  std::string_view instance_;
  std::unordered_set<std::string>* described_;
  metastore::MetadataStore* metadata_;
};

}  // namespace

RunnerMetrics::RunnerMetrics(instrumentation::Registry* registry) {
  static constexpr const char* kLabel = "collector";
  rounds = &registry->AddCounter("tyto_collector_rounds_total", "Rounds each built-in collector ran.", {kLabel});
  failures = &registry->AddCounter("tyto_collector_failures_total",
                                   "Rounds that collected nothing (the collector failed).", {kLabel});
  append_errors = &registry->AddCounter("tyto_collector_append_errors_total",
                                        "Samples of collector rounds the storage refused (limits, out of order).",
                                        {kLabel});
  samples = &registry->AddGauge("tyto_collector_samples", "Samples in each collector's last round.", {kLabel});
  duration = &registry->AddGauge("tyto_collector_duration_seconds", "How long each collector's last round took.",
                                 {kLabel});
}

Runner::Runner(RunnerOptions options) : opt_(std::move(options)) {
  if (opt_.clock == nullptr) opt_.clock = Clock::Real();
  if (opt_.instance.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) opt_.instance = host;
    if (opt_.instance.empty()) opt_.instance = "localhost";
  }
}

Runner::~Runner() { Stop(); }

void Runner::Add(std::unique_ptr<Collector> collector, std::chrono::milliseconds interval) {
  auto e = std::make_unique<Entry>();
  e->name = std::string(collector->name());
  e->collector = std::move(collector);
  e->interval = std::clamp(interval, kMinInterval, kMaxInterval);
  e->status.name = e->name;
  e->status.interval = e->interval;
  if (RunnerMetrics* m = opt_.metrics; m != nullptr) {
    e->rounds = &m->rounds->WithLabels({e->name});
    e->failures = &m->failures->WithLabels({e->name});
    e->append_errors = &m->append_errors->WithLabels({e->name});
    e->samples = &m->samples->WithLabels({e->name});
    e->duration = &m->duration->WithLabels({e->name});
  }
  entries_.push_back(std::move(e));
}

void Runner::Start() {
  if (entries_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Runner::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Runner::Run() {
  pthread_setname_np(pthread_self(), "tyto-collect");  // for per-thread CPU accounting (top -H, bench/)
  MutexLock lock(&mu_);
  while (!stop_) {
    const int64_t now = opt_.clock->NowMillis();
    mu_.Unlock();
    const int64_t next = RunDue(now);
    mu_.Lock();
    if (stop_) break;
    const int64_t wait = std::max<int64_t>(next - opt_.clock->NowMillis(), 0) + 1;
    cv_.wait_for(mu_.native(), std::chrono::milliseconds(wait));
  }
}

int64_t Runner::RunDue(int64_t now_ms) {
  int64_t next = INT64_MAX;
  for (auto& e : entries_) {
    const int64_t interval = e->interval.count();
    if (e->next_ms == 0) e->next_ms = now_ms - now_ms % interval + interval;  // first round: next boundary
    if (e->next_ms <= now_ms) {
      // The round's time is its boundary, as a scrape's is the time it was due.
      const int64_t round_ms = e->next_ms;
      RunRound(e.get(), round_ms);
      e->next_ms += interval;
      // Fell behind (a slow round, a suspended process): skip to the next boundary after now.
      const int64_t after = opt_.clock->NowMillis();
      if (e->next_ms <= after) e->next_ms = after - after % interval + interval;
    }
    next = std::min(next, e->next_ms);
  }
  return next;
}

void Runner::RunRound(Entry* e, int64_t now_ms) {
  const auto start = opt_.clock->MonotonicNow();
  std::unique_ptr<Appender> app = opt_.storage->NewAppender();
  AppendSink sink(app.get(), now_ms, &e->series, e->name, opt_.instance, &e->described, opt_.metadata);
  Status st = e->collector->Collect(now_ms, &sink);
  // Series of the previous round that this one lacks have ended.
  uint64_t ended = 0;
  for (const auto& [labels, stored] : e->series) {
    if (sink.current.count(labels) != 0) continue;
    (void)app->Append(stored.ref, stored.labels, now_ms, StaleMarker());  // a refusal leaves the lookback to end it
    ++ended;
  }
  Status commit = app->Commit();
  if (commit.ok()) {
    e->series = std::move(sink.current);
  } else {
    // Nothing of the round is stored: keep the previous series, so the next round's markers
    // still end what has gone.
    log_.Warn("collector round could not be stored", {{"collector", e->name}, {"error", commit}});
  }
  const double seconds = std::chrono::duration<double>(opt_.clock->MonotonicNow() - start).count();

  MutexLock lock(&mu_);
  e->status.last_round_ms = now_ms;
  e->status.last_duration_seconds = seconds;
  e->status.last_samples = sink.samples;
  e->status.last_error = !st.ok() ? st.ToString() : !commit.ok() ? commit.ToString() : sink.first_error;
  if (e->rounds != nullptr) {
    e->rounds->Inc();
    if (!st.ok()) e->failures->Inc();
    if (sink.errors != 0) e->append_errors->Inc(static_cast<double>(sink.errors));
    e->samples->Set(static_cast<double>(sink.samples));
    e->duration->Set(seconds);
  }
  if (!st.ok()) log_.Debug("collector round failed", {{"collector", e->name}, {"error", st}, {"ended", ended}});
}

std::vector<CollectorStatus> Runner::Statuses() const {
  MutexLock lock(&mu_);
  std::vector<CollectorStatus> out;
  for (const auto& e : entries_) out.push_back(e->status);
  return out;
}

std::unique_ptr<Runner> NewRunner(const CollectorsConfig& config, RunnerOptions options) {
  auto runner = std::make_unique<Runner>(options);
  for (const CollectorConfig& c : config.collectors) {
    if (!c.enabled) continue;
    const Plugin* p = FindPlugin(c.name);
    if (p == nullptr) continue;
    runner->Add(p->create(OptionValues(p->descriptor, c.options)), EffectiveInterval(c));
  }
  return runner;
}

}  // namespace tyto::collect
