// HostCollector's /sys sources: hardware temperatures (hwmon) and cgroup v2 containers.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "collect/host/host_collector_round.h"
#include "collect/host/proc_parsers.h"

namespace tyto::collect::host {
namespace {

// node_exporter's hwmon name cleaning: lower case, anything but [a-z0-9:_] becomes '_'.
std::string CleanHwmonName(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

// Files in a cgroup v2 directory are named <controller>.<file>; child cgroups are directories
// whose names may contain dots too ("system.slice"), so the controller prefix tells them apart
// without a stat per entry.
bool IsCgroupControlFile(std::string_view name) {
  static const std::unordered_set<std::string_view> kControllers = {"cgroup", "cpu",     "cpuset", "io",   "memory",
                                                                    "pids",   "hugetlb", "rdma",   "misc", "irq"};
  size_t dot = name.find('.');
  return dot != std::string_view::npos && kControllers.count(name.substr(0, dot)) > 0;
}

}  // namespace

// --- /sys/class/hwmon ---------------------------------------------------------------------
std::string HostCollector::Round::HwmonChip(const std::string& dir, const std::string& hwmon) {
  Result<std::string> dev = opt_.resolve_path(dir + "/device");
  if (dev.ok()) {
    std::string p = *dev;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    size_t slash = p.rfind('/');
    std::string dev_name = CleanHwmonName(slash == std::string::npos ? p : p.substr(slash + 1));
    std::string parent = slash == std::string::npos ? "" : p.substr(0, slash);
    size_t slash2 = parent.rfind('/');
    std::string dev_type = CleanHwmonName(slash2 == std::string::npos ? parent : parent.substr(slash2 + 1));
    if (!dev_type.empty() && !dev_name.empty()) return dev_type + "_" + dev_name;
    if (!dev_name.empty()) return dev_name;
  }
  Result<std::string> name = ReadQuiet(dir + "/name");
  if (name.ok()) {
    std::string n = CleanHwmonName(TrimNewline(*name));
    if (!n.empty()) return n;
  }
  return hwmon;
}

void HostCollector::Round::CollectHwmon() {
  std::string root = Sys("class/hwmon");
  auto entries = opt_.env->ListDir(root);
  if (!entries.ok()) return c_->ReportSkipped(root, entries.status());
  Understood();
  std::sort(entries->begin(), entries->end());
  static constexpr Family kTemp{"node_hwmon_temp_celsius", MetricType::kGauge,
                                "Hardware monitor for temperature (input)"};
  static constexpr Family kMax{"node_hwmon_temp_max_celsius", MetricType::kGauge,
                               "Hardware monitor for temperature (max)"};
  static constexpr Family kCrit{"node_hwmon_temp_crit_celsius", MetricType::kGauge,
                                "Hardware monitor for temperature (crit)"};
  static constexpr Family kChipNames{"node_hwmon_chip_names", MetricType::kGauge,
                                     "Annotation metric for human-readable chip names"};
  static constexpr Family kSensorLabel{"node_hwmon_sensor_label", MetricType::kGauge,
                                       "Label for given chip and sensor"};
  std::set<std::string> chips;
  for (const std::string& hwmon : *entries) {
    std::string dir = root + "/" + hwmon;
    auto files = opt_.env->ListDir(dir);
    if (!files.ok()) continue;
    std::string chip = HwmonChip(dir, hwmon);
    if (!chips.insert(chip).second) continue;
    Result<std::string> chip_name = ReadQuiet(dir + "/name");
    if (chip_name.ok() && !TrimNewline(*chip_name).empty()) {
      Add(kChipNames, {{"chip", chip}, {"chip_name", TrimNewline(*chip_name)}}, 1);
    }
    // Drivers older than the hwmon class layout keep their sensor files in device/.
    std::vector<std::pair<std::string, std::string>> sensor_files;  // (directory, file name)
    for (std::string& f : *files) sensor_files.emplace_back(dir, std::move(f));
    if (auto in_device = opt_.env->ListDir(dir + "/device"); in_device.ok()) {
      for (std::string& f : *in_device) sensor_files.emplace_back(dir + "/device", std::move(f));
    }
    std::sort(sensor_files.begin(), sensor_files.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
    std::set<std::string> sensors_seen;
    for (const auto& [sdir, f] : sensor_files) {
      // temp<N>_input: millidegrees Celsius.
      if (f.size() < 11 || f.compare(0, 4, "temp") != 0 || f.compare(f.size() - 6, 6, "_input") != 0) continue;
      std::string sensor = f.substr(0, f.size() - 6);
      if (!ParseUint(std::string_view(sensor).substr(4)) || !sensors_seen.insert(sensor).second) continue;
      auto read_milli = [&, &sdir = sdir](const std::string& suffix) -> std::optional<double> {
        Result<std::string> t = ReadQuiet(sdir + "/" + sensor + suffix);
        if (!t.ok()) return std::nullopt;
        std::optional<double> v = ParseDouble(TrimNewline(*t));
        if (!v) return std::nullopt;
        return *v / 1000;
      };
      std::optional<double> input = read_milli("_input");
      if (!input) {
        // A sensor that cannot be read right now (ENXIO, EAGAIN) is normal; say it once.
        c_->ReportSkipped(sdir + "/" + f, InvalidArgument("unreadable or not a number"));
        continue;
      }
      Add(kTemp, {{"chip", chip}, {"sensor", sensor}}, *input);
      if (auto v = read_milli("_max")) Add(kMax, {{"chip", chip}, {"sensor", sensor}}, *v);
      if (auto v = read_milli("_crit")) Add(kCrit, {{"chip", chip}, {"sensor", sensor}}, *v);
      Result<std::string> label = ReadQuiet(sdir + "/" + sensor + "_label");
      if (label.ok() && !TrimNewline(*label).empty()) {
        Add(kSensorLabel, {{"chip", chip}, {"label", TrimNewline(*label)}, {"sensor", sensor}}, 1);
      }
    }
  }
}

// --- /sys/fs/cgroup (v2) ------------------------------------------------------------------
void HostCollector::Round::CollectCgroups() {
  std::string root = Sys("fs/cgroup");
  if (!opt_.env->FileExists(root + "/cgroup.controllers")) {
    // cgroup v1 or no cgroup file system: nothing this collector understands.
    return c_->ReportSkipped(root + "/cgroup.controllers", NotFound("no cgroup v2 hierarchy"));
  }
  // Depth-first, bounded by max_cgroups; ids as cAdvisor writes them ("/", "/system.slice").
  std::vector<std::pair<std::string, std::string>> stack = {{root, "/"}};
  size_t visited = 0;
  bool read_any = false;
  while (!stack.empty()) {
    auto [dir, id] = std::move(stack.back());
    stack.pop_back();
    if (visited++ >= opt_.max_cgroups) {
      c_->ReportSkipped(
          root, ResourceExhausted("more than " + std::to_string(opt_.max_cgroups) + " cgroups; the rest are left out"));
      break;
    }
    if (CollectCgroup(dir, id)) read_any = true;
    auto names = opt_.env->ListDir(dir);
    if (!names.ok()) continue;
    std::sort(names->rbegin(), names->rend());  // popped in name order
    for (const std::string& n : *names) {
      if (IsCgroupControlFile(n)) continue;
      std::string child = dir + "/" + n;
      if (!opt_.env->FileExists(child + "/cgroup.procs")) continue;
      stack.emplace_back(child, id == "/" ? "/" + n : id + "/" + n);
    }
  }
  if (read_any) {
    Understood();
  } else {
    c_->ReportSkipped(root, Unavailable("no cgroup's cpu.stat, memory or io.stat file could be read"));
  }
}

bool HostCollector::Round::CollectCgroup(const std::string& dir, const std::string& id) {
  LabelPairs labels = {{"id", id}};
  bool read_any = false;
  if (Result<std::string> t = ReadQuiet(dir + "/cpu.stat"); t.ok()) {
    read_any = true;
    struct Field {
      std::string_view key;
      double scale;
      Family family;
    };
    static constexpr std::array<Field, 6> kFields = {{
        {"usage_usec",
         1e-6,
         {"container_cpu_usage_seconds_total", MetricType::kCounter, "Cumulative cpu time consumed in seconds."}},
        {"user_usec",
         1e-6,
         {"container_cpu_user_seconds_total", MetricType::kCounter, "Cumulative user cpu time consumed in seconds."}},
        {"system_usec",
         1e-6,
         {"container_cpu_system_seconds_total", MetricType::kCounter,
          "Cumulative system cpu time consumed in seconds."}},
        {"nr_periods",
         1,
         {"container_cpu_cfs_periods_total", MetricType::kCounter, "Number of elapsed enforcement period intervals."}},
        {"nr_throttled",
         1,
         {"container_cpu_cfs_throttled_periods_total", MetricType::kCounter, "Number of throttled period intervals."}},
        {"throttled_usec",
         1e-6,
         {"container_cpu_cfs_throttled_seconds_total", MetricType::kCounter,
          "Total time duration the container has been throttled."}},
    }};
    auto kv = ParseFlatKeyed(*t);
    for (const Field& f : kFields) {
      for (const auto& [k, v] : kv) {
        if (k == f.key) {
          Add(f.family, labels, static_cast<double>(v) * f.scale);
          break;
        }
      }
    }
  }
  std::optional<uint64_t> current;
  if (Result<std::string> t = ReadQuiet(dir + "/memory.current"); t.ok()) {
    read_any = true;
    current = ParseUint(TrimNewline(*t));
    if (current) {
      Add({"container_memory_usage_bytes", MetricType::kGauge,
           "Current memory usage in bytes, including all memory regardless of when it was accessed"},
          labels, static_cast<double>(*current));
    }
  }
  if (Result<std::string> t = ReadQuiet(dir + "/memory.stat"); t.ok()) {
    read_any = true;
    std::optional<uint64_t> inactive_file;
    for (const auto& [k, v] : ParseFlatKeyed(*t)) {
      if (k == "anon") {
        Add({"container_memory_rss", MetricType::kGauge, "Size of RSS in bytes."}, labels, static_cast<double>(v));
      } else if (k == "file") {
        Add({"container_memory_cache", MetricType::kGauge, "Number of bytes of page cache memory."}, labels,
            static_cast<double>(v));
      } else if (k == "inactive_file") {
        inactive_file = v;
      }
    }
    if (current && inactive_file) {
      // cAdvisor's working set: usage less the inactive page cache the kernel can drop first.
      uint64_t ws = *current > *inactive_file ? *current - *inactive_file : 0;
      Add({"container_memory_working_set_bytes", MetricType::kGauge, "Current working set in bytes."}, labels,
          static_cast<double>(ws));
    }
  }
  if (Result<std::string> t = ReadQuiet(dir + "/memory.swap.current"); t.ok()) {
    read_any = true;
    if (std::optional<uint64_t> v = ParseUint(TrimNewline(*t))) {
      Add({"container_memory_swap", MetricType::kGauge, "Container swap usage in bytes."}, labels,
          static_cast<double>(*v));
    }
  }
  if (Result<std::string> t = ReadQuiet(dir + "/io.stat"); t.ok()) {
    read_any = true;
    for (const IoStatLine& io : ParseIoStat(*t)) {
      auto it = devices_.find({io.major, io.minor});
      std::string device =
          it != devices_.end() ? "/dev/" + it->second : std::to_string(io.major) + ":" + std::to_string(io.minor);
      LabelPairs dl = {{"device", device}, {"id", id}};
      Add({"container_fs_reads_bytes_total", MetricType::kCounter, "Cumulative count of bytes read"}, dl,
          static_cast<double>(io.rbytes));
      Add({"container_fs_writes_bytes_total", MetricType::kCounter, "Cumulative count of bytes written"}, dl,
          static_cast<double>(io.wbytes));
      Add({"container_fs_reads_total", MetricType::kCounter, "Cumulative count of reads completed"}, dl,
          static_cast<double>(io.rios));
      Add({"container_fs_writes_total", MetricType::kCounter, "Cumulative count of writes completed"}, dl,
          static_cast<double>(io.wios));
    }
  }
  return read_any;
}

}  // namespace tyto::collect::host
