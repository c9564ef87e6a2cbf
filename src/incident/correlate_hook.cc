#include "incident/correlate_hook.h"

#include <utility>

#include "common/log.h"

namespace tyto::incident {

Tracker::CorrelateHook MakeCorrelateHook(const correlate::Correlator* correlator, correlate::Options options) {
  return [correlator, options = std::move(options)](const alertmanager::LabelSet& labels, int64_t start_ms) {
    std::vector<Correlation> out;
    Result<std::vector<correlate::Correlation>> ranked = correlator->Rank(labels, start_ms, options);
    if (!ranked.ok()) {
      log::Logger("incident").Debug("no correlations", {{"error", ranked.status()}});
      return out;
    }
    for (const correlate::Correlation& c : *ranked) {
      Correlation x;
      x.labels = alertmanager::ToLabelSet(c.labels);
      x.kind = std::string(correlate::KindName(c.kind));
      x.score = c.score;
      x.before = c.before;
      x.after = c.after;
      x.direction = c.direction;
      out.push_back(std::move(x));
    }
    return out;
  };
}

}  // namespace tyto::incident
