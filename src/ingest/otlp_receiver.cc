#include "ingest/otlp_receiver.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/log.h"
#include "ingest/otlp_names.h"
#include "scrape/text_lexing.h"

namespace tyto::ingest {
namespace {

using otlp::DataPoint;
using otlp::Metric;
using otlp::MetricType;
using otlp::Temporality;

const log::Logger kLog("ingest");

constexpr int kMaxClassicScale = 3;      // exponential histograms: le = 2^(k/8) at most
constexpr int64_t kMaxExpBuckets = 320;  // per point, after reducing the scale
constexpr int kMinScale = -10, kMaxScale = 20;  // OTLP's valid scales

std::string Where(size_t r, size_t s, size_t m) {
  return "resource_metrics[" + std::to_string(r) + "].scope_metrics[" + std::to_string(s) + "].metrics[" +
         std::to_string(m) + "]";
}

// 2^(i * 2^-scale): the lower boundary of bucket i, the upper boundary of bucket i - 1.
double ExpBoundary(int64_t i, int scale) {
  if (scale <= 0) {
    const int64_t e = std::clamp<int64_t>(i * (int64_t{1} << -scale), -3000, 3000);
    return std::ldexp(1.0, static_cast<int>(e));
  }
  return std::exp2(static_cast<double>(i) / static_cast<double>(int64_t{1} << scale));
}

struct IndexedCount {
  int64_t index;
  uint64_t count;
};

int64_t Span(int32_t offset, size_t n, int shift) {
  if (n == 0) return 0;
  const int64_t first = int64_t{offset} >> shift;
  const int64_t last = (int64_t{offset} + static_cast<int64_t>(n) - 1) >> shift;
  return last - first + 1;
}

std::vector<IndexedCount> Downscale(int32_t offset, const std::vector<uint64_t>& counts, int shift) {
  std::vector<IndexedCount> out;
  for (size_t k = 0; k < counts.size(); ++k) {
    const int64_t idx = (int64_t{offset} + static_cast<int64_t>(k)) >> shift;
    if (!out.empty() && out.back().index == idx) out.back().count += counts[k];
    else out.push_back({idx, counts[k]});
  }
  return out;
}

// Cumulative (le, count) pairs of an exponential histogram point, le ascending and unique,
// without +Inf. Error for a scale outside OTLP's range.
Result<std::vector<std::pair<double, uint64_t>>> ExponentialBuckets(const DataPoint& p) {
  if (p.scale < kMinScale || p.scale > kMaxScale) {
    return InvalidArgument("scale " + std::to_string(p.scale) + " outside [-10, 20]");
  }
  int target = std::min<int>(p.scale, kMaxClassicScale);
  while (target > kMinScale && Span(p.positive_offset, p.positive.size(), p.scale - target) +
                                       Span(p.negative_offset, p.negative.size(), p.scale - target) >
                                   kMaxExpBuckets) {
    --target;
  }
  const int shift = p.scale - target;
  std::vector<std::pair<double, uint64_t>> les;
  uint64_t cum = 0;
  const auto add = [&](double le, uint64_t c) {
    cum += c;
    if (!std::isfinite(le)) return;  // counted in +Inf (or, below -max double, in the next bucket)
    if (!les.empty() && le <= les.back().first) {
      les.back().second = cum;
      return;
    }
    les.push_back({le, cum});
  };
  std::vector<IndexedCount> neg = Downscale(p.negative_offset, p.negative, shift);
  for (auto it = neg.rbegin(); it != neg.rend(); ++it) add(-ExpBoundary(it->index, target), it->count);
  if (p.zero_count > 0 || !neg.empty()) add(p.zero_threshold, p.zero_count);
  for (const IndexedCount& b : Downscale(p.positive_offset, p.positive, shift)) {
    add(ExpBoundary(b.index + 1, target), b.count);
  }
  return les;
}

// The labels a point's series share: attributes, scope, job and instance; no __name__.
using LabelMap = std::map<std::string, std::string>;

Status AddAttributes(const std::vector<otlp::Attribute>& attrs, bool skip_identifying, LabelMap* out) {
  std::vector<const otlp::Attribute*> sorted;
  sorted.reserve(attrs.size());
  for (const otlp::Attribute& a : attrs) {
    if (skip_identifying &&
        (a.key == "service.name" || a.key == "service.namespace" || a.key == "service.instance.id")) {
      continue;
    }
    sorted.push_back(&a);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const otlp::Attribute* x, const otlp::Attribute* y) { return x->key < y->key; });
  for (const otlp::Attribute* a : sorted) {
    Result<std::string> name = otlp::LabelName(a->key);
    if (!name.ok()) return name.status();
    if (size_t bad = scrape::FindInvalidUtf8(a->value); bad != a->value.size()) {
      return InvalidArgument("value of attribute \"" + scrape::Printable(a->key) + "\" is not valid UTF-8 at byte " +
                             std::to_string(bad));
    }
    auto [it, inserted] = out->emplace(std::move(*name), a->value);
    if (!inserted) it->second += ";" + a->value;
  }
  return Status::Ok();
}

bool ValidUtf8(std::string_view s) { return scrape::FindInvalidUtf8(s) == s.size(); }

// A series' key among the running totals: its tenant, then its labels.
std::string DeltaKey(std::string_view tenant, const Labels& l) {
  std::string key(tenant);
  key.push_back('\xfe');
  for (const Label& p : l) {
    key += p.name;
    key.push_back('\xff');
    key += p.value;
    key.push_back('\xff');
  }
  return key;
}

}  // namespace

