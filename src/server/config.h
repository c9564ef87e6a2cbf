// Tyto's configuration file (tyto.yml): its structure, defaults and strict decoding.
//
// Every option has a default, so no file is needed. The option table in config.cc drives both
// decoding and docs/configuration.md (a test keeps the two in step). Later subsystems add
// their sections here.
#pragma once

#include <chrono>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alertmanager/config.h"
#include "anomaly/config.h"
#include "auth/jwt.h"
#include "clickhouse/config.h"
#include "cluster/config.h"
#include "collect/discovery/config.h"
#include "collect/registry.h"
#include "scrape/config.h"
#include "config/schema.h"
#include "eventstore/config.h"
#include "inference/config.h"
#include "nats/config.h"
#include "quality/config.h"
#include "crypto/config.h"
#include "redact/config.h"
#include "remote/config.h"
#include "tenant/config.h"
#include "tyto/env.h"

namespace tyto::server {

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9800";
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  uint64_t min_body_rate = 1024;  // bytes a second
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(30)};
  uint64_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 32 * 1024 * 1024;
  int64_t max_connections = 10000;
  int64_t max_connections_per_address = 1024;
  // Token buckets (requests a second, burst; 0 burst: twice the rate); 0 rate: no limit.
  double rate_limit_per_address = 1000;
  double rate_limit_per_address_burst = 2000;
  double rate_limit_per_token = 0;
  double rate_limit_per_token_burst = 0;
  double auth_failures_per_address = 0.5;
  double auth_failures_per_address_burst = 10;
  int64_t max_streams = 64;
  int threads = 0;
  bool gzip = true;
  TlsConfig tls;
  // How people reach Tyto (links in notifications, alerts' generator URLs); empty: derived from
  // listen (Prometheus's --web.external-url).
  std::string external_url;
};

struct TokenConfig {
  std::string name;
  std::string secret_sha256;
  std::vector<std::string> scopes;
  std::string role = {};                      // viewer, editor, operator, admin; adds to scopes
  std::vector<std::string> tenants = {};      // empty: [default]; "*": any
  std::map<std::string, std::string> roles = {};  // a role per further tenant
};

// A public key file for JWT bearer tokens, and the id tokens name it by.
struct JwtKeyFileConfig {
  std::string file;  // PEM, one public key; relative to the config file's folder
  std::string kid;   // empty in the file: the file's name
};

// JWT bearer tokens verified with configured public keys (src/auth/jwt.h). Off without keys.
struct JwtConfig {
  std::vector<JwtKeyFileConfig> public_key_files;
  std::string issuer;
  std::string audience;
  std::string tenant_claim = "tenant";
  std::string role_claim = "role";
  std::string scopes_claim;
  std::string name_claim = "sub";
  std::chrono::milliseconds leeway{std::chrono::seconds(60)};
  bool allow_any_tenant = false;
  // The keys of public_key_files, read and checked by LoadConfig (not written in the file).
  std::vector<auth::JwtKey> keys;
};

struct AuthConfig {
  std::vector<TokenConfig> tokens;
  JwtConfig jwt;
  // Whether requests need credentials: tokens or JWT keys are configured.
  bool enabled() const { return !tokens.empty() || !jwt.public_key_files.empty(); }
};

struct StorageConfig {
  std::string data_dir = "./data";
  std::chrono::milliseconds retention{std::chrono::hours(24 * 15)};
  std::chrono::milliseconds retention_5m{std::chrono::hours(24 * 90)};
  std::chrono::milliseconds retention_1h{std::chrono::hours(24 * 365 * 2)};
  uint64_t retention_size = 0;
  std::string wal_fsync = "interval";
  std::chrono::milliseconds wal_fsync_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds out_of_order_window{std::chrono::minutes(10)};
  uint64_t max_series = 2'000'000;
  uint64_t max_series_per_metric = 0;
  int64_t max_label_count = 64;
  int64_t max_label_name_bytes = 256;
  int64_t max_label_value_bytes = 4096;

