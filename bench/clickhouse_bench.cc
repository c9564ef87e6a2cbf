// Inference events into ClickHouse: "servers" Tyto ClickHouseStores (each with its own writer
// id and registry, as separate Tyto servers are) appending concurrently from `threads` threads
// each (a server appends on its HTTP threads: one per core), against the same rows sent by the
// plain client (`clickhouse-client --query "INSERT ... FORMAT RowBinary"`, one insert), on one
// clickhouse-server started here (Debian packages clickhouse-server, clickhouse-client). Each
// run starts from empty tables and lets ClickHouse's merges of the store's parts finish before
// the plain client's turn. Prints each run and the median of the runs.
//
//   clickhouse_bench [--rows N] [--per-append N] [--servers N] [--threads N]
//                    [--flush-ms N] [--batch-rows N] [--runs N]
//
// Defaults: 400,000 rows in all, 1,000 rows per append, 2 servers, 2 threads each, the store's
// own flush_interval and batch_rows, 3 runs. Figures and commands: docs/scale-out.md.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/clickhouse_server.h"
#include "clickhouse/store.h"
#include "instrumentation/metrics.h"
#include "testing/temp_dir.h"
#include "tyto/clock.h"
#include "tyto/env.h"

namespace {

using tyto::clickhouse::ClickHouseConfig;
using tyto::clickhouse::ClickHouseStore;
using tyto::clickhouse::testing::ClickHouseServer;

struct Options {
  uint64_t rows = 400'000;
  uint64_t per_append = 1'000;
  int servers = 2;
  int threads = 2;
  int64_t flush_ms = -1;  // -1: the store's default
  uint64_t batch_rows = 0;  // 0: the store's default
  int runs = 3;
};

// A GenAI request as the inference hub stores one (no prompt or response: content is sampled).
tyto::events::InferenceEvent Event(int64_t now_ms, uint64_t i) {
  static const char* kModels[] = {"llama-3.1-8b", "llama-3.1-70b", "mistral-7b", "bge-large"};
  tyto::events::InferenceEvent e;
  e.timestamp_ms = now_ms - static_cast<int64_t>(i % 600'000);
  e.request_id = "req-" + std::to_string(i);
  e.model = kModels[i % 4];
  e.model_version = "v" + std::to_string(i % 3);
  e.endpoint = "/v1/chat/completions";
  e.tenant = "tenant-" + std::to_string(i % 50);
  e.service = "chat-api";
  e.provider = "vllm";
  e.operation = "chat";
  e.node = "gpu-node-" + std::to_string(i % 32);
  e.error = i % 97 == 0;
  if (e.error) e.error_type = "503";
  e.latency_s = 0.2 + static_cast<double>(i % 1000) / 500.0;
  e.queue_s = 0.01;
  e.ttft_s = 0.05 + static_cast<double>(i % 100) / 1000.0;
  e.input_tokens = 100 + static_cast<int64_t>(i % 900);
  e.output_tokens = 20 + static_cast<int64_t>(i % 300);
  e.finish_reasons = {"stop"};
  e.conversation_id = "conv-" + std::to_string(i / 8);
  e.trace_id = "5b8aa5a2d2c872e8321cf37308d69df2";
  e.span_id = "051581bf3cb55c13";
  return e;
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds (user + system) of this process.
double SelfCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) of process `pid`, from /proc/<pid>/stat.
double ProcessCpu(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(f.c_str(), nullptr);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The value of the sample `name{table="inference_events"}` in a registry's exposition.
double Sample(const std::string& exposition, const std::string& name) {
  const std::string key = name + "{table=\"inference_events\"} ";
  const size_t at = exposition.find(key);
  return at == std::string::npos ? 0 : std::strtod(exposition.c_str() + at + key.size(), nullptr);
}

bool Run(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

struct Figures {
  double store_rate = 0;
  double client_rate = 0;
  double inserts = 0;
  double rows_per_insert = 0;
  double insert_ms = 0;  // mean time to commit one insert
  double append_p50_ms = 0;
  double append_p99_ms = 0;
  double tyto_cpu = 0;      // CPU seconds of the stores (this process) per 100,000 rows
  double server_cpu = 0;    // CPU seconds of clickhouse-server per 100,000 rows, store phase
  double client_cpu = 0;    // CPU seconds of clickhouse-server per 100,000 rows, client phase
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Waits (at most 60 s) until ClickHouse runs no merge, so one phase's merges do not slow the next.
void WaitForMerges(const ClickHouseServer& server) {
  for (int i = 0; i < 600; ++i) {
    auto r = server.Query("SELECT count() FROM system.merges");
    if (r.ok() && *r == "0\n") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

tyto::Result<Figures> OneRun(const Options& o, const ClickHouseServer& server, const std::string& dir,
                             const std::vector<std::vector<tyto::events::InferenceEvent>>& batches) {
  for (const char* db : {"bench_store", "bench_client"}) {
    if (auto r = server.Query(std::string("DROP DATABASE IF EXISTS ") + db); !r.ok()) return r.status();
  }
  std::vector<std::unique_ptr<tyto::instrumentation::Registry>> registries;
  std::vector<std::unique_ptr<ClickHouseStore>> stores;
  for (int s = 0; s < o.servers; ++s) {
    ClickHouseConfig c;
    c.urls = {server.url()};
    c.database = "bench_store";
    c.writer_id = s + 1;
    if (o.flush_ms >= 0) c.flush_interval = std::chrono::milliseconds(o.flush_ms);
    if (o.batch_rows > 0) c.batch_rows = o.batch_rows;
    registries.push_back(std::make_unique<tyto::instrumentation::Registry>());
    auto opened = ClickHouseStore::Open(c, tyto::Env::Default(), nullptr, registries.back().get());
    if (!opened.ok()) return opened.status();
    stores.push_back(std::move(*opened));
  }
  WaitForMerges(server);

  const int workers = o.servers * o.threads;
  std::vector<std::vector<double>> latencies(static_cast<size_t>(workers));
  std::atomic<uint64_t> stored{0};
  std::atomic<int> failed{0};
  const double cpu0 = SelfCpu();
  const double server0 = ProcessCpu(server.pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      ClickHouseStore& store = *stores[static_cast<size_t>(w % o.servers)];
      for (size_t b = static_cast<size_t>(w); b < batches.size(); b += static_cast<size_t>(workers)) {
        const auto a0 = std::chrono::steady_clock::now();
        auto r = store.AppendInferenceEvents(batches[b]);
        latencies[static_cast<size_t>(w)].push_back(Seconds(std::chrono::steady_clock::now() - a0) * 1000);
        if (!r.ok()) {
          ++failed;
          std::cerr << r.status().ToString() << "\n";
          continue;
        }
        stored += r->stored;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const double store_s = Seconds(std::chrono::steady_clock::now() - t0);
  Figures f;
  f.tyto_cpu = (SelfCpu() - cpu0) / static_cast<double>(o.rows) * 1e5;
  f.server_cpu = (ProcessCpu(server.pid()) - server0) / static_cast<double>(o.rows) * 1e5;
  if (failed > 0 || stored != o.rows) {
    return tyto::Internal("store: " + std::to_string(failed.load()) + " appends failed, " +
                          std::to_string(stored.load()) + " of " + std::to_string(o.rows) + " rows stored");
  }
  f.store_rate = static_cast<double>(o.rows) / store_s;
  double insert_sum = 0;
  for (auto& r : registries) {
    const std::string e = r->Expose();
    f.inserts += Sample(e, "tyto_clickhouse_insert_batches_total");
    insert_sum += Sample(e, "tyto_clickhouse_insert_duration_seconds_sum");
  }
  f.rows_per_insert = static_cast<double>(o.rows) / std::max(1.0, f.inserts);
  f.insert_ms = insert_sum / std::max(1.0, f.inserts) * 1000;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  f.append_p50_ms = all[all.size() / 2];
  f.append_p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  for (auto& s : stores) s->Close();
  WaitForMerges(server);

  // The plain client: the same rows, as ClickHouse returns them, in one clickhouse-client INSERT.
  const std::string client = "clickhouse-client --port " + std::to_string(server.tcp_port());
  const std::string file = dir + "/rows.bin";
  if (!Run(client + " --query 'SELECT * FROM bench_store.inference_events FORMAT RowBinary' > " + file) ||
      !Run(client + " --multiquery --query 'CREATE DATABASE IF NOT EXISTS bench_client; CREATE TABLE "
                    "bench_client.inference_events AS bench_store.inference_events'")) {
    return tyto::Unavailable("clickhouse-client failed (package clickhouse-client)");
  }
  const double client0 = ProcessCpu(server.pid());
  const auto t1 = std::chrono::steady_clock::now();
  if (!Run(client + " --query 'INSERT INTO bench_client.inference_events FORMAT RowBinary' < " + file)) {
    return tyto::Unavailable("clickhouse-client INSERT failed");
  }
  f.client_rate = static_cast<double>(o.rows) / Seconds(std::chrono::steady_clock::now() - t1);
  f.client_cpu = (ProcessCpu(server.pid()) - client0) / static_cast<double>(o.rows) * 1e5;
  WaitForMerges(server);
  return f;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--rows") o->rows = std::strtoull(v, nullptr, 10);
    else if (k == "--per-append") o->per_append = std::strtoull(v, nullptr, 10);
    else if (k == "--servers") o->servers = std::atoi(v);
    else if (k == "--threads") o->threads = std::atoi(v);
    else if (k == "--flush-ms") o->flush_ms = std::atoll(v);
    else if (k == "--batch-rows") o->batch_rows = std::strtoull(v, nullptr, 10);
    else if (k == "--runs") o->runs = std::atoi(v);
    else return false;
  }
  return argc % 2 == 1 && o->rows > 0 && o->per_append > 0 && o->servers > 0 && o->servers <= 64 &&
         o->threads > 0 && o->threads <= 256 && o->runs > 0 && o->runs <= 20;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::cerr << "usage: clickhouse_bench [--rows N] [--per-append N] [--servers N] [--threads N] [--flush-ms N] "
                 "[--batch-rows N] [--runs N]\n";
    return 2;
  }
  tyto::testing::TempDir dir;
  ClickHouseServer server(dir.Path("ch"));
  if (tyto::Status s = server.Start(); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  // Build every batch first: the figure is the store's, not the generator's.
  const int64_t now_ms = tyto::Clock::Real()->NowMillis();
  std::vector<std::vector<tyto::events::InferenceEvent>> batches;
  for (uint64_t i = 0; i < o.rows; i += o.per_append) {
    std::vector<tyto::events::InferenceEvent> b;
    for (uint64_t k = i; k < std::min(o.rows, i + o.per_append); ++k) b.push_back(Event(now_ms, k));
    batches.push_back(std::move(b));
  }
  std::printf("rows: %llu, rows per append: %llu, %d servers x %d threads, flush_interval %s, batch_rows %s\n",
              static_cast<unsigned long long>(o.rows), static_cast<unsigned long long>(o.per_append), o.servers,
              o.threads, o.flush_ms < 0 ? "default" : (std::to_string(o.flush_ms) + " ms").c_str(),
              o.batch_rows == 0 ? "default" : std::to_string(o.batch_rows).c_str());
  std::printf("%-4s %10s %10s %6s %8s %8s %8s %8s %8s %8s %8s %8s\n", "run", "store/s", "client/s", "ratio",
              "inserts", "rows/ins", "ins ms", "app p50", "app p99", "tytoCPU", "chCPU", "clCPU");
  std::vector<Figures> all;
  for (int run = 1; run <= o.runs; ++run) {
    tyto::Result<Figures> f = OneRun(o, server, dir.path(), batches);
    if (!f.ok()) {
      std::cerr << f.status().ToString() << "\n";
      return 1;
    }
    all.push_back(*f);
    std::printf("%-4d %10.0f %10.0f %6.2f %8.0f %8.0f %8.1f %8.1f %8.1f %8.2f %8.2f %8.2f\n", run, f->store_rate,
                f->client_rate, f->store_rate / f->client_rate, f->inserts, f->rows_per_insert, f->insert_ms,
                f->append_p50_ms, f->append_p99_ms, f->tyto_cpu, f->server_cpu, f->client_cpu);
    std::fflush(stdout);
  }
  auto median = [&](double Figures::*m) {
    std::vector<double> v;
    for (const Figures& f : all) v.push_back(f.*m);
    return Median(v);
  };
  std::vector<double> ratios;
  for (const Figures& f : all) ratios.push_back(f.store_rate / f.client_rate);
  std::printf("%-4s %10.0f %10.0f %6.2f %8.0f %8.0f %8.1f %8.1f %8.1f %8.2f %8.2f %8.2f\n", "med",
              median(&Figures::store_rate), median(&Figures::client_rate), Median(ratios), median(&Figures::inserts),
              median(&Figures::rows_per_insert), median(&Figures::insert_ms), median(&Figures::append_p50_ms),
              median(&Figures::append_p99_ms), median(&Figures::tyto_cpu), median(&Figures::server_cpu),
              median(&Figures::client_cpu));
  std::printf(
      "store/s: rows/s into ClickHouse by all stores together; client/s: clickhouse-client, one INSERT of the same "
      "rows; ratio: per run, then its median; app: append latency (ms); CPU: seconds per 100,000 rows (tyto: the "
      "stores' process; ch: clickhouse-server while the stores insert; cl: while the client inserts)\n");
  return 0;
}
