#include "alertmanager/config.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <utility>

#include "common/units.h"

namespace tyto::alertmanager {
namespace {

using config::Node;

Status ErrorAt(const config::Position& p, const std::string& what) {
  return InvalidArgument(p.ToString() + ": " + what);
}
Status ErrorAt(const Node& node, const std::string& what) { return ErrorAt(node.position(), what); }

Result<std::string> ReadString(const Node& n) {
  if (n.IsNull()) return std::string();
  if (!n.IsScalar()) return ErrorAt(n, "expected a string, got " + std::string(n.KindName()));
  return n.scalar();
}

Result<bool> ReadBool(const Node& n) {
  if (n.IsScalar() && !n.quoted()) {
    if (n.scalar() == "true") return true;
    if (n.scalar() == "false") return false;
  }
  return ErrorAt(n, "expected true or false");
}

Result<Duration> ReadDuration(const Node& n) {
  if (!n.IsScalar()) return ErrorAt(n, "expected a duration such as 5m, got " + std::string(n.KindName()));
  auto d = ParseDuration(n.scalar());
  if (!d.ok()) return ErrorAt(n, "invalid duration '" + n.scalar() + "': " + d.status().message());
  return *d;
}

Result<std::vector<std::string>> ReadStrings(const Node& n) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) return ErrorAt(n, "expected a list of strings, got " + std::string(n.KindName()));
  for (const Node& item : n.items()) {
    if (!item.IsScalar()) return ErrorAt(item, "expected a string, got " + std::string(item.KindName()));
    out.push_back(item.scalar());
  }
  return out;
}

Result<std::map<std::string, std::string>> ReadStringMap(const Node& n) {
  std::map<std::string, std::string> out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) return ErrorAt(n, "expected a mapping, got " + std::string(n.KindName()));
  for (const auto& [k, v] : n.entries()) {
    if (!v.IsScalar() && !v.IsNull()) return ErrorAt(v, "expected a string, got " + std::string(v.KindName()));
    if (!out.emplace(k.scalar(), v.scalar()).second) return ErrorAt(k, "duplicate key '" + k.scalar() + "'");
  }
  return out;
}

// The keys a mapping may hold, each with how to read it: a declarative table per section, so
// unknown and duplicate keys are found in one place.
class Fields {
 public:
  explicit Fields(std::string where) : where_(std::move(where)) {}

  Fields& Custom(std::string key, std::function<Status(const Node&)> read) {
    handlers_.emplace(std::move(key), std::move(read));
    return *this;
  }
  Fields& Str(std::string key, std::string* out) {
    return Custom(std::move(key), [out](const Node& n) -> Status {
      TYTO_ASSIGN_OR_RETURN(*out, ReadString(n));
      return Status::Ok();
    });
  }
  Fields& SecretStr(std::string key, alertmanager::Secret* out) {
    return Custom(std::move(key), [out](const Node& n) -> Status {
      // The value never goes into the message.
      if (!n.IsScalar() && !n.IsNull()) return ErrorAt(n, "expected a string, got " + std::string(n.KindName()));
      *out = alertmanager::Secret(n.scalar());
      return Status::Ok();
    });
  }
  Fields& Bool(std::string key, bool* out) {
    return Custom(std::move(key), [out](const Node& n) -> Status {
      TYTO_ASSIGN_OR_RETURN(*out, ReadBool(n));
      return Status::Ok();
    });
  }
  Fields& OptDuration(std::string key, std::optional<Duration>* out) {
    return Custom(std::move(key), [out](const Node& n) -> Status {
      TYTO_ASSIGN_OR_RETURN(*out, ReadDuration(n));
      return Status::Ok();
    });
  }
  Fields& StrMap(std::string key, std::map<std::string, std::string>* out) {
    return Custom(std::move(key), [out](const Node& n) -> Status {
      TYTO_ASSIGN_OR_RETURN(*out, ReadStringMap(n));
      return Status::Ok();
    });
  }
  // A key Alertmanager accepts that Tyto does not implement yet.
  Fields& NotYet(std::string key) {
    return Custom(key, [key, this](const Node& n) -> Status {
      return ErrorAt(n, "'" + key + "' in " + where_ + " is not supported yet");
    });
  }

