// The GPU collector against the fake libnvidia-ml.so.1 (testdata/fake_nvml.cc), opened through
// the collector's real dlopen path; the test scripts the fake through its exported hooks.
#include "collect/gpu/gpu_collector.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "testing/temp_dir.h"

namespace tyto::collect::gpu {
namespace {

// GPU 0: an H100 that answers everything. GPU 1: an older board without the v2 memory call,
// memory temperature, power reading, NVLink, fan or XID events.
constexpr const char* kTwoGpus = R"(
- device_count 2
- driver 550.54.15
- cuda 12040
0 name NVIDIA H100 80GB HBM3
0 uuid GPU-0a1b2c3d-0000-0000-0000-000000000000
0 serial 1650123456789
0 minor 0
0 pci_bus_id 00000000:3B:00.0
0 util_gpu 87
0 util_mem 45
0 enc 0
0 dec 3
0 mem_total 85899345920
0 mem_used 41943564288
0 mem_free 43327160320
0 mem_reserved 629145600
0 temp 64
0 power_mw 512345
0 power_limit_mw 700000
0 energy_mj 123456789
0 sm_clock 1980
0 mem_clock 2619
0 throttle 4
0 violation_0 123456789
0 violation_1 999
0 violation_2 0
0 violation_3 5000000000
0 violation_4 1500
0 violation_5 !3
0 pcie_replay 2
0 pcie_tx 1500
0 pcie_rx 2500
0 fan 0
0 pstate 0
0 field_82 61
0 field_3 5
0 field_4 0
0 field_5 17
0 field_6 1
0 field_29 0
0 field_30 0
0 field_31 0
0 field_142 1
0 field_143 0
0 field_144 0
0 field_145 0
0 field_38 0
0 field_45 0
0 field_52 3
0 field_59 0
0 field_138 1000
0 field_139 2000
1 name Tesla T4
1 uuid GPU-11111111-2222-3333-4444-555555555555
1 serial 0000000000001
1 minor 3
1 pci_bus_id 00000000:AF:00.0
1 util_gpu 10
1 util_mem 2
1 mem_total 16106127360
1 mem_used 1048576000
1 mem_free 15057551360
1 temp 40
1 power_mw !3
1 power_limit_mw 70000
1 sm_clock 585
1 mem_clock 5000
1 pstate 8
1 fan !3
1 field_3 0
1 field_4 0
1 register_events !3
)";

using LoadFn = int (*)(const char*);
using CountFn = int (*)(const char*);
using ReleaseFn = void (*)();

class GpuCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Held open by the test too, so the script survives the collectors' dlclose.
    handle_ = dlopen(TYTO_FAKE_NVML_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    load_ = reinterpret_cast<LoadFn>(dlsym(handle_, "tyto_fake_nvml_load"));
    count_ = reinterpret_cast<CountFn>(dlsym(handle_, "tyto_fake_nvml_count"));
    ASSERT_NE(load_, nullptr);
    ASSERT_NE(count_, nullptr);
    release_ = reinterpret_cast<ReleaseFn>(dlsym(handle_, "tyto_fake_nvml_release"));
    ASSERT_NE(release_, nullptr);
    Script(kTwoGpus);
    log::SetSinkForTesting([this](std::string_view line) { log_lines_.emplace_back(line); });
  }
  void TearDown() override {
    log::SetSinkForTesting({});
    if (handle_ != nullptr) dlclose(handle_);
  }

  void Script(const std::string& script) { ASSERT_EQ(load_(script.c_str()), 0); }

  static GpuOptions Options() {
    GpuOptions o;
    o.library_path = TYTO_FAKE_NVML_PATH;
    o.hostname = "node1";
    return o;
  }

  // One round: series text ("name{labels}") -> value.
  std::map<std::string, double> Round(GpuCollector* c) {
    VectorSink sink;
    EXPECT_TRUE(c->Collect(1000, &sink).ok());
    last_ = sink;
    std::map<std::string, double> out;
    for (const auto& p : sink.points) {
      EXPECT_TRUE(out.emplace(p.labels.ToString(), p.value).second) << "twice: " << p.labels.ToString();
    }
    return out;
  }

