// The inference subsystem's own metrics (tyto_inference_*), registered once per process on the
// server's registry and shared by the Deriver, the samplers and the Hub across reloads.
#pragma once

#include "instrumentation/metrics.h"

namespace tyto::inference {

class Metrics {
 public:
  explicit Metrics(instrumentation::Registry* registry);

  // Requests observed, by source ("events", "spans").
  instrumentation::Family<instrumentation::Counter>& requests_observed;
  // Requests counted under "_overflow" because the label-set cap was reached.
  instrumentation::Counter& dimension_overflow;
  instrumentation::Gauge& dimension_sets;
  // Sampling decisions, by what ("event", "trace") and decision ("kept_error", "kept_slow",
  // "kept_sampled", "dropped").
  instrumentation::Family<instrumentation::Counter>& sampling_decisions;
  // Traces decided before their wait ended because too many spans were pending.
  instrumentation::Counter& traces_decided_early;
  instrumentation::Gauge& pending_spans;
  // Failures to write the derived series to the metrics engine.
  instrumentation::Counter& flush_failures;
  // Pipeline schema mismatches found, by kind ("missing", "extra", "retyped").
  instrumentation::Family<instrumentation::Counter>& schema_mismatches;
  // Items the decoders truncated or dropped, by what.
  instrumentation::Family<instrumentation::Counter>& truncated;
  // Items refused at ingest, by endpoint and reason.
  instrumentation::Family<instrumentation::Counter>& rejected;
  // Items handed to the event store, by table, and those it failed to keep.
  instrumentation::Family<instrumentation::Counter>& stored;
  instrumentation::Family<instrumentation::Counter>& store_failures;
  // Findings replaced before storing, by redaction rule.
  instrumentation::Family<instrumentation::Counter>& redactions;
};

}  // namespace tyto::inference