  Status Read(const Node& map) const {
    if (map.IsNull()) return Status::Ok();
    if (!map.IsMap()) return ErrorAt(map, "expected a mapping for " + where_ + ", got " + std::string(map.KindName()));
    std::set<std::string> seen;
    for (const auto& [key, value] : map.entries()) {
      if (!key.IsScalar()) return ErrorAt(key, "expected a string key in " + where_);
      const std::string& k = key.scalar();
      if (!seen.insert(k).second) return ErrorAt(key, "duplicate key '" + k + "' in " + where_);
      auto it = handlers_.find(k);
      if (it == handlers_.end()) return ErrorAt(key, "unknown key '" + k + "' in " + where_);
      TYTO_RETURN_IF_ERROR(it->second(value));
    }
    return Status::Ok();
  }

 private:
  std::string where_;
  std::map<std::string, std::function<Status(const Node&)>> handlers_;
};

template <typename T, typename ReadOne>
Status ReadList(const Node& n, std::vector<T>* out, ReadOne read_one) {
  if (n.IsNull()) return Status::Ok();
  if (!n.IsSequence()) return ErrorAt(n, "expected a list, got " + std::string(n.KindName()));
  for (const Node& item : n.items()) {
    T value;
    TYTO_RETURN_IF_ERROR(read_one(item, &value));
    out->push_back(std::move(value));
  }
  return Status::Ok();
}

// `matchers: ['a="b"', 'c=~"d"']`: each string is one matcher or a list of them.
Status ReadMatcherStrings(const Node& n, Matchers* out) {
  if (n.IsNull()) return Status::Ok();
  if (!n.IsSequence()) return ErrorAt(n, "expected a list of matchers, got " + std::string(n.KindName()));
  for (const Node& item : n.items()) {
    if (!item.IsScalar()) return ErrorAt(item, "expected a matcher string, got " + std::string(item.KindName()));
    auto ms = ParseMatchers(item.scalar());
    if (!ms.ok()) return ErrorAt(item, "invalid matcher '" + item.scalar() + "': " + ms.status().message());
    out->insert(out->end(), ms->begin(), ms->end());
  }
  return Status::Ok();
}

// The older `match:` (equality) and `match_re:` (regex) maps.
Status ReadMatchMap(const Node& n, MatchType type, Matchers* out) {
  if (n.IsNull()) return Status::Ok();
  if (!n.IsMap()) return ErrorAt(n, "expected a mapping of label names to values, got " + std::string(n.KindName()));
  for (const auto& [k, v] : n.entries()) {
    if (!v.IsScalar()) return ErrorAt(v, "expected a string, got " + std::string(v.KindName()));
    auto m = Matcher::Make(type, k.scalar(), v.scalar());
    if (!m.ok()) return ErrorAt(type == MatchType::kEqual ? k : v, m.status().message());
    out->push_back(std::move(m).value());
  }
  return Status::Ok();
}

Status ReadReferences(const Node& n, std::vector<Reference>* out) {
  return ReadList(n, out, [](const Node& item, Reference* r) -> Status {
    if (!item.IsScalar()) return ErrorAt(item, "expected a time interval name");
    *r = {item.scalar(), item.position()};
    return Status::Ok();
  });
}

