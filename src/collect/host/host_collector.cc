// HostCollector: the round's plumbing, the /proc sources, and the real statvfs and realpath.
#include "collect/host/host_collector.h"

#include <stdlib.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collect/host/host_collector_round.h"
#include "collect/host/proc_parsers.h"

namespace tyto::collect::host {
namespace {

constexpr double kUserHz = 100;       // USER_HZ: /proc/stat's tick, fixed by the ABI
constexpr double kSectorBytes = 512;  // /proc/diskstats counts 512-byte sectors always
constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxFileBytes = 64 << 20;  // a /proc file larger than this is not believed

// A mount point under the host's root, as filepath.Join would write it: ("/host", "/") is
// "/host", ("/", "/mnt") is "/mnt".
std::string RootfsPath(std::string root, const std::string& mountpoint) {
  while (!root.empty() && root.back() == '/') root.pop_back();
  if (mountpoint == "/") return root.empty() ? "/" : root;
  return root + mountpoint;
}

// node_exporter's default --collector.filesystem.mount-points-exclude and fs-types-exclude.
bool IsExcludedMountPoint(std::string_view mp) {
  for (std::string_view p : {"/dev", "/proc", "/sys"}) {
    if (mp.substr(0, p.size()) == p && (mp.size() == p.size() || mp[p.size()] == '/')) return true;
  }
  for (std::string_view p : {"/run/credentials/", "/var/lib/docker/", "/var/lib/containers/storage/"}) {
    if (mp.size() > p.size() && mp.substr(0, p.size()) == p) return true;
  }
  return false;
}

bool IsExcludedFsType(std::string_view t) {
  static const std::unordered_set<std::string_view> kTypes = {
      "autofs",     "binfmt_misc", "bpf",       "cgroup",   "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs",
      "fusectl",    "hugetlbfs",   "iso9660",   "mqueue",   "nsfs",    "overlay",  "proc",    "procfs", "pstore",
      "rpc_pipefs", "securityfs",  "selinuxfs", "squashfs", "erofs",   "sysfs",    "tracefs"};
  return kTypes.count(t) > 0;
}

// node_exporter's default --collector.netstat.fields, written out by hand:
// ^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|
//   TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|
//   Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|
//   Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$
bool IsDefaultNetstatField(std::string_view f) {
  auto ends = [&](std::string_view x) { return f.size() >= x.size() && f.substr(f.size() - x.size()) == x; };
  if (ends("_InErrors") || ends("_InErrs") || f == "Ip_Forwarding") return true;
  size_t us = f.find('_');
  if (us == std::string_view::npos) return false;
  std::string_view group = f.substr(0, us), field = f.substr(us + 1);
  auto one_of = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (field == n) return true;
    }
    return false;
  };
  if (group == "Ip6" || group == "IpExt") return one_of({"InOctets", "OutOctets"});
  if (group == "Icmp" || group == "Icmp6") return one_of({"InMsgs", "OutMsgs"});
  if (group == "TcpExt") {
    return field.substr(0, 6) == "Listen" || field.substr(0, 10) == "Syncookies" ||
           one_of({"TCPSynRetrans", "TCPTimeouts", "TCPOFOQueue", "TCPRcvQDrop"});
  }
  if (group == "Tcp") {
    return one_of({"ActiveOpens", "InSegs", "OutSegs", "OutRsts", "PassiveOpens", "RetransSegs", "CurrEstab"});
  }
  if (group == "Udp" || group == "Udp6") {
    return one_of({"InDatagrams", "OutDatagrams", "NoPorts", "RcvbufErrors", "SndbufErrors"});
  }
  return false;
}

// node_exporter's default --collector.vmstat.fields, ^(oom_kill|pgpg|pswp|pg.*fault).*
bool IsDefaultVmstatField(std::string_view f) {
  if (f.substr(0, 8) == "oom_kill" || f.substr(0, 4) == "pgpg" || f.substr(0, 4) == "pswp") return true;
  return f.substr(0, 2) == "pg" && f.find("fault", 2) != std::string_view::npos;
}

}  // namespace

