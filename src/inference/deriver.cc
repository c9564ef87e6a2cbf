#include "inference/deriver.h"

#include <algorithm>
#include <cmath>

#include "eventstore/telemetry_store.h"
#include "inference/metrics.h"
#include "metastore/metastore.h"
#include "tenant/tenant_storage.h"

namespace tyto::inference {

namespace {

constexpr std::string_view kOverflow = "_overflow";
// error.type's value when a request failed without saying how (the GenAI conventions' fallback).
constexpr std::string_view kOtherError = "_OTHER";
// Distinct error types kept per label set; more are counted as _OTHER.
constexpr size_t kMaxErrorTypes = 32;

constexpr std::string_view kDuration = "gen_ai_server_request_duration_seconds";
constexpr std::string_view kTtft = "gen_ai_server_time_to_first_token_seconds";
constexpr std::string_view kTpot = "gen_ai_server_time_per_output_token_seconds";
constexpr std::string_view kTokenUsage = "gen_ai_client_token_usage";
constexpr std::string_view kQueue = "tyto_inference_queue_duration_seconds";

// The label each dimension writes.
std::string_view DimensionLabel(std::string_view dim) {
  if (dim == "operation") return "gen_ai_operation_name";
  if (dim == "provider") return "gen_ai_provider_name";
  return dim;
}

const std::string& DimensionValue(const events::InferenceEvent& e, std::string_view dim) {
  if (dim == "model") return e.model;
  if (dim == "model_version") return e.model_version;
  if (dim == "endpoint") return e.endpoint;
  if (dim == "tenant") return e.tenant;
  if (dim == "service") return e.service;
  if (dim == "node") return e.node;
  if (dim == "operation") return e.operation;
  return e.provider;
}

Labels WithName(const Labels& base, std::string_view name) {
  LabelsBuilder b(base);
  b.Set(kMetricNameLabel, name);
  return b.Build();
}

Labels WithNameAnd(const Labels& base, std::string_view name, std::string_view label, std::string_view value) {
  LabelsBuilder b(base);
  b.Set(kMetricNameLabel, name);
  b.Set(label, value);
  return b.Build();
}

}  // namespace

const std::vector<double>& DurationBuckets() {
  static const std::vector<double> b = {0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64,
                                        1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92};
  return b;
}
const std::vector<double>& TtftBuckets() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                        0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
  return b;
}
const std::vector<double>& TpotBuckets() {
  static const std::vector<double> b = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5};
  return b;
}
const std::vector<double>& TokenUsageBuckets() {
  static const std::vector<double> b = {1,      4,       16,      64,       256,      1024,     4096,
                                        16384,  65536,   262144,  1048576,  4194304,  16777216, 67108864};
  return b;
}

