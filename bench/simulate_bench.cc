// What serving the simulated fleet costs: each iteration moves a FakeClock on by one 15 s
// scrape interval and renders every endpoint's page in-process (Fleet::Scrape, the call the
// HTTP listeners make), so the time per iteration is the simulator's CPU per interval, the
// model's 15 one-second ticks per node included. HTTP itself is measured by http_bench.
//
// Rows: Fleet/<nodes>; 214 nodes of 8 GPUs is 1,000 endpoints.
// Counters: endpoints/s (pages rendered per second), series/s, and bytes_per_second.
//
// Traffic/<requests per second>: the inference traffic `--send-to` sends (traffic.h), generated
// and encoded (OTLP JSON traces and logs, JSON-lines events and feedback) for one simulated minute
// per iteration, through the default scenario; the time per iteration over 60 is the sender's CPU
// per second, before HTTP. Counters: records/s (spans, logs, events and feedback), bytes_per_second.
// Run: build/bench/simulate_bench
#include <benchmark/benchmark.h>

#include <algorithm>

#include "simulate/fleet.h"
#include "simulate/traffic_json.h"
#include "testing/fake_clock.h"

namespace tyto::simulate {
namespace {

void BM_Fleet(benchmark::State& state) {
  testing::FakeClock clock(1'700'000'000'000);
  FleetOptions o;
  o.nodes = static_cast<int>(state.range(0));
  o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
  auto fleet = Fleet::Create(o, &clock);
  if (!fleet.ok()) {
    state.SkipWithError(fleet.status().ToString().c_str());
    return;
  }
  const size_t endpoints = (*fleet)->endpoints().size();
  size_t bytes = 0, series = 0;
  for (auto _ : state) {
    clock.Advance(std::chrono::seconds(15));
    for (size_t i = 0; i < endpoints; ++i) {
      Page p = (*fleet)->Scrape(i);
      bytes += p.body.size();
      series += static_cast<size_t>(std::count(p.body.begin(), p.body.end(), '\n'));
      benchmark::DoNotOptimize(p.body.data());
    }
  }
  state.counters["endpoints"] = static_cast<double>(endpoints);
  state.counters["endpoints/s"] =
      benchmark::Counter(static_cast<double>(endpoints), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["lines/s"] = benchmark::Counter(static_cast<double>(series), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Fleet)->Arg(4)->Arg(214)->Unit(benchmark::kMillisecond);

void BM_Traffic(benchmark::State& state) {
  testing::FakeClock clock(1'700'000'000'000);
  FleetOptions o;
  o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
  auto fleet = Fleet::Create(o, &clock);
  if (!fleet.ok()) {
    state.SkipWithError(fleet.status().ToString().c_str());
    return;
  }
  TrafficOptions options;
  options.requests_per_second = static_cast<double>(state.range(0));
  auto generator = (*fleet)->NewTrafficGenerator(options);
  int64_t tick = 0;
  size_t records = 0, bytes = 0;
  TrafficBatch batch;
  for (auto _ : state) {
    for (int i = 0; i < 60; ++i) {
      batch.Clear();
      generator->Generate(++tick, &batch);
      const std::string traces = TracesJson(generator->resources(), batch.spans);
      const std::string logs = LogsJson(generator->resources(), batch.logs);
      const std::string events = EventsJsonLines(batch);
      const std::string feedback = FeedbackJsonLines(batch.feedback);
      records += batch.spans.size() + batch.logs.size() + batch.event_count() + batch.feedback.size();
      bytes += traces.size() + logs.size() + events.size() + feedback.size();
    }
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Traffic)->Arg(20)->Arg(200)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tyto::simulate

BENCHMARK_MAIN();
