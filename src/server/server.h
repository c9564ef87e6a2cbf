// Server: the composition root. Builds every subsystem from the configuration, wires them
// together, and owns reload and shutdown. No other code constructs subsystems.
//
//   BlockShutdownSignals();          // first thing in main, before any thread starts
//   Server s(overrides, Env::Default(), Clock::Real());
//   if (auto st = s.Start(); !st.ok()) { ... }
//   return s.RunUntilSignalled();    // SIGHUP reloads; SIGTERM/SIGINT drain and exit
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/ops_handlers.h"
#include "api/status_handlers.h"
#include "audit/routes.h"
#include "audit/trail.h"
#include "auth/auth.h"
#include "common/mutex.h"
#include "evaluate/registry.h"
#include "events/access_log.h"
#include "events/decode_limits.h"
#include "eventstore/store.h"
#include "http/server.h"
#include "http/shield.h"
#include "inference/hub.h"
#include "inference/metrics.h"
#include "ingest/otlp_receiver.h"
#include "ingest/remote_write.h"
#include "promql/engine.h"
#include "quality/metrics.h"
#include "quality/monitor.h"
#include "redact/redactor.h"
#include "scrape/manager.h"
#include "simulate/fleet.h"
#include "instrumentation/metrics.h"
#include "server/alerting.h"
#include "server/config.h"
#include "server/local_collection.h"
#include "tenant/tenancy.h"
#include "tsdb/db.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "ui/assets.h"
#include "ui/dashboard_store.h"

namespace tyto::clickhouse {
class ClickHouseStore;
}
namespace tyto::nats {
class Connection;
class Consumer;
class KeyValueStore;
struct Metrics;
}  // namespace tyto::nats
namespace tyto::remote {
class Fanout;
class RemoteStorage;
class TeeStorage;
}  // namespace tyto::remote

namespace tyto::server {

// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread (and so in every thread it starts),
// so that RunUntilSignalled receives them with sigwait.
void BlockShutdownSignals();

// Waits for SIGHUP, SIGTERM or SIGINT (blocked by BlockShutdownSignals): calls `reload` on each
// SIGHUP, and returns the signal that asks the process to stop.
int WaitForStopSignal(const std::function<void()>& reload);

// The HTTP server's options from http: (the listen address aside), and the token checker from
// auth:, as tyto serve and tyto agent both apply them.
http::ServerOptions HttpOptions(const HttpConfig& h);
// The rate limits of the http section, as the shield in front of the routes takes them.
http::ShieldOptions ShieldOptions(const HttpConfig& h);
std::shared_ptr<const auth::Authenticator> MakeAuthenticator(const AuthConfig& a);

class Server {
 public:
  Server(Overrides overrides, Env* env, Clock* clock);
  ~Server();

  // Resolves the configuration, locks the data directory, and starts serving HTTP.
  Status Start();

  // The HTTP port actually bound (useful with port 0).
  uint16_t port() const { return http_->port(); }

  // Where metrics are kept (valid after Start): the embedded engine, or the remote store.
  Storage* storage() const { return metrics_; }

  // Every route served (valid after Start), for tests that try each one.
  std::vector<http::Router::RouteInfo> Routes() const { return router_.Routes(); }

  // Re-reads the configuration file and applies it atomically: on any error the running
  // configuration stays as it was. Updates tyto_config_last_reload_* either way.
  api::ReloadOutcome Reload() EXCLUDES(reload_mu_);

  // Waits for signals: SIGHUP reloads; SIGTERM or SIGINT shut down gracefully. Returns the
  // process exit code.
  int RunUntilSignalled();

  // Drains HTTP within http.shutdown_timeout and releases the data directory. Returns false
  // if a handler was still running at the deadline (see http::Server::Shutdown).
  bool Shutdown();

 private:
  // `restart_required` (may be null) gets the options that changed but take a restart.
  Status Apply(const Config& cfg, std::vector<std::string>* restart_required = nullptr);
  // The URL people reach this server at: http.external_url, or one made from the listen address.
  std::string ExternalUrl(const Config& cfg) const;
  // The storage engines storage.metrics, storage.events and storage.bus select (docs/scale-out.md).
  Status OpenMetricsStorage(const Config& cfg);
  Status OpenTelemetryStore(const Config& cfg);
  Status OpenBus(const Config& cfg);
  // --demo: starts the simulated fleet and writes its file_sd targets file under data_dir.
  Status StartDemoFleet(const std::string& data_dir);
  // What /api/v1/status/* read: this process, its flags, its configuration, its storage.
  api::StatusSources StatusSources();

