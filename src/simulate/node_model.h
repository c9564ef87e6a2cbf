// The model behind the simulated fleet: one NodeModel per node holds its GPUs, its host and its
// model-server replicas, advances them tick by tick, and renders each exporter's page.
// Internal to src/simulate; the public face is fleet.h.
//
// The dynamics, per tick of dt seconds:
//   - Fleet traffic (requests/s) = base x (1 + A sin(daily phase, peak 14:00 UTC)) x (1 + smooth
//     noise) x traffic_change incidents; a pure function of time (FleetContext::RequestRate),
//     split over replicas in proportion to capacity among those up (a load balancer).
//   - A replica: arrivals ~ Poisson; it serves up to its capacity (divided by a queue_buildup
//     slowdown); the rest waits (capped at kMaxWaiting; beyond it requests fail). Latencies grow
//     with load, queueing and latency_increase incidents; each completed request is observed in
//     the histograms (lognormal latencies) and counted with its tokens; 4% finish by length
//     (max_tokens), up to 14% during a quality_drop on its model. Concurrency (running) follows
//     Little's law; KV-cache usage follows concurrency with a lag.
//   - A GPU: utilisation follows its replica's busy fraction; power follows utilisation and
//     clock; temperature relaxes towards a target set by utilisation (and gpu_overheat), and
//     above 87 C clocks drop and the thermal throttle reasons are set; framebuffer use is steady
//     while the model is loaded; energy, ECC counters only grow.
//   - The host: CPU seconds by mode, load averages, memory, network and disk counters follow the
//     node's load.
//   - replica_down: the replica's endpoint answers 503 and its GPUs idle; when it comes back it
//     is a new process: its counters and histograms start from zero.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulate/random.h"
#include "simulate/scenario.h"

namespace tyto::simulate {

enum class ServerKind { kVllm, kTgi, kTriton };

// What node `node` runs: vLLM, TGI or Triton for node % 3 == 0, 1, 2.
ServerKind KindOfNode(int node);

struct ModelSpec {
  std::string_view name;
  int tensor_parallel;
  double prompt_tokens;  // mean per request
  double output_tokens;
  double ttft_seconds;  // median time to first token, idle
  double tpot_seconds;  // median time per output token, idle
};

// Requests per second one GPU serves at full load; a replica serves tensor_parallel times this.
// 4 nodes x 8 GPUs at 60% load is 200 requests/s, the demo's figure.
inline constexpr double kRequestsPerGpu = 200.0 / (0.6 * 32);
inline constexpr double kMaxWaiting = 2000;  // queued requests beyond this are refused

// The fleet-wide, read-only part of the model, shared by every node.
struct FleetContext {
  uint64_t seed = 0;
  int64_t start_ms = 0;  // tick 0
  int64_t tick_ms = 1000;
  int gpus_per_node = 8;
  Scenario scenario;
  double base_rps = 0;      // fleet-wide requests/s at the daily mean
  double total_capacity = 0;  // requests/s, every replica up
  std::vector<std::vector<double>> capacity;  // [node][replica], requests/s

  // Fleet-wide requests/s at this instant.
  double RequestRate(int64_t unix_ms) const;
  // Capacity of the replicas not down at this instant.
  double UpCapacity(int64_t unix_ms) const;
  bool ReplicaDown(int node, int replica, int64_t unix_ms) const;
  std::chrono::milliseconds Offset(int64_t unix_ms) const { return std::chrono::milliseconds(unix_ms - start_ms); }
};

// Cumulative bucket counts and a sum, as exposed.
struct HistogramState {
  const std::vector<double>* bounds = nullptr;  // upper bounds, ascending; +Inf implied
  std::vector<double> cumulative;               // bounds->size() + 1 entries; the last is _count
  double sum = 0;

