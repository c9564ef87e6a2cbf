#include "correlate/correlator.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "common/log.h"

namespace tyto::correlate {
namespace {

const log::Logger kLog("correlate");

constexpr std::string_view kKindNames[] = {"gpu",     "host",  "kv_cache", "queue", "inference",
                                           "quality", "drift", "deploy",   "other"};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }
bool Contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

std::string_view Get(const alertmanager::LabelSet& labels, const std::string& name) {
  auto it = labels.find(name);
  return it != labels.end() ? std::string_view(it->second) : std::string_view();
}

// Whether `series` is one of the alert's own (see Options::own_metrics).
bool IsOwn(const Labels& series, const alertmanager::LabelSet& alert, const Options& o) {
  if (!o.own_metrics.empty()) {
    return std::find(o.own_metrics.begin(), o.own_metrics.end(), series.MetricName()) != o.own_metrics.end();
  }
  for (const Label& l : series) {
    if (l.name == kMetricNameLabel) continue;
    auto it = alert.find(l.name);
    if (it == alert.end() || it->second != l.value) return false;
  }
  return true;
}

bool Conflicts(const Labels& series, const alertmanager::LabelSet& alert, const Options& o) {
  for (const std::string& name : o.conflict_labels) {
    const std::string_view a = Get(alert, name);
    const std::string_view s = series.Get(name);
    if (!a.empty() && !s.empty() && a != s) return true;
  }
  return false;
}

struct Windows {
  int64_t before_start, before_end, after_start, after_end;
};

// Scores one series from its samples; false when it has too few points to judge.
bool Score(const Labels& labels, const std::vector<Sample>& samples, const Windows& w, const Options& o,
           Correlation* out) {
  const std::string_view name = labels.MetricName();
  out->labels = labels;
  out->kind = KindOf(name);
  if (name == "tyto_model_deployment_timestamp_seconds") {
    for (const Sample& s : samples) {
      const double at_ms = s.v * 1000;
      if (std::isfinite(at_ms) && at_ms >= static_cast<double>(w.before_start) &&
          at_ms <= static_cast<double>(w.after_end)) {
        out->score = o.deploy_score;
        out->before = out->after = s.v;
        out->direction = "event";
        out->change_point = true;
        return true;
      }
    }
    return false;
  }
  std::vector<Sample> points;
  if (IsCounterName(name)) {
    const Sample* prev = nullptr;
    for (const Sample& s : samples) {
      if (!std::isfinite(s.v)) continue;
      if (prev != nullptr && s.t > prev->t) {
        const double delta = s.v >= prev->v ? s.v - prev->v : s.v;
        points.push_back({s.t, delta * 1000.0 / static_cast<double>(s.t - prev->t)});
      }
      prev = &s;
    }
  } else {
    for (const Sample& s : samples) {
      if (std::isfinite(s.v)) points.push_back(s);
    }
  }
  std::vector<double> before, after;
  for (const Sample& p : points) {
    if (p.t >= w.before_start && p.t <= w.before_end) before.push_back(p.v);
    if (p.t >= w.after_start && p.t <= w.after_end) after.push_back(p.v);
  }
  if (before.size() < 3 || after.size() < 2) return false;
  const double mb = Median(before);
  const double ma = Median(after);
  const double mad = MedianAbsoluteDeviation(before, mb);
  const double denom = 1.4826 * mad + 0.01 * std::max(std::fabs(mb), std::fabs(ma)) + 1e-9;
  out->score = std::fabs(ma - mb) / denom;
  out->before = mb;
  out->after = ma;
  out->direction = ma > mb ? "up" : (ma < mb ? "down" : "flat");
  const size_t beyond = static_cast<size_t>(
      std::count_if(after.begin(), after.end(), [&](double v) { return ma > mb ? v > mb : v < mb; }));
  out->change_point = out->score >= o.change_point_score && 2 * beyond >= after.size();
  return true;
}

}  // namespace

std::string_view KindName(Kind k) { return kKindNames[static_cast<size_t>(k)]; }

