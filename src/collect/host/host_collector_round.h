// HostCollector::Round: one round of collection. Private to the host collector, shared by
// host_collector.cc (the /proc sources) and host_collector_sys.cc (hwmon and cgroups in /sys).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "collect/host/host_collector.h"

namespace tyto::collect::host {

// A metric family as Sink::Describe takes it.
struct Family {
  std::string_view name;
  MetricType type;
  std::string_view help;
};

// Label names and values of one sample, without __name__; views valid for the call.
using LabelPairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// `root` + "/" + `rest`, with `root`'s trailing slashes dropped.
inline std::string Join(const std::string& root, std::string_view rest) {
  std::string out = root;
  while (!out.empty() && out.back() == '/') out.pop_back();
  out += '/';
  out += rest;
  return out;
}

// `s` without its trailing newlines, spaces and carriage returns.
inline std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// One round of collection: the sink, the names already described this round, and what was read.
class HostCollector::Round {
 public:
  Round(HostCollector* c, Sink* sink) : c_(c), opt_(c->opt_), sink_(sink) {}

  void Run(int64_t now_ms);
  size_t sources_read() const { return sources_read_; }

 private:
  std::string Proc(std::string_view rest) const { return Join(opt_.proc_path, rest); }
  std::string Sys(std::string_view rest) const { return Join(opt_.sys_path, rest); }

  // Reads a whole file. /proc files report size 0, so this reads until end of file rather
  // than trusting the size. Quiet: the caller decides whether a missing file is worth a line.
  Result<std::string> ReadQuiet(const std::string& path);

  // Reads a source, reporting it (once) when it cannot be read.
  std::optional<std::string> Read(const std::string& path);

  // A source was understood: counts toward "something was collected".
  void Understood() { ++sources_read_; }

  void Add(const Family& f, LabelPairs labels, double value);

  void CollectStat();

  void CollectLoadavg();

  void CollectMeminfo();

  void CollectPressure();

  void CollectDiskstats();

  void CollectFilesystems();

  void CollectNetDev();

  void CollectNetstat();

  void CollectVmstat();

  void CollectTcpStates();

  void CollectFileNr();

  // node_exporter reads uname(2); the same strings are in /proc/sys/kernel, which keeps the
  // collector pointed at proc_path (a container's view of the host). The machine (x86_64) is
  // not there; it comes from uname(2), the kernel the collector runs on.
  void CollectUname();

  // The chip label is node_exporter's: from the device the hwmon entry belongs to,
  // "<bus or parent>_<device>" ("platform_coretemp_0", "pci0000:00_0000:00:18_3"), else the
  // chip's "name" file, else the hwmon directory's name.
  std::string HwmonChip(const std::string& dir, const std::string& hwmon);

  void CollectHwmon();

  void CollectCgroups();

  // One cgroup's files; each is optional (a controller not enabled there has none). True when
  // at least one could be read.
  bool CollectCgroup(const std::string& dir, const std::string& id);

  HostCollector* c_;
  const HostOptions& opt_;
  Sink* sink_;
  std::unordered_set<std::string> described_;
  std::map<std::pair<uint32_t, uint32_t>, std::string> devices_;  // from diskstats, for io.stat
  size_t sources_read_ = 0;
};

}  // namespace tyto::collect::host
