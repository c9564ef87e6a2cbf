// A fake libnvidia-ml.so.1 for the GPU collector's tests: NVML's C functions (the ones the
// collector resolves), answering from a script the test loads. Built as a shared library named
// libnvidia-ml.so.1 and opened by the collector through its real dlopen path.
//
// The script, one setting per line ("#" starts a comment):
//   <device> <key> <value>
// <device> is "-" for the system, a GPU index ("0"), or a MIG slot of a GPU ("0/1").
// A value "!<code>" makes the call return that nvmlReturn_t (e.g. "!3" not supported,
// "!15" GPU lost); a key that is absent answers NVML_ERROR_NOT_SUPPORTED. "<gpu> lost 1" makes
// every call on that GPU answer NVML_ERROR_GPU_IS_LOST. "- event <gpu> <xid>" queues an XID
// event; nvmlEventSetWait_v2 returns them in order, then NVML_ERROR_TIMEOUT.
//
// System keys: init, device_count, driver, cuda, event_set_create, event_wait.
// Device keys: handle, name, uuid, serial, minor, pci_bus_id, util_gpu, util_mem, enc, dec,
// mem_total, mem_free, mem_used, mem_reserved (present: nvmlDeviceGetMemoryInfo_v2 answers),
// temp, power_mw, power_limit_mw, energy_mj, sm_clock, mem_clock, throttle, pcie_replay,
// pcie_tx, pcie_rx, fan, pstate, violation_<policy> (nanoseconds; nvmlDeviceGetViolationStatus,
// with the reference time fixed at 1), field_<id>, register_events, mig_mode, mig_max, gpu_instance,
// processes ("<pid>:<bytes> ...", bytes "na" for NVML_VALUE_NOT_AVAILABLE), process_util
// ("<pid>:<timestamp us>:<sm %>:<mem %> ...": nvmlDeviceGetProcessUtilization returns the samples
// newer than the caller's lastSeenTimeStamp, NVML_ERROR_NOT_FOUND when none is).
//
// A hung driver: "<gpu> block <key>" makes the device call that reads <key> on that GPU (e.g.
// "0 block util_gpu": nvmlDeviceGetUtilizationRates) block until the test calls
// tyto_fake_nvml_release(); a value "!10" makes a call return NVML_ERROR_TIMEOUT at once.
//
// Test hooks (extern "C"): tyto_fake_nvml_load(script) replaces the script (0 on success);
// tyto_fake_nvml_count(name) counts calls to "init", "shutdown", "event_set_free", and "blocked"
// (calls that entered a scripted block); tyto_fake_nvml_release() lets every blocked call (and
// any that blocks later, until the next load) return. The state is guarded by a mutex: the
// collector calls from its own thread while the test scripts.
//
// For benchmarks that run a real `tyto serve` on this fake (bench/collector_cost.py, with
// collectors.gpu.library_path naming this file), nvmlInit_v2 reads the script from the file named
// by the environment variable TYTO_FAKE_NVML_SCRIPT when no script was loaded through the hook;
// an unreadable or malformed file makes nvmlInit_v2 fail (NVML_ERROR_UNKNOWN), so the collector
// disables itself with its usual log line. This is still a test fixture: never install it as a
// real driver's libnvidia-ml.so.1.
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>

#include "collect/gpu/nvml_types.h"

namespace nvml = tyto::collect::gpu::nvml;

