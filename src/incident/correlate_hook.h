// The tracker's correlate hook (tracker.h) backed by src/correlate's Correlator: what the
// server wires when both the metrics storage and incidents are on.
#pragma once

#include "correlate/correlator.h"
#include "incident/tracker.h"

namespace tyto::incident {

// Ranks with `correlator` and `options`; an error (no identifying label, a storage failure) is
// logged at debug level and gives no correlations. `correlator` must outlive the hook.
Tracker::CorrelateHook MakeCorrelateHook(const correlate::Correlator* correlator, correlate::Options options);

}  // namespace tyto::incident
