#include "collect/host/host_collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/log.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace tyto::collect::host {
namespace {

namespace fs = std::filesystem;

// A fake /proc and /sys, with contents as a 2-core machine with two disks, an NVMe drive,
// a coretemp chip and a few cgroups would show them.
class FakeHost {
 public:
  FakeHost() {
    Write("proc/stat",
          "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 175628 0\n"
          "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 23933 0\n"
          "cpu1 1335953 42442 534425 13400185 3413 0 3089 0 24545 0\n"
          "intr 199305542 45 0 0 0 0\n"
          "ctxt 38014093\n"
          "btime 1418183276\n"
          "processes 26442\n"
          "procs_running 2\n"
          "procs_blocked 1\n"
          "softirq 5057579 250191 1481983 1647 211099 186066 0 1783454 622196 12499 508444\n");
    Write("proc/loadavg", "0.21 0.37 0.39 1/719 19737\n");
    Write("proc/meminfo",
          "MemTotal:       16310140 kB\n"
          "MemFree:         4509688 kB\n"
          "MemAvailable:   10733796 kB\n"
          "Buffers:          449596 kB\n"
          "Cached:          5845624 kB\n"
          "SwapCached:            0 kB\n"
          "Active(anon):    3513308 kB\n"
          "Inactive(file):  2891204 kB\n"
          "SwapTotal:       2097148 kB\n"
          "SwapFree:        2097148 kB\n"
          "HugePages_Total:       0\n"
          "Hugepagesize:       2048 kB\n");
    Write("proc/pressure/cpu",
          "some avg10=0.00 avg60=0.00 avg300=0.00 total=14036781\n"
          "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    Write("proc/pressure/memory",
          "some avg10=0.00 avg60=0.00 avg300=0.00 total=2100\n"
          "full avg10=0.00 avg60=0.00 avg300=0.00 total=1700\n");
    // proc/pressure/io left out: a source that is missing.
    Write("proc/diskstats",
          "   7       0 loop0 60 0 2316 18 0 0 0 0 0 40 18 0 0 0 0 0 0\n"
          "   8       0 sda 25354637 34367663 1003346126 18492372 28444756 11134226 505697032 63877960 0 9653880 "
          "82621804 0 0 0 0 1 2\n"
          "   8       1 sda1 250 0 2000 80 0 0 0 0 0 80 80\n"
          " 259       0 nvme0n1 47114 4 4643973 21650 1235 1 19536 573 0 6384 22302\n"
          " 259       1 nvme0n1p1 1140 0 9370 16 1 0 1 0 0 16 16\n"
          " 252       0 dm-0 100 0 800 10 200 0 1600 20 0 30 30\n"
          "   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0\n");
    Write("proc/1/mounts",
          "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
          "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
          "/dev/sda1 / ext4 rw,relatime,errors=remount-ro 0 0\n"
          "tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1631040k,mode=755 0 0\n"
          "/dev/sdb1 /mnt/my\\040disk xfs ro,relatime 0 0\n"
          "overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0\n"
          "/dev/sdc1 /broken ext4 rw 0 0\n");
    Write("proc/net/dev",
          "Inter-|   Receive                                                |  Transmit\n"
          " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
          "carrier compressed\n"
          "    lo: 1453866   12345    0    0    0     0          0         0  1453866   12345    0    0    0     0  "
          "     0          0\n"
          "  eth0: 2069489396 1838493 3 7 0 0 0 1287 134579847 1006213 1 2 0 0 0 0\n");
    Write("proc/net/snmp",
          "Ip: Forwarding DefaultTTL InReceives InHdrErrors\n"
          "Ip: 1 64 1234567 0\n"
          "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
          "InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n"
          "Tcp: 1 200 120000 -1 3556 230 341 161 12 29842 38112 427 0 2 0\n"
          "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti\n"
          "Udp: 88542 120 0 89000 0 0 0 0\n");
    Write("proc/net/netstat",
          "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPTimeouts DelayedACKs\n"
          "TcpExt: 0 0 3 4 17 3003\n"
          "IpExt: InNoRoutes InOctets OutOctets\n"
          "IpExt: 0 2069489396 134579847\n");
    Write("proc/net/snmp6",
          "Ip6InReceives                   \t5069\n"
          "Ip6InOctets                     \t725420\n"
          "Icmp6InMsgs                     \t14\n"
          "Udp6InDatagrams                 \t100\n"
          "Udp6InErrors                    \t1\n"
          "UdpLite6InErrors                \t0\n");
    Write("proc/vmstat",
          "nr_free_pages 1127172\npgpgin 251393788\npgpgout 1074418404\npswpin 12\npswpout 34\n"
          "pgfault 4104512338\npgmajfault 116590\npgmajfault_s 5\noom_kill 1\npgalloc_dma 0\n");
    const char* kTcpHeader =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    Write("proc/net/tcp", std::string(kTcpHeader) +
                              "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   120 "
                              "       0 28311 1 0000000000000000 100 0 0 10 0\n"
                              "   1: 0100007F:A6C2 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000  1000 "
                              "       0 35123 1 0000000000000000 20 4 30 10 -1\n"
                              "   2: 0100007F:A6C4 0100007F:0CEA 06 00000000:00000000 03:00000D52 00000000     0 "
                              "       0 0 3 0000000000000000\n");
    Write("proc/net/tcp6", std::string(kTcpHeader) +
                               "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 "
                               "0A 00000000:00000000 00:00000000 00000000     0        0 19012 1 0000000000000000 "
                               "100 0 0 10 0\n");
    Write("proc/sys/fs/file-nr", "1024\t0\t9223372036854775807\n");
    Write("proc/sys/kernel/ostype", "Linux\n");
    Write("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    Write("proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\n");
    Write("proc/sys/kernel/hostname", "gpu-node-07\n");
    Write("proc/sys/kernel/domainname", "(none)\n");

    // hwmon1: coretemp, reached through /sys/class/hwmon's symbolic link like the kernel's.
    std::string core = "sys/devices/platform/coretemp.0/hwmon/hwmon1/";
    Write(core + "name", "coretemp\n");
    Write(core + "temp1_input", "45000\n");
    Write(core + "temp1_max", "80000\n");
    Write(core + "temp1_crit", "100000\n");
    Write(core + "temp1_label", "Package id 0\n");
    Write(core + "temp2_input", "43500\n");
    Link("../../../coretemp.0", core + "device");
    Link("../../devices/platform/coretemp.0/hwmon/hwmon1", "sys/class/hwmon/hwmon1");
    // hwmon0: no device link (ACPI thermal zone): named by its "name" file.
    Write("sys/class/hwmon/hwmon0/name", "acpitz\n");
    Write("sys/class/hwmon/hwmon0/temp1_input", "27800\n");
    // hwmon3: an old driver with its sensors in device/.
    Write("sys/devices/platform/it87.656/temp1_input", "38000\n");
    Write("sys/class/hwmon/hwmon3/name", "it8728\n");
    Link("../../../devices/platform/it87.656", "sys/class/hwmon/hwmon3/device");
    // hwmon2: a sensor that does not answer.
    Write("sys/class/hwmon/hwmon2/name", "nct6775\n");
    Write("sys/class/hwmon/hwmon2/temp1_input", "garbage\n");

    // cgroup v2: the root, system.slice, and a container in it.
    Write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    Write("sys/fs/cgroup/cgroup.procs", "1\n");
    Write("sys/fs/cgroup/cpu.stat", "usage_usec 500000000\nuser_usec 300000000\nsystem_usec 200000000\n");
    Write("sys/fs/cgroup/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n");
    std::string slice = "sys/fs/cgroup/system.slice/";
    Write(slice + "cgroup.procs", "");
    Write(slice + "cpu.stat",
          "usage_usec 2500000\nuser_usec 1500000\nsystem_usec 1000000\nnr_periods 10\nnr_throttled 2\n"
          "throttled_usec 300000\n");
    Write(slice + "memory.current", "104857600\n");
    Write(slice + "memory.stat", "anon 52428800\nfile 41943040\ninactive_file 20971520\nactive_file 20971520\n");
    Write(slice + "memory.swap.current", "0\n");
    Write(slice + "io.stat", "8:0 rbytes=1048576 wbytes=2097152 rios=10 wios=20 dbytes=0 dios=0\n");
    std::string scope = slice + "docker-abc.scope/";
    Write(scope + "cgroup.procs", "4242\n");
    Write(scope + "cpu.stat", "usage_usec 1000000\nuser_usec 600000\nsystem_usec 400000\n");
    Write(scope + "memory.current", "garbage\n");                       // malformed: skipped, the rest stays
    Write(scope + "io.stat", "7:3 rbytes=5 wbytes=6 rios=1 wios=2\n");  // a device not in diskstats
    // A directory without cgroup.procs is not a cgroup.
    Write(slice + "not-a-cgroup/file", "x\n");
  }

  void Write(const std::string& rel, const std::string& content) {
    fs::path p = fs::path(dir_.path()) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  void Remove(const std::string& rel) { fs::remove_all(fs::path(dir_.path()) / rel); }
  void Link(const std::string& target, const std::string& rel) {
    fs::path p = fs::path(dir_.path()) / rel;
    fs::create_directories(p.parent_path());
    fs::create_directory_symlink(target, p);
  }

  HostOptions Options() {
    HostOptions o;
    o.proc_path = dir_.Path("proc");
    o.sys_path = dir_.Path("sys");
    o.stat_filesystem = [this](const std::string& path) -> Result<FilesystemUsage> {
      stat_calls.push_back(path);
      if (path == "/broken") return IOError("statvfs /broken: Input/output error");
      FilesystemUsage u;
      u.size_bytes = 100 << 20;
      u.free_bytes = 40 << 20;
      u.avail_bytes = 30 << 20;
      u.files = 6000;
      u.files_free = 5000;
      u.read_only = path == "/mnt/my disk";
      return u;
    };
    return o;
  }

  std::vector<std::string> stat_calls;

 private:
  testing::TempDir dir_;
};

// The samples of one round, by Prometheus notation: node_load1, node_cpu_seconds_total{cpu="0", mode="user"}.
struct Round {
  Status status;
  VectorSink sink;
  std::map<std::string, double> values;
  std::map<std::string, MetricType> types;

  bool Has(const std::string& series) const { return values.count(series) > 0; }
  double At(const std::string& series) const {
    auto it = values.find(series);
    EXPECT_NE(it, values.end()) << "missing " << series;
    return it == values.end() ? -1 : it->second;
  }
};

Round Collect(HostCollector* c) {
  Round r;
  r.status = c->Collect(1000, &r.sink);
  for (const auto& p : r.sink.points) {
    std::string key = p.labels.ToString();
    if (key.size() > 2 && key.compare(key.size() - 2, 2, "{}") == 0) key.resize(key.size() - 2);
    EXPECT_TRUE(r.values.emplace(key, p.value).second) << "duplicate series " << key;
  }
  for (const auto& f : r.sink.families) {
    EXPECT_TRUE(r.types.emplace(f.name, f.type).second) << "described twice: " << f.name;
  }
  return r;
}

class HostCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetSinkForTesting([](std::string_view) {});
  }
  void TearDown() override { log::SetSinkForTesting({}); }
  FakeHost host_;
};

TEST_F(HostCollectorTest, CpuTimePerCoreAndModeInSeconds) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_DOUBLE_EQ(r.At(R"(node_cpu_seconds_total{cpu="0", mode="user"})"), 13932.80);
  EXPECT_DOUBLE_EQ(r.At(R"(node_cpu_seconds_total{cpu="0", mode="idle"})"), 133432.92);
  EXPECT_DOUBLE_EQ(r.At(R"(node_cpu_seconds_total{cpu="1", mode="softirq"})"), 30.89);
  EXPECT_DOUBLE_EQ(r.At(R"(node_cpu_seconds_total{cpu="1", mode="steal"})"), 0);
  EXPECT_DOUBLE_EQ(r.At(R"(node_cpu_guest_seconds_total{cpu="0", mode="user"})"), 239.33);
  EXPECT_FALSE(r.Has(R"(node_cpu_seconds_total{cpu="", mode="user"})"));
  size_t cpu_series = 0;
  for (const auto& [k, v] : r.values) cpu_series += k.rfind("node_cpu_seconds_total{", 0) == 0;
  EXPECT_EQ(cpu_series, 16u);  // 2 cores x 8 modes; the all-cores line is not a core
  EXPECT_EQ(r.types["node_cpu_seconds_total"], MetricType::kCounter);

