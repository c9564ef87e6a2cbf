#include "alertmanager/config.h"

#include <gtest/gtest.h>

namespace tyto::alertmanager {
namespace {

using namespace std::chrono_literals;

// In the spirit of Alertmanager's doc/examples/simple.yml and configuration.md's examples:
// globals, a nested routing tree with both matcher syntaxes, four kinds of receivers, the two
// spellings of inhibit rules and a time interval.
constexpr std::string_view kFull = R"(
global:
  resolve_timeout: 10m
  smtp_smarthost: 'mail.example.org:587'
  smtp_from: 'alertmanager@example.org'
  smtp_auth_username: 'alertmanager'
  smtp_auth_password: 'hunter2'
  slack_api_url: 'https://hooks.slack.com/services/T0/B0/XYZ'
route:
  receiver: team-X-mails
  group_by: ['alertname', 'cluster', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 3h
  routes:
  - matchers: ['service=~"foo1|foo2|baz"']
    receiver: team-X-mails
    routes:
    - matchers: [severity="critical"]
      receiver: team-X-pager
  - match:
      service: files
    receiver: team-Y-mails
    continue: true
    mute_time_intervals: [offhours]
  - match_re:
      service: database|db
    receiver: team-DB-pager
    group_by: [...]
    active_time_intervals: [offhours]
receivers:
- name: team-X-mails
  email_configs:
  - to: 'team-X+alerts@example.org'
    headers: {Subject: 'alert!'}
    tls_config: {ca_file: /etc/tyto/mail-ca.pem, server_name: mail.internal}
- name: team-X-pager
  pagerduty_configs:
  - routing_key: 'abc123'
    severity: critical
- name: team-Y-mails
  slack_configs:
  - channel: '#y'
    title: 'hi'
    send_resolved: true
- name: team-DB-pager
  webhook_configs:
  - url: 'http://127.0.0.1:5001/'
    max_alerts: 10
    http_config:
      basic_auth: {username: u, password: secretpw}
      tls_config: {ca_file: /etc/tyto/ca.pem, server_name: hooks.internal}
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [alertname, cluster, service]
- source_match: {severity: critical}
  target_match_re: {severity: 'warning|info'}
time_intervals:
- name: offhours
  time_intervals:
  - times: [{start_time: '17:00', end_time: '24:00'}]
    weekdays: ['monday:friday']
)";

TEST(Config, ParsesTheFullExample) {
  auto c = ParseConfig(kFull);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.resolve_timeout, 10min);
  EXPECT_EQ(c->route.receiver->name, "team-X-mails");
  EXPECT_EQ(c->route.group_wait, 30s);
  EXPECT_EQ(c->route.repeat_interval, 3h);
  ASSERT_EQ(c->route.routes.size(), 3u);
  EXPECT_EQ(MatchersToString(c->route.routes[0].matchers), R"({service=~"foo1|foo2|baz"})");
  EXPECT_EQ(MatchersToString(c->route.routes[0].routes[0].matchers), R"({severity="critical"})");
  EXPECT_EQ(MatchersToString(c->route.routes[1].matchers), R"({service="files"})");
  EXPECT_TRUE(c->route.routes[1].continue_matching);
  EXPECT_EQ(c->route.routes[1].mute_time_intervals[0].name, "offhours");
  EXPECT_EQ(MatchersToString(c->route.routes[2].matchers), R"({service=~"database|db"})");
  EXPECT_EQ(*c->route.routes[2].group_by, std::vector<std::string>{"..."});
  ASSERT_EQ(c->receivers.size(), 4u);
  // Email fields come from global when left out.
  const EmailConfig& email = c->FindReceiver("team-X-mails")->email_configs.at(0);
  EXPECT_EQ(email.smarthost, "mail.example.org:587");
  EXPECT_EQ(email.from, "alertmanager@example.org");
  EXPECT_EQ(email.auth_password.value(), "hunter2");
  EXPECT_EQ(email.auth_password.ToString(), "<secret>");
  EXPECT_TRUE(email.require_tls);
  EXPECT_FALSE(email.send_resolved);
  EXPECT_EQ(email.headers.at("Subject"), "alert!");
  EXPECT_EQ(email.tls_ca_file, "/etc/tyto/mail-ca.pem");
  EXPECT_EQ(email.tls_server_name, "mail.internal");
  EXPECT_FALSE(email.tls_insecure_skip_verify);
  const PagerdutyConfig& pd = c->FindReceiver("team-X-pager")->pagerduty_configs.at(0);
  EXPECT_EQ(pd.url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(pd.severity, "critical");
  const SlackConfig& slack = c->FindReceiver("team-Y-mails")->slack_configs.at(0);
  EXPECT_EQ(slack.api_url.value(), "https://hooks.slack.com/services/T0/B0/XYZ");
  EXPECT_TRUE(slack.send_resolved);
  const WebhookConfig& hook = c->FindReceiver("team-DB-pager")->webhook_configs.at(0);
  EXPECT_EQ(hook.max_alerts, 10u);
  EXPECT_TRUE(hook.send_resolved);
  EXPECT_EQ(hook.http_config.basic_auth_password.value(), "secretpw");
  EXPECT_EQ(hook.http_config.tls_ca_file, "/etc/tyto/ca.pem");
  EXPECT_EQ(hook.http_config.tls_server_name, "hooks.internal");
  EXPECT_FALSE(hook.http_config.tls_insecure_skip_verify);
  ASSERT_EQ(c->inhibit_rules.size(), 2u);
  EXPECT_EQ(c->inhibit_rules[0].equal, (std::vector<std::string>{"alertname", "cluster", "service"}));
  EXPECT_EQ(MatchersToString(c->inhibit_rules[1].source_matchers), R"({severity="critical"})");
  EXPECT_EQ(MatchersToString(c->inhibit_rules[1].target_matchers), R"({severity=~"warning|info"})");
  ASSERT_NE(c->FindTimeInterval("offhours"), nullptr);
  EXPECT_EQ(c->FindTimeInterval("offhours")->intervals.size(), 1u);
}

// amtool check-config's errors, each with file:line:column.
TEST(Config, ErrorsWithPositions) {
  struct Case {
    std::string_view yaml, error;
  } cases[] = {
      {"", "alertmanager.yml: no route provided in config"},
      {"receivers: [{name: a}]\n", "alertmanager.yml: no route provided in config"},
      {"route: {group_by: [a]}\n", "alertmanager.yml:1:8: root route must specify a default receiver"},
      {"route: {receiver: a, matchers: [x=y]}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:8: root route must not have any matchers"},
      {"route: {receiver: a, continue: true}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:8: cannot have continue in root route"},
      {"route:\n  receiver: a\n  routes:\n  - receiver: nope\nreceivers: [{name: a}]\n",
       "alertmanager.yml:4:15: undefined receiver \"nope\" used in route"},
      {"route:\n  receiver: a\n  routes:\n  - mute_time_intervals: [never]\nreceivers: [{name: a}]\n",
       "alertmanager.yml:4:27: undefined time interval \"never\" used in route"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n- name: a\n",
       "alertmanager.yml:4:3: notification config name \"a\" is not unique"},
      {"route: {receiver: a}\nreceivers:\n- webhook_configs: []\n", "alertmanager.yml:3:3: missing name in receiver"},
      {"route: {receiver: a, group_wait: 5 minutes}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:34: invalid duration '5 minutes'"},
      {"route: {receiver: a, group_interval: 0s}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:8: group_interval cannot be zero"},
      {"route: {receiver: a, group_by: [a, a]}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:32: duplicated label \"a\" in group_by"},
      {"route: {receiver: a, group_by: [..., a]}\nreceivers: [{name: a}]\n",
       "alertmanager.yml:1:32: cannot have wildcard group_by (`...`) and other labels at the same time"},
      {"route:\n  receiver: a\n  matchers: ['foo=~\"(\"']\n",
       "alertmanager.yml:3:14: invalid matcher 'foo=~\"(\"': column 6: invalid regular expression"},
      {"route:\n  receiver: a\n  match_re: {foo: '('}\n",
       "alertmanager.yml:3:19: invalid regular expression \"(\""},
      {"route: {receiver: a, recevier: b}\n", "alertmanager.yml:1:22: unknown key 'recevier' in route"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  opsgenie_configs: []\n",
       "alertmanager.yml:4:21: 'opsgenie_configs' in receiver is not supported yet"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{send_resolved: true}]\n",
       "alertmanager.yml:4:21: one of url or url_file must be configured"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'http://x', max_alerts: -1}]\n",
       "alertmanager.yml:4:21: max_alerts must be a non-negative integer, got '-1'"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  slack_configs: [{channel: x}]\n",
       "alertmanager.yml:4:19: no global Slack API URL set"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  pagerduty_configs: [{severity: x}]\n",
       "alertmanager.yml:4:23: missing service or routing key in PagerDuty config"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{from: x}]\n",
       "alertmanager.yml:4:19: missing to address in email config"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x, from: y}]\n",
       "alertmanager.yml:4:19: no global SMTP smarthost set"},
      {"global: {smtp_smarthost: 'h:25'}\nroute: {receiver: a}\nreceivers:\n- name: a\n  email_configs: [{to: x}]\n",
       "alertmanager.yml:5:19: no global mail from address set"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs:\n  - url: 'http://x'\n"
       "    http_config: {basic_auth: {username: u}, bearer_token: t}\n",
       "alertmanager.yml:6:18: at most one of basic_auth, authorization and bearer_token may be configured"},
      {"route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs:\n  - url: 'https://x'\n"
       "    http_config: {tls_config: {cert_file: c.pem}}\n",
       "alertmanager.yml:6:18: tls_config: cert_file and key_file must be given together"},
      {"global: {resolve_timeout: forever}\n", "alertmanager.yml:1:27: invalid duration 'forever'"},
      {"route: {receiver: a, continue: yes please}\n", "alertmanager.yml:1:32: expected true or false"},
      {"route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n- name: t\n- name: t\n",
       "alertmanager.yml:5:3: time interval \"t\" is not unique"},
      {"route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n- time_intervals: []\n",
       "alertmanager.yml:4:3: missing name in time interval"},
      {"route: {receiver: a}\nreceivers: [{name: a}]\ntime_intervals:\n- name: t\n  time_intervals:\n"
       "  - weekdays: [someday]\n",
       "alertmanager.yml:6:16: invalid range 'someday'"},
      {"route: {receiver: a}\nroute: {receiver: a}\n", "alertmanager.yml:2:1: duplicate key 'route'"},
      {"route: [a]\n", "alertmanager.yml:1:8: expected a mapping for route, got a list"},
      {"route: {receiver: a\n", "alertmanager.yml:"},
  };
  for (const auto& c : cases) {
    auto r = ParseConfig(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_EQ(r.status().message().substr(0, c.error.size()), c.error) << c.yaml;
  }
}

