#include "server/local_collection.h"

#include <algorithm>

#include "collect/discovery/discoverer.h"

namespace tyto::server {
namespace {

// Discovery reads the same /proc as the host collector (its proc_path, for a Tyto running in a
// container with the host's /proc mounted elsewhere).
std::string ProcPath(const Config& cfg) {
  if (const collect::CollectorConfig* host = cfg.collectors.Find("host"); host != nullptr) {
    auto it = host->options.find("proc_path");
    if (it != host->options.end()) return it->second;
  }
  return "/proc";
}

}  // namespace

LocalCollection::LocalCollection(Storage* storage, scrape::Manager* scrape, Clock* clock,
                                 metastore::MetadataStore* metadata, instrumentation::Registry* registry)
    : storage_(storage),
      scrape_(scrape),
      clock_(clock),
      metadata_(metadata),
      runner_metrics_(registry),
      refresher_metrics_(registry) {}

LocalCollection::~LocalCollection() { Stop(); }

Status LocalCollection::ApplyScrape(const std::vector<scrape::ScrapeConfig>& discovered) {
  std::vector<scrape::ScrapeConfig> all = jobs_;
  all.insert(all.end(), discovered.begin(), discovered.end());
  return scrape_->ApplyConfig(global_, all);
}

Status LocalCollection::Apply(const Config& cfg, std::vector<scrape::ScrapeConfig> jobs) {
  // Called by one thread at a time (start, reload); the refresher's thread only calls back into
  // ApplyScrape. Neither lock is held while the other part is stopped or refreshed.
  const std::string proc_path = ProcPath(cfg);
  bool new_discovery = false, new_runner = false;
  {
    MutexLock lock(&mu_);
    global_ = cfg.global;
    jobs_ = jobs;
    new_discovery = !refresher_ || !(cfg.inference_servers == discovery_config_) || proc_path != proc_path_;
    new_runner = !runner_ || new_discovery || !(cfg.collectors == collectors_config_);
  }
  if (new_runner && runner_) runner_->Stop();  // it reads the refresher (server info)
  if (new_discovery) {
    refresher_.reset();
    collect::discovery::DiscoveryOptions o;
    o.config = cfg.inference_servers;
    o.proc_path = proc_path;
    discoverer_ = std::make_unique<collect::discovery::Discoverer>(std::move(o));
    refresher_ = std::make_unique<collect::discovery::Refresher>(
        discoverer_.get(),
        [this](const std::vector<scrape::ScrapeConfig>& discovered) {
          MutexLock lock(&mu_);
          (void)ApplyScrape(discovered);  // a bad job was refused when the user's were applied
        },
        &refresher_metrics_);
  }
  refresher_->SetUserJobs(jobs);
  (void)refresher_->Refresh();  // a failure keeps the last servers (none at first) and is logged
  if (new_discovery) refresher_->Start(cfg.inference_servers.refresh_interval);
  Status st;
  {
    MutexLock lock(&mu_);
    st = ApplyScrape(refresher_->jobs());
    discovery_config_ = cfg.inference_servers;
    proc_path_ = proc_path;
  }
  if (new_runner) {
    runner_ = collect::NewRunner(cfg.collectors, {storage_, clock_, metadata_, &runner_metrics_, ""});
    // tyto_inference_server_info: what discovery found, scraped or not (and why not).
    runner_->Add(std::make_unique<collect::discovery::ServerInfoCollector>(refresher_.get()),
                 std::clamp(cfg.inference_servers.refresh_interval, collect::kMinInterval, collect::kMaxInterval));
    runner_->Start();
    MutexLock lock(&mu_);
    collectors_config_ = cfg.collectors;
  }
  return st;
}

void LocalCollection::Stop() {
  if (runner_) runner_->Stop();
  if (refresher_) refresher_->Stop();
}

}  // namespace tyto::server