Result<FilesystemUsage> StatFilesystem(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) {
    return IOError("statvfs " + path + ": " + std::strerror(errno));
  }
  FilesystemUsage u;
  uint64_t unit = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
  u.size_bytes = static_cast<uint64_t>(st.f_blocks) * unit;
  u.free_bytes = static_cast<uint64_t>(st.f_bfree) * unit;
  u.avail_bytes = static_cast<uint64_t>(st.f_bavail) * unit;
  u.files = st.f_files;
  u.files_free = st.f_ffree;
  u.read_only = (st.f_flag & ST_RDONLY) != 0;
  return u;
}

Result<std::string> ResolvePath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return IOError("realpath " + path + ": " + std::strerror(errno));
  std::string out(resolved);
  ::free(resolved);
  return out;
}

Descriptor HostDescriptor() {
  Descriptor d;
  d.name = "host";
  d.help =
      "CPU, memory, pressure, disks, filesystems, network, TCP, processes, temperatures and "
      "cgroup v2 containers from /proc and /sys, with node_exporter's and cAdvisor's names.";
  d.options = {
      {"proc_path", "string", "/proc", "Where procfs is mounted (node_exporter's --path.procfs)."},
      {"sys_path", "string", "/sys", "Where sysfs is mounted (node_exporter's --path.sysfs)."},
      {"rootfs_path", "string", "/", "The host's root, prefixed to mount points for statvfs (--path.rootfs)."},
      {"cgroups", "bool", "true", "Per-container CPU, memory and I/O from cgroup v2."},
      {"max_cgroups", "integer", "2000", "Cgroups beyond this many are left out (and logged once)."},
  };
  return d;
}

void HostCollector::Round::Run(int64_t now_ms) {
  CollectStat();
  CollectLoadavg();
  CollectMeminfo();
  CollectPressure();
  CollectDiskstats();
  CollectFilesystems();
  CollectNetDev();
  CollectNetstat();
  CollectVmstat();
  CollectTcpStates();
  CollectFileNr();
  CollectUname();
  CollectHwmon();
  if (opt_.cgroups) CollectCgroups();
  // The round's time, as node_exporter's time collector gives it: dashboards compute uptime
  // as node_time_seconds - node_boot_time_seconds. Only in a round that read something.
  if (sources_read_ > 0) {
    Add({"node_time_seconds", MetricType::kGauge, "System time in seconds since epoch (1970)."}, {},
        static_cast<double>(now_ms) / 1000);
  }
}

Result<std::string> HostCollector::Round::ReadQuiet(const std::string& path) {
  auto file = opt_.env->NewRandomAccessFile(path);
  if (!file.ok()) return file.status();
  std::string data, chunk;
  while (data.size() < kMaxFileBytes) {
    TYTO_RETURN_IF_ERROR((*file)->Read(data.size(), kReadChunk, &chunk));
    data += chunk;
    if (chunk.size() < kReadChunk) return data;
  }
  return ResourceExhausted(path + " is larger than 64 MiB");
}

std::optional<std::string> HostCollector::Round::Read(const std::string& path) {
  Result<std::string> r = ReadQuiet(path);
  if (!r.ok()) {
    c_->ReportSkipped(path, r.status());
    return std::nullopt;
  }
  return std::move(r).value();
}

void HostCollector::Round::Add(const Family& f, LabelPairs labels, double value) {
  if (described_.insert(std::string(f.name)).second) sink_->Describe(f.name, f.type, f.help);
  std::vector<Label> pairs;
  pairs.reserve(labels.size() + 1);
  pairs.push_back({std::string(kMetricNameLabel), std::string(f.name)});
  for (const auto& [n, v] : labels) pairs.push_back({std::string(n), std::string(v)});
  Result<Labels> ls = Labels::FromPairs(std::move(pairs));
  if (ls.ok()) sink_->Add(*ls, value);
}