  // One round whose status the test checks itself: series text -> value.
  std::map<std::string, double> RoundWithStatus(GpuCollector* c, Status* status) {
    VectorSink sink;
    *status = c->Collect(1000, &sink);
    std::map<std::string, double> out;
    for (const auto& p : sink.points) {
      const std::string key = p.labels.size() == 1 ? std::string(p.labels.MetricName()) : p.labels.ToString();
      EXPECT_TRUE(out.emplace(key, p.value).second) << "twice: " << key;
    }
    return out;
  }

  // Waits (bounded, generously) until the fake has counted `n` calls to `name`.
  bool WaitForCount(const char* name, int n) {
    for (int i = 0; i < 3000 && count_(name) < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return count_(name) >= n;
  }

  int LogLinesWith(std::string_view text) const {
    int n = 0;
    for (const auto& l : log_lines_) n += l.find(text) != std::string::npos ? 1 : 0;
    return n;
  }

  void* handle_ = nullptr;
  LoadFn load_ = nullptr;
  ReleaseFn release_ = nullptr;
  CountFn count_ = nullptr;
  std::vector<std::string> log_lines_;
  VectorSink last_;
};

constexpr const char* kGpu0 =
    R"(DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", UUID="GPU-0a1b2c3d-0000-0000-0000-000000000000", )"
    R"(device="nvidia0", gpu="0", modelName="NVIDIA H100 80GB HBM3", pci_bus_id="00000000:3B:00.0")";
constexpr const char* kGpu1 =
    R"(DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", UUID="GPU-11111111-2222-3333-4444-555555555555", )"
    R"(device="nvidia3", gpu="1", modelName="Tesla T4", pci_bus_id="00000000:AF:00.0")";

std::string S(const std::string& name, const char* labels) { return name + "{" + labels + "}"; }

