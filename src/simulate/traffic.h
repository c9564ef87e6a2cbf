// Simulated inference traffic: the requests the fleet's vLLM replicas serve, as the telemetry a
// gateway and instrumented model servers would send an observability backend. For demos and
// tests of Tyto's OTLP traces and logs receivers and its events API. Spans and logs are labelled
// as simulated (resource attributes tyto.simulated=true, deployment.environment.name=simulated);
// the events API has no field for it, so events name the simulated fleet's nodes and services,
// and the deployment's `who` and `note` say "simulated".
//
// One request through the fleet:
//   gateway (service "gateway", hosts gateway-0 and gateway-1)
//     SERVER span "POST /v1/chat/completions" with HTTP attributes
//       └─ model server (service "vllm-<node>-<replica>", e.g. "vllm-gpu-node-000-0")
//            SERVER span "chat meta-llama/Llama-3.1-70B-Instruct" with the OpenTelemetry GenAI
//            attributes (gen_ai.*), Tyto's dimensions (tyto.model.version, tyto.endpoint,
//            tyto.tenant, tyto.queue_time) and, for a sample, gen_ai.input.messages and
//            gen_ai.output.messages from the corpus (corpus.h)
//   and one log record per request from the model server (INFO; WARN or ERROR when it failed).
// The replicas of every second vLLM node (node index / 3 odd: node 3 on the default fleet) run
// without OpenTelemetry: they report each request as a JSON-lines inference event
// (POST /api/v1/events) instead of a span and a log, carrying the gateway's trace id; some events
// carry request-level `features` and a prompt `embedding`. The gateway traces every request either
// way, and calls two classifiers for a share of them (intent-router and escalation-classifier,
// traffic_models.h), which report JSON-lines inference events with features, a prediction and an
// embedding. The LLM's answers are mostly good, sometimes not (refusals, irrelevant, truncated,
// empty, looping, in the wrong language, broken JSON on the structured-output endpoint
// /v1/extract).
//
// Ground truth comes later (POST /api/v1/feedback): for a share of the classifiers' predictions
// their true label, and for a share of the LLM's chat answers a user's rating, each after a delay
// drawn between TrafficOptions::feedback_delay_min and _max. A generator keeps the feedback not yet
// due (at most max_pending_feedback of it) and reports it in the tick it falls due.
//
// Driven by the fleet's own model: the generator steps twins of the vLLM nodes' NodeModels (same
// seed, same context, so the same states the /metrics pages show) and draws each tick's requests
// from what the tick served, scaled so that the fleet's vLLM replicas together send
// `requests_per_second` at the daily mean. So the diurnal cycle and the scenario's incidents show
// up as they do in the metrics: a traffic_change raises the request rate, latency_increase and
// queue_buildup lengthen time to first token and queueing, a replica_down fails the requests in
// flight (EngineDeadError), then the gateway's requests to it (503) until its health check takes it
// out of the pool, and the replica restarts; a data_drift shifts a model's features and embeddings,
// a quality_drop makes its answers and predictions worse and its ratings lower. Occasional events:
// a deployment of a new model version at the first tick, and a nightly data pipeline run (90 s
// after the start, then daily at 02:00 UTC). docs/simulate.md describes all of it.
//
// Deterministic: the same seed, scenario and first tick give the same records, byte for byte.
// Not thread-safe: one thread generates.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tyto::simulate {

struct FleetContext;
class NodeModel;
class Random;
struct RequestDraws;
struct RequestFacts;