namespace {

constexpr int kMaxGpus = 8;
constexpr int kMaxMigSlots = 8;

// Handles are addresses in this array, stable across script reloads.
struct FakeDevice {
  int gpu = 0;
  int slot = -1;  // MIG slot, or -1 for the GPU itself
};
FakeDevice g_devices[kMaxGpus * (kMaxMigSlots + 1)];
int g_event_set_marker = 0;

struct State {
  std::map<std::string, std::map<std::string, std::string>> settings;  // device -> key -> value
  std::deque<std::pair<int, unsigned long long>> events;               // (gpu, xid)
  std::map<std::string, int> counts;
  bool loaded = false;  // a script came through tyto_fake_nvml_load (or the environment)
  bool released = false;  // tyto_fake_nvml_release was called since the last load
};
State& S() {
  static State state;
  return state;
}
// Guards S(); the blocked calls wait on g_cv.
std::mutex g_mu;
std::condition_variable g_cv;

nvml::Device Handle(int gpu, int slot) {
  FakeDevice* d = &g_devices[gpu * (kMaxMigSlots + 1) + slot + 1];
  d->gpu = gpu;
  d->slot = slot;
  return reinterpret_cast<nvml::Device>(d);
}

std::string DeviceName(nvml::Device device) {
  const auto* d = reinterpret_cast<const FakeDevice*>(device);
  return d->slot < 0 ? std::to_string(d->gpu) : std::to_string(d->gpu) + "/" + std::to_string(d->slot);
}

// The value of `key` for `device`, or the scripted failure; NOT_SUPPORTED when absent.
nvml::Return Lookup(const std::string& device, const std::string& key, std::string* out) {
  std::lock_guard<std::mutex> lock(g_mu);
  const auto dev = S().settings.find(device);
  if (dev == S().settings.end()) return device == "-" ? nvml::kErrorNotSupported : nvml::kErrorInvalidArgument;
  const auto it = dev->second.find(key);
  if (it == dev->second.end()) return nvml::kErrorNotSupported;
  if (!it->second.empty() && it->second[0] == '!') return std::atoi(it->second.c_str() + 1);
  *out = it->second;
  return nvml::kSuccess;
}

// A device call: lost GPUs answer GPU_IS_LOST to everything.
nvml::Return DeviceLookup(nvml::Device device, const std::string& key, std::string* out) {
  if (device == nullptr) return nvml::kErrorInvalidArgument;
  const auto* d = reinterpret_cast<const FakeDevice*>(device);
  std::string lost;
  if (Lookup(std::to_string(d->gpu), "lost", &lost) == nvml::kSuccess && lost == "1") return nvml::kErrorGpuIsLost;
  std::string blocked;
  if (Lookup(std::to_string(d->gpu), "block", &blocked) == nvml::kSuccess && blocked == key) {
    std::unique_lock<std::mutex> lock(g_mu);
    S().counts["blocked"]++;
    g_cv.wait(lock, [] { return S().released; });
  }
  return Lookup(DeviceName(device), key, out);
}

template <typename T>
nvml::Return DeviceNumber(nvml::Device device, const std::string& key, T* out) {
  std::string v;
  const nvml::Return rc = DeviceLookup(device, key, &v);
  if (rc == nvml::kSuccess) *out = static_cast<T>(std::strtoull(v.c_str(), nullptr, 10));
  return rc;
}

nvml::Return CopyString(const std::string& v, char* buf, unsigned int size) {
  if (v.size() + 1 > size) return nvml::kErrorInsufficientSize;
  std::memcpy(buf, v.c_str(), v.size() + 1);
  return nvml::kSuccess;
}

nvml::Return DeviceString(nvml::Device device, const std::string& key, char* buf, unsigned int size) {
  std::string v;
  const nvml::Return rc = DeviceLookup(device, key, &v);
  return rc == nvml::kSuccess ? CopyString(v, buf, size) : rc;
}

}  // namespace

extern "C" {

// The script's parsing, with g_mu held.
static int LoadLocked(const char* script) {
  State& s = S();
  s.settings.clear();
  s.events.clear();
  s.loaded = true;
  s.released = false;
  std::istringstream in(script);
  std::string line;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string device;
    std::string key;
    if (!(words >> device >> key)) continue;
    std::string value;
    std::getline(words >> std::ws, value);
    if (device == "-" && key == "event") {
      std::istringstream ev(value);
      int gpu = 0;
      unsigned long long xid = 0;
      if (!(ev >> gpu >> xid)) return 1;
      s.events.emplace_back(gpu, xid);
      continue;
    }
    s.settings[device][key] = value;
  }
  return 0;
}

__attribute__((visibility("default"))) int tyto_fake_nvml_load(const char* script) {
  std::lock_guard<std::mutex> lock(g_mu);
  return LoadLocked(script);
}

__attribute__((visibility("default"))) int tyto_fake_nvml_count(const char* name) {
  std::lock_guard<std::mutex> lock(g_mu);
  return S().counts[name];
}

__attribute__((visibility("default"))) void tyto_fake_nvml_release() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    S().released = true;
  }
  g_cv.notify_all();
}

nvml::Return nvmlInit_v2() {
  {
    std::lock_guard<std::mutex> lock(g_mu);
    S().counts["init"]++;
    if (!S().loaded) {
      const char* path = std::getenv("TYTO_FAKE_NVML_SCRIPT");
      if (path != nullptr && *path != '\0') {
        std::ifstream in(path);
        std::stringstream script;
        script << in.rdbuf();
        if (!in || LoadLocked(script.str().c_str()) != 0) return nvml::kErrorUnknown;
      }
    }
  }
  std::string v;
  const nvml::Return rc = Lookup("-", "init", &v);
  return rc == nvml::kErrorNotSupported ? nvml::kSuccess : rc;
}