OtlpReceiver::OtlpReceiver(Storage* storage, OtlpOptions options, instrumentation::Registry* registry)
    : storage_(storage), options_(options) {
  points_received_ = &registry->AddCounter("tyto_otlp_datapoints_received_total",
                                           "OTLP metric data points decoded from requests.").WithLabels({});
  samples_stored_ = &registry->AddCounter("tyto_otlp_samples_stored_total",
                                          "Samples from OTLP data points committed to storage (acknowledged).")
                         .WithLabels({});
  auto& rejected = registry->AddCounter("tyto_otlp_datapoints_rejected_total",
                                        "OTLP data points refused, by reason.", {"reason"});
  rejected_invalid_ = &rejected.WithLabels({"invalid"});
  rejected_out_of_order_ = &rejected.WithLabels({"out_of_order"});
  rejected_duplicate_ = &rejected.WithLabels({"duplicate"});
  rejected_limit_ = &rejected.WithLabels({"limit"});
  rejected_storage_ = &rejected.WithLabels({"storage_error"});
  delta_evicted_ = &registry->AddCounter("tyto_otlp_delta_series_evicted_total",
                                         "Delta series whose running total was dropped to stay within the limit.")
                        .WithLabels({});
  registry->AddCallback("tyto_otlp_delta_series", "Series with a running total kept for OTLP delta points.",
                        instrumentation::Type::kGauge, [this] { return static_cast<double>(delta_series()); });
  invalid_bodies_ = &registry->AddCounter("tyto_otlp_invalid_requests_total",
                                          "OTLP bodies refused whole: undecodable, too large or of an unknown type.")
                         .WithLabels({});
}

size_t OtlpReceiver::delta_series() const {
  MutexLock lock(&delta_mu_);
  return deltas_.size();
}

