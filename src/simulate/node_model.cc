// NodeModel's construction and dynamics; rendering is in node_render.cc.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "simulate/node_model.h"
#include "simulate/traffic_models.h"

namespace tyto::simulate {
namespace {

constexpr double kPi = 3.141592653589793;
constexpr double kFbTotalMiB = 81559;  // NVIDIA H100 80GB HBM3
constexpr double kMaxSmClockMHz = 1980;
constexpr double kIdleSmClockMHz = 345;
constexpr double kPowerLimitW = 700;
constexpr double kMaxRunning = 256;  // vLLM's max_num_seqs

// NVML clock throttle reasons (DCGM_FI_DEV_CLOCK_THROTTLE_REASONS is their bit mask).
constexpr uint32_t kThrottleGpuIdle = 0x1;
constexpr uint32_t kThrottleSwPowerCap = 0x4;
constexpr uint32_t kThrottleSwThermal = 0x20;
constexpr uint32_t kThrottleHwThermal = 0x40;

// Short chat turns, so that a replica's capacity (kRequestsPerGpu x tensor_parallel) fits its
// batch: at 60% load about half of max_num_seqs run (Little's law) and the KV cache is half full.
const ModelSpec kVllmModel{"meta-llama/Llama-3.1-70B-Instruct", 4, 1000, 180, 0.15, 0.02};
const ModelSpec kTgiModel{"mistralai/Mixtral-8x7B-Instruct-v0.1", 2, 900, 200, 0.12, 0.015};
const ModelSpec kTritonModel{"ensemble", 4, 1200, 200, 0.15, 0.018};  // TensorRT-LLM behind Triton

// Histogram bounds as the real servers use them.
const std::vector<double> kVllmTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25,
                                              0.5,   0.75,  1.0,  2.5,  5.0,  7.5,  10.0};
const std::vector<double> kVllmTpotBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                              0.3,  0.4,   0.5,  0.75,  1.0, 2.5};
const std::vector<double> kVllmE2eBuckets = {1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0};
const std::vector<double> kTgiDurationBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60};
const std::vector<double> kTgiTokenBuckets = {1, 8, 32, 128, 256, 512, 1024, 2048, 4096, 8192};

double Clamp(double v, double lo, double hi) { return std::min(hi, std::max(lo, v)); }

// Smooth noise in [-1, 1]: value noise over one-minute knots, a pure function of time.
double SmoothNoise(uint64_t seed, double t_seconds) {
  const double knot = t_seconds / 60.0;
  const double k0 = std::floor(knot);
  auto at = [seed](double k) {
    return static_cast<double>(MixSeed(seed, static_cast<uint64_t>(static_cast<int64_t>(k))) >> 11) * 0x1.0p-53 * 2 - 1;
  };
  const double f = knot - k0;
  const double s = f * f * (3 - 2 * f);
  return at(k0) * (1 - s) + at(k0 + 1) * s;
}

// The top `digits` hex digits of v (1 to 16), zero-padded.
std::string Hex(uint64_t v, int digits) {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%0*llx", digits, static_cast<unsigned long long>(v >> (64 - 4 * digits)));
  return buf;
}

}  // namespace

ServerKind KindOfNode(int node) {
  switch (node % 3) {
    case 0:
      return ServerKind::kVllm;
    case 1:
      return ServerKind::kTgi;
    default:
      return ServerKind::kTriton;
  }
}

// --- FleetContext ------------------------------------------------------------------------------

