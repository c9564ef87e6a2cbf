#include "scrape/manager.h"

#include <glob.h>
#include <sys/stat.h>

#include <atomic>
#include <optional>

#include "common/build_info.h"
#include "common/log.h"
#include "config/schema.h"
#include "config/yaml.h"
#include "http/client.h"
#include "http/encoding.h"
#include "tyto/env.h"

namespace tyto::scrape {
namespace {

const log::Logger kLog("scrape");

// The Authorization header a job's scrapes send, if any.
Result<std::optional<std::string>> AuthorizationHeader(const ScrapeConfig& job) {
  const BasicAuth& b = job.basic_auth;
  if (!b.username.empty() || !b.password.empty() || !b.password_file.empty()) {
    TYTO_ASSIGN_OR_RETURN(std::string password, ReadSecret(Env::Default(), b.password, b.password_file, "basic_auth password_file"));
    return std::optional<std::string>("Basic " + http::Base64(b.username + ":" + password));
  }
  const Authorization& a = job.authorization;
  if (a.credentials.empty() && a.credentials_file.empty()) return std::optional<std::string>();
  TYTO_ASSIGN_OR_RETURN(std::string credentials,
                        ReadSecret(Env::Default(), a.credentials, a.credentials_file, "authorization credentials_file"));
  return std::optional<std::string>(a.type + " " + credentials);
}

uint64_t Fnv(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

const config::Section<TargetGroup>& GroupSchema() {
  static const auto* s = [] {
    auto* g = new config::Section<TargetGroup>("target group", "A file_sd target group.");
    g->StringList("targets", &TargetGroup::targets, "host:port of each target.")
        .StringMap("labels", &TargetGroup::labels, "Labels of every target of the group.");
    return g;
  }();
  return *s;
}

}  // namespace

std::chrono::milliseconds ScrapePhase(std::string_view target_key, std::chrono::milliseconds interval) {
  return std::chrono::milliseconds(static_cast<int64_t>(Fnv(target_key) % static_cast<uint64_t>(interval.count())));
}

Result<std::vector<TargetGroup>> ReadTargetFile(const std::string& path) {
  TYTO_ASSIGN_OR_RETURN(const std::string text, Env::Default()->ReadFile(path));
  // YAML is a superset of JSON, so one parser reads both kinds of file.
  TYTO_ASSIGN_OR_RETURN(const config::Node root, config::ParseYaml(text, path));
  std::vector<TargetGroup> groups;
  if (root.IsNull()) return groups;
  if (!root.IsSequence()) {
    return InvalidArgument(root.position().ToString() + ": expected a list of target groups, got " +
                           std::string(root.KindName()));
  }
  config::Diagnostics d;
  for (const config::Node& item : root.items()) {
    TargetGroup g;
    GroupSchema().Decode(item, &g, &d);
    g.source = item.position().ToString();
    groups.push_back(std::move(g));
  }
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return groups;
}

struct Manager::Scheduled {
  std::string job;
  std::shared_ptr<const ScrapeConfig> config;
  std::shared_ptr<ScrapeLoop> loop;
  std::chrono::steady_clock::time_point next;
  std::atomic<bool> in_flight{false};
  Mutex report_mu;
  bool stopped GUARDED_BY(report_mu) = false;
};

struct Manager::Pool {
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    std::vector<TargetGroup> groups;
  };
  struct FileSd {
    FileSdConfig config;
    std::chrono::steady_clock::time_point last_read;
    std::map<std::string, FileState> files;  // by path
  };