void RegisterMetadata(metastore::MetadataStore* m) {
  if (m == nullptr) return;
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    const char* unit;
  };
  static const Row rows[] = {
      {"gen_ai_server_request_duration_seconds", "histogram",
       "Inference request duration, by the configured dimensions and error_type on failure.", "seconds"},
      {"gen_ai_server_time_to_first_token_seconds", "histogram", "Time to the first output token of successful requests.",
       "seconds"},
      {"gen_ai_server_time_per_output_token_seconds", "histogram",
       "Time per output token after the first, of successful requests.", "seconds"},
      {"gen_ai_client_token_usage", "histogram", "Tokens per request, by gen_ai_token_type (input, output).", ""},
      {"tyto_inference_queue_duration_seconds", "histogram", "Time requests waited in the server's queue.", "seconds"},
      {"tyto_inference_requests_total", "counter", "Inference requests, by status (ok, error).", ""},
      {"tyto_inference_errors_total", "counter", "Failed inference requests, by error_type.", ""},
      {"tyto_inference_tokens_total", "counter", "Tokens processed, by gen_ai_token_type (input, output).", ""},
      {"tyto_inference_tokens_per_second", "gauge", "Tokens per second over the last flush interval.", ""},
      {"tyto_inference_concurrency", "gauge",
       "Mean requests in flight over the last flush interval (busy seconds / interval).", ""},
      {"tyto_inference_cost_total", "counter", "Token cost of requests, by cost_type (input, output) and currency.",
       ""},
      {"tyto_inference_cost_per_1k_tokens", "gauge", "Token cost per 1,000 tokens over the last flush interval.", ""},
      {"tyto_inference_gpu_cost_total", "counter",
       "GPU cost attributed to models by their busy time on each node (model=\"_idle\": unused GPU time).", ""},
      {"tyto_pipeline_stage_duration_seconds", "histogram", "Duration of data-pipeline stage runs.", "seconds"},
      {"tyto_pipeline_stage_runs_total", "counter", "Data-pipeline stage runs, by status (success, failed).", ""},
      {"tyto_pipeline_stage_rows_total", "counter", "Rows through data-pipeline stages, by kind (in, out, rejected).",
       ""},
      {"tyto_pipeline_stage_last_run_rows_per_second", "gauge", "Output rows per second of a stage's last run.", ""},
      {"tyto_pipeline_stage_last_run_rejected_ratio", "gauge", "Share of input rows a stage's last run rejected.", ""},
      {"tyto_pipeline_stage_last_success_timestamp_seconds", "gauge", "When a stage's last successful run ended.",
       "seconds"},
      {"tyto_pipeline_stage_freshness_seconds", "gauge", "Seconds since a stage's last successful run ended.",
       "seconds"},
      {"tyto_pipeline_schema_mismatches_total", "counter",
       "Stage runs whose fields differ from the registered schema, by kind (missing, extra, retyped).", ""},
      {"tyto_model_deployment_info", "gauge", "The deployed version of each model (value 1), from deployment events.",
       ""},
      {"tyto_model_deployment_timestamp_seconds", "gauge", "When each model's current version was deployed.",
       "seconds"},
  };
  for (const Row& r : rows) m->Update(r.name, {r.type, r.help, r.unit});
}

// One label set's state.
struct Deriver::Set {
  Labels base;  // the dimension labels, no name
  int64_t last_seen_ms = 0;
  const ModelPrice* price = nullptr;
  HistogramState duration_ok;
  struct ErrorState {
    uint64_t count = 0;
    HistogramState duration;
  };
  std::map<std::string, ErrorState> errors;
  HistogramState ttft, tpot, queue, input_usage, output_usage;
  uint64_t ok = 0;
  double input_tokens = 0, output_tokens = 0;
  double input_cost = 0, output_cost = 0;
  // Since the last flush.
  double window_busy_s = 0, window_input = 0, window_output = 0, window_cost = 0;
  // Last exemplar per latency bucket (ok), to keep at most one a second.
  std::vector<int64_t> last_exemplar_ms;
};

Deriver::Deriver(const InferenceConfig& config, metastore::ExemplarStore* exemplars, Metrics* metrics, int64_t now_ms)
    : config_(config), exemplars_(exemplars), metrics_(metrics), last_flush_ms_(now_ms) {
  for (const ModelPrice& p : config_.cost.models) prices_.emplace(p.model, &p);
}

Deriver::~Deriver() = default;

