// Deriver: turns every inference request (events::InferenceEvent, from the events API or from a
// GenAI span) into the quantity metrics of docs/inference.md, before any sampling: request and
// error counts, latency, queue time, time to first token and time per output token as histograms
// with the OpenTelemetry GenAI bucket boundaries, token counts and token-usage histograms, tokens
// per second, concurrency, and token cost from the price table. Series carry the configured
// dimensions (model, model_version, endpoint, tenant by default) and are capped at
// `max_dimension_sets` label sets; requests beyond the cap are counted under "_overflow".
//
// State is kept in memory as cumulative counters (as a client library keeps them) and written to
// the metrics engine on each Flush, timestamped with the flush time; a restart starts the counters
// again from zero, which rate() reads as a counter reset. Latency buckets get exemplars (the
// request's trace and span ids), at most one per bucket and label set per second.
//
// Thread-safe: Observe from any thread; Flush from one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "inference/config.h"
#include "inference/series_writer.h"

namespace tyto::metastore {
class ExemplarStore;
class MetadataStore;
}  // namespace tyto::metastore

namespace tyto::inference {

class Metrics;

// The OpenTelemetry GenAI semantic conventions' advised bucket boundaries.
const std::vector<double>& DurationBuckets();      // gen_ai.server.request.duration, seconds
const std::vector<double>& TtftBuckets();          // gen_ai.server.time_to_first_token, seconds
const std::vector<double>& TpotBuckets();          // gen_ai.server.time_per_output_token, seconds
const std::vector<double>& TokenUsageBuckets();    // gen_ai.client.token.usage, tokens

// TYPE, HELP and UNIT of every series the inference subsystem writes, for /api/v1/metadata.
void RegisterMetadata(metastore::MetadataStore* metadata);

class Deriver {
 public:
  // `exemplars` and `metrics` may be null.
  Deriver(const InferenceConfig& config, metastore::ExemplarStore* exemplars, Metrics* metrics, int64_t now_ms);
  ~Deriver();

  void Observe(const events::InferenceEvent& e, int64_t now_ms) EXCLUDES(mu_);

  // Writes every derived series at `now_ms`; the window gauges (tokens per second, concurrency,
  // cost per 1,000 tokens) cover the time since the last Flush. Label sets idle longer than the
  // idle timeout are dropped first.
  void Flush(int64_t now_ms, SeriesWriter& w) EXCLUDES(mu_);

  // Busy seconds (the sum of request latencies) per (node, model) since the last call: the
  // measured use by which GPU cost is shared among the models on a node.
  std::map<std::pair<std::string, std::string>, double> TakeNodeBusy() EXCLUDES(mu_);

  size_t label_sets() const EXCLUDES(mu_);

 private:
  struct Set;
  Set& FindSet(const events::InferenceEvent& e, int64_t now_ms) REQUIRES(mu_);

  const InferenceConfig config_;
  metastore::ExemplarStore* const exemplars_;
  Metrics* const metrics_;
  std::unordered_map<std::string, const ModelPrice*> prices_;  // into config_.cost.models

  mutable Mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<Set>> sets_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, double> node_busy_ GUARDED_BY(mu_);
  int64_t last_flush_ms_ GUARDED_BY(mu_);
};

}  // namespace tyto::inference