  std::shared_ptr<const ScrapeConfig> job;
  relabel::Relabeler relabel;
  std::shared_ptr<const relabel::Relabeler> metric_relabel;
  std::vector<TargetGroup> static_groups;
  std::vector<FileSd> file_sd;
  std::map<std::string, std::shared_ptr<Scheduled>> loops;  // by Target::Key
  std::vector<Labels> dropped;
};

Manager::Manager(Storage* storage, Clock* clock, instrumentation::Registry* registry, Sinks sinks,
                 std::chrono::milliseconds file_check_every)
    : storage_(storage), sinks_(sinks), clock_(clock), file_check_every_(file_check_every), client_(std::make_unique<http::Client>(2)) {
  scrapes_ = &registry->AddCounter("tyto_scrapes_total", "Scrapes finished, successful or not.").WithLabels({});
  scrape_failures_ = &registry->AddCounter("tyto_scrape_failures_total", "Scrapes that failed (up = 0).").WithLabels({});
  skipped_ = &registry
                  ->AddCounter("tyto_scrapes_skipped_total",
                               "Scrapes not started because the target's previous scrape was still running.")
                  .WithLabels({});
  sd_failures_ = &registry->AddCounter("tyto_sd_file_read_failures_total", "file_sd files that could not be read.")
                      .WithLabels({});
  registry->AddCallback("tyto_scrape_targets", "Targets being scraped.", instrumentation::Type::kGauge, [this] {
    MutexLock lock(&mu_);
    size_t n = 0;
    for (const auto& [name, pool] : pools_) n += pool->loops.size();
    return static_cast<double>(n);
  });
  thread_ = std::thread([this] { Run(); });
}

Manager::~Manager() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    for (auto& [name, pool] : pools_) {
      for (auto& [key, s] : pool->loops) {
        MutexLock r(&s->report_mu);
        s->stopped = true;
      }
    }
  }
  cv_.notify_all();
  thread_.join();
  client_.reset();  // abandons scrapes in flight; their loops are stopped, so nothing is lost
}

Status Manager::ApplyConfig(const GlobalConfig& global, const std::vector<ScrapeConfig>& jobs) {
  std::map<std::string, std::unique_ptr<Pool>> fresh;
  for (ScrapeConfig job : jobs) {
    TYTO_RETURN_IF_ERROR(ApplyDefaults(global, &job));
    if (fresh.count(job.job_name)) return InvalidArgument("scrape_configs: job_name '" + job.job_name + "' is used twice");
    auto pool = std::make_unique<Pool>();
    auto relabel = relabel::Relabeler::Compile(job.relabel_configs);
    if (!relabel.ok()) return relabel.status().WithContext("job '" + job.job_name + "' relabel_configs");
    auto metric = relabel::Relabeler::Compile(job.metric_relabel_configs);
    if (!metric.ok()) return metric.status().WithContext("job '" + job.job_name + "' metric_relabel_configs");
    pool->relabel = std::move(relabel).value();
    pool->metric_relabel = std::make_shared<const relabel::Relabeler>(std::move(metric).value());
    for (size_t i = 0; i < job.static_configs.size(); ++i) {
      pool->static_groups.push_back({job.static_configs[i].targets, job.static_configs[i].labels,
                                     "job '" + job.job_name + "' static_configs[" + std::to_string(i) + "]"});
    }
    for (const FileSdConfig& f : job.file_sd_configs) pool->file_sd.push_back({f, {}, {}});
    pool->job = std::make_shared<const ScrapeConfig>(job);
    fresh.emplace(job.job_name, std::move(pool));
  }
  const int64_t now_ms = clock_->NowMillis();
  {
    MutexLock lock(&mu_);
    // Loops of targets that stay move to the new pools (SyncTargets keeps them by key).
    for (auto& [name, pool] : fresh) {
      auto old = pools_.find(name);
      if (old != pools_.end()) pool->loops = std::move(old->second->loops);
    }
    for (auto& [name, pool] : pools_) {
      if (fresh.count(name)) continue;
      for (auto& [key, s] : pool->loops) {
        MutexLock r(&s->report_mu);
        s->stopped = true;
        s->loop->Stop(now_ms);
      }
    }
    pools_ = std::move(fresh);
    RefreshFiles(clock_->MonotonicNow());
    for (auto& [name, pool] : pools_) SyncTargets(pool.get(), now_ms);
  }
  cv_.notify_all();
  return Status::Ok();
}

