// Inference telemetry ingest as the server does it, minus HTTP: OTLP protobuf bodies of GenAI
// traces (a gateway span and a model-server span each) decoded, every request turned into the
// derived metrics, traces tail-sampled at 10% (errors and slow ones kept too), kept spans redacted
// and written to the embedded event store (SQLite, on disk under /tmp); and the same for
// JSON-lines events. Reports spans (events) per second. docs/performance.md has the figures.
//
//   build/bench/telemetry_bench --benchmark_min_time=10
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "events/decode_limits.h"
#include "events/jsonl_decode.h"
#include "events/otlp_decode.h"
#include "eventstore/store.h"
#include "inference/hub.h"
#include "inference/metrics.h"
#include "instrumentation/metrics.h"
#include "metastore/metastore.h"
#include "redact/redactor.h"
#include "testing/otlp_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/clock.h"
#include "tyto/env.h"

namespace tyto {
namespace {

namespace pb = testing::otlp_pb;
using testing::PutBytesField;
using testing::PutVarintField;

constexpr int kTracesPerBody = 250;  // 500 spans, ~150 KB: what an SDK's batch exporter sends
const char* const kModels[] = {"llama-3.1-8b", "llama-3.1-70b", "mistral-7b", "qwen2.5-32b"};
const char* const kPrompts[] = {
    "Summarise the attached incident report for the on-call engineer.",
    "Translate to French: the GPU is throttling because of temperature.",
    "Write a SQL query that returns the top 10 tenants by tokens used this week.",
    "My account email is jane.doe@example.com, why was I charged twice?"};

std::string Hex(std::mt19937_64& rng, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(rng() & 0xff));
  return out;
}

std::string SpanProto(const std::string& trace, const std::string& id, const std::string& parent, const std::string& name,
                      int kind, uint64_t start, uint64_t end, const std::vector<std::string>& attrs, bool error) {
  std::string s;
  PutBytesField(&s, 1, trace);
  PutBytesField(&s, 2, id);
  if (!parent.empty()) PutBytesField(&s, 4, parent);
  PutBytesField(&s, 5, name);
  PutVarintField(&s, 6, static_cast<uint64_t>(kind));
  pb::PutFixed64Field(&s, 7, start);
  pb::PutFixed64Field(&s, 8, end);
  for (const std::string& a : attrs) PutBytesField(&s, 9, a);
  if (error) {
    std::string status;
    PutBytesField(&status, 2, "upstream timeout");
    PutVarintField(&status, 3, 2);
    PutBytesField(&s, 15, status);
  }
  return s;
}

std::string ResourceSpans(const std::string& service, const std::string& host, const std::vector<std::string>& spans) {
  std::string scope;
  std::string scope_name;
  PutBytesField(&scope_name, 1, "bench");
  PutBytesField(&scope, 1, scope_name);
  for (const std::string& s : spans) PutBytesField(&scope, 2, s);
  std::string resource;
  PutBytesField(&resource, 1, pb::Attr("service.name", service));
  PutBytesField(&resource, 1, pb::Attr("host.name", host));
  std::string rs;
  PutBytesField(&rs, 1, resource);
  PutBytesField(&rs, 2, scope);
  return rs;
}

// One ExportTraceServiceRequest of kTracesPerBody traces ending around `now_ns`.
std::string TracesBody(std::mt19937_64& rng, uint64_t now_ns) {
  std::vector<std::string> gateway, servers[4];
  for (int i = 0; i < kTracesPerBody; ++i) {
    const std::string trace = Hex(rng, 16), root = Hex(rng, 8), child = Hex(rng, 8);
    const int m = static_cast<int>(rng() % 4);
    const uint64_t dur = 200'000'000 + rng() % 2'000'000'000;
    const bool error = rng() % 50 == 0;
    const uint64_t start = now_ns - dur - 5'000'000;
    gateway.push_back(SpanProto(trace, root, "", "POST /v1/chat/completions", 2, start, now_ns, {}, error));
    std::vector<std::string> attrs = {
        pb::Attr("gen_ai.operation.name", "chat"), pb::Attr("gen_ai.provider.name", "vllm"),
        pb::Attr("gen_ai.request.model", kModels[m]), pb::AttrAny("gen_ai.usage.input_tokens", pb::IntValue(200 + rng() % 2000)),
        pb::AttrAny("gen_ai.usage.output_tokens", pb::IntValue(20 + rng() % 500)),
        pb::Attr("tyto.tenant", "tenant-" + std::to_string(rng() % 20)),
        pb::Attr("gen_ai.input.messages", std::string("[{\"role\":\"user\",\"content\":\"") + kPrompts[rng() % 4] + "\"}]")};
    if (error) attrs.push_back(pb::Attr("error.type", "timeout"));
    servers[m].push_back(SpanProto(trace, child, root, std::string("chat ") + kModels[m], 2, start + 2'000'000,
                                   now_ns - 1'000'000, attrs, error));
  }
  std::string body;
  PutBytesField(&body, 1, ResourceSpans("gateway", "gw-1", gateway));
  for (int m = 0; m < 4; ++m) PutBytesField(&body, 1, ResourceSpans("vllm-" + std::to_string(m), "gpu-node-" + std::to_string(m), servers[m]));
  return body;
}

std::string EventsBody(std::mt19937_64& rng, int64_t now_ms) {
  std::string body;
  for (int i = 0; i < 500; ++i) {
    body += "{\"timestamp\":" + std::to_string(now_ms / 1000) + ",\"request_id\":\"req-" + std::to_string(rng()) +
            "\",\"model\":\"" + kModels[rng() % 4] + "\",\"model_version\":\"v3\",\"endpoint\":\"/v1/chat\",\"tenant\":\"tenant-" +
            std::to_string(rng() % 20) + "\",\"status\":\"" + (rng() % 50 == 0 ? "error" : "ok") +
            "\",\"latency_ms\":" + std::to_string(200 + rng() % 2000) + ",\"ttft_ms\":" + std::to_string(20 + rng() % 200) +
            ",\"input_tokens\":" + std::to_string(200 + rng() % 2000) + ",\"output_tokens\":" + std::to_string(20 + rng() % 500) +
            ",\"node\":\"gpu-node-" + std::to_string(rng() % 4) + "\",\"prompt\":\"" + kPrompts[rng() % 4] + "\"}\n";
  }
  return body;
}

struct Fixture {
  testing::TempDir dir;
  instrumentation::Registry registry;
  inference::Metrics metrics{&registry};
  metastore::ExemplarStore exemplars;
  metastore::MetadataStore metadata;
  std::unique_ptr<tsdb::Head> head;
  std::unique_ptr<eventstore::EventStore> store;
  redact::Redactor redactor;
  std::unique_ptr<inference::Hub> hub;