  EXPECT_EQ(r.At("node_context_switches_total"), 38014093);
  EXPECT_EQ(r.At("node_forks_total"), 26442);
  EXPECT_EQ(r.At("node_intr_total"), 199305542);
  EXPECT_EQ(r.At("node_boot_time_seconds"), 1418183276);
  EXPECT_EQ(r.At("node_procs_running"), 2);
  EXPECT_EQ(r.At("node_procs_blocked"), 1);
  EXPECT_EQ(r.types["node_procs_running"], MetricType::kGauge);
  EXPECT_DOUBLE_EQ(r.At("node_load1"), 0.21);
  EXPECT_DOUBLE_EQ(r.At("node_load5"), 0.37);
  EXPECT_DOUBLE_EQ(r.At("node_load15"), 0.39);
}

TEST_F(HostCollectorTest, MemoryAndSwapInBytes) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At("node_memory_MemTotal_bytes"), 16310140.0 * 1024);
  EXPECT_EQ(r.At("node_memory_MemAvailable_bytes"), 10733796.0 * 1024);
  EXPECT_EQ(r.At("node_memory_Active_anon_bytes"), 3513308.0 * 1024);
  EXPECT_EQ(r.At("node_memory_Inactive_file_bytes"), 2891204.0 * 1024);
  EXPECT_EQ(r.At("node_memory_SwapTotal_bytes"), 2097148.0 * 1024);
  EXPECT_EQ(r.At("node_memory_SwapFree_bytes"), 2097148.0 * 1024);
  EXPECT_EQ(r.At("node_memory_HugePages_Total"), 0);
  EXPECT_EQ(r.At("node_memory_Hugepagesize_bytes"), 2048.0 * 1024);
  EXPECT_EQ(r.types["node_memory_MemTotal_bytes"], MetricType::kGauge);
}