TEST_F(GpuCollectorTest, TwoGpusExactSamples) {
  GpuCollector c(Options());
  const auto got = Round(&c);
  EXPECT_TRUE(c.available());

  const std::map<std::string, double> want_gpu0 = {
      {"DCGM_FI_DEV_GPU_UTIL", 87},
      {"DCGM_FI_DEV_MEM_COPY_UTIL", 45},
      {"DCGM_FI_DEV_ENC_UTIL", 0},
      {"DCGM_FI_DEV_DEC_UTIL", 3},
      {"DCGM_FI_DEV_FB_TOTAL", 81920},
      {"DCGM_FI_DEV_FB_USED", 40000},  // 40000 MiB + 512 KiB: whole MiB, rounded down
      {"DCGM_FI_DEV_FB_FREE", 41320},
      {"DCGM_FI_DEV_FB_RESERVED", 600},
      {"DCGM_FI_DEV_GPU_TEMP", 64},
      {"DCGM_FI_DEV_MEMORY_TEMP", 61},
      {"DCGM_FI_DEV_POWER_USAGE", 512.345},
      {"DCGM_FI_DEV_POWER_MGMT_LIMIT", 700},
      {"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", 123456789},
      {"DCGM_FI_DEV_SM_CLOCK", 1980},
      {"DCGM_FI_DEV_MEM_CLOCK", 2619},
      {"DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", 4},
      // NVML's nanoseconds as DCGM's whole microseconds.
      {"DCGM_FI_DEV_POWER_VIOLATION", 123456},
      {"DCGM_FI_DEV_THERMAL_VIOLATION", 0},
      {"DCGM_FI_DEV_SYNC_BOOST_VIOLATION", 0},
      {"DCGM_FI_DEV_BOARD_LIMIT_VIOLATION", 5000000},
      {"DCGM_FI_DEV_LOW_UTIL_VIOLATION", 1},
      {"DCGM_FI_DEV_PCIE_REPLAY_COUNTER", 2},
      {"DCGM_FI_DEV_PCIE_TX_THROUGHPUT", 1500},
      {"DCGM_FI_DEV_PCIE_RX_THROUGHPUT", 2500},
      {"DCGM_FI_DEV_FAN_SPEED", 0},
      {"DCGM_FI_DEV_PSTATE", 0},
      {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", 5},
      {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", 0},
      {"DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", 17},
      {"DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", 1},
      {"DCGM_FI_DEV_RETIRED_SBE", 0},
      {"DCGM_FI_DEV_RETIRED_DBE", 0},
      {"DCGM_FI_DEV_RETIRED_PENDING", 0},
      {"DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", 1},
      {"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", 0},
      {"DCGM_FI_DEV_ROW_REMAP_PENDING", 0},
      {"DCGM_FI_DEV_ROW_REMAP_FAILURE", 0},
      {"DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", 0},
      {"DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", 0},
      {"DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", 3},
      {"DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", 0},
      {"DCGM_FI_DEV_NVLINK_BANDWIDTH_TOTAL", 3000},
      {"DCGM_FI_DEV_XID_ERRORS", 0},
      {"tyto_gpu_lost", 0},
  };
  for (const auto& [name, v] : want_gpu0) {
    const auto it = got.find(S(name, kGpu0));
    ASSERT_NE(it, got.end()) << S(name, kGpu0);
    EXPECT_DOUBLE_EQ(it->second, v) << name;
  }
  // The reliability policy answers "not supported" on GPU 0: that counter alone is left out.
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_RELIABILITY_VIOLATION", kGpu0)), 0u);
  // GPU 1 has exactly what it supports: the v1 memory call (no reserved), no power reading,
  // fan, memory temperature, NVLink, energy, PCIe or XID.
  const std::map<std::string, double> want_gpu1 = {
      {"DCGM_FI_DEV_GPU_UTIL", 10},    {"DCGM_FI_DEV_MEM_COPY_UTIL", 2},   {"DCGM_FI_DEV_FB_TOTAL", 15360},
      {"DCGM_FI_DEV_FB_USED", 1000},   {"DCGM_FI_DEV_FB_FREE", 14360},     {"DCGM_FI_DEV_GPU_TEMP", 40},
      {"DCGM_FI_DEV_POWER_MGMT_LIMIT", 70}, {"DCGM_FI_DEV_SM_CLOCK", 585}, {"DCGM_FI_DEV_MEM_CLOCK", 5000},
      {"DCGM_FI_DEV_PSTATE", 8},       {"DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", 0}, {"DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", 0},
      {"tyto_gpu_lost", 0},
  };
  int gpu1_series = 0;
  for (const auto& [series, v] : got) {
    if (series.find(R"(gpu="1")") == std::string::npos || series.rfind("tyto_gpu_info", 0) == 0) continue;
    ++gpu1_series;
    const std::string name = series.substr(0, series.find('{'));
    const auto it = want_gpu1.find(name);
    ASSERT_NE(it, want_gpu1.end()) << "unexpected for GPU 1: " << series;
    EXPECT_EQ(series, S(name, kGpu1));
    EXPECT_DOUBLE_EQ(v, it->second) << name;
  }
  EXPECT_EQ(gpu1_series, static_cast<int>(want_gpu1.size()));

  // The info metric carries what the labels do not.
  EXPECT_EQ(got.count(R"(tyto_gpu_info{DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", )"
                      R"(UUID="GPU-0a1b2c3d-0000-0000-0000-000000000000", cuda_version="12.4", device="nvidia0", )"
                      R"(driver_version="550.54.15", gpu="0", modelName="NVIDIA H100 80GB HBM3", )"
                      R"(pci_bus_id="00000000:3B:00.0", serial="1650123456789"})"),
            1u);

  // Each family described once, before its first sample, with dcgm-exporter's type.
  std::map<std::string, MetricType> types;
  for (const auto& f : last_.families) EXPECT_TRUE(types.emplace(f.name, f.type).second) << f.name;
  EXPECT_EQ(types.at("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"), MetricType::kCounter);
  EXPECT_EQ(types.at("DCGM_FI_DEV_GPU_UTIL"), MetricType::kGauge);
  EXPECT_EQ(types.at("DCGM_FI_DEV_POWER_VIOLATION"), MetricType::kCounter);
  EXPECT_EQ(types.count("DCGM_FI_DEV_RELIABILITY_VIOLATION"), 0u);
  EXPECT_EQ(types.at("tyto_gpu_info"), MetricType::kInfo);
  for (const auto& p : last_.points) EXPECT_EQ(types.count(std::string(p.labels.MetricName())), 1u);
}

TEST_F(GpuCollectorTest, LibraryMissingDisablesWithOneLogLine) {
  GpuOptions o = Options();
  o.library_path = "/nonexistent/libnvidia-ml.so.1";
  GpuCollector c(o);
  EXPECT_TRUE(Round(&c).empty());
  EXPECT_TRUE(Round(&c).empty());
  EXPECT_FALSE(c.available());
  ASSERT_EQ(LogLinesWith("gpu collector is disabled"), 1);
  EXPECT_EQ(LogLinesWith("/nonexistent/libnvidia-ml.so.1"), 1);
}

TEST_F(GpuCollectorTest, InitFailureDisables) {
  Script(std::string(kTwoGpus) + "- init !9\n");
  GpuCollector c(Options());
  EXPECT_TRUE(Round(&c).empty());
  EXPECT_FALSE(c.available());
  EXPECT_EQ(LogLinesWith("Driver Not Loaded"), 1);
}

TEST_F(GpuCollectorTest, GpuLostIsReportedAndRecovers) {
  GpuCollector c(Options());
  ASSERT_EQ(Round(&c).at(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 10);

  Script(std::string(kTwoGpus) + "1 lost 1\n");
  for (int i = 0; i < 2; ++i) {
    const auto got = Round(&c);
    EXPECT_EQ(got.at(S("tyto_gpu_lost", kGpu1)), 1);
    EXPECT_EQ(got.count(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 0u);
    EXPECT_EQ(got.count(S("DCGM_FI_DEV_FB_USED", kGpu1)), 0u);
    EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 87);  // the other GPU goes on
    EXPECT_EQ(got.at(S("tyto_gpu_lost", kGpu0)), 0);
  }
  EXPECT_EQ(LogLinesWith("GPU lost"), 1);  // once, when it went

  Script(kTwoGpus);
  const auto back = Round(&c);
  EXPECT_EQ(back.at(S("tyto_gpu_lost", kGpu1)), 0);
  EXPECT_EQ(back.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 10);
  EXPECT_EQ(LogLinesWith("GPU answers again"), 1);
}

TEST_F(GpuCollectorTest, GpuLostPartWayThroughARound) {
  // The first reads succeed, then the power reading finds the GPU gone: none of the round's
  // readings for that GPU are kept.
  Script(std::string(kTwoGpus) + "0 power_mw !15\n");
  GpuCollector c(Options());
  const auto got = Round(&c);
  EXPECT_EQ(got.at(S("tyto_gpu_lost", kGpu0)), 1);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 0u);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 10);
  EXPECT_EQ(LogLinesWith("GPU is lost (15)"), 1);
}