  Fixture() {
    head = std::move(tsdb::Head::Open(Env::Default(), dir.Path("wal"), tsdb::HeadOptions{}, nullptr)).value();
    store = std::move(eventstore::EventStore::Open(Env::Default(), Clock::Real(), dir.Path("events"), {}, &registry)).value();
    redactor = std::move(redact::Redactor::Create(redact::RedactionConfig{})).value();
    inference::InferenceConfig c;
    c.sampling.rate = 0.1;
    c.sampling.decision_wait = std::chrono::milliseconds(200);
    hub = std::make_unique<inference::Hub>(c, inference::HubDeps{.metrics_storage = head.get(),
                                                                 .store = store.get(),
                                                                 .redactor = &redactor,
                                                                 .exemplars = &exemplars,
                                                                 .metadata = &metadata,
                                                                 .metrics = &metrics,
                                                                 .clock = Clock::Real()});
    hub->Start();
  }
  ~Fixture() { hub->Stop(); }
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void BM_OtlpSpansIngest(benchmark::State& state) {
  Fixture f;
  std::mt19937_64 rng(42);
  std::vector<std::string> bodies;
  for (int i = 0; i < 16; ++i) bodies.push_back(TracesBody(rng, static_cast<uint64_t>(NowMs()) * 1'000'000));
  events::DecodeLimits limits;
  size_t i = 0, spans = 0;
  for (auto _ : state) {
    events::DecodedSpans d;
    if (!events::DecodeTracesProtobuf(bodies[i++ % bodies.size()], limits, &d).ok()) state.SkipWithError("decode");
    spans += d.spans.size();
    if (!f.hub->IngestSpans(std::move(d.spans)).ok()) state.SkipWithError("store");
  }
  f.hub->Stop();  // decides and stores what still waits: part of the cost
  state.SetItemsProcessed(static_cast<int64_t>(spans));
  state.counters["stored_spans"] = f.metrics.stored.WithLabels({"spans"}).Value();
}
BENCHMARK(BM_OtlpSpansIngest)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_JsonLinesEventsIngest(benchmark::State& state) {
  Fixture f;
  std::mt19937_64 rng(7);
  std::vector<std::string> bodies;
  for (int i = 0; i < 16; ++i) bodies.push_back(EventsBody(rng, NowMs()));
  events::DecodeLimits limits;
  size_t i = 0, n = 0;
  for (auto _ : state) {
    events::DecodedEvents d = events::DecodeEventsJsonLines(bodies[i++ % bodies.size()], NowMs(), limits);
    n += d.inferences.size();
    if (!f.hub->IngestEvents(std::move(d)).ok()) state.SkipWithError("store");
  }
  f.hub->Stop();
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["stored_events"] = f.metrics.stored.WithLabels({"inference_events"}).Value();
}
BENCHMARK(BM_JsonLinesEventsIngest)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tyto

BENCHMARK_MAIN();
