#include "anomaly/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "anomaly/detectors.h"
#include "scrape/text_parser.h"
#include "simulate/fleet.h"
#include "simulate/node_model.h"
#include "simulate/scenario.h"

namespace tyto::anomaly {

namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
// Tuesday 14 November 2023 00:00 UTC: days start at midnight, so hours of the day are plain.
constexpr int64_t kStartMs = 1'699'920'000'000;
// After an incident ends its series take a while to return (a GPU cools, queues drain); points
// in this window are left out of the point-wise counts.
constexpr int64_t kRecoveryMs = 15 * kMinuteMs;

// A clock the evaluation moves by hand (the simulator reads time only through it).
class SteppedClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_));
  }
  std::chrono::steady_clock::time_point MonotonicNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms_));
  }
  void Set(int64_t ms) { ms_ = ms; }

 private:
  int64_t ms_ = kStartMs;
};

// A small deterministic generator for incident hours and targets.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : s_(seed * 6364136223846793005ull + 1442695040888963407ull) {}
  int Below(int n) {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<int>((s_ >> 33) % static_cast<uint64_t>(n));
  }

 private:
  uint64_t s_;
};

enum class Family { kGpuTemp, kLatency, kWaiting };
constexpr const char* kFamilyNames[] = {"gpu_temp", "latency", "waiting"};
constexpr const char* kDetectorNames[] = {"static", "seasonal", "trend", "multivariate"};
constexpr int kDetectors = 4;

enum Label : uint8_t { kNegative = 0, kPositive = 1, kIgnored = 2 };

struct Watched {
  Family family = Family::kGpuTemp;
  int gpu = -1;
  int replica = -1;
  double static_threshold = 0;
  std::unique_ptr<SeasonalBaseline> seasonal;
  std::unique_ptr<TrendForecaster> trend;
  std::unique_ptr<KMeansDetector> kmeans;
  double last_sum = NAN, last_count = NAN;  // latency: the previous step's histogram sum and count
  std::vector<uint8_t> label;
  std::vector<uint8_t> flags[kDetectors];
  std::vector<double> normal;  // values of negative points, for the report's normal range
};

// Thresholds a person would write without learning anything: the temperature where the
// simulated GPUs start throttling is 87 C, DCGM's usual warning 85 C; the latency SLO of the
// simulated vLLM model's requests; a queue of more than a few dozen requests.
constexpr double kTempThreshold = 85;
constexpr double kTempTrendThreshold = 87;
constexpr double kLatencySlo = 12;
constexpr double kWaitingThreshold = 20;

std::unique_ptr<Watched> NewWatched(Family f) {
  auto w = std::make_unique<Watched>();
  w->family = f;
  SeasonalOptions so;
  KMeansOptions ko;
  TrendOptions to;
  to.horizon_seconds = 30 * 60;
  switch (f) {
    case Family::kGpuTemp:
      w->static_threshold = kTempThreshold;
      to.threshold = kTempTrendThreshold;
      break;
    case Family::kLatency:
      w->static_threshold = kLatencySlo;
      to.threshold = kLatencySlo;
      break;
    case Family::kWaiting:
      w->static_threshold = kWaitingThreshold;
      to.threshold = kWaitingThreshold;
      break;
  }
  w->seasonal = std::make_unique<SeasonalBaseline>(so);
  w->trend = std::make_unique<TrendForecaster>(to);
  w->kmeans = std::make_unique<KMeansDetector>(ko);
  return w;
}

simulate::Scenario MakeScenario(const EvaluationOptions& o, int replicas) {
  simulate::Scenario s;
  s.name = "anomaly-evaluation";
  Lcg rng(o.seed);
  for (int day = o.warmup_days; day < o.days; ++day) {
    if ((day - o.warmup_days) % 2 != 0) continue;
    // Incident days alternate between severe and mild incidents; mild ones stay below the
    // static thresholds (an early creep), severe ones cross them.
    const bool mild = (day - o.warmup_days) % 4 == 2;
    const int64_t base = day * kDayMs;
    simulate::Incident heat;
    heat.kind = simulate::IncidentKind::kGpuOverheat;
    heat.at = std::chrono::milliseconds(base + (1 + rng.Below(6)) * kHourMs + rng.Below(60) * kMinuteMs);
    heat.duration = std::chrono::minutes(45);
    heat.ramp = std::chrono::minutes(10);
    heat.gpu = rng.Below(o.gpus);
    heat.temperature = mild ? 80 : 92;
    s.incidents.push_back(heat);

    simulate::Incident slow;
    slow.kind = simulate::IncidentKind::kLatencyIncrease;
    slow.at = std::chrono::milliseconds(base + (8 + rng.Below(6)) * kHourMs + rng.Below(60) * kMinuteMs);
    slow.duration = std::chrono::minutes(120);
    slow.ramp = std::chrono::minutes(60);
    slow.replica = rng.Below(replicas);
    slow.factor = mild ? 1.5 : 3;
    s.incidents.push_back(slow);

    simulate::Incident queue;
    queue.kind = simulate::IncidentKind::kQueueBuildup;
    queue.at = std::chrono::milliseconds(base + (16 + rng.Below(6)) * kHourMs + rng.Below(60) * kMinuteMs);
    queue.duration = std::chrono::minutes(40);
    queue.replica = rng.Below(replicas);
    queue.slowdown = mild ? 2 : 3;
    s.incidents.push_back(queue);
  }
  return s;
}

