// Event store benchmarks (src/eventstore): append throughput of GenAI spans and log records, from
// one thread and from several (group commit), and query latency on a store of 300,000 spans.
//
//   build/bench/eventstore_bench                      the Google Benchmark cases
//   build/bench/eventstore_bench fill DIR SPANS HOURS [THREADS]
//       one-off, outside CI: fills DIR (which must not exist; put it under /tmp) with SPANS spans
//       spread evenly over HOURS hours ending now, from THREADS appending threads (default 2),
//       then reopens the store and measures GetTrace latency and one-hour FindTraces searches
//       (by service + model + minimum duration, and by attribute). Figures: docs/performance.md.
//   build/bench/eventstore_bench query DIR SPANS HOURS
//       the measurements alone, on a store that fill made with the same SPANS and HOURS.
//   build/bench/eventstore_bench logs DIR RECORDS HOURS
//       fills DIR with log records from one thread, then measures SearchLogs and the live tail.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/store.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;  // the fake clock's "now" for the benchmark cases

const char* const kServices[] = {"chat-api",    "rag-gateway", "agent-runner", "summarizer",
                                 "support-bot", "code-assist", "search",       "moderation"};
const char* const kModels[] = {"llama-3.1-70b-instruct", "llama-3.1-8b-instruct", "gpt-4o",
                               "mistral-7b-instruct",    "qwen2-72b-instruct",    "claude-3-5-sonnet"};
const char* const kFinish[] = {"[\"stop\"]", "[\"stop\"]", "[\"stop\"]", "[\"length\"]", "[\"tool_calls\"]"};

std::string Hex(uint64_t v, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%0*" PRIx64, digits, v);
  return buf;
}

// The trace id of trace number n (what the query mode looks up again).
std::string TraceIdOf(uint64_t n) { return Hex(n * 0x9e3779b97f4a7c15ull | 1, 16) + Hex(n + 1, 16); }

// GenAI traces as an instrumented gateway and an OpenTelemetry GenAI SDK send them: a server
// span, the model call (gen_ai.* attributes), and sometimes a retrieval or a tool span: 2 to 4
// spans, 8 to 13 attributes each, a resource of 6 attributes (service, pod, node, SDK).
class TraceGenerator {
 public:
  explicit TraceGenerator(uint64_t seed) : rng_(seed) {}

