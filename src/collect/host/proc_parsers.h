// Parsers for the /proc and /sys text files the host collector reads. Pure functions over the
// file's bytes, so tests and the fuzzer (proc_parsers_fuzz.cc) call them without a file system.
//
// Contract shared by every parser: any input is accepted without crashing; a line that cannot
// be understood is skipped; a file whose shape is wrong as a whole (no line understood where
// one is required) gives kInvalidArgument naming what was expected. Counters are returned in
// the kernel's units; converting to seconds and bytes is the collector's job.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace tyto::collect::host {

// Parses a decimal unsigned integer that is the whole of `s`.
std::optional<uint64_t> ParseUint(std::string_view s);
// Parses a decimal floating-point number that is the whole of `s`.
std::optional<double> ParseDouble(std::string_view s);
// Splits on runs of spaces and tabs; no empty fields.
std::vector<std::string_view> SplitFields(std::string_view line);

// /proc/stat. Times are in USER_HZ ticks (1/100 s on every Linux architecture's ABI).
struct CpuTicks {
  std::string cpu;  // "0", "1", ... (the "cpu" prefix removed)
  // user nice system idle iowait irq softirq steal guest guest_nice; fields an old kernel
  // does not print stay absent.
  std::vector<uint64_t> ticks;
};
struct ProcStat {
  std::vector<CpuTicks> cpus;  // per core; the all-cores "cpu" line is not kept
  std::optional<uint64_t> intr;
  std::optional<uint64_t> ctxt;
  std::optional<uint64_t> btime;
  std::optional<uint64_t> processes;
  std::optional<uint64_t> procs_running;
  std::optional<uint64_t> procs_blocked;
};
Result<ProcStat> ParseProcStat(std::string_view text);

// /proc/loadavg: the 1, 5 and 15 minute averages.
Result<std::array<double, 3>> ParseLoadavg(std::string_view text);

// /proc/meminfo, named as node_exporter names it: "Active(anon):  12 kB" becomes
// {"Active_anon_bytes", 12288}; a field without a unit ("HugePages_Total:  0") keeps its name.
Result<std::vector<std::pair<std::string, double>>> ParseMeminfo(std::string_view text);

// /proc/pressure/{cpu,memory,io}: the `total=` of the "some" and "full" lines, microseconds.
struct Pressure {
  std::optional<uint64_t> some_total_us;
  std::optional<uint64_t> full_total_us;
};
Result<Pressure> ParsePressure(std::string_view text);

// /proc/diskstats, one entry per device line with at least the 11 classic fields.
struct DiskStats {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string device;
  // reads, reads merged, sectors read, ms reading, writes, writes merged, sectors written,
  // ms writing, I/Os in progress, ms doing I/O, weighted ms doing I/O, then (kernel 4.18+)
  // discards, discards merged, sectors discarded, ms discarding, (5.5+) flushes, ms flushing.
  std::vector<uint64_t> fields;
};
Result<std::vector<DiskStats>> ParseDiskstats(std::string_view text);

// /proc/<pid>/mounts. Octal escapes (\040 for a space) are decoded.
struct Mount {
  std::string device;
  std::string mountpoint;
  std::string fstype;
  std::string options;
};
Result<std::vector<Mount>> ParseMounts(std::string_view text);

// /proc/net/dev: per interface, the 8 receive then the 8 transmit counters.
struct NetDevStats {
  std::string device;
  std::array<uint64_t, 16> counters{};
};
Result<std::vector<NetDevStats>> ParseNetDev(std::string_view text);

// /proc/net/snmp (and netstat): header/value line pairs, "Tcp: RtoAlgorithm ..." then
// "Tcp: 1 ...", flattened to {"Tcp_RtoAlgorithm", 1}. Values may be negative (Tcp MaxConn).
Result<std::vector<std::pair<std::string, double>>> ParseNetSnmp(std::string_view text);

// /proc/net/snmp6: "Ip6InReceives 123" lines, named as node_exporter names them: split after
// the protocol's "6", {"Ip6_InReceives", 123}.
Result<std::vector<std::pair<std::string, double>>> ParseNetSnmp6(std::string_view text);

// /proc/net/tcp and tcp6: counts sockets per state code (index 1..11; 0 and 12+ unused).
// Adds to `counts`; returns how many socket lines were understood.
Result<size_t> CountTcpStates(std::string_view text, std::array<uint64_t, 16>* counts);

// /proc/sys/fs/file-nr: allocated, unused, maximum.
struct FileNr {
  uint64_t allocated = 0;
  uint64_t maximum = 0;
};
Result<FileNr> ParseFileNr(std::string_view text);

// Flat "key value" files (cgroup v2 cpu.stat, memory.stat). Lines that are not two fields
// with a numeric value are skipped.
std::vector<std::pair<std::string, uint64_t>> ParseFlatKeyed(std::string_view text);

// cgroup v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0".
struct IoStatLine {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t rbytes = 0, wbytes = 0, rios = 0, wios = 0;
};
std::vector<IoStatLine> ParseIoStat(std::string_view text);

// node_exporter's default --collector.diskstats.device-exclude,
// ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$, written out by hand: RAM disks, loop
// devices, floppies and partitions are left out.
bool IsExcludedDisk(std::string_view device);

}  // namespace tyto::collect::host