void Manager::RefreshFiles(std::chrono::steady_clock::time_point now) {
  for (auto& [name, pool] : pools_) {
    bool changed = false;
    for (Pool::FileSd& sd : pool->file_sd) {
      const bool due = now - sd.last_read >= sd.config.refresh_interval;
      std::map<std::string, Pool::FileState> next;
      for (const std::string& pattern : sd.config.files) {
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
          for (size_t i = 0; i < g.gl_pathc; ++i) next[g.gl_pathv[i]];
        }
        ::globfree(&g);
      }
      for (auto& [path, state] : next) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) continue;
        state.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
        state.size = st.st_size;
        auto old = sd.files.find(path);
        if (!due && old != sd.files.end() && old->second.mtime_ns == state.mtime_ns && old->second.size == state.size) {
          state.groups = old->second.groups;
          continue;
        }
        auto groups = ReadTargetFile(path);
        if (!groups.ok()) {
          sd_failures_->Inc();
          kLog.Warn("file_sd file not read; keeping its previous targets",
                    {{"job", name}, {"file", path}, {"error", groups.status().message()}});
          if (old != sd.files.end()) state.groups = old->second.groups;
          continue;
        }
        state.groups = std::move(groups).value();
        for (auto& g : state.groups) g.source = "job '" + name + "' " + g.source;
        changed = true;
      }
      if (next.size() != sd.files.size()) changed = true;
      sd.files = std::move(next);
      if (due) sd.last_read = now;
    }
    if (changed) pool->dropped.clear();  // recomputed by SyncTargets
  }
}

void Manager::SyncTargets(Pool* pool, int64_t now_ms) {
  std::vector<TargetGroup> groups = pool->static_groups;
  for (const Pool::FileSd& sd : pool->file_sd) {
    for (const auto& [path, state] : sd.files) groups.insert(groups.end(), state.groups.begin(), state.groups.end());
  }
  TargetsResult built = BuildTargets(*pool->job, pool->relabel, groups);
  for (const std::string& e : built.errors) kLog.Warn("target not scraped", {{"error", e}});
  pool->dropped = std::move(built.dropped);
  bool over_limit = pool->job->target_limit > 0 && built.targets.size() > pool->job->target_limit;
  std::map<std::string, std::shared_ptr<Scheduled>> loops;
  const auto mono = clock_->MonotonicNow();
  for (Target& t : built.targets) {
    const std::string key = t.Key();
    if (loops.count(key)) continue;  // the same target twice
    auto old = pool->loops.find(key);
    if (old != pool->loops.end() && old->second->config->scrape_interval == pool->job->scrape_interval) {
      {
        MutexLock r(&old->second->report_mu);
        old->second->loop->Reconfigure(pool->job, pool->metric_relabel);
      }
      old->second->config = pool->job;
      loops.emplace(key, std::move(old->second));
      pool->loops.erase(old);
      continue;
    }
    auto s = std::make_shared<Scheduled>();
    s->job = pool->job->job_name;
    s->config = pool->job;
    const int64_t interval = t.interval.count();
    const int64_t phase = ScrapePhase(key, t.interval).count();
    const int64_t wait = ((phase - now_ms % interval) % interval + interval) % interval;
    s->next = mono + std::chrono::milliseconds(wait);
    s->loop = std::make_shared<ScrapeLoop>(storage_, std::move(t), pool->job, pool->metric_relabel, sinks_);
    loops.emplace(key, std::move(s));
  }
  for (auto& [key, s] : pool->loops) {  // gone: their series end now
    MutexLock r(&s->report_mu);
    s->stopped = true;
    s->loop->Stop(now_ms);
  }
  pool->loops = std::move(loops);
  if (over_limit) {
    kLog.Warn("target_limit exceeded: the job's scrapes fail until it has fewer targets",
              {{"job", pool->job->job_name}, {"targets", pool->loops.size()}, {"limit", pool->job->target_limit}});
  }
}