  // Appends trace number n, starting at start_ms, to *out; returns its span count.
  size_t Make(uint64_t n, int64_t start_ms, std::vector<events::Span>* out) {
    const std::string trace_id = TraceIdOf(n);
    const size_t service = rng_() % 8;
    const size_t model = rng_() % 6;
    const bool error = rng_() % 50 == 0;
    // Log-normal-ish latency: mostly 200 ms to 5 s, a tail to 60 s.
    std::lognormal_distribution<double> latency(std::log(900.0), 0.9);
    const int64_t llm_ms = std::min<int64_t>(60'000, 20 + static_cast<int64_t>(latency(rng_)));
    const int spans = 2 + static_cast<int>(rng_() % 3);
    const int64_t total_ms = llm_ms + 15 + (spans > 2 ? 40 : 0);
    const std::string pod = std::string(kServices[service]) + "-" + Hex(rng_() % 4, 1);
    const std::vector<events::Attribute> resource = {
        {"service.name", kServices[service]},
        {"service.version", "1.14.2"},
        {"k8s.pod.name", pod},
        {"k8s.namespace.name", "inference"},
        {"host.name", "gpu-node-" + std::to_string(service * 3 + rng_() % 3)},
        {"telemetry.sdk.language", "python"}};
    const uint64_t root_id = rng_() | 1;

    events::Span root;
    root.trace_id = trace_id;
    root.span_id = Hex(root_id, 16);
    root.service = kServices[service];
    root.name = "POST /v1/chat/completions";
    root.kind = events::SpanKind::kServer;
    root.start_unix_nano = start_ms * 1'000'000;
    root.end_unix_nano = (start_ms + total_ms) * 1'000'000;
    root.status = error ? events::StatusCode::kError : events::StatusCode::kUnset;
    root.scope_name = "opentelemetry.instrumentation.fastapi";
    root.attributes = {{"http.request.method", "POST"},
                       {"http.route", "/v1/chat/completions"},
                       {"http.response.status_code", error ? "504" : "200"},
                       {"url.scheme", "https"},
                       {"server.address", "api.internal"},
                       {"tenant", "t" + std::to_string(rng_() % 100)},
                       {"user.id", "u" + std::to_string(rng_() % 10'000)},
                       {"client.address", "10.1." + std::to_string(rng_() % 256) + "." + std::to_string(rng_() % 256)}};
    root.resource = resource;
    out->push_back(root);

    events::Span llm;
    llm.trace_id = trace_id;
    llm.span_id = Hex(rng_() | 1, 16);
    llm.parent_span_id = root.span_id;
    llm.service = kServices[service];
    llm.name = std::string("chat ") + kModels[model];
    llm.kind = events::SpanKind::kClient;
    const int64_t llm_start = start_ms + 5 + (spans > 2 ? 40 : 0);
    llm.start_unix_nano = llm_start * 1'000'000;
    llm.end_unix_nano = (llm_start + llm_ms) * 1'000'000;
    llm.status = root.status;
    if (error) llm.status_message = "upstream request timed out";
    llm.scope_name = "opentelemetry.instrumentation.openai_v2";
    const int64_t in_tokens = 50 + static_cast<int64_t>(rng_() % 4000);
    llm.attributes = {{"gen_ai.operation.name", "chat"},
                      {"gen_ai.provider.name", model == 2   ? "openai"
                                               : model == 5 ? "anthropic"
                                                            : "vllm"},
                      {"gen_ai.request.model", kModels[model]},
                      {"gen_ai.response.model", std::string(kModels[model]) + "-2024-08-06"},
                      {"gen_ai.request.max_tokens", "1024"},
                      {"gen_ai.request.temperature", "0.7"},
                      {"gen_ai.usage.input_tokens", std::to_string(in_tokens)},
                      {"gen_ai.usage.output_tokens", std::to_string(llm_ms / 20)},
                      {"gen_ai.response.id", "chatcmpl-" + Hex(rng_(), 16)},
                      {"gen_ai.response.finish_reasons", kFinish[rng_() % 5]},
                      {"server.address", "vllm-" + std::to_string(model) + ".inference.svc"},
                      {"server.port", "8000"}};
    llm.resource = resource;
    llm.events = {{(llm_start + llm_ms / 5) * 1'000'000, "gen_ai.first_token", {}}};
    out->push_back(llm);

    if (spans > 2) {
      events::Span retrieval;
      retrieval.trace_id = trace_id;
      retrieval.span_id = Hex(rng_() | 1, 16);
      retrieval.parent_span_id = root.span_id;
      retrieval.service = kServices[service];
      retrieval.name = "vector_store.query";
      retrieval.kind = events::SpanKind::kClient;
      retrieval.start_unix_nano = (start_ms + 2) * 1'000'000;
      retrieval.end_unix_nano = (start_ms + 38) * 1'000'000;
      retrieval.scope_name = "opentelemetry.instrumentation.qdrant";
      retrieval.attributes = {{"db.system", "qdrant"},
                              {"db.operation.name", "search"},
                              {"db.collection.name", "docs-v3"},
                              {"vector.top_k", "8"},
                              {"server.address", "qdrant.data.svc"},
                              {"server.port", "6333"},
                              {"db.response.returned_rows", "8"},
                              {"tenant", root.attributes[5].value}};
      retrieval.resource = resource;
      out->push_back(retrieval);
    }
    if (spans > 3) {
      events::Span tool;
      tool.trace_id = trace_id;
      tool.span_id = Hex(rng_() | 1, 16);
      tool.parent_span_id = llm.span_id;
      tool.service = kServices[service];
      tool.name = "execute_tool get_weather";
      tool.kind = events::SpanKind::kInternal;
      tool.start_unix_nano = (llm_start + llm_ms / 2) * 1'000'000;
      tool.end_unix_nano = (llm_start + llm_ms / 2 + 12) * 1'000'000;
      tool.scope_name = "opentelemetry.instrumentation.openai_v2";
      tool.attributes = {{"gen_ai.operation.name", "execute_tool"},
                         {"gen_ai.tool.name", "get_weather"},
                         {"gen_ai.tool.call.id", "call_" + Hex(rng_(), 12)},
                         {"gen_ai.tool.type", "function"},
                         {"tenant", root.attributes[5].value},
                         {"code.function.name", "get_weather"},
                         {"code.file.path", "tools/weather.py"},
                         {"code.line.number", "42"}};
      tool.resource = resource;
      out->push_back(tool);
    }
    return static_cast<size_t>(spans);
  }

  events::LogRecord Log(int64_t time_ms, uint64_t n) {
    static const char* const kBodies[] = {"request completed in {ms} ms with status 200",
                                          "upstream vllm-2 returned 503, retrying in 250 ms",
                                          "prompt truncated to 4096 tokens for model llama-3.1-8b-instruct",
                                          "cache miss for embedding key docs-v3/{n}",
                                          "rate limit exceeded for tenant t17: 120 requests per minute",
                                          "GPU memory pressure: KV cache 93% full, preempting 2 sequences"};
    events::LogRecord r;
    r.time_unix_nano = time_ms * 1'000'000;
    const size_t k = rng_() % 6;
    r.severity_number = k == 1 ? 13 : k == 5 ? 17 : 9;
    r.severity_text = k == 1 ? "WARN" : k == 5 ? "ERROR" : "INFO";
    std::string body = kBodies[k];
    if (auto p = body.find("{ms}"); p != std::string::npos) body.replace(p, 4, std::to_string(rng_() % 5000));
    if (auto p = body.find("{n}"); p != std::string::npos) body.replace(p, 3, std::to_string(n));
    r.body = body;
    r.trace_id = TraceIdOf(n);
    r.span_id = Hex(rng_() | 1, 16);
    r.service = kServices[n % 8];
    r.attributes = {{"logger.name", "app.handlers"},
                    {"thread.name", "worker-" + std::to_string(rng_() % 16)},
                    {"tenant", "t" + std::to_string(rng_() % 100)}};
    r.resource = {{"service.name", r.service}, {"k8s.pod.name", r.service + "-0"}, {"host.name", "gpu-node-1"}};
    return r;
  }

 private:
  std::mt19937_64 rng_;
};

std::unique_ptr<EventStore> OpenStore(Clock* clock, const std::string& dir, EventStoreOptions o = {}) {
  auto s = EventStore::Open(Env::Default(), clock, dir, o);
  if (!s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.status().ToString().c_str());
    std::abort();
  }
  return std::move(s).value();
}

// ---- Google Benchmark cases: appends

struct Shared {
  std::unique_ptr<testing::TempDir> dir;
  std::unique_ptr<testing::FakeClock> clock;
  std::unique_ptr<EventStore> store;
  std::atomic<uint64_t> next_trace{0};
};
Shared g;

void SetUpStore(const benchmark::State&) {
  g.dir = std::make_unique<testing::TempDir>();
  g.clock = std::make_unique<testing::FakeClock>(kStartMs);
  g.store = OpenStore(g.clock.get(), g.dir->Path("events"));
  g.next_trace = 0;
}
void TearDownStore(const benchmark::State&) {
  g.store.reset();
  g.clock.reset();
  g.dir.reset();
}

// One Append call per iteration with state.range(0) spans (whole traces), as an OTLP export
// request brings them; with ->Threads(n), n callers at once share group commits.
void BM_AppendSpans(benchmark::State& state) {
  TraceGenerator gen(static_cast<uint64_t>(state.thread_index()) + 1);
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<events::Span> spans;
  size_t total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    spans.clear();
    while (spans.size() < batch) {
      const uint64_t n = g.next_trace.fetch_add(1);
      gen.Make(n, kStartMs - 600'000 + static_cast<int64_t>(n % 600'000), &spans);
    }
    state.ResumeTiming();
    auto r = g.store->AppendSpans(spans);
    if (!r.ok() || r->stored != spans.size()) {
      state.SkipWithError("append failed");
      break;
    }
    total += spans.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_AppendSpans)
    ->Arg(100)
    ->Arg(1000)
    ->Setup(SetUpStore)
    ->Teardown(TearDownStore)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendSpans)
    ->Arg(100)
    ->Threads(4)
    ->Setup(SetUpStore)
    ->Teardown(TearDownStore)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_AppendLogs(benchmark::State& state) {
  TraceGenerator gen(static_cast<uint64_t>(state.thread_index()) + 7);
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<events::LogRecord> logs;
  size_t total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    logs.clear();
    while (logs.size() < batch) {
      const uint64_t n = g.next_trace.fetch_add(1);
      logs.push_back(gen.Log(kStartMs - 600'000 + static_cast<int64_t>(n % 600'000), n));
    }
    state.ResumeTiming();
    auto r = g.store->AppendLogs(logs);
    if (!r.ok() || r->stored != logs.size()) {
      state.SkipWithError("append failed");
      break;
    }
    total += logs.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_AppendLogs)
    ->Arg(100)
    ->Arg(1000)
    ->Setup(SetUpStore)
    ->Teardown(TearDownStore)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AppendLogs)
    ->Arg(100)
    ->Threads(4)
    ->Setup(SetUpStore)
    ->Teardown(TearDownStore)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// ---- Google Benchmark cases: queries over 300,000 spans in the last hour