// --- /proc/stat ---------------------------------------------------------------------------
void HostCollector::Round::CollectStat() {
  std::string path = Proc("stat");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  Result<ProcStat> st = ParseProcStat(*text);
  if (!st.ok()) return c_->ReportSkipped(path, st.status());
  Understood();
  static constexpr Family kCpu{"node_cpu_seconds_total", MetricType::kCounter, "Seconds the CPUs spent in each mode."};
  static constexpr Family kGuest{"node_cpu_guest_seconds_total", MetricType::kCounter,
                                 "Seconds the CPUs spent in guests (VMs) for each mode."};
  static constexpr std::array<std::string_view, 8> kModes = {"user",   "nice", "system",  "idle",
                                                             "iowait", "irq",  "softirq", "steal"};
  for (const CpuTicks& cpu : st->cpus) {
    for (size_t i = 0; i < kModes.size() && i < cpu.ticks.size(); ++i) {
      Add(kCpu, {{"cpu", cpu.cpu}, {"mode", kModes[i]}}, static_cast<double>(cpu.ticks[i]) / kUserHz);
    }
    if (cpu.ticks.size() > 8)
      Add(kGuest, {{"cpu", cpu.cpu}, {"mode", "user"}}, static_cast<double>(cpu.ticks[8]) / kUserHz);
    if (cpu.ticks.size() > 9)
      Add(kGuest, {{"cpu", cpu.cpu}, {"mode", "nice"}}, static_cast<double>(cpu.ticks[9]) / kUserHz);
  }
  auto add = [&](const Family& f, const std::optional<uint64_t>& v) {
    if (v) Add(f, {}, static_cast<double>(*v));
  };
  add({"node_intr_total", MetricType::kCounter, "Total number of interrupts serviced."}, st->intr);
  add({"node_context_switches_total", MetricType::kCounter, "Total number of context switches."}, st->ctxt);
  add({"node_boot_time_seconds", MetricType::kGauge, "Node boot time, in unixtime."}, st->btime);
  add({"node_forks_total", MetricType::kCounter, "Total number of forks."}, st->processes);
  add({"node_procs_running", MetricType::kGauge, "Number of processes in runnable state."}, st->procs_running);
  add({"node_procs_blocked", MetricType::kGauge, "Number of processes blocked waiting for I/O to complete."},
      st->procs_blocked);
}

// --- /proc/loadavg ------------------------------------------------------------------------
void HostCollector::Round::CollectLoadavg() {
  std::string path = Proc("loadavg");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  Result<std::array<double, 3>> l = ParseLoadavg(*text);
  if (!l.ok()) return c_->ReportSkipped(path, l.status());
  Understood();
  Add({"node_load1", MetricType::kGauge, "1m load average."}, {}, (*l)[0]);
  Add({"node_load5", MetricType::kGauge, "5m load average."}, {}, (*l)[1]);
  Add({"node_load15", MetricType::kGauge, "15m load average."}, {}, (*l)[2]);
}

// --- /proc/meminfo (memory and swap) ------------------------------------------------------
void HostCollector::Round::CollectMeminfo() {
  std::string path = Proc("meminfo");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  auto fields = ParseMeminfo(*text);
  if (!fields.ok()) return c_->ReportSkipped(path, fields.status());
  Understood();
  std::set<std::string> seen;  // a field printed twice would make a duplicate series
  for (const auto& [field, value] : *fields) {
    if (!seen.insert(field).second) continue;
    std::string name = "node_memory_" + field;
    std::string help = "Memory information field " + field + ".";
    Add({name, MetricType::kGauge, help}, {}, value);
  }
}

