// The forwarding path's own metrics (`tyto agent`), named after Prometheus's remote-write
// metrics (prometheus_remote_storage_*) where one exists, with the tyto_agent_ prefix:
//
//   tyto_agent_samples_in_total                       counter  samples committed into the queue
//   tyto_agent_samples_sent_total                     counter  samples a receiver accepted (2xx)
//   tyto_agent_samples_dropped_total{reason}          counter  samples that will never be sent:
//       queue_full  in the oldest segments, dropped to make room (DiskQueueOptions.max_bytes)
//       rejected    refused by the receiver with a non-retryable status (4xx other than 429)
//       corrupt     in queue records that failed their checksum or could not be decoded
//   tyto_agent_samples_retried_total                  counter  samples in requests sent again
//   tyto_agent_send_retries_total                     counter  requests sent again (5xx, 429,
//                                                              connection errors, timeouts)
//   tyto_agent_sent_bytes_total                       counter  compressed request bodies sent
//   tyto_agent_send_duration_seconds                  histogram one request, send to response
//   tyto_agent_queue_bytes                            gauge    bytes of the queue's segment files
//   tyto_agent_queue_segments                         gauge    segment files in the queue
//   tyto_agent_queue_samples                          gauge    samples in the queue not yet read
//                                                              by the sender
//   tyto_agent_highest_timestamp_in_seconds           gauge    newest sample timestamp committed
//   tyto_agent_queue_highest_sent_timestamp_seconds   gauge    newest sample timestamp a receiver
//                                                              accepted
//   tyto_agent_shards                                 gauge    requests sent in parallel
//
// How far behind the agent is: highest_timestamp_in_seconds - queue_highest_sent_timestamp_seconds
// (Prometheus's remote-write dashboards compute the same difference).
#pragma once

#include "instrumentation/metrics.h"

namespace tyto::forward {

// The metrics above, registered once on a registry and shared by the queue, the storage adapter
// and the sender. Thread-safe (the metrics are).
struct Metrics {
  // Registers every metric on `registry`, which must outlive this object.
  explicit Metrics(instrumentation::Registry* registry);

  // tyto_agent_samples_dropped_total, whose reasons are the three counters below.
  instrumentation::Family<instrumentation::Counter>& dropped;
  instrumentation::Counter& samples_in;
  instrumentation::Counter& samples_sent;
  instrumentation::Counter& dropped_queue_full;
  instrumentation::Counter& dropped_rejected;
  instrumentation::Counter& dropped_corrupt;
  instrumentation::Counter& samples_retried;
  instrumentation::Counter& send_retries;
  instrumentation::Counter& sent_bytes;
  instrumentation::Histogram& send_duration;
  instrumentation::Gauge& queue_bytes;
  instrumentation::Gauge& queue_segments;
  instrumentation::Gauge& queue_samples;
  instrumentation::Gauge& highest_timestamp_in;
  instrumentation::Gauge& highest_sent_timestamp;
  instrumentation::Gauge& shards;
};

}  // namespace tyto::forward