  // Scale-out (docs/scale-out.md): which engine keeps what. The embedded ones are the default.
  std::string events = "embedded";    // spans, logs and events: embedded or clickhouse
  std::string metrics = "embedded";   // embedded, or remote (read through remote_query, written by remote_write)
  std::string bus = "none";           // none, or nats: consume agents' batches from the JetStream stream
  std::string shared_state = "none";  // none, or nats: several servers as one (leases, notifications, silences)
  clickhouse::ClickHouseConfig clickhouse;
  remote::RemoteQueryConfig remote_query;
  nats::NatsConfig nats;
};

// PromQL evaluation, as Prometheus's --query.* flags.
struct QueryConfig {
  std::chrono::milliseconds lookback_delta{std::chrono::minutes(5)};
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  uint64_t max_samples = 50'000'000;
  int64_t max_concurrency = 20;
};

// `tyto agent`: where and how it forwards (remote write 1.0), and its on-disk queue.
struct AgentConfig {
  // The receiver: a Tyto ("http://central:9800"; /api/v1/write is added to a URL without a
  // path) or any remote-write endpoint. --server overrides it.
  std::string server;
  scrape::Authorization authorization;
  scrape::BasicAuth basic_auth;
  scrape::TlsConfig tls_config;
  std::chrono::milliseconds remote_timeout{std::chrono::seconds(30)};
  int64_t shards = 4;
  int64_t max_samples_per_send = 2000;
  std::chrono::milliseconds batch_send_deadline{std::chrono::seconds(5)};
  std::chrono::milliseconds min_backoff{std::chrono::milliseconds(30)};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(5)};
  uint64_t queue_max_size = 256ull << 20;
  std::string queue_fsync = "interval";
  std::string listen = "127.0.0.1:9801";
  std::string transport = "remote_write";  // or "nats" (storage.nats)
};

// rules: the rule engine's options (Prometheus's --rules.* flags) and Tyto's stock rules.
struct RulesConfig {
  bool stock = true;
  std::chrono::milliseconds outage_tolerance{std::chrono::hours(1)};
  std::chrono::milliseconds for_grace_period{std::chrono::minutes(10)};
  std::chrono::milliseconds resend_delay{std::chrono::minutes(1)};
};

// alertmanager: notification routing in Alertmanager's own format (route, receivers,
// inhibit_rules, time_intervals), written inline or read from `config_file`.
struct AlertmanagerSection {
  std::string config_file;  // relative to tyto.yml's folder
  // The parsed configuration (inline, or the file once LoadConfig has read it); null: none, and
  // alerts are kept and shown but not sent anywhere.
  std::shared_ptr<const alertmanager::Config> config;
  config::Node node;  // the inline section as written, for ConfigYaml
};

// alerting.alertmanagers[]: external Alertmanagers that receive every alert, as in prometheus.yml.
struct AlertmanagerTargets {
  std::vector<scrape::StaticConfig> static_configs;
  std::string scheme = "http";
  std::string path_prefix;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  scrape::BasicAuth basic_auth;
  scrape::Authorization authorization;
  scrape::TlsConfig tls_config;
};
struct AlertingConfig {
  std::vector<AlertmanagerTargets> alertmanagers;
};

// playbooks: remediation playbooks (docs/playbooks.md).
struct PlaybooksConfig {
  std::vector<std::string> files;  // globs; relative ones from tyto.yml's folder
  bool dry_run = false;
  friend bool operator==(const PlaybooksConfig&, const PlaybooksConfig&) = default;
};

// incidents: how firing alerts are grouped into incidents (docs/incidents.md).
struct IncidentsConfig {
  std::vector<std::string> group_by = {"model", "Hostname", "instance", "pod"};
  std::chrono::milliseconds group_window{std::chrono::hours(1)};
  int64_t max_incidents = 10000;
  friend bool operator==(const IncidentsConfig&, const IncidentsConfig&) = default;
};

// ui: the web UI (docs/ui-server.md).
struct UiConfig {
  std::string assets_dir;               // empty: the UI embedded in the binary
  std::vector<std::string> dashboards;  // globs; relative ones from tyto.yml's folder
  friend bool operator==(const UiConfig&, const UiConfig&) = default;
};