// Whether `incident` acts on the watched series (it is then positive while the incident lasts).
bool Acts(const simulate::Incident& i, const Watched& w) {
  switch (w.family) {
    case Family::kGpuTemp:
      return i.kind == simulate::IncidentKind::kGpuOverheat && i.gpu == w.gpu;
    case Family::kLatency:
      return (i.kind == simulate::IncidentKind::kLatencyIncrease || i.kind == simulate::IncidentKind::kQueueBuildup) &&
             i.replica == w.replica;
    case Family::kWaiting:
      return i.kind == simulate::IncidentKind::kQueueBuildup && i.replica == w.replica;
  }
  return false;
}

}  // namespace

double EvaluationRow::precision() const {
  const int64_t p = true_positives + false_positives;
  return p == 0 ? 0 : static_cast<double>(true_positives) / static_cast<double>(p);
}
double EvaluationRow::recall() const {
  const int64_t p = true_positives + false_negatives;
  return p == 0 ? 0 : static_cast<double>(true_positives) / static_cast<double>(p);
}
double EvaluationRow::event_precision() const {
  return alarm_runs == 0 ? 0 : static_cast<double>(true_alarm_runs) / alarm_runs;
}
double EvaluationRow::event_recall() const { return incidents == 0 ? 0 : static_cast<double>(detected) / incidents; }

std::string EvaluationReport::ToMarkdown() const {
  std::string out =
      "| series | detector | point precision | point recall | incidents detected | of them mild | mean delay (min) "
      "| alarm precision | false alarms / clean day |\n"
      "|---|---|---|---|---|---|---|---|---|\n";
  char line[512];
  for (const EvaluationRow& r : rows) {
    std::snprintf(line, sizeof(line), "| %s | %s | %.2f | %.2f | %d/%d | %d/%d | %.1f | %.2f | %.2f |\n",
                  r.family.c_str(), r.detector.c_str(), r.precision(), r.recall(), r.detected, r.incidents,
                  r.mild_detected, r.mild_incidents, r.mean_delay_minutes, r.event_precision(),
                  r.false_alarms_per_clean_day);
    out += line;
  }
  out += "\n| series | normal median | normal p99 | normal max | static threshold |\n|---|---|---|---|---|\n";
  for (const FamilyRange& f : ranges) {
    std::snprintf(line, sizeof(line), "| %s | %.3g | %.3g | %.3g | %.3g |\n", f.family.c_str(), f.p50, f.p99, f.max,
                  f.static_threshold);
    out += line;
  }
  return out;
}

