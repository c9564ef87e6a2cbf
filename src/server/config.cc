#include "server/config.h"

#include "auth/auth.h"
#include "auth/jwt.h"
#include "common/log.h"
#include "http/server.h"

namespace tyto::server {

using config::Diagnostics;
using config::Node;
using config::Section;

namespace {

// Keys whose values Alertmanager treats as secrets: written back as "<secret>".
bool IsAlertmanagerSecretKey(std::string_view key) {
  for (std::string_view k : {"url", "api_url", "routing_key", "service_key", "auth_password", "auth_secret",
                             "smtp_auth_password", "smtp_auth_secret", "slack_api_url", "password", "credentials",
                             "bearer_token"}) {
    if (key == k) return true;
  }
  return false;
}

void WriteNode(const Node& n, config::Writer& w) {
  if (n.IsMap()) {
    w.BeginMap();
    for (const auto& [k, v] : n.entries()) {
      w.Key(k.scalar());
      if (v.IsScalar() && IsAlertmanagerSecretKey(k.scalar())) {
        w.String("<secret>");
      } else {
        WriteNode(v, w);
      }
    }
    w.EndMap();
  } else if (n.IsSequence()) {
    w.BeginList();
    for (const Node& i : n.items()) WriteNode(i, w);
    w.EndList();
  } else if (n.IsScalar()) {
    if (n.quoted()) {
      w.String(n.scalar());
    } else {
      w.Plain(n.scalar());
    }
  } else {
    w.Plain("null");
  }
}

void DecodeAlertmanager(const Node& n, Config& c, Diagnostics& d) {
  if (n.IsNull()) return;
  if (!n.IsMap()) {
    d.Add(n.position(), "alertmanager: expected a mapping (Alertmanager's configuration, or config_file), got " +
                            std::string(n.KindName()));
    return;
  }
  auto entries = n.entries();
  if (entries.empty()) return;  // {}: none, as ConfigYaml writes it
  for (const auto& [k, v] : entries) {
    if (k.scalar() != "config_file") continue;
    if (entries.size() != 1) {
      d.Add(k.position(), "alertmanager: config_file excludes an inline configuration; write one or the other");
      return;
    }
    config::DecodeString(v, &c.alertmanager.config_file, &d);
    return;
  }
  alertmanager::ParseOptions options;
  options.file = n.position().file;
  auto parsed = alertmanager::ParseConfigNode(n, options);
  if (!parsed.ok()) {
    d.AddPositioned("alertmanager: " + parsed.status().message());
    return;
  }
  c.alertmanager.config = std::make_shared<const alertmanager::Config>(std::move(parsed).value());
  c.alertmanager.node = n;
}

void EncodeAlertmanager(const Config& c, config::Writer& w) {
  if (!c.alertmanager.config_file.empty()) {
    w.BeginMap();
    w.Key("config_file");
    w.String(c.alertmanager.config_file);
    w.EndMap();
    return;
  }
  if (c.alertmanager.node.IsMap()) {
    WriteNode(c.alertmanager.node, w);
    return;
  }
  w.BeginMap();
  w.EndMap();
}

}  // namespace

const Section<Config>& ConfigSchema() {
  static const Section<Config>* schema = [] {
    Section<TlsConfig> tls("http.tls", "TLS for the HTTP server; on when both files are set. Reloaded on SIGHUP.");
    tls.String("cert_file", &TlsConfig::cert_file, "PEM certificate (chain) file.")
        .String("key_file", &TlsConfig::key_file, "PEM private key file.")
        .Validate([](const TlsConfig& t, const Node& n, Diagnostics& d) {
          if (t.cert_file.empty() != t.key_file.empty()) {
            d.Add(n.position(), "http.tls needs both cert_file and key_file");
          }
        });

    Section<HttpConfig> http("http", "The HTTP server (API, UI, ingest).");
    http.String("listen", &HttpConfig::listen,
                "Address to listen on, HOST:PORT. Anything but loopback requires auth tokens "
                "(or --insecure-no-auth). Changing it takes a restart.")
        .String("external_url", &HttpConfig::external_url,
                "The URL people reach Tyto at, for links in notifications and alerts' generator URLs "
                "(Prometheus's --web.external-url); empty: http(s)://<listen>.")
        .Duration("read_timeout", &HttpConfig::read_timeout,
                  "Longest time from the first byte of a request until it is read whole.",
                  std::chrono::milliseconds(1))
        .Duration("write_timeout", &HttpConfig::write_timeout, "Longest time to write one response.",
                  std::chrono::milliseconds(1))
        .Duration("idle_timeout", &HttpConfig::idle_timeout,
                  "How long a kept-alive connection may wait for its next request.", std::chrono::milliseconds(1))
        .Duration("header_timeout", &HttpConfig::header_timeout,
                  "Longest time from the first byte of a request until its headers are whole (slow clients are cut).",
                  std::chrono::milliseconds(1))
        .ByteSize("min_body_rate", &HttpConfig::min_body_rate,
                  "Bytes a second a request body must average after header_timeout of grace; slower clients are cut. "
                  "0: no minimum.")
        .Duration("shutdown_timeout", &HttpConfig::shutdown_timeout,
                  "On SIGTERM/SIGINT, how long requests in flight may take to finish.")
        .ByteSize("max_header_bytes", &HttpConfig::max_header_bytes,
                  "Largest request line plus headers; larger gets 431.", 1024)
        .ByteSize("max_body_bytes", &HttpConfig::max_body_bytes, "Largest request body; larger gets 413.", 1024)
        .Int("max_connections", &HttpConfig::max_connections,
             "Open connections at most; more are answered 503 and closed.", 1, 1'000'000)
        .Int("max_connections_per_address", &HttpConfig::max_connections_per_address,
             "Open connections from one client IP address at most; more are answered 429 and closed. 0: no cap.", 0,
             1'000'000)
        .Number("rate_limit_per_address", &HttpConfig::rate_limit_per_address,
                "Requests a second from one client IP address (a token bucket); more are answered 429 with "
                "Retry-After. 0: no limit.")
        .Number("rate_limit_per_address_burst", &HttpConfig::rate_limit_per_address_burst,
                "Requests one address may send at once above its rate; 0: twice the rate.")
        .Number("rate_limit_per_token", &HttpConfig::rate_limit_per_token,
                "Requests a second by one API token; more are answered 429 with Retry-After. 0: no limit.")
        .Number("rate_limit_per_token_burst", &HttpConfig::rate_limit_per_token_burst,
                "Requests one token may send at once above its rate; 0: twice the rate.")
        .Number("auth_failures_per_address", &HttpConfig::auth_failures_per_address,
                "Wrong credentials a second allowed from one client IP address; once its burst is spent, its "
                "requests to guarded routes are answered 429 until it refills (slows guessing). 0: no limit.")
        .Number("auth_failures_per_address_burst", &HttpConfig::auth_failures_per_address_burst,
                "Wrong credentials one address may send at once; 0: twice the rate.")
        .Int("max_streams", &HttpConfig::max_streams,
             "Streaming responses (server-sent events: the UI's live updates, the logs live tail) open at once; "
             "one more is answered 503.",
             1, 100'000)
        .Int("threads", &HttpConfig::threads, "Network threads; 0 means one per core (at least two).", 0, 1024)
        .Bool("gzip", &HttpConfig::gzip, "Compress responses of 1 KiB or more for clients that accept gzip.")
        .Nested("tls", &HttpConfig::tls, tls)
        .Validate([](const HttpConfig& h, const Node& n, Diagnostics& d) {
          auto hp = http::ParseHostPort(h.listen);
          if (!hp.ok()) {
            for (const auto& [k, v] : n.entries()) {
              if (k.scalar() == "listen") d.Add(v.position(), hp.status().message());
            }
          }
        });

    Section<TokenConfig> token("auth.tokens[]", "An API token.");
    token.String("name", &TokenConfig::name, "Who holds the token; shown in logs and the audit trail.")
        .Secret("secret_sha256", &TokenConfig::secret_sha256,
                "SHA-256 of the secret, 64 hex digits (`tyto token new` prints one).")
        .StringList("scopes", &TokenConfig::scopes,
                    "Any of read, write (ingest), edit (rules, dashboards, silences), operate (acknowledge, approve "
                    "and run playbooks), admin (implies all), for each of `tenants`.")
        .String("role", &TokenConfig::role,
                "viewer (read), editor (read, edit), operator (read, operate) or admin, for each of `tenants`; "
                "adds to `scopes`.")
        .StringList("tenants", &TokenConfig::tenants,
                    "Tenants the scopes and role hold for; \"*\" for any (the request names one with "
                    "X-Scope-OrgID). Empty: [default].")
        .StringMap("roles", &TokenConfig::roles,
                   "A role per further tenant: {team-a: admin, team-b: viewer}.")
        .Validate([](const TokenConfig& t, const Node& n, Diagnostics& d) {
          if (t.name.empty()) d.Add(n.position(), "token needs a name");
          bool hex = t.secret_sha256.size() == 64;
          for (char c : t.secret_sha256) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
          if (!hex) {
            d.Add(n.position(), "token '" + t.name +
                                    "': secret_sha256 must be 64 hex digits (the SHA-256 of the secret, "
                                    "never the secret itself; see `tyto token new`)");
          }
          if (t.scopes.empty() && t.role.empty() && t.roles.empty()) {
            d.Add(n.position(), "token '" + t.name + "' needs at least one scope, a role or roles");
          }
          if (!t.role.empty()) {
            if (auto r = auth::RoleScopes(t.role); !r.ok()) d.Add(n.position(), "token '" + t.name + "': " + r.status().message());
          }
          for (const std::string& tenant : t.tenants) {
            if (tenant != "*" && !auth::ValidTenant(tenant)) {
              d.Add(n.position(), "token '" + t.name + "': tenant '" + tenant +
                                      "' is not a tenant name ([A-Za-z0-9_-], 1 to 64 characters, or \"*\")");
            }
          }
          for (const auto& [tenant, role] : t.roles) {
            if (tenant != "*" && !auth::ValidTenant(tenant)) {
              d.Add(n.position(), "token '" + t.name + "': roles: '" + tenant + "' is not a tenant name");
            }
            if (auto r = auth::RoleScopes(role); !r.ok()) {
              d.Add(n.position(), "token '" + t.name + "': roles: " + tenant + ": " + r.status().message());
            }
          }
          for (const std::string& s : t.scopes) {
            auto scope = auth::ParseScope(s);
            if (!scope.ok()) d.Add(n.position(), "token '" + t.name + "': " + scope.status().message());
          }
        });

    Section<JwtKeyFileConfig> jwt_key("auth.jwt.public_key_files[]",
                                      "A public key: a PEM file name, or {file, kid}.");
    jwt_key
        .String("file", &JwtKeyFileConfig::file,
                "PEM file with one public key (-----BEGIN PUBLIC KEY-----): RSA of 2048 bits or more (RS256) or "
                "EC P-256 (ES256); relative to the config file's folder.")
        .String("kid", &JwtKeyFileConfig::kid,
                "The key id tokens name in their header's kid; empty: the file's name (tokens without a kid try "
                "every key of their alg's type).");
    Section<JwtConfig> jwt("auth.jwt",
                           "JWT bearer tokens from an identity provider, verified with its public keys (RS256, "
                           "ES256; no network call). Off without public_key_files.");
    jwt.Option(
           "public_key_files", "list of files or mappings",
           "Public keys that verify tokens: file names, or {file, kid} items. Rotating keys: list both while "
           "tokens of each are in use, then reload.",
           [jwt_key](const Node& n, JwtConfig& j, Diagnostics& d) {
             if (n.IsNull()) return;
             if (!n.IsSequence()) {
               d.Add(n.position(), "auth.jwt.public_key_files: expected a list, got " + std::string(n.KindName()));
               return;
             }
             j.public_key_files.clear();
             for (const Node& i : n.items()) {
               JwtKeyFileConfig k;
               if (i.IsScalar()) {
                 config::DecodeString(i, &k.file, &d);
               } else {
                 jwt_key.Decode(i, &k, &d);
               }
               if (k.file.empty()) d.Add(i.position(), "auth.jwt.public_key_files: an item names no file");
               if (k.kid.empty()) k.kid = k.file.substr(k.file.find_last_of('/') + 1);
               j.public_key_files.push_back(std::move(k));
             }
           },
           [](const JwtConfig&) { return std::string("[]"); },
           [jwt_key](const std::string& prefix, std::vector<config::OptionDoc>* out) {
             jwt_key.Document(prefix + "[]", out);
           },
           [jwt_key](const JwtConfig& j, config::Writer& w) {
             w.BeginList();
             for (const JwtKeyFileConfig& k : j.public_key_files) jwt_key.Encode(k, w);
             w.EndList();
           })
        .String("issuer", &JwtConfig::issuer, "The iss tokens must carry; empty: not checked.")
        .String("audience", &JwtConfig::audience,
                "The aud tokens must carry (or list); empty: not checked. Set it, so tokens minted for other "
                "services are refused.")
        .String("tenant_claim", &JwtConfig::tenant_claim,
                "Claim naming the tenant, or a list of tenants, the token acts for; absent in a token: default.")
        .String("role_claim", &JwtConfig::role_claim,
                "Claim holding viewer, editor, operator or admin (for each tenant of tenant_claim), or an object "
                "of a role per tenant: {team-a: admin, team-b: viewer}.")
        .String("scopes_claim", &JwtConfig::scopes_claim,
                "Claim holding scopes as an OAuth scope string (\"read write\") or a list, for each tenant of "
                "tenant_claim; names other than Tyto's scopes are ignored. Empty: not read.")
        .String("name_claim", &JwtConfig::name_claim, "Claim naming the caller in logs and the audit trail.")
        .Duration("leeway", &JwtConfig::leeway, "Clock skew allowed when checking exp, nbf and iat (at most 10m).")
        .Bool("allow_any_tenant", &JwtConfig::allow_any_tenant,
              "Whether a token may grant every tenant (\"*\" in tenant_claim or role_claim).")
        .Validate([](const JwtConfig& j, const Node& n, Diagnostics& d) {
          // An empty section is JWT off (as /api/v1/status/config shows it); options without keys are a mistake.
          const bool configured = !j.issuer.empty() || !j.audience.empty() || !j.scopes_claim.empty() || j.allow_any_tenant;
          if (j.public_key_files.empty() && configured) {
            d.Add(n.position(), "auth.jwt needs public_key_files (at least one) to verify tokens");
          }
          for (size_t i = 0; i < j.public_key_files.size(); ++i) {
            for (size_t k = 0; k < i; ++k) {
              if (j.public_key_files[i].kid == j.public_key_files[k].kid) {
                d.Add(n.position(), "auth.jwt.public_key_files: two keys have kid '" + j.public_key_files[i].kid + "'");
              }
            }
          }
          for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"tenant_claim", &j.tenant_claim},
                                           {"role_claim", &j.role_claim},
                                           {"name_claim", &j.name_claim}}) {
            if (value->empty()) d.Add(n.position(), std::string("auth.jwt.") + key + " must not be empty");
          }
          if (j.leeway > std::chrono::minutes(10)) d.Add(n.position(), "auth.jwt.leeway is over 10m");
        });

