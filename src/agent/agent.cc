#include "agent/agent.h"

#include "agent/relay.h"

#include <cstdio>
#include <cstdlib>

#include "common/build_info.h"
#include "common/log.h"
#include "forward/disk_queue.h"
#include "forward/metrics.h"
#include "forward/queue_storage.h"
#include "forward/sender.h"
#include "http/url.h"
#include "nats/connection.h"
#include "nats/metrics.h"
#include "nats/queue_forwarder.h"
#include "server/server.h"

namespace tyto::agent {
namespace {

const log::Logger kLog("agent");

// The agent's own /metrics, scraped into the queue like any target.
constexpr const char* kSelfJob = "tyto_agent";

Result<forward::SenderOptions> SenderOptionsFrom(Env* env, const server::AgentConfig& a) {
  forward::SenderOptions o;
  TYTO_ASSIGN_OR_RETURN(o.url, RemoteWriteUrl(a.server));
  if (!a.authorization.credentials.empty() || !a.authorization.credentials_file.empty()) {
    if (a.authorization.type != "Bearer") {
      return InvalidArgument("agent.authorization: only type Bearer is supported for remote write");
    }
    TYTO_ASSIGN_OR_RETURN(o.bearer_token, scrape::ReadSecret(env, a.authorization.credentials, a.authorization.credentials_file,
                                                     "agent.authorization.credentials_file"));
  }
  if (!a.basic_auth.username.empty()) {
    o.basic_auth_username = a.basic_auth.username;
    TYTO_ASSIGN_OR_RETURN(o.basic_auth_password, scrape::ReadSecret(env, a.basic_auth.password, a.basic_auth.password_file,
                                                            "agent.basic_auth.password_file"));
  }
  o.tls.ca_file = a.tls_config.ca_file;
  o.tls.cert_file = a.tls_config.cert_file;
  o.tls.key_file = a.tls_config.key_file;
  o.tls.server_name = a.tls_config.server_name;
  o.tls.insecure_skip_verify = a.tls_config.insecure_skip_verify;
  o.shards = static_cast<int>(a.shards);
  o.max_samples_per_send = static_cast<uint32_t>(a.max_samples_per_send);
  o.batch_send_deadline = a.batch_send_deadline;
  o.min_backoff = a.min_backoff;
  o.max_backoff = a.max_backoff;
  o.remote_timeout = a.remote_timeout;
  return o;
}

}  // namespace

Result<std::string> RemoteWriteUrl(const std::string& server) {
  if (server.empty()) {
    return InvalidArgument("no receiver to forward to: pass --server URL (e.g. http://central:9800) or set agent.server");
  }
  auto url = http::ParseUrl(server);
  if (!url.ok()) return url.status().WithContext("--server");
  if (url->path != "/") return server;
  std::string out = server;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + "/api/v1/write";
}

Agent::Agent(Overrides overrides, Env* env, Clock* clock)
    : overrides_(std::move(overrides)), env_(env), clock_(clock) {
  instrumentation::RegisterProcessMetrics(&registry_);
  forward_metrics_ = std::make_unique<forward::Metrics>(&registry_);
}

Agent::~Agent() { Shutdown(); }

Result<server::Config> Agent::ResolveConfig() const {
  server::Config cfg;
  if (overrides_.config_file) {
    TYTO_ASSIGN_OR_RETURN(cfg, server::LoadConfig(env_, *overrides_.config_file));
  }
  if (overrides_.server) cfg.agent.server = *overrides_.server;
  if (overrides_.listen) cfg.agent.listen = *overrides_.listen;
  if (overrides_.token_file) {
    cfg.agent.authorization.credentials.clear();
    cfg.agent.authorization.credentials_file = *overrides_.token_file;
  }
  if (overrides_.log_level) {
    TYTO_RETURN_IF_ERROR(log::ParseLevel(*overrides_.log_level).status().WithContext("--log-level"));
    cfg.log.level = *overrides_.log_level;
  }
  cfg.storage.data_dir = overrides_.data_dir.value_or("./agent-data");
  if (cfg.storage.data_dir.empty()) return InvalidArgument("--data-dir must not be empty");
  if (cfg.agent.transport != "nats") TYTO_RETURN_IF_ERROR(RemoteWriteUrl(cfg.agent.server).status());
  auto hp = http::ParseHostPort(cfg.agent.listen);
  if (!hp.ok()) return hp.status().WithContext("agent.listen");
  // The same rule as tyto serve's: no open door without tokens.
  server::Config exposure = cfg;
  exposure.http.listen = cfg.agent.listen;
  TYTO_RETURN_IF_ERROR(server::CheckExposure(exposure, overrides_.insecure_no_auth));
  return cfg;
}

Status Agent::Start() {
  TYTO_ASSIGN_OR_RETURN(server::Config cfg, ResolveConfig());
  log::SetLevel(*log::ParseLevel(cfg.log.level));
  const std::string& dir = cfg.storage.data_dir;
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(dir).WithContext("data directory"));

