#include "collect/gpu/nvml.h"

#include <dlfcn.h>

namespace tyto::collect::gpu {
namespace {

// dlsym into a typed function pointer; null when the symbol is absent.
template <typename Fn>
void Resolve(void* handle, const char* symbol, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(handle, symbol));
}

template <typename Fn>
void ResolveFirst(void* handle, const char* first, const char* second, Fn* out) {
  Resolve(handle, first, out);
  if (*out == nullptr) Resolve(handle, second, out);
}

}  // namespace

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::Open(const std::string& path) {
  // RTLD_LOCAL: NVML's symbols stay out of the global namespace; RTLD_NOW: a broken library
  // fails here rather than at the first call.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return NotFound("cannot open " + path + ": " + (why != nullptr ? why : "unknown reason"));
  }
  NvmlFunctions fn;
  ResolveFirst(handle, "nvmlInit_v2", "nvmlInit", &fn.init);
  Resolve(handle, "nvmlShutdown", &fn.shutdown);
  Resolve(handle, "nvmlErrorString", &fn.error_string);
  ResolveFirst(handle, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", &fn.device_get_count);
  ResolveFirst(handle, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex",
               &fn.device_get_handle_by_index);
  if (fn.init == nullptr || fn.shutdown == nullptr || fn.error_string == nullptr ||
      fn.device_get_count == nullptr || fn.device_get_handle_by_index == nullptr) {
    dlclose(handle);
    return FailedPrecondition(path + " lacks NVML's basic functions (nvmlInit_v2, nvmlShutdown, "
                              "nvmlErrorString, nvmlDeviceGetCount_v2, nvmlDeviceGetHandleByIndex_v2)");
  }
  Resolve(handle, "nvmlSystemGetDriverVersion", &fn.system_get_driver_version);
  ResolveFirst(handle, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion",
               &fn.system_get_cuda_driver_version);
  Resolve(handle, "nvmlDeviceGetName", &fn.device_get_name);
  Resolve(handle, "nvmlDeviceGetUUID", &fn.device_get_uuid);
  Resolve(handle, "nvmlDeviceGetSerial", &fn.device_get_serial);
  Resolve(handle, "nvmlDeviceGetMinorNumber", &fn.device_get_minor_number);
  Resolve(handle, "nvmlDeviceGetPciInfo_v3", &fn.device_get_pci_info);
  Resolve(handle, "nvmlDeviceGetUtilizationRates", &fn.device_get_utilization_rates);
  Resolve(handle, "nvmlDeviceGetMemoryInfo", &fn.device_get_memory_info);
  Resolve(handle, "nvmlDeviceGetMemoryInfo_v2", &fn.device_get_memory_info_v2);
  Resolve(handle, "nvmlDeviceGetTemperature", &fn.device_get_temperature);
  Resolve(handle, "nvmlDeviceGetPowerUsage", &fn.device_get_power_usage);
  Resolve(handle, "nvmlDeviceGetPowerManagementLimit", &fn.device_get_power_management_limit);
  Resolve(handle, "nvmlDeviceGetTotalEnergyConsumption", &fn.device_get_total_energy_consumption);
  Resolve(handle, "nvmlDeviceGetClockInfo", &fn.device_get_clock_info);
  // Renamed "clocks event reasons" in newer drivers; same bits, same signature.
  ResolveFirst(handle, "nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons",
               &fn.device_get_current_clocks_throttle_reasons);
  Resolve(handle, "nvmlDeviceGetPcieReplayCounter", &fn.device_get_pcie_replay_counter);
  Resolve(handle, "nvmlDeviceGetPcieThroughput", &fn.device_get_pcie_throughput);
  Resolve(handle, "nvmlDeviceGetFanSpeed", &fn.device_get_fan_speed);
  Resolve(handle, "nvmlDeviceGetPerformanceState", &fn.device_get_performance_state);
  Resolve(handle, "nvmlDeviceGetEncoderUtilization", &fn.device_get_encoder_utilization);
  Resolve(handle, "nvmlDeviceGetDecoderUtilization", &fn.device_get_decoder_utilization);
  Resolve(handle, "nvmlDeviceGetViolationStatus", &fn.device_get_violation_status);
  Resolve(handle, "nvmlDeviceGetFieldValues", &fn.device_get_field_values);
  Resolve(handle, "nvmlDeviceGetMigMode", &fn.device_get_mig_mode);
  Resolve(handle, "nvmlDeviceGetMaxMigDeviceCount", &fn.device_get_max_mig_device_count);
  Resolve(handle, "nvmlDeviceGetMigDeviceHandleByIndex", &fn.device_get_mig_device_handle_by_index);
  Resolve(handle, "nvmlDeviceGetGpuInstanceId", &fn.device_get_gpu_instance_id);
  Resolve(handle, "nvmlDeviceGetProcessUtilization", &fn.device_get_process_utilization);
  ResolveFirst(handle, "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
               &fn.device_get_compute_running_processes);
  Resolve(handle, "nvmlEventSetCreate", &fn.event_set_create);
  Resolve(handle, "nvmlDeviceRegisterEvents", &fn.device_register_events);
  Resolve(handle, "nvmlEventSetWait_v2", &fn.event_set_wait);
  Resolve(handle, "nvmlEventSetFree", &fn.event_set_free);

  const nvml::Return rc = fn.init();
  if (rc != nvml::kSuccess) {
    const char* text = fn.error_string(rc);
    std::string message = path + ": nvmlInit_v2 failed: " + (text != nullptr ? text : "unknown error") + " (" +
                          std::to_string(rc) + ")";
    dlclose(handle);
    return Unavailable(std::move(message));
  }
  return std::unique_ptr<NvmlLibrary>(new NvmlLibrary(handle, fn));
}

NvmlLibrary::~NvmlLibrary() {
  (void)fn_.shutdown();  // nothing to do about a failed shutdown while closing
  dlclose(handle_);
}

std::string NvmlLibrary::ErrorString(nvml::Return code) const {
  const char* text = fn_.error_string(code);
  return std::string(text != nullptr ? text : "unknown error") + " (" + std::to_string(code) + ")";
}

}  // namespace tyto::collect::gpu
