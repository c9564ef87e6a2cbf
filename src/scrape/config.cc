#include "scrape/config.h"

#include "config/schema.h"

namespace tyto::scrape {

using config::Diagnostics;
using config::Node;
using config::Section;

const Section<GlobalConfig>& GlobalSchema() {
  static const auto* s = [] {
    auto* g = new Section<GlobalConfig>("global", "Defaults for every scrape job, as in prometheus.yml.");
    g->Duration("scrape_interval", &GlobalConfig::scrape_interval, "How often to scrape a target by default.",
                std::chrono::milliseconds(1))
        .Duration("scrape_timeout", &GlobalConfig::scrape_timeout, "How long a scrape may take by default.",
                  std::chrono::milliseconds(1))
        .StringMap("external_labels", &GlobalConfig::external_labels,
                   "Labels added to series and alerts sent to other systems (remote write, notifications).")
        .Duration("evaluation_interval", &GlobalConfig::evaluation_interval,
                  "How often rule groups are evaluated by default (a group's `interval` overrides it).",
                  std::chrono::milliseconds(1))
        .Duration("rule_query_offset", &GlobalConfig::rule_query_offset,
                  "How far back in time rule groups evaluate by default (a group's `query_offset` overrides it), "
                  "for data that arrives late.")
        .Validate([](const GlobalConfig& c, const Node& n, Diagnostics& d) {
          if (c.scrape_timeout > c.scrape_interval) {
            d.Add(n.position(), "global: scrape_timeout is greater than scrape_interval");
          }
        });
    return g;
  }();
  return *s;
}

Result<std::string> ReadSecret(Env* env, const std::string& inline_value, const std::string& file,
                               std::string_view what) {
  if (file.empty()) return inline_value;
  auto s = env->ReadFile(file);
  if (!s.ok()) return s.status().WithContext(std::string(what));
  std::string v = std::move(s).value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

const Section<BasicAuth>& BasicAuthSchema() {
  static const auto* s = [] {
    auto* basic = new Section<BasicAuth>("basic_auth", "HTTP basic authentication.");
    basic->String("username", &BasicAuth::username, "User name.")
        .Secret("password", &BasicAuth::password, "Password.")
        .String("password_file", &BasicAuth::password_file, "A file holding the password (read at each request).")
        .Validate([](const BasicAuth& b, const Node& n, Diagnostics& d) {
          if (!b.password.empty() && !b.password_file.empty()) {
            d.Add(n.position(), "basic_auth: at most one of password and password_file may be set");
          }
        });
    return basic;
  }();
  return *s;
}

const Section<Authorization>& AuthorizationSchema() {
  static const auto* s = [] {
    auto* authz = new Section<Authorization>("authorization", "The Authorization header sent.");
    authz->String("type", &Authorization::type, "The scheme: Bearer, or another word.")
        .Secret("credentials", &Authorization::credentials, "The credentials.")
        .String("credentials_file", &Authorization::credentials_file, "A file holding the credentials.")
        .Validate([](const Authorization& a, const Node& n, Diagnostics& d) {
          if (!a.credentials.empty() && !a.credentials_file.empty()) {
            d.Add(n.position(), "authorization: at most one of credentials and credentials_file may be set");
          }
          if (a.type == "Basic" || a.type == "basic") {
            d.Add(n.position(), "authorization: type Basic is not allowed; use basic_auth");
          }
        });
    return authz;
  }();
  return *s;
}

const Section<TlsConfig>& TlsConfigSchema() {
  static const auto* s = [] {
    auto* tls = new Section<TlsConfig>("tls_config", "TLS for https connections.");
    tls->String("ca_file", &TlsConfig::ca_file, "CA certificates (PEM) to verify the server with.")
        .String("cert_file", &TlsConfig::cert_file, "Client certificate (PEM).")
        .String("key_file", &TlsConfig::key_file, "Client key (PEM).")
        .String("server_name", &TlsConfig::server_name, "Server name to ask for and verify.")
        .Bool("insecure_skip_verify", &TlsConfig::insecure_skip_verify, "Do not verify the server's certificate.")
        .Validate([](const TlsConfig& t, const Node& n, Diagnostics& d) {
          if (t.cert_file.empty() != t.key_file.empty()) {
            d.Add(n.position(), "tls_config: cert_file and key_file must be given together");
          }
        });
    return tls;
  }();
  return *s;
}

const Section<ScrapeConfig>& ScrapeConfigSchema() {
  static const auto* s = [] {
    const Section<BasicAuth>& basic = BasicAuthSchema();
    const Section<Authorization>& authz = AuthorizationSchema();
    const Section<TlsConfig>& tls = TlsConfigSchema();
    Section<StaticConfig> stat("static_configs", "Targets listed in the file.");
    stat.StringList("targets", &StaticConfig::targets, "host:port of each target.")
        .StringMap("labels", &StaticConfig::labels, "Labels given to every target of the group.");
    Section<FileSdConfig> file("file_sd_configs", "Targets read from JSON or YAML files, re-read when they change.");
    file.StringList("files", &FileSdConfig::files, "Paths; '*' in the file name matches any characters.")
        .Duration("refresh_interval", &FileSdConfig::refresh_interval, "Re-read at least this often.",
                  std::chrono::seconds(1));

    auto* job = new Section<ScrapeConfig>("scrape_configs", "A scrape job, as in prometheus.yml.");
    job->String("job_name", &ScrapeConfig::job_name, "The job's name: the `job` label of its targets.")
        .Duration("scrape_interval", &ScrapeConfig::scrape_interval, "How often to scrape (0: global default).")
        .Duration("scrape_timeout", &ScrapeConfig::scrape_timeout, "How long a scrape may take (0: global default).")
        .String("metrics_path", &ScrapeConfig::metrics_path, "The HTTP path to scrape.")
        .Enum("scheme", &ScrapeConfig::scheme, {"http", "https"}, "The URL scheme.")
        .StringListMap("params", &ScrapeConfig::params, "URL query parameters.")
        .Nested("basic_auth", &ScrapeConfig::basic_auth, basic)
        .Nested("authorization", &ScrapeConfig::authorization, authz)
        .Nested("tls_config", &ScrapeConfig::tls_config, tls)
        .Bool("honor_labels", &ScrapeConfig::honor_labels,
              "Keep scraped labels that clash with target labels (otherwise they become exported_<name>).")
        .Bool("honor_timestamps", &ScrapeConfig::honor_timestamps, "Keep timestamps the target gives.")
        .Int("sample_limit", &ScrapeConfig::sample_limit, "Samples per scrape after relabelling (0: no limit).", 0,
             INT64_MAX)
        .Int("target_limit", &ScrapeConfig::target_limit, "Targets of the job after relabelling (0: no limit).", 0,
             INT64_MAX)
        .Int("label_limit", &ScrapeConfig::label_limit, "Labels per series (0: no limit).", 0, INT64_MAX)
        .Int("label_name_length_limit", &ScrapeConfig::label_name_length_limit, "Longest label name (0: no limit).", 0,
             INT64_MAX)
        .Int("label_value_length_limit", &ScrapeConfig::label_value_length_limit, "Longest label value (0: no limit).",
             0, INT64_MAX)
        .ByteSize("body_size_limit", &ScrapeConfig::body_size_limit, "Largest uncompressed body (0: no limit).")
        .List("static_configs", &ScrapeConfig::static_configs, stat)
        .List("file_sd_configs", &ScrapeConfig::file_sd_configs, file)
        .List("relabel_configs", &ScrapeConfig::relabel_configs, relabel::ConfigSchema())
        .List("metric_relabel_configs", &ScrapeConfig::metric_relabel_configs, relabel::ConfigSchema())
        .Validate([](const ScrapeConfig& c, const Node& n, Diagnostics& d) {
          if (c.job_name.empty()) d.Add(n.position(), "scrape_configs: job_name is required");
          if (c.scrape_interval.count() > 0 && c.scrape_timeout > c.scrape_interval) {
            d.Add(n.position(), "job '" + c.job_name + "': scrape_timeout is greater than scrape_interval");
          }
          if ((!c.basic_auth.username.empty() || !c.basic_auth.password.empty() ||
               !c.basic_auth.password_file.empty()) &&
              (!c.authorization.credentials.empty() || !c.authorization.credentials_file.empty())) {
            d.Add(n.position(), "job '" + c.job_name + "': at most one of basic_auth and authorization may be set");
          }
          for (const StaticConfig& sc : c.static_configs) {
            for (const std::string& t : sc.targets) {
              if (t.empty() || t.find('/') != std::string::npos) {
                d.Add(n.position(), "job '" + c.job_name + "': target '" + t + "' is not host:port");
              }
            }
          }
        });
    return job;
  }();
  return *s;
}

Status ApplyDefaults(const GlobalConfig& global, ScrapeConfig* job) {
  if (job->scrape_interval.count() == 0) job->scrape_interval = global.scrape_interval;
  if (job->scrape_timeout.count() == 0) {
    // Prometheus: the global timeout, but never longer than the job's interval.
    job->scrape_timeout = std::min(global.scrape_timeout, job->scrape_interval);
  }
  if (job->scrape_timeout > job->scrape_interval) {
    return InvalidArgument("job '" + job->job_name + "': scrape_timeout is greater than scrape_interval");
  }
  return Status::Ok();
}

}  // namespace tyto::scrape