nvml::Return nvmlShutdown() {
  std::lock_guard<std::mutex> lock(g_mu);
  S().counts["shutdown"]++;
  return nvml::kSuccess;
}

const char* nvmlErrorString(nvml::Return rc) {
  switch (rc) {
    case nvml::kSuccess: return "Success";
    case nvml::kErrorNotSupported: return "Not Supported";
    case nvml::kErrorDriverNotLoaded: return "Driver Not Loaded";
    case nvml::kErrorTimeout: return "Timeout";
    case nvml::kErrorGpuIsLost: return "GPU is lost";
    default: return "Unknown Error";
  }
}

nvml::Return nvmlSystemGetDriverVersion(char* buf, unsigned int size) {
  std::string v;
  const nvml::Return rc = Lookup("-", "driver", &v);
  return rc == nvml::kSuccess ? CopyString(v, buf, size) : rc;
}

nvml::Return nvmlSystemGetCudaDriverVersion_v2(int* out) {
  std::string v;
  const nvml::Return rc = Lookup("-", "cuda", &v);
  if (rc == nvml::kSuccess) *out = std::atoi(v.c_str());
  return rc;
}

nvml::Return nvmlDeviceGetCount_v2(unsigned int* out) {
  std::string v;
  const nvml::Return rc = Lookup("-", "device_count", &v);
  if (rc == nvml::kSuccess) *out = static_cast<unsigned int>(std::atoi(v.c_str()));
  return rc;
}

nvml::Return nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvml::Device* out) {
  if (index >= kMaxGpus) return nvml::kErrorInvalidArgument;
  std::string v;
  const nvml::Return rc = Lookup(std::to_string(index), "handle", &v);
  if (rc != nvml::kSuccess && rc != nvml::kErrorNotSupported) return rc;  // a scripted failure
  *out = Handle(static_cast<int>(index), -1);
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceGetName(nvml::Device d, char* buf, unsigned int size) { return DeviceString(d, "name", buf, size); }
nvml::Return nvmlDeviceGetUUID(nvml::Device d, char* buf, unsigned int size) { return DeviceString(d, "uuid", buf, size); }
nvml::Return nvmlDeviceGetSerial(nvml::Device d, char* buf, unsigned int size) {
  return DeviceString(d, "serial", buf, size);
}
nvml::Return nvmlDeviceGetMinorNumber(nvml::Device d, unsigned int* out) { return DeviceNumber(d, "minor", out); }

nvml::Return nvmlDeviceGetPciInfo_v3(nvml::Device d, nvml::PciInfo* out) {
  std::memset(out, 0, sizeof(*out));
  return DeviceString(d, "pci_bus_id", out->bus_id, sizeof(out->bus_id));
}

nvml::Return nvmlDeviceGetUtilizationRates(nvml::Device d, nvml::Utilization* out) {
  nvml::Return rc = DeviceNumber(d, "util_gpu", &out->gpu);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "util_mem", &out->memory);
  return rc;
}

nvml::Return nvmlDeviceGetEncoderUtilization(nvml::Device d, unsigned int* util, unsigned int* period) {
  *period = 1000000;
  return DeviceNumber(d, "enc", util);
}
nvml::Return nvmlDeviceGetDecoderUtilization(nvml::Device d, unsigned int* util, unsigned int* period) {
  *period = 1000000;
  return DeviceNumber(d, "dec", util);
}

nvml::Return nvmlDeviceGetMemoryInfo(nvml::Device d, nvml::Memory* out) {
  nvml::Return rc = DeviceNumber(d, "mem_total", &out->total);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "mem_free", &out->free);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "mem_used", &out->used);
  return rc;
}

nvml::Return nvmlDeviceGetMemoryInfo_v2(nvml::Device d, nvml::MemoryV2* out) {
  if (out->version != nvml::kMemoryV2Version) return nvml::kErrorArgumentVersionMismatch;
  nvml::Return rc = DeviceNumber(d, "mem_reserved", &out->reserved);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "mem_total", &out->total);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "mem_free", &out->free);
  if (rc == nvml::kSuccess) rc = DeviceNumber(d, "mem_used", &out->used);
  return rc;
}

