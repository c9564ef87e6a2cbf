// `tyto agent`: runs on each node of a fleet, collects (the built-in collectors, scrape jobs,
// discovered inference servers) and forwards everything by remote write to a central Tyto or
// any remote-write receiver, through an on-disk queue so that an outage of the receiver loses
// nothing that fits in the queue and a restart of the agent sends nothing twice.
//
//   collectors ─┐
//   scrapes ────┼─> forward::QueueStorage ─> forward::DiskQueue (<data-dir>/queue) ─> forward::Sender ─> receiver
//   discovery ──┘
//
// Its own /metrics (the queue and the sender: tyto_agent_*; the collectors: tyto_collector_*;
// the scrapes) is served on agent.listen and scraped into the queue too, as job "tyto_agent".
//
// Usage, as tyto serve's (server/server.h):
//   server::BlockShutdownSignals();
//   Agent a(overrides, Env::Default(), Clock::Real());
//   if (Status s = a.Start(); !s.ok()) ...
//   return a.RunUntilSignalled();
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "api/ops_handlers.h"
#include "auth/auth.h"
#include "common/mutex.h"
#include "http/router.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "scrape/manager.h"
#include "server/config.h"
#include "server/local_collection.h"
#include "tyto/clock.h"
#include "tyto/env.h"

namespace tyto::forward {
class DiskQueue;
class QueueStorage;
class Sender;
struct Metrics;
}  // namespace tyto::forward

namespace tyto::nats {
class Connection;
class QueueForwarder;
struct Metrics;
}  // namespace tyto::nats

namespace tyto::agent {

class TelemetryTransport;

struct Overrides {
  std::optional<std::string> config_file;
  std::optional<std::string> server;      // agent.server
  std::optional<std::string> data_dir;    // where the queue lives (default ./agent-data)
  std::optional<std::string> listen;      // agent.listen
  std::optional<std::string> log_level;   // log.level
  std::optional<std::string> token_file;  // agent.authorization.credentials_file
  bool insecure_no_auth = false;          // serve /metrics on a non-loopback address without tokens
};

// The remote-write URL the agent posts to: `server` as given, with /api/v1/write added when it
// has no path (so "--server http://central:9800" reaches a Tyto). kInvalidArgument, naming it,
// for a URL that does not parse.
Result<std::string> RemoteWriteUrl(const std::string& server);

class Agent {
 public:
  Agent(Overrides overrides, Env* env, Clock* clock);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Reads the configuration, opens the queue (locking it), starts forwarding, collecting,
  // scraping and serving /metrics.
  Status Start();
  uint16_t port() const;

  // SIGHUP re-reads the configuration (scrape jobs, collectors); SIGTERM or SIGINT stop.
  // Returns the process exit code.
  int RunUntilSignalled();

  // Stops collecting and scraping, then the sender (a batch answered in time is acknowledged,
  // the rest stays queued for the next start), then syncs and closes the queue. Idempotent.
  void Shutdown();

 private:
  Result<server::Config> ResolveConfig() const;
  // Applies what may change while running: scrape jobs and collectors.
  Status Apply(const server::Config& cfg);
  api::ReloadOutcome Reload();

  Overrides overrides_;
  Env* env_;
  Clock* clock_;
  instrumentation::Registry registry_;
  std::unique_ptr<forward::Metrics> forward_metrics_;
  std::unique_ptr<forward::DiskQueue> queue_;
  std::unique_ptr<forward::QueueStorage> storage_;  // writes into queue_
  // agent.transport: nats: the connection (before its users, so destroyed after them).
  std::unique_ptr<nats::Metrics> nats_metrics_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<forward::Sender> sender_;           // reads queue_ (transport remote_write)
  std::unique_ptr<nats::QueueForwarder> forwarder_;   // reads queue_ (transport nats)
  // Where the telemetry relay (relay.h) hands traces, logs and events; null: no relay.
  std::unique_ptr<TelemetryTransport> relay_;
  std::unique_ptr<scrape::Manager> scrape_;         // writes into storage_
  std::unique_ptr<server::LocalCollection> local_;  // collectors and discovery; writes into storage_
  auth::Guard guard_;
  http::Router router_;
  std::unique_ptr<http::Server> http_;
  std::atomic<bool> ready_{false};
  bool stopped_ = false;

  Mutex reload_mu_;
  server::Config config_ GUARDED_BY(reload_mu_);
};

}  // namespace tyto::agent