struct LogConfig {
  std::string level = "info";
};

struct Config {
  HttpConfig http;
  StorageConfig storage;
  AuthConfig auth;
  QueryConfig query;
  LogConfig log;
  // The built-in collectors (host, GPU), all on by default.
  collect::CollectorsConfig collectors;
  // Local vLLM, TGI, Triton, SGLang and Ollama servers found and scraped (docs/discovery.md).
  collect::discovery::InferenceServersConfig inference_servers;
  AgentConfig agent;
  // Metrics derived from inference requests, sampling, cost and pipelines (docs/inference.md).
  inference::InferenceConfig inference;
  // Evaluators on sampled responses, ground truth and drift (docs/quality.md).
  quality::QualityConfig quality;
  // Where spans, logs and sampled events are kept (docs/format/eventstore.md).
  eventstore::EventStoreConfig event_store;
  // What is scrubbed from prompts, responses and log bodies before they are stored (docs/redaction.md).
  redact::RedactionConfig redaction;
  // Encryption at rest of prompts, responses and sensitive fields (docs/security.md).
  crypto::EncryptionConfig security;
  // Prometheus's sections, pasted as they are from prometheus.yml.
  scrape::GlobalConfig global;
  std::vector<scrape::ScrapeConfig> scrape_configs;
  std::vector<std::string> rule_files;  // globs; relative ones from tyto.yml's folder
  AlertingConfig alerting;
  // Alertmanager's configuration (docs/alertmanager.md) and the rule engine's options.
  AlertmanagerSection alertmanager;
  RulesConfig rules;
  PlaybooksConfig playbooks;
  IncidentsConfig incidents;
  // Online anomaly detectors whose scores are series (docs/anomaly.md).
  anomaly::AnomalyConfig anomaly;
  UiConfig ui;
  // Everything ingested is also sent to these remote-write receivers (prometheus.yml's list).
  std::vector<remote::RemoteWriteConfig> remote_write;
  // This server among several sharing state (storage.shared_state: nats).
  cluster::ClusterConfig cluster;
  // Per-tenant limits, rule files and retention (docs/security.md), and the limits of tenants not listed.
  std::vector<tenant::TenantConfig> tenants;
  tenant::TenantLimits tenant_defaults;
};

// Command-line flags that override the file.
struct Overrides {
  std::optional<std::string> config_file;
  std::optional<std::string> data_dir;
  std::optional<std::string> listen;
  std::optional<std::string> log_level;
  bool insecure_no_auth = false;
  // Start the simulated AI fleet (`tyto simulate`) in-process and scrape it: a labelled demo.
  bool demo = false;
};

// The option table for the whole file.
const config::Section<Config>& ConfigSchema();

// Decodes YAML text. `file` names the source in errors ("tyto.yml:3:5: ...").
// Every problem is reported, one per line, in the returned Status.
Result<Config> ParseConfig(std::string_view text, const std::string& file);

// Reads and decodes a file through `env`.
Result<Config> LoadConfig(Env* env, const std::string& path);

// The configuration a server runs with: the file named by overrides (or defaults), with the
// overriding flags applied and the result checked as a whole.
Result<Config> ResolveConfig(Env* env, const Overrides& overrides);

// Refuses a listen address other than loopback when no token is configured, unless
// --insecure-no-auth was given.
Status CheckExposure(const Config& config, bool insecure_no_auth);

// The whole configuration as YAML, every option with its value (defaults included), secrets
// (token hashes, scrape passwords and credentials) shown as "<secret>". It decodes back to the
// same configuration but for those. For /api/v1/status/config.
std::string ConfigYaml(const Config& config);
// The alertmanager section alone, as alertmanager.yml would read (secrets as "<secret>"), or
// `config_file: PATH` when it names a file; for Alertmanager's /api/v2/status.
std::string AlertmanagerYaml(const Config& config);

// Markdown reference of every option (key, type, default, description).
std::string ConfigReference();

}  // namespace tyto::server