nvml::Return nvmlDeviceGetTemperature(nvml::Device d, int sensor, unsigned int* out) {
  if (sensor != nvml::kTemperatureGpu) return nvml::kErrorInvalidArgument;
  return DeviceNumber(d, "temp", out);
}
nvml::Return nvmlDeviceGetPowerUsage(nvml::Device d, unsigned int* out) { return DeviceNumber(d, "power_mw", out); }
nvml::Return nvmlDeviceGetPowerManagementLimit(nvml::Device d, unsigned int* out) {
  return DeviceNumber(d, "power_limit_mw", out);
}
nvml::Return nvmlDeviceGetTotalEnergyConsumption(nvml::Device d, unsigned long long* out) {
  return DeviceNumber(d, "energy_mj", out);
}
nvml::Return nvmlDeviceGetClockInfo(nvml::Device d, int type, unsigned int* out) {
  if (type == nvml::kClockSm) return DeviceNumber(d, "sm_clock", out);
  if (type == nvml::kClockMem) return DeviceNumber(d, "mem_clock", out);
  return nvml::kErrorNotSupported;
}
nvml::Return nvmlDeviceGetCurrentClocksThrottleReasons(nvml::Device d, unsigned long long* out) {
  return DeviceNumber(d, "throttle", out);
}
nvml::Return nvmlDeviceGetViolationStatus(nvml::Device d, int policy, nvml::ViolationTime* out) {
  std::memset(out, 0, sizeof(*out));
  const nvml::Return rc = DeviceNumber(d, "violation_" + std::to_string(policy), &out->violation_time);
  if (rc == nvml::kSuccess) out->reference_time = 1;
  return rc;
}
nvml::Return nvmlDeviceGetPcieReplayCounter(nvml::Device d, unsigned int* out) {
  return DeviceNumber(d, "pcie_replay", out);
}
nvml::Return nvmlDeviceGetPcieThroughput(nvml::Device d, int counter, unsigned int* out) {
  return DeviceNumber(d, counter == nvml::kPcieUtilTxBytes ? "pcie_tx" : "pcie_rx", out);
}
nvml::Return nvmlDeviceGetFanSpeed(nvml::Device d, unsigned int* out) { return DeviceNumber(d, "fan", out); }
nvml::Return nvmlDeviceGetPerformanceState(nvml::Device d, int* out) { return DeviceNumber(d, "pstate", out); }