Kind KindOf(std::string_view n) {
  if (StartsWith(n, "tyto_model_deployment_")) return Kind::kDeploy;
  if (StartsWith(n, "tyto_quality_")) return Kind::kQuality;
  if (StartsWith(n, "tyto_drift_")) return Kind::kDrift;
  if (StartsWith(n, "DCGM_FI_") || StartsWith(n, "nvidia_") || StartsWith(n, "gpu_")) return Kind::kGpu;
  if (StartsWith(n, "node_")) return Kind::kHost;
  if (Contains(n, "kv_cache") || Contains(n, "cache_usage")) return Kind::kKvCache;
  if (Contains(n, "queue") || Contains(n, "waiting") || Contains(n, "pending")) return Kind::kQueue;
  if (StartsWith(n, "vllm:") || StartsWith(n, "tgi_") || StartsWith(n, "tyto_inference_")) return Kind::kInference;
  return Kind::kOther;
}

bool IsCounterName(std::string_view n) {
  return EndsWith(n, "_total") || EndsWith(n, "_count") || EndsWith(n, "_sum") || EndsWith(n, "_bucket");
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2 == 1) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lo + hi) / 2;
}

double MedianAbsoluteDeviation(const std::vector<double>& v, double median) {
  std::vector<double> d;
  d.reserve(v.size());
  for (double x : v) d.push_back(std::fabs(x - median));
  return Median(std::move(d));
}

Result<std::vector<Correlation>> Correlator::Rank(const alertmanager::LabelSet& alert_labels, int64_t start_ms,
                                                  const Options& o) const {
  const Windows w{start_ms - o.before_from.count(), start_ms - o.before_to.count(), start_ms - o.after_from.count(),
                  start_ms + o.after_to.count()};
  if (w.before_start >= w.before_end || w.after_start >= w.after_end) {
    return InvalidArgument("correlation windows are empty (before_from must exceed before_to, after_from + after_to be positive)");
  }
  std::vector<Matcher> selections;
  for (const std::string& name : o.identifying_labels) {
    const std::string_view value = Get(alert_labels, name);
    if (value.empty()) continue;
    TYTO_ASSIGN_OR_RETURN(Matcher m, Matcher::Make(MatchType::kEqual, name, std::string(value)));
    selections.push_back(std::move(m));
  }
  if (selections.empty()) {
    return InvalidArgument("the alert has none of the identifying labels (" + std::to_string(o.identifying_labels.size()) +
                           " configured): nothing to correlate on");
  }
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<Querier> q,
                        storage_->NewQuerier(std::min(w.before_start, w.after_start), w.after_end));
  const auto deadline = clock_->MonotonicNow() + o.deadline;
  std::unordered_set<Labels, LabelsHash> seen;
  std::vector<Correlation> ranked;
  bool stopped = false;
  size_t candidates = 0;
  size_t visited = 0;
  for (const Matcher& m : selections) {
    std::unique_ptr<SeriesSet> set = q->Select({m});
    while (!stopped && set->Next()) {
      // Series left out (other hosts sharing a job) cost time too: they count, ten for a candidate.
      if (++visited > 10 * o.max_series || clock_->MonotonicNow() > deadline) {
        stopped = true;
        kLog.Debug("correlation stopped early", {{"visited", visited - 1}, {"candidates", candidates}});
        break;
      }
      const Labels& labels = set->labels();
      if (!seen.insert(labels).second) continue;
      const std::string_view name = labels.MetricName();
      if (StartsWith(name, "ALERTS") || Conflicts(labels, alert_labels, o) || IsOwn(labels, alert_labels, o)) continue;
      if (++candidates > o.max_series) {
        stopped = true;
        kLog.Debug("correlation stopped early", {{"candidates", candidates - 1}, {"max_series", o.max_series}});
        break;
      }
      std::vector<Sample> samples;
      std::unique_ptr<SeriesIterator> it = set->Iterator();
      while (it->Next()) samples.push_back(it->At());
      TYTO_RETURN_IF_ERROR(it->status());
      Correlation c;
      if (Score(labels, samples, w, o, &c) && c.score > o.min_score) ranked.push_back(std::move(c));
    }
    TYTO_RETURN_IF_ERROR(set->status());
    if (stopped) break;
  }
  std::sort(ranked.begin(), ranked.end(), [](const Correlation& a, const Correlation& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.labels.ToString() < b.labels.ToString();
  });
  if (ranked.size() > o.top_n) ranked.resize(o.top_n);
  return ranked;
}

}  // namespace tyto::correlate