TEST_F(GpuCollectorTest, GpuLostAtStartUp) {
  Script(std::string(kTwoGpus) + "1 handle !15\n");
  GpuCollector c(Options());
  const auto got = Round(&c);
  EXPECT_EQ(got.at(R"(tyto_gpu_lost{DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", gpu="1"})"), 1);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 87);
}

TEST_F(GpuCollectorTest, XidEventsThroughTheEventApi) {
  GpuCollector c(Options());
  EXPECT_EQ(Round(&c).at(S("DCGM_FI_DEV_XID_ERRORS", kGpu0)), 0);

  Script(std::string(kTwoGpus) + "- event 0 79\n- event 0 79\n- event 0 13\n");
  const auto got = Round(&c);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_XID_ERRORS", kGpu0)), 13);  // the last one
  EXPECT_EQ(got.at(R"(tyto_gpu_xid_errors_total{DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", )"
                   R"(UUID="GPU-0a1b2c3d-0000-0000-0000-000000000000", device="nvidia0", gpu="0", )"
                   R"(modelName="NVIDIA H100 80GB HBM3", pci_bus_id="00000000:3B:00.0", xid="79"})"),
            2);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_XID_ERRORS", kGpu1)), 0u);  // registration not supported

  // Drained: the next round sees no new event and keeps the last value.
  Script(kTwoGpus);
  EXPECT_EQ(Round(&c).at(S("DCGM_FI_DEV_XID_ERRORS", kGpu0)), 13);
}

