#include "collect/gpu/gpu_collector.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <condition_variable>
#include <map>
#include <thread>
#include <utility>

#include "common/log.h"
#include "common/mutex.h"

namespace tyto::collect::gpu {
namespace {

const log::Logger& Log() {
  static const log::Logger logger("collect.gpu");
  return logger;
}

// One metric family: dcgm-exporter's name, type and help where dcgm-exporter has the metric.
struct Metric {
  std::string_view name;
  MetricType type;
  std::string_view help;
};

constexpr Metric kGpuUtil{"DCGM_FI_DEV_GPU_UTIL", MetricType::kGauge, "GPU utilization (in %)."};
constexpr Metric kMemCopyUtil{"DCGM_FI_DEV_MEM_COPY_UTIL", MetricType::kGauge, "Memory utilization (in %)."};
constexpr Metric kEncUtil{"DCGM_FI_DEV_ENC_UTIL", MetricType::kGauge, "Encoder utilization (in %)."};
constexpr Metric kDecUtil{"DCGM_FI_DEV_DEC_UTIL", MetricType::kGauge, "Decoder utilization (in %)."};
constexpr Metric kFbTotal{"DCGM_FI_DEV_FB_TOTAL", MetricType::kGauge, "Framebuffer memory total (in MiB)."};
constexpr Metric kFbFree{"DCGM_FI_DEV_FB_FREE", MetricType::kGauge, "Framebuffer memory free (in MiB)."};
constexpr Metric kFbUsed{"DCGM_FI_DEV_FB_USED", MetricType::kGauge, "Framebuffer memory used (in MiB)."};
constexpr Metric kFbReserved{"DCGM_FI_DEV_FB_RESERVED", MetricType::kGauge,
                             "Framebuffer memory reserved by the driver (in MiB)."};
constexpr Metric kGpuTemp{"DCGM_FI_DEV_GPU_TEMP", MetricType::kGauge, "GPU temperature (in C)."};
constexpr Metric kMemoryTemp{"DCGM_FI_DEV_MEMORY_TEMP", MetricType::kGauge, "Memory temperature (in C)."};
constexpr Metric kPowerUsage{"DCGM_FI_DEV_POWER_USAGE", MetricType::kGauge, "Power draw (in W)."};
constexpr Metric kPowerLimit{"DCGM_FI_DEV_POWER_MGMT_LIMIT", MetricType::kGauge, "Power management limit (in W)."};
constexpr Metric kEnergy{"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", MetricType::kCounter,
                         "Total energy consumption since boot (in mJ)."};
constexpr Metric kSmClock{"DCGM_FI_DEV_SM_CLOCK", MetricType::kGauge, "SM clock frequency (in MHz)."};
constexpr Metric kMemClock{"DCGM_FI_DEV_MEM_CLOCK", MetricType::kGauge, "Memory clock frequency (in MHz)."};
constexpr Metric kThrottle{"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", MetricType::kGauge,
                           "Current clock throttle reasons (a bit mask)."};
// Clock violation counters: how long a policy held the clocks below what was asked, since the
// driver loaded. NVML reports nanoseconds; DCGM (and so dcgm-exporter) reports microseconds.
constexpr Metric kPowerViolation{"DCGM_FI_DEV_POWER_VIOLATION", MetricType::kCounter,
                                 "Time the clocks were held down by the power limit (in us)."};
constexpr Metric kThermalViolation{"DCGM_FI_DEV_THERMAL_VIOLATION", MetricType::kCounter,
                                   "Time the clocks were held down by temperature (in us)."};
constexpr Metric kSyncBoostViolation{"DCGM_FI_DEV_SYNC_BOOST_VIOLATION", MetricType::kCounter,
                                     "Time the clocks were held down by sync boost (in us)."};
constexpr Metric kBoardLimitViolation{"DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", MetricType::kCounter,
                                      "Time the clocks were held down by the board's limit (in us)."};
constexpr Metric kLowUtilViolation{"DCGM_FI_DEV_LOW_UTIL_VIOLATION", MetricType::kCounter,
                                   "Time the clocks were held down because of low utilization (in us)."};
constexpr Metric kReliabilityViolation{"DCGM_FI_DEV_RELIABILITY_VIOLATION", MetricType::kCounter,
                                       "Time the clocks were held down by reliability limits (in us)."};
struct ViolationMetric {
  int policy;  // nvmlPerfPolicyType_t
  const Metric* metric;
};
constexpr std::array<ViolationMetric, 6> kViolationMetrics{{
    {nvml::kPerfPolicyPower, &kPowerViolation},
    {nvml::kPerfPolicyThermal, &kThermalViolation},
    {nvml::kPerfPolicySyncBoost, &kSyncBoostViolation},
    {nvml::kPerfPolicyBoardLimit, &kBoardLimitViolation},
    {nvml::kPerfPolicyLowUtilization, &kLowUtilViolation},
    {nvml::kPerfPolicyReliability, &kReliabilityViolation},
}};
constexpr Metric kPcieReplay{"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", MetricType::kCounter, "Total number of PCIe retries."};
constexpr Metric kPcieTx{"DCGM_FI_DEV_PCIE_TX_THROUGHPUT", MetricType::kGauge,
                         "PCIe transmit throughput (in KB/s)."};
constexpr Metric kPcieRx{"DCGM_FI_DEV_PCIE_RX_THROUGHPUT", MetricType::kGauge, "PCIe receive throughput (in KB/s)."};
constexpr Metric kNvLinkBandwidth{"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", MetricType::kCounter,
                                  "Total NVLink data transmitted and received over all links (in KiB)."};
constexpr Metric kNvLinkCrcFlit{"DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", MetricType::kCounter,
                                "Total number of NVLink flow-control CRC errors."};
constexpr Metric kNvLinkCrcData{"DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", MetricType::kCounter,
                                "Total number of NVLink data CRC errors."};
constexpr Metric kNvLinkReplay{"DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", MetricType::kCounter,
                               "Total number of NVLink retries."};
constexpr Metric kNvLinkRecovery{"DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", MetricType::kCounter,
                                 "Total number of NVLink recovery errors."};
constexpr Metric kEccSbeVol{"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", MetricType::kCounter,
                            "Total number of single-bit volatile ECC errors."};
constexpr Metric kEccDbeVol{"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", MetricType::kCounter,
                            "Total number of double-bit volatile ECC errors."};
constexpr Metric kEccSbeAgg{"DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", MetricType::kCounter,
                            "Total number of single-bit persistent ECC errors."};
constexpr Metric kEccDbeAgg{"DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", MetricType::kCounter,
                            "Total number of double-bit persistent ECC errors."};
constexpr Metric kRetiredSbe{"DCGM_FI_DEV_RETIRED_SBE", MetricType::kCounter,
                             "Total number of retired pages due to single-bit errors."};
constexpr Metric kRetiredDbe{"DCGM_FI_DEV_RETIRED_DBE", MetricType::kCounter,
                             "Total number of retired pages due to double-bit errors."};
constexpr Metric kRetiredPending{"DCGM_FI_DEV_RETIRED_PENDING", MetricType::kGauge,
                                 "Whether pages are pending retirement (1) or not (0)."};
constexpr Metric kRemapCorrectable{"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", MetricType::kCounter,
                                   "Number of remapped rows for correctable errors."};
constexpr Metric kRemapUncorrectable{"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", MetricType::kCounter,
                                     "Number of remapped rows for uncorrectable errors."};
constexpr Metric kRemapPending{"DCGM_FI_DEV_ROW_REMAP_PENDING", MetricType::kGauge,
                               "Whether remapping of rows is pending (1) or not (0)."};
constexpr Metric kRemapFailure{"DCGM_FI_DEV_ROW_REMAP_FAILURE", MetricType::kGauge,
                               "Whether remapping of rows has failed (1) or not (0)."};
constexpr Metric kXid{"DCGM_FI_DEV_XID_ERRORS", MetricType::kGauge, "Value of the last XID error encountered."};
constexpr Metric kXidTotal{"tyto_gpu_xid_errors_total", MetricType::kCounter,
                           "XID error events seen since the collector started, by XID number."};
constexpr Metric kFanSpeed{"DCGM_FI_DEV_FAN_SPEED", MetricType::kGauge, "Fan speed (in % of its maximum)."};
constexpr Metric kPstate{"DCGM_FI_DEV_PSTATE", MetricType::kGauge, "Performance state (0 fastest to 15 slowest)."};
constexpr Metric kInfo{"tyto_gpu_info", MetricType::kInfo,
                       "A GPU's identity: name, UUID, serial, driver and CUDA versions; the value is 1."};
constexpr Metric kProcessMemory{"tyto_gpu_process_memory_bytes", MetricType::kGauge,
                                "GPU memory used by a compute process (in bytes), by pid, with its container and pod "
                                "when its cgroup can be read."};
constexpr Metric kProcessSmUtil{"tyto_gpu_process_sm_utilization", MetricType::kGauge,
                                "A compute process's share of the GPU's SMs over NVML's last sampling period (in %), by "
                                "pid, with its container and pod when its cgroup can be read."};
constexpr Metric kProcessMemUtil{"tyto_gpu_process_memory_utilization", MetricType::kGauge,
                                 "A compute process's share of the GPU's memory bandwidth over NVML's last sampling "
                                 "period (in %), by pid, with its container and pod."};
constexpr Metric kRoundTimeouts{"tyto_gpu_round_timeouts_total", MetricType::kCounter,
                               "GPU collector rounds whose NVML calls did not finish within round_timeout."};
constexpr Metric kRoundsSkipped{"tyto_gpu_rounds_skipped_total", MetricType::kCounter,
                                "GPU collector rounds not started because an earlier round was still inside NVML."};
constexpr Metric kNvmlStuck{"tyto_gpu_nvml_stuck", MetricType::kGauge,
                            "1 while a GPU collector round that overran round_timeout is still inside NVML, else 0."};
constexpr Metric kLost{"tyto_gpu_lost", MetricType::kGauge,
                       "1 while NVML reports the GPU lost (fallen off the bus), else 0."};

// The fields read with one nvmlDeviceGetFieldValues call per GPU, and the metric each feeds.
// The two NVLink throughput fields are summed into one metric (kNvLinkBandwidth).
struct FieldMetric {
  unsigned int field_id;
  unsigned int scope_id;
  const Metric* metric;
};
constexpr std::array<FieldMetric, 18> kFieldMetrics{{
    {nvml::kFieldMemoryTemp, 0, &kMemoryTemp},
    {nvml::kFieldEccSbeVolatileTotal, 0, &kEccSbeVol},
    {nvml::kFieldEccDbeVolatileTotal, 0, &kEccDbeVol},
    {nvml::kFieldEccSbeAggregateTotal, 0, &kEccSbeAgg},
    {nvml::kFieldEccDbeAggregateTotal, 0, &kEccDbeAgg},
    {nvml::kFieldRetiredSbe, 0, &kRetiredSbe},
    {nvml::kFieldRetiredDbe, 0, &kRetiredDbe},
    {nvml::kFieldRetiredPending, 0, &kRetiredPending},
    {nvml::kFieldRemappedCorrectable, 0, &kRemapCorrectable},
    {nvml::kFieldRemappedUncorrectable, 0, &kRemapUncorrectable},
    {nvml::kFieldRemappedPending, 0, &kRemapPending},
    {nvml::kFieldRemappedFailure, 0, &kRemapFailure},
    {nvml::kFieldNvLinkCrcFlitErrorTotal, 0, &kNvLinkCrcFlit},
    {nvml::kFieldNvLinkCrcDataErrorTotal, 0, &kNvLinkCrcData},
    {nvml::kFieldNvLinkReplayErrorTotal, 0, &kNvLinkReplay},
    {nvml::kFieldNvLinkRecoveryErrorTotal, 0, &kNvLinkRecovery},
    {nvml::kFieldNvLinkThroughputDataTx, nvml::kScopeAllLinks, &kNvLinkBandwidth},
    {nvml::kFieldNvLinkThroughputDataRx, nvml::kScopeAllLinks, &kNvLinkBandwidth},
}};

double FieldAsDouble(const nvml::FieldValue& v) {
  switch (v.value_type) {
    case nvml::kValueTypeDouble: return v.value.d;
    case nvml::kValueTypeUnsignedInt: return static_cast<double>(v.value.ui);
    case nvml::kValueTypeUnsignedLong: return static_cast<double>(v.value.ul);
    case nvml::kValueTypeUnsignedLongLong: return static_cast<double>(v.value.ull);
    case nvml::kValueTypeSignedLongLong: return static_cast<double>(v.value.sll);
    case nvml::kValueTypeSignedInt: return static_cast<double>(v.value.si);
    case nvml::kValueTypeUnsignedShort: return static_cast<double>(v.value.us);
    default: return static_cast<double>(v.value.ull);
  }
}

double MiB(unsigned long long bytes) { return static_cast<double>(bytes / (1024ull * 1024ull)); }

// Reads a string through one of NVML's (device, buffer, length) getters; "" on failure.
std::string ReadString(nvml::DeviceGetStringFn fn, nvml::Device device, unsigned int size) {
  if (fn == nullptr) return "";
  std::vector<char> buf(size + 1, '\0');
  if (fn(device, buf.data(), size) != nvml::kSuccess) return "";
  return std::string(buf.data());
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return std::string(buf);
}

// The MIG profile in a MIG device's name ("NVIDIA A100-SXM4-40GB MIG 1g.5gb" -> "1g.5gb").
std::string MigProfile(const std::string& name) {
  const size_t at = name.rfind("MIG ");
  return at == std::string::npos ? name : name.substr(at + 4);
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Labels WithName(const Labels& base, std::string_view name) {
  LabelsBuilder b(base);
  b.Set(kMetricNameLabel, name);
  return b.Build();
}

// Calls an NVML list getter (`call(buffer, &count)`: in, the buffer's capacity; out, how many
// there are) into *list: the list can grow between calls, so a few tries, each with room for
// what was reported. *count is what the last call reported.
template <typename T, typename Call>
nvml::Return FillList(std::vector<T>* list, unsigned int* count, Call call) {
  list->resize(32);
  nvml::Return rc = nvml::kErrorInsufficientSize;
  for (int attempt = 0; attempt < 3 && rc == nvml::kErrorInsufficientSize; ++attempt) {
    *count = static_cast<unsigned int>(list->size());
    rc = call(list->data(), count);
    if (rc == nvml::kErrorInsufficientSize) list->resize(*count + 16);
  }
  return rc;
}

}  // namespace

ProcessCgroup ParseProcessCgroup(std::string_view cgroup_file) {
  ProcessCgroup out;
  // Lines are "hierarchy-id:controllers:path"; cgroup v2's single line is "0::path".
  std::string_view first_path;
  while (!cgroup_file.empty()) {
    const size_t nl = cgroup_file.find('\n');
    std::string_view line = cgroup_file.substr(0, nl);
    cgroup_file = nl == std::string_view::npos ? std::string_view() : cgroup_file.substr(nl + 1);
    const size_t c1 = line.find(':');
    const size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view path = line.substr(c2 + 1);
    if (first_path.empty()) first_path = path;
    if (line.substr(0, c2 + 1) == "0::") {
      out.path = std::string(path);
      break;
    }
  }
  if (out.path.empty()) out.path = std::string(first_path);

  std::string_view rest = out.path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty()) continue;
    // The pod: "pod<uid>" (cgroupfs driver) or "kubepods-<qos>-pod<uid_with_underscores>.slice".
    if (part.ends_with(".slice")) part.remove_suffix(6);
    const size_t pod = part.rfind("pod");
    if (pod != std::string_view::npos && (pod == 0 || part[pod - 1] == '-') &&
        part.substr(0, pod).find("kubepods") != std::string_view::npos) {
      std::string uid(part.substr(pod + 3));
      for (char& c : uid) c = c == '_' ? '-' : c;
      if (uid.size() == 36) out.pod_uid = uid;
    } else if (pod == 0 && part.size() == 39) {
      out.pod_uid = std::string(part.substr(3));
    }
    // The container: a bare id, or "<runtime>-<id>.scope".
    if (part.ends_with(".scope")) part.remove_suffix(6);
    const size_t dash = part.rfind('-');
    const std::string_view id = dash == std::string_view::npos ? part : part.substr(dash + 1);
    if (IsHex64(id)) out.container_id = std::string(id);
  }
  return out;
}

