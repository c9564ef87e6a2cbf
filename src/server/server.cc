#include "server/server.h"

#include "clickhouse/store.h"
#include "nats/connection.h"
#include "nats/consumer.h"
#include "nats/kv_store.h"
#include "nats/metrics.h"
#include "remote/fanout.h"
#include "remote/remote_storage.h"
#include "remote/tee_storage.h"
#include "server/bus_ingest.h"

#include <signal.h>
#include <sys/resource.h>
#include <strings.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "api/audit_handlers.h"
#include "api/otlp_handler.h"
#include "api/quality_handlers.h"
#include "api/query_handlers.h"
#include "api/remote_write_handler.h"
#include "api/rules_handlers.h"
#include "api/series_handlers.h"
#include "api/metastore_handlers.h"
#include "api/syntax_handlers.h"
#include "api/targets_handler.h"
#include "api/telemetry_ingest_handlers.h"
#include "api/telemetry_query_handlers.h"
#include "api/ui_handlers.h"
#include "common/build_info.h"
#include "common/log.h"
#include "crypto/field_encryption.h"
#include "common/units.h"
#include "judge/judge.h"

namespace tyto::server {
namespace {

const log::Logger kLog("server");

tsdb::HeadOptions HeadOptionsFrom(const StorageConfig& s) {
  tsdb::HeadOptions o;
  o.fsync = s.wal_fsync == "always" ? tsdb::FsyncPolicy::kAlways
            : s.wal_fsync == "never" ? tsdb::FsyncPolicy::kNever
                                     : tsdb::FsyncPolicy::kInterval;
  o.fsync_interval = s.wal_fsync_interval;
  o.out_of_order_window = s.out_of_order_window;
  o.max_series = s.max_series;
  o.max_series_per_metric = s.max_series_per_metric;
  o.max_label_count = static_cast<uint32_t>(s.max_label_count);
  o.max_label_name_bytes = static_cast<uint32_t>(s.max_label_name_bytes);
  o.max_label_value_bytes = static_cast<uint32_t>(s.max_label_value_bytes);
  return o;
}

bool SameStorageOptions(const StorageConfig& a, const StorageConfig& b) {
  return a.retention == b.retention && a.retention_5m == b.retention_5m && a.retention_1h == b.retention_1h &&
         a.retention_size == b.retention_size && a.wal_fsync == b.wal_fsync && a.wal_fsync_interval == b.wal_fsync_interval &&
         a.out_of_order_window == b.out_of_order_window && a.max_series == b.max_series &&
         a.max_series_per_metric == b.max_series_per_metric && a.max_label_count == b.max_label_count &&
         a.max_label_name_bytes == b.max_label_name_bytes && a.max_label_value_bytes == b.max_label_value_bytes &&
         a.events == b.events && a.metrics == b.metrics && a.bus == b.bus && a.shared_state == b.shared_state &&
         a.clickhouse == b.clickhouse && a.nats == b.nats;
}

// remote_write destinations (their queues and senders are opened at start) and storage.remote_query.
bool SameRemoteStorage(const Config& a, const Config& b) {
  if (a.remote_write.size() != b.remote_write.size()) return false;
  for (size_t i = 0; i < a.remote_write.size(); ++i) {
    const remote::RemoteWriteConfig& x = a.remote_write[i];
    const remote::RemoteWriteConfig& y = b.remote_write[i];
    if (x.url != y.url || remote::QueueName(x) != remote::QueueName(y)) return false;
  }
  return a.storage.remote_query.query_url == b.storage.remote_query.query_url;
}

// The head's statistics as /api/v1/status/tsdb ranks them: every label pair with its series.
api::HeadCardinality CardinalityOf(const tsdb::HeadStats& st) {
  api::HeadCardinality c;
  c.num_series = st.series;
  c.min_time = st.min_time;
  c.max_time = st.max_time;
  c.pairs.reserve(st.series_by_label_pair.size());
  for (const auto& [pair, series] : st.series_by_label_pair) {
    // "name=value": label names hold no '=' in practice (Prometheus's legacy names cannot), so
    // the first one ends the name.
    const size_t eq = pair.find('=');
    c.pairs.push_back({pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1), series});
  }
  return c;
}

// A server holding thousands of connections needs more descriptors than the usual soft limit.
void RaiseFileLimit() {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

http::ShieldOptions ShieldOptions(const HttpConfig& h) {
  auto limit = [](double rate, double burst) {
    return http::RateLimit{rate, burst > 0 ? burst : std::max(1.0, 2 * rate)};
  };
  http::ShieldOptions o;
  o.per_address = limit(h.rate_limit_per_address, h.rate_limit_per_address_burst);
  o.per_token = limit(h.rate_limit_per_token, h.rate_limit_per_token_burst);
  o.auth_failures = limit(h.auth_failures_per_address, h.auth_failures_per_address_burst);
  return o;
}

http::ServerOptions HttpOptions(const HttpConfig& h) {
  http::ServerOptions o;
  o.read_timeout = h.read_timeout;
  o.write_timeout = h.write_timeout;
  o.idle_timeout = h.idle_timeout;
  o.header_timeout = h.header_timeout;
  o.min_body_rate = h.min_body_rate;
  o.max_connections_per_address = static_cast<uint64_t>(h.max_connections_per_address);
  o.max_header_bytes = h.max_header_bytes;
  o.max_body_bytes = h.max_body_bytes;
  o.max_connections = static_cast<uint64_t>(h.max_connections);
  o.max_streams = static_cast<uint64_t>(h.max_streams);
  o.gzip = h.gzip;
  o.tls_cert_file = h.tls.cert_file;
  o.tls_key_file = h.tls.key_file;
  return o;
}

std::shared_ptr<const auth::Authenticator> MakeAuthenticator(const AuthConfig& a) {
  std::vector<auth::Token> tokens;
  for (const TokenConfig& t : a.tokens) {
    std::vector<auth::Scope> scopes;
    for (const std::string& s : t.scopes) scopes.push_back(*auth::ParseScope(s));  // validated
    auth::Token token{t.name, t.secret_sha256, auth::EffectiveScopes(scopes)};
    if (!t.role.empty()) token.scopes |= *auth::RoleScopes(t.role);  // validated
    token.tenants = t.tenants;
    for (const auto& [tenant, role] : t.roles) token.tenant_scopes.emplace_back(tenant, *auth::RoleScopes(role));
    tokens.push_back(std::move(token));
  }
  // Keys that could not be read leave a verifier that refuses every JWT: never open by mistake.
  std::shared_ptr<const auth::JwtVerifier> jwt;
  if (!a.jwt.public_key_files.empty()) {
    auth::JwtOptions o;
    o.keys = a.jwt.keys;
    o.issuer = a.jwt.issuer;
    o.audience = a.jwt.audience;
    o.tenant_claim = a.jwt.tenant_claim;
    o.role_claim = a.jwt.role_claim;
    o.scopes_claim = a.jwt.scopes_claim;
    o.name_claim = a.jwt.name_claim;
    o.leeway = std::chrono::duration_cast<std::chrono::seconds>(a.jwt.leeway);
    o.allow_any_tenant = a.jwt.allow_any_tenant;
    jwt = std::make_shared<const auth::JwtVerifier>(std::move(o));
  }
  return std::make_shared<const auth::Authenticator>(std::move(tokens), std::move(jwt));
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Server::Server(Overrides overrides, Env* env, Clock* clock)
    : overrides_(std::move(overrides)),
      env_(env),
      clock_(clock),
      reload_ok_(registry_
                     .AddGauge("tyto_config_last_reload_successful",
                               "Whether the last configuration reload attempt was successful.")
                     .WithLabels({})),
      reload_time_(registry_
                       .AddGauge("tyto_config_last_reload_success_timestamp_seconds",
                                 "Timestamp of the last successful configuration reload.")
                       .WithLabels({})) {
  const BuildInfo& b = GetBuildInfo();
  registry_.AddGauge("tyto_build_info", "A metric with a constant '1' value labeled by version, revision and compiler.",
                     {"version", "revision", "compiler"})
      .WithLabels({b.version, b.revision, b.compiler})
      .Set(1);
  instrumentation::RegisterProcessMetrics(&registry_);
  shield_ = std::make_unique<http::Shield>(&registry_, clock_);
  guard_.SetShield(shield_.get());
  api::AddOpsRoutes(&router_, &guard_, &registry_,
                    {.ready = [this] { return ready_.load(); },
                     .dependencies =
                         [this] {
                           // Filled in Start, before the listener opens; read-only afterwards.
                           std::vector<api::DependencyHealth> out;
                           for (const auto& [name, check] : dependency_checks_) out.push_back({name, check()});
                           return out;
                         },
                     .reload = [this] { return Reload(); },
                     .flush = [this]() -> Result<api::FlushOutcome> {
                       if (!db_) return FailedPrecondition("the storage is not open");
                       api::FlushOutcome out;
                       TYTO_ASSIGN_OR_RETURN(out.blocks_written, db_->Flush());
                       TYTO_ASSIGN_OR_RETURN(out.compactions, db_->Compact());
                       return out;
                     }});
}

Server::~Server() { Shutdown(); }

Status Server::Start() {
  RaiseFileLimit();
  TYTO_ASSIGN_OR_RETURN(Config cfg, ResolveConfig(env_, overrides_));

  TYTO_RETURN_IF_ERROR(env_->CreateDirs(cfg.storage.data_dir).WithContext("data directory"));
  TYTO_ASSIGN_OR_RETURN(data_lock_, env_->LockFile(cfg.storage.data_dir + "/lock"));
  // The audit trail before anything that acts: a log that cannot be opened (or was cut) stops
  // the start, naming why (docs/format/audit.md).
  TYTO_ASSIGN_OR_RETURN(audit_, audit::Trail::Open(env_, cfg.storage.data_dir + "/audit", clock_, &registry_));
  route_audit_ = std::make_unique<audit::RouteAuditor>(audit_.get());
  audit_->Record({.action = "server.start", .details = {{"version", std::string(GetBuildInfo().version)}}});
  api::AddAuditRoutes(&router_, &guard_, audit_.get());
  TYTO_RETURN_IF_ERROR(OpenMetricsStorage(cfg));
  // Routes that need the storage are added once it is open, before the network threads start.
  // With no limits configured it checks nothing (Limiter::any); Apply sets them, at start and at
  // every reload.
  tenant_limiter_ = std::make_unique<tenant::Limiter>(std::map<std::string, tenant::TenantLimits>{},
                                                      tenant::TenantLimits{}, clock_);
  tenancy_ = std::make_unique<tenant::Tenancy>(metrics_, tenant_limiter_.get());
  remote_write_ = std::make_unique<ingest::RemoteWriteReceiver>(metrics_, ingest::RemoteWriteOptions{}, &registry_);
  api::AddRemoteWriteRoutes(&router_, &guard_, &registry_, remote_write_.get(), tenancy_.get());
  otlp_ = std::make_unique<ingest::OtlpReceiver>(metrics_, ingest::OtlpOptions{}, &registry_);
  api::AddOtlpRoutes(&router_, &guard_, &registry_, otlp_.get(), tenancy_.get());
  scrape_ = std::make_unique<scrape::Manager>(metrics_, clock_, &registry_, scrape::Sinks{&metadata_, &exemplars_});
  local_ = std::make_unique<LocalCollection>(metrics_, scrape_.get(), clock_, &metadata_, &registry_);
  api::AddTargetsRoutes(&router_, &guard_, scrape_.get());
  api::AddMetastoreRoutes(&router_, &guard_, &metadata_, &exemplars_);
  api::AddSeriesRoutes(&router_, &guard_, tenancy_.get());
  promql::EngineOptions eo;
  eo.lookback_delta = cfg.query.lookback_delta;
  eo.timeout = cfg.query.timeout;
  eo.max_samples = cfg.query.max_samples;
  eo.max_concurrency = static_cast<int>(cfg.query.max_concurrency);
  engine_ = std::make_unique<promql::Engine>(metrics_, eo);
  api::AddQueryRoutes(&router_, &guard_, engine_.get(), tenancy_.get(), clock_);
  api::AddSyntaxRoutes(&router_, &guard_);
  // Inference telemetry: the event store, the redactor, and the hub between them and db_.
  TYTO_ASSIGN_OR_RETURN(redactor_, redact::Redactor::Create(cfg.redaction));
  TYTO_RETURN_IF_ERROR(OpenTelemetryStore(cfg));
  // The embedded store keeps each tenant's bytes as it writes (a lookup per partition);
  // ClickHouse sums them with a scan, so it is asked less often.
  tenant_limiter_->SetStorageUsage([store = telemetry_](std::string_view t) { return store->StoredBytes(t); },
                                   clickhouse_ != nullptr ? std::chrono::milliseconds(30'000)
                                                          : std::chrono::milliseconds(100));
  inference_metrics_ = std::make_unique<inference::Metrics>(&registry_);
  evaluate::RegisterBuiltins(&evaluators_);
  judge::RegisterJudge(&evaluators_);
  quality_metrics_ = std::make_unique<quality::Metrics>(&registry_);
  quality::QualityConfig quality_config = cfg.quality;
  if (overrides_.demo && quality_config == quality::QualityConfig()) {
    // The demo's scenario drifts at 15 minutes and drops in quality at 25 to 40: short windows
    // show both (an hour's baseline would swallow the drift, a day of feedback the drop).
    quality_config.drift.window = std::chrono::minutes(5);
    quality_config.ground_truth.window = std::chrono::minutes(5);
    quality_config.ground_truth.segment_feature = "region";
  }
  TYTO_ASSIGN_OR_RETURN(quality_, quality::QualityMonitor::Open(quality_config, {.dir = cfg.storage.data_dir + "/quality",
                                                                             .env = env_,
                                                                             .store = telemetry_,
                                                                             .redactor = &redactor_,
                                                                             .registry = &evaluators_,
                                                                             .metrics = quality_metrics_.get(),
                                                                             .clock = clock_,
                                                                             .encryption = encryption_}));
  quality_->Start();
  inference::InferenceConfig inference_config = cfg.inference;
  if (overrides_.demo && inference_config.cost == inference::CostConfig()) {
    // The demo's illustrative prices (USD), so its cost panels have something to show; a real
    // deployment sets inference.cost in tyto.yml.
    inference_config.cost.models = {{"meta-llama/Llama-3.1-70B-Instruct", 0.00088, 0.00088},
                                     {"intent-router", 0.0001, 0.0001},
                                     {"escalation-classifier", 0.0001, 0.0001}};
    inference_config.cost.default_gpu_per_hour = 2.49;
  }
  access_logs_ = std::make_unique<events::AccessLogSignals>(&registry_);
  hub_ = std::make_unique<inference::Hub>(
      inference_config, inference::HubDeps{.metrics_storage = metrics_,
                                        .store = telemetry_,
                                        .redactor = &redactor_,
                                        .exemplars = &exemplars_,
                                        .metadata = &metadata_,
                                        .metrics = inference_metrics_.get(),
                                        .clock = clock_,
                                        .observer = quality_.get(),
                                        .access_logs = access_logs_.get()});
  hub_->Start();
  api::AddTelemetryIngestRoutes(&router_, &guard_, &registry_, hub_.get(), inference_metrics_.get(), &decode_limits_,
                                clock_, tenant_limiter_.get());
  api::AddTelemetryQueryRoutes(&router_, &guard_, telemetry_, hub_.get(), metrics_, clock_, quality_->ground_truth());
  api::AddQualityRoutes(&router_, &guard_, quality_.get(), &evaluators_, &decode_limits_, clock_);
  // NATS: the shared state alerting coordinates through, and the consumer (started with the rest).
  TYTO_RETURN_IF_ERROR(OpenBus(cfg));
  // Alerting reads the deployments the hub tracks (rollback steps).
  inference::Hub* hub = hub_.get();
  TYTO_ASSIGN_OR_RETURN(
      alerting_,
      Alerting::Open(cfg, AlertingDeps{.env = env_,
                                       .clock = clock_,
                                       .storage = metrics_,
                                       .engine = engine_.get(),
                                       .registry = &registry_,
                                       .data_dir = cfg.storage.data_dir,
                                       .external_url = ExternalUrl(cfg),
                                       .deployment_lookup = [hub](const std::string& model)
                                           -> std::optional<std::pair<std::string, std::string>> {
                                         for (const events::DeploymentEvent& d : hub->deployments().Current()) {
                                           if (d.model == model) return std::make_pair(d.version, d.previous_version);
                                         }
                                         return std::nullopt;
                                       },
                                       .shared_state = shared_state_.get(),
                                       .self_address = cfg.http.listen,
                                       .limiter = tenant_limiter_.get()}));
  alerting_->AddRoutes(&router_, &guard_);
  dashboards_ = std::make_unique<ui::DashboardStore>(env_, cfg.storage.data_dir + "/ui/dashboards");
  TYTO_RETURN_IF_ERROR(dashboards_->Open().WithContext("imported dashboards"));
  dashboards_->SetBuiltin(ui::BuiltinDashboards());
  {
    api::UiSources ui_sources;
    ui_sources.dashboards = dashboards_.get();
    ui_sources.assets = [this] {
      MutexLock lock(&ui_mu_);
      return ui_assets_;
    };
    alerting_->FillUiSources(&ui_sources);
    ui_sources.clock = clock_;
    api::AddUiRoutes(&router_, &guard_, std::move(ui_sources));
  }
  start_time_ms_ = clock_->NowMillis();
  api::AddStatusRoutes(&router_, &guard_, StatusSources());
  if (overrides_.demo) TYTO_RETURN_IF_ERROR(StartDemoFleet(cfg.storage.data_dir));

  http_ = std::make_unique<http::Server>(
      [this](http::Request& r) {
        http::Response resp = shield_->Serve(r, [this](http::Request& q) { return router_.Dispatch(q); });
        route_audit_->Observe(r, resp);
        return resp;
      },
      &registry_,
                                         cfg.http.threads);
  TYTO_RETURN_IF_ERROR(Apply(cfg));
  TYTO_RETURN_IF_ERROR(http_->Listen(*http::ParseHostPort(cfg.http.listen)));
  http_->Start();
  alerting_->Start();
  if (bus_) bus_->Start();  // after the routes it posts to are served
  if (demo_fleet_) {
    // The demo fleet's inference traffic goes to this server's own listener, with the internal
    // token Apply adds when auth is on (over TLS to its own certificate, not verified).
    std::string host = http::ParseHostPort(cfg.http.listen)->host;
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    simulate::TrafficSenderOptions sender;
    sender.base_url = std::string(cfg.http.tls.cert_file.empty() ? "http://" : "https://") + host + ":" +
                      std::to_string(http_->port());
    sender.bearer_token = demo_secret_;
    sender.tls.insecure_skip_verify = true;
    TYTO_RETURN_IF_ERROR(demo_fleet_->StartTraffic({}, std::move(sender)).WithContext("demo inference traffic"));
  }
  {
    MutexLock lock(&reload_mu_);
    config_ = cfg;
  }
  reload_ok_.Set(1);
  reload_time_.Set(static_cast<double>(clock_->NowMillis()) / 1000.0);
  ready_ = true;
  const BuildInfo& b = GetBuildInfo();
  kLog.Info("Tyto started", {{"version", b.version},
                             {"listen", cfg.http.listen},
                             {"port", http_->port()},
                             {"tls", !cfg.http.tls.cert_file.empty()},
                             {"auth", cfg.auth.enabled()},
                             {"data_dir", cfg.storage.data_dir}});
  if (!cfg.auth.enabled() && overrides_.insecure_no_auth) {
    auto hp = http::ParseHostPort(cfg.http.listen);
    if (hp.ok() && !http::IsLoopbackHost(hp->host)) {
      kLog.Warn("serving without authentication on a non-loopback address (--insecure-no-auth): "
                "anyone who can reach it can read and write all data",
                {{"listen", cfg.http.listen}});
    }
  }
  return Status::Ok();
}

Status Server::OpenMetricsStorage(const Config& cfg) {
  // remote_write: every destination gets a copy of what is ingested, through its own disk queue.
  if (!cfg.remote_write.empty()) {
    TYTO_ASSIGN_OR_RETURN(fanout_, remote::Fanout::Open(env_, clock_, cfg.storage.data_dir, cfg.remote_write, &registry_));
  }
  if (cfg.storage.metrics == "remote") {
    // No metrics state here: queries read the remote store, writes go out through the fan-out.
    TYTO_ASSIGN_OR_RETURN(remote_metrics_,
                          remote::RemoteStorage::Create(env_, cfg.storage.remote_query, fanout_.get(), &registry_));
    metrics_ = remote_metrics_.get();
    dependency_checks_.emplace_back("remote_metrics", [r = remote_metrics_.get()] { return r->Health(); });
  } else {
    // Opens the blocks and replays the WAL; the server reports ready only after this.
    tsdb::DBOptions db_options;
    db_options.head = HeadOptionsFrom(cfg.storage);
    db_options.retention = cfg.storage.retention;
    db_options.retention_5m = cfg.storage.retention_5m;
    db_options.retention_1h = cfg.storage.retention_1h;
    db_options.retention_bytes = cfg.storage.retention_size;
    TYTO_ASSIGN_OR_RETURN(db_, tsdb::DB::Open(env_, cfg.storage.data_dir, db_options, &registry_));
    db_->StartBackground(std::chrono::minutes(1));
    metrics_ = db_.get();
    if (fanout_) {
      tee_ = std::make_unique<remote::TeeStorage>(db_.get(), fanout_.get());
      metrics_ = tee_.get();
    }
  }
  if (fanout_) fanout_->Start();
  return Status::Ok();
}

Status Server::OpenTelemetryStore(const Config& cfg) {
  TYTO_ASSIGN_OR_RETURN(encryption_, crypto::LoadEncryption(cfg.security));
  if (encryption_ == nullptr) {
    kLog.Warn("security.encryption_key_file is not set: prompts, responses and sensitive attributes are stored "
              "unencrypted (tyto key generate; docs/security.md)");
  } else {
    kLog.Info("prompts, responses and sensitive attributes are encrypted at rest",
              {{"key_file", cfg.security.encryption_key_file}, {"key_id", encryption_->keyring().current().id}});
  }
  if (cfg.storage.events == "clickhouse") {
    TYTO_ASSIGN_OR_RETURN(clickhouse_, clickhouse::ClickHouseStore::Open(cfg.storage.clickhouse, env_, clock_,
                                                                         &registry_, encryption_));
    clickhouse_->StartBackground();
    telemetry_ = clickhouse_.get();
    dependency_checks_.emplace_back("clickhouse", [c = clickhouse_.get()] { return c->Health(); });
    return Status::Ok();
  }
  eventstore::EventStoreOptions store_options = eventstore::ToOptions(cfg.event_store);
  store_options.encryption = encryption_;
  TYTO_ASSIGN_OR_RETURN(event_store_,
                        eventstore::EventStore::Open(env_, clock_, eventstore::StoreDir(cfg.storage.data_dir, cfg.event_store),
                                                     store_options, &registry_));
  event_store_->StartBackground(std::chrono::minutes(1));
  telemetry_ = event_store_.get();
  return Status::Ok();
}

Status Server::OpenBus(const Config& cfg) {
  if (cfg.storage.bus != "nats" && cfg.storage.shared_state != "nats") return Status::Ok();
  nats_metrics_ = std::make_unique<nats::Metrics>(&registry_);
  TYTO_ASSIGN_OR_RETURN(nats_, nats::Connection::Connect(cfg.storage.nats, env_, nats_metrics_.get()));
  dependency_checks_.emplace_back("nats", [n = nats_.get()] { return n->Health(); });
  if (cfg.storage.shared_state == "nats") {
    TYTO_ASSIGN_OR_RETURN(shared_state_, nats::KeyValueStore::Open(nats_.get()));
    dependency_checks_.emplace_back("shared_state", [kv = shared_state_.get()] { return kv->Health(); });
  }
  if (cfg.storage.bus == "nats") {
    TYTO_RETURN_IF_ERROR(nats_->EnsureStream().WithContext("storage.nats.stream"));
    // Each batch goes through the HTTP ingest handlers with the internal token (Apply adds it
    // when auth is on); the consumer acknowledges it once they answered 2xx (stored).
    bus_secret_ = auth::NewSecret();
    TYTO_ASSIGN_OR_RETURN(bus_, nats::Consumer::Create(nats_.get(), [this](const nats::Message& m) {
                            const bool auth_on = guard_.Get()->enabled();
                            BusMessage b;
                            b.kind = nats::KindName(m.kind);
                            b.content_type = m.content_type;
                            b.content_encoding = m.content_encoding;
                            b.body = m.payload;
                            b.source = "nats:" + (m.id.empty() ? "seq:" + std::to_string(m.stream_sequence)
                                                               : std::string(m.id));
                            b.first_delivery = m.deliveries <= 1;
                            b.received_ms = m.stored_ms;
                            b.tenant = std::string(m.tenant);
                            return DispatchIngest(router_, auth_on ? bus_secret_ : std::string(), std::move(b));
                          }));
  }
  return Status::Ok();
}

// Applies the parts of a configuration that can change while running. The HTTP options go
// first because they can fail (TLS files); nothing else changes if they do.
std::string Server::ExternalUrl(const Config& cfg) const {
  if (!cfg.http.external_url.empty()) {
    std::string u = cfg.http.external_url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }
  std::string host = "127.0.0.1";
  std::string port = "9800";
  if (auto hp = http::ParseHostPort(cfg.http.listen); hp.ok()) {
    if (!hp->host.empty() && hp->host != "0.0.0.0" && hp->host != "::") host = hp->host;
    port = std::to_string(hp->port);
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(cfg.http.tls.cert_file.empty() ? "http://" : "https://") + host + ":" + port;
}

Status Server::Apply(const Config& cfg, std::vector<std::string>* restart_required) {
  // Rule, alertmanager and playbook files are read and checked before anything changes.
  TYTO_ASSIGN_OR_RETURN(std::shared_ptr<Alerting::Prepared> alerting, alerting_->Prepare(cfg));
  // The UI's files and dashboard files, read and checked before anything changes.
  std::shared_ptr<const ui::UiAssets> assets = ui::UiAssets::Embedded();
  if (!cfg.ui.assets_dir.empty()) {
    TYTO_ASSIGN_OR_RETURN(assets, ui::UiAssets::FromDirectory(env_, cfg.ui.assets_dir));
  }
  TYTO_ASSIGN_OR_RETURN(std::vector<ui::Dashboard> dashboard_files, ui::LoadDashboardFiles(cfg.ui.dashboards, env_));
  TYTO_RETURN_IF_ERROR(http_->SetOptions(HttpOptions(cfg.http)));
  shield_->SetOptions(ShieldOptions(cfg.http));
  std::vector<scrape::ScrapeConfig> jobs = cfg.scrape_configs;
  if (demo_fleet_) {
    // The demo fleet's endpoints, from the file_sd file it wrote; each group names its job.
    scrape::ScrapeConfig demo;
    demo.job_name = "demo";
    demo.scrape_interval = std::chrono::seconds(5);
    demo.scrape_timeout = std::chrono::seconds(5);
    demo.file_sd_configs = {{{demo_targets_file_}, std::chrono::minutes(5)}};
    jobs.push_back(std::move(demo));
  }
  TYTO_RETURN_IF_ERROR(local_->Apply(cfg, std::move(jobs)));
  AuthConfig auth = cfg.auth;
  if (demo_fleet_ && auth.enabled()) {
    auth.tokens.push_back({"demo-traffic", auth::HashSecret(demo_secret_), {"write"}});  // in memory only
  }
  if (bus_ && auth.enabled()) {
    // In memory only; acts for the tenant of each message's subject (X-Scope-OrgID).
    auth.tokens.push_back({"nats-bus", auth::HashSecret(bus_secret_), {"write"}, "", {"*"}, {}});
  }
  guard_.Set(MakeAuthenticator(auth));
  {
    std::map<std::string, tenant::TenantLimits> limits;
    for (const tenant::TenantConfig& t : cfg.tenants) limits[t.name] = t.limits;
    tenant_limiter_->SetLimits(std::move(limits), cfg.tenant_defaults);
  }
  if (telemetry_ != nullptr) {
    eventstore::OrgRetention retention;  // events, spans and logs per tenant (tenants[].retention)
    for (const tenant::TenantConfig& t : cfg.tenants) {
      if (t.retention.count() > 0) retention[t.name] = t.retention;
    }
    telemetry_->SetOrgRetention(std::move(retention));
  }
  log::SetLevel(*log::ParseLevel(cfg.log.level));
  alerting_->Commit(cfg, std::move(alerting), restart_required);
  dashboards_->SetFiles(std::move(dashboard_files));
  {
    MutexLock lock(&ui_mu_);
    ui_assets_ = std::move(assets);
  }
  return Status::Ok();
}

api::StatusSources Server::StatusSources() {
  api::StatusSources s;
  s.runtime = [this] {
    api::RuntimeInfo r;
    r.start_time_ms = start_time_ms_;
    char buf[4096];
    if (::getcwd(buf, sizeof(buf)) != nullptr) r.cwd = buf;
    if (::gethostname(buf, sizeof(buf)) == 0) r.hostname = std::string(buf, strnlen(buf, sizeof(buf)));
    r.server_time_ms = clock_->NowMillis();
    r.reload_config_success = reload_ok_.Value() == 1;
    r.last_config_time_ms = static_cast<int64_t>(reload_time_.Value() * 1000);
    r.corruption_count = db_ && !db_->head()->replay_stats().repaired.empty() ? 1 : 0;
    if (auto tasks = env_->ListDir("/proc/self/task"); tasks.ok()) r.thread_count = static_cast<int64_t>(tasks->size());
    r.cpu_count = static_cast<int64_t>(std::thread::hardware_concurrency());
    MutexLock lock(&reload_mu_);
    const StorageConfig& st = config_.storage;
    if (st.retention.count() > 0) r.storage_retention = FormatDuration(st.retention);
    if (st.retention_size > 0) {
      r.storage_retention += (r.storage_retention.empty() ? "" : " or ") + FormatByteSize(st.retention_size);
    }
    return r;
  };
  s.flags = {{"config", overrides_.config_file.value_or("")},
             {"data-dir", overrides_.data_dir.value_or("")},
             {"demo", overrides_.demo ? "true" : "false"},
             {"insecure-no-auth", overrides_.insecure_no_auth ? "true" : "false"},
             {"listen", overrides_.listen.value_or("")},
             {"log-level", overrides_.log_level.value_or("")}};
  s.config_yaml = [this] {
    MutexLock lock(&reload_mu_);
    return ConfigYaml(config_);
  };
  s.head = [this]() -> Result<api::HeadCardinality> {
    if (!db_) return FailedPrecondition("the storage is not open");
    return CardinalityOf(db_->head()->Stats(SIZE_MAX));
  };
  return s;
}

Status Server::StartDemoFleet(const std::string& data_dir) {
  simulate::FleetOptions options;
  options.scenario = simulate::DefaultScenario(options.nodes, options.gpus_per_node);
  TYTO_ASSIGN_OR_RETURN(demo_fleet_, simulate::Fleet::Create(options, clock_));
  demo_secret_ = auth::NewSecret();
  TYTO_RETURN_IF_ERROR(demo_fleet_->Start().WithContext("starting the demo fleet"));
  demo_targets_file_ = data_dir + "/demo-targets.json";
  TYTO_RETURN_IF_ERROR(demo_fleet_->WriteTargetsFile(env_, demo_targets_file_));
  kLog.Info("demo: serving a simulated AI fleet and scraping it (every series is labelled simulated=\"true\")",
            {{"nodes", options.nodes}, {"endpoints", demo_fleet_->endpoints().size()}, {"targets_file", demo_targets_file_}});
  return Status::Ok();
}

namespace {

// secret_sha256 may be written in either case.
bool SameHex(const std::string& a, const std::string& b) { return a.size() == b.size() && strcasecmp(a.c_str(), b.c_str()) == 0; }

// What a reload does to the API tokens, for the audit trail: each token added, removed or with
// another secret or grants. Secrets and their hashes stay out.
std::vector<audit::Event> TokenChanges(const AuthConfig& before, const AuthConfig& after) {
  auto grants = [](const TokenConfig& t) {
    std::string out;
    auto add = [&out](std::string_view k, std::string_view v) {
      if (v.empty()) return;
      if (!out.empty()) out += "; ";
      out.append(k).append("=").append(v);
    };
    std::string list;
    for (const std::string& s : t.scopes) list += (list.empty() ? "" : ",") + s;
    add("scopes", list);
    add("role", t.role);
    list.clear();
    for (const std::string& s : t.tenants) list += (list.empty() ? "" : ",") + s;
    add("tenants", list);
    for (const auto& [tenant, role] : t.roles) add("role[" + tenant + "]", role);
    return out;
  };
  auto find = [](const AuthConfig& a, const std::string& name) -> const TokenConfig* {
    for (const TokenConfig& t : a.tokens) {
      if (t.name == name) return &t;
    }
    return nullptr;
  };
  std::vector<audit::Event> out;
  for (const TokenConfig& t : after.tokens) {
    const TokenConfig* old = find(before, t.name);
    if (old == nullptr) {
      out.push_back({.action = "token.create", .target = t.name, .details = {{"grants", grants(t)}, {"via", "reload"}}});
    } else if (!SameHex(old->secret_sha256, t.secret_sha256) || grants(*old) != grants(t)) {
      out.push_back({.action = "token.change",
                     .target = t.name,
                     .details = {{"secret", SameHex(old->secret_sha256, t.secret_sha256) ? "same" : "changed"},
                                 {"grants", grants(t)},
                                 {"via", "reload"}}});
    }
  }
  for (const TokenConfig& t : before.tokens) {
    if (find(after, t.name) == nullptr) {
      out.push_back({.action = "token.delete", .target = t.name, .details = {{"via", "reload"}}});
    }
  }
  return out;
}

}  // namespace

api::ReloadOutcome Server::Reload() {
  MutexLock lock(&reload_mu_);
  api::ReloadOutcome out;
  auto cfg = ResolveConfig(env_, overrides_);
  if (cfg.ok()) out.status = Apply(*cfg, &out.restart_required);
  else out.status = cfg.status();
  if (!out.status.ok()) {
    reload_ok_.Set(0);
    kLog.Error("config reload failed, keeping the previous configuration", {{"error", out.status}});
    return out;
  }
  if (cfg->http.listen != config_.http.listen) out.restart_required.push_back("http.listen");
  if (cfg->http.threads != config_.http.threads) out.restart_required.push_back("http.threads");
  if (cfg->storage.data_dir != config_.storage.data_dir) out.restart_required.push_back("storage.data_dir");
  if (!SameStorageOptions(cfg->storage, config_.storage)) out.restart_required.push_back("storage");
  if (!SameRemoteStorage(*cfg, config_)) out.restart_required.push_back("remote_write");
  if (!(cfg->cluster == config_.cluster)) out.restart_required.push_back("cluster");
  if (cfg->inference != config_.inference) out.restart_required.push_back("inference");
  if (cfg->event_store != config_.event_store) out.restart_required.push_back("event_store");
  if (cfg->redaction != config_.redaction) out.restart_required.push_back("redaction");
  if (cfg->security != config_.security) out.restart_required.push_back("security");
  if (cfg->quality != config_.quality) out.restart_required.push_back("quality");
  // Keys that need a restart keep running with their old values, and say so.
  Config applied = *cfg;
  applied.http.listen = config_.http.listen;
  applied.http.threads = config_.http.threads;
  applied.storage = config_.storage;
  applied.remote_write = config_.remote_write;
  applied.cluster = config_.cluster;
  applied.inference = config_.inference;
  applied.event_store = config_.event_store;
  applied.redaction = config_.redaction;
  applied.security = config_.security;
  applied.quality = config_.quality;
  if (audit_) {
    for (const audit::Event& e : TokenChanges(config_.auth, cfg->auth)) audit_->Record(e);
  }
  config_ = std::move(applied);
  reload_ok_.Set(1);
  reload_time_.Set(static_cast<double>(clock_->NowMillis()) / 1000.0);
  for (const std::string& k : out.restart_required) {
    kLog.Warn("changed option takes effect only after a restart", {{"key", k}});
  }
  kLog.Info("configuration reloaded");
  return out;
}

int WaitForStopSignal(const std::function<void()>& reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      kLog.Info("SIGHUP received, reloading configuration");
      reload();
      continue;
    }
    kLog.Info("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return sig;
  }
}

int Server::RunUntilSignalled() {
  (void)WaitForStopSignal([this] {
    api::ReloadOutcome out = Reload();
    audit::Event e{.action = "config.reload", .outcome = out.status.ok() ? "ok" : "failed", .details = {{"via", "SIGHUP"}}};
    if (!out.status.ok()) e.details.emplace_back("error", out.status.message());
    audit_->Record(e);
  });
  if (!Shutdown()) {
    // A handler is still running on a thread we no longer wait for: leave now, without
    // running destructors under its feet. Every other request has been answered or closed.
    std::fflush(nullptr);
    std::_Exit(0);
  }
  return 0;
}

bool Server::Shutdown() {
  ready_ = false;
  bool clean = true;
  // First: batches from NATS stop arriving; one in progress finishes (and is acknowledged).
  if (bus_) bus_->Stop();
  if (http_) {
    std::chrono::milliseconds grace;
    {
      MutexLock lock(&reload_mu_);
      grace = config_.http.shutdown_timeout;
    }
    clean = http_->Shutdown(grace);
  }
  // After the HTTP server: its handlers read the scrape manager (/api/v1/targets, /metrics).
  // What the scrapes stored is in the WAL already. A handler abandoned past the deadline may
  // still run: then everything is left to the process's exit.
  // Rules and detectors stop querying before the engine and storage go; notification, incidents
  // and playbooks save their state.
  if (alerting_) {
    alerting_->Stop();
    if (clean) alerting_.reset();
  }
  if (local_) local_->Stop();
  if (clean) scrape_.reset();
  if (demo_fleet_) demo_fleet_->Stop();
  if (clean) {
    // After the HTTP server (its handlers feed the hub) and before the storage: the hub decides
    // the traces still waiting, stores them and writes the derived series a last time.
    if (hub_) hub_->Stop();
    hub_.reset();
    // After the hub (it feeds the monitor and flushes its series), before the event store (the
    // monitor stores its last evaluation records there).
    if (quality_) quality_->Stop();
    quality_.reset();
    if (event_store_) {
      if (Status s = event_store_->Close(); !s.ok()) kLog.Error("closing the event store failed", {{"error", s}});
    }
    if (clickhouse_) clickhouse_->Close();
  }
  // Every producer has stopped: what they committed is in the remote_write queues, which keep
  // what the senders could not deliver for the next start.
  if (fanout_) fanout_->Stop();
  if (db_ && clean) {
    // Every acknowledged sample is already in the WAL; this makes it durable against power loss too.
    if (Status s = db_->Close(); !s.ok()) kLog.Error("final WAL sync failed", {{"error", s}});
    db_.reset();
  }
  // Failed logins counted but not yet written go on the trail.
  if (audit_) audit_->Flush();
  if (data_lock_) {
    data_lock_.reset();
    kLog.Info("stopped");
  }
  return clean;
}

}  // namespace tyto::server
