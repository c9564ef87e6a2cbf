// Manager: runs every scrape job of the configuration. Targets come from static_configs and
// file_sd_configs (files re-read when they change, and at least every refresh_interval);
// relabel_configs turn them into targets; each target gets a ScrapeLoop.
//
// Scheduling: one thread keeps every target's next scrape time; scrapes of a target are spaced
// by its interval, and each target's phase within the interval comes from a hash of its
// identity, so a job's targets spread evenly over the interval instead of firing together. The
// scrapes themselves run on http::Client's few network threads: thousands of targets need no
// thread each. A scrape still running when its next one is due skips that one.
//
// ApplyConfig replaces the jobs: loops of targets that stay (same labels and URL) keep running
// (their caches and staleness state survive a reload), new ones start, and those that are gone
// mark their series stale.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "scrape/config.h"
#include "scrape/scrape_loop.h"
#include "scrape/target.h"
#include "tyto/clock.h"
#include "tyto/storage.h"

namespace tyto::http {
class Client;
}

namespace tyto::scrape {

// What /api/v1/targets shows of one target.
struct TargetInfo {
  std::string job;
  Labels labels;
  Labels discovered;
  std::string url;
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{0};
  TargetStatus status;
};

// The offset of a target's scrapes within each interval, in [0, interval): a hash of its identity
// (Target::Key()), so a job's targets spread evenly over the interval instead of firing together,
// and a target keeps its phase across reloads and restarts. `interval` must be positive.
std::chrono::milliseconds ScrapePhase(std::string_view target_key, std::chrono::milliseconds interval);

// Reads one file_sd file: a JSON or YAML list of {targets: [...], labels: {...}} groups
// (YAML unless the name ends in .json). Errors name the file and where.
Result<std::vector<TargetGroup>> ReadTargetFile(const std::string& path);

class Manager {
 public:
  // `file_check_every`: how often file_sd files are checked for changes (they are re-read at
  // least every refresh_interval as well).
  Manager(Storage* storage, Clock* clock, instrumentation::Registry* registry, Sinks sinks = {},
          std::chrono::milliseconds file_check_every = std::chrono::seconds(5));
  ~Manager();  // stops every loop (marking nothing stale: the process is going away)

  // Replaces the jobs. Errors in target files or relabelling are reported per target (in the
  // log and the targets API), not here; kInvalidArgument only for a configuration that cannot
  // run (duplicate job names, a relabel rule that does not compile).
  Status ApplyConfig(const GlobalConfig& global, const std::vector<ScrapeConfig>& jobs) EXCLUDES(mu_);

  std::vector<TargetInfo> Targets() const EXCLUDES(mu_);
  // Targets relabelling dropped, per job (discovered labels).
  std::map<std::string, std::vector<Labels>> DroppedTargets() const EXCLUDES(mu_);

 private:
  struct Pool;
  struct Scheduled;

  void Run() EXCLUDES(mu_);
  // Rebuilds a pool's targets from its groups and starts and stops loops to match.
  void SyncTargets(Pool* pool, int64_t now_ms) REQUIRES(mu_);
  // Re-reads file_sd files that changed or whose refresh interval passed.
  void RefreshFiles(std::chrono::steady_clock::time_point now) REQUIRES(mu_);
  void StartScrape(const std::shared_ptr<Scheduled>& s) REQUIRES(mu_);

  Storage* storage_;
  Sinks sinks_;
  Clock* clock_;
  const std::chrono::milliseconds file_check_every_;
  std::unique_ptr<http::Client> client_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::map<std::string, std::unique_ptr<Pool>> pools_ GUARDED_BY(mu_);  // by job name
  std::thread thread_;

  instrumentation::Counter* scrapes_ = nullptr;
  instrumentation::Counter* scrape_failures_ = nullptr;
  instrumentation::Counter* skipped_ = nullptr;
  instrumentation::Counter* sd_failures_ = nullptr;
};

}  // namespace tyto::scrape
