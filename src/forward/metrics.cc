#include "forward/metrics.h"

namespace tyto::forward {

Metrics::Metrics(instrumentation::Registry* r)
    : dropped(r->AddCounter("tyto_agent_samples_dropped_total",
                            "Samples that will never be sent: queue_full (the oldest queue segments dropped to make "
                            "room), rejected (a non-retryable response), corrupt (damaged queue records).",
                            {"reason"})),
      samples_in(
          r->AddCounter("tyto_agent_samples_in_total", "Samples committed into the agent's queue.").WithLabels({})),
      samples_sent(
          r->AddCounter("tyto_agent_samples_sent_total", "Samples a remote-write receiver accepted (a 2xx response).")
              .WithLabels({})),
      dropped_queue_full(dropped.WithLabels({"queue_full"})),
      dropped_rejected(dropped.WithLabels({"rejected"})),
      dropped_corrupt(dropped.WithLabels({"corrupt"})),
      samples_retried(r->AddCounter("tyto_agent_samples_retried_total",
                                    "Samples in remote-write requests that were sent again after a retryable failure.")
                          .WithLabels({})),
      send_retries(
          r->AddCounter("tyto_agent_send_retries_total",
                        "Remote-write requests sent again after a 5xx, a 429, a timeout or a connection error.")
              .WithLabels({})),
      sent_bytes(r->AddCounter("tyto_agent_sent_bytes_total", "Compressed remote-write request bodies sent, in bytes.")
                     .WithLabels({})),
      send_duration(r->AddHistogram("tyto_agent_send_duration_seconds",
                                    "Time from sending a remote-write request to its response or failure.", {},
                                    instrumentation::DefaultLatencyBuckets())
                        .WithLabels({})),
      queue_bytes(r->AddGauge("tyto_agent_queue_bytes", "Bytes of the agent queue's segment files.").WithLabels({})),
      queue_segments(r->AddGauge("tyto_agent_queue_segments", "Segment files in the agent's queue.").WithLabels({})),
      queue_samples(r->AddGauge("tyto_agent_queue_samples", "Samples in the agent's queue not yet read by the sender.")
                        .WithLabels({})),
      highest_timestamp_in(r->AddGauge("tyto_agent_highest_timestamp_in_seconds",
                                       "Timestamp of the newest sample committed into the agent's queue.")
                               .WithLabels({})),
      highest_sent_timestamp(r->AddGauge("tyto_agent_queue_highest_sent_timestamp_seconds",
                                         "Timestamp of the newest sample a remote-write receiver accepted.")
                                 .WithLabels({})),
      shards(r->AddGauge("tyto_agent_shards", "Remote-write requests the agent sends in parallel.").WithLabels({})) {}

}  // namespace tyto::forward