// One round's samples, grouped by family so each family is described once, before its first
// sample, in the order families first appeared.
class NvmlRounds::Round {
 public:
  // `labels` without __name__; the family's name is added at Flush.
  void Add(const Metric& metric, const Labels& labels, double value) {
    Family* family = nullptr;
    for (Family& f : families_) {
      if (f.metric == &metric) family = &f;
    }
    if (family == nullptr) {
      families_.push_back({&metric, {}});
      family = &families_.back();
    }
    family->points.emplace_back(labels, value);
  }
  void Merge(const Round& other) {
    for (const Family& f : other.families_) {
      for (const auto& [labels, value] : f.points) Add(*f.metric, labels, value);
    }
  }
  void Flush(Sink* sink) const {
    for (const Family& f : families_) {
      sink->Describe(f.metric->name, f.metric->type, f.metric->help);
      for (const auto& [labels, value] : f.points) sink->Add(WithName(labels, f.metric->name), value);
    }
  }

 private:
  struct Family {
    const Metric* metric;
    std::vector<std::pair<Labels, double>> points;
  };
  std::vector<Family> families_;
};

Descriptor GpuCollector::Describe() {
  Descriptor d;
  d.name = "gpu";
  d.help = "NVIDIA GPUs through NVML (loaded at run time), with dcgm-exporter's metric names and labels.";
  d.default_interval = std::chrono::seconds(15);
  d.options = {
      {"library_path", "string", kNvmlLibraryName, "The NVML library to open: a soname or a path."},
      {"hostname", "string", "", "The Hostname label; empty: the machine's host name."},
      {"xid_events", "bool", "true", "Read XID errors through NVML's event API."},
      {"processes", "bool", "true", "Report each compute process's GPU memory, with its container and pod."},
      {"round_timeout", "duration", "5s",
       "How long a round waits for NVML; a round that overruns is reported and later rounds are skipped until "
       "NVML returns."},
  };
  return d;
}