TEST_F(GpuCollectorTest, EventWaitFailureIsNotFatal) {
  Script(std::string(kTwoGpus) + "- event_wait !999\n- event 0 79\n");
  GpuCollector c(Options());
  const auto got = Round(&c);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_XID_ERRORS", kGpu0)), 0);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 87);
}

TEST_F(GpuCollectorTest, MigInstancesReportTheirMemory) {
  Script(std::string(kTwoGpus) +
         "0 mig_mode 1\n0 mig_max 7\n"
         "0/0 name NVIDIA H100 80GB HBM3 MIG 1g.10gb\n0/0 gpu_instance 9\n"
         "0/0 mem_total 10737418240\n0/0 mem_used 2147483649\n0/0 mem_free 8589934592\n");
  GpuCollector c(Options());
  const auto got = Round(&c);
  const std::string mig =
      R"(DCGM_FI_DRIVER_VERSION="550.54.15", GPU_I_ID="9", GPU_I_PROFILE="1g.10gb", Hostname="node1", )"
      R"(UUID="GPU-0a1b2c3d-0000-0000-0000-000000000000", device="nvidia0", gpu="0", )"
      R"(modelName="NVIDIA H100 80GB HBM3", pci_bus_id="00000000:3B:00.0")";
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_FB_TOTAL", mig.c_str())), 10240);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_FB_USED", mig.c_str())), 2048);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_FB_FREE", mig.c_str())), 8192);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_FB_USED", kGpu0)), 40000);  // the whole GPU still reported
}

TEST_F(GpuCollectorTest, ProcessesWithTheirContainersAndPods) {
  // 40 processes: more than the first buffer holds, so the collector asks again.
  std::string procs = "0 processes 4242:1073741824 4343:na 4444:2097152";
  for (int pid = 5000; pid < 5037; ++pid) procs += " " + std::to_string(pid) + ":1048576";
  Script(std::string(kTwoGpus) + procs + "\n");
  tyto::testing::TempDir proc;
  const std::string cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::filesystem::create_directories(proc.path() + "/4242");
  std::ofstream(proc.path() + "/4242/cgroup")
      << "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12345678_aaaa_bbbb_cccc_1234567890ab.slice/"
         "cri-containerd-" << cid << ".scope\n";
  GpuOptions o = Options();
  o.proc_root = proc.path();
  GpuCollector c(o);
  const auto got = Round(&c);
  EXPECT_EQ(got.at(R"(tyto_gpu_process_memory_bytes{DCGM_FI_DRIVER_VERSION="550.54.15", Hostname="node1", )"
                   R"(UUID="GPU-0a1b2c3d-0000-0000-0000-000000000000", cgroup="/kubepods.slice/kubepods-burstable.slice/)"
                   R"(kubepods-burstable-pod12345678_aaaa_bbbb_cccc_1234567890ab.slice/cri-containerd-)" + cid +
                   R"(.scope", container_id=")" + cid + R"(", device="nvidia0", gpu="0", )"
                   R"(modelName="NVIDIA H100 80GB HBM3", pci_bus_id="00000000:3B:00.0", pid="4242", )"
                   R"(pod_uid="12345678-aaaa-bbbb-cccc-1234567890ab"})"),
            1073741824);
  // No readable cgroup: the pid alone. Not available: left out.
  EXPECT_EQ(got.at("tyto_gpu_process_memory_bytes{" + std::string(kGpu0) + R"(, pid="4444"})"),
            2097152);
  int process_series = 0;
  for (const auto& [series, v] : got) process_series += series.rfind("tyto_gpu_process_memory_bytes", 0) == 0 ? 1 : 0;
  EXPECT_EQ(process_series, 39);  // 40 listed, one not available
}

