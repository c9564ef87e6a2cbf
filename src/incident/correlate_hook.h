// The tracker's correlate hook (tracker.h) backed by src/correlate's Correlator: what the
// server wires when both the metrics storage and incidents are on.
//
// Tenants: an alert's correlations are ranked among its own tenant's series only (the alert's
// __tenant__ label, alertmanager/alert.h), read through that tenant's view of the storage
// (tenant::TenantStorage), so an incident never shows another tenant's series.
#pragma once

#include <vector>

#include "alertmanager/alert.h"
#include "correlate/correlator.h"
#include "incident/tracker.h"
#include "tyto/clock.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::incident {

// Ranks the series that changed around `start_ms` for the alert with `alert_labels`, among the
// series of the alert's tenant in `storage` (the shared storage, not a view).
Result<std::vector<correlate::Correlation>> RankInTenant(Storage* storage, Clock* clock,
                                                         const alertmanager::LabelSet& alert_labels, int64_t start_ms,
                                                         const correlate::Options& options);

// Ranks with RankInTenant and `options`; an error (no identifying label, a storage failure) is
// logged at debug level and gives no correlations. `storage` and `clock` must outlive the hook.
Tracker::CorrelateHook MakeCorrelateHook(Storage* storage, Clock* clock, correlate::Options options);

}  // namespace tyto::incident