// --- /proc/pressure -----------------------------------------------------------------------
void HostCollector::Round::CollectPressure() {
  struct Resource {
    std::string_view file;
    Family waiting, stalled;
  };
  static constexpr std::array<Resource, 3> kResources = {{
      {"cpu",
       {"node_pressure_cpu_waiting_seconds_total", MetricType::kCounter,
        "Total time in seconds that processes have waited for CPU time"},
       {"node_pressure_cpu_stalled_seconds_total", MetricType::kCounter,
        "Total time in seconds no process could make progress due to CPU congestion"}},
      {"memory",
       {"node_pressure_memory_waiting_seconds_total", MetricType::kCounter,
        "Total time in seconds that processes have waited for memory"},
       {"node_pressure_memory_stalled_seconds_total", MetricType::kCounter,
        "Total time in seconds no process could make progress due to memory congestion"}},
      {"io",
       {"node_pressure_io_waiting_seconds_total", MetricType::kCounter,
        "Total time in seconds that processes have waited due to IO congestion"},
       {"node_pressure_io_stalled_seconds_total", MetricType::kCounter,
        "Total time in seconds no process could make progress due to IO congestion"}},
  }};
  for (const Resource& r : kResources) {
    std::string path = Proc("pressure/" + std::string(r.file));
    std::optional<std::string> text = Read(path);
    if (!text) continue;
    Result<Pressure> p = ParsePressure(*text);
    if (!p.ok()) {
      c_->ReportSkipped(path, p.status());
      continue;
    }
    Understood();
    if (p->some_total_us) Add(r.waiting, {}, static_cast<double>(*p->some_total_us) / 1e6);
    // The cpu file's "full" line (kernel 5.13+) is all zeros at the system level but real
    // per cgroup; node_exporter reports it as it is.
    if (p->full_total_us) Add(r.stalled, {}, static_cast<double>(*p->full_total_us) / 1e6);
  }
}

// --- /proc/diskstats ----------------------------------------------------------------------
void HostCollector::Round::CollectDiskstats() {
  std::string path = Proc("diskstats");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  auto disks = ParseDiskstats(*text);
  if (!disks.ok()) return c_->ReportSkipped(path, disks.status());
  Understood();
  for (const DiskStats& d : *disks) {
    devices_[{d.major, d.minor}] = d.device;
  }
  struct Field {
    size_t index;
    double scale;
    Family family;
  };
  static constexpr std::array<Field, 17> kFields = {{
      {0,
       1,
       {"node_disk_reads_completed_total", MetricType::kCounter, "The total number of reads completed successfully."}},
      {1, 1, {"node_disk_reads_merged_total", MetricType::kCounter, "The total number of reads merged."}},
      {2,
       kSectorBytes,
       {"node_disk_read_bytes_total", MetricType::kCounter, "The total number of bytes read successfully."}},
      {3,
       1e-3,
       {"node_disk_read_time_seconds_total", MetricType::kCounter, "The total number of seconds spent by all reads."}},
      {4,
       1,
       {"node_disk_writes_completed_total", MetricType::kCounter,
        "The total number of writes completed successfully."}},
      {5, 1, {"node_disk_writes_merged_total", MetricType::kCounter, "The number of writes merged."}},
      {6,
       kSectorBytes,
       {"node_disk_written_bytes_total", MetricType::kCounter, "The total number of bytes written successfully."}},
      {7,
       1e-3,
       {"node_disk_write_time_seconds_total", MetricType::kCounter,
        "This is the total number of seconds spent by all writes."}},
      {8, 1, {"node_disk_io_now", MetricType::kGauge, "The number of I/Os currently in progress."}},
      {9, 1e-3, {"node_disk_io_time_seconds_total", MetricType::kCounter, "Total seconds spent doing I/Os."}},
      {10,
       1e-3,
       {"node_disk_io_time_weighted_seconds_total", MetricType::kCounter,
        "The weighted # of seconds spent doing I/Os."}},
      {11,
       1,
       {"node_disk_discards_completed_total", MetricType::kCounter,
        "The total number of discards completed successfully."}},
      {12, 1, {"node_disk_discards_merged_total", MetricType::kCounter, "The total number of discards merged."}},
      {13,
       1,
       {"node_disk_discarded_sectors_total", MetricType::kCounter,
        "The total number of sectors discarded successfully."}},
      {14,
       1e-3,
       {"node_disk_discard_time_seconds_total", MetricType::kCounter,
        "This is the total number of seconds spent by all discards."}},
      {15,
       1,
       {"node_disk_flush_requests_total", MetricType::kCounter,
        "The total number of flush requests completed successfully"}},
      {16,
       1e-3,
       {"node_disk_flush_requests_time_seconds_total", MetricType::kCounter,
        "This is the total number of seconds spent by all flush requests."}},
  }};
  std::set<std::string> seen;
  for (const DiskStats& d : *disks) {
    if (IsExcludedDisk(d.device) || !seen.insert(d.device).second) continue;
    for (const Field& f : kFields) {
      if (f.index >= d.fields.size()) break;
      Add(f.family, {{"device", d.device}}, static_cast<double>(d.fields[f.index]) * f.scale);
    }
  }
}