TEST_F(HostCollectorTest, PressureInSecondsAndMissingFileSkipped) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_DOUBLE_EQ(r.At("node_pressure_cpu_waiting_seconds_total"), 14.036781);
  EXPECT_EQ(r.At("node_pressure_cpu_stalled_seconds_total"), 0);
  EXPECT_DOUBLE_EQ(r.At("node_pressure_memory_waiting_seconds_total"), 0.0021);
  EXPECT_DOUBLE_EQ(r.At("node_pressure_memory_stalled_seconds_total"), 0.0017);
  EXPECT_FALSE(r.Has("node_pressure_io_waiting_seconds_total"));
  bool io_reported = false;
  for (const std::string& s : c.skipped_sources()) io_reported |= s.find("pressure/io") != std::string::npos;
  EXPECT_TRUE(io_reported);
  EXPECT_EQ(r.types["node_pressure_cpu_waiting_seconds_total"], MetricType::kCounter);
}

TEST_F(HostCollectorTest, DisksSkipRamLoopAndPartitions) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At(R"(node_disk_reads_completed_total{device="sda"})"), 25354637);
  EXPECT_EQ(r.At(R"(node_disk_writes_completed_total{device="sda"})"), 28444756);
  EXPECT_EQ(r.At(R"(node_disk_read_bytes_total{device="sda"})"), 1003346126.0 * 512);
  EXPECT_EQ(r.At(R"(node_disk_written_bytes_total{device="sda"})"), 505697032.0 * 512);
  EXPECT_DOUBLE_EQ(r.At(R"(node_disk_io_time_seconds_total{device="sda"})"), 9653.88);
  EXPECT_DOUBLE_EQ(r.At(R"(node_disk_read_time_seconds_total{device="sda"})"), 18492.372);
  EXPECT_EQ(r.At(R"(node_disk_io_now{device="sda"})"), 0);
  EXPECT_EQ(r.At(R"(node_disk_flush_requests_total{device="sda"})"), 1);
  EXPECT_EQ(r.At(R"(node_disk_reads_completed_total{device="nvme0n1"})"), 47114);
  EXPECT_FALSE(r.Has(R"(node_disk_flush_requests_total{device="nvme0n1"})"));  // an older kernel's line
  EXPECT_EQ(r.At(R"(node_disk_reads_completed_total{device="dm-0"})"), 100);
  for (const char* d : {"loop0", "sda1", "nvme0n1p1", "ram0"}) {
    EXPECT_FALSE(r.Has(std::string("node_disk_reads_completed_total{device=\"") + d + "\"}")) << d;
  }
  EXPECT_EQ(r.types["node_disk_io_now"], MetricType::kGauge);
}