Result<EvaluationReport> Evaluate(const EvaluationOptions& o) {
  if (o.days < 1 || o.days > 400 || o.warmup_days < 0 || o.warmup_days >= o.days || o.step.count() < 1000 ||
      o.gpus < 1 || o.gpus > 64) {
    return InvalidArgument("evaluation: days 1..400, warmup_days below days, step of at least 1s, gpus 1..64");
  }
  const int tp = simulate::NodeModel::TensorParallelFor(simulate::ServerKind::kVllm, o.gpus);
  const int replicas = simulate::NodeModel::ReplicasFor(simulate::ServerKind::kVllm, o.gpus);
  SteppedClock clock;
  simulate::FleetOptions fo;
  fo.nodes = 1;
  fo.gpus_per_node = o.gpus;
  fo.seed = o.seed;
  fo.scenario = MakeScenario(o, replicas);
  fo.tick = o.step;
  auto fleet = simulate::Fleet::Create(fo, &clock);
  if (!fleet.ok()) return fleet.status();
  const std::vector<simulate::Incident>& incidents = fo.scenario.incidents;
  auto is_mild = [&](const simulate::Incident& i) {
    return ((i.at.count() / kDayMs) - o.warmup_days) % 4 == 2;
  };

  std::vector<std::unique_ptr<Watched>> watched;
  std::vector<size_t> gpu_index(static_cast<size_t>(o.gpus));
  for (int g = 0; g < o.gpus; ++g) {
    gpu_index[static_cast<size_t>(g)] = watched.size();
    watched.push_back(NewWatched(Family::kGpuTemp));
    watched.back()->gpu = g;
    watched.back()->replica = g / tp;
  }
  struct ReplicaSeries {
    size_t endpoint;
    size_t latency, waiting;
  };
  std::vector<ReplicaSeries> replica_series;
  size_t dcgm_endpoint = 0;
  const auto& endpoints = (*fleet)->endpoints();
  for (size_t e = 0; e < endpoints.size(); ++e) {
    if (endpoints[e].exporter == simulate::Exporter::kDcgm) dcgm_endpoint = e;
    if (endpoints[e].exporter != simulate::Exporter::kVllm) continue;
    ReplicaSeries rs{e, watched.size(), watched.size() + 1};
    watched.push_back(NewWatched(Family::kLatency));
    watched.back()->replica = endpoints[e].replica;
    watched.push_back(NewWatched(Family::kWaiting));
    watched.back()->replica = endpoints[e].replica;
    replica_series.push_back(rs);
  }

  const int64_t step = o.step.count();
  const int64_t steps = o.days * kDayMs / step;
  const int64_t scored_from = o.warmup_days * kDayMs;
  std::vector<double> temps(static_cast<size_t>(o.gpus), NAN);
  for (int64_t i = 1; i <= steps; ++i) {
    const int64_t offset = i * step;
    const int64_t now = kStartMs + offset;
    clock.Set(now);
    std::fill(temps.begin(), temps.end(), NAN);
    {
      simulate::Page page = (*fleet)->Scrape(dcgm_endpoint);
      scrape::TextParser p(page.body, scrape::FormatFromContentType(page.content_type));
      for (;;) {
        auto entry = p.Next();
        if (!entry.ok()) return entry.status();
        if (*entry == scrape::Entry::kEOF) break;
        if (*entry != scrape::Entry::kSeries || p.labels().MetricName() != "DCGM_FI_DEV_GPU_TEMP") continue;
        const std::string gpu(p.labels().Get("gpu"));
        const int g = std::atoi(gpu.c_str());
        if (g >= 0 && g < o.gpus) temps[static_cast<size_t>(g)] = p.value();
      }
    }
    std::vector<std::pair<size_t, double>> values;  // watched index, value
    for (int g = 0; g < o.gpus; ++g) values.emplace_back(gpu_index[static_cast<size_t>(g)], temps[static_cast<size_t>(g)]);
    for (const ReplicaSeries& rs : replica_series) {
      simulate::Page page = (*fleet)->Scrape(rs.endpoint);
      scrape::TextParser p(page.body, scrape::FormatFromContentType(page.content_type));
      double sum = NAN, count = NAN, waiting = NAN;
      for (;;) {
        auto entry = p.Next();
        if (!entry.ok()) return entry.status();
        if (*entry == scrape::Entry::kEOF) break;
        if (*entry != scrape::Entry::kSeries) continue;
        const std::string_view name = p.labels().MetricName();
        if (name == "vllm:e2e_request_latency_seconds_sum") sum = p.value();
        if (name == "vllm:e2e_request_latency_seconds_count") count = p.value();
        if (name == "vllm:num_requests_waiting") waiting = p.value();
      }
      Watched& lat = *watched[rs.latency];
      double mean = NAN;
      if (count > lat.last_count && sum >= lat.last_sum) mean = (sum - lat.last_sum) / (count - lat.last_count);
      lat.last_sum = sum;
      lat.last_count = count;
      values.emplace_back(rs.latency, mean);
      values.emplace_back(rs.waiting, waiting);
    }
    // Label and score every watched series at this step.
    const std::chrono::milliseconds t(offset);
    for (const auto& [index, value] : values) {
      Watched& w = *watched[index];
      uint8_t label = kNegative;
      for (const simulate::Incident& inc : incidents) {
        const bool active = inc.ActiveAt(t);
        const bool recovering = !active && t >= inc.at && t < inc.at + inc.duration + std::chrono::milliseconds(kRecoveryMs);
        if (Acts(inc, w)) {
          if (active) label = kPositive;
          else if (recovering && label == kNegative) label = kIgnored;
        } else if (w.family == Family::kGpuTemp && inc.kind == simulate::IncidentKind::kQueueBuildup &&
                   inc.replica == w.replica && (active || recovering) && label == kNegative) {
          label = kIgnored;
        }
      }
      uint8_t f[kDetectors] = {0, 0, 0, 0};
      if (std::isfinite(value)) {
        f[0] = value >= w.static_threshold ? 1 : 0;
        f[1] = w.seasonal->Observe(now, value).anomalous ? 1 : 0;
        f[2] = w.trend->Observe(now, value).anomalous ? 1 : 0;
        f[3] = w.kmeans->Observe(now, value).anomalous ? 1 : 0;
      }
      if (offset < scored_from) continue;
      w.label.push_back(label);
      if (label == kNegative && std::isfinite(value)) w.normal.push_back(value);
      for (int d = 0; d < kDetectors; ++d) w.flags[d].push_back(f[d]);
    }
  }

  // Counting.
  EvaluationReport report;
  report.options = o;
  std::vector<bool> clean_day(static_cast<size_t>(o.days), true);
  for (const simulate::Incident& inc : incidents) {
    clean_day[static_cast<size_t>(inc.at.count() / kDayMs)] = false;
    clean_day[static_cast<size_t>(std::min<int64_t>(o.days - 1, (inc.at + inc.duration).count() / kDayMs))] = false;
  }
  for (int d = o.warmup_days; d < o.days; ++d) report.clean_days += clean_day[static_cast<size_t>(d)] ? 1 : 0;
  const int64_t window = o.detection_window.count();
  for (int fam = 0; fam < 3; ++fam) {
    std::vector<double> normal;
    for (const auto& wp : watched) {
      if (static_cast<int>(wp->family) == fam) normal.insert(normal.end(), wp->normal.begin(), wp->normal.end());
    }
    FamilyRange range;
    range.family = kFamilyNames[fam];
    if (!normal.empty()) {
      std::sort(normal.begin(), normal.end());
      range.p50 = normal[normal.size() / 2];
      range.p99 = normal[std::min(normal.size() - 1, normal.size() * 99 / 100)];
      range.max = normal.back();
    }
    range.static_threshold = watched.empty() ? 0 : [&] {
      for (const auto& wp : watched) {
        if (static_cast<int>(wp->family) == fam) return wp->static_threshold;
      }
      return 0.0;
    }();
    report.ranges.push_back(range);
    for (int det = 0; det < kDetectors; ++det) {
      EvaluationRow row;
      row.family = kFamilyNames[fam];
      row.detector = kDetectorNames[det];
      double delay_sum = 0;
      // Incidents acting on this family.
      for (const simulate::Incident& inc : incidents) {
        bool any = false;
        int64_t first = -1;
        for (const auto& wp : watched) {
          if (static_cast<int>(wp->family) != fam || !Acts(inc, *wp)) continue;
          any = true;
          for (int64_t k = 0; k < static_cast<int64_t>(wp->label.size()); ++k) {
            const int64_t off = scored_from + (k + 1) * step;
            if (off < inc.at.count() || off >= inc.at.count() + window) continue;
            if (wp->flags[det][static_cast<size_t>(k)] != 0) {
              if (first < 0 || off < first) first = off;
              break;
            }
          }
        }
        if (!any) continue;
        ++row.incidents;
        if (is_mild(inc)) ++row.mild_incidents;
        if (first >= 0) {
          ++row.detected;
          if (is_mild(inc)) ++row.mild_detected;
          delay_sum += static_cast<double>(first - inc.at.count()) / kMinuteMs;
        }
      }
      row.mean_delay_minutes = row.detected == 0 ? 0 : delay_sum / row.detected;
      int clean_alarms = 0;
      for (const auto& wp : watched) {
        if (static_cast<int>(wp->family) != fam) continue;
        const std::vector<uint8_t>& flags = wp->flags[det];
        for (size_t k = 0; k < wp->label.size(); ++k) {
          const bool flagged = flags[k] != 0;
          if (wp->label[k] == kPositive) {
            (flagged ? row.true_positives : row.false_negatives)++;
          } else if (wp->label[k] == kNegative) {
            (flagged ? row.false_positives : row.true_negatives)++;
          }
          // An alarm run starts here.
          if (flagged && (k == 0 || flags[k - 1] == 0)) {
            size_t end = k;
            bool near_incident = false;
            while (end < flags.size() && flags[end] != 0) {
              if (wp->label[end] != kNegative) near_incident = true;
              ++end;
            }
            const int64_t start_off = scored_from + static_cast<int64_t>(k + 1) * step;
            for (const simulate::Incident& inc : incidents) {
              if (Acts(inc, *wp) && start_off >= inc.at.count() && start_off < inc.at.count() + window) {
                near_incident = true;
              }
            }
            ++row.alarm_runs;
            if (near_incident) ++row.true_alarm_runs;
            if (clean_day[static_cast<size_t>(start_off / kDayMs < o.days ? start_off / kDayMs : o.days - 1)]) {
              ++clean_alarms;
            }
          }
        }
      }
      row.false_alarms_per_clean_day = report.clean_days == 0 ? 0 : static_cast<double>(clean_alarms) / report.clean_days;
      report.rows.push_back(row);
    }
  }
  return report;
}

}  // namespace tyto::anomaly