Status ReadHttpConfig(const Node& n, HttpConfig* h) {
  bool has_basic = false, has_authz = false;
  Fields basic("basic_auth");
  basic.Str("username", &h->basic_auth_username)
      .SecretStr("password", &h->basic_auth_password)
      .Str("password_file", &h->basic_auth_password_file)
      .NotYet("username_file");
  Fields authz("authorization");
  authz.Str("type", &h->authorization_type)
      .SecretStr("credentials", &h->authorization_credentials)
      .Str("credentials_file", &h->authorization_credentials_file);
  Fields tls("tls_config");
  tls.Bool("insecure_skip_verify", &h->tls_insecure_skip_verify)
      .Str("ca_file", &h->tls_ca_file).Str("cert_file", &h->tls_cert_file).Str("key_file", &h->tls_key_file)
      .Str("server_name", &h->tls_server_name).NotYet("min_version");
  Fields f("http_config");
  f.Custom("basic_auth", [&](const Node& v) { has_basic = true; return basic.Read(v); })
      .Custom("authorization", [&](const Node& v) { has_authz = true; return authz.Read(v); })
      .SecretStr("bearer_token", &h->bearer_token)
      .Str("bearer_token_file", &h->bearer_token_file)
      .Str("proxy_url", &h->proxy_url)
      .Bool("follow_redirects", &h->follow_redirects)
      .Custom("tls_config", [&](const Node& v) { return tls.Read(v); })
      .NotYet("oauth2").NotYet("enable_http2").NotYet("no_proxy").NotYet("proxy_from_environment");
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (h->tls_cert_file.empty() != h->tls_key_file.empty()) {
    return ErrorAt(n, "tls_config: cert_file and key_file must be given together");
  }
  int ways = (has_basic ? 1 : 0) + (has_authz ? 1 : 0) +
             (!h->bearer_token.empty() || !h->bearer_token_file.empty() ? 1 : 0);
  if (ways > 1) return ErrorAt(n, "at most one of basic_auth, authorization and bearer_token may be configured");
  if (!h->basic_auth_password.empty() && !h->basic_auth_password_file.empty()) {
    return ErrorAt(n, "at most one of basic_auth password and password_file may be configured");
  }
  if (has_authz) {
    if (h->authorization_type.empty()) h->authorization_type = "Bearer";
    if (h->authorization_type == "Basic" || h->authorization_type == "basic") {
      return ErrorAt(n, "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
    }
  }
  return Status::Ok();
}

Status ReadWebhook(const Node& n, WebhookConfig* w, const GlobalConfig& g) {
  bool has_http = false;
  std::string max_alerts;
  Fields f("webhook_configs");
  f.Bool("send_resolved", &w->send_resolved)
      .SecretStr("url", &w->url)
      .Str("url_file", &w->url_file)
      .Str("max_alerts", &max_alerts)
      .OptDuration("timeout", &w->timeout)
      .Custom("http_config", [&](const Node& v) { has_http = true; return ReadHttpConfig(v, &w->http_config); });
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (!has_http) w->http_config = g.http_config;
  if (!max_alerts.empty()) {
    auto [p, ec] = std::from_chars(max_alerts.data(), max_alerts.data() + max_alerts.size(), w->max_alerts);
    if (ec != std::errc() || p != max_alerts.data() + max_alerts.size()) {
      return ErrorAt(n, "max_alerts must be a non-negative integer, got '" + max_alerts + "'");
    }
  }
  if (w->url.empty() == w->url_file.empty()) return ErrorAt(n, "one of url or url_file must be configured");
  if (!w->url.empty()) {
    std::string_view u = w->url.value();
    if (!u.starts_with("http://") && !u.starts_with("https://")) {
      return ErrorAt(n, "webhook url must start with http:// or https://");  // value not printed: a secret
    }
  }
  return Status::Ok();
}

Status ReadSlack(const Node& n, SlackConfig* s, const GlobalConfig& g) {
  bool has_http = false;
  Fields f("slack_configs");
  f.Bool("send_resolved", &s->send_resolved)
      .SecretStr("api_url", &s->api_url)
      .Str("api_url_file", &s->api_url_file)
      .Str("channel", &s->channel).Str("username", &s->username).Str("title", &s->title)
      .Str("title_link", &s->title_link).Str("text", &s->text).Str("color", &s->color)
      .Str("icon_emoji", &s->icon_emoji).Str("icon_url", &s->icon_url).Str("pretext", &s->pretext)
      .Str("footer", &s->footer)
      .Custom("http_config", [&](const Node& v) { has_http = true; return ReadHttpConfig(v, &s->http_config); })
      .NotYet("actions").NotYet("fields").NotYet("callback_id").NotYet("fallback").NotYet("image_url")
      .NotYet("thumb_url").NotYet("link_names").NotYet("mrkdwn_in").NotYet("short_fields");
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (!has_http) s->http_config = g.http_config;
  if (!s->api_url.empty() && !s->api_url_file.empty()) {
    return ErrorAt(n, "at most one of api_url and api_url_file must be configured");
  }
  if (s->api_url.empty() && s->api_url_file.empty()) {
    if (g.slack_api_url.empty()) return ErrorAt(n, "no global Slack API URL set");
    s->api_url = g.slack_api_url;
  }
  return Status::Ok();
}

Status ReadPagerduty(const Node& n, PagerdutyConfig* p, const GlobalConfig& g) {
  bool has_http = false;
  Fields f("pagerduty_configs");
  f.Bool("send_resolved", &p->send_resolved)
      .SecretStr("routing_key", &p->routing_key)
      .SecretStr("service_key", &p->service_key)
      .Str("url", &p->url).Str("client", &p->client).Str("client_url", &p->client_url)
      .Str("description", &p->description).Str("severity", &p->severity).Str("component", &p->component)
      .Str("group", &p->group).Str("class", &p->class_name).Str("source", &p->source)
      .StrMap("details", &p->details)
      .Custom("http_config", [&](const Node& v) { has_http = true; return ReadHttpConfig(v, &p->http_config); })
      .NotYet("routing_key_file").NotYet("service_key_file").NotYet("images").NotYet("links");
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (!has_http) p->http_config = g.http_config;
  if (p->routing_key.empty() && p->service_key.empty()) {
    return ErrorAt(n, "missing service or routing key in PagerDuty config");
  }
  if (p->url.empty()) p->url = g.pagerduty_url;
  return Status::Ok();
}

Status ReadEmail(const Node& n, EmailConfig* e, const GlobalConfig& g) {
  std::optional<bool> require_tls;
  Fields tls("tls_config");
  tls.Str("ca_file", &e->tls_ca_file).Str("server_name", &e->tls_server_name)
      .Bool("insecure_skip_verify", &e->tls_insecure_skip_verify)
      .NotYet("cert_file").NotYet("key_file").NotYet("min_version");
  Fields f("email_configs");
  f.Bool("send_resolved", &e->send_resolved)
      .Str("to", &e->to).Str("from", &e->from).Str("hello", &e->hello).Str("smarthost", &e->smarthost)
      .Str("auth_username", &e->auth_username).Str("auth_identity", &e->auth_identity)
      .SecretStr("auth_password", &e->auth_password).SecretStr("auth_secret", &e->auth_secret)
      .StrMap("headers", &e->headers)
      .Str("html", &e->html).Str("text", &e->text)
      .Custom("require_tls", [&](const Node& v) -> Status {
        TYTO_ASSIGN_OR_RETURN(bool b, ReadBool(v));
        require_tls = b;
        return Status::Ok();
      })
      .Custom("tls_config", [&](const Node& v) { return tls.Read(v); })
      .NotYet("auth_password_file");
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (e->to.empty()) return ErrorAt(n, "missing to address in email config");
  // Header names are case-insensitive; two spellings of one header are an error.
  std::set<std::string> seen;
  for (const auto& [name, value] : e->headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (!seen.insert(lower).second) return ErrorAt(n, "duplicate header \"" + name + "\" in email config");
  }
  if (e->smarthost.empty()) {
    if (g.smtp_smarthost.empty()) return ErrorAt(n, "no global SMTP smarthost set");
    e->smarthost = g.smtp_smarthost;
  }
  if (e->from.empty()) {
    if (g.smtp_from.empty()) return ErrorAt(n, "no global mail from address set");
    e->from = g.smtp_from;
  }
  if (e->hello.empty()) e->hello = g.smtp_hello;
  if (e->auth_username.empty()) e->auth_username = g.smtp_auth_username;
  if (e->auth_password.empty()) e->auth_password = g.smtp_auth_password;
  if (e->auth_identity.empty()) e->auth_identity = g.smtp_auth_identity;
  if (e->auth_secret.empty()) e->auth_secret = g.smtp_auth_secret;
  e->require_tls = require_tls.value_or(g.smtp_require_tls);
  return Status::Ok();
}

Status ReadReceiver(const Node& n, Receiver* r, const GlobalConfig& g) {
  r->position = n.position();
  Fields f("receiver");
  f.Str("name", &r->name)
      .Custom("webhook_configs", [&](const Node& v) {
        return ReadList(v, &r->webhook_configs, [&](const Node& i, WebhookConfig* w) { return ReadWebhook(i, w, g); });
      })
      .Custom("slack_configs", [&](const Node& v) {
        return ReadList(v, &r->slack_configs, [&](const Node& i, SlackConfig* s) { return ReadSlack(i, s, g); });
      })
      .Custom("pagerduty_configs", [&](const Node& v) {
        return ReadList(v, &r->pagerduty_configs,
                        [&](const Node& i, PagerdutyConfig* p) { return ReadPagerduty(i, p, g); });
      })
      .Custom("email_configs", [&](const Node& v) {
        return ReadList(v, &r->email_configs, [&](const Node& i, EmailConfig* e) { return ReadEmail(i, e, g); });
      });
  for (const char* other : {"opsgenie_configs", "wechat_configs", "pushover_configs", "victorops_configs",
                            "sns_configs", "telegram_configs", "webex_configs", "discord_configs",
                            "msteams_configs", "msteamsv2_configs", "jira_configs", "rocketchat_configs"}) {
    f.NotYet(other);
  }
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (r->name.empty()) return ErrorAt(n, "missing name in receiver");
  return Status::Ok();
}

Status ReadGlobal(const Node& n, GlobalConfig* g) {
  std::optional<Duration> resolve_timeout;
  Fields f("global");
  f.OptDuration("resolve_timeout", &resolve_timeout)
      .Str("smtp_from", &g->smtp_from).Str("smtp_hello", &g->smtp_hello)
      .Str("smtp_smarthost", &g->smtp_smarthost).Str("smtp_auth_username", &g->smtp_auth_username)
      .SecretStr("smtp_auth_password", &g->smtp_auth_password).Str("smtp_auth_identity", &g->smtp_auth_identity)
      .SecretStr("smtp_auth_secret", &g->smtp_auth_secret).Bool("smtp_require_tls", &g->smtp_require_tls)
      .SecretStr("slack_api_url", &g->slack_api_url).Str("pagerduty_url", &g->pagerduty_url)
      .Custom("http_config", [&](const Node& v) { return ReadHttpConfig(v, &g->http_config); });
  for (const char* other : {"smtp_auth_password_file", "slack_api_url_file", "opsgenie_api_url", "opsgenie_api_key",
                            "opsgenie_api_key_file", "wechat_api_url", "wechat_api_secret", "wechat_api_corp_id",
                            "victorops_api_url", "victorops_api_key", "victorops_api_key_file", "telegram_api_url",
                            "webex_api_url", "rocketchat_api_url", "smtp_tls_config", "jira_api_url"}) {
    f.NotYet(other);
  }
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (resolve_timeout) g->resolve_timeout = *resolve_timeout;
  return Status::Ok();
}

Status ReadRoute(const Node& n, RouteConfig* r) {
  r->position = n.position();
  Fields f("route");
  f.Custom("receiver", [&](const Node& v) -> Status {
        TYTO_ASSIGN_OR_RETURN(std::string name, ReadString(v));
        r->receiver = Reference{name, v.position()};
        return Status::Ok();
      })
      .Custom("group_by", [&](const Node& v) -> Status {
        TYTO_ASSIGN_OR_RETURN(std::vector<std::string> labels, ReadStrings(v));
        std::set<std::string> seen;
        bool wildcard = false;
        for (const auto& l : labels) {
          if (l == "...") {
            wildcard = true;
          } else if (l.empty()) {
            return ErrorAt(v, "empty label name in group_by");
          }
          if (!seen.insert(l).second) return ErrorAt(v, "duplicated label \"" + l + "\" in group_by");
        }
        if (wildcard && labels.size() > 1) {
          return ErrorAt(v, "cannot have wildcard group_by (`...`) and other labels at the same time");
        }
        r->group_by = std::move(labels);
        return Status::Ok();
      })
      .Custom("matchers", [&](const Node& v) { return ReadMatcherStrings(v, &r->matchers); })
      .Custom("match", [&](const Node& v) { return ReadMatchMap(v, MatchType::kEqual, &r->matchers); })
      .Custom("match_re", [&](const Node& v) { return ReadMatchMap(v, MatchType::kRegexMatch, &r->matchers); })
      .Bool("continue", &r->continue_matching)
      .OptDuration("group_wait", &r->group_wait)
      .OptDuration("group_interval", &r->group_interval)
      .OptDuration("repeat_interval", &r->repeat_interval)
      .Custom("mute_time_intervals", [&](const Node& v) { return ReadReferences(v, &r->mute_time_intervals); })
      .Custom("active_time_intervals", [&](const Node& v) { return ReadReferences(v, &r->active_time_intervals); })
      .Custom("routes", [&](const Node& v) {
        return ReadList(v, &r->routes, [](const Node& i, RouteConfig* c) { return ReadRoute(i, c); });
      });
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (r->group_interval && r->group_interval->count() == 0) return ErrorAt(n, "group_interval cannot be zero");
  if (r->repeat_interval && r->repeat_interval->count() == 0) return ErrorAt(n, "repeat_interval cannot be zero");
  return Status::Ok();
}

Status ReadInhibitRule(const Node& n, InhibitRule* r) {
  r->position = n.position();
  Fields f("inhibit_rules");
  f.Custom("source_matchers", [&](const Node& v) { return ReadMatcherStrings(v, &r->source_matchers); })
      .Custom("target_matchers", [&](const Node& v) { return ReadMatcherStrings(v, &r->target_matchers); })
      .Custom("source_match", [&](const Node& v) { return ReadMatchMap(v, MatchType::kEqual, &r->source_matchers); })
      .Custom("source_match_re",
              [&](const Node& v) { return ReadMatchMap(v, MatchType::kRegexMatch, &r->source_matchers); })
      .Custom("target_match", [&](const Node& v) { return ReadMatchMap(v, MatchType::kEqual, &r->target_matchers); })
      .Custom("target_match_re",
              [&](const Node& v) { return ReadMatchMap(v, MatchType::kRegexMatch, &r->target_matchers); })
      .Custom("equal", [&](const Node& v) -> Status {
        TYTO_ASSIGN_OR_RETURN(r->equal, ReadStrings(v));
        return Status::Ok();
      });
  return f.Read(n);
}

Status ReadNamedTimeInterval(const Node& n, NamedTimeInterval* t, const ParseOptions& o, Env* env) {
  t->position = n.position();
  Fields f("time_intervals");
  f.Str("name", &t->name).Custom("time_intervals", [&](const Node& v) {
    return ReadList(v, &t->intervals, [&](const Node& i, TimeInterval* ti) -> Status {
      TYTO_ASSIGN_OR_RETURN(*ti, ParseTimeInterval(i, env, o.zoneinfo_dir));
      return Status::Ok();
    });
  });
  TYTO_RETURN_IF_ERROR(f.Read(n));
  if (t->name.empty()) return ErrorAt(n, "missing name in time interval");
  return Status::Ok();
}

Status CheckRouteReferences(const Config& c, const RouteConfig& r) {
  if (r.receiver && !r.receiver->name.empty() && c.FindReceiver(r.receiver->name) == nullptr) {
    return ErrorAt(r.receiver->position, "undefined receiver \"" + r.receiver->name + "\" used in route");
  }
  for (const auto* refs : {&r.mute_time_intervals, &r.active_time_intervals}) {
    for (const auto& ref : *refs) {
      if (c.FindTimeInterval(ref.name) == nullptr) {
        return ErrorAt(ref.position, "undefined time interval \"" + ref.name + "\" used in route");
      }
    }
  }
  for (const auto& child : r.routes) TYTO_RETURN_IF_ERROR(CheckRouteReferences(c, child));
  return Status::Ok();
}

}  // namespace

