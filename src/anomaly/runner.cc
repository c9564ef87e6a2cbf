#include "anomaly/runner.h"

#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

#include "anomaly/detectors.h"
#include "common/coding.h"
#include "common/crc32.h"
#include "common/log.h"
#include "instrumentation/metrics.h"
#include "promql/engine.h"
#include "promql/parser.h"

namespace tyto::anomaly {

namespace {

enum class Kind { kSeasonal, kTrend, kMultivariate };

constexpr std::string_view kScoreMetric = "tyto_anomaly_score";
constexpr std::string_view kFlagMetric = "tyto_anomaly";
constexpr std::string_view kForecastMetric = "tyto_anomaly_forecast_seconds";
constexpr std::string_view kRateMetric = "tyto_anomaly_rate";
// The models file (docs/format/anomaly_models.md).
constexpr std::string_view kMagic = "TYAM";
constexpr uint32_t kVersion = 1;

// One series' model: exactly one of the three detectors, and the refs of its output series.
struct SeriesModel {
  std::unique_ptr<SeasonalBaseline> seasonal;
  std::unique_ptr<TrendForecaster> trend;
  std::unique_ptr<KMeansDetector> kmeans;
  Labels score_labels, flag_labels, forecast_labels;
  SeriesRef score_ref = 0, flag_ref = 0, forecast_ref = 0;
  int64_t last_seen_ms = 0;

  void Save(std::string* out) const {
    if (seasonal) seasonal->Save(out);
    if (trend) trend->Save(out);
    if (kmeans) kmeans->Save(out);
  }
  bool Load(std::string_view in) {
    if (seasonal) return seasonal->Load(in);
    if (trend) return trend->Load(in);
    return kmeans->Load(in);
  }
  Verdict Observe(int64_t t, double v) {
    if (seasonal) return seasonal->Observe(t, v);
    if (trend) return trend->Observe(t, v);
    return kmeans->Observe(t, v);
  }
  size_t MemoryBytes() const {
    size_t b = sizeof(*this);
    if (seasonal) b += seasonal->MemoryBytes();
    if (trend) b += trend->MemoryBytes();
    if (kmeans) b += kmeans->MemoryBytes();
    return b;
  }
};

// The output series' labels: the result's labels without __name__, with detector set.
Labels OutputLabels(const Labels& series, std::string_view metric, const std::string& detector) {
  LabelsBuilder b(series);
  b.Set(kMetricNameLabel, metric);
  b.Set("detector", detector);
  return b.Build();
}

}  // namespace

struct Runner::Impl {
  struct Detector {
    DetectorConfig config;
    Kind kind = Kind::kSeasonal;
    promql::ExprPtr expr;
    size_t max_series = 0;
    std::unordered_map<Labels, SeriesModel, LabelsHash> models;
    size_t model_bytes = 0;
    instrumentation::Counter* evaluations = nullptr;
    instrumentation::Counter* failures = nullptr;
    instrumentation::Counter* refused = nullptr;
    instrumentation::Counter* dropped = nullptr;
    instrumentation::Counter* append_failures = nullptr;
    instrumentation::Gauge* series = nullptr;
    instrumentation::Gauge* bytes = nullptr;
  };

  AnomalyConfig config;
  promql::Engine* engine = nullptr;
  Storage* storage = nullptr;
  Clock* clock = nullptr;
  std::unique_ptr<instrumentation::Registry> own_registry;
  log::Logger logger{"anomaly"};

  mutable Mutex mu;  // one Step at a time; guards the detectors' models
  std::vector<Detector> detectors GUARDED_BY(mu);

