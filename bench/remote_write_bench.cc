// Remote write ingest benchmarks: decoding a WriteRequest, and RemoteWriteReceiver::Write into a
// real head (WAL on, no fsync) by one or two senders, in the shape of ../shared/bench's workload:
// an AI fleet's series (dcgm-exporter, node_exporter and vLLM label sets), one sample per series
// per request, 2,000 samples a request, each series owned by one sender.
// Run: build/bench/remote_write_bench. Figures: docs/performance.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ingest/remote_write.h"
#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"
#include "instrumentation/metrics.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::ingest {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// About 400 series per node, sorted by name as senders send them.
std::vector<Pairs> FleetSeries(int nodes) {
  static const char* kDcgm[] = {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_GPU_TEMP",
                                "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK",
                                "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_XID_ERRORS",
                                "DCGM_FI_DEV_PCIE_TX_THROUGHPUT", "DCGM_FI_DEV_PCIE_RX_THROUGHPUT",
                                "DCGM_FI_DEV_ENC_UTIL", "DCGM_FI_DEV_DEC_UTIL", "DCGM_FI_DEV_MEMORY_TEMP",
                                "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
                                "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"};
  static const char* kModes[] = {"idle", "user", "system", "iowait"};
  static const char* kHistograms[] = {"vllm:time_to_first_token_seconds", "vllm:e2e_request_latency_seconds",
                                      "vllm:time_per_output_token_seconds"};
  std::vector<Pairs> out;
  const auto add = [&out](Pairs p) {
    std::sort(p.begin(), p.end());
    out.push_back(std::move(p));
  };
  for (int n = 0; n < nodes; ++n) {
    const std::string host = "gpu-node-00" + std::to_string(n);
    for (int g = 0; g < 8; ++g) {
      const std::string gpu = std::to_string(g);
      for (const char* m : kDcgm) {
        add({{"__name__", m}, {"gpu", gpu}, {"UUID", "GPU-5f1c" + gpu + "e2a-0b3d-4c1e-8f2a-61d0c4b7a9e" + gpu},
             {"device", "nvidia" + gpu}, {"modelName", "NVIDIA H100 80GB HBM3"}, {"Hostname", host},
             {"pci_bus_id", "00000000:" + std::to_string(18 + g) + ":00.0"}, {"DCGM_FI_DRIVER_VERSION", "550.54.15"},
             {"job", "dcgm-exporter"}, {"instance", host + ":9400"}});
      }
    }
    for (int cpu = 0; cpu < 16; ++cpu) {
      for (const char* mode : kModes) {
        add({{"__name__", "node_cpu_seconds_total"}, {"cpu", std::to_string(cpu)}, {"mode", mode},
             {"job", "node-exporter"}, {"instance", host + ":9100"}});
      }
    }
    for (int r = 0; r < 2; ++r) {
      const std::string instance = host + ":800" + std::to_string(r);
      for (const char* h : kHistograms) {
        for (int le = 0; le < 24; ++le) {
          add({{"__name__", std::string(h) + "_bucket"}, {"le", std::to_string(0.001 * (1 << (le % 20)))},
               {"model_name", "meta-llama/Llama-3.1-70B-Instruct"}, {"job", "vllm"}, {"instance", instance}});
        }
        add({{"__name__", std::string(h) + "_sum"}, {"model_name", "meta-llama/Llama-3.1-70B-Instruct"},
             {"job", "vllm"}, {"instance", instance}});
      }
    }
  }
  return out;
}

// One sender: its series (every `senders`-th of the fleet) and the next requests it sends, one
// sample per series per request, time moving 15 s per round of all its series.
class Sender {
 public:
  Sender(const std::vector<Pairs>& fleet, int index, int senders) {
    for (size_t i = static_cast<size_t>(index); i < fleet.size(); i += static_cast<size_t>(senders)) {
      series_.push_back({fleet[i], {{0, 0}}});
    }
  }

  size_t num_series() const { return series_.size(); }

  // The next `n` compressed bodies of up to `per_request` samples.
  std::vector<std::string> Next(int n, size_t per_request) {
    std::vector<std::string> bodies;
    std::vector<testing::RemoteWriteSeries> batch;
    while (static_cast<int>(bodies.size()) < n) {
      testing::RemoteWriteSeries& s = series_[next_];
      s.samples[0] = {round_ * 15000 + static_cast<int64_t>(next_ % 25), static_cast<double>((round_ * 7 + next_) % 100)};
      batch.push_back(s);
      if (++next_ == series_.size()) {
        next_ = 0;
        ++round_;
      }
      if (batch.size() == per_request) {
        bodies.push_back(SnappyCompress(testing::EncodeWriteRequest(batch)));
        batch.clear();
      }
    }
    return bodies;
  }