Deriver::Set& Deriver::FindSet(const events::InferenceEvent& e, int64_t now_ms) {
  // A request of a tenant other than the default counts in that tenant's series: the label its
  // metrics view adds and reads (tenant/tenant_storage.h), in the key too, overflow included.
  const std::string_view org = eventstore::OrgOf(e.org) == eventstore::kDefaultOrg ? "" : std::string_view(e.org);
  std::string key(org);
  key += '\xff';
  for (const std::string& dim : config_.dimensions) {
    key += DimensionValue(e, dim);
    key += '\xff';
  }
  auto it = sets_.find(key);
  if (it == sets_.end()) {
    bool overflow = sets_.size() >= static_cast<size_t>(config_.max_dimension_sets);
    if (overflow) {
      if (metrics_ != nullptr) metrics_->dimension_overflow.Inc();
      key.assign(org);
      key += '\xff';
      for (size_t i = 0; i < config_.dimensions.size(); ++i) {
        key += kOverflow;
        key += '\xff';
      }
      it = sets_.find(key);
    }
    if (it == sets_.end()) {
      auto set = std::make_unique<Set>();
      LabelsBuilder b;
      for (const std::string& dim : config_.dimensions) {
        b.Set(DimensionLabel(dim), overflow ? std::string(kOverflow) : DimensionValue(e, dim));
      }
      if (!org.empty()) b.Set(tenant::kTenantLabel, org);
      set->base = b.Build();
      if (!overflow) {
        auto p = prices_.find(e.model);
        if (p != prices_.end()) set->price = p->second;
      }
      set->last_exemplar_ms.assign(DurationBuckets().size() + 1, 0);
      it = sets_.emplace(std::move(key), std::move(set)).first;
      if (metrics_ != nullptr) metrics_->dimension_sets.Set(static_cast<double>(sets_.size()));
    }
  }
  it->second->last_seen_ms = now_ms;
  return *it->second;
}

void Deriver::Observe(const events::InferenceEvent& e, int64_t now_ms) {
  MutexLock lock(&mu_);
  Set& s = FindSet(e, now_ms);
  const bool has_latency = std::isfinite(e.latency_s) && e.latency_s >= 0;
  if (e.error) {
    std::string type = e.error_type.empty() ? std::string(kOtherError) : e.error_type;
    if (s.errors.size() >= kMaxErrorTypes && s.errors.find(type) == s.errors.end()) type = kOtherError;
    Set::ErrorState& err = s.errors[type];
    ++err.count;
    if (has_latency) err.duration.Observe(DurationBuckets(), e.latency_s);
  } else {
    ++s.ok;
    if (has_latency) {
      s.duration_ok.Observe(DurationBuckets(), e.latency_s);
      if (exemplars_ != nullptr && !e.trace_id.empty()) {
        size_t bucket = HistogramState::Bucket(DurationBuckets(), e.latency_s);
        if (now_ms - s.last_exemplar_ms[bucket] >= 1000) {
          s.last_exemplar_ms[bucket] = now_ms;
          LabelsBuilder b(s.base);
          b.Set(kMetricNameLabel, std::string(kDuration) + "_bucket");
          b.Set("le", bucket < DurationBuckets().size() ? FormatLe(DurationBuckets()[bucket]) : "+Inf");
          LabelsBuilder ex;
          ex.Set("trace_id", e.trace_id);
          ex.Set("span_id", e.span_id);
          exemplars_->Add(b.Build(), {ex.Build(), e.latency_s, e.timestamp_ms != 0 ? e.timestamp_ms : now_ms});
        }
      }
    }
    if (std::isfinite(e.ttft_s) && e.ttft_s >= 0) {
      s.ttft.Observe(TtftBuckets(), e.ttft_s);
      if (has_latency && e.output_tokens > 1 && e.latency_s >= e.ttft_s) {
        s.tpot.Observe(TpotBuckets(), (e.latency_s - e.ttft_s) / static_cast<double>(e.output_tokens - 1));
      }
    }
  }
  if (std::isfinite(e.queue_s) && e.queue_s >= 0) s.queue.Observe(DurationBuckets(), e.queue_s);
  if (e.input_tokens >= 0) {
    const double n = static_cast<double>(e.input_tokens);
    s.input_usage.Observe(TokenUsageBuckets(), n);
    s.input_tokens += n;
    s.window_input += n;
    if (s.price != nullptr) {
      double c = n / 1000 * s.price->input_per_1k_tokens;
      s.input_cost += c;
      s.window_cost += c;
    }
  }
  if (e.output_tokens >= 0) {
    const double n = static_cast<double>(e.output_tokens);
    s.output_usage.Observe(TokenUsageBuckets(), n);
    s.output_tokens += n;
    s.window_output += n;
    if (s.price != nullptr) {
      double c = n / 1000 * s.price->output_per_1k_tokens;
      s.output_cost += c;
      s.window_cost += c;
    }
  }
  if (has_latency) {
    s.window_busy_s += e.latency_s;
    if (!e.node.empty()) node_busy_[{e.node, e.model}] += e.latency_s;
  }
}