// --- /proc/1/mounts + statvfs -------------------------------------------------------------
void HostCollector::Round::CollectFilesystems() {
  // node_exporter reads init's mount table (the host's, when run in a container with the
  // host's PID namespace) and falls back to its own.
  std::string path = Proc("1/mounts");
  Result<std::string> text = ReadQuiet(path);
  if (!text.ok()) {
    path = Proc("self/mounts");
    text = ReadQuiet(path);
  }
  if (!text.ok()) return c_->ReportSkipped(path, text.status());
  auto mounts = ParseMounts(*text);
  if (!mounts.ok()) return c_->ReportSkipped(path, mounts.status());
  Understood();
  static constexpr Family kSize{"node_filesystem_size_bytes", MetricType::kGauge, "Filesystem size in bytes."};
  static constexpr Family kFree{"node_filesystem_free_bytes", MetricType::kGauge, "Filesystem free space in bytes."};
  static constexpr Family kAvail{"node_filesystem_avail_bytes", MetricType::kGauge,
                                 "Filesystem space available to non-root users in bytes."};
  static constexpr Family kFiles{"node_filesystem_files", MetricType::kGauge, "Filesystem total file nodes."};
  static constexpr Family kFilesFree{"node_filesystem_files_free", MetricType::kGauge,
                                     "Filesystem total free file nodes."};
  static constexpr Family kReadonly{"node_filesystem_readonly", MetricType::kGauge, "Filesystem read-only status."};
  static constexpr Family kError{"node_filesystem_device_error", MetricType::kGauge,
                                 "Whether an error occurred while getting statistics for the given device."};
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const Mount& m : *mounts) {
    if (IsExcludedMountPoint(m.mountpoint) || IsExcludedFsType(m.fstype)) continue;
    if (!seen.insert({m.device, m.mountpoint, m.fstype}).second) continue;
    LabelPairs labels = {{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mountpoint}};
    std::string target = RootfsPath(opt_.rootfs_path, m.mountpoint);
    Result<FilesystemUsage> u = opt_.stat_filesystem(target);
    if (!u.ok()) {
      c_->ReportSkipped(target, u.status());
      Add(kError, labels, 1);
      continue;
    }
    Add(kError, labels, 0);
    Add(kSize, labels, static_cast<double>(u->size_bytes));
    Add(kFree, labels, static_cast<double>(u->free_bytes));
    Add(kAvail, labels, static_cast<double>(u->avail_bytes));
    Add(kFiles, labels, static_cast<double>(u->files));
    Add(kFilesFree, labels, static_cast<double>(u->files_free));
    Add(kReadonly, labels, u->read_only ? 1 : 0);
  }
}