double FleetContext::RequestRate(int64_t unix_ms) const {
  const double t_s = static_cast<double>(unix_ms) / 1000.0;
  const double day_phase = std::fmod(t_s, 86400.0) / 86400.0;  // 0 at 00:00 UTC
  const double diurnal = 1 + scenario.traffic.diurnal_amplitude * std::sin(2 * kPi * (day_phase - 8.0 / 24.0));
  const double noise = 1 + scenario.traffic.noise * SmoothNoise(MixSeed(seed, 0x7417), t_s);
  double level = base_rps;
  const auto offset = Offset(unix_ms);
  for (const Incident& inc : scenario.incidents) {
    if (inc.kind != IncidentKind::kTrafficChange || !inc.ActiveAt(offset)) continue;
    const double target = inc.requests_per_second > 0 ? inc.requests_per_second : base_rps * inc.factor;
    level += (target - level) * inc.RampAt(offset);
  }
  return std::max(0.0, level * diurnal * noise);
}

bool FleetContext::ReplicaDown(int node, int replica, int64_t unix_ms) const {
  const auto offset = Offset(unix_ms);
  for (const Incident& inc : scenario.incidents) {
    if (inc.kind == IncidentKind::kReplicaDown && inc.node == node && inc.replica == replica && inc.ActiveAt(offset)) {
      return true;
    }
  }
  return false;
}

double FleetContext::UpCapacity(int64_t unix_ms) const {
  double up = total_capacity;
  const auto offset = Offset(unix_ms);
  for (const Incident& inc : scenario.incidents) {
    if (inc.kind == IncidentKind::kReplicaDown && inc.ActiveAt(offset)) up -= capacity[inc.node][inc.replica];
  }
  return std::max(up, 1e-9);
}

// --- HistogramState ----------------------------------------------------------------------------

void HistogramState::ObserveLognormal(double n, double median, double sigma) {
  if (n <= 0) return;
  const double mu = std::log(median);
  for (size_t i = 0; i < bounds->size(); ++i) {
    const double z = (std::log((*bounds)[i]) - mu) / (sigma * 1.4142135623730951);
    // Rounding each cumulative count keeps them non-decreasing across buckets: the CDF is.
    cumulative[i] += std::round(n * 0.5 * (1 + std::erf(z)));
  }
  cumulative.back() += n;
  sum += n * std::exp(mu + sigma * sigma / 2);
}

// --- NodeModel ---------------------------------------------------------------------------------

const ModelSpec& NodeModel::ModelFor(ServerKind kind) {
  switch (kind) {
    case ServerKind::kVllm:
      return kVllmModel;
    case ServerKind::kTgi:
      return kTgiModel;
    case ServerKind::kTriton:
      return kTritonModel;
  }
  return kVllmModel;
}

int NodeModel::TensorParallelFor(ServerKind kind, int gpus) { return std::min(ModelFor(kind).tensor_parallel, gpus); }

int NodeModel::ReplicasFor(ServerKind kind, int gpus) { return gpus / TensorParallelFor(kind, gpus); }