// What the collector's thread and its callers share. Held by both through shared_ptr, so a
// thread stuck in NVML can outlive the collector; NVML state (`rounds`) is touched only by the
// thread (and by the destructor once the thread is done).
struct GpuCollector::Worker {
  explicit Worker(GpuOptions options) : rounds(std::move(options)) {}

  // One round per request until stopped.
  void Run() {
    MutexLock lock(&mu);
    while (true) {
      while (!stop && !requested) cv.wait(mu.native());
      if (stop) return;
      requested = false;
      busy = true;
      const int64_t now_ms = request_ms;
      mu.Unlock();
      VectorSink out;
      Status st = rounds.Collect(now_ms, &out);
      const bool now_available = rounds.available();
      mu.Lock();
      result = std::move(out);
      result_status = std::move(st);
      available = now_available;
      busy = false;
      ++finished;
      cv.notify_all();
    }
  }

  NvmlRounds rounds;
  std::thread thread;  // started by the first Collect; joined or detached by ~GpuCollector

  Mutex mu;
  std::condition_variable_any cv;
  bool stop GUARDED_BY(mu) = false;
  bool requested GUARDED_BY(mu) = false;
  bool busy GUARDED_BY(mu) = false;  // the thread is inside a round (inside NVML)
  int64_t request_ms GUARDED_BY(mu) = 0;
  uint64_t finished GUARDED_BY(mu) = 0;  // rounds done
  VectorSink result GUARDED_BY(mu);      // the last round done
  Status result_status GUARDED_BY(mu);
  bool available GUARDED_BY(mu) = true;
};