  Overrides overrides_;
  Env* env_;
  Clock* clock_;
  instrumentation::Registry registry_;
  auth::Guard guard_;
  http::Router router_;
  // Rate limits and attack signals in front of the routes and in the guard (http/shield.h).
  std::unique_ptr<http::Shield> shield_;
  // The attack signals of HTTP access logs sent in (events/access_log.h); before hub_, which uses it.
  std::unique_ptr<events::AccessLogSignals> access_logs_;
  // The audit trail (<data_dir>/audit/): opened in Start before any route; outlives http_.
  std::unique_ptr<audit::Trail> audit_;
  std::unique_ptr<audit::RouteAuditor> route_audit_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<FileLock> data_lock_;
  // Metrics: the embedded engine db_ (null with storage.metrics: remote) or remote_metrics_; with
  // remote_write, fanout_ gets a copy of every commit (tee_ puts it beside db_).
  std::unique_ptr<tsdb::DB> db_;
  std::unique_ptr<remote::Fanout> fanout_;
  std::unique_ptr<remote::TeeStorage> tee_;
  std::unique_ptr<remote::RemoteStorage> remote_metrics_;
  Storage* metrics_ = nullptr;  // where metrics are written and read: db_, tee_ or remote_metrics_
  // Tenants: their limits, and each request's view of metrics_ (src/tenant/).
  std::unique_ptr<tenant::Limiter> tenant_limiter_;
  std::unique_ptr<tenant::Tenancy> tenancy_;
  std::unique_ptr<ingest::RemoteWriteReceiver> remote_write_;  // writes into db_
  std::unique_ptr<ingest::OtlpReceiver> otlp_;                // writes into db_
  metastore::MetadataStore metadata_;
  metastore::ExemplarStore exemplars_;
  std::unique_ptr<promql::Engine> engine_;                     // reads db_
  std::unique_ptr<scrape::Manager> scrape_;                    // writes into db_, metadata_, exemplars_
  // Inference telemetry (docs/inference.md): spans, logs and events come in through hub_, which
  // derives metrics into db_ and exemplars_, and keeps the sampled, redacted rest in event_store_.
  std::unique_ptr<eventstore::EventStore> event_store_;  // the embedded store (storage.events: embedded)
  std::unique_ptr<clickhouse::ClickHouseStore> clickhouse_;  // storage.events: clickhouse
  eventstore::TelemetryStore* telemetry_ = nullptr;          // event_store_ or clickhouse_
  // NATS (storage.bus or storage.shared_state: nats): the connection, and the durable consumer
  // that feeds agents' batches to the ingest routes with bus_secret_ (bus_ingest.h).
  std::unique_ptr<nats::Metrics> nats_metrics_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<nats::Consumer> bus_;
  std::unique_ptr<nats::KeyValueStore> shared_state_;  // storage.shared_state: nats (docs/cluster.md)
  std::string bus_secret_;
  redact::Redactor redactor_;
  events::DecodeLimits decode_limits_;
  std::unique_ptr<inference::Metrics> inference_metrics_;
  // Model quality (docs/quality.md): fed by hub_ with every request; its evaluator plugins.
  evaluate::Registry evaluators_;
  std::unique_ptr<quality::Metrics> quality_metrics_;
  std::unique_ptr<quality::QualityMonitor> quality_;
  // The key file's keys (security.encryption_key_file) for the stores; null: nothing encrypted.
  std::shared_ptr<const crypto::FieldEncryption> encryption_;
  std::unique_ptr<inference::Hub> hub_;
  std::unique_ptr<simulate::Fleet> demo_fleet_;                // --demo only; scraped by scrape_
  // Built-in collectors and discovered inference servers; writes into db_, metadata_ (and
  // through scrape_).
  std::unique_ptr<LocalCollection> local_;
  // Rules, notification, incidents, playbooks and anomaly detection (server/alerting.h); reads
  // engine_ and db_, writes db_.
  std::unique_ptr<Alerting> alerting_;
  // The web UI (docs/ui-server.md): dashboards (built-in, ui.dashboards files, imported into
  // data_dir/ui/dashboards) and the UI's files (embedded, or ui.assets_dir after Apply).
  std::unique_ptr<ui::DashboardStore> dashboards_;
  Mutex ui_mu_;
  std::shared_ptr<const ui::UiAssets> ui_assets_ GUARDED_BY(ui_mu_);
  std::string demo_targets_file_;
  std::string demo_secret_;  // --demo: the write token its inference traffic sends to this server
  std::atomic<bool> ready_{false};
  // The scale-out engines in use and how to ask each whether it answers (/-/ready); set in Start.
  std::vector<std::pair<std::string, std::function<Status()>>> dependency_checks_;
  int64_t start_time_ms_ = 0;

  instrumentation::Gauge& reload_ok_;
  instrumentation::Gauge& reload_time_;

  Mutex reload_mu_;
  Config config_ GUARDED_BY(reload_mu_);
};

}  // namespace tyto::server