TEST_F(GpuCollectorTest, ProcessUtilizationFromTheNewestSampleSinceTheLastRound) {
  // Two samples for 4242 (the newer one counts), one for 4444; 4343 ran no kernel.
  Script(std::string(kTwoGpus) +
         "0 processes 4242:1048576 4343:1048576 4444:2097152\n"
         "0 process_util 4242:1000:30:10 4242:2000:55:20 4444:1500:7:3\n");
  GpuCollector c(Options());
  auto got = Round(&c);
  const std::string gpu0 = std::string(kGpu0);
  EXPECT_EQ(got.at("tyto_gpu_process_sm_utilization{" + gpu0 + R"(, pid="4242"})"), 55);
  EXPECT_EQ(got.at("tyto_gpu_process_memory_utilization{" + gpu0 + R"(, pid="4242"})"), 20);
  EXPECT_EQ(got.at("tyto_gpu_process_sm_utilization{" + gpu0 + R"(, pid="4444"})"), 7);
  EXPECT_EQ(got.count("tyto_gpu_process_sm_utilization{" + gpu0 + R"(, pid="4343"})"), 0u);
  // Nothing newer since: no utilization series, the memory series stay.
  got = Round(&c);
  EXPECT_EQ(got.count("tyto_gpu_process_sm_utilization{" + gpu0 + R"(, pid="4242"})"), 0u);
  EXPECT_EQ(got.count("tyto_gpu_process_memory_bytes{" + gpu0 + R"(, pid="4242"})"), 1u);
}

TEST(ProcessCgroupTest, RuntimesAndDrivers) {
  const std::string cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  auto p = ParseProcessCgroup("0::/system.slice/docker-" + cid + ".scope\n");
  EXPECT_EQ(p.path, "/system.slice/docker-" + cid + ".scope");
  EXPECT_EQ(p.container_id, cid);
  EXPECT_EQ(p.pod_uid, "");
  p = ParseProcessCgroup("12:memory:/kubepods/burstable/pod12345678-aaaa-bbbb-cccc-1234567890ab/" + cid +
                         "\n0::/kubepods/burstable/pod12345678-aaaa-bbbb-cccc-1234567890ab/" + cid + "\n");
  EXPECT_EQ(p.container_id, cid);
  EXPECT_EQ(p.pod_uid, "12345678-aaaa-bbbb-cccc-1234567890ab");
  p = ParseProcessCgroup("0::/user.slice/user-1000.slice/session-3.scope\n");
  EXPECT_EQ(p.path, "/user.slice/user-1000.slice/session-3.scope");
  EXPECT_EQ(p.container_id, "");
  EXPECT_EQ(p.pod_uid, "");
  p = ParseProcessCgroup("4:cpu,cpuacct:/docker/" + cid + "\n");  // cgroup v1 only
  EXPECT_EQ(p.container_id, cid);
}

TEST_F(GpuCollectorTest, ShutsNvmlDownWhenDestroyed) {
  const int inits = count_("init");
  const int shutdowns = count_("shutdown");
  const int frees = count_("event_set_free");
  {
    GpuCollector c(Options());
    (void)Round(&c);
    (void)Round(&c);
  }
  EXPECT_EQ(count_("init"), inits + 1);
  EXPECT_EQ(count_("shutdown"), shutdowns + 1);
  EXPECT_EQ(count_("event_set_free"), frees + 1);
}

