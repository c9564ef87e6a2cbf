// Fleet: a simulated AI inference fleet served over HTTP, for demos, tests and benchmarks.
//
// N nodes, each with G GPUs, expose what a real fleet's exporters expose, on one local port
// per exporter instance as in the real world:
//   dcgm-exporter   /metrics   DCGM_FI_DEV_* and DCGM_FI_PROF_* per GPU      job "dcgm"
//   node_exporter   /metrics   node_cpu_seconds_total, node_memory_*, ...    job "node"
//   model servers   /metrics   one endpoint per replica; node i runs vLLM, TGI or Triton
//                              (i % 3 == 0, 1, 2), each replica on `tensor_parallel` GPUs
//                                                                          jobs "vllm", "tgi", "triton"
// Every series carries simulated="true" and every page a tyto_simulator_info series: this is a
// labelled demo and test fixture, never a substitute for the real exporters.
//
// Values follow a model (src/simulate/node_model.h): diurnal fleet traffic with noise, split
// over the replicas by capacity; GPU utilisation, power and temperature follow each replica's
// load; counters only grow, except when a replica restarts; histograms are cumulative with
// +Inf equal to _count. The scenario's incidents change the right series at the right time.
//
// Time: the model advances in fixed ticks from the fleet's creation time, read from the Clock,
// and a page is rendered when it is requested, from the state at the clock's current tick. So
// the same seed, scenario and clock readings give byte-identical pages however often, and in
// whatever order, the endpoints are scraped; tests drive a FakeClock and never sleep. The model
// never rewinds: a clock read earlier than the last scrape of a node gets that node's latest state.
//
// Threads: one http::Server with `threads` network threads listens on every endpoint's port;
// no thread per endpoint. Scrapes of one node's endpoints serialise on that node's lock.
//
// For `tyto serve --demo` (and tests), in-process:
//   simulate::FleetOptions o;                      // 4 nodes x 8 GPUs, ports picked by the kernel
//   auto fleet = simulate::Fleet::Create(o, Clock::Real());
//   if (!fleet.ok()) ...;
//   if (Status s = (*fleet)->Start(); !s.ok()) ...;
//   for (const simulate::Endpoint& e : (*fleet)->endpoints()) Scrape(e.address, e.job);
//   std::string sd = (*fleet)->TargetsJson();      // Prometheus file_sd, by job
//   (*fleet)->StartTraffic(traffic_options, sender_options);  // optional: inference traffic
//   (*fleet)->Stop();                              // also done by the destructor
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simulate/scenario.h"
#include "simulate/traffic.h"
#include "simulate/traffic_sender.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::simulate {

enum class Exporter { kDcgm, kNode, kVllm, kTgi, kTriton };

// The Prometheus job name of an exporter: "dcgm", "node", "vllm", "tgi", "triton".
std::string_view JobName(Exporter exporter);

struct FleetOptions {
  int nodes = 4;
  int gpus_per_node = 8;
  uint64_t seed = 42;
  // Endpoints listen on listen_host, on consecutive ports from base_port in the order of
  // endpoints(); base_port 0 lets the kernel pick a free port for each.
  std::string listen_host = "127.0.0.1";
  uint16_t base_port = 0;
  // The scenario; empty incidents and default traffic when not set. Use DefaultScenario() for
  // the demo's incidents.
  Scenario scenario;
  // The model's time step: counters and gauges change once per tick.
  std::chrono::milliseconds tick{1000};
  int threads = 2;  // network threads serving every endpoint
};

struct Endpoint {
  Exporter exporter = Exporter::kDcgm;
  int node = 0;
  int replica = -1;      // model-server replica on the node; -1 for dcgm and node exporters
  std::string hostname;  // the simulated node's name, "gpu-node-000"
  std::string address;   // "127.0.0.1:41234" once started; empty before
  std::string job() const { return std::string(JobName(exporter)); }
};

// What a scrape of one endpoint returns.
struct Page {
  int status = 200;  // 503 while the scenario has the replica down
  std::string content_type;
  std::string body;
};

class Fleet {
 public:
  // Builds the fleet and its model at the clock's current time; nothing listens yet. Fails with
  // kInvalidArgument on a bad shape (nodes 1..10000, GPUs 1..64) or a scenario naming a node,
  // GPU or replica the fleet lacks. `clock` must outlive the fleet.
  static Result<std::unique_ptr<Fleet>> Create(const FleetOptions& options, Clock* clock);
  ~Fleet();

  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Binds every endpoint's port and starts serving. On failure (a port in use) nothing is left
  // listening and the error names the endpoint and port. Call once.
  Status Start();
  // Stops serving, and sending traffic; idempotent. The model can still be scraped in-process.
  void Stop();

  // Starts sending simulated inference traffic (traffic.h: spans, logs and events of the vLLM
  // replicas) to a Tyto, from the clock's current tick on, on a thread of its own
  // (traffic_sender.h). Independent of Start. Once; kInvalidArgument for a bad URL or option,
  // kFailedPrecondition when already sending.
  Status StartTraffic(const TrafficOptions& traffic, TrafficSenderOptions sender);
  // The sender's counters; all zero when not sending.
  TrafficStats traffic_stats() const;
  // A traffic generator over this fleet's model, for tests and benchmarks (the sender uses its
  // own). Valid while the fleet lives.
  std::unique_ptr<TrafficGenerator> NewTrafficGenerator(const TrafficOptions& options) const;

  // Every endpoint in port order: per node, dcgm, node, then its model-server replicas.
  const std::vector<Endpoint>& endpoints() const;

  // Renders endpoint `index`'s /metrics as a scrape at the clock's current time would get it.
  // Thread-safe. The same call the HTTP listeners make; tests and benchmarks use it directly.
  Page Scrape(size_t index);

  // The Prometheus file_sd document listing every started endpoint, one group per job:
  //   [{"targets":["127.0.0.1:41234",...],"labels":{"job":"dcgm"}}, ...]
  std::string TargetsJson() const;
  // Writes TargetsJson() to `path` atomically (file_sd watchers never see half a file).
  Status WriteTargetsFile(Env* env, const std::string& path) const;

  // The scenario's start: incident times are offsets from this instant.
  int64_t start_unix_millis() const;
  // The fleet-wide request rate (requests/s) the model applies at `unix_millis`.
  double FleetRequestRate(int64_t unix_millis) const;

  struct Impl;  // the model and the server, defined in fleet.cc

 private:
  explicit Fleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tyto::simulate