NodeModel::NodeModel(const FleetContext* ctx, int index, ServerKind kind)
    : ctx_(ctx), index_(index), kind_(kind), rng_(MixSeed(ctx->seed, static_cast<uint64_t>(index) + 1)) {
  char host[32];
  std::snprintf(host, sizeof(host), "gpu-node-%03d", index);
  hostname_ = host;
  const double start_s = static_cast<double>(ctx_->start_ms) / 1000.0;

  // Replicas: consecutive GPUs, tensor_parallel each.
  const ModelSpec& model = ModelFor(kind);
  const int tp = TensorParallelFor(kind, ctx_->gpus_per_node);
  const int n_replicas = ReplicasFor(kind, ctx_->gpus_per_node);
  for (int r = 0; r < n_replicas; ++r) {
    ReplicaState rep;
    rep.index = r;
    rep.kind = kind;
    rep.model = &model;
    rep.first_gpu = r * tp;
    rep.capacity = ctx_->capacity[static_cast<size_t>(index)][static_cast<size_t>(r)];
    switch (kind) {
      case ServerKind::kVllm:
        rep.model_label = "model_name=\"" + std::string(model.name) + "\",simulated=\"true\"";
        rep.ttft_hist.Init(&kVllmTtftBuckets);
        rep.tpot_hist.Init(&kVllmTpotBuckets);
        rep.e2e_hist.Init(&kVllmE2eBuckets);
        rep.queue_hist.Init(&kVllmE2eBuckets);
        break;
      case ServerKind::kTgi:
        rep.model_label = "simulated=\"true\"";  // TGI serves one model and does not label it
        rep.ttft_hist.Init(&kTgiDurationBuckets);
        rep.tpot_hist.Init(&kTgiDurationBuckets);
        rep.e2e_hist.Init(&kTgiDurationBuckets);
        rep.queue_hist.Init(&kTgiDurationBuckets);
        break;
      case ServerKind::kTriton:
        rep.model_label = "model=\"" + std::string(model.name) + "\",version=\"1\",simulated=\"true\"";
        rep.ttft_hist.Init(&kTgiDurationBuckets);
        rep.tpot_hist.Init(&kTgiDurationBuckets);
        rep.e2e_hist.Init(&kTgiDurationBuckets);
        rep.queue_hist.Init(&kTgiDurationBuckets);
        break;
    }
    rep.prompt_hist.Init(&kTgiTokenBuckets);
    rep.generation_hist.Init(&kTgiTokenBuckets);
    rep.ar = 0.02 * rng_.Normal();
    // Running for a while already: a history consistent with its counters.
    const double uptime = rng_.Uniform(3600, 3 * 86400);
    rep.process_start_s = std::floor(start_s - uptime);
    FillReplica(rep, std::round(uptime * rep.capacity * 0.45));
    replicas_.push_back(std::move(rep));
  }

  // GPUs.
  for (int g = 0; g < ctx_->gpus_per_node; ++g) {
    GpuState gpu;
    gpu.index = g;
    gpu.replica = g / tp < n_replicas ? g / tp : -1;
    // One draw per statement: the order of operands of + is unspecified, and a seed must give
    // the same UUIDs with every compiler.
    gpu.uuid = "GPU-" + Hex(rng_.Next(), 8);
    for (int digits : {4, 4, 4, 12}) gpu.uuid += "-" + Hex(rng_.Next(), digits);
    char bus[32];
    std::snprintf(bus, sizeof(bus), "00000000:%02X:00.0", (0x18 + 0x10 * g) & 0xff);
    gpu.pci_bus_id = bus;
    gpu.labels = "gpu=\"" + std::to_string(g) + "\",UUID=\"" + gpu.uuid + "\",device=\"nvidia" + std::to_string(g) +
                 "\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"" + hostname_ + "\",pci_bus_id=\"" +
                 gpu.pci_bus_id + "\",DCGM_FI_DRIVER_VERSION=\"550.54.15\",simulated=\"true\"";
    gpu.temp_bias = rng_.Uniform(-3, 3);
    gpu.temp = 32 + gpu.temp_bias;
    gpu.energy_mj = std::floor(rng_.Uniform(1e9, 5e9));
    gpu.fb_used = gpu.replica >= 0 ? std::round(kFbTotalMiB * 0.9 + rng_.Uniform(0, 200)) : 0;
    gpus_.push_back(std::move(gpu));
  }

  // Host.
  const double uptime = rng_.Uniform(2e5, 3e6);
  host_.boot_time = std::floor(start_s - uptime);
  for (auto& cpu : host_.cpu) {
    const std::array<double, 8> share = {0.62, 0.004, 0.001, 0.002, 0.006, 0.0, 0.07, 0.297};
    for (size_t m = 0; m < cpu.size(); ++m) cpu[m] = std::round(uptime * share[m] * rng_.Uniform(0.9, 1.1) * 100) / 100;
  }
  host_.mem_total = 2164157612032;
  host_.mem_available = host_.mem_total * 0.8;
  for (size_t i = 0; i < host_.rx.size(); ++i) {
    host_.rx[i] = std::floor(rng_.Uniform(1e11, 1e13));
    host_.tx[i] = std::floor(rng_.Uniform(1e11, 1e13));
  }
  host_.disk_read = std::floor(uptime * 2e6);
  host_.disk_written = std::floor(uptime * 5e6);
  host_.disk_reads = std::floor(uptime * 40);
  host_.disk_writes = std::floor(uptime * 90);
  host_.disk_io_time = std::round(uptime * 0.02 * 1000) / 1000;
  host_.fs_size = 3779297161216;
  host_.fs_avail = std::floor(host_.fs_size * rng_.Uniform(0.3, 0.6));

  Step(0);
}