 private:
  std::vector<testing::RemoteWriteSeries> series_;
  size_t next_ = 0;
  int64_t round_ = 1;
};

constexpr size_t kSamplesPerRequest = 2000;
constexpr int kNodes = 8;

// Arg 0: labels decoded eagerly; 1: lazily (what the receiver does: a cached series' labels are
// never decoded).
void BM_DecodeWriteRequest(benchmark::State& state) {
  const LabelDecoding decoding = state.range(0) == 0 ? LabelDecoding::kEager : LabelDecoding::kLazy;
  Sender sender(FleetSeries(kNodes), 0, 1);
  std::string raw;
  if (!SnappyUncompress(sender.Next(1, kSamplesPerRequest)[0], 1 << 30, &raw).ok()) std::abort();
  WriteRequest req;
  for (auto _ : state) {
    if (!DecodeWriteRequest(raw, &req, decoding).ok()) std::abort();
    benchmark::DoNotOptimize(req.samples.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * req.samples.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * raw.size()));
}
BENCHMARK(BM_DecodeWriteRequest)->Arg(0)->Arg(1);

// The series cache's lookups for one request: 2,000 keys (the label bytes of fleet series) found
// at once, as the receiver does.
void BM_SeriesCacheFindAll(benchmark::State& state) {
  Sender sender(FleetSeries(kNodes), 0, 1);
  std::string raw;
  if (!SnappyUncompress(sender.Next(1, kSamplesPerRequest)[0], 1 << 30, &raw).ok()) std::abort();
  WriteRequest req;
  if (!DecodeWriteRequest(raw, &req, LabelDecoding::kLazy).ok()) std::abort();
  SeriesCache cache(RemoteWriteOptions{}.series_cache_entries);
  std::vector<std::string_view> keys;
  for (const WriteRequest::Series& s : req.series) {
    keys.push_back(s.label_bytes);
    cache.Insert(s.label_bytes, Labels::Of({"__name__", "m"}), keys.size());
  }
  std::vector<SeriesCache::Handle> found;
  for (auto _ : state) {
    cache.FindAll(keys, &found);
    benchmark::DoNotOptimize(found.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys.size()));
}
BENCHMARK(BM_SeriesCacheFindAll);

// Shared by the threads of BM_RemoteWrite: set up by thread 0 before the timed loop (Google
// Benchmark starts every thread's loop together), torn down by it after. Every request is
// encoded and compressed beforehand, so that only the server's work is timed.
struct Server {
  testing::TempDir dir;
  std::unique_ptr<tsdb::Head> head;
  instrumentation::Registry registry;
  std::unique_ptr<RemoteWriteReceiver> receiver;
  std::vector<std::vector<std::string>> bodies;  // per sender
};
Server* server = nullptr;
constexpr int kRequestsPerSender = 1000;

// Each thread is one sender writing its requests in order; items are samples stored.
void BM_RemoteWrite(benchmark::State& state) {
  const int threads = state.threads();
  if (state.thread_index() == 0) {
    server = new Server;
    tsdb::HeadOptions o;
    o.fsync = tsdb::FsyncPolicy::kNever;
    auto head = tsdb::Head::Open(Env::Default(), server->dir.Path("wal"), o, nullptr);
    if (!head.ok()) std::abort();
    server->head = std::move(head).value();
    server->receiver = std::make_unique<RemoteWriteReceiver>(server->head.get(), RemoteWriteOptions{}, &server->registry);
    const std::vector<Pairs> fleet = FleetSeries(kNodes);
    for (int k = 0; k < threads; ++k) {
      Sender s(fleet, k, threads);
      // The first round creates the series; what is timed is the steady state.
      const int first = static_cast<int>((s.num_series() + kSamplesPerRequest - 1) / kSamplesPerRequest);
      for (const std::string& body : s.Next(first, kSamplesPerRequest)) {
        if (server->receiver->Write(body).outcome != WriteResult::Outcome::kStored) std::abort();
      }
      server->bodies.push_back(s.Next(kRequestsPerSender, kSamplesPerRequest));
    }
  }
  int64_t samples = 0;
  size_t next = 0;
  for (auto _ : state) {
    WriteResult r = server->receiver->Write(server->bodies[static_cast<size_t>(state.thread_index())][next++]);
    if (r.outcome != WriteResult::Outcome::kStored) std::abort();
    samples += static_cast<int64_t>(r.samples_stored);
  }
  state.SetItemsProcessed(samples);
  if (state.thread_index() == 0) {
    delete server;
    server = nullptr;
  }
}
BENCHMARK(BM_RemoteWrite)
    ->Threads(1)
    ->Threads(2)
    ->Iterations(kRequestsPerSender)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tyto::ingest

BENCHMARK_MAIN();