namespace {

void AddGuardSample(Sink* sink, const Metric& m, double value) {
  sink->Describe(m.name, m.type, m.help);
  LabelsBuilder b;
  b.Set(kMetricNameLabel, m.name);
  sink->Add(b.Build(), value);
}

}  // namespace

GpuCollector::GpuCollector(GpuOptions options)
    : round_timeout_(std::max(options.round_timeout, std::chrono::milliseconds(1))) {
  worker_ = std::make_shared<Worker>(std::move(options));
}

GpuCollector::~GpuCollector() {
  Worker& w = *worker_;
  if (!w.thread.joinable()) return;
  bool hung = false;
  {
    MutexLock lock(&w.mu);
    w.stop = true;
    w.cv.notify_all();
    // A round in progress gets the round's own time limit to finish.
    const auto deadline = std::chrono::steady_clock::now() + round_timeout_;
    while (w.busy && w.cv.wait_until(w.mu.native(), deadline) != std::cv_status::timeout) {
    }
    hung = w.busy;
  }
  if (hung) {
    Log().Warn("an NVML call is still hung; the gpu collector's thread is left to finish it and close the library",
               {{"round_timeout_ms", round_timeout_.count()}});
    w.thread.detach();  // it holds its own reference to the worker
  } else {
    w.thread.join();
  }
}

bool GpuCollector::available() const {
  MutexLock lock(&worker_->mu);
  return worker_->available;
}

