// Hub: where decoded inference telemetry goes, in this order (docs/ARCHITECTURE.md, "the life of
// an inference event"):
//
//   1. every request (events, and GenAI spans through events::InferencesFromSpans) is counted by
//      the Deriver, pipeline-stage events by the PipelineMonitor, deployments by the
//      DeploymentTracker: metrics see 100% of the traffic;
//   2. sampling decides what is kept (events at once, spans after their trace is quiet);
//   3. what is kept is redacted (prompts, responses, GenAI content attributes, log bodies) and
//      only then handed to the event store: nothing unredacted touches disk.
//
// A thread (`tyto-inference`) decides waiting traces every half second and writes the derived
// series to the metrics engine every flush interval. Thread-safe; the Ingest* calls come from the
// HTTP handlers' threads.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "events/jsonl_decode.h"
#include "events/model.h"
#include "eventstore/telemetry_store.h"
#include "inference/config.h"
#include "inference/deriver.h"
#include "inference/gpu_cost.h"
#include "inference/pipelines.h"
#include "inference/sampler.h"
#include "inference/series_writer.h"
#include "tyto/clock.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::events {
class AccessLogSignals;  // events/access_log.h
}  // namespace tyto::events

namespace tyto::eventstore {
class TelemetryStore;
struct AppendResult;
}  // namespace tyto::eventstore
namespace tyto::redact {
class Redactor;
struct Stats;
}  // namespace tyto::redact
namespace tyto::metastore {
class ExemplarStore;
class MetadataStore;
}  // namespace tyto::metastore

namespace tyto::inference {

class Metrics;

// What else sees every inference request, before sampling and redaction (the quality monitor,
// src/quality/), and writes series in the hub's flush generation.
class InferenceObserver {
 public:
  virtual ~InferenceObserver() = default;
  // Called from the ingest threads, once per batch, with the requests as decoded (unredacted).
  virtual void OnInferences(const std::vector<events::InferenceEvent>& events, int64_t now_ms) = 0;
  // Called from the hub's flush, one at a time.
  virtual void OnFlush(int64_t now_ms, SeriesWriter& w) = 0;
};

struct HubDeps {
  Storage* metrics_storage = nullptr;        // where derived series go (required)
  eventstore::TelemetryStore* store = nullptr;   // where kept items go (required)
  const redact::Redactor* redactor = nullptr;  // null: nothing is redacted (tests only)
  metastore::ExemplarStore* exemplars = nullptr;
  metastore::MetadataStore* metadata = nullptr;
  Metrics* metrics = nullptr;
  Clock* clock = nullptr;  // required
  InferenceObserver* observer = nullptr;
  // Counts the HTTP access logs among ingested logs (tyto_access_log_*); null: not counted.
  events::AccessLogSignals* access_logs = nullptr;
};

class Hub {
 public:
  Hub(const InferenceConfig& config, const HubDeps& deps);
  ~Hub();  // Stop()

  // Reads each model's latest deployment back from the store, then starts the thread.
  void Start();
  // Decides every waiting trace, stores what is kept, writes the series a last time.
  void Stop();

  // `source` (every Ingest*): where the batch came from, passed to the store with what is stored
  // now (eventstore::AppendOptions: a store that keeps it stores a repeated batch once).
  //
  // OTLP spans: their inference events are counted now; the spans wait for their trace's decision
  // (with sampling.rate 1 they are kept and stored now). A failure to store the spans stored now is
  // returned (those decided later are counted and logged).
  Status IngestSpans(std::vector<events::Span> spans, const eventstore::AppendOptions& source = {});
  // JSON-lines events. Kept events and every pipeline and deployment event are stored before this
  // returns; a store failure is counted and returned (the metrics were derived either way).
  Status IngestEvents(events::DecodedEvents events, const eventstore::AppendOptions& source = {});
  // Log records (never sampled), redacted and stored before this returns.
  Status IngestLogs(std::vector<events::LogRecord> logs, const eventstore::AppendOptions& source = {});

  // Runs one round of the thread's work now, as of the clock (for tests with a FakeClock):
  // decides quiet traces, and with `flush` writes the derived series.
  void RunOnce(bool flush);

  // The nodes whose requests served `model` (from events that name their node), most recent last.
  std::vector<std::string> NodesOf(const std::string& model) const;
  const PipelineMonitor& pipelines() const { return pipelines_; }
  const DeploymentTracker& deployments() const { return deployments_; }

 private:
  void Loop();
  // Counts one request in the metrics and remembers its node.
  void Observe(const events::InferenceEvent& e, int64_t now_ms, const char* source);
  void Flush(int64_t now_ms);
  Status StoreSpans(std::vector<events::Span> spans, const eventstore::AppendOptions& source = {});
  std::vector<Gpu> KnownGpus(int64_t now_ms) const;
  void RedactText(std::string* s, redact::Stats* stats) const;
  void CountRedactions(const redact::Stats& stats) const;
  // Counts what the store kept and refused of `n` items of `table`; returns its error.
  Status Account(const Result<eventstore::AppendResult>& r, const char* table, size_t n) const;

  const InferenceConfig config_;
  const HubDeps deps_;
  Deriver deriver_;
  TraceSampler sampler_;
  PipelineMonitor pipelines_;
  DeploymentTracker deployments_;

  Mutex flush_mu_;  // one flush at a time
  SeriesWriter writer_ GUARDED_BY(flush_mu_);
  GpuCost gpu_cost_ GUARDED_BY(flush_mu_);
  int64_t last_flush_ms_ GUARDED_BY(flush_mu_);

  mutable Mutex nodes_mu_;
  std::map<std::string, std::vector<std::string>> model_nodes_ GUARDED_BY(nodes_mu_);

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread thread_;
};

}  // namespace tyto::inference