void NodeModel::FillReplica(ReplicaState& r, double n) {
  const ModelSpec& m = *r.model;
  const double length_share = 0.04;
  r.success_length = std::round(n * length_share);
  r.success_stop = n - r.success_length;
  r.prompt_tokens = std::round(n * m.prompt_tokens);
  r.generation_tokens = std::round(n * m.output_tokens);
  r.ttft_hist.ObserveLognormal(n, m.ttft_seconds * 1.3, 0.6);
  r.tpot_hist.ObserveLognormal(n, m.tpot_seconds * 1.2, 0.3);
  const double e2e = m.ttft_seconds * 1.3 + m.output_tokens * m.tpot_seconds * 1.2;
  r.e2e_hist.ObserveLognormal(n, e2e, 0.5);
  r.queue_hist.ObserveLognormal(n, 0.002, 1.0);
  r.prompt_hist.ObserveLognormal(n, m.prompt_tokens, 0.5);
  r.generation_hist.ObserveLognormal(n, m.output_tokens, 0.5);
  r.exec_count = std::round(n / 8);
  r.request_us = std::round(n * e2e * 1e6);
  r.queue_us = std::round(n * 0.003 * 1e6);
  r.input_us = std::round(n * 0.0004 * 1e6);
  r.output_us = std::round(n * 0.0002 * 1e6);
  r.infer_us = r.request_us - r.queue_us - r.input_us - r.output_us;
}

void NodeModel::RestartReplica(ReplicaState& r, double now_s) {
  ReplicaState fresh;
  fresh.index = r.index;
  fresh.kind = r.kind;
  fresh.model = r.model;
  fresh.first_gpu = r.first_gpu;
  fresh.capacity = r.capacity;
  fresh.model_label = r.model_label;
  fresh.ttft_hist.Init(r.ttft_hist.bounds);
  fresh.tpot_hist.Init(r.tpot_hist.bounds);
  fresh.e2e_hist.Init(r.e2e_hist.bounds);
  fresh.queue_hist.Init(r.queue_hist.bounds);
  fresh.prompt_hist.Init(r.prompt_hist.bounds);
  fresh.generation_hist.Init(r.generation_hist.bounds);
  fresh.ar = r.ar;
  fresh.process_start_s = std::floor(now_s);
  r = std::move(fresh);
}

void NodeModel::AdvanceTo(int64_t tick) {
  while (tick_ < tick) Step(tick_ + 1);
}

void NodeModel::Step(int64_t tick) {
  tick_ = tick;
  const int64_t t_ms = ctx_->start_ms + tick * ctx_->tick_ms;
  const double dt = tick == 0 ? 0.0 : static_cast<double>(ctx_->tick_ms) / 1000.0;
  double load_sum = 0;
  for (ReplicaState& r : replicas_) {
    StepReplica(r, t_ms, dt);
    load_sum += r.busy;
  }
  node_load_ = replicas_.empty() ? 0 : load_sum / static_cast<double>(replicas_.size());
  for (GpuState& g : gpus_) StepGpu(g, t_ms, dt);
  StepHost(dt);
}