constexpr uint64_t kQueryTraces = 100'000;

void SetUpQueryStore(const benchmark::State& state) {
  if (g.store != nullptr) return;  // shared by the query cases
  SetUpStore(state);
  TraceGenerator gen(99);
  std::vector<events::Span> spans;
  for (uint64_t n = 0; n < kQueryTraces; ++n) {
    gen.Make(n, kStartMs - 3'500'000 + static_cast<int64_t>(n * 3'400'000 / kQueryTraces), &spans);
    if (spans.size() >= 2000 || n + 1 == kQueryTraces) {
      if (!g.store->AppendSpans(spans).ok()) std::abort();
      spans.clear();
    }
  }
}

void BM_GetTrace(benchmark::State& state) {
  std::mt19937_64 rng(5);
  for (auto _ : state) {
    auto t = g.store->GetTrace(TraceIdOf(rng() % kQueryTraces));
    if (!t.ok()) state.SkipWithError("not found");
  }
}
BENCHMARK(BM_GetTrace)->Setup(SetUpQueryStore)->Unit(benchmark::kMicrosecond);

void BM_FindTraces(benchmark::State& state) {
  TraceQuery q;
  q.start_unix_nano = (kStartMs - 3'600'000) * 1'000'000;
  q.end_unix_nano = kStartMs * 1'000'000;
  switch (state.range(0)) {
    case 0:
      break;
    case 1:
      q.service = "chat-api";
      q.model = "gpt-4o";
      q.min_duration_nano = 5'000'000'000;
      break;
    case 2:
      q.attributes = {{"tenant", "t42"}};
      break;
    case 3:
      q.attributes = {{"user.id", "u4242"}};
      break;
    case 4:
      q.attributes = {{"tenant", "nobody"}};
      break;
  }
  size_t found = 0;
  for (auto _ : state) {
    auto r = g.store->FindTraces(q);
    if (!r.ok()) state.SkipWithError("query failed");
    if (r.ok()) found = r->size();
  }
  state.counters["traces"] = static_cast<double>(found);
}
// 0: no filter; 1: service + model + min duration 5 s; 2: tenant (1%); 3: user.id (0.01%);
// 4: an attribute value that no span has.
BENCHMARK(BM_FindTraces)->DenseRange(0, 4)->Setup(SetUpQueryStore)->Unit(benchmark::kMillisecond);