Status GpuCollector::Collect(int64_t now_ms, Sink* sink) {
  Worker& w = *worker_;
  if (!w.thread.joinable()) w.thread = std::thread([worker = worker_] { worker->Run(); });
  MutexLock lock(&w.mu);
  if (!w.available) return Status::Ok();  // disabled for good; said once in the log
  auto guard = [&](bool stuck) {
    AddGuardSample(sink, kRoundTimeouts, timeouts_);
    AddGuardSample(sink, kRoundsSkipped, skipped_);
    AddGuardSample(sink, kNvmlStuck, stuck ? 1 : 0);
  };
  if (w.busy) {
    // The round that overran is still inside NVML: never a second one beside it.
    skipped_ += 1;
    guard(true);
    return DeadlineExceeded("gpu: an earlier round is still waiting on NVML (it overran round_timeout); round skipped");
  }
  if (stuck_) {
    stuck_ = false;
    Log().Info("NVML returned from the round that overran; GPU rounds resume", {});
  }
  w.requested = true;
  w.request_ms = now_ms;
  const uint64_t seq = w.finished;
  w.cv.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + round_timeout_;
  while (w.finished == seq && w.cv.wait_until(w.mu.native(), deadline) != std::cv_status::timeout) {
  }
  if (w.finished == seq) {
    timeouts_ += 1;
    stuck_ = true;
    Log().Warn("NVML did not answer within round_timeout; GPU rounds are skipped until it returns",
               {{"round_timeout_ms", round_timeout_.count()}});
    guard(true);
    return DeadlineExceeded("gpu: NVML did not answer within round_timeout (" +
                            std::to_string(round_timeout_.count()) + " ms)");
  }
  if (!w.available) return Status::Ok();  // the library could not be opened: nothing, as before
  for (const auto& f : w.result.families) sink->Describe(f.name, f.type, f.help);
  for (const auto& p : w.result.points) sink->Add(p.labels, p.value);
  guard(false);
  return w.result_status;
}

NvmlRounds::NvmlRounds(GpuOptions options) : options_(std::move(options)) {}

NvmlRounds::~NvmlRounds() {
  if (events_ != nullptr && nvml_ != nullptr && nvml_->fn().event_set_free != nullptr) {
    (void)nvml_->fn().event_set_free(events_);  // nothing to do about a failure while closing
  }
}

Status NvmlRounds::Open() {
  auto lib = NvmlLibrary::Open(options_.library_path);
  if (!lib.ok()) return lib.status();
  nvml_ = std::move(lib).value();
  const NvmlFunctions& f = nvml_->fn();

  if (f.system_get_driver_version != nullptr) {
    std::array<char, nvml::kSystemDriverVersionBufferSize + 1> buf{};
    if (f.system_get_driver_version(buf.data(), nvml::kSystemDriverVersionBufferSize) == nvml::kSuccess) {
      driver_version_ = buf.data();
    }
  }
  int cuda = 0;
  if (f.system_get_cuda_driver_version != nullptr &&
      f.system_get_cuda_driver_version(&cuda) == nvml::kSuccess && cuda > 0) {
    cuda_version_ = std::to_string(cuda / 1000) + "." + std::to_string((cuda % 1000) / 10);
  }
  const std::string hostname = options_.hostname.empty() ? HostName() : options_.hostname;

  unsigned int count = 0;
  const nvml::Return rc = f.device_get_count(&count);
  if (rc != nvml::kSuccess) return Unavailable("nvmlDeviceGetCount_v2: " + nvml_->ErrorString(rc));

  for (unsigned int i = 0; i < count; ++i) {
    Gpu gpu;
    gpu.index = i;
    const nvml::Return hrc = f.device_get_handle_by_index(i, &gpu.handle);
    LabelsBuilder labels;
    labels.Set("gpu", std::to_string(i));
    labels.Set("Hostname", hostname);
    labels.Set("DCGM_FI_DRIVER_VERSION", driver_version_);
    if (hrc != nvml::kSuccess) {
      // Listed but unreachable (lost at start-up, or no permission): reported, never read.
      Log().Warn("cannot get a handle for a GPU", {{"gpu", i}, {"error", nvml_->ErrorString(hrc)}});
      gpu.handle = nullptr;
      gpu.lost = hrc == nvml::kErrorGpuIsLost;
      gpu.labels = labels.Build();
      gpus_.push_back(std::move(gpu));
      continue;
    }
    gpu.uuid = ReadString(f.device_get_uuid, gpu.handle, nvml::kDeviceUuidBufferSize);
    gpu.serial = ReadString(f.device_get_serial, gpu.handle, nvml::kDeviceSerialBufferSize);
    labels.Set("UUID", gpu.uuid);
    labels.Set("modelName", ReadString(f.device_get_name, gpu.handle, nvml::kDeviceNameBufferSize));
    unsigned int minor = 0;
    if (f.device_get_minor_number != nullptr && f.device_get_minor_number(gpu.handle, &minor) == nvml::kSuccess) {
      labels.Set("device", "nvidia" + std::to_string(minor));
    }
    nvml::PciInfo pci{};
    if (f.device_get_pci_info != nullptr && f.device_get_pci_info(gpu.handle, &pci) == nvml::kSuccess) {
      pci.bus_id[sizeof(pci.bus_id) - 1] = '\0';
      labels.Set("pci_bus_id", pci.bus_id);
    }
    gpu.labels = labels.Build();
    gpus_.push_back(std::move(gpu));
  }

  if (options_.xid_events && f.event_set_create != nullptr && f.device_register_events != nullptr &&
      f.event_set_wait != nullptr && f.event_set_free != nullptr) {
    if (f.event_set_create(&events_) != nvml::kSuccess) {
      events_ = nullptr;
    } else {
      for (Gpu& gpu : gpus_) {
        if (gpu.handle == nullptr) continue;
        // Not supported on some boards and in some containers: that GPU has no XID metric.
        gpu.xid_registered =
            f.device_register_events(gpu.handle, nvml::kEventTypeXidCriticalError, events_) == nvml::kSuccess;
      }
    }
  }
  Log().Info("NVML opened", {{"library", options_.library_path},
                             {"gpus", gpus_.size()},
                             {"driver_version", driver_version_},
                             {"cuda_version", cuda_version_}});
  return Status::Ok();
}

