// The server's own metrics, exposed at /metrics in the Prometheus text format (0.0.4).
//
// Each subsystem declares its metrics beside its code, on the Registry it is given:
//   auto& requests = registry->AddCounter("tyto_http_requests_total", "HTTP requests.", {"handler", "code"});
//   requests.WithLabels({"query", "200"}).Inc();
// Updating a metric is lock-free; WithLabels takes a lock, so hot paths keep the returned
// reference (it stays valid for the registry's lifetime).
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"

namespace tyto::instrumentation {

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets with upper bounds `bounds` (ascending, +Inf implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size() is the +Inf bucket).
  uint64_t BucketCount(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Prometheus client libraries' default latency buckets, in seconds.
std::vector<double> DefaultLatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

// All series of one metric name, one per label-value combination.
template <typename M>
class Family {
 public:
  // Values in the order of the family's label names. The reference is stable.
  M& WithLabels(std::initializer_list<std::string_view> values);
  // Drops the series with these values (from the exposition too); a reference WithLabels gave
  // for it is invalid afterwards. For series whose subject is gone (a removed rule group).
  void Remove(std::initializer_list<std::string_view> values);

 private:
  friend class Registry;
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<M>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<M>()> make_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> series_ GUARDED_BY(mu_);
};

class Registry {
 public:
  Registry();
  ~Registry();

  // Names must be unique across the registry; registering a name twice is a bug.
  Family<Counter>& AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                  std::vector<double> bounds);
  // A single unlabelled value read when /metrics is served (process memory, queue lengths).
  void AddCallback(std::string name, std::string help, Type type, std::function<double()> read);

  // The whole registry in the Prometheus text format, families sorted by name.
  std::string Expose() const;

 private:
  struct Entry;
  void Add(std::unique_ptr<Entry> e);
  // Registers `family` under `name`, held in the Entry member `slot`.
  template <typename M>
  Family<M>& AddFamily(std::string name, std::string help, Type type, std::unique_ptr<Family<M>> Entry::*slot,
                       Family<M>* family);

  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_ GUARDED_BY(mu_);
};

// Registers the standard process_* metrics (CPU, resident and virtual memory, open and max
// file descriptors, start time), read from /proc/self on each scrape.
void RegisterProcessMetrics(Registry* registry);

// Formats a sample value as Prometheus does: shortest round-trip form, +Inf, -Inf, NaN.
std::string FormatValue(double v);

}  // namespace tyto::instrumentation
