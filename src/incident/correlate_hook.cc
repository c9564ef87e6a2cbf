#include "incident/correlate_hook.h"

#include <utility>

#include "common/log.h"
#include "tenant/tenant_storage.h"

namespace tyto::incident {

Result<std::vector<correlate::Correlation>> RankInTenant(Storage* storage, Clock* clock,
                                                         const alertmanager::LabelSet& alert_labels, int64_t start_ms,
                                                         const correlate::Options& options) {
  tenant::TenantStorage view(storage, std::string(alertmanager::AlertTenant(alert_labels)));
  const correlate::Correlator correlator(&view, clock);
  return correlator.Rank(alertmanager::WithoutTenant(alert_labels), start_ms, options);
}

Tracker::CorrelateHook MakeCorrelateHook(Storage* storage, Clock* clock, correlate::Options options) {
  return [storage, clock, options = std::move(options)](const alertmanager::LabelSet& labels, int64_t start_ms) {
    std::vector<Correlation> out;
    Result<std::vector<correlate::Correlation>> ranked = RankInTenant(storage, clock, labels, start_ms, options);
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