    Section<AuthConfig> auth("auth", "Who may do what. With no tokens and no JWT keys, Tyto serves loopback only.");
    auth.List("tokens", &AuthConfig::tokens, token).Validate([](const AuthConfig& a, const Node& n, Diagnostics& d) {
      std::vector<Node> items;
      for (const auto& [k, v] : n.entries()) {
        if (k.scalar() == "tokens") items = v.items();
      }
      for (size_t i = 0; i < a.tokens.size() && i < items.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (a.tokens[i].name == a.tokens[j].name) {
            d.Add(items[i].position(), "two tokens are named '" + a.tokens[i].name + "'");
          }
        }
      }
    });
    auth.Nested("jwt", &AuthConfig::jwt, jwt);

    Section<StorageConfig> storage("storage", "Where and how data is kept.");
    storage
        .String("data_dir", &StorageConfig::data_dir,
                "Data directory (locked: one server per directory). Storage options take a restart.")
        .Duration("retention", &StorageConfig::retention,
                  "Raw samples older than this, counted back from the newest sample (as Prometheus counts), "
                  "are removed a block at a time, after being rolled up into 5-minute and 1-hour aggregates "
                  "(docs/rollups.md). 0s keeps everything.")
        .Duration("retention_5m", &StorageConfig::retention_5m,
                  "5-minute rollups (count, sum, min, max, counter per window) of removed raw samples are kept "
                  "this long, counted the same way. Queries read them where raw samples are gone. 0s keeps them.")
        .Duration("retention_1h", &StorageConfig::retention_1h,
                  "1-hour rollups are kept this long; they answer where 5-minute rollups are gone too. 0s keeps "
                  "them.")
        .ByteSize("retention_size", &StorageConfig::retention_size,
                  "When blocks (raw and rollups) take more than this, those holding the oldest time are removed. "
                  "The write-ahead log is not counted (it holds the head's last few hours). 0B: no size limit.")
        .Enum("wal_fsync", &StorageConfig::wal_fsync, {"always", "interval", "never"},
              "When the write-ahead log is fsynced. A sample is acknowledged once it is in the log, so kill -9 "
              "never loses one; a power cut can lose: nothing with always, up to wal_fsync_interval with "
              "interval, what the OS had not written (about 30 s) with never.")
        .Duration("wal_fsync_interval", &StorageConfig::wal_fsync_interval,
                  "With wal_fsync: interval, the longest time between fsyncs.", std::chrono::milliseconds(1))
        .Duration("out_of_order_window", &StorageConfig::out_of_order_window,
                  "Samples up to this much older than their series' newest sample are accepted; older ones are "
                  "rejected (out_of_order). 0s accepts only newer samples, as Prometheus does by default.")
        .Int("max_series", &StorageConfig::max_series, "Series in memory at most (0: no limit); new ones beyond are rejected.", 0,
             INT64_MAX)
        .Int("max_series_per_metric", &StorageConfig::max_series_per_metric, "Series per metric name at most (0: no limit).", 0,
             INT64_MAX)
        .Int("max_label_count", &StorageConfig::max_label_count, "Labels per series at most (0: no limit).", 0, 100000)
        .Int("max_label_name_bytes", &StorageConfig::max_label_name_bytes, "Longest label name (0: no limit).", 0,
             1 << 20)
        .Int("max_label_value_bytes", &StorageConfig::max_label_value_bytes, "Longest label value (0: no limit).", 0,
             1 << 24)
        .Enum("events", &StorageConfig::events, {"embedded", "clickhouse"},
              "Where spans, logs and inference, pipeline and deployment events are kept: the embedded store "
              "(event_store) or ClickHouse (storage.clickhouse; docs/scale-out.md).")
        .Enum("metrics", &StorageConfig::metrics, {"embedded", "remote"},
              "Where metrics are kept: the embedded engine, or a remote store that queries, rules and the UI read "
              "through its Prometheus query API (storage.remote_query) and that everything ingested is written to "
              "(remote_write): the server then holds no metrics of its own.")
        .Enum("bus", &StorageConfig::bus, {"none", "nats"},
              "nats: also take the batches agents publish to the JetStream stream of storage.nats (agent.transport: "
              "nats), acknowledged once stored.")
        .Enum("shared_state", &StorageConfig::shared_state, {"none", "nats"},
              "nats: several servers work as one through the key-value bucket of storage.nats: one evaluates each "
              "rule group (leases), notifications are sent once, silences and playbook runs are shared (cluster).")
        .Nested("clickhouse", &StorageConfig::clickhouse, clickhouse::ClickHouseSchema())
        .Nested("remote_query", &StorageConfig::remote_query, remote::RemoteQuerySchema())
        .Nested("nats", &StorageConfig::nats, nats::NatsSchema());

    Section<QueryConfig> query("query", "PromQL evaluation (Prometheus's --query.* flags).");
    query
        .Duration("lookback_delta", &QueryConfig::lookback_delta,
                  "How far back an instant selector looks for a sample (Prometheus's query.lookback-delta).",
                  std::chrono::milliseconds(1))
        .Duration("timeout", &QueryConfig::timeout,
                  "A query running longer fails with errorType timeout (503); the API's timeout parameter can "
                  "only shorten it.",
                  std::chrono::milliseconds(1))
        .Int("max_samples", &QueryConfig::max_samples,
             "Samples one query may hold in memory at once; more fails it with errorType execution (422).", 1,
             INT64_MAX)
        .Int("max_concurrency", &QueryConfig::max_concurrency,
             "Queries evaluated at once; more wait for a slot within their timeout (0: no limit).", 0, 100000);

    Section<LogConfig> log("log", "Logging: JSON lines on stderr.");
    log.Enum("level", &LogConfig::level, {"debug", "info", "warn", "error"},
             "Least severe level written. Also settable at run time with PUT /-/log-level.");

    Section<AgentConfig> agent("agent", "`tyto agent`: forwarding by remote write, and its on-disk queue.");
    agent
        .String("server", &AgentConfig::server,
                "Where to forward: a Tyto (http://central:9800; /api/v1/write is added to a URL without a path) or "
                "any remote-write URL. --server overrides it.")
        .Nested("authorization", &AgentConfig::authorization, scrape::AuthorizationSchema())
        .Nested("basic_auth", &AgentConfig::basic_auth, scrape::BasicAuthSchema())
        .Nested("tls_config", &AgentConfig::tls_config, scrape::TlsConfigSchema())
        .Duration("remote_timeout", &AgentConfig::remote_timeout, "One request, connect to response.",
                  std::chrono::milliseconds(1))
        .Int("shards", &AgentConfig::shards, "Requests in flight at once.", 1, 64)
        .Int("max_samples_per_send", &AgentConfig::max_samples_per_send, "Samples per request at most.", 1, 1000000)
        .Duration("batch_send_deadline", &AgentConfig::batch_send_deadline,
                  "How long a request smaller than max_samples_per_send waits for more.", std::chrono::milliseconds(1))
        .Duration("min_backoff", &AgentConfig::min_backoff, "First retry delay after a failed request (doubled per failure).",
                  std::chrono::milliseconds(1))
        .Duration("max_backoff", &AgentConfig::max_backoff, "Longest retry delay.", std::chrono::milliseconds(1))
        .ByteSize("queue_max_size", &AgentConfig::queue_max_size,
                  "The on-disk queue (under --data-dir) holds at most this much; when full, the oldest data is dropped "
                  "and counted (tyto_agent_samples_dropped_total{reason=\"queue_full\"}).",
                  1 << 20)
        .Enum("queue_fsync", &AgentConfig::queue_fsync, {"always", "interval"},
              "When the queue is fsynced: always (before a round or scrape is acknowledged), or every second.")
        .String("listen", &AgentConfig::listen,
                "HOST:PORT of the agent's own /metrics, /-/healthy and /-/ready (forwarded too, as job tyto_agent), "
                "and of the telemetry relay (POST /v1/traces, /v1/logs, /v1/metrics, /api/v1/events, /api/v1/logs).")
        .Enum("transport", &AgentConfig::transport, {"remote_write", "nats"},
              "How batches reach the servers: remote_write (HTTP to agent.server) or nats (published to the "
              "JetStream stream of storage.nats; servers consume it and acknowledge once stored).")
        .Validate([](const AgentConfig& a, const Node& n, Diagnostics& d) {
          if (a.min_backoff > a.max_backoff) d.Add(n.position(), "agent: min_backoff is greater than max_backoff");
        });

    Section<RulesConfig> rules("rules", "The rule engine (rule files are listed in rule_files).");
    rules.Bool("stock", &RulesConfig::stock,
                "Load Tyto's stock rules for AI fleets (docs/stock-rules.md): GPU, inference, SLO, quality, "
                "pipelines, targets. Their alerts fire only where their series exist.")
        .Duration("outage_tolerance", &RulesConfig::outage_tolerance,
                  "How long Tyto may have been down for pending and firing alerts to keep their state across a "
                  "restart (read back from ALERTS_FOR_STATE).",
                  std::chrono::milliseconds(1))
        .Duration("for_grace_period", &RulesConfig::for_grace_period,
                  "After a restart, an alert whose `for` is at least this long waits at least this long before "
                  "firing again.",
                  std::chrono::milliseconds(0))
        .Duration("resend_delay", &RulesConfig::resend_delay,
                  "How often a firing alert is sent again to notification.", std::chrono::milliseconds(1));

    Section<AlertmanagerTargets> am_target("alertmanagers", "An external Alertmanager that receives every alert.");
    Section<scrape::StaticConfig> am_static("static_configs", "Alertmanagers listed in the file.");
    am_static.StringList("targets", &scrape::StaticConfig::targets, "host:port of each Alertmanager.");
    am_target.List("static_configs", &AlertmanagerTargets::static_configs, am_static)
        .Enum("scheme", &AlertmanagerTargets::scheme, {"http", "https"}, "How to reach them.")
        .String("path_prefix", &AlertmanagerTargets::path_prefix, "Prefixed to /api/v2/alerts.")
        .Duration("timeout", &AlertmanagerTargets::timeout, "One request, connect to response.",
                  std::chrono::milliseconds(1))
        .Nested("basic_auth", &AlertmanagerTargets::basic_auth, scrape::BasicAuthSchema())
        .Nested("authorization", &AlertmanagerTargets::authorization, scrape::AuthorizationSchema())
        .Nested("tls_config", &AlertmanagerTargets::tls_config, scrape::TlsConfigSchema());
    Section<AlertingConfig> alerting("alerting", "Where alerts go besides Tyto's own notification, "
                                                 "as in prometheus.yml.");
    alerting.List("alertmanagers", &AlertingConfig::alertmanagers, am_target);

    Section<PlaybooksConfig> playbooks("playbooks", "Remediation playbooks (docs/playbooks.md).");
    playbooks
        .StringList("files", &PlaybooksConfig::files,
                     "Playbook files (globs); relative paths are from this file's folder. `tyto check playbooks "
                     "FILE...` checks them.")
        .Bool("dry_run", &PlaybooksConfig::dry_run,
              "Every playbook in dry run: decisions and steps are logged and audited, nothing is executed.");
    Section<IncidentsConfig> incidents("incidents", "How firing alerts are grouped into incidents.");
    incidents
        .StringList("group_by", &IncidentsConfig::group_by,
                     "A firing alert joins the open incident sharing a value of any of these labels; an alert "
                     "with none of them joins by its alertname.")
        .Duration("group_window", &IncidentsConfig::group_window,
                  "An incident takes new alerts for this long after its last firing alert.",
                  std::chrono::milliseconds(1))
        .Int("max_incidents", &IncidentsConfig::max_incidents,
             "Incidents kept; the oldest resolved ones go first.", 1, 10000000);

    Section<UiConfig> ui("ui", "The web UI served at /ui/ (docs/ui-server.md).");
    ui.String("assets_dir", &UiConfig::assets_dir,
              "Serve the UI's files from this directory (a built UI, e.g. web/dist) instead of those embedded in "
              "the binary, read at each request: for UI development. Must hold index.html; relative paths are "
              "from this file's folder.")
        .StringList("dashboards", &UiConfig::dashboards,
                    "Dashboard JSON files (paths or globs; Grafana's model, docs/format/dashboards.md) listed in the "
                    "UI beside the built-in ones; relative paths are from this file's folder. A file that does not "
                    "validate fails the load.");

    auto* root = new Section<Config>("", "tyto.yml");
    root->Nested("http", &Config::http, http)
        .Nested("storage", &Config::storage, storage)
        .Nested("auth", &Config::auth, auth)
        .Nested("query", &Config::query, query)
        .Nested("log", &Config::log, log)
        .Nested("collectors", &Config::collectors, collect::CollectorsSchema())
        .Nested("inference_servers", &Config::inference_servers, collect::discovery::InferenceServersSchema())
        .Nested("agent", &Config::agent, agent)
        .Nested("inference", &Config::inference, inference::InferenceSchema())
        .Nested("quality", &Config::quality, quality::QualitySchema())
        .Nested("event_store", &Config::event_store, eventstore::EventStoreSchema())
        .Nested("redaction", &Config::redaction, redact::RedactionSchema())
        .Nested("security", &Config::security, crypto::SecuritySchema())
        .Nested("global", &Config::global, scrape::GlobalSchema())
        .List("scrape_configs", &Config::scrape_configs, scrape::ScrapeConfigSchema())
        .StringList("rule_files", &Config::rule_files,
                    "Prometheus rule files (globs), read as Prometheus reads them; relative paths are from this "
                    "file's folder. `tyto check rules FILE...` checks them.")
        .Nested("rules", &Config::rules, rules)
        .Nested("playbooks", &Config::playbooks, playbooks)
        .Nested("incidents", &Config::incidents, incidents)
        .Nested("anomaly", &Config::anomaly, anomaly::AnomalySchema())
        .Nested("alerting", &Config::alerting, alerting)
        .Nested("ui", &Config::ui, ui)
        .List("remote_write", &Config::remote_write, remote::RemoteWriteSchema())
        .Nested("cluster", &Config::cluster, cluster::ClusterSchema())
        .List("tenants", &Config::tenants, tenant::TenantSchema())
        .Nested("tenant_defaults", &Config::tenant_defaults, tenant::LimitsSchema())
        .Option(
            "alertmanager", "mapping",
            "Notification routing in Alertmanager's own format (route, receivers, inhibit_rules, time_intervals, "
            "global), written here as in alertmanager.yml, or `config_file: PATH` naming an alertmanager.yml "
            "(relative to this file's folder). None: alerts are evaluated and shown but not sent.",
            DecodeAlertmanager, [](const Config&) { return std::string(); }, nullptr, EncodeAlertmanager)
        .Validate([](const Config& c, const Node& n, Diagnostics& d) {
          if (Status st = remote::CheckRemoteWriteList(c.remote_write); !st.ok()) d.Add(n.position(), st.message());
          if (c.storage.metrics == "remote") {
            if (Status st = remote::CheckRemoteMode(c.storage.remote_query, c.remote_write); !st.ok()) {
              d.Add(n.position(), "storage.metrics: remote: " + st.message());
            }
          }
          std::vector<std::string> names;
          for (const auto& job : c.scrape_configs) {
            if (std::find(names.begin(), names.end(), job.job_name) != names.end()) {
              d.Add(n.position(), "scrape_configs: job_name '" + job.job_name + "' is used twice");
            }
            names.push_back(job.job_name);
          }
        });
    return root;
  }();
  return *schema;
}

