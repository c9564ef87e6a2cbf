// LocalCollection: what a Tyto process collects on its own machine, beside the user's scrape
// jobs: the built-in collectors (collect::Runner) and the inference servers discovered among
// local processes (collect::discovery::Refresher), whose jobs are applied to the scrape manager
// together with the user's. tyto serve writes it into the metrics engine, tyto agent into its
// forwarding queue; both apply their configuration through it, at start and on reload.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collect/discovery/refresher.h"
#include "collect/runner.h"
#include "common/mutex.h"
#include "scrape/manager.h"
#include "server/config.h"
#include "tyto/clock.h"
#include "tyto/storage.h"

namespace tyto::server {

class LocalCollection {
 public:
  // All must outlive this object; `metadata` may be null.
  LocalCollection(Storage* storage, scrape::Manager* scrape, Clock* clock, metastore::MetadataStore* metadata,
                  instrumentation::Registry* registry);
  ~LocalCollection();  // Stop()
  LocalCollection(const LocalCollection&) = delete;
  LocalCollection& operator=(const LocalCollection&) = delete;

  // Applies `cfg`'s collectors and inference_servers sections (replacing the runner and the
  // discovery only when they changed) and scrapes `jobs` (the user's scrape_configs and what
  // the caller adds) with the discovered jobs. Errors: the scrape manager's.
  Status Apply(const Config& cfg, std::vector<scrape::ScrapeConfig> jobs) EXCLUDES(mu_);

  // Stops the collectors and the discovery; the scrape manager is the caller's to stop.
  void Stop() EXCLUDES(mu_);

 private:
  // The user's jobs with the discovered ones, to the scrape manager.
  Status ApplyScrape(const std::vector<scrape::ScrapeConfig>& discovered) REQUIRES(mu_);

  Storage* storage_;
  scrape::Manager* scrape_;
  Clock* clock_;
  metastore::MetadataStore* metadata_;
  collect::RunnerMetrics runner_metrics_;
  collect::discovery::RefresherMetrics refresher_metrics_;

  Mutex mu_;
  scrape::GlobalConfig global_ GUARDED_BY(mu_);
  std::vector<scrape::ScrapeConfig> jobs_ GUARDED_BY(mu_);
  collect::CollectorsConfig collectors_config_ GUARDED_BY(mu_);
  collect::discovery::InferenceServersConfig discovery_config_ GUARDED_BY(mu_);
  std::string proc_path_ GUARDED_BY(mu_);
  std::unique_ptr<collect::discovery::Discoverer> discoverer_;
  std::unique_ptr<collect::discovery::Refresher> refresher_;  // reads discoverer_
  std::unique_ptr<collect::Runner> runner_;                   // reads refresher_ (server info)
};

}  // namespace tyto::server