const Receiver* Config::FindReceiver(std::string_view name) const {
  for (const auto& r : receivers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const NamedTimeInterval* Config::FindTimeInterval(std::string_view name) const {
  for (const auto& t : time_intervals) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<Config> ParseConfig(std::string_view text, const ParseOptions& options) {
  TYTO_ASSIGN_OR_RETURN(Node root, config::ParseYaml(text, options.file));
  return ParseConfigNode(root, options);
}

Result<Config> ParseConfigNode(const Node& root, const ParseOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  Config c;
  config::Position file_position{options.file, 0, 0};
  if (root.IsNull()) return ErrorAt(file_position, "no route provided in config");
  // The global section fills defaults of receivers, so it is read first wherever it is written.
  for (const auto& [k, v] : root.IsMap() ? root.entries() : std::vector<std::pair<Node, Node>>{}) {
    if (k.scalar() == "global") TYTO_RETURN_IF_ERROR(ReadGlobal(v, &c.global));
  }
  bool has_route = false;
  std::optional<Node> route_node;
  Fields f("the configuration");
  f.Custom("global", [](const Node&) { return Status::Ok(); })
      .Custom("route", [&](const Node& v) -> Status {
        has_route = true;
        route_node = v;
        return ReadRoute(v, &c.route);
      })
      .Custom("receivers", [&](const Node& v) {
        return ReadList(v, &c.receivers, [&](const Node& i, Receiver* r) { return ReadReceiver(i, r, c.global); });
      })
      .Custom("inhibit_rules", [&](const Node& v) {
        return ReadList(v, &c.inhibit_rules, [](const Node& i, InhibitRule* r) { return ReadInhibitRule(i, r); });
      })
      .Custom("time_intervals", [&](const Node& v) {
        return ReadList(v, &c.time_intervals,
                        [&](const Node& i, NamedTimeInterval* t) { return ReadNamedTimeInterval(i, t, options, env); });
      })
      .Custom("mute_time_intervals", [&](const Node& v) {
        return ReadList(v, &c.time_intervals,
                        [&](const Node& i, NamedTimeInterval* t) { return ReadNamedTimeInterval(i, t, options, env); });
      })
      .Custom("templates", [&](const Node& v) -> Status {
        TYTO_ASSIGN_OR_RETURN(c.templates, ReadStrings(v));
        return Status::Ok();
      })
      .NotYet("tracing");
  TYTO_RETURN_IF_ERROR(f.Read(root));

  std::set<std::string> names;
  for (const auto& r : c.receivers) {
    if (!names.insert(r.name).second) {
      return ErrorAt(r.position, "notification config name \"" + r.name + "\" is not unique");
    }
  }
  names.clear();
  for (const auto& t : c.time_intervals) {
    if (!names.insert(t.name).second) return ErrorAt(t.position, "time interval \"" + t.name + "\" is not unique");
  }
  if (!has_route || route_node->IsNull()) return ErrorAt(file_position, "no route provided in config");
  const RouteConfig& root_route = c.route;
  if (!root_route.receiver || root_route.receiver->name.empty()) {
    return ErrorAt(root_route.position, "root route must specify a default receiver");
  }
  if (!root_route.matchers.empty()) return ErrorAt(root_route.position, "root route must not have any matchers");
  if (root_route.continue_matching) return ErrorAt(root_route.position, "cannot have continue in root route");
  if (!root_route.mute_time_intervals.empty()) {
    return ErrorAt(root_route.position, "root route must not have any mute time intervals");
  }
  if (!root_route.active_time_intervals.empty()) {
    return ErrorAt(root_route.position, "root route must not have any active time intervals");
  }
  TYTO_RETURN_IF_ERROR(CheckRouteReferences(c, c.route));
  return c;
}

}  // namespace tyto::alertmanager