TEST_F(HostCollectorTest, FilesystemsFromMountsAndStatvfs) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  const std::string root = R"({device="/dev/sda1", fstype="ext4", mountpoint="/"})";
  EXPECT_EQ(r.At("node_filesystem_size_bytes" + root), 100 << 20);
  EXPECT_EQ(r.At("node_filesystem_free_bytes" + root), 40 << 20);
  EXPECT_EQ(r.At("node_filesystem_avail_bytes" + root), 30 << 20);
  EXPECT_EQ(r.At("node_filesystem_files" + root), 6000);
  EXPECT_EQ(r.At("node_filesystem_files_free" + root), 5000);
  EXPECT_EQ(r.At("node_filesystem_readonly" + root), 0);
  EXPECT_EQ(r.At("node_filesystem_device_error" + root), 0);
  EXPECT_EQ(r.At(R"(node_filesystem_readonly{device="/dev/sdb1", fstype="xfs", mountpoint="/mnt/my disk"})"), 1);
  EXPECT_TRUE(r.Has(R"(node_filesystem_size_bytes{device="tmpfs", fstype="tmpfs", mountpoint="/run"})"));
  const std::string broken = R"({device="/dev/sdc1", fstype="ext4", mountpoint="/broken"})";
  EXPECT_EQ(r.At("node_filesystem_device_error" + broken), 1);
  EXPECT_FALSE(r.Has("node_filesystem_size_bytes" + broken));
  // /sys and /proc (excluded mount points and types) and Docker's overlays are never stat'ed.
  EXPECT_EQ(host_.stat_calls, (std::vector<std::string>{"/", "/run", "/mnt/my disk", "/broken"}));
}