nvml::Return nvmlDeviceGetFieldValues(nvml::Device d, int count, nvml::FieldValue* values) {
  std::string ignored;
  const nvml::Return rc = DeviceLookup(d, "lost_check", &ignored);
  if (rc == nvml::kErrorGpuIsLost || rc == nvml::kErrorInvalidArgument) return rc;
  for (int i = 0; i < count; ++i) {
    nvml::FieldValue& v = values[i];
    std::string text;
    v.nvml_return = DeviceLookup(d, "field_" + std::to_string(v.field_id), &text);
    if (v.nvml_return != nvml::kSuccess) continue;
    if (text.find('.') != std::string::npos) {
      v.value_type = nvml::kValueTypeDouble;
      v.value.d = std::strtod(text.c_str(), nullptr);
    } else {
      v.value_type = nvml::kValueTypeUnsignedLongLong;
      v.value.ull = std::strtoull(text.c_str(), nullptr, 10);
    }
  }
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceGetMigMode(nvml::Device d, unsigned int* current, unsigned int* pending) {
  const nvml::Return rc = DeviceNumber(d, "mig_mode", current);
  if (rc == nvml::kSuccess) *pending = *current;
  return rc;
}
nvml::Return nvmlDeviceGetMaxMigDeviceCount(nvml::Device d, unsigned int* out) { return DeviceNumber(d, "mig_max", out); }
nvml::Return nvmlDeviceGetMigDeviceHandleByIndex(nvml::Device d, unsigned int index, nvml::Device* out) {
  std::string ignored;
  const nvml::Return rc = DeviceLookup(d, "lost_check", &ignored);
  if (rc == nvml::kErrorGpuIsLost) return rc;
  const auto* parent = reinterpret_cast<const FakeDevice*>(d);
  if (index >= kMaxMigSlots) return nvml::kErrorInvalidArgument;
  const std::string name = std::to_string(parent->gpu) + "/" + std::to_string(index);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (S().settings.find(name) == S().settings.end()) return nvml::kErrorNotFound;
  }
  *out = Handle(parent->gpu, static_cast<int>(index));
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetGpuInstanceId(nvml::Device d, unsigned int* out) { return DeviceNumber(d, "gpu_instance", out); }

nvml::Return nvmlDeviceGetProcessUtilization(nvml::Device d, nvml::ProcessUtilizationSample* out, unsigned int* count,
                                             unsigned long long last_seen) {
  std::string v;
  const nvml::Return rc = DeviceLookup(d, "process_util", &v);
  if (rc != nvml::kSuccess) return rc;
  std::istringstream in(v);
  std::string item;
  std::deque<nvml::ProcessUtilizationSample> newer;
  while (in >> item) {
    nvml::ProcessUtilizationSample s{};
    char* p = nullptr;
    s.pid = static_cast<unsigned int>(std::strtoul(item.c_str(), &p, 10));
    s.time_stamp = std::strtoull(p + 1, &p, 10);
    s.sm_util = static_cast<unsigned int>(std::strtoul(p + 1, &p, 10));
    s.mem_util = static_cast<unsigned int>(std::strtoul(p + 1, &p, 10));
    if (s.time_stamp > last_seen) newer.push_back(s);
  }
  if (newer.empty()) return 6;  // NVML_ERROR_NOT_FOUND
  const unsigned int capacity = out == nullptr ? 0 : *count;
  *count = static_cast<unsigned int>(newer.size());
  if (newer.size() > capacity) return nvml::kErrorInsufficientSize;
  for (size_t i = 0; i < newer.size(); ++i) out[i] = newer[i];
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceGetComputeRunningProcesses_v3(nvml::Device d, unsigned int* count, nvml::ProcessInfo* out) {
  std::string v;
  const nvml::Return rc = DeviceLookup(d, "processes", &v);
  if (rc != nvml::kSuccess) return rc;
  std::istringstream in(v);
  std::string item;
  unsigned int n = 0;
  const unsigned int capacity = *count;
  while (in >> item) {
    const size_t colon = item.find(':');
    if (n < capacity) {
      out[n] = nvml::ProcessInfo{};
      out[n].pid = static_cast<unsigned int>(std::strtoul(item.c_str(), nullptr, 10));
      const std::string bytes = item.substr(colon + 1);
      out[n].used_gpu_memory = bytes == "na" ? nvml::kValueNotAvailable : std::strtoull(bytes.c_str(), nullptr, 10);
    }
    ++n;
  }
  *count = n;
  return n > capacity ? nvml::kErrorInsufficientSize : nvml::kSuccess;
}

nvml::Return nvmlEventSetCreate(nvml::EventSet* out) {
  std::string v;
  const nvml::Return rc = Lookup("-", "event_set_create", &v);
  if (rc != nvml::kSuccess && rc != nvml::kErrorNotSupported) return rc;
  *out = reinterpret_cast<nvml::EventSet>(&g_event_set_marker);
  return nvml::kSuccess;
}

nvml::Return nvmlDeviceRegisterEvents(nvml::Device d, unsigned long long types, nvml::EventSet set) {
  if (set == nullptr || (types & nvml::kEventTypeXidCriticalError) == 0) return nvml::kErrorInvalidArgument;
  std::string v;
  const nvml::Return rc = DeviceLookup(d, "register_events", &v);
  std::lock_guard<std::mutex> lock(g_mu);
  const auto& keys = S().settings[DeviceName(d)];
  // Registering is supported unless the script says otherwise.
  return rc == nvml::kErrorNotSupported && keys.find("register_events") == keys.end() ? nvml::kSuccess : rc;
}

nvml::Return nvmlEventSetWait_v2(nvml::EventSet set, nvml::EventData* out, unsigned int timeout_ms) {
  (void)timeout_ms;  // never blocks: a pending event or an immediate timeout
  if (set == nullptr) return nvml::kErrorInvalidArgument;
  std::string v;
  const nvml::Return rc = Lookup("-", "event_wait", &v);
  if (rc != nvml::kSuccess && rc != nvml::kErrorNotSupported) return rc;
  std::lock_guard<std::mutex> lock(g_mu);
  if (S().events.empty()) return nvml::kErrorTimeout;
  const auto [gpu, xid] = S().events.front();
  S().events.pop_front();
  std::memset(out, 0, sizeof(*out));
  out->device = Handle(gpu, -1);
  out->event_type = nvml::kEventTypeXidCriticalError;
  out->event_data = xid;
  return nvml::kSuccess;
}

nvml::Return nvmlEventSetFree(nvml::EventSet set) {
  (void)set;
  std::lock_guard<std::mutex> lock(g_mu);
  S().counts["event_set_free"]++;
  return nvml::kSuccess;
}

}  // extern "C"