Result<Config> ParseConfig(std::string_view text, const std::string& file) {
  auto root = config::ParseYaml(text, file);
  if (!root.ok()) return root.status();
  Config cfg;
  Diagnostics diags;
  if (!root->IsNull() && !root->IsMap()) {
    diags.Add(root->position(), "expected a mapping of sections (http, storage, auth, log), got " +
                                    std::string(root->KindName()));
  } else {
    ConfigSchema().Decode(*root, &cfg, &diags);
  }
  TYTO_RETURN_IF_ERROR(diags.ToStatus());
  return cfg;
}

Result<Config> LoadConfig(Env* env, const std::string& path) {
  auto text = env->ReadFile(path);
  if (!text.ok()) return Status(text.status().code(), "cannot read config file: " + text.status().message());
  TYTO_ASSIGN_OR_RETURN(Config cfg, ParseConfig(*text, path));
  // Files named in the configuration are relative to its folder, as in Prometheus.
  std::string dir = ParentDir(path);
  auto resolve = [&dir](const std::string& p) { return p.empty() || p[0] == '/' || dir.empty() ? p : dir + "/" + p; };
  for (std::string& f : cfg.rule_files) f = resolve(f);
  for (tenant::TenantConfig& t : cfg.tenants) {
    for (std::string& f : t.rule_files) f = resolve(f);
  }
  for (std::string& f : cfg.playbooks.files) f = resolve(f);
  for (std::string& f : cfg.ui.dashboards) f = resolve(f);
  cfg.ui.assets_dir = resolve(cfg.ui.assets_dir);
  for (JwtKeyFileConfig& k : cfg.auth.jwt.public_key_files) {
    k.file = resolve(k.file);
    auto pem = env->ReadFile(k.file);
    if (!pem.ok()) {
      return Status(pem.status().code(),
                    "auth.jwt.public_key_files: cannot read " + k.file + ": " + pem.status().message());
    }
    auto key = auth::PublicKey::FromPem(*pem);
    if (!key.ok()) return InvalidArgument("auth.jwt.public_key_files: " + k.file + " " + key.status().message());
    cfg.auth.jwt.keys.push_back({k.kid, *std::move(key)});
  }
  if (!cfg.alertmanager.config_file.empty()) {
    std::string file = resolve(cfg.alertmanager.config_file);
    auto am = env->ReadFile(file);
    if (!am.ok()) return Status(am.status().code(), "alertmanager.config_file: cannot read " + file + ": " +
                                                         am.status().message());
    alertmanager::ParseOptions options;
    options.file = file;
    options.env = env;
    auto parsed = alertmanager::ParseConfig(*am, options);
    if (!parsed.ok()) return parsed.status();
    cfg.alertmanager.config = std::make_shared<const alertmanager::Config>(std::move(parsed).value());
  }
  return cfg;
}