TEST_F(HostCollectorTest, RootfsPrefixesStatvfsPaths) {
  HostOptions o = host_.Options();
  o.rootfs_path = "/host";
  HostCollector c(o);
  Round r = Collect(&c);
  EXPECT_EQ(host_.stat_calls.front(), "/host");
  EXPECT_EQ(host_.stat_calls[1], "/host/run");
  // The mount point label stays the host's.
  EXPECT_TRUE(r.Has(R"(node_filesystem_size_bytes{device="/dev/sda1", fstype="ext4", mountpoint="/"})"));
}

TEST_F(HostCollectorTest, MountsFallBackToSelf) {
  host_.Remove("proc/1");
  host_.Write("proc/self/mounts", "/dev/sda1 / ext4 rw 0 0\n");
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_TRUE(r.Has(R"(node_filesystem_size_bytes{device="/dev/sda1", fstype="ext4", mountpoint="/"})"));
}

TEST_F(HostCollectorTest, NetworkPerInterface) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At(R"(node_network_receive_bytes_total{device="eth0"})"), 2069489396);
  EXPECT_EQ(r.At(R"(node_network_receive_packets_total{device="eth0"})"), 1838493);
  EXPECT_EQ(r.At(R"(node_network_receive_errs_total{device="eth0"})"), 3);
  EXPECT_EQ(r.At(R"(node_network_receive_drop_total{device="eth0"})"), 7);
  EXPECT_EQ(r.At(R"(node_network_receive_multicast_total{device="eth0"})"), 1287);
  EXPECT_EQ(r.At(R"(node_network_transmit_bytes_total{device="eth0"})"), 134579847);
  EXPECT_EQ(r.At(R"(node_network_transmit_packets_total{device="eth0"})"), 1006213);
  EXPECT_EQ(r.At(R"(node_network_transmit_errs_total{device="eth0"})"), 1);
  EXPECT_EQ(r.At(R"(node_network_transmit_drop_total{device="eth0"})"), 2);
  EXPECT_EQ(r.At(R"(node_network_transmit_bytes_total{device="lo"})"), 1453866);
  EXPECT_EQ(r.types["node_network_receive_bytes_total"], MetricType::kCounter);
}

