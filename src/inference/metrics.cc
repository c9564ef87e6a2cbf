#include "inference/metrics.h"

namespace tyto::inference {

Metrics::Metrics(instrumentation::Registry* r)
    : requests_observed(r->AddCounter("tyto_inference_requests_observed_total",
                                      "Inference requests turned into metrics, by where they came from.", {"source"})),
      dimension_overflow(r->AddCounter("tyto_inference_dimension_overflow_total",
                                       "Requests counted under the label values \"_overflow\" because "
                                       "inference.max_dimension_sets label sets exist already.")
                             .WithLabels({})),
      dimension_sets(r->AddGauge("tyto_inference_dimension_sets", "Label sets of the derived inference series.")
                         .WithLabels({})),
      sampling_decisions(r->AddCounter("tyto_inference_sampling_decisions_total",
                                       "Sampling decisions on events and traces, and why.", {"what", "decision"})),
      traces_decided_early(r->AddCounter("tyto_inference_traces_decided_early_total",
                                         "Traces decided before their wait ended, because "
                                         "inference.sampling.max_pending_spans spans were waiting.")
                               .WithLabels({})),
      pending_spans(r->AddGauge("tyto_inference_pending_spans", "Spans waiting for their trace's sampling decision.")
                        .WithLabels({})),
      flush_failures(r->AddCounter("tyto_inference_flush_failures_total",
                                   "Failures to write the derived series to the metrics engine.")
                         .WithLabels({})),
      schema_mismatches(r->AddCounter("tyto_pipeline_schema_mismatches_found_total",
                                      "Pipeline stage runs whose fields differ from the registered schema, by kind.",
                                      {"kind"})),
      truncated(r->AddCounter("tyto_telemetry_truncated_total",
                              "Attributes, texts and items truncated or dropped at ingest for exceeding a limit.",
                              {"what"})),
      rejected(r->AddCounter("tyto_telemetry_rejected_total",
                             "Spans, log records, events or lines refused at ingest, by endpoint and reason.",
                             {"endpoint", "reason"})),
      stored(r->AddCounter("tyto_telemetry_stored_total", "Items handed to the event store, by table.", {"table"})),
      store_failures(r->AddCounter("tyto_telemetry_store_failures_total",
                                   "Items the event store failed to keep, by table.", {"table"})),
      redactions(r->AddCounter("tyto_redactions_total",
                               "Personal data and secrets replaced before anything was stored, by rule.", {"rule"})) {}

}  // namespace tyto::inference
