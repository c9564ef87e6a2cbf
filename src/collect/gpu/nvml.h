// NVML loaded at run time: dlopen("libnvidia-ml.so.1") and dlsym of the functions the GPU
// collector uses (nvml_types.h declares them). Nothing NVIDIA is needed to build Tyto; a machine
// without the driver simply has no library to open.
#pragma once

#include <memory>
#include <string>

#include "collect/gpu/nvml_types.h"
#include "tyto/status.h"

namespace tyto::collect::gpu {

// The soname NVIDIA's driver installs; found through the dynamic loader's usual search.
inline constexpr const char* kNvmlLibraryName = "libnvidia-ml.so.1";

// NVML's entry points. Required ones are never null once Library::Open succeeded; an optional
// one is null when this driver does not export it (an older driver), and callers treat that as
// "not supported" for the fields it serves.
struct NvmlFunctions {
  // Required.
  nvml::InitFn init = nullptr;  // nvmlInit_v2
  nvml::ShutdownFn shutdown = nullptr;
  nvml::ErrorStringFn error_string = nullptr;
  nvml::DeviceGetCountFn device_get_count = nullptr;                  // _v2
  nvml::DeviceGetHandleByIndexFn device_get_handle_by_index = nullptr;  // _v2
  // Optional.
  nvml::SystemGetDriverVersionFn system_get_driver_version = nullptr;
  nvml::SystemGetCudaDriverVersionFn system_get_cuda_driver_version = nullptr;  // _v2
  nvml::DeviceGetStringFn device_get_name = nullptr;
  nvml::DeviceGetStringFn device_get_uuid = nullptr;
  nvml::DeviceGetStringFn device_get_serial = nullptr;
  nvml::DeviceGetUintFn device_get_minor_number = nullptr;
  nvml::DeviceGetPciInfoFn device_get_pci_info = nullptr;  // _v3
  nvml::DeviceGetUtilizationRatesFn device_get_utilization_rates = nullptr;
  nvml::DeviceGetMemoryInfoFn device_get_memory_info = nullptr;
  nvml::DeviceGetMemoryInfoV2Fn device_get_memory_info_v2 = nullptr;
  nvml::DeviceGetTemperatureFn device_get_temperature = nullptr;
  nvml::DeviceGetUintFn device_get_power_usage = nullptr;             // mW
  nvml::DeviceGetUintFn device_get_power_management_limit = nullptr;  // mW
  nvml::DeviceGetUllFn device_get_total_energy_consumption = nullptr;  // mJ
  nvml::DeviceGetClockInfoFn device_get_clock_info = nullptr;          // MHz
  nvml::DeviceGetUllFn device_get_current_clocks_throttle_reasons = nullptr;
  nvml::DeviceGetUintFn device_get_pcie_replay_counter = nullptr;
  nvml::DeviceGetPcieThroughputFn device_get_pcie_throughput = nullptr;  // KB/s
  nvml::DeviceGetUintFn device_get_fan_speed = nullptr;                  // percent
  nvml::DeviceGetPerformanceStateFn device_get_performance_state = nullptr;
  nvml::DeviceGetCodecUtilizationFn device_get_encoder_utilization = nullptr;
  nvml::DeviceGetCodecUtilizationFn device_get_decoder_utilization = nullptr;
  nvml::DeviceGetViolationStatusFn device_get_violation_status = nullptr;
  nvml::DeviceGetFieldValuesFn device_get_field_values = nullptr;
  nvml::DeviceGetMigModeFn device_get_mig_mode = nullptr;
  nvml::DeviceGetUintFn device_get_max_mig_device_count = nullptr;
  nvml::DeviceGetMigDeviceHandleByIndexFn device_get_mig_device_handle_by_index = nullptr;
  nvml::DeviceGetUintFn device_get_gpu_instance_id = nullptr;
  nvml::DeviceGetProcessesFn device_get_compute_running_processes = nullptr;  // _v3 (or _v2)
  nvml::DeviceGetProcessUtilizationFn device_get_process_utilization = nullptr;
  nvml::EventSetCreateFn event_set_create = nullptr;
  nvml::DeviceRegisterEventsFn device_register_events = nullptr;
  nvml::EventSetWaitFn event_set_wait = nullptr;  // _v2
  nvml::EventSetFreeFn event_set_free = nullptr;
};

// An opened and initialised NVML. Destroying it shuts NVML down and closes the library.
// NVML's own calls are thread-safe; this object is immutable after Open.
class NvmlLibrary {
 public:
  // Opens `path` (a soname searched by the loader, or a file path), resolves the functions and
  // calls nvmlInit_v2. kNotFound when the library cannot be opened (no NVIDIA driver);
  // kUnavailable when it opens but does not initialise (driver not loaded, no permission);
  // kFailedPrecondition when a required function is missing.
  static Result<std::unique_ptr<NvmlLibrary>> Open(const std::string& path);
  ~NvmlLibrary();
  NvmlLibrary(const NvmlLibrary&) = delete;
  NvmlLibrary& operator=(const NvmlLibrary&) = delete;

  const NvmlFunctions& fn() const { return fn_; }
  // NVML's text for a return code ("GPU is lost"), with the code: "GPU is lost (15)".
  std::string ErrorString(nvml::Return code) const;

 private:
  NvmlLibrary(void* handle, const NvmlFunctions& fn) : handle_(handle), fn_(fn) {}
  void* handle_;  // from dlopen
  NvmlFunctions fn_;
};

}  // namespace tyto::collect::gpu