// ---- fill mode

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU time of the whole process (every thread), user and system, in seconds.
double ProcessCpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

void PrintLatencies(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))]; };
  std::printf("%-58s n=%zu  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", what, ms.size(), at(0.5), at(0.9),
              at(0.99), ms.back());
}

int Query(const std::string& dir, uint64_t traces, double hours);

int Fill(const std::string& dir, uint64_t total_spans, double hours, int threads) {
  if (std::filesystem::exists(dir)) {
    std::fprintf(stderr, "%s exists; give a new directory\n", dir.c_str());
    return 2;
  }
  const int64_t window_ms = static_cast<int64_t>(hours * 3'600'000);
  const int64_t end_ms = kStartMs;
  const int64_t begin_ms = end_ms - window_ms;
  // The clock follows the data: each row is "now" when appended (as live traffic is).
  testing::FakeClock clock(begin_ms);
  auto store = OpenStore(&clock, dir);
  // Traces are numbered in time order; each thread takes the next 500-trace batch.
  const uint64_t traces = total_spans / 3;  // 2 to 4 spans per trace, 3 on average
  std::atomic<uint64_t> next{0};
  std::atomic<uint64_t> spans_stored{0};
  // What making the spans costs alone, to subtract from the fill's CPU time below.
  double generate_cpu = 0;
  {
    const double cpu0 = ProcessCpuSeconds();
    TraceGenerator gen(100);
    std::vector<events::Span> spans;
    const uint64_t sample = std::min<uint64_t>(traces, 100'000);
    for (uint64_t n = 0; n < sample; n += 500) {
      spans.clear();
      for (uint64_t k = n; k < std::min(sample, n + 500); ++k) gen.Make(k, begin_ms, &spans);
    }
    generate_cpu = (ProcessCpuSeconds() - cpu0) * static_cast<double>(traces) / static_cast<double>(sample);
  }
  const double cpu_started = ProcessCpuSeconds();
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&, w] {
      TraceGenerator gen(static_cast<uint64_t>(w) + 100);
      std::vector<events::Span> spans;
      while (true) {
        const uint64_t first = next.fetch_add(500);
        if (first >= traces) return;
        spans.clear();
        const uint64_t last = std::min(traces, first + 500);
        for (uint64_t n = first; n < last; ++n) {
          gen.Make(n,
                   begin_ms + static_cast<int64_t>(static_cast<double>(n) / static_cast<double>(traces) *
                                                   static_cast<double>(window_ms)),
                   &spans);
        }
        const int64_t t = begin_ms + static_cast<int64_t>(static_cast<double>(last) / static_cast<double>(traces) *
                                                          static_cast<double>(window_ms));
        if (t > clock.NowMillis()) clock.SetMillis(t);
        auto r = store->AppendSpans(spans);
        if (!r.ok() || r->stored != spans.size()) {
          std::fprintf(stderr, "append: %s %s\n", r.ok() ? "refused" : r.status().ToString().c_str(),
                       r.ok() ? r->first_rejection.c_str() : "");
          std::abort();
        }
        const uint64_t done = spans_stored.fetch_add(spans.size()) + spans.size();
        if (done / 1'000'000 != (done - spans.size()) / 1'000'000) {
          std::printf("  %" PRIu64 " spans, %.0f spans/s so far\n", done,
                      static_cast<double>(done) / Seconds(std::chrono::steady_clock::now() - started));
          std::fflush(stdout);
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const double fill_s = Seconds(std::chrono::steady_clock::now() - started);
  const double store_cpu = ProcessCpuSeconds() - cpu_started - generate_cpu;
  clock.SetMillis(end_ms + 1);
  (void)store->Maintain();
  const double spans_total = static_cast<double>(spans_stored.load());
  std::printf("filled %" PRIu64 " spans (%" PRIu64 " traces) over %.1f h in %.1f s: %.0f spans/s with %d threads\n",
              spans_stored.load(), traces, hours, fill_s, spans_total / fill_s, threads);
  std::printf("store CPU (process CPU minus making the spans): %.1f us per span, %.0f spans per CPU-second\n",
              store_cpu / spans_total * 1e6, spans_total / store_cpu);
  const auto close_started = std::chrono::steady_clock::now();
  store.reset();
  std::printf("closed (WAL checkpoints) in %.1f s\n", Seconds(std::chrono::steady_clock::now() - close_started));
  uint64_t bytes = 0;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    bytes += e.file_size();
    ++files;
  }
  std::printf("on disk: %.2f GB in %zu files, %.0f bytes per span\n", static_cast<double>(bytes) / 1e9, files,
              static_cast<double>(bytes) / static_cast<double>(spans_stored.load()));

  return Query(dir, traces, hours);
}

// Opens a store that Fill made and measures GetTrace and FindTraces.
int Query(const std::string& dir, uint64_t traces, double hours) {
  const int64_t window_ms = static_cast<int64_t>(hours * 3'600'000);
  const int64_t end_ms = kStartMs;
  testing::FakeClock clock(end_ms + 1);
  // Reopened, as after a restart: caches empty (the page cache is whatever came before).
  const auto open_started = std::chrono::steady_clock::now();
  auto store = OpenStore(&clock, dir);
  std::printf("reopened in %.1f ms (%" PRIu64 " partitions)\n",
              Seconds(std::chrono::steady_clock::now() - open_started) * 1e3, store->Stats().partitions);
  std::mt19937_64 rng(1);
  {
    std::vector<double> ms;
    for (int i = 0; i < 300; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto t = store->GetTrace(TraceIdOf(rng() % traces));
      ms.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e3);
      if (!t.ok()) {
        std::fprintf(stderr, "GetTrace: %s\n", t.status().ToString().c_str());
        return 1;
      }
    }
    PrintLatencies("GetTrace (random trace, every partition)", ms);
  }
  struct Search {
    const char* name;
    TraceQuery q;
  };
  const int64_t hour_end = end_ms - window_ms / 3;  // an hour in the middle of the data
  TraceQuery base;
  base.start_unix_nano = (hour_end - 3'600'000) * 1'000'000;
  base.end_unix_nano = hour_end * 1'000'000;
  std::vector<Search> searches;
  searches.push_back({"one hour, no filter", base});
  TraceQuery q = base;
  q.service = "chat-api";
  q.model = "gpt-4o";
  q.min_duration_nano = 5'000'000'000;
  searches.push_back({"one hour, service + model + duration >= 5s", q});
  q.min_duration_nano = 40'000'000'000;
  searches.push_back({"one hour, service + model + duration >= 40s (rare)", q});
  q = base;
  q.attributes = {{"tenant", "t42"}};
  searches.push_back({"one hour, attribute tenant=t42 (1%)", q});
  q.attributes = {{"user.id", "u4242"}};
  searches.push_back({"one hour, attribute user.id=u4242 (0.01%)", q});
  q.attributes = {{"k8s.pod.name", "search-2"}};
  searches.push_back({"one hour, resource attribute k8s.pod.name", q});
  q.attributes = {{"tenant", "nobody"}};
  searches.push_back({"one hour, attribute no span has", q});
  q = base;
  q.service = "chat-api";
  q.status = events::StatusCode::kError;
  searches.push_back({"one hour, service + status error", q});
  for (Search& s : searches) {
    std::vector<double> ms;
    size_t found = 0;
    for (int i = 0; i < 7; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = store->FindTraces(s.q);
      ms.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e3);
      if (!r.ok()) {
        std::fprintf(stderr, "FindTraces: %s\n", r.status().ToString().c_str());
        return 1;
      }
      found = r->size();
    }
    std::printf(
        "%-58s first %.1f ms, then median %.1f ms (%zu traces)\n", s.name, ms[0],
        [&] {
          std::vector<double> rest(ms.begin() + 1, ms.end());
          std::sort(rest.begin(), rest.end());
          return rest[rest.size() / 2];
        }(),
        found);
  }
  return 0;
}

