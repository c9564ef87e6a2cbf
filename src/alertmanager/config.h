// Alertmanager's configuration file (alertmanager.yml): the global defaults, the routing tree,
// receivers, inhibition rules and time intervals, parsed and validated as `amtool check-config`
// validates them. Every error names file:line:column. Unknown keys are errors (Alertmanager
// reads its file strictly); keys that Alertmanager knows but Tyto does not implement yet
// (other integrations such as opsgenie_configs, templates' content, oauth2) are errors that say
// so, instead of being silently ignored.
//
// Secrets (passwords, tokens, keys, webhook and Slack URLs) are kept in Secret, which never
// prints its value: error messages and ToString() show "<secret>".
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/matchers.h"
#include "alertmanager/time_interval.h"
#include "config/yaml.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::alertmanager {

using Duration = std::chrono::milliseconds;

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  // The value itself, for the code that sends with it; never for logs or messages.
  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  // "<secret>", or "" when empty.
  std::string ToString() const { return value_.empty() ? "" : "<secret>"; }

 private:
  std::string value_;
};

// A name and where it was written, so that a later check can point at the reference.
struct Reference {
  std::string name;
  config::Position position;
};

struct HttpConfig {
  std::string basic_auth_username;
  Secret basic_auth_password;
  std::string basic_auth_password_file;
  std::string authorization_type;  // "Bearer" when credentials are set without a type
  Secret authorization_credentials;
  std::string authorization_credentials_file;
  Secret bearer_token;  // the older spelling of authorization: {type: Bearer}
  std::string bearer_token_file;
  std::string proxy_url;
  bool follow_redirects = true;
  // tls_config: the server's certificate is verified (chain and host name) unless
  // insecure_skip_verify; ca_file adds trusted CAs (PEM; empty: the system's store).
  std::string tls_ca_file;
  std::string tls_cert_file, tls_key_file;  // a client certificate, both or neither
  std::string tls_server_name;              // the name verified (and sent as SNI); empty: the URL's host
  bool tls_insecure_skip_verify = false;
};

struct GlobalConfig {
  Duration resolve_timeout = std::chrono::minutes(5);
  std::string smtp_from;
  std::string smtp_hello = "localhost";
  std::string smtp_smarthost;  // host:port
  std::string smtp_auth_username;
  Secret smtp_auth_password;
  std::string smtp_auth_identity;
  Secret smtp_auth_secret;
  bool smtp_require_tls = true;
  Secret slack_api_url;
  std::string pagerduty_url = "https://events.pagerduty.com/v2/enqueue";
  HttpConfig http_config;
};

// Receivers' integrations. Fields a receiver leaves out are filled from `global` after
// parsing, so a parsed Config needs no further defaulting.
struct WebhookConfig {
  bool send_resolved = true;
  Secret url;
  std::string url_file;
  uint64_t max_alerts = 0;  // 0 = all
  std::optional<Duration> timeout;
  HttpConfig http_config;
};

struct SlackConfig {
  bool send_resolved = false;
  Secret api_url;
  std::string api_url_file;
  std::string channel, username, title, title_link, text, color, icon_emoji, icon_url, pretext, footer;
  HttpConfig http_config;
};

struct PagerdutyConfig {
  bool send_resolved = true;
  Secret routing_key;  // Events API v2
  Secret service_key;  // Events API v1
  std::string url;
  std::string client, client_url, description, severity, component, group, class_name, source;
  std::map<std::string, std::string> details;
  HttpConfig http_config;
};

struct EmailConfig {
  bool send_resolved = false;
  std::string to, from, hello, smarthost;
  std::string auth_username, auth_identity;
  Secret auth_password, auth_secret;
  std::map<std::string, std::string> headers;
  std::string html, text;
  bool require_tls = true;
  // tls_config (STARTTLS and implicit TLS): ca_file (empty: the system's store), server_name
  // (empty: the smarthost's host) and insecure_skip_verify, as for http_config.
  std::string tls_ca_file;
  std::string tls_server_name;
  bool tls_insecure_skip_verify = false;
};

struct Receiver {
  std::string name;
  config::Position position;
  std::vector<WebhookConfig> webhook_configs;
  std::vector<SlackConfig> slack_configs;
  std::vector<PagerdutyConfig> pagerduty_configs;
  std::vector<EmailConfig> email_configs;
};

// One node of the routing tree as written. Options left out are inherited at routing time
// (route.h), so they are optional here.
struct RouteConfig {
  std::optional<Reference> receiver;
  std::optional<std::vector<std::string>> group_by;  // as written, "..." included
  Matchers matchers;  // `matchers`, `match` and `match_re` together
  bool continue_matching = false;  // `continue`
  std::optional<Duration> group_wait, group_interval, repeat_interval;
  std::vector<Reference> mute_time_intervals;
  std::vector<Reference> active_time_intervals;
  std::vector<RouteConfig> routes;
  config::Position position;
};

struct InhibitRule {
  Matchers source_matchers;  // `source_matchers` and `source_match` / `source_match_re`
  Matchers target_matchers;
  std::vector<std::string> equal;
  config::Position position;
};

struct Config {
  GlobalConfig global;
  RouteConfig route;
  std::vector<Receiver> receivers;
  std::vector<InhibitRule> inhibit_rules;
  // `time_intervals` and the older `mute_time_intervals`, one namespace.
  std::vector<NamedTimeInterval> time_intervals;
  std::vector<std::string> templates;  // file globs, kept but not read yet

  const Receiver* FindReceiver(std::string_view name) const;
  const NamedTimeInterval* FindTimeInterval(std::string_view name) const;
};

struct ParseOptions {
  std::string file = "alertmanager.yml";  // for positions
  Env* env = nullptr;                     // reads time zones; nullptr = Env::Default()
  std::string zoneinfo_dir = kZoneinfoDir;
};

// Parses and validates. The first error is returned; its message starts with file:line:column.
Result<Config> ParseConfig(std::string_view text, const ParseOptions& options = {});
// The same from a parsed YAML node (the `alertmanager:` section of tyto.yml): positions are the
// node's own; options.file names the whole when the node is null.
Result<Config> ParseConfigNode(const config::Node& root, const ParseOptions& options = {});

}  // namespace tyto::alertmanager
