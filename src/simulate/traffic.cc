// TrafficGenerator: each tick's requests, drawn from twins of the vLLM nodes' models.
#include "simulate/traffic.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <utility>

#include "simulate/corpus.h"
#include "simulate/node_model.h"
#include "simulate/random.h"
#include "simulate/traffic_models.h"

namespace tyto::simulate {
namespace {

constexpr uint64_t kTrafficSalt = 0x7472616666696321ull;  // separates the traffic's draws from the model's
// Seeds each request's draws for features, predictions, answers and feedback (from its trace id),
// apart from the draws that place it in time and in the metrics, which these do not disturb.
constexpr uint64_t kRequestSalt = 0x6d6f64656c732121ull;
constexpr int64_t kNanosPerMilli = 1'000'000;
// The gateway keeps sending a replica that went down its share until a health check fails.
constexpr int64_t kHealthCheckMillis = 10'000;
// The gateway warns about requests whose first token took longer than this.
constexpr double kSlowFirstTokenSeconds = 1.0;
// The model server logs its engine statistics this often (vLLM's default is every 5-10 s).
constexpr int64_t kStatsLogMillis = 10'000;
constexpr int kMaxContextTokens = 131072;  // Llama 3.1
constexpr int kGateways = 2;
constexpr std::string_view kVllmVersion = "0.6.3.post1";
constexpr std::string_view kProvider = "vllm";
constexpr std::string_view kGatewayHost = "inference.example.com";
// The nightly pipeline: its runs end 90 s after the start, then every day at 02:15 UTC.
constexpr std::string_view kPipeline = "chat-feedback-nightly";
constexpr int64_t kFirstRunEndMillis = 90'000;
constexpr int64_t kNightlyRunEndMillis = (2 * 3600 + 15 * 60) * 1000;
constexpr int64_t kDayMillis = 86'400'000;

struct Tenant {
  std::string_view name;
  double weight;
  std::string_view tier;
  std::string_view client_address;  // documentation ranges (RFC 5737)
  std::string_view user_agent;
};

// Made-up customers of the simulated inference service.
constexpr std::array<Tenant, 5> kTenants = {{
    {"acme-corp", 0.35, "enterprise", "203.0.113.10", "OpenAI/Python 1.54.3"},
    {"globex", 0.25, "enterprise", "203.0.113.24", "OpenAI/JS 4.71.1"},
    {"initech", 0.20, "pro", "198.51.100.37", "OpenAI/Python 1.54.3"},
    {"umbrella", 0.12, "pro", "198.51.100.88", "langchain-openai/0.2.9"},
    {"hooli", 0.08, "free", "192.0.2.61", "curl/7.88.1"},
}};

// The share of chat requests sent to the structured-output endpoint, whose answers are JSON.
constexpr double kStructuredShare = 0.08;
constexpr std::string_view kStructuredPath = "/v1/extract";
// The share of low ratings (1 or 2) that come with a corrected answer.
constexpr double kCorrectionShare = 0.25;

enum class Outcome {
  kOk,
  kBadRequest,   // the prompt exceeds the context window (400)
  kInternal,     // the engine failed one request (500)
  kOverloaded,   // refused: the queue was full (503)
  kEngineDead,   // in flight when the replica went down (500)
  kUnavailable,  // sent by the gateway to a replica that is down (503, no model-server span)
};

std::string_view ErrorType(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "";
    case Outcome::kBadRequest:
      return "BadRequestError";
    case Outcome::kInternal:
      return "InternalServerError";
    case Outcome::kOverloaded:
      return "ServiceUnavailableError";
    case Outcome::kEngineDead:
      return "EngineDeadError";
    case Outcome::kUnavailable:
      return "503";
  }
  return "";
}

int HttpStatus(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return 200;
    case Outcome::kBadRequest:
      return 400;
    case Outcome::kInternal:
    case Outcome::kEngineDead:
      return 500;
    case Outcome::kOverloaded:
    case Outcome::kUnavailable:
      return 503;
  }
  return 500;
}

double LogNormal(Random& rng, double median, double sigma) { return median * std::exp(sigma * rng.Normal()); }

// `bytes` random bytes as lowercase hex, never all zero (OTLP reads zero ids as absent).
std::string HexId(Random& rng, int bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(bytes) * 2);
  for (int i = 0; i < bytes; i += 8) {
    uint64_t v = rng.Next() | (i == 0 ? 1ull : 0ull);
    for (int b = 0; b < 8 && i + b < bytes; ++b) {
      const unsigned byte = static_cast<unsigned>(v >> (56 - 8 * b)) & 0xff;
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 0xf]);
    }
  }
  return out;
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

KeyValue Str(std::string key, std::string_view v) { return {std::move(key), std::string(v)}; }
KeyValue Int(std::string key, int64_t v) { return {std::move(key), v}; }
KeyValue Dbl(std::string key, double v) { return {std::move(key), v}; }
KeyValue Bool(std::string key, bool v) { return {std::move(key), v}; }

// Seconds rounded to microseconds, so that attributes read as people write them.
double Micros(double seconds) { return std::round(seconds * 1e6) / 1e6; }

// gen_ai.input.messages / gen_ai.output.messages as JSON (GenAI's message schema).
std::string MessagesJson(std::string_view role, std::string_view text, std::string_view finish_reason) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  w.StartObject();
  w.Key("role");
  w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
  w.Key("parts");
  w.StartArray();
  w.StartObject();
  w.Key("type");
  w.String("text");
  w.Key("content");
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  w.EndObject();
  w.EndArray();
  if (!finish_reason.empty()) {
    w.Key("finish_reason");
    w.String(finish_reason.data(), static_cast<rapidjson::SizeType>(finish_reason.size()));
  }
  w.EndObject();
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