void NodeModel::StepReplica(ReplicaState& r, int64_t t_ms, double dt) {
  const ModelSpec& m = *r.model;
  const auto offset = ctx_->Offset(t_ms);
  const bool down = ctx_->ReplicaDown(index_, r.index, t_ms);
  r.tick_served = r.tick_length = r.tick_refused = r.tick_failed = 0;
  if (down) {
    r.up = false;
    r.busy = r.running = r.waiting = r.kv_cache = r.lambda = 0;
    return;
  }
  if (!r.up) RestartReplica(r, static_cast<double>(t_ms) / 1000.0);  // back: a new process

  // Incidents on this replica.
  double slowdown = 1, latency_factor = 1;
  for (const Incident& inc : ctx_->scenario.incidents) {
    if (inc.node != index_ || inc.replica != r.index || !inc.ActiveAt(offset)) continue;
    if (inc.kind == IncidentKind::kQueueBuildup) slowdown *= 1 + (inc.slowdown - 1) * inc.RampAt(offset);
    if (inc.kind == IncidentKind::kLatencyIncrease) latency_factor *= 1 + (inc.factor - 1) * inc.RampAt(offset);
  }

  r.ar = 0.95 * r.ar + 0.02 * rng_.Normal();
  r.lambda = std::max(0.0, ctx_->RequestRate(t_ms) * r.capacity / ctx_->UpCapacity(t_ms) * (1 + r.ar));
  const double capacity = r.capacity / slowdown;
  const double arrivals = static_cast<double>(rng_.Poisson(r.lambda * dt));
  double backlog = r.waiting + arrivals;
  const double served = std::min(backlog, static_cast<double>(rng_.Poisson(capacity * dt)));
  backlog -= served;
  double refused = 0;
  if (backlog > kMaxWaiting) {
    refused = backlog - kMaxWaiting;
    backlog = kMaxWaiting;
  }
  const double rho = capacity > 0 ? std::min(1.0, r.lambda / capacity) : 1.0;
  r.busy = dt > 0 ? Clamp(std::max(rho, served / std::max(capacity * dt, 1e-9)), 0, 1) : rho;
  r.waiting = backlog;
  r.queue_seconds = backlog / std::max(capacity, 1e-9);

  // Latencies: per-token time grows with the batch, the first token with load and queueing.
  r.tpot = m.tpot_seconds * (1 + 0.8 * rho) * latency_factor;
  r.ttft = (m.ttft_seconds * (1 + 2 * rho * rho)) * latency_factor + r.queue_seconds;
  const double e2e = r.ttft + m.output_tokens * r.tpot;
  const double target_running = std::min(kMaxRunning * m.tensor_parallel / 4.0, r.lambda * (e2e - r.queue_seconds));
  r.running = std::max(0.0, std::round(target_running + std::sqrt(std::max(target_running, 0.0)) * 0.3 * rng_.Normal()));
  const double kv_target = Clamp(0.02 + 0.93 * r.running / (kMaxRunning * m.tensor_parallel / 4.0) + 0.05 * (backlog > 0), 0, 1);
  r.kv_cache = dt > 0 ? r.kv_cache + (kv_target - r.kv_cache) * (1 - std::exp(-dt / 20)) : kv_target;

  // Completed requests.
  const double n = served;
  if (n > 0) {
    // 4% of answers run to max_tokens; more while a quality_drop has the model ramble.
    const double quality = ConditionsAt(ctx_->scenario, m.name, offset).quality;
    const double length = static_cast<double>(rng_.Poisson(n * (0.04 + 0.10 * quality)));
    const double length_n = std::min(n, length);
    r.tick_length = length_n;
    r.success_length += length_n;
    r.success_stop += n - length_n;
    const double prompt = std::round(n * m.prompt_tokens * rng_.Uniform(0.9, 1.1));
    const double generated = std::round(n * m.output_tokens * rng_.Uniform(0.9, 1.1));
    r.prompt_tokens += prompt;
    r.generation_tokens += generated;
    r.ttft_hist.ObserveLognormal(n, r.ttft, 0.6);
    r.tpot_hist.ObserveLognormal(n, r.tpot, 0.3);
    r.e2e_hist.ObserveLognormal(n, e2e, 0.5);
    r.queue_hist.ObserveLognormal(n, std::max(r.queue_seconds, 0.001), 0.8);
    r.prompt_hist.ObserveLognormal(n, m.prompt_tokens, 0.5);
    r.generation_hist.ObserveLognormal(n, m.output_tokens, 0.5);
    const double batch = std::max(1.0, r.running / 4);
    r.exec_count += std::max(1.0, std::round(n / batch));
    r.request_us += std::round(n * e2e * 1e6);
    r.queue_us += std::round(n * r.queue_seconds * 1e6);
    r.input_us += std::round(n * 0.0004 * 1e6);
    r.output_us += std::round(n * 0.0002 * 1e6);
    r.infer_us += std::round(n * (e2e - r.queue_seconds) * 1e6);
  }
  const double failed = refused + static_cast<double>(rng_.Poisson(n * 0.001));
  r.rejected += refused;
  r.failures += failed;
  r.tick_served = n;
  r.tick_refused = refused;
  r.tick_failed = failed;
  if (r.kv_cache > 0.97) r.preemptions += static_cast<double>(rng_.Poisson(2 * dt));
}