// --- /proc/net/dev ------------------------------------------------------------------------
void HostCollector::Round::CollectNetDev() {
  std::string path = Proc("net/dev");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  auto devs = ParseNetDev(*text);
  if (!devs.ok()) return c_->ReportSkipped(path, devs.status());
  Understood();
  static constexpr std::array<std::string_view, 16> kNames = {
      "receive_bytes",  "receive_packets",  "receive_errs",       "receive_drop",
      "receive_fifo",   "receive_frame",    "receive_compressed", "receive_multicast",
      "transmit_bytes", "transmit_packets", "transmit_errs",      "transmit_drop",
      "transmit_fifo",  "transmit_colls",   "transmit_carrier",   "transmit_compressed"};
  std::array<std::string, 16> names, helps;
  for (size_t i = 0; i < kNames.size(); ++i) {
    names[i] = "node_network_" + std::string(kNames[i]) + "_total";
    helps[i] = "Network device statistic " + std::string(kNames[i]) + ".";
  }
  std::set<std::string> seen;
  for (const NetDevStats& d : *devs) {
    if (!seen.insert(d.device).second) continue;
    for (size_t i = 0; i < 16; ++i) {
      Add({names[i], MetricType::kCounter, helps[i]}, {{"device", d.device}}, static_cast<double>(d.counters[i]));
    }
  }
}

// --- /proc/net/snmp, netstat, snmp6 ------------------------------------------------------
void HostCollector::Round::CollectNetstat() {
  std::set<std::string> seen;  // a field in two files would make a duplicate series
  auto emit = [&](const std::vector<std::pair<std::string, double>>& fields) {
    for (const auto& [field, value] : fields) {
      if (!IsDefaultNetstatField(field) || !seen.insert(field).second) continue;
      // node_exporter exports these untyped; the gauges here are the ones that go down.
      bool gauge = field == "Tcp_CurrEstab" || field == "Ip_Forwarding";
      std::string name = "node_netstat_" + field;
      std::string help = "Statistic " + field + ".";  // node_exporter's: "Statistic TcpCurrEstab."
      help.erase(help.find('_'), 1);
      Add({name, gauge ? MetricType::kGauge : MetricType::kCounter, help}, {}, value);
    }
  };
  for (std::string_view file : {"net/snmp", "net/netstat"}) {
    std::string path = Proc(file);
    std::optional<std::string> text = Read(path);
    if (!text) continue;
    auto fields = ParseNetSnmp(*text);
    if (!fields.ok()) {
      c_->ReportSkipped(path, fields.status());
      continue;
    }
    Understood();
    emit(*fields);
  }
  std::string path = Proc("net/snmp6");  // absent when IPv6 is off
  if (std::optional<std::string> text = Read(path)) {
    auto fields = ParseNetSnmp6(*text);
    if (!fields.ok()) return c_->ReportSkipped(path, fields.status());
    Understood();
    emit(*fields);
  }
}

// --- /proc/vmstat -------------------------------------------------------------------------
void HostCollector::Round::CollectVmstat() {
  std::string path = Proc("vmstat");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  auto fields = ParseFlatKeyed(*text);
  if (fields.empty()) return c_->ReportSkipped(path, InvalidArgument("no \"name value\" lines"));
  Understood();
  std::set<std::string> seen;
  for (const auto& [field, value] : fields) {
    if (!IsDefaultVmstatField(field) || !seen.insert(field).second) continue;
    std::string name = "node_vmstat_" + field;
    std::string help = "/proc/vmstat information field " + field + ".";
    Add({name, MetricType::kCounter, help}, {}, static_cast<double>(value));
  }
}