TEST(Config, SecretsNeverInMessages) {
  // A webhook URL carries its token; a bad one is reported without it.
  auto r = ParseConfig("route: {receiver: a}\nreceivers:\n- name: a\n  webhook_configs: [{url: 'ftp://tok3n'}]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find("tok3n"), std::string::npos) << r.status().message();
  auto s = ParseConfig("global: {slack_api_url: [tok3n]}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().find("tok3n"), std::string::npos) << s.status().message();
  EXPECT_EQ(Secret().ToString(), "");
}

// configuration.md: the older top-level `mute_time_intervals` shares one namespace with
// `time_intervals`; global http_config applies to receivers without their own.
TEST(Config, LegacyMuteTimeIntervalsAndGlobalHttpConfig) {
  auto c = ParseConfig(R"(
global:
  http_config: {authorization: {credentials: tok}}
route:
  receiver: a
  routes: [{receiver: a, mute_time_intervals: [old], active_time_intervals: [new]}]
receivers:
- name: a
  webhook_configs: [{url: 'https://a'}, {url: 'https://b', http_config: {follow_redirects: false}}]
mute_time_intervals:
- name: old
  time_intervals: [{weekdays: [saturday, sunday]}]
time_intervals:
- name: new
  time_intervals: [{months: [december]}]
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->time_intervals.size(), 2u);
  const auto& hooks = c->FindReceiver("a")->webhook_configs;
  EXPECT_EQ(hooks[0].http_config.authorization_type, "Bearer");
  EXPECT_EQ(hooks[0].http_config.authorization_credentials.value(), "tok");
  EXPECT_TRUE(hooks[0].http_config.follow_redirects);
  EXPECT_TRUE(hooks[1].http_config.authorization_credentials.empty());
  EXPECT_FALSE(hooks[1].http_config.follow_redirects);
  auto dup = ParseConfig("route: {receiver: a}\nreceivers: [{name: a}]\nmute_time_intervals: [{name: t}]\n"
                         "time_intervals: [{name: t}]\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "alertmanager.yml:4:18: time interval \"t\" is not unique");
  auto bad = ParseConfig("route: {receiver: a}\nreceivers: [{name: a}]\ninhibit_rules:\n- target_matchers: ['a=~\"[\"']\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 48), "alertmanager.yml:4:21: invalid matcher 'a=~\"[\"':");
}

TEST(Config, FileNameInPositions) {
  ParseOptions o;
  o.file = "/etc/am.yml";
  auto r = ParseConfig("route: {}\n", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "/etc/am.yml:1:8: root route must specify a default receiver");
}

}  // namespace
}  // namespace tyto::alertmanager
