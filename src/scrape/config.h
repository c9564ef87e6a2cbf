// Scrape configuration in Prometheus's own YAML: the `global` section's scrape defaults and a
// `scrape_configs` list that can be pasted from prometheus.yml. Field names, defaults and
// checks follow Prometheus; what Tyto does not support is rejected by name, never ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "relabel/relabel.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::scrape {

struct GlobalConfig {
  std::chrono::milliseconds scrape_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds scrape_timeout{std::chrono::seconds(10)};
  std::map<std::string, std::string> external_labels;
  // Rule evaluation (prometheus.yml's global keys of the same names).
  std::chrono::milliseconds evaluation_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds rule_query_offset{0};
};

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;
};

struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;
};

struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
};

struct StaticConfig {
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;
};

struct FileSdConfig {
  std::vector<std::string> files;  // JSON or YAML; a '*' in the last path element is a glob
  std::chrono::milliseconds refresh_interval{std::chrono::minutes(5)};
};

struct ScrapeConfig {
  std::string job_name;
  // 0: the global default.
  std::chrono::milliseconds scrape_interval{0};
  std::chrono::milliseconds scrape_timeout{0};
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  BasicAuth basic_auth;
  Authorization authorization;
  TlsConfig tls_config;
  bool honor_labels = false;
  bool honor_timestamps = true;
  // 0: no limit.
  uint64_t sample_limit = 0;
  uint64_t target_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t body_size_limit = 0;
  std::vector<StaticConfig> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<relabel::Config> relabel_configs;
  std::vector<relabel::Config> metric_relabel_configs;
};

const config::Section<GlobalConfig>& GlobalSchema();
// The credentials and TLS sections, as scrape jobs and remote write (`tyto agent`) use them.
const config::Section<BasicAuth>& BasicAuthSchema();
const config::Section<Authorization>& AuthorizationSchema();
const config::Section<TlsConfig>& TlsConfigSchema();

// An inline secret, or its file's content without trailing line breaks (read at each use, so a
// rotated secret needs no reload). Errors name `what` ("basic_auth password_file").
Result<std::string> ReadSecret(Env* env, const std::string& inline_value, const std::string& file,
                               std::string_view what);
// One entry of `scrape_configs`.
const config::Section<ScrapeConfig>& ScrapeConfigSchema();

// Fills a job's zero interval and timeout from `global` (and checks timeout <= interval, which
// Prometheus requires); kInvalidArgument naming the job otherwise.
Status ApplyDefaults(const GlobalConfig& global, ScrapeConfig* job);

}  // namespace tyto::scrape
