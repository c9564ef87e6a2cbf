// The GPU collector: NVIDIA GPUs through NVML (nvml.h), with dcgm-exporter's metric names and
// labels so NVIDIA's DCGM dashboards work unchanged:
//   DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-...",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",
//                        Hostname="node1",pci_bus_id="00000000:3B:00.0",DCGM_FI_DRIVER_VERSION="550.54.15"}
// docs/collectors.md ("gpu") lists every metric, its unit and where it comes from.
//
// Failure model: without the library (no NVIDIA driver) the collector logs one line and
// disables itself; every later Collect is OK and empty. A field a GPU does not support is
// skipped for that GPU. A GPU that stops answering (NVML_ERROR_GPU_IS_LOST) is reported as
// tyto_gpu_lost{...} 1 and one log line when it goes; its other metrics are left out while it is
// lost, and it is asked again every round.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collector.h"
#include "collect/gpu/nvml.h"
#include "tyto/env.h"

namespace tyto::collect::gpu {

struct GpuOptions {
  // The NVML library to open: a soname searched by the dynamic loader, or a path.
  std::string library_path = kNvmlLibraryName;
  // The Hostname label; empty: the machine's host name.
  std::string hostname;
  // Read XID errors through NVML's event API (DCGM_FI_DEV_XID_ERRORS).
  bool xid_events = true;
  // Report each compute process's GPU memory (tyto_gpu_process_memory_bytes), with its
  // container and pod read from <proc_root>/<pid>/cgroup through `env` when readable.
  bool processes = true;
  Env* env = nullptr;  // null: Env::Default()
  std::string proc_root = "/proc";
};

// Where a process runs, from its /proc/<pid>/cgroup: the cgroup v2 path ("0::" line; else the
// first line's path), the container id (64 hex digits, from docker-, cri-containerd-, crio-,
// libpod- scopes or a bare id) and the Kubernetes pod UID (kubepods "pod<uid>" components, with
// systemd's underscores turned back into dashes). Fields not found are empty.
struct ProcessCgroup {
  std::string path;
  std::string container_id;
  std::string pod_uid;
};
ProcessCgroup ParseProcessCgroup(std::string_view cgroup_file);

// Not thread-safe: one caller (the collector runner) at a time. The library is opened on the
// first Collect and kept until the collector is destroyed.
class GpuCollector final : public Collector {
 public:
  static Descriptor Describe();

  explicit GpuCollector(GpuOptions options);
  ~GpuCollector() override;
  GpuCollector(const GpuCollector&) = delete;
  GpuCollector& operator=(const GpuCollector&) = delete;

  std::string_view name() const override { return "gpu"; }
  Status Collect(int64_t now_ms, Sink* sink) override;

  // False once opening the library failed (the collector is then disabled for good).
  bool available() const { return !disabled_; }

 private:
  struct Gpu {
    unsigned int index = 0;
    nvml::Device handle = nullptr;
    std::string uuid;
    std::string serial;
    Labels labels;  // gpu, UUID, device, modelName, Hostname, pci_bus_id, DCGM_FI_DRIVER_VERSION
    bool lost = false;
    bool xid_registered = false;
    double last_xid = 0;
    unsigned long long last_process_sample_us = 0;  // newest per-process utilization sample read
    std::map<unsigned long long, double> xid_counts;  // XID number -> events seen
  };
  class Round;

  Status Open();
  void DrainXidEvents();
  void ReadGpu(Gpu* gpu, Round* round);
  void ReadMigInstances(Gpu* gpu, Round* round, bool* lost);
  // Adds the GPU's compute processes to `round`; false when NVML reports the GPU lost.
  bool ReadProcesses(Gpu* gpu, Round* round);

  GpuOptions options_;
  bool opened_ = false;
  bool disabled_ = false;
  std::unique_ptr<NvmlLibrary> nvml_;
  std::string driver_version_;
  std::string cuda_version_;
  std::vector<Gpu> gpus_;
  nvml::EventSet events_ = nullptr;
};

}  // namespace tyto::collect::gpu
