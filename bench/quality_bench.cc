// The drift monitor on the ingest path, and what it holds per tracked column.
//
// Rows:
//   Observe        DriftMonitor::Observe of batches of 100 requests, each with 8 numeric and 4
//                  categorical features, a prediction (label and score), token counts and
//                  latency (16 columns); counters: requests/s and column values/s
//   ObserveEmbed   the same plus a 16-number embedding on every request
//   Flush          one flush of one model after a window: merge the slices, run each column's
//                  test against the baseline (KS / chi-square), write the series
//   Memory         after `n` requests (each slice full): bytes held per column, window and
//                  reference together (counter bytes_per_column)
// Run: build/bench/quality_bench
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "quality/drift.h"
#include "testing/recording_appender.h"
#include "testing/temp_dir.h"

namespace tyto::quality {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

std::vector<events::InferenceEvent> Requests(size_t n, bool embedding, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_int_distribution<int> pick(0, 19);
  std::vector<events::InferenceEvent> out(n);
  for (events::InferenceEvent& e : out) {
    e.model = "m";
    for (int f = 0; f < 8; ++f) {
      events::Field x;
      x.name = "num" + std::to_string(f);
      x.number = 100 * f + 10 * normal(rng);
      e.features.push_back(std::move(x));
    }
    for (int f = 0; f < 4; ++f) {
      events::Field c;
      c.name = "cat" + std::to_string(f);
      c.is_number = false;
      c.text = "value-" + std::to_string(pick(rng));
      e.features.push_back(std::move(c));
    }
    events::Field label;
    label.name = "label";
    label.is_number = false;
    label.text = pick(rng) < 10 ? "yes" : "no";
    events::Field score;
    score.name = "score";
    score.number = 0.5 + 0.1 * normal(rng);
    e.prediction = {label, score};
    e.input_tokens = 100 + pick(rng);
    e.output_tokens = 50 + pick(rng);
    e.latency_s = 0.5 + 0.01 * pick(rng);
    if (embedding) {
      for (int d = 0; d < 16; ++d) e.embedding.push_back(static_cast<float>(normal(rng)));
    }
  }
  return out;
}

DriftConfig Config() {
  DriftConfig c;
  c.window = std::chrono::minutes(60);
  return c;
}

void Observe(benchmark::State& state, bool embedding) {
  testing::TempDir dir;
  DriftMonitor d(Config(), dir.Path("drift"), Env::Default(), nullptr);
  const std::vector<events::InferenceEvent> batch = Requests(100, embedding, 1);
  int64_t t = kT0;
  for (auto _ : state) {
    d.Observe(batch, t);
    t += 1;
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 100, benchmark::Counter::kIsRate);
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 100 * 16, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(Observe, Observe, false);
BENCHMARK_CAPTURE(Observe, ObserveEmbed, true);

void BM_Flush(benchmark::State& state) {
  testing::TempDir dir;
  DriftConfig c = Config();
  c.window = std::chrono::minutes(1);
  DriftMonitor d(c, dir.Path("drift"), Env::Default(), nullptr);
  const std::vector<events::InferenceEvent> batch = Requests(1000, false, 2);
  d.Observe(batch, kT0);
  testing::RecordingAppender app;
  inference::SeriesWriter w;
  w.Begin(&app, kT0 + 61'000);
  d.Flush(kT0 + 61'000, w);  // the baseline
  d.Observe(batch, kT0 + 61'000);
  int64_t t = kT0 + 71'000;
  for (auto _ : state) {
    w.Begin(&app, t);
    d.Flush(t, w);  // a new slice each time: the tests run
    benchmark::DoNotOptimize(w.End());
    t += 10'000;
    state.PauseTiming();
    d.Observe(batch, t - 1);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Flush)->Unit(benchmark::kMicrosecond);

void BM_Memory(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    testing::TempDir dir;
    DriftMonitor d(Config(), dir.Path("drift"), Env::Default(), nullptr);
    const std::vector<events::InferenceEvent> batch = Requests(1000, false, 3);
    // Spread over the six slices of the window, then a flush takes the baseline, and the next
    // window fills again.
    for (size_t i = 0; i < n; i += 1000) d.Observe(batch, kT0 + static_cast<int64_t>(i * 3'600'000 / n));
    testing::RecordingAppender app;
    inference::SeriesWriter w;
    w.Begin(&app, kT0 + 3'600'001);
    d.Flush(kT0 + 3'600'001, w);
    for (size_t i = 0; i < n; i += 1000) {
      d.Observe(batch, kT0 + 3'600'001 + static_cast<int64_t>(i * 3'600'000 / n));
    }
    bytes = d.MemoryBytes();
  }
  state.counters["bytes_per_column"] = static_cast<double>(bytes) / 16;
}
BENCHMARK(BM_Memory)->Arg(10'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tyto::quality

BENCHMARK_MAIN();