// The top 64 bits of a hex id.
uint64_t IdBits(std::string_view hex) {
  uint64_t v = 0;
  for (size_t i = 0; i < hex.size() && i < 16; ++i) {
    const char c = hex[i];
    v = v << 4 | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

std::string DateOf(int64_t unix_ms) {
  const time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm_utc;
  gmtime_r(&t, &tm_utc);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d", tm_utc.tm_year + 1900, tm_utc.tm_mon + 1, tm_utc.tm_mday);
  return buf;
}

}  // namespace

// --- TrafficBatch ------------------------------------------------------------------------------

void TrafficBatch::Clear() {
  spans.clear();
  logs.clear();
  inferences.clear();
  pipeline_stages.clear();
  deployments.clear();
  feedback.clear();
}

bool TrafficBatch::empty() const { return spans.empty() && logs.empty() && event_count() == 0 && feedback.empty(); }

// --- TrafficGenerator --------------------------------------------------------------------------

// A vLLM node's model, stepped by the generator: the same states the node's pages show.
struct TrafficGenerator::Twin {
  std::unique_ptr<NodeModel> model;
};

// What the scenario does to the traffic's models in the tick being generated.
struct TrafficGenerator::Conditions {
  ModelConditions llm, intent, escalation;
};

// A reporting replica and what the generator remembers of it from one tick to the next.
struct TrafficGenerator::Replica {
  int node = 0;
  int replica = 0;
  size_t twin = 0;
  bool events = false;  // reports through the events API, not OTLP
  size_t resource = 0;  // its OTLP resource (when !events)
  std::string service;  // vllm-gpu-node-000-0
  // The previous tick's state.
  bool up = true;
  double running = 0;
  double lambda = 0;
  double preemptions = 0;
  int64_t down_since_ms = 0;
  // Counters at the last statistics log.
  double stats_prompt = 0, stats_generation = 0;
  int64_t stats_ms = 0;
};

struct TrafficGenerator::Request {
  Outcome outcome = Outcome::kOk;
  int gateway = 0;
  size_t tenant = 0;
  bool chat = true;
  int64_t gw_start = 0, gw_end = 0, srv_start = 0, srv_end = 0;  // ns
  double queue_s = 0;
  double ttft_s = -1;  // negative: no token came
  int64_t input_tokens = 0, output_tokens = 0, max_tokens = 0;
  double temperature = 0.7;
  std::string finish_reason;
  std::string error_message;
  std::string request_id, trace_id, gw_span_id, srv_span_id, conversation_id;
  const CorpusEntry* content = nullptr;
  bool features = false;
  double latency_s() const { return static_cast<double>(srv_end - srv_start) / 1e9; }
};

std::string TrafficGenerator::ServiceName(const std::string& hostname, int replica) {
  return "vllm-" + hostname + "-" + std::to_string(replica);
}

bool TrafficGenerator::ReportsEvents(int node) { return (node / 3) % 2 == 1; }

TrafficGenerator::TrafficGenerator(const FleetContext* ctx, TrafficOptions options)
    : ctx_(ctx), options_(options), conditions_(std::make_unique<Conditions>()) {
  for (int g = 0; g < kGateways; ++g) {
    const std::string host = "gateway-" + std::to_string(g);
    resources_.push_back(
        {"gateway",
         {Str("service.name", "gateway"), Str("service.version", "1.4.2"), Str("service.instance.id", host),
          Str("host.name", host), Str("deployment.environment.name", "simulated"), Bool("tyto.simulated", true)}});
  }
  double vllm_capacity = 0;
  const int nodes = static_cast<int>(ctx_->capacity.size());
  for (int n = 0; n < nodes; ++n) {
    if (KindOfNode(n) != ServerKind::kVllm) continue;
    auto twin = std::make_unique<Twin>();
    twin->model = std::make_unique<NodeModel>(ctx_, n, ServerKind::kVllm);
    const std::string& host = twin->model->hostname();
    for (int r = 0; r < static_cast<int>(ctx_->capacity[static_cast<size_t>(n)].size()); ++r) {
      vllm_capacity += ctx_->capacity[static_cast<size_t>(n)][static_cast<size_t>(r)];
      Replica rr;
      rr.node = n;
      rr.replica = r;
      rr.twin = twins_.size();
      rr.events = ReportsEvents(n);
      rr.service = ServiceName(host, r);
      if (!rr.events) {
        rr.resource = resources_.size();
        resources_.push_back({rr.service,
                              {Str("service.name", rr.service), Str("service.version", kVllmVersion),
                               Str("service.instance.id", host + "/" + std::to_string(r)), Str("host.name", host),
                               Str("deployment.environment.name", "simulated"), Bool("tyto.simulated", true)}});
      }
      replicas_.push_back(std::move(rr));
    }
    twins_.push_back(std::move(twin));
  }
  const double vllm_base = ctx_->total_capacity > 0 ? ctx_->base_rps * vllm_capacity / ctx_->total_capacity : 0;
  scale_ = vllm_base > 0 ? options_.requests_per_second / vllm_base : 0;
}

TrafficGenerator::~TrafficGenerator() = default;

void TrafficGenerator::Generate(int64_t tick, TrafficBatch* out) {
  if (tick <= last_tick_ || tick < 1) return;
  // Remembers each replica's state at tick `t`, which the twins have reached.
  auto remember = [this](int64_t t) {
    const int64_t t_ms = ctx_->start_ms + t * ctx_->tick_ms;  // when the model shows tick t
    for (Replica& rr : replicas_) {
      const ReplicaState& r = twins_[rr.twin]->model->replicas()[static_cast<size_t>(rr.replica)];
      if (rr.up && !r.up) rr.down_since_ms = t_ms;
      rr.up = r.up;
      rr.running = r.running;
      if (r.up) rr.lambda = r.lambda;  // kept through an outage: what the gateway still sends it
      rr.preemptions = r.preemptions;
      if (StatsDue(t_ms)) {
        rr.stats_prompt = r.prompt_tokens;
        rr.stats_generation = r.generation_tokens;
        rr.stats_ms = t_ms;
      }
    }
  };
  if (last_tick_ < 0) {
    for (auto& twin : twins_) twin->model->AdvanceTo(tick - 1);
    remember(tick - 1);
    for (Replica& rr : replicas_) {
      const ReplicaState& r = twins_[rr.twin]->model->replicas()[static_cast<size_t>(rr.replica)];
      rr.stats_prompt = r.prompt_tokens;
      rr.stats_generation = r.generation_tokens;
      rr.stats_ms = ctx_->start_ms + (tick - 1) * ctx_->tick_ms;
    }
  } else {
    for (int64_t t = last_tick_ + 1; t < tick; ++t) {  // skipped ticks: stepped, not reported
      for (auto& twin : twins_) twin->model->AdvanceTo(t);
      remember(t);
    }
  }
  for (auto& twin : twins_) twin->model->AdvanceTo(tick);
  last_tick_ = tick;

  const int64_t tick_start_ns = (ctx_->start_ms + (tick - 1) * ctx_->tick_ms) * kNanosPerMilli;
  const int64_t tick_end_ns = tick_start_ns + ctx_->tick_ms * kNanosPerMilli;
  // Feedback scheduled in earlier ticks first: what this tick's requests schedule is due later.
  TakeDueFeedback(tick_end_ns, out);
  const auto offset = ctx_->Offset(ctx_->start_ms + tick * ctx_->tick_ms);
  const auto& models = TrafficModels();
  conditions_->llm = ConditionsAt(ctx_->scenario, models[0].name, offset);
  conditions_->intent = ConditionsAt(ctx_->scenario, models[1].name, offset);
  conditions_->escalation = ConditionsAt(ctx_->scenario, models[2].name, offset);
  if (!deployed_) {
    deployed_ = true;
    DeploymentRecord d;
    d.time_unix_nano = tick_start_ns + ctx_->tick_ms * kNanosPerMilli / 5;
    d.model = std::string(NodeModel::ModelFor(ServerKind::kVllm).name);
    d.version = std::string(kModelVersion);
    d.previous_version = std::string(kPreviousModelVersion);
    d.action = "deploy";
    d.who = "deploy-bot (simulated)";
    d.note = "simulated: fine-tune " + std::string(kModelVersion) + " rolled out to every vLLM replica";
    out->deployments.push_back(std::move(d));
  }
  for (Replica& rr : replicas_) GenerateReplica(rr, *twins_[rr.twin], tick, out);
  remember(tick);
  GeneratePipeline(tick, out);
}

void TrafficGenerator::GenerateReplica(Replica& rr, Twin& twin, int64_t tick, TrafficBatch* out) {
  const ReplicaState& r = twin.model->replicas()[static_cast<size_t>(rr.replica)];
  const ModelSpec& m = *r.model;
  const std::string& host = twin.model->hostname();
  const int64_t tick_ms = ctx_->tick_ms;
  const int64_t tick_start_ms = ctx_->start_ms + (tick - 1) * tick_ms;
  const int64_t tick_end_ms = tick_start_ms + tick_ms;
  const double dt = static_cast<double>(tick_ms) / 1000.0;
  Random rng(MixSeed(
      MixSeed(ctx_->seed ^ kTrafficSalt, static_cast<uint64_t>(rr.node) << 16 | static_cast<uint64_t>(rr.replica)),
      static_cast<uint64_t>(tick)));

  auto log = [&](size_t resource, int64_t t_ns, int severity, std::string body, std::vector<KeyValue> attrs,
                 const std::string& trace_id = "", const std::string& span_id = "") {
    LogRecordOut l;
    l.resource = resource;
    l.time_unix_nano = t_ns;
    l.severity_number = severity;
    l.severity_text = severity >= kSeverityError ? "ERROR" : severity >= kSeverityWarn ? "WARN" : "INFO";
    l.body = std::move(body);
    l.trace_id = trace_id;
    l.span_id = span_id;
    l.attributes = std::move(attrs);
    out->logs.push_back(std::move(l));
  };
  // What every request draws before its outcome's own numbers.
  auto common = [&](Outcome outcome) {
    Request q;
    q.outcome = outcome;
    q.gateway = static_cast<int>(rng.Next() % kGateways);
    double pick = rng.Uniform();
    q.tenant = kTenants.size() - 1;
    for (size_t i = 0; i < kTenants.size(); ++i) {
      if (pick < kTenants[i].weight) {
        q.tenant = i;
        break;
      }
      pick -= kTenants[i].weight;
    }
    q.chat = rng.Uniform() < 0.85;
    q.trace_id = HexId(rng, 16);
    q.gw_span_id = HexId(rng, 8);
    q.srv_span_id = HexId(rng, 8);
    q.request_id = (q.chat ? "chatcmpl-" : "cmpl-") + HexId(rng, 16);
    // Conversations last ten minutes; each tenant has a few dozen at a time.
    const uint64_t conversation = MixSeed(MixSeed(ctx_->seed, q.tenant + 1),
                                          static_cast<uint64_t>(tick_start_ms / 600'000) * 64 + rng.Next() % 40);
    Random conversation_rng(conversation);
    q.conversation_id = "conv_" + HexId(conversation_rng, 12);
    static constexpr std::array<double, 4> kTemperatures = {0.0, 0.2, 0.7, 1.0};
    q.temperature = kTemperatures[rng.Next() % kTemperatures.size()];
    if (rng.Uniform() < options_.content_share) {
      const auto corpus = Corpus();
      q.content = &corpus[rng.Next() % corpus.size()];
    }
    q.features = rr.events && rng.Uniform() < options_.features_share;
    q.gw_end =
        (tick_start_ms * kNanosPerMilli) + static_cast<int64_t>(rng.Uniform() * static_cast<double>(tick_ms) * 1e6);
    return q;
  };
  // Places the model server's span of `duration_s` ending just before the gateway's end, and the
  // gateway's around it.
  auto place = [&](Request& q, double duration_s) {
    q.srv_end = q.gw_end - static_cast<int64_t>(rng.Uniform(0.3, 1.5) * 1e6);
    q.srv_start = q.srv_end - static_cast<int64_t>(std::max(duration_s, 1e-4) * 1e9);
    q.gw_start = q.srv_start - static_cast<int64_t>(rng.Uniform(0.8, 3.0) * 1e6);
  };
  const double token_sigma = 0.5;
  const double token_mean_to_median = std::exp(-token_sigma * token_sigma / 2);
  auto draw_tokens = [&](Request& q) {
    q.input_tokens =
        std::max<int64_t>(1, std::llround(LogNormal(rng, m.prompt_tokens * token_mean_to_median, token_sigma)));
  };

  // --- The replica is down ---------------------------------------------------------------------
  if (!r.up) {
    if (rr.up) {
      // It is down from this tick's end: the requests it was serving fail just before.
      rr.down_since_ms = tick_end_ms;
      const int64_t crash_ns = tick_end_ms * kNanosPerMilli - static_cast<int64_t>(rng.Uniform(5, 50) * 1e6);
      const int64_t in_flight = rng.Poisson(rr.running * scale_);
      for (int64_t i = 0; i < in_flight; ++i) {
        Request q = common(Outcome::kEngineDead);
        draw_tokens(q);
        q.gw_end = crash_ns + static_cast<int64_t>(rng.Uniform(0.5, 2.0) * 1e6);
        const double ran_s = rng.Uniform(0.05, 8.0);
        q.max_tokens = 1024;
        q.queue_s = Micros(std::min(ran_s, LogNormal(rng, 0.003, 0.8)));
        const double ttft = LogNormal(rng, r.model->ttft_seconds * 1.5, 0.6);
        if (ttft < ran_s) {
          q.ttft_s = Micros(std::max(ttft, q.queue_s + 0.005));
          q.output_tokens = std::max<int64_t>(1, std::llround((ran_s - q.ttft_s) / (m.tpot_seconds * 1.5)));
        }
        q.error_message = "Background loop has errored already.";
        place(q, ran_s);
        Emit(rr, twin, q, out);
      }
      if (!rr.events) {
        log(rr.resource, crash_ns, kSeverityError,
            "Engine background task failed: RuntimeError: CUDA error: an illegal memory access was encountered. "
            "AsyncLLMEngine is dead; terminating the server process",
            {Str("error.type", "EngineDeadError"), Int("vllm.num_requests_running", std::llround(rr.running))});
      }
    }
    // The gateway still routes the replica its share until the health check fails.
    const int64_t down_for_ms = tick_end_ms - rr.down_since_ms;
    if (down_for_ms > 0 && down_for_ms <= kHealthCheckMillis) {
      const int64_t misrouted = rng.Poisson(rr.lambda * scale_ * dt);
      for (int64_t i = 0; i < misrouted; ++i) {
        Request q = common(Outcome::kUnavailable);
        draw_tokens(q);
        q.error_message = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
        q.gw_start = q.gw_end - static_cast<int64_t>(rng.Uniform(0.5, 3.0) * 1e6);
        q.srv_start = q.srv_end = q.gw_start;
        Emit(rr, twin, q, out);
      }
    }
    if (down_for_ms >= kHealthCheckMillis && down_for_ms - tick_ms < kHealthCheckMillis) {
      for (size_t gw = 0; gw < static_cast<size_t>(kGateways); ++gw) {
        log(gw, (rr.down_since_ms + kHealthCheckMillis) * kNanosPerMilli + static_cast<int64_t>(gw * 1000),
            kSeverityWarn,
            "health check failed: removing upstream " + rr.service + " (" + host + ":8000) from the pool",
            {Str("tyto.upstream", rr.service), Str("server.address", host), Int("server.port", 8000)});
      }
    }
    return;
  }

  // --- The replica is up -----------------------------------------------------------------------
  if (!rr.up) {
    // Back from an outage: a new process.
    if (!rr.events) {
      const int64_t t = tick_start_ms * kNanosPerMilli;
      log(rr.resource, t, kSeverityInfo,
          "vLLM API server version " + std::string(kVllmVersion) + " serving " + std::string(m.name) +
              " (tensor_parallel_size=" + std::to_string(m.tensor_parallel) + ")",
          {Str("gen_ai.request.model", m.name), Str("tyto.model.version", kModelVersion)});
      log(rr.resource, t + 1000, kSeverityInfo, "Application startup complete.", {});
    }
    for (size_t gw = 0; gw < static_cast<size_t>(kGateways); ++gw) {
      log(gw, tick_start_ms * kNanosPerMilli + static_cast<int64_t>(2000 + gw), kSeverityInfo,
          "health check passed: upstream " + rr.service + " (" + host + ":8000) is back in the pool",
          {Str("tyto.upstream", rr.service), Str("server.address", host), Int("server.port", 8000)});
    }
    rr.stats_prompt = r.prompt_tokens;
    rr.stats_generation = r.generation_tokens;
    rr.stats_ms = tick_start_ms;
  }

  const double served = r.tick_served;
  const int64_t ok = rng.Poisson(served * scale_);
  const double length_share = served > 0 ? r.tick_length / served : 0;
  const int64_t failed = rng.Poisson(std::max(0.0, r.tick_failed - r.tick_refused) * scale_);
  const int64_t refused = rng.Poisson(r.tick_refused * scale_);
  const double queue_median = std::max(r.queue_seconds, 0.001);

  for (int64_t i = 0; i < ok + failed; ++i) {
    const bool success = i < ok;
    Request q = common(success ? Outcome::kOk : rng.Uniform() < 0.6 ? Outcome::kBadRequest : Outcome::kInternal);
    draw_tokens(q);
    q.queue_s = Micros(LogNormal(rng, queue_median, 0.8));
    const double ttft = Micros(std::max(LogNormal(rng, r.ttft, 0.6), q.queue_s + 0.01));
    const double tpot = LogNormal(rng, r.tpot, 0.3);
    const bool length = rng.Uniform() < length_share;
    static constexpr std::array<int64_t, 2> kShortLimits = {128, 256};
    static constexpr std::array<int64_t, 3> kLongLimits = {1024, 2048, 4096};
    q.max_tokens =
        length ? kShortLimits[rng.Next() % kShortLimits.size()] : kLongLimits[rng.Next() % kLongLimits.size()];
    const int64_t drawn = std::llround(LogNormal(rng, m.output_tokens * token_mean_to_median, token_sigma));
    const int64_t tokens = length ? q.max_tokens : std::clamp<int64_t>(drawn, 1, q.max_tokens - 1);
    switch (q.outcome) {
      case Outcome::kOk:
        q.ttft_s = ttft;
        q.output_tokens = tokens;
        q.finish_reason = length ? "length" : "stop";
        place(q, ttft + static_cast<double>(tokens - 1) * tpot);
        break;
      case Outcome::kBadRequest: {
        q.queue_s = 0;
        q.input_tokens = kMaxContextTokens + 1 + static_cast<int64_t>(rng.Next() % 30000);
        const int64_t total = q.input_tokens + q.max_tokens;
        q.error_message = "This model's maximum context length is " + std::to_string(kMaxContextTokens) +
                          " tokens. However, you requested " + std::to_string(total) + " tokens (" +
                          std::to_string(q.input_tokens) + " in the messages, " + std::to_string(q.max_tokens) +
                          " in the completion). Please reduce the length of the messages or completion.";
        place(q, rng.Uniform(0.002, 0.012));
        break;
      }
      default: {  // kInternal: fails part-way through the generation
        q.ttft_s = ttft;
        q.output_tokens = std::max<int64_t>(1, static_cast<int64_t>(rng.Uniform() * static_cast<double>(tokens)));
        q.error_message = "Sampling failed: probability tensor contains either `inf`, `nan` or element < 0";
        place(q, ttft + static_cast<double>(q.output_tokens - 1) * tpot);
        break;
      }
    }
    Emit(rr, twin, q, out);
  }
  for (int64_t i = 0; i < refused; ++i) {
    Request q = common(Outcome::kOverloaded);
    draw_tokens(q);
    q.max_tokens = 1024;
    q.error_message = "The server is overloaded: " + std::to_string(std::llround(r.waiting)) +
                      " requests are waiting. Please retry later.";
    place(q, rng.Uniform(0.0005, 0.002));
    Emit(rr, twin, q, out);
  }

  if (rr.events) return;  // the logs below come from an OpenTelemetry-instrumented server
  if (r.preemptions > rr.preemptions && rr.up) {
    log(rr.resource, tick_start_ms * kNanosPerMilli + static_cast<int64_t>(rng.Uniform() * dt * 1e9), kSeverityWarn,
        "Sequence group " + std::string("chatcmpl-") + HexId(rng, 16) +
            " is preempted by PreemptionMode.RECOMPUTE mode because there is not enough KV cache space. This can "
            "affect the end-to-end performance. Increase gpu_memory_utilization or tensor_parallel_size to provide "
            "more KV cache memory. total_num_cumulative_preemption=" +
            std::to_string(std::llround(r.preemptions)),
        {Str("gen_ai.request.model", m.name), Dbl("vllm.gpu_cache_usage_perc", std::round(r.kv_cache * 1000) / 1000)});
  }
  if (StatsDue(tick_end_ms) && tick_end_ms > rr.stats_ms) {
    const double seconds = static_cast<double>(tick_end_ms - rr.stats_ms) / 1000.0;
    const double prompt_tps = std::max(0.0, r.prompt_tokens - rr.stats_prompt) / seconds;
    const double generation_tps = std::max(0.0, r.generation_tokens - rr.stats_generation) / seconds;
    log(rr.resource, tick_end_ms * kNanosPerMilli, kSeverityInfo,
        "Avg prompt throughput: " + Format("%.1f", prompt_tps) + " tokens/s, Avg generation throughput: " +
            Format("%.1f", generation_tps) + " tokens/s, Running: " + std::to_string(std::llround(r.running)) +
            " reqs, Swapped: 0 reqs, Pending: " + std::to_string(std::llround(r.waiting)) +
            " reqs, GPU KV cache usage: " + Format("%.1f", r.kv_cache * 100) + "%, CPU KV cache usage: 0.0%.",
        {Int("vllm.num_requests_running", std::llround(r.running)),
         Int("vllm.num_requests_waiting", std::llround(r.waiting)),
         Dbl("vllm.gpu_cache_usage_perc", std::round(r.kv_cache * 1000) / 1000)});
  }
}

bool TrafficGenerator::StatsDue(int64_t tick_end_ms) const {
  // The tick that reaches a multiple of kStatsLogMillis after the start.
  const int64_t since = tick_end_ms - ctx_->start_ms;
  return since / kStatsLogMillis > (since - ctx_->tick_ms) / kStatsLogMillis;
}

void TrafficGenerator::Emit(const Replica& rr, const Twin& twin, const Request& q, TrafficBatch* out) {
  const ModelSpec& m = NodeModel::ModelFor(ServerKind::kVllm);
  const Tenant& tenant = kTenants[q.tenant];
  const std::string& host = twin.model->hostname();
  const std::string_view error_type = ErrorType(q.outcome);
  const int http_status = HttpStatus(q.outcome);
  const bool failed = q.outcome != Outcome::kOk;
  const bool server_error = http_status >= 500;

  // The request's own draws: its endpoint, user, answer and feedback (traffic_models.h).
  Random prng(MixSeed(ctx_->seed ^ kRequestSalt, IdBits(q.trace_id)));
  const RequestDraws draws = DrawRequest(prng);
  const bool structured = q.chat && prng.Uniform() < kStructuredShare;
  const std::string path = structured ? std::string(kStructuredPath)
                           : q.chat   ? "/v1/chat/completions"
                                      : "/v1/completions";
  const std::string operation = q.chat ? "chat" : "text_completion";
  const Answer answer =
      failed ? Answer::kGood : DrawAnswer(prng, structured, q.finish_reason == "length", conditions_->llm.quality);
  const CorpusEntry* entry = q.content;
  if (entry != nullptr && structured) {
    const auto structured_corpus = StructuredCorpus();
    entry = &structured_corpus[prng.Next() % structured_corpus.size()];
  }
  AnswerText content;
  if (entry != nullptr) {
    content = WriteAnswer(answer, *entry, prng);
    if (failed) content.response.clear();
  }
  const bool has_response = entry != nullptr && !failed;  // sent even when empty
  RequestFacts facts;
  facts.plan = tenant.tier;
  facts.input_tokens = q.input_tokens;
  facts.max_tokens = q.max_tokens;
  facts.temperature = q.temperature;
  facts.language = content.language;
  facts.topic = content.topic;

  // The gateway's span: HTTP server semantics (4xx is the client's error, not the span's).
  SpanRecord gw;
  gw.resource = static_cast<size_t>(q.gateway);
  gw.trace_id = q.trace_id;
  gw.span_id = q.gw_span_id;
  gw.name = "POST " + path;
  gw.start_unix_nano = q.gw_start;
  gw.end_unix_nano = q.gw_end;
  gw.attributes = {Str("http.request.method", "POST"),
                   Str("http.route", path),
                   Str("url.path", path),
                   Str("url.scheme", "https"),
                   Str("server.address", kGatewayHost),
                   Int("server.port", 443),
                   Str("client.address", tenant.client_address),
                   Str("user_agent.original", tenant.user_agent),
                   Int("http.response.status_code", http_status),
                   Str("tyto.tenant", tenant.name),
                   Str("tyto.upstream", rr.service)};
  if (server_error) {
    gw.attributes.push_back(Str("error.type", std::to_string(http_status)));
    gw.status_code = kStatusError;
    gw.status_message =
        q.outcome == Outcome::kUnavailable ? q.error_message : "upstream answered " + std::to_string(http_status);
  }
  out->spans.push_back(std::move(gw));
  EmitClassifiers(q, prng, facts, draws, out);

  // Users rate some chat answers later.
  const bool rated = !failed && q.chat && prng.Uniform() < options_.rating_share;
  if (rated) {
    FeedbackRecord f;
    f.request_id = q.request_id;
    f.model = std::string(m.name);
    f.rating = RateAnswer(answer, prng);
    if (f.rating <= 2 && entry != nullptr && content.prompt == entry->prompt && prng.Uniform() < kCorrectionShare) {
      f.correction = std::string(entry->response);
    }
    f.request_unix_nano = q.srv_end;
    ScheduleFeedback(std::move(f), q.gw_end, prng);
  }
  const bool embedded = prng.Uniform() < options_.embedding_share;

  const int gateway_resource = q.gateway;
  auto gateway_log = [&](int severity, std::string body, std::vector<KeyValue> attrs) {
    LogRecordOut l;
    l.resource = static_cast<size_t>(gateway_resource);
    l.time_unix_nano = q.gw_end;
    l.severity_number = severity;
    l.severity_text = severity >= kSeverityError ? "ERROR" : "WARN";
    l.body = std::move(body);
    l.trace_id = q.trace_id;
    l.span_id = q.gw_span_id;
    l.attributes = std::move(attrs);
    out->logs.push_back(std::move(l));
  };
  if (server_error) {
    gateway_log(
        kSeverityError,
        "POST " + path + " " + std::to_string(http_status) + " from upstream " + rr.service + ": " + q.error_message,
        {Str("tyto.upstream", rr.service), Int("http.response.status_code", http_status),
         Str("error.type", std::to_string(http_status)), Str("tyto.tenant", tenant.name)});
  } else if (q.outcome == Outcome::kOk && q.ttft_s > kSlowFirstTokenSeconds) {
    gateway_log(kSeverityWarn,
                "slow upstream: first token after " + Format("%.2f", q.ttft_s) + " s from " + rr.service +
                    " (threshold " + Format("%.0f", kSlowFirstTokenSeconds) + " s)",
                {Str("tyto.upstream", rr.service), Dbl("gen_ai.response.time_to_first_chunk", q.ttft_s),
                 Str("tyto.tenant", tenant.name)});
  }
  if (q.outcome == Outcome::kUnavailable) return;  // no model server answered

  if (rr.events) {
    InferenceRecord e;
    e.end_unix_nano = q.srv_end;
    e.request_id = q.request_id;
    e.model = std::string(m.name);
    e.model_version = std::string(kModelVersion);
    e.endpoint = path;
    e.tenant = std::string(tenant.name);
    e.service = rr.service;
    e.provider = std::string(kProvider);
    e.operation = operation;
    e.conversation_id = q.conversation_id;
    e.http_status = http_status;
    e.ok = !failed;
    e.error_type = std::string(error_type);
    e.latency_ms = std::round(q.latency_s() * 1e6) / 1e3;
    e.queue_ms = std::round(q.queue_s * 1e6) / 1e3;
    e.ttft_ms = q.ttft_s >= 0 ? std::round(q.ttft_s * 1e6) / 1e3 : -1;
    e.input_tokens = q.input_tokens;
    e.output_tokens = q.output_tokens;
    e.finish_reason = q.finish_reason;
    e.trace_id = q.trace_id;
    e.span_id = q.gw_span_id;
    e.node = host;
    if (entry != nullptr) {
      e.prompt = std::string(content.prompt);
      e.response = content.response;
    }
    if (q.features) e.features = FeaturesFor(TrafficModels()[0], facts, draws, conditions_->llm);
    if (embedded) {
      e.embedding = Embedding(TopicOf(facts, draws, conditions_->llm), draws, conditions_->llm, options_.embedding_dims,
                              ctx_->seed);
    }
    out->inferences.push_back(std::move(e));
    return;
  }

  // The model server's span: GenAI semantics.
  SpanRecord s;
  s.resource = rr.resource;
  s.trace_id = q.trace_id;
  s.span_id = q.srv_span_id;
  s.parent_span_id = q.gw_span_id;
  s.name = operation + " " + std::string(m.name);
  s.start_unix_nano = q.srv_start;
  s.end_unix_nano = q.srv_end;
  s.attributes = {Str("gen_ai.operation.name", operation),
                  Str("gen_ai.provider.name", kProvider),
                  Str("gen_ai.request.model", m.name),
                  Str("gen_ai.response.model", m.name),
                  Str("gen_ai.response.id", q.request_id),
                  Int("gen_ai.request.max_tokens", q.max_tokens),
                  Dbl("gen_ai.request.temperature", q.temperature),
                  Int("gen_ai.usage.input_tokens", q.input_tokens),
                  Int("gen_ai.usage.output_tokens", q.output_tokens),
                  Str("gen_ai.conversation.id", q.conversation_id),
                  Str("server.address", host),
                  Int("server.port", 8000),
                  Str("tyto.model.version", kModelVersion),
                  Str("tyto.endpoint", path),
                  Str("tyto.tenant", tenant.name),
                  Dbl("tyto.queue_time", q.queue_s)};
  if (!q.finish_reason.empty()) {
    s.attributes.push_back({"gen_ai.response.finish_reasons", std::vector<std::string>{q.finish_reason}});
  }
  if (q.ttft_s >= 0) s.attributes.push_back(Dbl("gen_ai.response.time_to_first_chunk", q.ttft_s));
  if (failed) {
    s.attributes.push_back(Str("error.type", error_type));
    s.status_code = kStatusError;
    s.status_message = q.error_message;
    s.events.push_back(
        {q.srv_end, "exception", {Str("exception.type", error_type), Str("exception.message", q.error_message)}});
  }
  if (entry != nullptr) {
    s.attributes.push_back(Str("gen_ai.input.messages", MessagesJson("user", content.prompt, "")));
    if (has_response) {
      s.attributes.push_back(
          Str("gen_ai.output.messages", MessagesJson("assistant", content.response, q.finish_reason)));
    }
  }
  const std::string span_id = s.span_id;
  out->spans.push_back(std::move(s));

  // Its log record.
  LogRecordOut l;
  l.resource = rr.resource;
  l.time_unix_nano = q.srv_end;
  l.trace_id = q.trace_id;
  l.span_id = span_id;
  l.attributes = {Str("gen_ai.response.id", q.request_id),
                  Str("gen_ai.request.model", m.name),
                  Str("tyto.model.version", kModelVersion),
                  Str("tyto.endpoint", path),
                  Str("tyto.tenant", tenant.name),
                  Int("gen_ai.usage.input_tokens", q.input_tokens),
                  Int("gen_ai.usage.output_tokens", q.output_tokens),
                  Dbl("tyto.latency", Micros(q.latency_s())),
                  Dbl("tyto.queue_time", q.queue_s)};
  if (q.ttft_s >= 0) l.attributes.push_back(Dbl("gen_ai.response.time_to_first_chunk", q.ttft_s));
  if (!failed) {
    l.severity_number = kSeverityInfo;
    l.severity_text = "INFO";
    l.body = "Finished request " + q.request_id + ": " + std::to_string(q.input_tokens) + " prompt + " +
             std::to_string(q.output_tokens) + " completion tokens in " + Format("%.3f", q.latency_s()) +
             " s (queued " + Format("%.3f", q.queue_s) + " s, first token after " + Format("%.3f", q.ttft_s) +
             " s), finish_reason=" + q.finish_reason;
  } else {
    l.severity_number = server_error ? kSeverityError : kSeverityWarn;
    l.severity_text = server_error ? "ERROR" : "WARN";
    l.body = "Request " + q.request_id + " failed (" + std::to_string(http_status) + " " + std::string(error_type) +
             "): " + q.error_message;
    l.attributes.push_back(Str("error.type", error_type));
  }
  out->logs.push_back(std::move(l));
}

void TrafficGenerator::EmitClassifiers(const Request& q, Random& rng, const RequestFacts& facts,
                                       const RequestDraws& draws, TrafficBatch* out) {
  const auto& models = TrafficModels();
  const Tenant& tenant = kTenants[q.tenant];
  // The intent router classifies every prompt, the escalation classifier only conversations.
  for (size_t i = 1; i < models.size(); ++i) {
    const TrafficModel& model = models[i];
    const bool escalation = model.name == kEscalationClassifier;
    if (rng.Uniform() >= options_.classifier_share || (escalation && !q.chat)) continue;
    const ModelConditions& conditions = escalation ? conditions_->escalation : conditions_->intent;
    // Called by the gateway before it forwards the request, within its span.
    const int64_t gateway_ns = q.gw_end - q.gw_start;
    const double latency_ms =
        std::min(LogNormal(rng, escalation ? 2.2 : 1.4, 0.35), 0.8 * static_cast<double>(gateway_ns) / 1e6);
    InferenceRecord e;
    e.request_id = std::string(escalation ? "esc-" : "intent-") + HexId(rng, 12);
    e.end_unix_nano = q.gw_start + 100'000 + static_cast<int64_t>(latency_ms * 1e6);
    e.model = std::string(model.name);
    e.model_version = std::string(model.version);
    e.endpoint = "/v1/classify";
    e.tenant = std::string(tenant.name);
    e.service = std::string(model.name);
    e.operation = "classification";
    e.conversation_id = q.conversation_id;
    e.latency_ms = std::round(latency_ms * 1e3) / 1e3;
    e.queue_ms = -1;
    e.input_tokens = -1;
    e.output_tokens = -1;
    e.trace_id = q.trace_id;
    e.span_id = q.gw_span_id;
    e.features = FeaturesFor(model, facts, draws, conditions);
    const Prediction p = Classify(model.name, facts, draws, conditions);
    e.prediction = {{"label", false, 0, p.label}, {"score", true, p.score, ""}};
    if (rng.Uniform() < options_.embedding_share) {
      e.embedding =
          Embedding(TopicOf(facts, draws, conditions), draws, conditions, options_.embedding_dims, ctx_->seed);
    }
    if (rng.Uniform() < options_.feedback_share) {
      FeedbackRecord f;
      f.request_id = e.request_id;
      f.model = e.model;
      f.label = p.truth;
      f.request_unix_nano = e.end_unix_nano;
      ScheduleFeedback(std::move(f), q.gw_end, rng);
    }
    out->inferences.push_back(std::move(e));
  }
}

void TrafficGenerator::ScheduleFeedback(FeedbackRecord f, int64_t from_ns, Random& rng) {
  const double lo = static_cast<double>(std::max<int64_t>(options_.feedback_delay_min.count(), 0));
  const double hi = static_cast<double>(std::max<int64_t>(options_.feedback_delay_max.count(), 0));
  // Log-uniform: delays from minutes to hours spread evenly over their orders of magnitude.
  double delay_ms = lo;
  if (hi > lo) delay_ms = lo > 0 ? lo * std::exp(rng.Uniform() * std::log(hi / lo)) : rng.Uniform(lo, hi);
  if (pending_feedback_.size() >= options_.max_pending_feedback) {
    ++feedback_not_scheduled_;
    return;
  }
  f.time_unix_nano = from_ns + static_cast<int64_t>(delay_ms * 1e6);
  const int64_t due = f.time_unix_nano;
  pending_feedback_.emplace(std::make_pair(due, feedback_scheduled_++), std::move(f));
}

void TrafficGenerator::TakeDueFeedback(int64_t until_ns, TrafficBatch* out) {
  auto it = pending_feedback_.begin();
  for (; it != pending_feedback_.end() && it->first.first <= until_ns; ++it) {
    out->feedback.push_back(std::move(it->second));
  }
  pending_feedback_.erase(pending_feedback_.begin(), it);
}

void TrafficGenerator::GeneratePipeline(int64_t tick, TrafficBatch* out) {
  const int64_t tick_start_ms = ctx_->start_ms + (tick - 1) * ctx_->tick_ms;
  const int64_t tick_end_ms = tick_start_ms + ctx_->tick_ms;
  std::vector<int64_t> ends;
  const int64_t first = ctx_->start_ms + kFirstRunEndMillis;
  if (first > tick_start_ms && first <= tick_end_ms) ends.push_back(first);
  const int64_t nightly = (tick_end_ms - kNightlyRunEndMillis) / kDayMillis * kDayMillis + kNightlyRunEndMillis;
  if (nightly > tick_start_ms && nightly <= tick_end_ms && nightly != first) ends.push_back(nightly);
  struct Stage {
    std::string_view name;
    int64_t millis;
  };
  static constexpr std::array<Stage, 4> kStages = {
      {{"extract", 240'000}, {"validate", 60'000}, {"transform", 420'000}, {"load", 180'000}}};
  const std::vector<std::pair<std::string, std::string>> raw_fields = {
      {"request_id", "string"}, {"tenant", "string"},  {"model_version", "string"},
      {"rating", "int64"},      {"comment", "string"}, {"created_at", "timestamp"}};
  std::vector<std::pair<std::string, std::string>> enriched = raw_fields;
  enriched.emplace_back("topic", "string");
  enriched.emplace_back("comment_tokens", "int64");
  for (int64_t end_ms : ends) {
    Random rng(MixSeed(ctx_->seed ^ kTrafficSalt, static_cast<uint64_t>(end_ms)));
    int64_t total = 0;
    for (const Stage& s : kStages) total += s.millis;
    int64_t at = end_ms - total;
    const std::string run_id = std::string(kPipeline) + "-" + DateOf(at) + "-" + HexId(rng, 3);
    int64_t rows = 40'000 + static_cast<int64_t>(rng.Next() % 20'000);
    for (const Stage& s : kStages) {
      PipelineStageRecord p;
      p.pipeline = std::string(kPipeline);
      p.stage = std::string(s.name);
      p.run_id = run_id;
      p.start_unix_nano = at * kNanosPerMilli;
      at += s.millis;
      p.end_unix_nano = at * kNanosPerMilli;
      p.rows_in = rows;
      if (s.name == "validate") p.rows_rejected = std::llround(static_cast<double>(rows) * rng.Uniform(0.002, 0.01));
      p.rows_out = rows - p.rows_rejected;
      rows = p.rows_out;
      p.fields = s.name == "extract" || s.name == "validate" ? raw_fields : enriched;
      out->pipeline_stages.push_back(std::move(p));
    }
  }
}

}  // namespace tyto::simulate