void NodeModel::StepGpu(GpuState& g, int64_t t_ms, double dt) {
  const auto offset = ctx_->Offset(t_ms);
  const ReplicaState* r = g.replica >= 0 ? &replicas_[static_cast<size_t>(g.replica)] : nullptr;
  const bool loaded = r != nullptr && r->up;
  const double busy = loaded ? r->busy : 0;

  double overheat = 0, xid = 0, sbe_rate = 0;
  for (const Incident& inc : ctx_->scenario.incidents) {
    if (inc.node != index_ || inc.gpu != g.index) continue;
    if (inc.kind == IncidentKind::kEccErrors && offset >= inc.at && ctx_->Offset(t_ms - ctx_->tick_ms) < inc.at) {
      g.dbe += inc.dbe;  // counted once, at the start
    }
    if (!inc.ActiveAt(offset)) continue;
    if (inc.kind == IncidentKind::kGpuOverheat) overheat = std::max(overheat, inc.temperature * inc.RampAt(offset));
    if (inc.kind == IncidentKind::kXidError) xid = inc.xid;
    if (inc.kind == IncidentKind::kEccErrors) sbe_rate += inc.sbe_per_minute / 60.0;
  }

  g.util = busy > 0 ? Clamp(std::round(busy * 97 + 2 * rng_.Normal()), 1, 100) : 0;
  g.mem_copy_util = g.util > 0 ? Clamp(std::round(g.util * 0.55 + 2 * rng_.Normal()), 0, 100) : 0;
  const double normal_target = 31 + g.temp_bias + g.util * 0.42;
  const double target = overheat > 0 ? std::max(normal_target, overheat + g.temp_bias / 3) : normal_target;
  g.temp = dt > 0 ? g.temp + (target - g.temp) * (1 - std::exp(-dt / 40)) : target;
  uint32_t throttle = 0;
  double clock = g.util > 0 ? kMaxSmClockMHz : kIdleSmClockMHz;
  if (g.util == 0) throttle |= kThrottleGpuIdle;
  if (g.temp >= 87) {
    throttle |= kThrottleSwThermal | kThrottleHwThermal;
    clock = std::max(705.0, kMaxSmClockMHz - (g.temp - 85) * 110);
  }
  g.sm_clock = std::round(clock / 15) * 15;
  double power = 68 + 6.2 * g.util * (g.sm_clock / kMaxSmClockMHz) + 3 * rng_.Normal();
  if (power > kPowerLimitW) {
    power = kPowerLimitW;
    throttle |= kThrottleSwPowerCap;
  }
  g.power = std::round(std::max(55.0, power) * 1000) / 1000;
  g.throttle = throttle;
  g.energy_mj += std::floor(g.power * dt * 1000);
  g.xid = xid;
  g.sbe += static_cast<double>(rng_.Poisson(sbe_rate * dt));
  // The model's weights and KV cache are allocated at start-up: steady while loaded.
  if (loaded) {
    if (g.fb_used == 0) g.fb_used = std::round(kFbTotalMiB * 0.9 + rng_.Uniform(0, 200));
    if (rng_.Uniform() < 0.01 * dt) g.fb_used += rng_.Uniform() < 0.5 ? -2 : 2;
  } else if (r != nullptr) {
    g.fb_used = 0;
  }
  const double gr = g.util > 0 ? Clamp(g.util / 100 * 0.95 + 0.01 * rng_.Normal(), 0, 1) : 0;
  g.gr_active = std::round(gr * 1e6) / 1e6;
  g.sm_active = std::round(gr * 0.92 * 1e6) / 1e6;
  g.tensor_active = std::round(gr * 0.58 * 1e6) / 1e6;
  g.dram_active = std::round(Clamp(gr * 0.78 + 0.01 * rng_.Normal(), 0, 1) * (gr > 0) * 1e6) / 1e6;
}