// --- /proc/net/tcp, tcp6 ------------------------------------------------------------------
void HostCollector::Round::CollectTcpStates() {
  static constexpr std::array<std::string_view, 12> kStates = {"",           "established", "syn_sent",  "syn_recv",
                                                               "fin_wait1",  "fin_wait2",   "time_wait", "close",
                                                               "close_wait", "last_ack",    "listen",    "closing"};
  std::array<uint64_t, 16> counts{};
  bool any = false;
  for (std::string_view file : {"net/tcp", "net/tcp6"}) {
    std::string path = Proc(file);
    std::optional<std::string> text = Read(path);  // tcp6 is absent when IPv6 is off
    if (!text) continue;
    Result<size_t> n = CountTcpStates(*text, &counts);
    if (!n.ok()) {
      c_->ReportSkipped(path, n.status());
      continue;
    }
    any = true;
  }
  if (!any) return;
  Understood();
  // As node_exporter: only the states some socket is in.
  for (size_t s = 1; s < kStates.size(); ++s) {
    if (counts[s] == 0) continue;
    Add({"node_tcp_connection_states", MetricType::kGauge, "Number of connection states."}, {{"state", kStates[s]}},
        static_cast<double>(counts[s]));
  }
}

// --- /proc/sys/fs/file-nr -----------------------------------------------------------------
void HostCollector::Round::CollectFileNr() {
  std::string path = Proc("sys/fs/file-nr");
  std::optional<std::string> text = Read(path);
  if (!text) return;
  Result<FileNr> f = ParseFileNr(*text);
  if (!f.ok()) return c_->ReportSkipped(path, f.status());
  Understood();
  Add({"node_filefd_allocated", MetricType::kGauge, "File descriptor statistics: allocated."}, {},
      static_cast<double>(f->allocated));
  Add({"node_filefd_maximum", MetricType::kGauge, "File descriptor statistics: maximum."}, {},
      static_cast<double>(f->maximum));
}

// --- /proc/sys/kernel: uname ---------------------------------------------------------------
void HostCollector::Round::CollectUname() {
  std::string dir = Proc("sys/kernel/");
  Result<std::string> release = ReadQuiet(dir + "osrelease");
  if (!release.ok()) return c_->ReportSkipped(dir + "osrelease", release.status());
  Understood();
  auto read = [&](const char* file) {
    Result<std::string> t = ReadQuiet(dir + file);
    return t.ok() ? TrimNewline(*t) : std::string();
  };
  std::string sysname = read("ostype"), version = read("version"), nodename = read("hostname"),
              domainname = read("domainname");
  std::string machine;
  struct utsname u;
  if (::uname(&u) == 0) machine = u.machine;
  std::string rel = TrimNewline(*release);
  Add({"node_uname_info", MetricType::kGauge, "Labeled system information as provided by the uname system call."},
      {{"domainname", domainname},
       {"machine", machine},
       {"nodename", nodename},
       {"release", rel},
       {"sysname", sysname},
       {"version", version}},
      1);
}

HostCollector::HostCollector(HostOptions options) : opt_(std::move(options)) {
  if (opt_.env == nullptr) opt_.env = Env::Default();
  if (!opt_.stat_filesystem) opt_.stat_filesystem = StatFilesystem;
  if (!opt_.resolve_path) opt_.resolve_path = ResolvePath;
}

void HostCollector::ReportSkipped(const std::string& path, const Status& why) {
  std::string key = path + ": " + why.ToString();
  if (!reported_.insert(key).second) return;
  // A missing source is usual (no PSI before kernel 4.20, no IPv6, no hwmon in a VM); a
  // malformed one is not.
  log_.Log(why.code() == StatusCode::kNotFound ? log::Level::kInfo : log::Level::kWarn,
           "source skipped until it can be read", {{"path", path}, {"reason", why}});
}

Status HostCollector::Collect(int64_t now_ms, Sink* sink) {
  Round round(this, sink);
  round.Run(now_ms);
  if (round.sources_read() == 0) {
    return Unavailable("host collector: nothing readable under " + opt_.proc_path + " or " + opt_.sys_path);
  }
  return Status::Ok();
}

}  // namespace tyto::collect::host