void Manager::StartScrape(const std::shared_ptr<Scheduled>& s) {
  if (s->in_flight.exchange(true)) {
    skipped_->Inc();
    return;
  }
  const Target& t = s->loop->target();
  const ScrapeConfig& job = *s->config;
  const int64_t start_ms = clock_->NowMillis();
  const auto started = clock_->MonotonicNow();
  auto finish = [this, s, start_ms, started](Fetched f) {
    {
      MutexLock r(&s->report_mu);
      if (!s->stopped) s->loop->Report(start_ms, clock_->MonotonicNow() - started, f);
    }
    scrapes_->Inc();
    if (!f.status.ok() || f.http_status != 200) scrape_failures_->Inc();
    s->in_flight = false;
  };
  // target_limit: every scrape of an over-limit job fails, as in Prometheus.
  {
    auto pool = pools_.find(s->job);
    if (pool != pools_.end() && job.target_limit > 0 && pool->second->loops.size() > job.target_limit) {
      Fetched f;
      f.status = ResourceExhausted("target_limit exceeded (" + std::to_string(pool->second->loops.size()) +
                                   " targets, limit " + std::to_string(job.target_limit) + ")");
      finish(std::move(f));
      return;
    }
  }
  http::ClientRequest req;
  req.https = t.https;
  req.host = t.host;
  req.port = t.port;
  req.target = t.path_and_query;
  req.timeout = t.timeout;
  req.max_body_bytes = job.body_size_limit;
  req.tls = {job.tls_config.ca_file, job.tls_config.cert_file, job.tls_config.key_file, job.tls_config.server_name,
             job.tls_config.insecure_skip_verify};
  req.headers = {{"Accept", kAcceptHeader},
                 {"Accept-Encoding", "gzip"},
                 {"User-Agent", "Tyto/" + std::string(GetBuildInfo().version)},
                 {"X-Prometheus-Scrape-Timeout-Seconds",
                  std::to_string(static_cast<double>(t.timeout.count()) / 1000.0)}};
  auto authorization = AuthorizationHeader(job);
  if (!authorization.ok()) {
    Fetched f;
    f.status = authorization.status();
    finish(std::move(f));
    return;
  }
  if (*authorization) req.headers.emplace_back("Authorization", **authorization);
  client_->Send(std::move(req), [finish](Result<http::ClientResponse> r) {
    Fetched f;
    if (!r.ok()) {
      f.status = r.status();
    } else {
      f.http_status = r->status;
      f.content_type = std::move(r->content_type);
      f.content_encoding = std::move(r->content_encoding);
      f.body = std::move(r->body);
    }
    finish(std::move(f));
  });
}

void Manager::Run() {
  MutexLock lock(&mu_);
  auto next_file_check = clock_->MonotonicNow() + file_check_every_;
  while (!stop_) {
    const auto now = clock_->MonotonicNow();
    if (now >= next_file_check) {
      RefreshFiles(now);
      for (auto& [name, pool] : pools_) {
        if (!pool->file_sd.empty()) SyncTargets(pool.get(), clock_->NowMillis());
      }
      next_file_check = now + file_check_every_;
    }
    auto wake = next_file_check;
    for (auto& [name, pool] : pools_) {
      for (auto& [key, s] : pool->loops) {
        if (s->next <= now) {
          StartScrape(s);
          const auto interval = s->loop->target().interval;
          s->next += interval;
          if (s->next <= now) s->next = now + interval;  // fell behind: skip, keep spacing
        }
        wake = std::min(wake, s->next);
      }
    }
    // Wall-clock waits: the scheduler runs on real time (tests drive loops directly).
    cv_.wait_for(mu_.native(), std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock_->MonotonicNow()) +
                                   std::chrono::milliseconds(1));
  }
}

std::vector<TargetInfo> Manager::Targets() const {
  MutexLock lock(&mu_);
  std::vector<TargetInfo> out;
  for (const auto& [name, pool] : pools_) {
    for (const auto& [key, s] : pool->loops) {
      const Target& t = s->loop->target();
      out.push_back({name, t.labels, t.discovered, t.Url(), t.interval, t.timeout, s->loop->status()});
    }
  }
  return out;
}

std::map<std::string, std::vector<Labels>> Manager::DroppedTargets() const {
  MutexLock lock(&mu_);
  std::map<std::string, std::vector<Labels>> out;
  for (const auto& [name, pool] : pools_) out[name] = pool->dropped;
  return out;
}

}  // namespace tyto::scrape
