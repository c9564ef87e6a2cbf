// Refresher: runs inference-server discovery again and again and tells its owner when the jobs
// to scrape changed, so that servers started or stopped after Tyto appear and disappear
// without a reload.
//
//   discovery::Refresher refresher(&discoverer, [&](const std::vector<scrape::ScrapeConfig>& jobs) {
//     scrape_manager.ApplyConfig(global, Concat(user_jobs, jobs));
//   }, &registry);
//   refresher.SetUserJobs(user_jobs);
//   (void)refresher.Refresh();                       // at start: the first call always reports
//   refresher.Start(discoverer.config().refresh_interval);
//   ...on reload: refresher.SetUserJobs(new_user_jobs); (void)refresher.Refresh();
//      and apply new_user_jobs + refresher.jobs() (the callback fires only if the
//      discovered jobs changed, which a change of the user's job names can cause)
//
// Thread-safe. The callback runs on the thread that called Refresh (the refresher's own thread
// once started), never on two threads at once, with no lock of the refresher's held but the one
// that serialises refreshes: it may call jobs(), servers() and SetUserJobs(), not Refresh() or
// Stop().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collect/collector.h"
#include "collect/discovery/discoverer.h"
#include "common/log.h"
#include "common/mutex.h"
#include "scrape/config.h"

namespace tyto::instrumentation {
class Registry;
class Counter;
class Gauge;
}  // namespace tyto::instrumentation

namespace tyto::collect::discovery {

// The refresher's metrics, registered once in a registry and shared by the refreshers that
// follow one another there (a reload that changes inference_servers replaces the refresher):
// tyto_inference_discovery_refreshes_total, ..._refresh_failures_total,
// tyto_inference_discovery_servers and tyto_inference_discovery_targets.
struct RefresherMetrics {
  explicit RefresherMetrics(instrumentation::Registry* registry);
  instrumentation::Counter* refreshes;
  instrumentation::Counter* failures;
  instrumentation::Gauge* servers_found;
  instrumentation::Gauge* targets;
};

class Refresher {
 public:
  using OnChange = std::function<void(const std::vector<scrape::ScrapeConfig>& jobs)>;

  // `discoverer` must outlive the refresher; `metrics` too, when not null.
  Refresher(const Discoverer* discoverer, OnChange on_change, RefresherMetrics* metrics = nullptr);
  ~Refresher();  // Stop()

  Refresher(const Refresher&) = delete;
  Refresher& operator=(const Refresher&) = delete;

  // The user's scrape_configs, whose job names and static targets discovered jobs avoid. Takes
  // effect at the next Refresh.
  void SetUserJobs(std::vector<scrape::ScrapeConfig> user_jobs) EXCLUDES(mu_);

  // Discovers now. Calls on_change when the jobs differ from those it was last called with (the
  // first successful Refresh always calls it), and returns whether it did. A failed discovery
  // keeps the last jobs and servers; it is logged (once until it succeeds again), counted and
  // returned.
  Result<bool> Refresh() EXCLUDES(refresh_mu_, mu_);

  // Calls Refresh every `interval` on a thread of its own, the first one `interval` after
  // Start, until Stop. Calling Start twice is a bug.
  void Start(std::chrono::milliseconds interval) EXCLUDES(mu_);
  // Stops the thread and waits for a Refresh in progress. Idempotent.
  void Stop() EXCLUDES(mu_);

  // The jobs of the last successful Refresh (empty before one).
  std::vector<scrape::ScrapeConfig> jobs() const EXCLUDES(mu_);
  // The servers of the last successful Refresh, scraped or not.
  std::vector<Server> servers() const EXCLUDES(mu_);

 private:
  void Run(std::chrono::milliseconds interval) EXCLUDES(mu_);
  // Logs servers that appeared or went away since the last refresh.
  void LogChanges(const std::vector<Server>& before, const std::vector<Server>& after) const;

  const Discoverer* discoverer_;
  OnChange on_change_;
  log::Logger log_{"collect.discovery"};

  // Held for a whole Refresh, callback included; taken before mu_.
  Mutex refresh_mu_;
  bool reported_ GUARDED_BY(refresh_mu_) = false;  // on_change has been called once
  std::string last_fingerprint_ GUARDED_BY(refresh_mu_);
  std::string last_error_ GUARDED_BY(refresh_mu_);

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::vector<scrape::ScrapeConfig> user_jobs_ GUARDED_BY(mu_);
  std::vector<scrape::ScrapeConfig> jobs_ GUARDED_BY(mu_);
  std::vector<Server> servers_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::thread thread_;

  instrumentation::Counter* refreshes_ = nullptr;
  instrumentation::Counter* failures_ = nullptr;
  instrumentation::Gauge* servers_found_ = nullptr;
  instrumentation::Gauge* targets_ = nullptr;
};

// The collector that reports tyto_inference_server_info (WriteServerInfo) for the refresher's
// last servers; name "inference_servers". Collect never fails: no servers is an empty round.
class ServerInfoCollector final : public Collector {
 public:
  explicit ServerInfoCollector(const Refresher* refresher) : refresher_(refresher) {}
  std::string_view name() const override { return "inference_servers"; }
  Status Collect(int64_t now_ms, Sink* sink) override;

 private:
  const Refresher* refresher_;
};

}  // namespace tyto::collect::discovery