ExportResult OtlpReceiver::Export(const otlp::MetricsRequest& request, Storage* storage, std::string_view tenant) {
  ExportResult result;
  bool has_delta = false;
  for (const auto& rm : request.resources) {
    for (const auto& sm : rm.scopes) {
      for (const Metric& m : sm.metrics) {
        result.points_received += m.points.size();
        has_delta |= m.temporality == Temporality::kDelta && m.type != MetricType::kGauge &&
                     m.type != MetricType::kSummary;
      }
    }
  }
  points_received_->Inc(static_cast<double>(result.points_received));
  std::unique_lock<std::mutex> delta_order(delta_order_, std::defer_lock);
  if (has_delta) delta_order.lock();

  std::unique_ptr<Appender> app = (storage != nullptr ? storage : storage_)->NewAppender();
  std::unordered_map<std::string, std::pair<double, int64_t>> pending;  // delta key -> (total, t)
  Status first_rejection;
  uint64_t appended = 0;
  std::optional<ExportResult> failed;

  // Appends one sample; a delta sample is added to its series' running total first. Returns
  // the refusal, or OK. Sets `failed` on a storage failure.
  const auto append = [&](const Labels& labels, int64_t t, double v, bool delta) -> Status {
    std::string key;
    double total = v;
    if (delta && !IsStaleMarker(v) && std::isfinite(v)) {
      key = DeltaKey(tenant, labels);
      std::optional<std::pair<double, int64_t>> prev;
      if (auto it = pending.find(key); it != pending.end()) {
        prev = it->second;
      } else {
        MutexLock lock(&delta_mu_);
        if (auto st = deltas_.find(key); st != deltas_.end()) prev = std::make_pair(st->second.total, st->second.last_t);
      }
      if (prev) {
        if (t <= prev->second) {
          return Status(StatusCode::kOutOfOrderSample,
                        "delta point at " + std::to_string(t) + " ms is not after the previous point of " +
                            labels.ToString() + " (at " + std::to_string(prev->second) +
                            " ms): it would be counted twice");
        }
        total = prev->first + v;
      }
    }
    Result<SeriesRef> r = app->Append(0, labels, t, total);
    if (!r.ok()) return r.status();
    ++appended;
    if (!key.empty()) pending[key] = {total, t};
    return Status::Ok();
  };

  for (size_t ri = 0; ri < request.resources.size() && !failed; ++ri) {
    const otlp::ResourceMetrics& rm = request.resources[ri];
    std::string service_name, service_namespace, instance;
    bool have_name = false, have_instance = false;
    size_t identifying = 0;
    for (const otlp::Attribute& a : rm.attributes) {
      if (a.key == "service.name") service_name = a.value, have_name = true, ++identifying;
      else if (a.key == "service.namespace") service_namespace = a.value, ++identifying;
      else if (a.key == "service.instance.id") instance = a.value, have_instance = true, ++identifying;
    }
    const std::string job = service_namespace.empty() || !have_name ? service_name : service_namespace + "/" + service_name;
    int64_t newest_t = 0;

    for (size_t si = 0; si < rm.scopes.size() && !failed; ++si) {
      const otlp::ScopeMetrics& sm = rm.scopes[si];
      for (size_t mi = 0; mi < sm.metrics.size() && !failed; ++mi) {
        const Metric& m = sm.metrics[mi];
        if (m.points.empty()) continue;
        const auto reject = [&](instrumentation::Counter* reason, uint64_t n, const Status& why) {
          reason->Inc(static_cast<double>(n));
          result.points_rejected += n;
          if (first_rejection.ok()) first_rejection = why;
        };
        if (m.type == MetricType::kNone) {
          reject(rejected_invalid_, m.points.size(), InvalidArgument(Where(ri, si, mi) + ": no data type"));
          continue;
        }
        Result<std::string> name = otlp::MetricName(m.name, m.unit, m.type, m.monotonic);
        if (!name.ok()) {
          reject(rejected_invalid_, m.points.size(), name.status().WithContext(Where(ri, si, mi)));
          continue;
        }
        const bool delta = m.temporality == Temporality::kDelta && m.type != MetricType::kGauge &&
                           m.type != MetricType::kSummary;
        for (size_t pi = 0; pi < m.points.size() && !failed; ++pi) {
          const DataPoint& p = m.points[pi];
          const auto where = [&] { return Where(ri, si, mi) + ".data_points[" + std::to_string(pi) + "]"; };
          LabelMap base;
          Status st = AddAttributes(p.attributes, false, &base);
          if (!st.ok()) {
            reject(rejected_invalid_, 1, st.WithContext(where()));
            continue;
          }
          if (!ValidUtf8(sm.name)) {
            reject(rejected_invalid_, 1, InvalidArgument(where() + ": scope name is not valid UTF-8"));
            continue;
          }
          if (!ValidUtf8(sm.version)) {
            reject(rejected_invalid_, 1, InvalidArgument(where() + ": scope version is not valid UTF-8"));
            continue;
          }
          if (!ValidUtf8(job) || !ValidUtf8(instance)) {
            reject(rejected_invalid_, 1,
                   InvalidArgument(where() + ": service.name, service.namespace or service.instance.id is not valid UTF-8"));
            continue;
          }
          base["otel_scope_name"] = sm.name;
          base["otel_scope_version"] = sm.version;
          if (have_name) base["job"] = job;
          if (have_instance) base["instance"] = instance;
          if (p.time_unix_nano == 0) {
            reject(rejected_invalid_, 1, InvalidArgument(where() + ": time_unix_nano is not set"));
            continue;
          }
          const auto t = static_cast<int64_t>(p.time_unix_nano / 1'000'000);
          const bool stale = (p.flags & otlp::kFlagNoRecordedValue) != 0;

          // The point's samples: (name suffix, extra label name, extra label value, value).
          struct Out {
            const char* suffix;
            const char* extra;
            std::string extra_value;
            double v;
          };
          std::vector<Out> outs;
          switch (m.type) {
            case MetricType::kGauge:
            case MetricType::kSum: outs.push_back({"", nullptr, "", p.value}); break;
            case MetricType::kHistogram: {
              if (!p.bucket_counts.empty() && p.bucket_counts.size() != p.explicit_bounds.size() + 1) {
                st = InvalidArgument(std::to_string(p.bucket_counts.size()) + " bucket counts for " +
                                     std::to_string(p.explicit_bounds.size()) + " explicit bounds (want bounds + 1)");
                break;
              }
              for (size_t i = 0; i < p.explicit_bounds.size(); ++i) {
                const double b = p.explicit_bounds[i];
                if (std::isnan(b) || (i > 0 && !(b > p.explicit_bounds[i - 1]))) {
                  st = InvalidArgument("explicit_bounds[" + std::to_string(i) + "] is not above the bound before it");
                  break;
                }
              }
              if (!st.ok()) break;
              uint64_t cum = 0;
              for (size_t i = 0; i < p.explicit_bounds.size() && i < p.bucket_counts.size(); ++i) {
                cum += p.bucket_counts[i];
                if (std::isinf(p.explicit_bounds[i]) && p.explicit_bounds[i] > 0) break;  // +Inf comes last
                outs.push_back({"_bucket", "le", otlp::FormatBound(p.explicit_bounds[i]), static_cast<double>(cum)});
              }
              outs.push_back({"_bucket", "le", "+Inf", static_cast<double>(p.count)});
              if (p.has_sum) outs.push_back({"_sum", nullptr, "", p.sum});
              outs.push_back({"_count", nullptr, "", static_cast<double>(p.count)});
              break;
            }
            case MetricType::kExponentialHistogram: {
              auto les = ExponentialBuckets(p);
              if (!les.ok()) {
                st = les.status();
                break;
              }
              for (const auto& [le, cum] : *les) {
                outs.push_back({"_bucket", "le", otlp::FormatBound(le), static_cast<double>(cum)});
              }
              outs.push_back({"_bucket", "le", "+Inf", static_cast<double>(p.count)});
              if (p.has_sum) outs.push_back({"_sum", nullptr, "", p.sum});
              outs.push_back({"_count", nullptr, "", static_cast<double>(p.count)});
              break;
            }
            case MetricType::kSummary:
              for (const auto& [q, v] : p.quantiles) outs.push_back({"", "quantile", otlp::FormatBound(q), v});
              outs.push_back({"_sum", nullptr, "", p.sum});
              outs.push_back({"_count", nullptr, "", static_cast<double>(p.count)});
              break;
            case MetricType::kNone: break;
          }
          if (!st.ok()) {
            reject(rejected_invalid_, 1, st.WithContext(where()));
            continue;
          }

          bool point_rejected = false;
          for (const Out& o : outs) {
            std::vector<Label> pairs;
            pairs.reserve(base.size() + 2);
            for (const auto& [k, v] : base) {
              if (k == kMetricNameLabel || (o.extra != nullptr && k == o.extra)) continue;
              pairs.push_back({k, v});
            }
            pairs.push_back({std::string(kMetricNameLabel), *name + o.suffix});
            if (o.extra != nullptr) pairs.push_back({o.extra, o.extra_value});
            Result<Labels> labels = Labels::FromPairs(std::move(pairs));
            Status why;
            if (!labels.ok()) why = labels.status();
            else why = append(*labels, t, stale ? StaleMarker() : o.v, delta);
            if (why.ok()) continue;
            const std::string at = where();
            switch (why.code()) {
              case StatusCode::kOutOfOrderSample: reject(rejected_out_of_order_, 1, why.WithContext(at)); break;
              case StatusCode::kDuplicateSample: reject(rejected_duplicate_, 1, why.WithContext(at)); break;
              case StatusCode::kResourceExhausted: reject(rejected_limit_, 1, why.WithContext(at)); break;
              case StatusCode::kInvalidArgument: reject(rejected_invalid_, 1, why.WithContext(at)); break;
              default:
                failed = ExportResult();
                failed->error = why.WithContext(at);
                break;
            }
            point_rejected = true;
            break;  // the point's other series would fail or be incomplete: one rejection per point
          }
          if (!point_rejected) newest_t = std::max(newest_t, t);
        }
      }
    }

    // target_info: the resource's attributes other than those that make job and instance.
    if (!failed && newest_t > 0 && rm.attributes.size() > identifying && (have_name || have_instance)) {
      LabelMap info;
      if (AddAttributes(rm.attributes, true, &info).ok() && ValidUtf8(job) && ValidUtf8(instance)) {
        std::vector<Label> pairs;
        for (auto& [k, v] : info) {
          if (k != kMetricNameLabel && k != "job" && k != "instance") pairs.push_back({k, v});
        }
        if (have_name) pairs.push_back({"job", job});
        if (have_instance) pairs.push_back({"instance", instance});
        pairs.push_back({std::string(kMetricNameLabel), "target_info"});
        if (Result<Labels> labels = Labels::FromPairs(std::move(pairs)); labels.ok()) {
          Result<SeriesRef> r = app->Append(0, *labels, newest_t, 1);
          if (r.ok()) ++appended;
          else if (r.status().code() != StatusCode::kOutOfOrderSample &&
                   r.status().code() != StatusCode::kDuplicateSample &&
                   r.status().code() != StatusCode::kResourceExhausted &&
                   r.status().code() != StatusCode::kInvalidArgument) {
            failed = ExportResult();
            failed->error = r.status().WithContext("resource_metrics[" + std::to_string(ri) + "] target_info");
          }
        }
      }
    }
  }

  if (failed) {
    app->Rollback();
    rejected_storage_->Inc(static_cast<double>(result.points_received - result.points_rejected));
    result.points_rejected = result.points_received;
    result.outcome = ExportResult::Outcome::kStorageFailed;
    result.error = failed->error;
    kLog.Error("otlp: storage refused a sample", {{"error", result.error}});
    return result;
  }
  if (Status commit = app->Commit(); !commit.ok()) {
    rejected_storage_->Inc(static_cast<double>(result.points_received - result.points_rejected));
    result.points_rejected = result.points_received;
    result.outcome = ExportResult::Outcome::kStorageFailed;
    result.error = commit.WithContext("storing " + std::to_string(appended) + " samples");
    kLog.Error("otlp: commit failed", {{"error", result.error}});
    return result;
  }
  result.samples_stored = appended;
  samples_stored_->Inc(static_cast<double>(appended));

  if (!pending.empty()) {
    MutexLock lock(&delta_mu_);
    for (auto& [key, v] : pending) {
      auto it = deltas_.find(key);
      if (it == deltas_.end()) {
        delta_lru_.push_front(key);
        it = deltas_.emplace(key, DeltaState{0, 0, delta_lru_.begin()}).first;
      } else {
        delta_lru_.splice(delta_lru_.begin(), delta_lru_, it->second.lru);
      }
      it->second.total = v.first;
      it->second.last_t = v.second;
    }
    while (deltas_.size() > options_.delta_series && !delta_lru_.empty()) {
      deltas_.erase(delta_lru_.back());
      delta_lru_.pop_back();
      delta_evicted_->Inc();
    }
  }

  if (result.points_rejected > 0) {
    result.outcome = ExportResult::Outcome::kPartlyRejected;
    result.error = Status(first_rejection.code(), std::to_string(result.points_rejected) + " of " +
                                                      std::to_string(result.points_received) +
                                                      " data points rejected; the first: " + first_rejection.message());
  }
  return result;
}

}  // namespace tyto::ingest