TEST_F(HostCollectorTest, TcpStatesAndNetstat) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At("node_netstat_Tcp_CurrEstab"), 12);
  EXPECT_EQ(r.At("node_netstat_Tcp_ActiveOpens"), 3556);
  EXPECT_EQ(r.At("node_netstat_Tcp_RetransSegs"), 427);
  EXPECT_EQ(r.At("node_netstat_Udp_NoPorts"), 120);
  EXPECT_EQ(r.At("node_netstat_Ip_Forwarding"), 1);
  EXPECT_FALSE(r.Has("node_netstat_Tcp_MaxConn"));  // not in node_exporter's default field list
  EXPECT_FALSE(r.Has("node_netstat_Ip_InReceives"));
  EXPECT_EQ(r.At("node_netstat_TcpExt_ListenOverflows"), 3);
  EXPECT_EQ(r.At("node_netstat_TcpExt_ListenDrops"), 4);
  EXPECT_EQ(r.At("node_netstat_TcpExt_SyncookiesSent"), 0);
  EXPECT_EQ(r.At("node_netstat_TcpExt_TCPTimeouts"), 17);
  EXPECT_FALSE(r.Has("node_netstat_TcpExt_DelayedACKs"));
  EXPECT_EQ(r.At("node_netstat_IpExt_InOctets"), 2069489396);
  EXPECT_EQ(r.At("node_netstat_Ip6_InOctets"), 725420);
  EXPECT_FALSE(r.Has("node_netstat_Ip6_InReceives"));
  EXPECT_EQ(r.At("node_netstat_Icmp6_InMsgs"), 14);
  EXPECT_EQ(r.At("node_netstat_Udp6_InDatagrams"), 100);
  EXPECT_EQ(r.At("node_netstat_Udp6_InErrors"), 1);
  EXPECT_EQ(r.At("node_netstat_UdpLite6_InErrors"), 0);
  EXPECT_EQ(r.types["node_netstat_Tcp_CurrEstab"], MetricType::kGauge);
  for (const auto& f : r.sink.families) {
    if (f.name == "node_netstat_Tcp_CurrEstab") {
      EXPECT_EQ(f.help, "Statistic TcpCurrEstab.");
    }
  }
  EXPECT_EQ(r.At(R"(node_tcp_connection_states{state="listen"})"), 2);  // one v4, one v6
  EXPECT_EQ(r.At(R"(node_tcp_connection_states{state="established"})"), 1);
  EXPECT_EQ(r.At(R"(node_tcp_connection_states{state="time_wait"})"), 1);
  EXPECT_FALSE(r.Has(R"(node_tcp_connection_states{state="close_wait"})"));
}

TEST_F(HostCollectorTest, VmstatDefaultFieldsAndTime) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At("node_vmstat_pgpgin"), 251393788);
  EXPECT_EQ(r.At("node_vmstat_pgpgout"), 1074418404);
  EXPECT_EQ(r.At("node_vmstat_pswpin"), 12);
  EXPECT_EQ(r.At("node_vmstat_pswpout"), 34);
  EXPECT_EQ(r.At("node_vmstat_pgfault"), 4104512338);
  EXPECT_EQ(r.At("node_vmstat_pgmajfault"), 116590);
  EXPECT_EQ(r.At("node_vmstat_pgmajfault_s"), 5);
  EXPECT_EQ(r.At("node_vmstat_oom_kill"), 1);
  EXPECT_FALSE(r.Has("node_vmstat_nr_free_pages"));
  EXPECT_FALSE(r.Has("node_vmstat_pgalloc_dma"));
  EXPECT_EQ(r.At("node_time_seconds"), 1);  // Collect's now_ms, 1000
}

TEST_F(HostCollectorTest, UnameFromProcSysKernel) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  std::string found;
  for (const auto& p : r.sink.points) {
    if (p.labels.MetricName() != "node_uname_info") continue;
    EXPECT_EQ(p.value, 1);
    EXPECT_EQ(p.labels.Get("sysname"), "Linux");
    EXPECT_EQ(p.labels.Get("release"), "6.1.0-18-amd64");
    EXPECT_EQ(p.labels.Get("version"), "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)");
    EXPECT_EQ(p.labels.Get("nodename"), "gpu-node-07");
    EXPECT_EQ(p.labels.Get("domainname"), "(none)");
    EXPECT_FALSE(p.labels.Get("machine").empty());  // uname(2) of the test machine
    found = p.labels.ToString();
  }
  EXPECT_FALSE(found.empty());
}

TEST_F(HostCollectorTest, FileDescriptors) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At("node_filefd_allocated"), 1024);
  EXPECT_EQ(r.At("node_filefd_maximum"), 9223372036854775807.0);
}