  forward::DiskQueueOptions qo;
  qo.max_bytes = cfg.agent.queue_max_size;
  qo.segment_bytes = std::min<uint64_t>(qo.segment_bytes, std::max<uint64_t>(qo.max_bytes / 8, 64 << 10));
  TYTO_ASSIGN_OR_RETURN(qo.fsync, forward::ParseFsyncMode(cfg.agent.queue_fsync));
  TYTO_ASSIGN_OR_RETURN(queue_, forward::DiskQueue::Open(env_, clock_, dir + "/queue", qo, forward_metrics_.get()));
  storage_ = std::make_unique<forward::QueueStorage>(queue_.get(), forward_metrics_.get());

  std::string url;
  if (cfg.agent.transport == "nats") {
    // The queue's records and the relay's batches go to the JetStream stream; the connection is
    // made in the background, so the agent starts (and queues) while NATS is down.
    nats_metrics_ = std::make_unique<nats::Metrics>(&registry_);
    TYTO_ASSIGN_OR_RETURN(nats_, nats::Connection::Connect(cfg.storage.nats, env_, nats_metrics_.get(),
                                                           {.name = "tyto-agent", .connect_in_background = true}));
    TYTO_ASSIGN_OR_RETURN(std::string publisher_id, nats::LoadOrCreatePublisherId(env_, dir + "/nats-publisher-id"));
    TYTO_ASSIGN_OR_RETURN(forwarder_, nats::QueueForwarder::Create(queue_.get(), nats_.get(),
                                                                   {.tenant = cfg.storage.nats.tenant,
                                                                    .publisher_id = publisher_id,
                                                                    .min_backoff = cfg.agent.min_backoff,
                                                                    .max_backoff = cfg.agent.max_backoff},
                                                                   clock_, forward_metrics_.get()));
    forwarder_->Start();
    relay_ = std::make_unique<NatsTransport>(nats_.get(), cfg.storage.nats.tenant);
    url = nats_->server();
  } else {
    TYTO_ASSIGN_OR_RETURN(forward::SenderOptions so, SenderOptionsFrom(env_, cfg.agent));
    url = so.url;
    // The telemetry relay posts to a Tyto's own ingest routes: only when agent.server names a
    // Tyto (a URL without a path), not another remote-write receiver.
    if (auto server_url = http::ParseUrl(cfg.agent.server); server_url.ok() && server_url->path == "/") {
      TYTO_ASSIGN_OR_RETURN(relay_, HttpTransport::Create({.base_url = cfg.agent.server,
                                                            .bearer_token = so.bearer_token,
                                                            .basic_auth_username = so.basic_auth_username,
                                                            .basic_auth_password = so.basic_auth_password,
                                                            .timeout = so.remote_timeout},
                                                           so.tls));
    }
    TYTO_ASSIGN_OR_RETURN(sender_, forward::Sender::Create(queue_.get(), std::move(so), clock_, forward_metrics_.get()));
    sender_->Start();
  }

