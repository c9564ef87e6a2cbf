#include "nats/metrics.h"

namespace tyto::nats {

Metrics::Metrics(instrumentation::Registry* r)
    : connected(r->AddGauge("tyto_nats_connected", "1 while connected to a NATS server.").WithLabels({})),
      reconnects(
          r->AddCounter("tyto_nats_reconnects_total", "Reconnections to NATS after a lost connection.").WithLabels({})),
      published(r->AddCounter("tyto_nats_published_total",
                              "Batches published to JetStream: stored, duplicate (the stream had the batch's id "
                              "already) or error.",
                              {"kind", "result"})),
      published_bytes(r->AddCounter("tyto_nats_published_bytes_total", "Payload bytes JetStream stored.", {"kind"})),
      publish_duration(r->AddHistogram("tyto_nats_publish_duration_seconds",
                                       "Time from publishing a batch to JetStream's acknowledgement or failure.", {},
                                       instrumentation::DefaultLatencyBuckets())
                           .WithLabels({})),
      messages(r->AddCounter("tyto_nats_messages_total",
                             "Messages the consumer handled: acked, retried (negatively acknowledged after a "
                             "retryable error), invalid (terminated: can never be stored), ack_failed.",
                             {"kind", "result"})),
      redeliveries(r->AddCounter("tyto_nats_redeliveries_total", "Messages the consumer received more than once.")
                       .WithLabels({})),
      sink_duration(r->AddHistogram("tyto_nats_sink_duration_seconds",
                                    "Time the server took to store one consumed message.", {},
                                    instrumentation::DefaultLatencyBuckets())
                        .WithLabels({})),
      kv_operations(r->AddCounter("tyto_nats_kv_operations_total",
                                  "Key-value store calls by operation and result (ok, conflict, error).",
                                  {"op", "result"})) {}

}  // namespace tyto::nats