TEST_F(HostCollectorTest, HwmonTemperaturesNamedAsNodeExporter) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At(R"(node_hwmon_temp_celsius{chip="platform_coretemp_0", sensor="temp1"})"), 45);
  EXPECT_EQ(r.At(R"(node_hwmon_temp_celsius{chip="platform_coretemp_0", sensor="temp2"})"), 43.5);
  EXPECT_EQ(r.At(R"(node_hwmon_temp_max_celsius{chip="platform_coretemp_0", sensor="temp1"})"), 80);
  EXPECT_EQ(r.At(R"(node_hwmon_temp_crit_celsius{chip="platform_coretemp_0", sensor="temp1"})"), 100);
  EXPECT_EQ(r.At(R"(node_hwmon_sensor_label{chip="platform_coretemp_0", label="Package id 0", sensor="temp1"})"), 1);
  EXPECT_EQ(r.At(R"(node_hwmon_chip_names{chip="platform_coretemp_0", chip_name="coretemp"})"), 1);
  EXPECT_DOUBLE_EQ(r.At(R"(node_hwmon_temp_celsius{chip="acpitz", sensor="temp1"})"), 27.8);
  EXPECT_FALSE(r.Has(R"(node_hwmon_temp_celsius{chip="nct6775", sensor="temp1"})"));
  EXPECT_EQ(r.At(R"(node_hwmon_temp_celsius{chip="platform_it87_656", sensor="temp1"})"), 38);
  EXPECT_EQ(r.At(R"(node_hwmon_chip_names{chip="platform_it87_656", chip_name="it8728"})"), 1);
}

TEST_F(HostCollectorTest, CgroupsPerContainer) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  EXPECT_EQ(r.At(R"(container_cpu_usage_seconds_total{id="/"})"), 500);
  EXPECT_DOUBLE_EQ(r.At(R"(container_cpu_usage_seconds_total{id="/system.slice"})"), 2.5);
  EXPECT_DOUBLE_EQ(r.At(R"(container_cpu_user_seconds_total{id="/system.slice"})"), 1.5);
  EXPECT_DOUBLE_EQ(r.At(R"(container_cpu_system_seconds_total{id="/system.slice"})"), 1.0);
  EXPECT_EQ(r.At(R"(container_cpu_cfs_periods_total{id="/system.slice"})"), 10);
  EXPECT_EQ(r.At(R"(container_cpu_cfs_throttled_periods_total{id="/system.slice"})"), 2);
  EXPECT_DOUBLE_EQ(r.At(R"(container_cpu_cfs_throttled_seconds_total{id="/system.slice"})"), 0.3);
  EXPECT_EQ(r.At(R"(container_memory_usage_bytes{id="/system.slice"})"), 104857600);
  EXPECT_EQ(r.At(R"(container_memory_working_set_bytes{id="/system.slice"})"), 104857600 - 20971520);
  EXPECT_EQ(r.At(R"(container_memory_rss{id="/system.slice"})"), 52428800);
  EXPECT_EQ(r.At(R"(container_memory_cache{id="/system.slice"})"), 41943040);
  EXPECT_EQ(r.At(R"(container_memory_swap{id="/system.slice"})"), 0);
  EXPECT_EQ(r.At(R"(container_fs_reads_bytes_total{device="/dev/sda", id="/system.slice"})"), 1048576);
  EXPECT_EQ(r.At(R"(container_fs_writes_bytes_total{device="/dev/sda", id="/system.slice"})"), 2097152);
  EXPECT_EQ(r.At(R"(container_fs_reads_total{device="/dev/sda", id="/system.slice"})"), 10);
  EXPECT_EQ(r.At(R"(container_fs_writes_total{device="/dev/sda", id="/system.slice"})"), 20);
  EXPECT_DOUBLE_EQ(r.At(R"(container_cpu_usage_seconds_total{id="/system.slice/docker-abc.scope"})"), 1.0);
  EXPECT_FALSE(r.Has(R"(container_memory_usage_bytes{id="/system.slice/docker-abc.scope"})"));
  EXPECT_EQ(r.At(R"(container_fs_reads_bytes_total{device="7:3", id="/system.slice/docker-abc.scope"})"), 5);
  for (const auto& [k, v] : r.values) EXPECT_EQ(k.find("not-a-cgroup"), std::string::npos) << k;
}

TEST_F(HostCollectorTest, CgroupsCanBeTurnedOffAndBounded) {
  HostOptions o = host_.Options();
  o.cgroups = false;
  HostCollector off(o);
  Round r = Collect(&off);
  for (const auto& [k, v] : r.values) EXPECT_NE(k.rfind("container_", 0), 0u) << k;

  o.cgroups = true;
  o.max_cgroups = 2;
  HostCollector bounded(o);
  r = Collect(&bounded);
  EXPECT_TRUE(r.Has(R"(container_cpu_usage_seconds_total{id="/system.slice"})"));
  EXPECT_FALSE(r.Has(R"(container_cpu_usage_seconds_total{id="/system.slice/docker-abc.scope"})"));
}