  std::unique_ptr<SeriesModel> NewModel(const Detector& d) const {
    auto m = std::make_unique<SeriesModel>();
    const DetectorConfig& c = d.config;
    switch (d.kind) {
      case Kind::kSeasonal: {
        SeasonalOptions o;
        o.values_per_slot = static_cast<int>(c.values_per_slot);
        o.seasons = static_cast<int>(c.seasons);
        o.min_seasons = static_cast<int>(c.min_seasons);
        if (c.sensitivity > 0) o.threshold = c.sensitivity;
        m->seasonal = std::make_unique<SeasonalBaseline>(o);
        break;
      }
      case Kind::kTrend: {
        TrendOptions o;
        o.alpha = c.alpha;
        o.beta = c.beta;
        o.threshold = c.threshold;
        o.above = c.direction != "below";
        o.horizon_seconds = static_cast<double>(c.horizon.count()) / 1000.0;
        m->trend = std::make_unique<TrendForecaster>(o);
        break;
      }
      case Kind::kMultivariate: {
        KMeansOptions o;
        o.diff_n = static_cast<int>(c.diff);
        o.smooth_n = static_cast<int>(c.smooth);
        o.lag_n = static_cast<int>(c.lag);
        o.train_window = static_cast<int>(c.train_window);
        o.min_train = std::min(o.train_window, std::max(o.train_window / 3, 2 * (o.diff_n + o.smooth_n + o.lag_n + 2)));
        o.train_every = static_cast<int>(c.train_every);
        o.models = static_cast<int>(c.models);
        o.percentile = c.percentile;
        if (c.sensitivity > 0) o.threshold = c.sensitivity;
        m->kmeans = std::make_unique<KMeansDetector>(o);
        break;
      }
    }
    return m;
  }

  std::unordered_map<Labels, SeriesModel, LabelsHash>::iterator Insert(Detector& d, const Labels& key,
                                                                       std::unique_ptr<SeriesModel> m) {
    m->score_labels = OutputLabels(key, kScoreMetric, d.config.name);
    m->flag_labels = OutputLabels(key, kFlagMetric, d.config.name);
    m->forecast_labels = OutputLabels(key, kForecastMetric, d.config.name);
    auto it = d.models.insert_or_assign(key, std::move(*m)).first;
    d.model_bytes += it->second.MemoryBytes();
    return it;
  }