void NodeModel::StepHost(double dt) {
  const double busy = 0.05 + 0.25 * node_load_;
  for (auto& cpu : host_.cpu) {
    const double user = dt * busy * rng_.Uniform(0.7, 1.3);
    const double system = dt * 0.06 * rng_.Uniform(0.5, 1.5);
    const double iowait = dt * 0.004 * rng_.Uniform();
    const double softirq = dt * 0.006 * rng_.Uniform();
    const double irq = dt * 0.001 * rng_.Uniform();
    const double nice = dt * 0.002 * rng_.Uniform();
    const double idle = std::max(0.0, dt - user - system - iowait - softirq - irq - nice);
    const std::array<double, 8> add = {idle, iowait, irq, nice, softirq, 0.0, system, user};
    for (size_t m = 0; m < cpu.size(); ++m) cpu[m] = std::round((cpu[m] + add[m]) * 100) / 100;
  }
  host_.mem_available = std::floor(host_.mem_total * (0.82 - 0.1 * node_load_) + 2e8 * rng_.Normal());
  const double runnable = std::max(0.0, HostState::kCpus * busy + 0.5 * rng_.Normal());
  if (dt == 0) {
    host_.load1 = host_.load5 = host_.load15 = runnable;
  } else {
    host_.load1 = runnable + (host_.load1 - runnable) * std::exp(-dt / 60);
    host_.load5 = runnable + (host_.load5 - runnable) * std::exp(-dt / 300);
    host_.load15 = runnable + (host_.load15 - runnable) * std::exp(-dt / 900);
  }
  for (size_t i = 0; i < host_.rx.size(); ++i) {
    const double rate = i == 0 ? 2e6 + 4e7 * node_load_ : 4e8 * node_load_;
    host_.rx[i] += std::floor(rate * dt * rng_.Uniform(0.8, 1.2));
    host_.tx[i] += std::floor(rate * 0.6 * dt * rng_.Uniform(0.8, 1.2));
  }
  host_.disk_read += std::floor(dt * 2e6 * rng_.Uniform(0.5, 1.5));
  host_.disk_written += std::floor(dt * 5e6 * rng_.Uniform(0.5, 1.5));
  host_.disk_reads += std::floor(dt * 40 * rng_.Uniform(0.5, 1.5));
  host_.disk_writes += std::floor(dt * 90 * rng_.Uniform(0.5, 1.5));
  host_.disk_io_time += std::round(dt * 0.02 * rng_.Uniform(0.5, 1.5) * 1000) / 1000;
  host_.fs_avail -= std::floor(dt * rng_.Uniform(0, 1.5e5));
}

}  // namespace tyto::simulate