Result<Config> ResolveConfig(Env* env, const Overrides& o) {
  Config cfg;
  if (o.config_file) {
    TYTO_ASSIGN_OR_RETURN(cfg, LoadConfig(env, *o.config_file));
  }
  if (o.data_dir) cfg.storage.data_dir = *o.data_dir;
  if (o.listen) {
    auto hp = http::ParseHostPort(*o.listen);
    if (!hp.ok()) return hp.status().WithContext("--listen");
    cfg.http.listen = *o.listen;
  }
  if (o.log_level) {
    auto l = log::ParseLevel(*o.log_level);
    if (!l.ok()) return l.status().WithContext("--log-level");
    cfg.log.level = *o.log_level;
  }
  if (cfg.storage.data_dir.empty()) return InvalidArgument("storage.data_dir must not be empty");
  TYTO_RETURN_IF_ERROR(CheckExposure(cfg, o.insecure_no_auth));
  return cfg;
}

Status CheckExposure(const Config& config, bool insecure_no_auth) {
  if (config.auth.enabled() || insecure_no_auth) return Status::Ok();
  auto hp = http::ParseHostPort(config.http.listen);
  if (!hp.ok()) return hp.status();
  if (http::IsLoopbackHost(hp->host)) return Status::Ok();
  return FailedPrecondition("refusing to listen on " + config.http.listen +
                            " without auth tokens: anyone who can reach it could read and write all data. "
                            "Configure auth.tokens (see `tyto token new`), listen on 127.0.0.1, or pass "
                            "--insecure-no-auth to accept the risk");
}

std::string AlertmanagerYaml(const Config& config) {
  config::Writer w;
  EncodeAlertmanager(config, w);
  return w.Text();
}

std::string ConfigYaml(const Config& config) {
  config::Writer w;
  ConfigSchema().Encode(config, w);
  return w.Text();
}

std::string ConfigReference() {
  std::vector<config::OptionDoc> rows;
  ConfigSchema().Document("", &rows);
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& r : rows) {
    out += "| `" + r.key + "` | " + r.type + " | `" + r.default_value + "` | " + r.help + " |\n";
  }
  return out;
}

}  // namespace tyto::server