  // Runs one detector; appends its outputs to `app`.
  Status StepDetector(Detector& d, int64_t now_ms, Appender* app) REQUIRES(mu) {
    d.evaluations->Inc();
    auto result = engine->Exec(*d.expr, now_ms, now_ms, 1, /*instant=*/true);
    if (!result.ok()) {
      d.failures->Inc();
      logger.Warn("query failed", {{"detector", d.config.name}, {"error", result.status()}});
      return Status(result.status().code(), "anomaly detector '" + d.config.name + "': " + result.status().message());
    }
    std::vector<promql::Element> elements;
    if (result->type == promql::ValueType::kVector) {
      elements = std::move(result->vector);
    } else if (result->type == promql::ValueType::kScalar) {
      elements.push_back({Labels(), result->scalar});
    } else {
      d.failures->Inc();
      return InvalidArgument("anomaly detector '" + d.config.name + "': the query must return an instant " +
                                     "vector or a scalar, not a " + std::string(promql::ValueTypeName(result->type)));
    }

    struct HostCount {
      int scored = 0;
      int anomalous = 0;
    };
    std::map<std::string, HostCount> hosts;
    auto append = [&](SeriesRef* ref, const Labels& labels, double v) {
      auto r = app->Append(*ref, labels, now_ms, v);
      if (r.ok()) {
        *ref = *r;
      } else {
        d.append_failures->Inc();
        *ref = 0;
      }
    };
    for (const promql::Element& e : elements) {
      if (!std::isfinite(e.v)) continue;
      LabelsBuilder key_builder(e.metric);
      key_builder.Del(kMetricNameLabel);
      Labels key = key_builder.Build();
      auto it = d.models.find(key);
      if (it == d.models.end()) {
        if (d.models.size() >= d.max_series) {
          d.refused->Inc();
          continue;
        }
        it = Insert(d, key, NewModel(d));
      }
      SeriesModel& m = it->second;
      m.last_seen_ms = now_ms;
      const Verdict v = m.Observe(now_ms, e.v);
      if (!v.ready) continue;
      append(&m.score_ref, m.score_labels, v.score);
      append(&m.flag_ref, m.flag_labels, v.anomalous ? 1 : 0);
      if (d.kind == Kind::kTrend) append(&m.forecast_ref, m.forecast_labels, v.forecast_seconds);
      if (d.kind == Kind::kMultivariate) {
        const std::string_view host = key.Get(d.config.host_label);
        if (!host.empty()) {
          HostCount& h = hosts[std::string(host)];
          ++h.scored;
          if (v.anomalous) ++h.anomalous;
        }
      }
    }
    for (const auto& [host, count] : hosts) {
      SeriesRef ref = 0;
      append(&ref, Labels::Of({"__name__", kRateMetric, "detector", d.config.name, "host", host}),
             static_cast<double>(count.anomalous) / count.scored);
    }
    // Models of series the query has not returned for series_ttl go (bounded memory).
    // The same pass recounts the bytes held (a multivariate model grows as it trains).
    const int64_t ttl = config.series_ttl.count();
    d.model_bytes = 0;
    for (auto i = d.models.begin(); i != d.models.end();) {
      if (now_ms - i->second.last_seen_ms > ttl) {
        i = d.models.erase(i);
        d.dropped->Inc();
      } else {
        d.model_bytes += i->second.MemoryBytes();
        ++i;
      }
    }
    d.series->Set(static_cast<double>(d.models.size()));
    d.bytes->Set(static_cast<double>(d.model_bytes));
    return Status::Ok();
  }
};

Result<std::unique_ptr<Runner>> Runner::Create(const AnomalyConfig& config, promql::Engine* engine,
                                               Storage* storage, Clock* clock,
                                               instrumentation::Registry* registry) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->engine = engine;
  impl->storage = storage;
  impl->clock = clock;
  if (registry == nullptr) {
    impl->own_registry = std::make_unique<instrumentation::Registry>();
    registry = impl->own_registry.get();
  }
  auto& evaluations = registry->AddCounter("tyto_anomaly_evaluations_total",
                                           "Evaluations of anomaly detectors' queries.", {"detector"});
  auto& failures = registry->AddCounter("tyto_anomaly_evaluation_failures_total",
                                        "Evaluations of anomaly detectors' queries that failed.", {"detector"});
  auto& refused = registry->AddCounter("tyto_anomaly_series_refused_total",
                                       "Series not modelled because the detector had max_series already.",
                                       {"detector"});
  auto& dropped = registry->AddCounter("tyto_anomaly_series_dropped_total",
                                       "Series' models dropped after series_ttl without a value.", {"detector"});
  auto& append_failures = registry->AddCounter("tyto_anomaly_append_failures_total",
                                               "Result samples the storage refused.", {"detector"});
  auto& series = registry->AddGauge("tyto_anomaly_series", "Series modelled by an anomaly detector.", {"detector"});
  auto& bytes = registry->AddGauge("tyto_anomaly_model_bytes", "Bytes held by an anomaly detector's models.",
                                   {"detector"});
  MutexLock lock(&impl->mu);
  for (const DetectorConfig& c : config.detectors) {
    Impl::Detector d;
    d.config = c;
    d.kind = c.kind == "trend" ? Kind::kTrend : c.kind == "multivariate" ? Kind::kMultivariate : Kind::kSeasonal;
    if (c.kind != "trend" && c.kind != "multivariate" && c.kind != "seasonal") {
      return InvalidArgument("anomaly detector '" + c.name + "': unknown kind '" + c.kind + "'");
    }
    auto expr = promql::Parse(c.query);
    if (!expr.ok()) {
      return InvalidArgument("anomaly detector '" + c.name + "': query: " + expr.status().message());
    }
    if ((*expr)->type() != promql::ValueType::kVector && (*expr)->type() != promql::ValueType::kScalar) {
      return InvalidArgument("anomaly detector '" + c.name + "': query must be an instant vector or a scalar, not a " +
                                     std::string(promql::ValueTypeName((*expr)->type())));
    }
    d.expr = std::move(expr).value();
    d.max_series = static_cast<size_t>(c.max_series > 0 ? c.max_series : config.max_series);
    d.evaluations = &evaluations.WithLabels({c.name});
    d.failures = &failures.WithLabels({c.name});
    d.refused = &refused.WithLabels({c.name});
    d.dropped = &dropped.WithLabels({c.name});
    d.append_failures = &append_failures.WithLabels({c.name});
    d.series = &series.WithLabels({c.name});
    d.bytes = &bytes.WithLabels({c.name});
    impl->detectors.push_back(std::move(d));
  }
  return std::unique_ptr<Runner>(new Runner(std::move(impl)));
}

