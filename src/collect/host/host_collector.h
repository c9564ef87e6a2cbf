// The host collector: CPU, load, memory, pressure, disks, filesystems, network, TCP, processes,
// file descriptors, hardware temperatures and cgroup v2 containers, read from /proc and /sys
// and named as node_exporter names them (node_cpu_seconds_total{cpu,mode}, ...), with
// cAdvisor's names for containers (container_cpu_usage_seconds_total{id}, ...). The metric
// list, units and sources are in docs/collectors.md, section "host".
//
// Files are read through Env, under configurable roots, so tests point the collector at a fake
// tree in a temporary directory. The two calls Env has no word for, statvfs(2) and resolving a
// symbolic link, are injectable too.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "collect/collector.h"
#include "common/log.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::collect::host {

// What statvfs(2) says about one mounted filesystem, in bytes and inodes.
struct FilesystemUsage {
  uint64_t size_bytes = 0;   // f_blocks * f_frsize
  uint64_t free_bytes = 0;   // f_bfree * f_frsize (includes root's reserve)
  uint64_t avail_bytes = 0;  // f_bavail * f_frsize (what unprivileged users may use)
  uint64_t files = 0;
  uint64_t files_free = 0;
  bool read_only = false;
};
using StatFilesystemFn = std::function<Result<FilesystemUsage>(const std::string& path)>;
// The target of a symbolic link, made absolute and free of links (realpath(3)).
using ResolvePathFn = std::function<Result<std::string>(const std::string& path)>;

// The real system calls, the defaults of HostOptions.
Result<FilesystemUsage> StatFilesystem(const std::string& path);
Result<std::string> ResolvePath(const std::string& path);

struct HostOptions {
  Env* env = nullptr;                // null: Env::Default()
  std::string proc_path = "/proc";   // node_exporter's --path.procfs
  std::string sys_path = "/sys";     // --path.sysfs
  std::string rootfs_path = "/";     // --path.rootfs: prefixed to mount points for statvfs
  bool cgroups = true;               // per-container CPU, memory and I/O
  size_t max_cgroups = 2000;         // cgroups beyond this many are left out (and logged once)
  StatFilesystemFn stat_filesystem;  // empty: StatFilesystem
  ResolvePathFn resolve_path;        // empty: ResolvePath
};

// The collector's descriptor: name "host", its options for config validation and docs.
Descriptor HostDescriptor();

// Not thread-safe: one runner calls Collect, one round at a time.
class HostCollector final : public Collector {
 public:
  explicit HostCollector(HostOptions options);

  std::string_view name() const override { return "host"; }
  // Each source (/proc/stat, /proc/meminfo, ...) that is missing or malformed is skipped, with
  // one log line the first time; the round goes on. Fails with kUnavailable only when no
  // source at all could be read.
  Status Collect(int64_t now_ms, Sink* sink) override;

  // Sources skipped at least once, "path: reason", for tests and the status page.
  const std::set<std::string>& skipped_sources() const { return reported_; }

 private:
  class Round;
  // Logs once per source and kind of failure.
  void ReportSkipped(const std::string& path, const Status& why);

  HostOptions opt_;
  log::Logger log_{"collect.host"};
  std::set<std::string> reported_;
};

}  // namespace tyto::collect::host