Status NvmlRounds::Collect(int64_t now_ms, Sink* sink) {
  (void)now_ms;  // NVML answers with the current state; the round's time is the sink's
  if (disabled_) return Status::Ok();
  if (!opened_) {
    opened_ = true;
    Status st = Open();
    if (!st.ok()) {
      disabled_ = true;
      nvml_.reset();
      gpus_.clear();
      Log().Info("NVML not available; the gpu collector is disabled",
                 {{"library", options_.library_path}, {"reason", st}});
      return Status::Ok();
    }
  }

  DrainXidEvents();
  Round round;
  for (Gpu& gpu : gpus_) ReadGpu(&gpu, &round);
  round.Flush(sink);
  return Status::Ok();
}

void NvmlRounds::DrainXidEvents() {
  if (events_ == nullptr) return;
  // Bounded: a storm of events cannot hold the round; the rest wait for the next round.
  for (int i = 0; i < 1024; ++i) {
    nvml::EventData data{};
    const nvml::Return rc = nvml_->fn().event_set_wait(events_, &data, 0);
    if (rc == nvml::kErrorTimeout) return;  // nothing (more) pending
    if (rc != nvml::kSuccess) {
      // A GPU lost mid-wait, or an interrupted wait: the per-GPU reads report the former.
      Log().Debug("nvmlEventSetWait_v2 failed", {{"error", nvml_->ErrorString(rc)}});
      return;
    }
    if ((data.event_type & nvml::kEventTypeXidCriticalError) == 0) continue;
    for (Gpu& gpu : gpus_) {
      if (gpu.handle != data.device) continue;
      gpu.last_xid = static_cast<double>(data.event_data);
      gpu.xid_counts[data.event_data] += 1;
      Log().Warn("XID error", {{"gpu", gpu.index}, {"UUID", gpu.uuid}, {"xid", data.event_data}});
    }
  }
}

