// The forwarding path's own metrics, named after Prometheus's remote-write metrics
// (prometheus_remote_storage_*) where one exists. Two sets share the names after the prefix:
//   tyto_agent_*           `tyto agent`: one queue and one receiver, no labels but `reason`
//   tyto_remote_storage_*  a server's remote_write destinations (src/remote): every series also
//                          labelled remote_name and url, one set per destination
//
//   <prefix>samples_in_total                       counter  samples committed into the queue
//   <prefix>samples_sent_total                     counter  samples a receiver accepted (2xx)
//   <prefix>samples_dropped_total{reason}          counter  samples that will never be sent:
//       queue_full   in the oldest segments, dropped to make room (DiskQueueOptions.max_bytes)
//       rejected     refused by the receiver with a non-retryable status (4xx other than 429)
//       corrupt      in queue records that failed their checksum or could not be decoded
//       write_failed (destinations only) a commit that could not be written into the queue
//                    (disk full, I/O error); the server's own storage has them
//   <prefix>samples_retried_total                  counter  samples in requests sent again
//   <prefix>send_retries_total                     counter  requests sent again (5xx, 429,
//                                                           connection errors, timeouts)
//   <prefix>sent_bytes_total                       counter  compressed request bodies sent
//   <prefix>send_duration_seconds                  histogram one request, send to response
//   <prefix>queue_bytes                            gauge    bytes of the queue's segment files
//   <prefix>queue_segments                         gauge    segment files in the queue
//   <prefix>queue_samples                          gauge    samples in the queue not yet read
//                                                           by the sender
//   <prefix>highest_timestamp_in_seconds           gauge    newest sample timestamp committed
//   <prefix>queue_highest_sent_timestamp_seconds   gauge    newest sample timestamp a receiver
//                                                           accepted
//   <prefix>shards                                 gauge    requests sent in parallel
//
// How far behind a queue is: highest_timestamp_in_seconds - queue_highest_sent_timestamp_seconds
// (Prometheus's remote-write dashboards compute the same difference).
#pragma once

#include <memory>
#include <string_view>

#include "instrumentation/metrics.h"

namespace tyto::forward {

// The families above, registered once on a registry. Thread-safe.
struct MetricFamilies {
  // tyto_agent_*, labelled by `reason` only (samples_dropped_total).
  static std::unique_ptr<MetricFamilies> ForAgent(instrumentation::Registry* registry);
  // tyto_remote_storage_*, every series labelled remote_name and url (after `reason`).
  static std::unique_ptr<MetricFamilies> ForDestinations(instrumentation::Registry* registry);

  bool per_destination;
  instrumentation::Family<instrumentation::Counter>& samples_in;
  instrumentation::Family<instrumentation::Counter>& samples_sent;
  instrumentation::Family<instrumentation::Counter>& dropped;
  instrumentation::Family<instrumentation::Counter>& samples_retried;
  instrumentation::Family<instrumentation::Counter>& send_retries;
  instrumentation::Family<instrumentation::Counter>& sent_bytes;
  instrumentation::Family<instrumentation::Histogram>& send_duration;
  instrumentation::Family<instrumentation::Gauge>& queue_bytes;
  instrumentation::Family<instrumentation::Gauge>& queue_segments;
  instrumentation::Family<instrumentation::Gauge>& queue_samples;
  instrumentation::Family<instrumentation::Gauge>& highest_timestamp_in;
  instrumentation::Family<instrumentation::Gauge>& highest_sent_timestamp;
  instrumentation::Family<instrumentation::Gauge>& shards;
};

// One queue's and sender's series, shared by the queue, the storage adapter and the sender.
// Thread-safe (the metrics are).
struct Metrics {
  // The agent's: registers tyto_agent_* on `registry`, which must outlive this object.
  explicit Metrics(instrumentation::Registry* registry);
  // One destination's series of `families` (from ForDestinations, which must outlive this).
  Metrics(MetricFamilies& families, std::string_view remote_name, std::string_view url);

 private:
  Metrics(std::unique_ptr<MetricFamilies> own, MetricFamilies* families, std::string_view remote_name,
          std::string_view url);
  std::unique_ptr<MetricFamilies> own_families_;  // the agent's; first, so it is built first
  MetricFamilies& families_;                      // *own_families_ or the destinations'

 public:
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