Runner::Runner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runner::~Runner() { Stop(); }

Status Runner::Step(int64_t now_ms) {
  MutexLock lock(&impl_->mu);
  std::unique_ptr<Appender> app = impl_->storage->NewAppender();
  Status first;
  for (Impl::Detector& d : impl_->detectors) {
    Status s = impl_->StepDetector(d, now_ms, app.get());
    if (!s.ok() && first.ok()) first = s;
  }
  Status c = app->Commit();
  if (!c.ok()) {
    impl_->logger.Warn("commit failed", {{"error", c}});
    if (first.ok()) first = c;
  }
  return first;
}

Status Runner::SaveModels(Env* env, const std::string& path) const {
  std::string out(kMagic);
  coding::PutFixed32(&out, kVersion);
  {
    MutexLock lock(&impl_->mu);
    coding::PutVarint64(&out, impl_->detectors.size());
    for (const Impl::Detector& d : impl_->detectors) {
      coding::PutLengthPrefixed(&out, d.config.name);
      coding::PutLengthPrefixed(&out, d.config.kind);
      coding::PutVarint64(&out, d.models.size());
      std::string blob;
      for (const auto& [labels, model] : d.models) {
        coding::PutVarint64(&out, labels.size());
        for (const Label& l : labels) {
          coding::PutLengthPrefixed(&out, l.name);
          coding::PutLengthPrefixed(&out, l.value);
        }
        coding::PutVarintSigned64(&out, model.last_seen_ms);
        blob.clear();
        model.Save(&blob);
        coding::PutLengthPrefixed(&out, blob);
      }
    }
  }
  coding::PutFixed32(&out, Crc32(out));
  return WriteFileAtomically(env, path, out);
}

