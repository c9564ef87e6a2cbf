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
//
// A hung NVML call (a wedged driver, a GPU in a bad state: NVML has no call timeouts) must not
// stall the runner: every round's NVML work runs on the collector's own thread, and Collect waits
// for it at most `round_timeout`. A round that overruns is reported
// (tyto_gpu_round_timeouts_total, tyto_gpu_nvml_stuck 1, one warning line) and Collect returns
// DeadlineExceeded; while that NVML round has not returned, later rounds are skipped
// (tyto_gpu_rounds_skipped_total) rather than started, so there are never two NVML rounds at once.
// When it returns, one info line says so and rounds resume.
#pragma once

#include <chrono>
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
  // How long Collect waits for a round's NVML calls (at least 1 ms).
  std::chrono::milliseconds round_timeout{std::chrono::seconds(5)};
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

// The NVML rounds themselves, without the time guard: GpuCollector runs them on its thread.
// Not thread-safe: one caller at a time. The library is opened on the first Collect and kept
// until this object is destroyed.
class NvmlRounds {
 public:
  explicit NvmlRounds(GpuOptions options);
  ~NvmlRounds();
  NvmlRounds(const NvmlRounds&) = delete;
  NvmlRounds& operator=(const NvmlRounds&) = delete;

  Status Collect(int64_t now_ms, Sink* sink);

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

// The collector: NvmlRounds on a thread of its own, waited for at most options.round_timeout.
// One caller (the collector runner) at a time.
class GpuCollector final : public Collector {
 public:
  static Descriptor Describe();

  explicit GpuCollector(GpuOptions options);
  // Stops the thread. If an NVML call is still hung after round_timeout, the thread is left
  // to finish it on its own (it then closes the library), so destruction never hangs.
  ~GpuCollector() override;
  GpuCollector(const GpuCollector&) = delete;
  GpuCollector& operator=(const GpuCollector&) = delete;

  std::string_view name() const override { return "gpu"; }
  Status Collect(int64_t now_ms, Sink* sink) override;

  // False once opening the library failed (the collector is then disabled for good).
  bool available() const;

 private:
  struct Worker;  // gpu_collector.cc: shared with the thread, so a hung thread can outlive us
  std::shared_ptr<Worker> worker_;
  std::chrono::milliseconds round_timeout_;
  double timeouts_ = 0;  // rounds whose NVML work overran round_timeout
  double skipped_ = 0;   // rounds not started because an earlier one was still in NVML
  bool stuck_ = false;   // an overrun round has not returned yet
};

}  // namespace tyto::collect::gpu
