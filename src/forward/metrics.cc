#include "forward/metrics.h"

#include <string>
#include <vector>

namespace tyto::forward {
namespace {

std::unique_ptr<MetricFamilies> Register(instrumentation::Registry* r, bool per_destination) {
  const std::string p = per_destination ? "tyto_remote_storage_" : "tyto_agent_";
  // The agent's queue, or each remote_write destination's.
  const std::string queue = per_destination ? "a remote_write destination's queue" : "the agent's queue";
  const std::vector<std::string> labels =
      per_destination ? std::vector<std::string>{"remote_name", "url"} : std::vector<std::string>{};
  std::vector<std::string> reason_labels = {"reason"};
  reason_labels.insert(reason_labels.end(), labels.begin(), labels.end());
  return std::unique_ptr<MetricFamilies>(new MetricFamilies{
      per_destination,
      r->AddCounter(p + "samples_in_total", "Samples committed into " + queue + ".", labels),
      r->AddCounter(p + "samples_sent_total", "Samples a remote-write receiver accepted (a 2xx response).", labels),
      r->AddCounter(p + "samples_dropped_total",
                    "Samples that will never be sent: queue_full (the oldest queue segments dropped to make room), "
                    "rejected (a non-retryable response), corrupt (damaged queue records)" +
                        std::string(per_destination ? ", write_failed (a commit the queue could not write)." : "."),
                    reason_labels),
      r->AddCounter(p + "samples_retried_total",
                    "Samples in remote-write requests that were sent again after a retryable failure.", labels),
      r->AddCounter(p + "send_retries_total",
                    "Remote-write requests sent again after a 5xx, a 429, a timeout or a connection error.", labels),
      r->AddCounter(p + "sent_bytes_total", "Compressed remote-write request bodies sent, in bytes.", labels),
      r->AddHistogram(p + "send_duration_seconds", "Time from sending a remote-write request to its response or failure.",
                      labels, instrumentation::DefaultLatencyBuckets()),
      r->AddGauge(p + "queue_bytes", "Bytes of the segment files of " + queue + ".", labels),
      r->AddGauge(p + "queue_segments", "Segment files in " + queue + ".", labels),
      r->AddGauge(p + "queue_samples", "Samples in " + queue + " not yet read by the sender.", labels),
      r->AddGauge(p + "highest_timestamp_in_seconds", "Timestamp of the newest sample committed into " + queue + ".",
                  labels),
      r->AddGauge(p + "queue_highest_sent_timestamp_seconds",
                  "Timestamp of the newest sample a remote-write receiver accepted.", labels),
      r->AddGauge(p + "shards", "Remote-write requests sent in parallel.", labels)});
}

template <typename M>
M& Series(const MetricFamilies& f, instrumentation::Family<M>& family, std::string_view name, std::string_view url) {
  return f.per_destination ? family.WithLabels({name, url}) : family.WithLabels({});
}

instrumentation::Counter& Dropped(const MetricFamilies& f, std::string_view reason, std::string_view name,
                                  std::string_view url) {
  return f.per_destination ? f.dropped.WithLabels({reason, name, url}) : f.dropped.WithLabels({reason});
}

}  // namespace

std::unique_ptr<MetricFamilies> MetricFamilies::ForAgent(instrumentation::Registry* registry) {
  return Register(registry, false);
}

std::unique_ptr<MetricFamilies> MetricFamilies::ForDestinations(instrumentation::Registry* registry) {
  return Register(registry, true);
}

Metrics::Metrics(instrumentation::Registry* registry) : Metrics(MetricFamilies::ForAgent(registry), nullptr, "", "") {}

Metrics::Metrics(MetricFamilies& families, std::string_view remote_name, std::string_view url)
    : Metrics(nullptr, &families, remote_name, url) {}

// `families` is null when `own` holds them (own_families_ and families_ are initialised first).
Metrics::Metrics(std::unique_ptr<MetricFamilies> own, MetricFamilies* families, std::string_view n,
                 std::string_view u)
    : own_families_(std::move(own)),
      families_(families != nullptr ? *families : *own_families_),
      samples_in(Series(families_, families_.samples_in, n, u)),
      samples_sent(Series(families_, families_.samples_sent, n, u)),
      dropped_queue_full(Dropped(families_, "queue_full", n, u)),
      dropped_rejected(Dropped(families_, "rejected", n, u)),
      dropped_corrupt(Dropped(families_, "corrupt", n, u)),
      samples_retried(Series(families_, families_.samples_retried, n, u)),
      send_retries(Series(families_, families_.send_retries, n, u)),
      sent_bytes(Series(families_, families_.sent_bytes, n, u)),
      send_duration(Series(families_, families_.send_duration, n, u)),
      queue_bytes(Series(families_, families_.queue_bytes, n, u)),
      queue_segments(Series(families_, families_.queue_segments, n, u)),
      queue_samples(Series(families_, families_.queue_samples, n, u)),
      highest_timestamp_in(Series(families_, families_.highest_timestamp_in, n, u)),
      highest_sent_timestamp(Series(families_, families_.highest_sent_timestamp, n, u)),
      shards(Series(families_, families_.shards, n, u)) {}

}  // namespace tyto::forward