TEST_F(GpuCollectorTest, Descriptor) {
  const Descriptor d = GpuCollector::Describe();
  EXPECT_EQ(d.name, "gpu");
  ASSERT_EQ(d.options.size(), 5u);
  EXPECT_EQ(d.options[0].name, "library_path");
  EXPECT_EQ(d.options[0].default_value, "libnvidia-ml.so.1");
  EXPECT_EQ(d.options[4].name, "round_timeout");
  EXPECT_EQ(d.options[4].default_value, "5s");
  EXPECT_EQ(GpuOptions{}.round_timeout, std::chrono::seconds(5));
}

// A hung NVML call: the round waits round_timeout, is reported, and the rounds after it are
// skipped (never a second NVML round beside the hung one) until the call returns.
TEST_F(GpuCollectorTest, HungNvmlCallTimesOutAndLaterRoundsAreSkippedUntilItReturns) {
  Script(std::string(kTwoGpus) + "0 block util_gpu\n");
  GpuOptions o = Options();
  o.round_timeout = std::chrono::milliseconds(200);
  GpuCollector c(o);

  Status st;
  auto got = RoundWithStatus(&c, &st);
  EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st.ToString();
  EXPECT_EQ(got.at("tyto_gpu_round_timeouts_total"), 1);
  EXPECT_EQ(got.at("tyto_gpu_rounds_skipped_total"), 0);
  EXPECT_EQ(got.at("tyto_gpu_nvml_stuck"), 1);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 0u);  // nothing of the unfinished round
  ASSERT_TRUE(WaitForCount("blocked", 1));

  for (int i = 1; i <= 2; ++i) {
    got = RoundWithStatus(&c, &st);
    EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st.ToString();
    EXPECT_NE(st.message().find("still waiting on NVML"), std::string::npos) << st.ToString();
    EXPECT_EQ(got.at("tyto_gpu_round_timeouts_total"), 1);
    EXPECT_EQ(got.at("tyto_gpu_rounds_skipped_total"), i);
    EXPECT_EQ(got.at("tyto_gpu_nvml_stuck"), 1);
  }
  EXPECT_EQ(count_("blocked"), 1);  // the skipped rounds never entered NVML
  EXPECT_EQ(LogLinesWith("NVML did not answer within round_timeout"), 1);

  // The call returns: the next round (once the hung one has finished) reads everything again.
  Script(kTwoGpus);
  release_();
  bool ok = false;
  for (int i = 0; i < 300 && !ok; ++i) {
    got = RoundWithStatus(&c, &st);
    ok = st.ok();
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(ok) << st.ToString();
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 87);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 10);
  EXPECT_EQ(got.at("tyto_gpu_nvml_stuck"), 0);
  EXPECT_GE(got.at("tyto_gpu_round_timeouts_total"), 1);
  EXPECT_GE(got.at("tyto_gpu_rounds_skipped_total"), 2);
  EXPECT_EQ(LogLinesWith("GPU rounds resume"), 1);
}

// Destroying the collector while an NVML call hangs returns (after round_timeout); the thread
// finishes the call on its own later and closes the library.
TEST_F(GpuCollectorTest, DestroyedWhileNvmlHangsDoesNotHang) {
  Script(std::string(kTwoGpus) + "0 block temp\n");
  GpuOptions o = Options();
  o.round_timeout = std::chrono::milliseconds(100);
  const int shutdowns = count_("shutdown");
  // The collector's thread closes its handle on its own time, possibly after this test's
  // TearDown: one more reference keeps the fake mapped until the process ends.
  ASSERT_NE(dlopen(TYTO_FAKE_NVML_PATH, RTLD_NOW | RTLD_LOCAL), nullptr);
  {
    GpuCollector c(o);
    Status st;
    (void)RoundWithStatus(&c, &st);
    EXPECT_EQ(st.code(), StatusCode::kDeadlineExceeded) << st.ToString();
    ASSERT_TRUE(WaitForCount("blocked", 1));
  }
  EXPECT_EQ(LogLinesWith("is still hung"), 1);
  EXPECT_EQ(count_("shutdown"), shutdowns);  // the library is still in use by the hung call
  release_();
  EXPECT_TRUE(WaitForCount("shutdown", shutdowns + 1));  // then closed by the thread itself
}