struct TrafficOptions {
  // Requests per second over all the fleet's vLLM replicas at the daily mean (before the diurnal
  // cycle, noise and incidents). 20 keeps the sender's and a receiver's CPU low.
  double requests_per_second = 20;
  // The share of requests carrying their prompt and response (corpus.h).
  double content_share = 0.1;
  // The share of inference events (from the nodes without OpenTelemetry) carrying request-level
  // `features`.
  double features_share = 0.5;
  // The share of requests each of the gateway's classifiers (intent-router, escalation-classifier)
  // reports as an inference event with `features` and `prediction`.
  double classifier_share = 0.5;
  // The share of the events that can carry one (the classifiers', and the LLM's from the nodes
  // without OpenTelemetry) carrying the prompt's `embedding`, of `embedding_dims` numbers.
  double embedding_share = 0.5;
  int embedding_dims = 16;
  // The share of the classifiers' predictions whose true label comes back (POST /api/v1/feedback).
  double feedback_share = 0.3;
  // The share of the LLM's successful chat answers that users rate (1 to 5), also as feedback.
  double rating_share = 0.1;
  // How long after its request feedback comes: log-uniform between these (inclusive). The demo's
  // defaults let a newcomer see it; real labels take minutes to hours.
  std::chrono::milliseconds feedback_delay_min{20'000};
  std::chrono::milliseconds feedback_delay_max{120'000};
  // Feedback not yet due is kept in memory; beyond this many items, new feedback is not scheduled
  // (counted in TrafficGenerator::feedback_not_scheduled).
  size_t max_pending_feedback = 100'000;
};

// An OTLP AnyValue of the kinds the traffic uses.
using AttributeValue = std::variant<std::string, bool, int64_t, double, std::vector<std::string>>;

struct KeyValue {
  std::string key;
  AttributeValue value;
};

// An OTLP resource: the service that sends a span or log record.
struct Resource {
  std::string service;  // service.name, also among the attributes
  std::vector<KeyValue> attributes;
};

// OTLP's Span.SpanKind and Status.StatusCode values.
inline constexpr int kSpanKindServer = 2;
inline constexpr int kStatusUnset = 0;
inline constexpr int kStatusError = 2;
// OTLP's SeverityNumber for INFO, WARN and ERROR.
inline constexpr int kSeverityInfo = 9;
inline constexpr int kSeverityWarn = 13;
inline constexpr int kSeverityError = 17;

struct SpanEventRecord {
  int64_t time_unix_nano = 0;
  std::string name;
  std::vector<KeyValue> attributes;
};

struct SpanRecord {
  size_t resource = 0;         // index into TrafficGenerator::resources()
  std::string trace_id;        // 32 lowercase hex digits
  std::string span_id;         // 16 lowercase hex digits
  std::string parent_span_id;  // empty for a root span
  std::string name;
  int kind = kSpanKindServer;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  int status_code = kStatusUnset;
  std::string status_message;
  std::vector<KeyValue> attributes;
  std::vector<SpanEventRecord> events;
};

struct LogRecordOut {
  size_t resource = 0;  // index into TrafficGenerator::resources()
  int64_t time_unix_nano = 0;
  int severity_number = kSeverityInfo;
  std::string severity_text;  // "INFO", "WARN", "ERROR"
  std::string body;
  std::string trace_id;  // empty when not about one request
  std::string span_id;
  std::vector<KeyValue> attributes;
};

// A named feature or prediction value: a number, or a category when `is_number` is false.
struct FieldValue {
  std::string name;
  bool is_number = true;
  double number = 0;
  std::string text;
};

// One request as a server without OpenTelemetry reports it (POST /api/v1/events, type
// "inference"; docs/events-api.md). Durations in milliseconds; ttft_ms is negative when no token
// came.
struct InferenceRecord {
  int64_t end_unix_nano = 0;
  std::string request_id;
  std::string model;
  std::string model_version;
  std::string endpoint;
  std::string tenant;
  std::string service;    // "vllm-gpu-node-003-0"
  std::string provider;   // "vllm"
  std::string operation;  // "chat", "text_completion"
  std::string conversation_id;
  int http_status = 200;  // sent as `status`: 400 and above are errors
  bool ok = true;
  std::string error_type;  // empty when ok
  double latency_ms = 0;
  double queue_ms = 0;
  double ttft_ms = -1;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::string finish_reason;  // "stop", "length"; empty when it failed
  std::string trace_id;       // the gateway's trace
  std::string span_id;        // the gateway's server span (the caller)
  std::string node;
  std::string prompt;                // empty unless sampled for content
  std::string response;              // sent (even empty) when the prompt is and the request succeeded
  std::vector<FieldValue> features;  // empty unless sampled
  std::vector<FieldValue> prediction;
  std::vector<double> embedding;  // empty unless sampled
};

// Ground truth for an earlier request (POST /api/v1/feedback): its true label, a user's rating, or
// both, and sometimes a corrected answer.
struct FeedbackRecord {
  int64_t time_unix_nano = 0;  // when it was given: the gateway's answer plus the delay
  std::string request_id;      // the inference event's request_id (or span's gen_ai.response.id)
  std::string model;
  std::string label;              // the true class; empty: none
  int rating = 0;                 // 1 to 5; 0: none
  std::string correction;         // empty: none
  int64_t request_unix_nano = 0;  // the time of the event it is about (not sent)
};

// One stage of one run of a data pipeline (type "pipeline_stage").
struct PipelineStageRecord {
  std::string pipeline;
  std::string stage;
  std::string run_id;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t rows_rejected = 0;
  std::vector<std::pair<std::string, std::string>> fields;  // output field name -> type
  bool ok = true;
  std::string error;
};

// A model version going live (type "deployment").
struct DeploymentRecord {
  int64_t time_unix_nano = 0;
  std::string model;
  std::string version;
  std::string previous_version;
  std::string action;  // "deploy"
  std::string who;
  std::string note;
};

// What some ticks of traffic produced.
struct TrafficBatch {
  std::vector<SpanRecord> spans;
  std::vector<LogRecordOut> logs;
  std::vector<InferenceRecord> inferences;
  std::vector<PipelineStageRecord> pipeline_stages;
  std::vector<DeploymentRecord> deployments;
  std::vector<FeedbackRecord> feedback;  // a separate request: not among the events

  void Clear();
  bool empty() const;
  size_t event_count() const { return inferences.size() + pipeline_stages.size() + deployments.size(); }
};

// The model version the simulated vLLM replicas serve, and the one the start's deployment
// replaces.
inline constexpr std::string_view kModelVersion = "v14";
inline constexpr std::string_view kPreviousModelVersion = "v13";

class TrafficGenerator {
 public:
  // Generates for the fleet described by `ctx` (which must outlive the generator). The first
  // Generate call may name any tick; later ones must name later ticks.
  TrafficGenerator(const FleetContext* ctx, TrafficOptions options);
  ~TrafficGenerator();
  TrafficGenerator(const TrafficGenerator&) = delete;
  TrafficGenerator& operator=(const TrafficGenerator&) = delete;

  // Appends to *out what happened in tick `tick`: the interval (start + (tick-1) x tick,
  // start + tick x tick] of the fleet's clock. Requests are reported when they end, so every
  // record's times lie at or before the tick's end. Feedback falls due in a tick after its
  // request's (feedback due during skipped ticks comes with the next generated one). A tick not
  // after the last one generated appends nothing.
  void Generate(int64_t tick, TrafficBatch* out);

  // Every resource a record can name, by index: the gateways, then one per reporting replica.
  const std::vector<Resource>& resources() const { return resources_; }
  // Generated requests per request the fleet's vLLM replicas serve.
  double scale() const { return scale_; }
  // The model-server service name of a replica, e.g. "vllm-gpu-node-000-0".
  static std::string ServiceName(const std::string& hostname, int replica);
  // Whether node `node`'s replicas report through the events API rather than OTLP.
  static bool ReportsEvents(int node);

  // Feedback scheduled and not yet due.
  size_t feedback_pending() const { return pending_feedback_.size(); }
  // Feedback not scheduled because max_pending_feedback items were waiting.
  uint64_t feedback_not_scheduled() const { return feedback_not_scheduled_; }

 private:
  struct Replica;
  struct Twin;
  struct Request;

  struct Conditions;

  void GenerateReplica(Replica& rr, Twin& twin, int64_t tick, TrafficBatch* out);
  void Emit(const Replica& rr, const Twin& twin, const Request& q, TrafficBatch* out);
  // The gateway's classifier calls for request `q` (traffic_models.h), as inference events.
  void EmitClassifiers(const Request& q, Random& rng, const RequestFacts& facts, const RequestDraws& draws,
                       TrafficBatch* out);
  // Schedules feedback `f` a delay after `from_ns`: when the gateway answered the request (its
  // tick's records are all reported by then).
  void ScheduleFeedback(FeedbackRecord f, int64_t from_ns, Random& rng);
  // Moves the feedback due by `until_ns` into *out.
  void TakeDueFeedback(int64_t until_ns, TrafficBatch* out);
  void GeneratePipeline(int64_t tick, TrafficBatch* out);
  // Whether the model servers log their engine statistics at the end of the tick ending then.
  bool StatsDue(int64_t tick_end_ms) const;

  const FleetContext* ctx_;
  const TrafficOptions options_;
  double scale_ = 0;
  int64_t last_tick_ = -1;
  bool deployed_ = false;
  std::vector<Resource> resources_;
  std::vector<std::unique_ptr<Twin>> twins_;
  std::vector<Replica> replicas_;
  // What the scenario does to each of TrafficModels() during the tick being generated.
  std::unique_ptr<Conditions> conditions_;
  // Feedback not yet due, by (due time in ns, order scheduled).
  std::map<std::pair<int64_t, uint64_t>, FeedbackRecord> pending_feedback_;
  uint64_t feedback_scheduled_ = 0;
  uint64_t feedback_not_scheduled_ = 0;
};

}  // namespace tyto::simulate
