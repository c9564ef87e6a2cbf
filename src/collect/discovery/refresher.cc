#include "collect/discovery/refresher.h"

#include <cstdlib>
#include <map>

#include "common/units.h"
#include "instrumentation/metrics.h"

namespace tyto::collect::discovery {
namespace {

// Everything BuildScrapeConfigs sets, in a fixed order: equal strings, equal jobs.
std::string Fingerprint(const std::vector<scrape::ScrapeConfig>& jobs) {
  std::string out;
  for (const scrape::ScrapeConfig& job : jobs) {
    out += "job " + job.job_name + " " + FormatDuration(job.scrape_interval) + " " +
           FormatDuration(job.scrape_timeout) + " " + job.metrics_path + "\n";
    for (const scrape::StaticConfig& group : job.static_configs) {
      for (const std::string& t : group.targets) out += " target " + t + "\n";
      for (const auto& [k, v] : group.labels) out += "  " + k + "=" + v + "\n";
    }
  }
  return out;
}

std::string ServerKey(const Server& s) {
  return std::string(KindName(s.kind)) + " " + s.address + " " + s.model + " " + std::to_string(s.pid) + " " +
         s.not_scraped + " " + s.job;
}

}  // namespace

RefresherMetrics::RefresherMetrics(instrumentation::Registry* registry)
    : refreshes(&registry
                     ->AddCounter("tyto_inference_discovery_refreshes_total",
                                  "Inference-server discovery passes (process scan and static list).")
                     .WithLabels({})),
      failures(&registry
                    ->AddCounter("tyto_inference_discovery_refresh_failures_total",
                                 "Inference-server discovery passes that failed (the previous servers were kept).")
                    .WithLabels({})),
      servers_found(&registry
                         ->AddGauge("tyto_inference_discovery_servers",
                                    "Inference servers found by the last discovery pass, scraped or not.")
                         .WithLabels({})),
      targets(&registry
                   ->AddGauge("tyto_inference_discovery_targets",
                              "Targets the last discovery pass handed to the scrape manager.")
                   .WithLabels({})) {}

Refresher::Refresher(const Discoverer* discoverer, OnChange on_change, RefresherMetrics* metrics)
    : discoverer_(discoverer), on_change_(std::move(on_change)) {
  if (metrics != nullptr) {
    refreshes_ = metrics->refreshes;
    failures_ = metrics->failures;
    servers_found_ = metrics->servers_found;
    targets_ = metrics->targets;
  }
}

Refresher::~Refresher() { Stop(); }

void Refresher::SetUserJobs(std::vector<scrape::ScrapeConfig> user_jobs) {
  MutexLock lock(&mu_);
  user_jobs_ = std::move(user_jobs);
}

Result<bool> Refresher::Refresh() {
  MutexLock serial(&refresh_mu_);
  std::vector<scrape::ScrapeConfig> user_jobs;
  {
    MutexLock lock(&mu_);
    user_jobs = user_jobs_;
  }
  if (refreshes_ != nullptr) refreshes_->Inc();
  std::vector<Server> servers;
  Result<std::vector<scrape::ScrapeConfig>> jobs = discoverer_->Discover(user_jobs, &servers);
  if (!jobs.ok()) {
    if (failures_ != nullptr) failures_->Inc();
    if (jobs.status().message() != last_error_) {
      last_error_ = jobs.status().message();
      log_.Warn("inference server discovery failed; keeping the servers found before", {{"reason", jobs.status()}});
    }
    return jobs.status();
  }
  last_error_.clear();
  size_t targets = 0;
  for (const scrape::ScrapeConfig& job : *jobs) targets += job.static_configs.size();
  if (servers_found_ != nullptr) servers_found_->Set(static_cast<double>(servers.size()));
  if (targets_ != nullptr) targets_->Set(static_cast<double>(targets));

  std::vector<Server> before;
  {
    MutexLock lock(&mu_);
    before = std::move(servers_);
    servers_ = servers;
    jobs_ = *jobs;
  }
  LogChanges(before, servers);
  std::string fingerprint = Fingerprint(*jobs);
  if (reported_ && fingerprint == last_fingerprint_) return false;
  reported_ = true;
  last_fingerprint_ = std::move(fingerprint);
  if (on_change_) on_change_(*jobs);
  return true;
}

void Refresher::LogChanges(const std::vector<Server>& before, const std::vector<Server>& after) const {
  std::map<std::string, const Server*> old_keys, new_keys;
  for (const Server& s : before) old_keys[ServerKey(s)] = &s;
  for (const Server& s : after) new_keys[ServerKey(s)] = &s;
  for (const auto& [key, s] : new_keys) {
    if (old_keys.count(key) > 0) continue;
    log_.Info("inference server found",
              {{"kind", KindName(s->kind)},
               {"address", s->address},
               {"model", s->model},
               {"pid", s->pid},
               {"port_source", PortSourceName(s->port_source)},
               {"job", s->job},
               {"not_scraped", s->not_scraped}});
  }
  for (const auto& [key, s] : old_keys) {
    if (new_keys.count(key) > 0) continue;
    log_.Info("inference server gone", {{"kind", KindName(s->kind)}, {"address", s->address}, {"pid", s->pid}});
  }
}

void Refresher::Start(std::chrono::milliseconds interval) {
  MutexLock lock(&mu_);
  if (started_) std::abort();  // a bug in the caller: one thread per refresher
  started_ = true;
  stop_ = false;
  thread_ = std::thread([this, interval] { Run(interval); });
}

void Refresher::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Refresher::Run(std::chrono::milliseconds interval) {
  for (;;) {
    {
      MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + interval;
      while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        cv_.wait_until(mu_.native(), deadline);
      }
      if (stop_) return;
    }
    (void)Refresh();  // failures are logged and counted there
  }
}

std::vector<scrape::ScrapeConfig> Refresher::jobs() const {
  MutexLock lock(&mu_);
  return jobs_;
}

std::vector<Server> Refresher::servers() const {
  MutexLock lock(&mu_);
  return servers_;
}

Status ServerInfoCollector::Collect(int64_t /*now_ms*/, Sink* sink) {
  WriteServerInfo(refresher_->servers(), sink);
  return Status::Ok();
}

}  // namespace tyto::collect::discovery