void NvmlRounds::ReadGpu(Gpu* gpu, Round* round) {
  const NvmlFunctions& f = nvml_->fn();
  const Labels& base = gpu->labels;
  {
    LabelsBuilder info(base);
    info.Set("serial", gpu->serial);
    info.Set("driver_version", driver_version_);
    info.Set("cuda_version", cuda_version_);
    round->Add(kInfo, info.Build(), 1);
  }
  if (gpu->handle == nullptr) {
    round->Add(kLost, base, gpu->lost ? 1 : 0);
    return;
  }

  // The samples of this GPU, kept aside until its reads are done: a GPU found lost part way
  // through contributes only tyto_gpu_lost.
  std::vector<std::pair<const Metric*, double>> samples;
  nvml::Return lost_rc = nvml::kSuccess;
  auto ok = [&](nvml::Return rc) {
    if (rc == nvml::kErrorGpuIsLost) lost_rc = rc;
    return rc == nvml::kSuccess;
  };
  auto going = [&]() { return lost_rc == nvml::kSuccess; };
  const nvml::Device h = gpu->handle;

  if (f.device_get_utilization_rates != nullptr) {
    nvml::Utilization u{};
    if (ok(f.device_get_utilization_rates(h, &u))) {
      samples.emplace_back(&kGpuUtil, u.gpu);
      samples.emplace_back(&kMemCopyUtil, u.memory);
    }
  }
  unsigned int period_us = 0;
  unsigned int value = 0;
  if (going() && f.device_get_encoder_utilization != nullptr && ok(f.device_get_encoder_utilization(h, &value, &period_us))) {
    samples.emplace_back(&kEncUtil, value);
  }
  if (going() && f.device_get_decoder_utilization != nullptr && ok(f.device_get_decoder_utilization(h, &value, &period_us))) {
    samples.emplace_back(&kDecUtil, value);
  }
  if (going()) {
    // Memory: v2 adds the driver's reserved share; older drivers have only v1.
    bool have_memory = false;
    if (f.device_get_memory_info_v2 != nullptr) {
      nvml::MemoryV2 m{};
      m.version = nvml::kMemoryV2Version;
      if (ok(f.device_get_memory_info_v2(h, &m))) {
        have_memory = true;
        samples.emplace_back(&kFbTotal, MiB(m.total));
        samples.emplace_back(&kFbFree, MiB(m.free));
        samples.emplace_back(&kFbUsed, MiB(m.used));
        samples.emplace_back(&kFbReserved, MiB(m.reserved));
      }
    }
    if (going() && !have_memory && f.device_get_memory_info != nullptr) {
      nvml::Memory m{};
      if (ok(f.device_get_memory_info(h, &m))) {
        samples.emplace_back(&kFbTotal, MiB(m.total));
        samples.emplace_back(&kFbFree, MiB(m.free));
        samples.emplace_back(&kFbUsed, MiB(m.used));
      }
    }
  }
  if (going() && f.device_get_temperature != nullptr && ok(f.device_get_temperature(h, nvml::kTemperatureGpu, &value))) {
    samples.emplace_back(&kGpuTemp, value);
  }
  if (going() && f.device_get_power_usage != nullptr && ok(f.device_get_power_usage(h, &value))) {
    samples.emplace_back(&kPowerUsage, value / 1000.0);
  }
  if (going() && f.device_get_power_management_limit != nullptr && ok(f.device_get_power_management_limit(h, &value))) {
    samples.emplace_back(&kPowerLimit, value / 1000.0);
  }
  unsigned long long big = 0;
  if (going() && f.device_get_total_energy_consumption != nullptr && ok(f.device_get_total_energy_consumption(h, &big))) {
    samples.emplace_back(&kEnergy, static_cast<double>(big));
  }
  if (going() && f.device_get_clock_info != nullptr && ok(f.device_get_clock_info(h, nvml::kClockSm, &value))) {
    samples.emplace_back(&kSmClock, value);
  }
  if (going() && f.device_get_clock_info != nullptr && ok(f.device_get_clock_info(h, nvml::kClockMem, &value))) {
    samples.emplace_back(&kMemClock, value);
  }
  if (going() && f.device_get_current_clocks_throttle_reasons != nullptr &&
      ok(f.device_get_current_clocks_throttle_reasons(h, &big))) {
    samples.emplace_back(&kThrottle, static_cast<double>(big));
  }
  for (const ViolationMetric& v : kViolationMetrics) {
    if (!going() || f.device_get_violation_status == nullptr) break;
    nvml::ViolationTime t{};
    // ns -> us, whole microseconds as DCGM reports them. Each policy is skipped on its own.
    if (ok(f.device_get_violation_status(h, v.policy, &t))) {
      samples.emplace_back(v.metric, static_cast<double>(t.violation_time / 1000ull));
    }
  }
  if (going() && f.device_get_pcie_replay_counter != nullptr && ok(f.device_get_pcie_replay_counter(h, &value))) {
    samples.emplace_back(&kPcieReplay, value);
  }
  if (going() && f.device_get_pcie_throughput != nullptr && ok(f.device_get_pcie_throughput(h, nvml::kPcieUtilTxBytes, &value))) {
    samples.emplace_back(&kPcieTx, value);
  }
  if (going() && f.device_get_pcie_throughput != nullptr && ok(f.device_get_pcie_throughput(h, nvml::kPcieUtilRxBytes, &value))) {
    samples.emplace_back(&kPcieRx, value);
  }
  if (going() && f.device_get_fan_speed != nullptr && ok(f.device_get_fan_speed(h, &value))) {
    samples.emplace_back(&kFanSpeed, value);
  }
  int pstate = 0;
  if (going() && f.device_get_performance_state != nullptr && ok(f.device_get_performance_state(h, &pstate)) &&
      pstate != nvml::kPstateUnknown) {
    samples.emplace_back(&kPstate, pstate);
  }
  if (going() && f.device_get_field_values != nullptr) {
    std::array<nvml::FieldValue, kFieldMetrics.size()> fields{};
    for (size_t i = 0; i < kFieldMetrics.size(); ++i) {
      fields[i].field_id = kFieldMetrics[i].field_id;
      fields[i].scope_id = kFieldMetrics[i].scope_id;
    }
    if (ok(f.device_get_field_values(h, static_cast<int>(fields.size()), fields.data()))) {
      double nvlink_total = 0;
      int nvlink_parts = 0;
      for (size_t i = 0; i < kFieldMetrics.size(); ++i) {
        if (!ok(fields[i].nvml_return)) continue;  // this field is not supported here
        if (kFieldMetrics[i].metric == &kNvLinkBandwidth) {
          nvlink_total += FieldAsDouble(fields[i]);
          ++nvlink_parts;
          continue;
        }
        samples.emplace_back(kFieldMetrics[i].metric, FieldAsDouble(fields[i]));
      }
      if (nvlink_parts == 2) samples.emplace_back(&kNvLinkBandwidth, nvlink_total);
    }
  }
  bool mig_lost = false;
  Round mig;
  if (going()) ReadMigInstances(gpu, &mig, &mig_lost);
  if (mig_lost) lost_rc = nvml::kErrorGpuIsLost;
  Round processes;
  if (going() && options_.processes && !ReadProcesses(gpu, &processes)) lost_rc = nvml::kErrorGpuIsLost;

  if (!going()) {
    if (!gpu->lost) {
      Log().Error("GPU lost: NVML reports it fell off the bus; its metrics stop until it answers again",
                  {{"gpu", gpu->index}, {"UUID", gpu->uuid}, {"error", nvml_->ErrorString(lost_rc)}});
    }
    gpu->lost = true;
    round->Add(kLost, base, 1);
    return;
  }
  if (gpu->lost) Log().Info("GPU answers again", {{"gpu", gpu->index}, {"UUID", gpu->uuid}});
  gpu->lost = false;
  round->Add(kLost, base, 0);
  for (const auto& [metric, v] : samples) round->Add(*metric, base, v);
  round->Merge(mig);
  round->Merge(processes);
  if (gpu->xid_registered) {
    round->Add(kXid, base, gpu->last_xid);
    for (const auto& [xid, n] : gpu->xid_counts) {
      LabelsBuilder b(base);
      b.Set("xid", std::to_string(xid));
      round->Add(kXidTotal, b.Build(), n);
    }
  }
}