// Fills DIR with LOGS log records over HOURS hours from one thread and measures SearchLogs
// (a common word, a rare one, a phrase, with filters) and a live-tail page.
int FillLogs(const std::string& dir, uint64_t total, double hours) {
  if (std::filesystem::exists(dir)) {
    std::fprintf(stderr, "%s exists; give a new directory\n", dir.c_str());
    return 2;
  }
  const int64_t window_ms = static_cast<int64_t>(hours * 3'600'000);
  const int64_t begin_ms = kStartMs - window_ms;
  testing::FakeClock clock(begin_ms);
  auto store = OpenStore(&clock, dir);
  TraceGenerator gen(3);
  std::vector<events::LogRecord> logs;
  const double cpu0 = ProcessCpuSeconds();
  const auto started = std::chrono::steady_clock::now();
  for (uint64_t n = 0; n < total; ++n) {
    const int64_t t = begin_ms + static_cast<int64_t>(static_cast<double>(n) / static_cast<double>(total) *
                                                      static_cast<double>(window_ms));
    logs.push_back(gen.Log(t, n));
    if (logs.size() == 1000 || n + 1 == total) {
      clock.SetMillis(t);
      auto r = store->AppendLogs(logs);
      if (!r.ok() || r->stored != logs.size()) std::abort();
      logs.clear();
    }
  }
  const double s = Seconds(std::chrono::steady_clock::now() - started);
  std::printf("filled %" PRIu64 " log records over %.1f h in %.1f s: %.0f records/s (%.1f us CPU each, making them "
              "included)\n",
              total, hours, s, static_cast<double>(total) / s,
              (ProcessCpuSeconds() - cpu0) / static_cast<double>(total) * 1e6);
  clock.SetMillis(kStartMs + 1);
  struct Search {
    const char* name;
    LogQuery q;
  };
  LogQuery hour;
  hour.start_unix_nano = (kStartMs - 3'600'000) * 1'000'000;
  hour.end_unix_nano = kStartMs * 1'000'000;
  std::vector<Search> searches;
  LogQuery q = hour;
  q.text = "request";  // a third of the records
  searches.push_back({"one hour, text: a common word", q});
  q.text = "\"KV cache\" preempting";
  searches.push_back({"one hour, text: a phrase and a word (1/6)", q});
  q.text = "docs-v3/4242*";
  searches.push_back({"one hour, text: a rare prefix", q});
  q.text = "retrying";
  q.min_severity = 13;
  q.service = "chat-api";
  searches.push_back({"one hour, text + severity + service", q});
  q = hour;
  q.trace_id = TraceIdOf(total - 5);
  searches.push_back({"one hour, trace id", q});
  q = hour;
  q.attributes = {{"tenant", "t42"}};
  searches.push_back({"one hour, attribute tenant=t42 (1%)", q});
  q = hour;
  q.text = "nothingmatches";
  searches.push_back({"one hour, a word no record has", q});
  for (Search& search : searches) {
    std::vector<double> ms;
    size_t found = 0;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = store->SearchLogs(search.q);
      ms.push_back(Seconds(std::chrono::steady_clock::now() - t0) * 1e3);
      if (!r.ok()) {
        std::fprintf(stderr, "SearchLogs: %s\n", r.status().ToString().c_str());
        return 1;
      }
      found = r->size();
    }
    std::sort(ms.begin() + 1, ms.end());
    std::printf("%-58s first %.1f ms, then median %.1f ms (%zu records)\n", search.name, ms[0], ms[3], found);
  }
  const uint64_t last = store->LastLogCursor();
  const auto t0 = std::chrono::steady_clock::now();
  auto page = store->LogsAfter(last - 1000, {}, 1000);
  std::printf("%-58s %.1f ms (%zu records)\n", "live tail: the last 1,000 records",
              Seconds(std::chrono::steady_clock::now() - t0) * 1e3, page.ok() ? page->logs.size() : 0);
  LogQuery errors;
  errors.text = "error OR ERROR";
  errors.min_severity = 17;
  const auto t1 = std::chrono::steady_clock::now();
  page = store->LogsAfter(last - 100'000, errors, 100);
  std::printf("%-58s %.1f ms (%zu records)\n", "live tail, filtered (severity + text), from 100,000 back",
              Seconds(std::chrono::steady_clock::now() - t1) * 1e3, page.ok() ? page->logs.size() : 0);
  return 0;
}

}  // namespace
}  // namespace tyto::eventstore

int main(int argc, char** argv) {
  if (argc >= 5 && std::string(argv[1]) == "logs") {
    return tyto::eventstore::FillLogs(argv[2], std::strtoull(argv[3], nullptr, 10), std::atof(argv[4]));
  }
  if (argc >= 5 && std::string(argv[1]) == "query") {
    return tyto::eventstore::Query(argv[2], std::strtoull(argv[3], nullptr, 10) / 3, std::atof(argv[4]));
  }
  if (argc >= 5 && std::string(argv[1]) == "fill") {
    return tyto::eventstore::Fill(argv[2], std::strtoull(argv[3], nullptr, 10), std::atof(argv[4]),
                                  argc >= 6 ? std::atoi(argv[5]) : 2);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