Result<size_t> Runner::LoadModels(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return NotFound("no anomaly models file " + path);
  TYTO_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  auto corrupt = [&](const std::string& why) { return Corruption(path + ": " + why); };
  if (data.size() < kMagic.size() + 8 || std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return corrupt("not an anomaly models file");
  }
  const size_t body_end = data.size() - 4;
  if (coding::DecodeFixed32(data.data() + body_end) != Crc32(std::string_view(data).substr(0, body_end))) {
    return corrupt("checksum mismatch");
  }
  if (const uint32_t v = coding::DecodeFixed32(data.data() + kMagic.size()); v != kVersion) {
    return corrupt("version " + std::to_string(v) + ", expected " + std::to_string(kVersion));
  }
  const char* p = data.data() + kMagic.size() + 4;
  const char* end = data.data() + body_end;
  // Parsed in full before anything is applied, so a malformed file loads nothing.
  struct Loaded {
    std::string detector, kind;
    Labels labels;
    int64_t last_seen = 0;
    std::string_view blob;
  };
  std::vector<Loaded> loaded;
  uint64_t detectors = 0;
  if ((p = coding::GetVarint64(p, end, &detectors)) == nullptr) return corrupt("truncated");
  for (uint64_t i = 0; i < detectors; ++i) {
    std::string_view name, kind;
    uint64_t series = 0;
    if ((p = coding::GetLengthPrefixed(p, end, &name)) == nullptr ||
        (p = coding::GetLengthPrefixed(p, end, &kind)) == nullptr || (p = coding::GetVarint64(p, end, &series)) == nullptr) {
      return corrupt("truncated detector");
    }
    for (uint64_t j = 0; j < series; ++j) {
      uint64_t pairs = 0;
      if ((p = coding::GetVarint64(p, end, &pairs)) == nullptr || pairs > static_cast<uint64_t>(end - p)) {
        return corrupt("truncated series");
      }
      std::vector<Label> labels;
      for (uint64_t k = 0; k < pairs; ++k) {
        std::string_view n, v;
        if ((p = coding::GetLengthPrefixed(p, end, &n)) == nullptr || (p = coding::GetLengthPrefixed(p, end, &v)) == nullptr) {
          return corrupt("truncated labels");
        }
        labels.push_back({std::string(n), std::string(v)});
      }
      Loaded l;
      l.detector = std::string(name);
      l.kind = std::string(kind);
      if ((p = coding::GetVarintSigned64(p, end, &l.last_seen)) == nullptr ||
          (p = coding::GetLengthPrefixed(p, end, &l.blob)) == nullptr) {
        return corrupt("truncated model");
      }
      auto set = Labels::FromPairs(std::move(labels));
      if (!set.ok()) return corrupt("bad labels: " + set.status().message());
      l.labels = std::move(set).value();
      loaded.push_back(std::move(l));
    }
  }
  if (p != end) return corrupt("trailing bytes");

  size_t count = 0;
  MutexLock lock(&impl_->mu);
  for (const Loaded& l : loaded) {
    for (Impl::Detector& d : impl_->detectors) {
      if (d.config.name != l.detector || d.config.kind != l.kind) continue;
      if (d.models.size() >= d.max_series && !d.models.contains(l.labels)) break;
      std::unique_ptr<SeriesModel> m = impl_->NewModel(d);
      if (!m->Load(l.blob)) break;  // saved with other options
      m->last_seen_ms = l.last_seen;
      impl_->Insert(d, l.labels, std::move(m));
      ++count;
      break;
    }
  }
  for (Impl::Detector& d : impl_->detectors) {
    d.model_bytes = 0;
    for (const auto& [labels, model] : d.models) d.model_bytes += model.MemoryBytes();
    d.series->Set(static_cast<double>(d.models.size()));
    d.bytes->Set(static_cast<double>(d.model_bytes));
  }
  return count;
}

size_t Runner::SeriesCount(const std::string& detector) const {
  MutexLock lock(&impl_->mu);
  for (const Impl::Detector& d : impl_->detectors) {
    if (d.config.name == detector) return d.models.size();
  }
  return 0;
}

size_t Runner::MemoryBytes() const {
  MutexLock lock(&impl_->mu);
  size_t bytes = 0;
  for (const Impl::Detector& d : impl_->detectors) bytes += d.model_bytes;
  return bytes;
}

Status Runner::Start() {
  MutexLock lock(&thread_mu_);
  if (started_) return FailedPrecondition("anomaly runner already started");
  started_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void Runner::Stop() {
  {
    MutexLock lock(&thread_mu_);
    if (!started_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(&thread_mu_);
  started_ = false;
}

void Runner::Loop() {
  const auto interval = impl_->config.interval;
  for (;;) {
    {
      MutexLock lock(&thread_mu_);
      const auto deadline = std::chrono::steady_clock::now() + interval;
      while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
        cv_.wait_until(thread_mu_.native(), deadline);
      }
      if (stopping_) return;
    }
    (void)Step(impl_->clock->NowMillis());
  }
}

}  // namespace tyto::anomaly