bool NvmlRounds::ReadProcesses(Gpu* gpu, Round* round) {
  const NvmlFunctions& f = nvml_->fn();
  if (f.device_get_compute_running_processes == nullptr) return true;
  std::vector<nvml::ProcessInfo> procs;
  unsigned int count = 0;
  nvml::Return rc = FillList(&procs, &count, [&](nvml::ProcessInfo* out, unsigned int* n) {
    return f.device_get_compute_running_processes(gpu->handle, n, out);
  });
  if (rc == nvml::kErrorGpuIsLost) return false;
  if (rc != nvml::kSuccess) return true;  // not supported here
  // Each process's share of the SMs and of memory bandwidth, from the samples NVML took since
  // the last round (the newest per process). None on GPUs or drivers without it, or when no
  // process ran a kernel since (NVML_ERROR_NOT_FOUND).
  std::map<unsigned int, nvml::ProcessUtilizationSample> util;
  if (f.device_get_process_utilization != nullptr) {
    std::vector<nvml::ProcessUtilizationSample> samples;
    unsigned int n = 0;
    const nvml::Return urc = FillList(&samples, &n, [&](nvml::ProcessUtilizationSample* out, unsigned int* cap) {
      return f.device_get_process_utilization(gpu->handle, out, cap, gpu->last_process_sample_us);
    });
    if (urc == nvml::kErrorGpuIsLost) return false;
    if (urc == nvml::kSuccess) {
      for (unsigned int i = 0; i < n && i < samples.size(); ++i) {
        const nvml::ProcessUtilizationSample& s = samples[i];
        gpu->last_process_sample_us = std::max(gpu->last_process_sample_us, s.time_stamp);
        auto [it, added] = util.emplace(s.pid, s);
        if (!added && s.time_stamp > it->second.time_stamp) it->second = s;
      }
    }
  }
  Env* env = options_.env != nullptr ? options_.env : Env::Default();
  for (unsigned int i = 0; i < count && i < procs.size(); ++i) {
    const nvml::ProcessInfo& p = procs[i];
    if (p.used_gpu_memory == nvml::kValueNotAvailable) continue;  // hidden (e.g. another container)
    LabelsBuilder b(gpu->labels);
    b.Set("pid", std::to_string(p.pid));
    auto cgroup = env->ReadFile(options_.proc_root + "/" + std::to_string(p.pid) + "/cgroup");
    if (cgroup.ok()) {
      const ProcessCgroup where = ParseProcessCgroup(*cgroup);
      b.Set("cgroup", where.path);
      b.Set("container_id", where.container_id);
      b.Set("pod_uid", where.pod_uid);
    }
    const Labels labels = b.Build();
    round->Add(kProcessMemory, labels, static_cast<double>(p.used_gpu_memory));
    if (auto it = util.find(p.pid); it != util.end()) {
      round->Add(kProcessSmUtil, labels, it->second.sm_util);
      round->Add(kProcessMemUtil, labels, it->second.mem_util);
    }
  }
  return true;
}

void NvmlRounds::ReadMigInstances(Gpu* gpu, Round* round, bool* lost) {
  const NvmlFunctions& f = nvml_->fn();
  if (f.device_get_mig_mode == nullptr || f.device_get_max_mig_device_count == nullptr ||
      f.device_get_mig_device_handle_by_index == nullptr) {
    return;
  }
  unsigned int current = 0;
  unsigned int pending = 0;
  nvml::Return rc = f.device_get_mig_mode(gpu->handle, &current, &pending);
  if (rc == nvml::kErrorGpuIsLost) *lost = true;
  if (rc != nvml::kSuccess || current != 1) return;
  unsigned int max_count = 0;
  rc = f.device_get_max_mig_device_count(gpu->handle, &max_count);
  if (rc == nvml::kErrorGpuIsLost) *lost = true;
  if (rc != nvml::kSuccess) return;
  // MIG instances report memory per instance; utilization and the rest are the GPU's (NVML
  // answers "not supported" for them on a MIG handle).
  for (unsigned int i = 0; i < max_count; ++i) {
    nvml::Device mig = nullptr;
    rc = f.device_get_mig_device_handle_by_index(gpu->handle, i, &mig);
    if (rc == nvml::kErrorGpuIsLost) {
      *lost = true;
      return;
    }
    if (rc != nvml::kSuccess) continue;  // an empty slot: NVML_ERROR_NOT_FOUND
    LabelsBuilder b(gpu->labels);
    unsigned int instance = 0;
    if (f.device_get_gpu_instance_id != nullptr && f.device_get_gpu_instance_id(mig, &instance) == nvml::kSuccess) {
      b.Set("GPU_I_ID", std::to_string(instance));
    }
    b.Set("GPU_I_PROFILE", MigProfile(ReadString(f.device_get_name, mig, nvml::kDeviceNameBufferSize)));
    const Labels labels = b.Build();
    if (f.device_get_memory_info != nullptr) {
      nvml::Memory m{};
      rc = f.device_get_memory_info(mig, &m);
      if (rc == nvml::kErrorGpuIsLost) {
        *lost = true;
        return;
      }
      if (rc == nvml::kSuccess) {
        round->Add(kFbTotal, labels, MiB(m.total));
        round->Add(kFbFree, labels, MiB(m.free));
        round->Add(kFbUsed, labels, MiB(m.used));
      }
    }
  }
}

}  // namespace tyto::collect::gpu
