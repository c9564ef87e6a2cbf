// Built-in collectors (issue 6): the host (/proc, /sys) and the GPUs (NVML), each a plugin that
// produces one round of samples when asked. A runner (to come: the server's and `tyto agent`'s)
// calls Collect at the collector's interval and hands the samples to the storage or to the
// agent's forwarding queue; collectors know neither.
//
// Names and labels follow the exporters users already have dashboards for: node_exporter's
// (`node_cpu_seconds_total{cpu,mode}`) for the host, dcgm-exporter's
// (`DCGM_FI_DEV_GPU_UTIL{gpu,UUID,device,modelName,Hostname}`) for GPUs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::collect {

enum class MetricType { kGauge, kCounter, kInfo };

// Where one round's samples go. Add is called once per sample; Describe once per metric name
// per round, before its first sample (HELP and TYPE, for /metrics-style exposition and the
// metadata API).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Describe(std::string_view name, MetricType type, std::string_view help) = 0;
  // `labels` holds __name__. The sample's time is the round's (Collect's `now_ms`).
  virtual void Add(const Labels& labels, double value) = 0;
};

// One collector. Collect never throws and never aborts on what the machine says: a field a
// device does not support is skipped, a device that disappears is reported (a metric and a log
// line) and the round goes on. A non-OK Status means nothing could be collected this round.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual std::string_view name() const = 0;  // "host", "gpu": the config key and the label
  virtual Status Collect(int64_t now_ms, Sink* sink) = 0;
};

// A collector's option, for config validation and docs/collectors.md.
struct OptionInfo {
  std::string name;
  std::string type;  // "duration", "bool", "string", "list of strings"
  std::string default_value;
  std::string help;
};

// What the registry knows about a collector before creating it.
struct Descriptor {
  std::string name;
  std::string help;
  std::chrono::milliseconds default_interval{std::chrono::seconds(15)};
  std::vector<OptionInfo> options;
};

// A sink that keeps what it is given, for tests and for the runner's batching.
class VectorSink final : public Sink {
 public:
  struct Family {
    std::string name;
    MetricType type;
    std::string help;
  };
  struct Point {
    Labels labels;
    double value;
  };
  void Describe(std::string_view name, MetricType type, std::string_view help) override {
    families.push_back({std::string(name), type, std::string(help)});
  }
  void Add(const Labels& labels, double value) override { points.push_back({labels, value}); }

  std::vector<Family> families;
  std::vector<Point> points;
};

}  // namespace tyto::collect