TEST_F(HostCollectorTest, EveryFamilyDescribedOnceBeforeItsSamples) {
  HostCollector c(host_.Options());
  Round r = Collect(&c);
  for (const auto& p : r.sink.points) {
    EXPECT_TRUE(r.types.count(std::string(p.labels.MetricName())) > 0) << p.labels.ToString();
  }
  // A second round describes again (Describe is per round) and gives the same series.
  Round again = Collect(&c);
  EXPECT_EQ(again.sink.families.size(), r.sink.families.size());
  EXPECT_EQ(again.values.size(), r.values.size());
}

TEST_F(HostCollectorTest, MalformedSourcesSkippedWithOneLogLineEach) {
  host_.Write("proc/loadavg", "not a load average\n");
  host_.Write("proc/meminfo", "\x01\x02\x03 garbage\n");
  host_.Write("proc/stat", "");
  host_.Write("proc/net/dev", "nonsense");
  host_.Write("proc/sys/fs/file-nr", "1 2\n");
  std::vector<std::string> lines;
  log::SetSinkForTesting([&](std::string_view line) { lines.emplace_back(line); });
  HostCollector c(host_.Options());
  Round r1 = Collect(&c);
  size_t after_first = lines.size();
  Round r2 = Collect(&c);
  log::SetSinkForTesting({});
  ASSERT_TRUE(r1.status.ok());
  EXPECT_FALSE(r1.Has("node_load1"));
  EXPECT_FALSE(r1.Has("node_memory_MemTotal_bytes"));
  EXPECT_FALSE(r1.Has("node_filefd_allocated"));
  EXPECT_FALSE(r1.Has(R"(node_network_receive_bytes_total{device="eth0"})"));
  EXPECT_TRUE(r1.Has(R"(node_disk_reads_completed_total{device="sda"})"));  // the rest goes on
  EXPECT_EQ(lines.size(), after_first);                                     // nothing new the second time
  size_t loadavg_lines = 0;
  for (const std::string& l : lines) loadavg_lines += l.find("loadavg") != std::string::npos;
  EXPECT_EQ(loadavg_lines, 1u);
  EXPECT_EQ(r2.values.size(), r1.values.size());
}

TEST_F(HostCollectorTest, NothingReadableFailsTheRound) {
  HostOptions o;
  o.proc_path = "/nonexistent/proc";
  o.sys_path = "/nonexistent/sys";
  o.stat_filesystem = [](const std::string&) -> Result<FilesystemUsage> { return IOError("no"); };
  log::SetSinkForTesting([](std::string_view) {});
  HostCollector c(o);
  Round r = Collect(&c);
  log::SetSinkForTesting({});
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.sink.points.empty());
}

// Every file operation failing (EIO, as if the file system vanished) fails the round without a
// crash; when the file system comes back, so do the metrics. The statvfs of the fake is kept.
TEST_F(HostCollectorTest, FailingFileSystemFailsTheRoundUntilItRecovers) {
  testing::FaultInjectionEnv env(Env::Default());
  HostOptions o = host_.Options();
  o.env = &env;
  HostCollector c(o);
  env.FailAll(true);
  Round broken = Collect(&c);
  EXPECT_EQ(broken.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(broken.sink.points.empty());
  env.FailAll(false);
  Round back = Collect(&c);
  ASSERT_TRUE(back.status.ok()) << back.status.ToString();
  EXPECT_DOUBLE_EQ(back.At("node_load1"), 0.21);
}

TEST(HostDescriptor, NamesTheCollectorAndItsOptions) {
  Descriptor d = HostDescriptor();
  EXPECT_EQ(d.name, "host");
  std::set<std::string> names;
  for (const OptionInfo& o : d.options) names.insert(o.name);
  EXPECT_EQ(names, (std::set<std::string>{"proc_path", "sys_path", "rootfs_path", "cgroups", "max_cgroups"}));
}

// On the machine running the tests: the real /proc and /sys give the core metrics.
TEST(HostCollectorLive, ReadsThisMachine) {
  log::SetSinkForTesting([](std::string_view) {});
  HostCollector c(HostOptions{});
  Round r = Collect(&c);
  log::SetSinkForTesting({});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(r.Has(R"(node_cpu_seconds_total{cpu="0", mode="user"})"));
  EXPECT_GT(r.At("node_memory_MemTotal_bytes"), 0);
  EXPECT_TRUE(r.Has("node_load1"));
  EXPECT_TRUE(r.Has("node_filefd_maximum"));
}

}  // namespace
}  // namespace tyto::collect::host