// NVML_ERROR_TIMEOUT from a device call (the driver gave up on the GPU for that call) is a
// per-field failure: that metric alone is left out; the GPU is not lost, the round succeeds.
TEST_F(GpuCollectorTest, TimeoutFromADeviceCallSkipsThatFieldOnly) {
  Script(std::string(kTwoGpus) + "0 temp !10\n0 violation_0 !10\n0 field_82 !10\n1 util_gpu !10\n");
  GpuCollector c(Options());
  Status st;
  const auto got = RoundWithStatus(&c, &st);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_GPU_TEMP", kGpu0)), 0u);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_POWER_VIOLATION", kGpu0)), 0u);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_MEMORY_TEMP", kGpu0)), 0u);
  EXPECT_EQ(got.count(S("DCGM_FI_DEV_GPU_UTIL", kGpu1)), 0u);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_UTIL", kGpu0)), 87);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_THERMAL_VIOLATION", kGpu0)), 0);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", kGpu0)), 17);
  EXPECT_EQ(got.at(S("DCGM_FI_DEV_GPU_TEMP", kGpu1)), 40);
  EXPECT_EQ(got.at(S("tyto_gpu_lost", kGpu0)), 0);
  EXPECT_EQ(got.at(S("tyto_gpu_lost", kGpu1)), 0);
  EXPECT_EQ(got.at("tyto_gpu_round_timeouts_total"), 0);  // NVML answered: not a hung round
  EXPECT_EQ(got.at("tyto_gpu_nvml_stuck"), 0);
}

// Against the machine's real NVML, only when asked: TYTO_REAL_NVML=1 collect_gpu_test
// --gtest_filter=RealNvml.*  Prints the round in the exposition format (the evidence committed
// under docs/gpu-evidence/ comes from this), and checks what every NVIDIA GPU answers.
TEST(RealNvml, CollectsFromTheMachinesGpus) {
  const char* flag = std::getenv("TYTO_REAL_NVML");
  if (flag == nullptr || std::string(flag) != "1") GTEST_SKIP() << "set TYTO_REAL_NVML=1 on a machine with a GPU";
  GpuOptions options;
  options.round_timeout = std::chrono::seconds(60);  // nvmlInit_v2 can take seconds without persistence mode
  GpuCollector c(options);
  for (int round = 0; round < 2; ++round) {  // the second round reads XID events registered in the first
    VectorSink sink;
    const Status st = c.Collect(0, &sink);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(c.available()) << "libnvidia-ml.so.1 could not be opened or initialised";
    if (round == 0) continue;
    std::map<std::string, int> per_name;
    for (const auto& f : sink.families) {
      std::cout << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " "
                << (f.type == MetricType::kCounter ? "counter" : f.type == MetricType::kInfo ? "info" : "gauge") << "\n";
      for (const auto& p : sink.points) {
        if (p.labels.MetricName() != f.name) continue;
        per_name[f.name]++;
        std::cout << p.labels.ToString() << " " << p.value << "\n";
      }
    }
    EXPECT_GT(per_name["tyto_gpu_info"], 0);
    EXPECT_EQ(per_name["DCGM_FI_DEV_FB_TOTAL"] > 0 || per_name["tyto_gpu_lost"] > 0, true);
    EXPECT_EQ(per_name["DCGM_FI_DEV_GPU_TEMP"], per_name["tyto_gpu_info"]);
    // Datacenter GPUs (A100, H100, ...) report at least the power and thermal violation times.
    EXPECT_EQ(per_name["DCGM_FI_DEV_POWER_VIOLATION"], per_name["tyto_gpu_info"]);
    EXPECT_EQ(per_name["DCGM_FI_DEV_THERMAL_VIOLATION"], per_name["tyto_gpu_info"]);
  }
}

}  // namespace
}  // namespace tyto::collect::gpu
