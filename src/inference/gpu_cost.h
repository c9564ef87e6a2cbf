// GpuCost: the hourly price of each GPU the metrics engine knows (dcgm-exporter's series, from
// Tyto's own GPU collector or a scraped exporter), shared among the models served on its node in
// proportion to their measured use: each model's busy seconds there (the sum of its requests'
// latencies, from the Deriver) over the same interval. A node's GPU time with no request at all is
// attributed to model="_idle", so the total always adds up to what the GPUs cost.
//
//   tyto_inference_gpu_cost_total{node, model, currency}
//
// Not thread-safe: the flusher owns it.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "inference/config.h"
#include "inference/series_writer.h"

namespace tyto::inference {

struct Gpu {
  std::string node;       // dcgm-exporter's Hostname label
  std::string gpu_model;  // modelName
};

class GpuCost {
 public:
  explicit GpuCost(const CostConfig& config) : config_(config) {}

  // The configured hourly price of a GPU (the first matching entry, else the default).
  double PricePerHour(const Gpu& gpu) const;
  // Adds `seconds` of every GPU in `gpus`, split by `busy` ((node, model) -> busy seconds).
  void Accumulate(const std::vector<Gpu>& gpus, const std::map<std::pair<std::string, std::string>, double>& busy,
                  double seconds);
  void Write(SeriesWriter& w) const;
  // (node, model) -> cost so far.
  const std::map<std::pair<std::string, std::string>, double>& totals() const { return totals_; }

 private:
  const CostConfig config_;
  std::map<std::pair<std::string, std::string>, double> totals_;
};

}  // namespace tyto::inference
