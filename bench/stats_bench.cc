// Throughput of the statistics behind model quality and drift (src/stats).
//
// Rows:
//   SketchAdd/<n>            QuantileSketch::Add of n random normal values into one sketch
//                            (k = 200); items_per_second is the update rate (target >= 5 M/s);
//                            bytes_per_sketch is MemoryBytes() after the n values
//   SketchAddSorted          the same with an ascending stream (sorted input, a worst case
//                            for some sketches)
//   SketchAddFewValues       values from {0, ..., 9}: the distinct-value tracking stays on
//   SketchMemory/<n>         bytes of one sketch after n values (1e3, 1e6, 1e8), no timing of note
//   SketchMerge              merging a full sketch (1e6 values) into another
//   SketchQuantile           one Quantile() on a full sketch
//   CategoryAdd/<categories> CategoryCounts::Add over that many distinct labels (names like
//                            "label-17"); items_per_second
//   NumericDrift/<test>      one NumericDrift between a 100k-value reference and a 10k-value
//                            current sketch (shifted by 0.1 sd)
//   NumericDriftExactKs      ks between two exact 200-value sketches (the exact p-value)
//   Mmd/<dim>                MmdTest of two full 256-vector reservoirs, 200 permutations
// Run: build/bench/stats_bench [--benchmark_filter=SketchAdd]
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "stats/category_counts.h"
#include "stats/drift.h"
#include "stats/mmd.h"
#include "stats/quantile_sketch.h"
#include "stats/vector_reservoir.h"

namespace tyto::stats {
namespace {

std::vector<double> NormalValues(size_t n, uint64_t seed, double shift = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(shift, 1);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

void SketchAdd(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::vector<double> values = NormalValues(1 << 20, 1);
  size_t bytes = 0;
  for (auto _ : state) {
    QuantileSketch s;
    for (size_t i = 0; i < n; ++i) s.Add(values[i & ((1 << 20) - 1)]);
    benchmark::DoNotOptimize(s.count());
    bytes = s.MemoryBytes();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.counters["bytes_per_sketch"] = static_cast<double>(bytes);
}
BENCHMARK(SketchAdd)->Arg(1000)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond);

void SketchAddSorted(benchmark::State& state) {
  constexpr size_t kN = 1'000'000;
  for (auto _ : state) {
    QuantileSketch s;
    for (size_t i = 0; i < kN; ++i) s.Add(static_cast<double>(i));
    benchmark::DoNotOptimize(s.count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kN));
}
BENCHMARK(SketchAddSorted)->Unit(benchmark::kMillisecond);

void SketchAddFewValues(benchmark::State& state) {
  constexpr size_t kN = 1'000'000;
  for (auto _ : state) {
    QuantileSketch s;
    for (size_t i = 0; i < kN; ++i) s.Add(static_cast<double>((i * 7) % 10));
    benchmark::DoNotOptimize(s.count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kN));
}
BENCHMARK(SketchAddFewValues)->Unit(benchmark::kMillisecond);

void SketchMemory(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  size_t bytes = 0, retained = 0, levels = 0, serialized = 0;
  for (auto _ : state) {
    QuantileSketch s;
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    for (uint64_t i = 0; i < n; ++i) s.Add(u(rng));
    bytes = s.MemoryBytes();
    retained = s.retained();
    levels = s.num_levels();
    serialized = s.Serialize().size();
  }
  state.counters["bytes_per_sketch"] = static_cast<double>(bytes);
  state.counters["retained"] = static_cast<double>(retained);
  state.counters["levels"] = static_cast<double>(levels);
  state.counters["serialized_bytes"] = static_cast<double>(serialized);
}
BENCHMARK(SketchMemory)->Arg(1000)->Arg(1'000'000)->Arg(100'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

QuantileSketch SketchOf(const std::vector<double>& values, uint64_t seed = QuantileSketch::kDefaultSeed) {
  QuantileSketch s(QuantileSketch::kDefaultK, seed);
  for (double v : values) s.Add(v);
  return s;
}

void SketchMerge(benchmark::State& state) {
  const QuantileSketch a = SketchOf(NormalValues(1'000'000, 1));
  const QuantileSketch b = SketchOf(NormalValues(1'000'000, 2), 7);
  for (auto _ : state) {
    QuantileSketch c = a;
    c.Merge(b);
    benchmark::DoNotOptimize(c.count());
  }
}
BENCHMARK(SketchMerge);

void SketchQuantile(benchmark::State& state) {
  const QuantileSketch a = SketchOf(NormalValues(1'000'000, 1));
  for (auto _ : state) benchmark::DoNotOptimize(a.Quantile(0.99));
}
BENCHMARK(SketchQuantile);

void CategoryAdd(benchmark::State& state) {
  const auto categories = static_cast<size_t>(state.range(0));
  std::vector<std::string> names;
  for (size_t i = 0; i < categories; ++i) names.push_back("label-" + std::to_string(i));
  std::mt19937_64 rng(4);
  std::vector<size_t> order(1 << 16);
  for (size_t& i : order) i = rng() % categories;
  constexpr size_t kN = 1'000'000;
  for (auto _ : state) {
    CategoryCounts c;
    for (size_t i = 0; i < kN; ++i) c.Add(names[order[i & 0xffff]]);
    benchmark::DoNotOptimize(c.total());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kN));
}
BENCHMARK(CategoryAdd)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void NumericDriftTest(benchmark::State& state) {
  const auto test = static_cast<Test>(state.range(0));
  const QuantileSketch reference = SketchOf(NormalValues(100'000, 1));
  const QuantileSketch current = SketchOf(NormalValues(10'000, 2, 0.1), 9);
  for (auto _ : state) benchmark::DoNotOptimize(NumericDrift(reference, current, test).statistic);
  state.SetLabel(std::string(TestName(test)));
}
BENCHMARK(NumericDriftTest)->DenseRange(0, 6)->Unit(benchmark::kMicrosecond);

void NumericDriftExactKs(benchmark::State& state) {
  const QuantileSketch reference = SketchOf(NormalValues(200, 1));
  const QuantileSketch current = SketchOf(NormalValues(200, 2, 0.1), 9);
  for (auto _ : state) benchmark::DoNotOptimize(NumericDrift(reference, current, Test::kKs).p_value);
}
BENCHMARK(NumericDriftExactKs)->Unit(benchmark::kMicrosecond);

VectorReservoir ReservoirOf(size_t n, size_t dim, uint64_t seed, float shift) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(shift, 1);
  VectorReservoir r;
  std::vector<float> v(dim);
  for (size_t i = 0; i < n; ++i) {
    for (float& x : v) x = d(rng);
    r.Add(v);
  }
  return r;
}

void Mmd(benchmark::State& state) {
  const auto dim = static_cast<size_t>(state.range(0));
  const VectorReservoir reference = ReservoirOf(1000, dim, 1, 0);
  const VectorReservoir current = ReservoirOf(1000, dim, 2, 0.05F);
  for (auto _ : state) benchmark::DoNotOptimize(MmdTest(reference, current).p_value);
}
BENCHMARK(Mmd)->Arg(64)->Arg(384)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tyto::stats

BENCHMARK_MAIN();
