#include "server/config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "auth/auth.h"
#include "server/server.h"

namespace tyto::server {
namespace {

std::string Errors(std::string_view yaml) {
  auto c = ParseConfig(yaml, "tyto.yml");
  return c.ok() ? "" : c.status().message();
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  auto c = ParseConfig("", "tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.listen, "127.0.0.1:9800");
  EXPECT_EQ(c->storage.data_dir, "./data");
  EXPECT_EQ(c->http.read_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c->log.level, "info");
  EXPECT_TRUE(c->auth.tokens.empty());
}

TEST(ConfigTest, ReadsEverySection) {
  std::string hash = auth::HashSecret("s3cret");
  auto c = ParseConfig(R"(
http:
  listen: 0.0.0.0:9900
  read_timeout: 1m30s
  max_body_bytes: 64MiB
  gzip: false
  tls:
    cert_file: /etc/tyto/cert.pem
    key_file: /etc/tyto/key.pem
storage:
  data_dir: /var/lib/tyto
auth:
  tokens:
    - name: grafana
      secret_sha256: )" + hash + R"(
      scopes: [read]
log:
  level: debug
)",
                       "tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http.listen, "0.0.0.0:9900");
  EXPECT_EQ(c->http.read_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c->http.max_body_bytes, 64u << 20);
  EXPECT_FALSE(c->http.gzip);
  EXPECT_EQ(c->http.tls.key_file, "/etc/tyto/key.pem");
  EXPECT_EQ(c->storage.data_dir, "/var/lib/tyto");
  ASSERT_EQ(c->auth.tokens.size(), 1u);
  EXPECT_EQ(c->auth.tokens[0].name, "grafana");
  EXPECT_EQ(c->auth.tokens[0].scopes, std::vector<std::string>{"read"});
  EXPECT_EQ(c->log.level, "debug");
}

TEST(ConfigTest, UnknownKeySuggestsTheClosest) {
  EXPECT_EQ(Errors("http:\n  listne: 1.2.3.4:5\n"),
            "tyto.yml:2:3: unknown key 'listne' in section 'http', did you mean 'listen'?");
  EXPECT_EQ(Errors("htpt: {}\n"), "tyto.yml:1:1: unknown key 'htpt' in the top level, did you mean 'http'?");
  EXPECT_EQ(Errors("http:\n  zzzzzz: 1\n"), "tyto.yml:2:3: unknown key 'zzzzzz' in section 'http'");
}

TEST(ConfigTest, WrongTypesAreNamedWithPosition) {
  EXPECT_EQ(Errors("http:\n  read_timeout: [1, 2]\n"), "tyto.yml:2:17: expected a duration, got a list");
  EXPECT_EQ(Errors("http:\n  gzip: maybe\n"), "tyto.yml:2:9: expected true or false, got 'maybe'");
  EXPECT_EQ(Errors("http:\n  max_connections: lots\n"), "tyto.yml:2:20: expected an integer, got 'lots'");
  EXPECT_EQ(Errors("http:\n  max_connections: 0\n"), "tyto.yml:2:20: value 0 out of range [1, 1000000]");
  EXPECT_EQ(Errors("http: 5\n"), "tyto.yml:1:7: section 'http': expected a mapping, got a scalar");
  EXPECT_EQ(Errors("- a\n- b\n"),
            "tyto.yml:1:1: expected a mapping of sections (http, storage, auth, log), got a list");
}

TEST(ConfigTest, BadDurationsAndSizes) {
  EXPECT_EQ(Errors("http:\n  idle_timeout: 5 minutes\n"),
            "tyto.yml:2:17: invalid duration '5 minutes': unknown unit ' minutes' (expected e.g. 30s, 5m, 1h30m, 2d, "
            "500ms)");
  EXPECT_EQ(Errors("http:\n  idle_timeout: 0s\n"), "tyto.yml:2:17: duration 0s is below the minimum 1ms");
  std::string e = Errors("http:\n  max_body_bytes: 12XB\n");
  EXPECT_EQ(e.rfind("tyto.yml:2:19: invalid size '12XB': unknown unit 'XB'", 0), 0u) << e;
}

TEST(ConfigTest, DuplicateKeysAreErrors) {
  EXPECT_EQ(Errors("log:\n  level: info\n  level: debug\n"), "tyto.yml:3:3: duplicate key 'level' in section 'log'");
}

TEST(ConfigTest, EnumSuggestsTheClosest) {
  EXPECT_EQ(Errors("log:\n  level: debg\n"),
            "tyto.yml:2:10: invalid value 'debg' (expected one of debug, info, warn, error), did you mean 'debug'?");
}

TEST(ConfigTest, YamlSyntaxErrorHasPosition) {
  std::string e = Errors("http:\n  listen: [oops\n");
  EXPECT_EQ(e.rfind("tyto.yml:3:1: invalid YAML:", 0), 0u) << e;
}

TEST(ConfigTest, ListenAddressIsValidated) {
  EXPECT_EQ(Errors("http:\n  listen: nowhere\n").rfind("tyto.yml:2:11: invalid listen address 'nowhere': missing port", 0),
            0u);
}

TEST(ConfigTest, TlsNeedsBothFiles) {
  EXPECT_EQ(Errors("http:\n  tls:\n    cert_file: a.pem\n"), "tyto.yml:3:5: http.tls needs both cert_file and key_file");
}

TEST(ConfigTest, TokensAreChecked) {
  EXPECT_EQ(Errors("auth:\n  tokens:\n    - name: a\n      secret_sha256: plaintext\n      scopes: [read]\n"),
            "tyto.yml:3:7: token 'a': secret_sha256 must be 64 hex digits (the SHA-256 of the secret, never the "
            "secret itself; see `tyto token new`)");
  std::string h = auth::HashSecret("x");
  EXPECT_EQ(Errors("auth:\n  tokens:\n    - name: a\n      secret_sha256: " + h + "\n      scopes: [raed]\n"),
            "tyto.yml:3:7: token 'a': unknown scope 'raed' (expected read, write, edit, operate or admin)");
  EXPECT_EQ(Errors("auth:\n  tokens:\n    - name: a\n      secret_sha256: " + h + "\n"),
            "tyto.yml:3:7: token 'a' needs at least one scope, a role or roles");
  EXPECT_EQ(Errors("auth:\n  tokens:\n    - {name: a, secret_sha256: " + h + ", scopes: [read]}\n    - {name: a, secret_sha256: " +
                   h + ", scopes: [admin]}\n"),
            "tyto.yml:4:7: two tokens are named 'a'");
}

TEST(ConfigTest, EveryErrorIsReportedInFileOrder) {
  std::string e = Errors("http:\n  listne: x\n  gzip: 3\nlog:\n  level: loud\n");
  EXPECT_EQ(e,
            "tyto.yml:2:3: unknown key 'listne' in section 'http', did you mean 'listen'?\n"
            "tyto.yml:3:9: expected true or false, got '3'\n"
            "tyto.yml:5:10: invalid value 'loud' (expected one of debug, info, warn, error)");
}

TEST(ConfigTest, ExposureNeedsTokensOrTheFlag) {
  Config c;
  EXPECT_TRUE(CheckExposure(c, false).ok());
  c.http.listen = "0.0.0.0:9800";
  Status s = CheckExposure(c, false);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("--insecure-no-auth"), std::string::npos);
  EXPECT_TRUE(CheckExposure(c, true).ok());
  c.auth.tokens.push_back({"a", auth::HashSecret("x"), {"read"}});
  EXPECT_TRUE(CheckExposure(c, false).ok());
  c.auth.tokens.clear();
  c.http.listen = ":9800";
  EXPECT_FALSE(CheckExposure(c, false).ok());
  c.http.listen = "[::1]:9800";
  EXPECT_TRUE(CheckExposure(c, false).ok());
}

TEST(ConfigTest, FlagsOverrideTheFile) {
  Overrides o;
  o.data_dir = "/tmp/x";
  o.listen = "127.0.0.1:1234";
  o.log_level = "warn";
  auto c = ResolveConfig(Env::Default(), o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.data_dir, "/tmp/x");
  EXPECT_EQ(c->http.listen, "127.0.0.1:1234");
  EXPECT_EQ(c->log.level, "warn");
  o.listen = "0.0.0.0:1";
  EXPECT_EQ(ResolveConfig(Env::Default(), o).status().code(), StatusCode::kFailedPrecondition);
  o.listen = "bad";
  EXPECT_EQ(ResolveConfig(Env::Default(), o).status().message().rfind("--listen: invalid listen address", 0), 0u);
  o.listen.reset();
  o.config_file = "/nonexistent/tyto.yml";
  Status s = ResolveConfig(Env::Default(), o).status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nonexistent/tyto.yml"), std::string::npos);
}

// Alerting, as in prometheus.yml (rule_files, global.evaluation_interval, alerting) and
// alertmanager.yml (under `alertmanager:`, inline or from a file).
TEST(ConfigTest, ReadsAlertingSections) {
  auto c = ParseConfig(R"(
global:
  evaluation_interval: 15s
  rule_query_offset: 30s
rule_files: [rules/*.yml, /etc/tyto/extra.yml]
rules: {stock: false, outage_tolerance: 2h}
alerting:
  alertmanagers:
    - static_configs: [{targets: ["127.0.0.1:9093"]}]
      path_prefix: /am
alertmanager:
  route: {receiver: ops, group_by: [alertname]}
  receivers:
    - name: ops
      webhook_configs: [{url: "http://127.0.0.1:5001/hook"}]
)",
                       "tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.evaluation_interval, std::chrono::seconds(15));
  EXPECT_EQ(c->global.rule_query_offset, std::chrono::seconds(30));
  EXPECT_EQ(c->rule_files, (std::vector<std::string>{"rules/*.yml", "/etc/tyto/extra.yml"}));
  EXPECT_FALSE(c->rules.stock);
  EXPECT_EQ(c->rules.outage_tolerance, std::chrono::hours(2));
  ASSERT_EQ(c->alerting.alertmanagers.size(), 1u);
  EXPECT_EQ(c->alerting.alertmanagers[0].static_configs[0].targets[0], "127.0.0.1:9093");
  ASSERT_NE(c->alertmanager.config, nullptr);
  EXPECT_EQ(c->alertmanager.config->receivers[0].webhook_configs[0].url.value(), "http://127.0.0.1:5001/hook");
  // The webhook URL is a secret in Alertmanager: never shown.
  const std::string yaml = ConfigYaml(*c);
  EXPECT_EQ(yaml.find("5001"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("group_by"), std::string::npos) << yaml;

  // Alertmanager's own errors, at their place in tyto.yml.
  EXPECT_EQ(Errors("alertmanager:\n  route: {receiver: nobody}\n  receivers: [{name: ops}]\n"),
            "alertmanager: tyto.yml:2:21: undefined receiver \"nobody\" used in route");
  EXPECT_EQ(Errors("alertmanager: [1]\n"),
            "tyto.yml:1:15: alertmanager: expected a mapping (Alertmanager's configuration, or config_file), got a list");
  EXPECT_EQ(Errors("alertmanager: {config_file: a.yml, route: {receiver: x}}\n"),
            "tyto.yml:1:16: alertmanager: config_file excludes an inline configuration; write one or the other");
}

// Files named in tyto.yml are read relative to its folder.
TEST(ConfigTest, AlertmanagerConfigFileAndRuleFilesAreRelativeToTheConfig) {
  char tmpl[] = "/tmp/tyto-config-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/tyto.yml") << "rule_files: [alerts/*.yml]\nalertmanager: {config_file: am.yml}\n";
  std::ofstream(dir + "/am.yml") << "route: {receiver: ops}\nreceivers: [{name: ops}]\n";
  auto c = LoadConfig(Env::Default(), dir + "/tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->rule_files, std::vector<std::string>{dir + "/alerts/*.yml"});
  ASSERT_NE(c->alertmanager.config, nullptr);
  EXPECT_EQ(c->alertmanager.config->route.receiver->name, "ops");
  EXPECT_NE(ConfigYaml(*c).find("config_file: am.yml"), std::string::npos);
  // A bad alertmanager.yml names itself.
  std::ofstream(dir + "/am.yml") << "route: {receiver: nobody}\nreceivers: [{name: ops}]\n";
  Status s = LoadConfig(Env::Default(), dir + "/tyto.yml").status();
  EXPECT_EQ(s.message(), dir + "/am.yml:1:19: undefined receiver \"nobody\" used in route") << s.ToString();
  std::remove((dir + "/am.yml").c_str());
  s = LoadConfig(Env::Default(), dir + "/tyto.yml").status();
  EXPECT_NE(s.message().find("alertmanager.config_file: cannot read " + dir + "/am.yml"), std::string::npos) << s.ToString();
  std::remove((dir + "/tyto.yml").c_str());
  rmdir(dir.c_str());
}

// auth.jwt: key files are read relative to the config, named by kid or file name, and checked.
TEST(ConfigTest, JwtKeyFilesAreReadAndChecked) {
  constexpr char kP256[] =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBWua8pGN+5I8L6ywpSr0QV32Zh/M\n"
      "O7tDEcHXQPuGh3sQH98Xd6qD4S1TgZwwdJ3bfOQ0uar+TutbBrbm7QpRMA==\n"
      "-----END PUBLIC KEY-----\n";
  constexpr char kP384[] =
      "-----BEGIN PUBLIC KEY-----\n"
      "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE+/t6A1xfF/ukevaW/bjRvVtD5XixGhdG\n"
      "il8Kyhtx/plmsmkGbE3xhiWnzwwGEVrqar3zBKj3duguVGi5YGxneAW0DWfQO7NO\n"
      "Z7lsHA79nRKS2YbvdgKtRnD+vUaSr6Lw\n"
      "-----END PUBLIC KEY-----\n";
  char tmpl[] = "/tmp/tyto-config-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/idp.pem") << kP256;
  std::ofstream(dir + "/tyto.yml") << "auth:\n  jwt:\n    public_key_files: [idp.pem, {file: idp.pem, kid: k2}]\n"
                                      "    audience: tyto\n    leeway: 30s\n";
  auto c = LoadConfig(Env::Default(), dir + "/tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->auth.jwt.keys.size(), 2u);
  EXPECT_EQ(c->auth.jwt.keys[0].kid, "idp.pem");
  EXPECT_EQ(c->auth.jwt.keys[1].kid, "k2");
  EXPECT_EQ(c->auth.jwt.public_key_files[0].file, dir + "/idp.pem");
  EXPECT_TRUE(c->auth.enabled());
  EXPECT_TRUE(MakeAuthenticator(c->auth)->enabled());
  c->http.listen = "0.0.0.0:9800";
  EXPECT_TRUE(CheckExposure(*c, false).ok());  // JWT alone is authentication
  // Checked keys name the file.
  std::ofstream(dir + "/idp.pem") << kP384;
  Status s = LoadConfig(Env::Default(), dir + "/tyto.yml").status();
  EXPECT_NE(s.message().find("auth.jwt.public_key_files: " + dir + "/idp.pem holds an EC key on curve secp384r1"),
            std::string::npos)
      << s.ToString();
  std::ofstream(dir + "/idp.pem") << "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";
  s = LoadConfig(Env::Default(), dir + "/tyto.yml").status();
  EXPECT_NE(s.message().find("holds a private key"), std::string::npos) << s.ToString();
  std::remove((dir + "/idp.pem").c_str());
  s = LoadConfig(Env::Default(), dir + "/tyto.yml").status();
  EXPECT_NE(s.message().find("auth.jwt.public_key_files: cannot read " + dir + "/idp.pem"), std::string::npos)
      << s.ToString();
  std::remove((dir + "/tyto.yml").c_str());
  rmdir(dir.c_str());
  // The section's own rules.
  EXPECT_NE(Errors("auth: {jwt: {audience: tyto}}").find("auth.jwt needs public_key_files"), std::string::npos);
  EXPECT_NE(Errors("auth: {jwt: {public_key_files: [a/k.pem, b/k.pem]}}").find("two keys have kid 'k.pem'"),
            std::string::npos);
  EXPECT_NE(Errors("auth: {jwt: {public_key_files: [k.pem], leeway: 1h}}").find("leeway is over 10m"),
            std::string::npos);
  EXPECT_NE(Errors("auth: {jwt: {public_key_files: [{kid: x}]}}").find("names no file"), std::string::npos);
  EXPECT_NE(Errors("auth: {jwt: {public_key_files: [{file: k.pem, kidd: x}]}}").find("did you mean 'kid'"),
            std::string::npos);
}

TEST(ConfigTest, UiSection) {
  auto c = ParseConfig("ui: {assets_dir: web/dist, dashboards: [dash/*.json, /abs/x.json]}\nhttp: {max_streams: 8}\n",
                       "tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ui.assets_dir, "web/dist");
  EXPECT_EQ(c->ui.dashboards, (std::vector<std::string>{"dash/*.json", "/abs/x.json"}));
  EXPECT_EQ(c->http.max_streams, 8);
  EXPECT_EQ(ParseConfig("", "tyto.yml")->ui, UiConfig{});
  EXPECT_NE(Errors("ui: {assets_dirs: x}").find("did you mean 'assets_dir'"), std::string::npos) << Errors("ui: {assets_dirs: x}");
  EXPECT_NE(Errors("ui: {dashboards: x.json}").find("tyto.yml:1:18: expected a list of strings"), std::string::npos) << Errors("ui: {dashboards: x.json}");
  EXPECT_NE(Errors("http: {max_streams: 0}"), "");
  // Relative paths are from the configuration file's folder.
  char tmpl[] = "/tmp/tyto-config-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/tyto.yml") << "ui: {assets_dir: dist, dashboards: [d/*.json]}\n";
  auto loaded = LoadConfig(Env::Default(), dir + "/tyto.yml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->ui.assets_dir, dir + "/dist");
  EXPECT_EQ(loaded->ui.dashboards, std::vector<std::string>{dir + "/d/*.json"});
  std::remove((dir + "/tyto.yml").c_str());
  rmdir(dir.c_str());
}

// /api/v1/status/config: every option with its value, secrets redacted, and what reads back
// to the same configuration but for them.
TEST(ConfigTest, YamlShowsTheConfigurationWithSecretsRedacted) {
  const std::string hash = auth::HashSecret("s3cret");
  auto c = ParseConfig(R"(
http:
  listen: 0.0.0.0:9900
auth:
  tokens:
    - name: grafana
      secret_sha256: )" + hash + R"(
      scopes: [read]
scrape_configs:
  - job_name: gpu
    basic_auth: {username: scraper, password: hunter2}
    static_configs:
      - targets: ["gpu-1:9400"]
        labels: {rack: r1}
    metric_relabel_configs:
      - {source_labels: [__name__], regex: "go_.*", action: drop}
  - job_name: vllm
    authorization: {credentials: tok3n}
)",
                       "tyto.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string yaml = ConfigYaml(*c);
  for (const char* secret : {"hunter2", "tok3n"}) EXPECT_EQ(yaml.find(secret), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find(hash), std::string::npos) << yaml;
  for (const char* line : {"  listen: 0.0.0.0:9900\n", "      secret_sha256: <secret>\n", "      password: <secret>\n",
                           "      credentials: <secret>\n", "      password_file: \"\"\n", "      type: Bearer\n",
                           "  - job_name: gpu\n", "      - targets:\n          - gpu-1:9400\n",
                           "          rack: r1\n", "        regex: go_.*\n", "  read_timeout: 30s\n",
                           "  max_body_bytes: 32MiB\n", "  wal_fsync: interval\n", "  scrape_interval: 1m\n"}) {
    EXPECT_NE(yaml.find(line), std::string::npos) << line << " missing from\n" << yaml;
  }
  // A redacted token hash no longer validates; the rest reads back as shown.
  Config without_tokens = *c;
  without_tokens.auth.tokens.clear();
  const std::string shown = ConfigYaml(without_tokens);
  auto again = ParseConfig(shown, "shown.yml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << shown;
  EXPECT_EQ(ConfigYaml(*again), shown);
  EXPECT_EQ(again->scrape_configs[0].basic_auth.password, "<secret>");
  EXPECT_EQ(again->scrape_configs[0].metric_relabel_configs, c->scrape_configs[0].metric_relabel_configs);
}

// docs/configuration.md embeds the generated reference; this keeps it in step with the table.
TEST(ConfigTest, ReferenceDocIsCurrent) {
  std::ifstream f(std::string(TYTO_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(f) << "docs/configuration.md missing";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string reference = ConfigReference();
  EXPECT_NE(ss.str().find(reference), std::string::npos)
      << "docs/configuration.md is out of date; its table must read:\n"
      << reference;
  EXPECT_NE(reference.find("| `http.tls.cert_file` | string |"), std::string::npos);
  EXPECT_NE(reference.find("| `http.read_timeout` | duration | `30s` |"), std::string::npos);
  EXPECT_NE(reference.find("| `auth.tokens[].scopes` | list of strings |"), std::string::npos);
}

}  // namespace
}  // namespace tyto::server
