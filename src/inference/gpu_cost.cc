#include "inference/gpu_cost.h"

namespace tyto::inference {

double GpuCost::PricePerHour(const Gpu& gpu) const {
  for (const GpuPrice& p : config_.gpus) {
    if (!p.node.empty() && p.node != gpu.node) continue;
    if (!p.gpu_model.empty() && p.gpu_model != gpu.gpu_model) continue;
    return p.per_hour;
  }
  return config_.default_gpu_per_hour;
}

void GpuCost::Accumulate(const std::vector<Gpu>& gpus,
                         const std::map<std::pair<std::string, std::string>, double>& busy, double seconds) {
  if (seconds <= 0) return;
  std::map<std::string, double> node_cost;
  for (const Gpu& g : gpus) node_cost[g.node] += PricePerHour(g) * seconds / 3600;
  for (const auto& [node, cost] : node_cost) {
    if (cost <= 0) continue;
    double total_busy = 0;
    for (auto it = busy.lower_bound({node, ""}); it != busy.end() && it->first.first == node; ++it) {
      total_busy += it->second;
    }
    if (total_busy <= 0) {
      totals_[{node, "_idle"}] += cost;
      continue;
    }
    for (auto it = busy.lower_bound({node, ""}); it != busy.end() && it->first.first == node; ++it) {
      totals_[it->first] += cost * it->second / total_busy;
    }
  }
}

void GpuCost::Write(SeriesWriter& w) const {
  for (const auto& [key, cost] : totals_) {
    LabelsBuilder b;
    b.Set(kMetricNameLabel, "tyto_inference_gpu_cost_total");
    b.Set("node", key.first);
    b.Set("model", key.second.empty() ? "_unknown" : key.second);
    b.Set("currency", config_.currency);
    w.Write(b.Build(), cost);
  }
}

}  // namespace tyto::inference