  scrape_ = std::make_unique<scrape::Manager>(storage_.get(), clock_, &registry_);
  local_ = std::make_unique<server::LocalCollection>(storage_.get(), scrape_.get(), clock_, nullptr, &registry_);
  api::OpsHooks hooks;
  hooks.ready = [this] { return ready_.load(); };
  hooks.reload = [this] { return Reload(); };
  api::AddOpsRoutes(&router_, &guard_, &registry_, hooks);
  if (relay_) AddRelayRoutes(&router_, &guard_, &registry_, relay_.get());
  http_ = std::make_unique<http::Server>([this](http::Request& r) { return router_.Dispatch(r); }, &registry_,
                                         cfg.http.threads);
  TYTO_RETURN_IF_ERROR(http_->SetOptions(server::HttpOptions(cfg.http)));
  TYTO_RETURN_IF_ERROR(http_->Listen(*http::ParseHostPort(cfg.agent.listen)));
  http_->Start();
  {
    MutexLock lock(&reload_mu_);
    config_ = cfg;
  }
  TYTO_RETURN_IF_ERROR(Apply(cfg));
  ready_ = true;
  kLog.Info("Tyto agent started", {{"version", GetBuildInfo().version},
                                   {"transport", cfg.agent.transport},
                                   {"server", url},
                                   {"queue", queue_->dir()},
                                   {"listen", cfg.agent.listen},
                                   {"port", http_->port()}});
  return Status::Ok();
}

uint16_t Agent::port() const { return http_->port(); }

Status Agent::Apply(const server::Config& cfg) {
  std::vector<scrape::ScrapeConfig> jobs = cfg.scrape_configs;
  // The agent's own metrics (its queue, its sender, its collectors) travel with the data.
  scrape::ScrapeConfig self;
  self.job_name = kSelfJob;
  self.scrape_interval = std::chrono::seconds(15);
  self.scrape_timeout = std::chrono::seconds(10);
  auto hp = http::ParseHostPort(cfg.agent.listen);
  std::string host = hp.ok() ? hp->host : "127.0.0.1";
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  self.static_configs.push_back(
      {{(host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(http_->port())}, {}});
  for (const auto& j : jobs) {
    if (j.job_name == kSelfJob) {
      return InvalidArgument(std::string("scrape_configs: job_name '") + kSelfJob + "' is the agent's own");
    }
  }
  jobs.push_back(std::move(self));
  TYTO_RETURN_IF_ERROR(local_->Apply(cfg, std::move(jobs)));
  guard_.Set(server::MakeAuthenticator(cfg.auth));
  log::SetLevel(*log::ParseLevel(cfg.log.level));
  return Status::Ok();
}

api::ReloadOutcome Agent::Reload() {
  api::ReloadOutcome out;
  MutexLock lock(&reload_mu_);
  auto cfg = ResolveConfig();
  if (!cfg.ok()) {
    kLog.Error("reload failed; the running configuration stays", {{"error", cfg.status()}});
    out.status = cfg.status();
    return out;
  }
  if (Status s = Apply(*cfg); !s.ok()) {
    kLog.Error("reload failed", {{"error", s}});
    out.status = s;
    return out;
  }
  // Where and how it forwards, and the queue, are fixed for the process's life.
  if (cfg->agent.server != config_.agent.server) out.restart_required.push_back("agent.server");
  if (cfg->agent.transport != config_.agent.transport) out.restart_required.push_back("agent.transport");
  if (cfg->storage.nats != config_.storage.nats) out.restart_required.push_back("storage.nats");
  if (cfg->agent.listen != config_.agent.listen) out.restart_required.push_back("agent.listen");
  if (cfg->agent.queue_max_size != config_.agent.queue_max_size) out.restart_required.push_back("agent.queue_max_size");
  for (const std::string& k : out.restart_required) {
    kLog.Warn("changed option takes effect only after a restart", {{"key", k}});
  }
  config_ = std::move(cfg).value();
  kLog.Info("configuration reloaded");
  return out;
}

int Agent::RunUntilSignalled() {
  (void)server::WaitForStopSignal([this] { (void)Reload(); });
  Shutdown();
  return 0;
}

void Agent::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  ready_ = false;
  // Producers first, so that what they committed is in the queue before the sender's last try.
  if (local_) local_->Stop();
  scrape_.reset();
  if (http_) (void)http_->Shutdown(std::chrono::seconds(5));
  if (sender_) sender_->Stop();
  if (forwarder_) forwarder_->Stop();
  if (queue_) {
    if (Status s = queue_->Close(); !s.ok()) kLog.Error("closing the queue failed", {{"error", s}});
    kLog.Info("stopped", {{"queued_samples", queue_->Stats().unread_samples}});
  }
}

}  // namespace tyto::agent