void Deriver::Flush(int64_t now_ms, SeriesWriter& w) {
  MutexLock lock(&mu_);
  const double window_s = std::max<double>(static_cast<double>(now_ms - last_flush_ms_) / 1000, 1e-3);
  last_flush_ms_ = now_ms;
  const std::string& currency = config_.cost.currency;
  for (auto it = sets_.begin(); it != sets_.end();) {
    if (now_ms - it->second->last_seen_ms > config_.idle_timeout.count()) {
      it = sets_.erase(it);
      continue;
    }
    Set& s = *it->second;
    ++it;
    const Labels& base = s.base;
    s.duration_ok.Write(w, kDuration, DurationBuckets(), base);
    uint64_t errors = 0;
    for (const auto& [type, err] : s.errors) {
      errors += err.count;
      LabelsBuilder eb(base);
      eb.Set("error_type", type);
      Labels with_type = eb.Build();
      if (err.duration.count > 0) err.duration.Write(w, kDuration, DurationBuckets(), with_type);
      w.Write(WithName(with_type, "tyto_inference_errors_total"), static_cast<double>(err.count));
    }
    if (s.ttft.count > 0) s.ttft.Write(w, kTtft, TtftBuckets(), base);
    if (s.tpot.count > 0) s.tpot.Write(w, kTpot, TpotBuckets(), base);
    if (s.queue.count > 0) s.queue.Write(w, kQueue, DurationBuckets(), base);
    w.Write(WithNameAnd(base, "tyto_inference_requests_total", "status", "ok"), static_cast<double>(s.ok));
    w.Write(WithNameAnd(base, "tyto_inference_requests_total", "status", "error"), static_cast<double>(errors));
    w.Write(WithName(base, "tyto_inference_concurrency"), s.window_busy_s / window_s);
    struct TokenKind {
      const char* name;
      const HistogramState& usage;
      double total;
      double window;
      double cost;
    };
    for (const TokenKind& k : {TokenKind{"input", s.input_usage, s.input_tokens, s.window_input, s.input_cost},
                               TokenKind{"output", s.output_usage, s.output_tokens, s.window_output, s.output_cost}}) {
      if (k.usage.count == 0) continue;
      LabelsBuilder tb(base);
      tb.Set("gen_ai_token_type", k.name);
      Labels typed = tb.Build();
      k.usage.Write(w, kTokenUsage, TokenUsageBuckets(), typed);
      w.Write(WithName(typed, "tyto_inference_tokens_total"), k.total);
      w.Write(WithName(typed, "tyto_inference_tokens_per_second"), k.window / window_s);
      if (s.price != nullptr) {
        LabelsBuilder cb(base);
        cb.Set(kMetricNameLabel, "tyto_inference_cost_total");
        cb.Set("cost_type", k.name);
        cb.Set("currency", currency);
        w.Write(cb.Build(), k.cost);
      }
    }
    const double window_tokens = s.window_input + s.window_output;
    if (s.price != nullptr && window_tokens > 0) {
      LabelsBuilder cb(base);
      cb.Set(kMetricNameLabel, "tyto_inference_cost_per_1k_tokens");
      cb.Set("currency", currency);
      w.Write(cb.Build(), s.window_cost / window_tokens * 1000);
    }
    s.window_busy_s = s.window_input = s.window_output = s.window_cost = 0;
  }
  if (metrics_ != nullptr) metrics_->dimension_sets.Set(static_cast<double>(sets_.size()));
}

std::map<std::pair<std::string, std::string>, double> Deriver::TakeNodeBusy() {
  MutexLock lock(&mu_);
  std::map<std::pair<std::string, std::string>, double> out;
  out.swap(node_busy_);
  return out;
}

size_t Deriver::label_sets() const {
  MutexLock lock(&mu_);
  return sets_.size();
}

}  // namespace tyto::inference