  void Init(const std::vector<double>* b) {
    bounds = b;
    cumulative.assign(b->size() + 1, 0);
    sum = 0;
  }
  // Adds `n` observations of a lognormal with this median and sigma (log space).
  void ObserveLognormal(double n, double median, double sigma);
  double count() const { return cumulative.back(); }
};

struct GpuState {
  int index = 0;
  int replica = -1;  // the replica using it; -1: none
  std::string uuid;
  std::string pci_bus_id;
  std::string labels;  // rendered: gpu="0",UUID="...",...,simulated="true"
  double temp_bias = 0;
  // Dynamic.
  double util = 0;  // 0..100, integer-valued
  double mem_copy_util = 0;
  double temp = 35;
  double power = 70;
  double sm_clock = 345;
  double energy_mj = 0;
  double fb_used = 0;  // MiB, integer-valued
  double xid = 0;
  double sbe = 0;
  double dbe = 0;
  double throttle = 0;  // bit mask, DCGM_FI_DEV_CLOCK_THROTTLE_REASONS
  double gr_active = 0, sm_active = 0, tensor_active = 0, dram_active = 0;
};

struct ReplicaState {
  int index = 0;
  ServerKind kind = ServerKind::kVllm;
  const ModelSpec* model = nullptr;
  int first_gpu = 0;
  double capacity = 0;  // requests/s
  std::string model_label;  // rendered model label(s) plus simulated="true"
  // Dynamic.
  bool up = true;
  double process_start_s = 0;
  double ar = 0;  // AR(1) noise on its share of traffic
  double lambda = 0;  // arrivals/s at the last tick
  double busy = 0;    // fraction of capacity in use, 0..1
  double waiting = 0, running = 0, kv_cache = 0;
  double queue_seconds = 0, ttft = 0, tpot = 0;
  double success_stop = 0, success_length = 0, failures = 0, rejected = 0;
  // What the last tick added: requests completed (of which finished by length), refused because
  // the queue was full, and failed (the refused among them). The simulated traffic (traffic.h)
  // draws its requests from these.
  double tick_served = 0, tick_length = 0, tick_refused = 0, tick_failed = 0;
  double prompt_tokens = 0, generation_tokens = 0, preemptions = 0;
  double exec_count = 0;  // Triton: batches executed
  double queue_us = 0, infer_us = 0, request_us = 0, input_us = 0, output_us = 0;  // Triton
  HistogramState ttft_hist, tpot_hist, e2e_hist, queue_hist, prompt_hist, generation_hist;
};

struct HostState {
  static constexpr int kCpus = 32;
  static constexpr std::array<std::string_view, 8> kModes = {"idle", "iowait", "irq", "nice",
                                                             "softirq", "steal", "system", "user"};
  std::array<std::array<double, kModes.size()>, kCpus> cpu{};
  double mem_total = 0, mem_available = 0;
  double load1 = 0, load5 = 0, load15 = 0;
  std::array<double, 3> rx{}, tx{};  // eth0, ib0, ib1
  double disk_read = 0, disk_written = 0, disk_io_time = 0, disk_reads = 0, disk_writes = 0;
  double fs_size = 0, fs_avail = 0;
  double boot_time = 0;
};

class NodeModel {
 public:
  // Builds node `index` at tick 0. `ctx` must outlive the model.
  NodeModel(const FleetContext* ctx, int index, ServerKind kind);

  // Advances the state to `tick` (no-op when already there or past).
  void AdvanceTo(int64_t tick);
  int64_t tick() const { return tick_; }

  int index() const { return index_; }
  const std::string& hostname() const { return hostname_; }
  ServerKind kind() const { return kind_; }
  const std::vector<ReplicaState>& replicas() const { return replicas_; }
  const std::vector<GpuState>& gpus() const { return gpus_; }

  // Pages in the Prometheus text format, appended to *out. `now_ms` is the render time
  // (node_time_seconds).
  void RenderDcgm(std::string* out) const;
  void RenderNodeExporter(int64_t now_ms, std::string* out) const;
  void RenderReplica(int replica, std::string* out) const;

  // Replicas a node of this kind runs on `gpus` GPUs, and the model they serve.
  static const ModelSpec& ModelFor(ServerKind kind);
  static int ReplicasFor(ServerKind kind, int gpus);
  static int TensorParallelFor(ServerKind kind, int gpus);

 private:
  void Step(int64_t tick);
  void StepReplica(ReplicaState& r, int64_t t_ms, double dt);
  void StepGpu(GpuState& g, int64_t t_ms, double dt);
  void StepHost(double dt);
  void RestartReplica(ReplicaState& r, double now_s);
  void FillReplica(ReplicaState& r, double n);  // initial history of a replica already running

  const FleetContext* ctx_;
  const int index_;
  const ServerKind kind_;
  std::string hostname_;
  Random rng_;
  int64_t tick_ = 0;
  double node_load_ = 0;
  std::vector<GpuState> gpus_;
  std::vector<ReplicaState> replicas_;
  HostState host_;
};

}  // namespace tyto::simulate
