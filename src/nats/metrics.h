// The NATS transport's own metrics, shared by the connection, the publisher, the consumer and the
// key-value store of one process:
//
//   tyto_nats_connected                          gauge    1 while connected to a NATS server
//   tyto_nats_reconnects_total                   counter  reconnections after a lost connection
//   tyto_nats_published_total{kind,result}       counter  batches published: stored, duplicate (the
//                                                         stream had its id already), error
//   tyto_nats_published_bytes_total{kind}        counter  payload bytes stored
//   tyto_nats_publish_duration_seconds           histogram publish to JetStream acknowledgement
//   tyto_nats_messages_total{kind,result}        counter  messages the consumer handled:
//       acked    the sink stored it and the acknowledgement was sent
//       retried  the sink failed with a retryable error: negatively acknowledged, delivered again
//       invalid  it can never be stored (kInvalidArgument from the sink, or a subject or kind the
//                server does not know): terminated and logged, never delivered again
//       ack_failed  stored, but the acknowledgement did not reach NATS: delivered again
//   tyto_nats_redeliveries_total                 counter  messages seen more than once
//   tyto_nats_sink_duration_seconds              histogram one sink call
//   tyto_nats_kv_operations_total{op,result}     counter  key-value calls: ok, conflict, error
#pragma once

#include <string_view>

#include "instrumentation/metrics.h"

namespace tyto::nats {

// Thread-safe (the metrics are). Registers every metric on `registry`, which must outlive it.
struct Metrics {
  explicit Metrics(instrumentation::Registry* registry);

  instrumentation::Gauge& connected;
  instrumentation::Counter& reconnects;
  instrumentation::Family<instrumentation::Counter>& published;
  instrumentation::Family<instrumentation::Counter>& published_bytes;
  instrumentation::Histogram& publish_duration;
  instrumentation::Family<instrumentation::Counter>& messages;
  instrumentation::Counter& redeliveries;
  instrumentation::Histogram& sink_duration;
  instrumentation::Family<instrumentation::Counter>& kv_operations;
};

}  // namespace tyto::nats
