// Tests of the webhook, Slack and PagerDuty integrations against a fake receiver on 127.0.0.1:
// payloads field by field as Alertmanager 0.27 sends them, auth headers, secret files, and
// which failures may be retried.
#include "alertmanager/integrations.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include "alertmanager/default_templates.h"
#include "alertmanager/fake_http_receiver.h"
#include "common/units.h"
#include "testing/temp_dir.h"

namespace tyto::alertmanager {
namespace {

// 2023-11-14T22:13:20Z
constexpr int64_t kT0 = 1700000000000;

Notification TwoAlerts() {
  Notification n;
  n.receiver = "team-x";
  n.group_key = "{}:{alertname=\"HighLatency\"}";
  n.group_labels = {{"alertname", "HighLatency"}};
  n.external_url = "http://tyto.example:9800";
  n.now_ms = kT0 + 60000;
  Alert firing;
  firing.labels = {{"alertname", "HighLatency"}, {"service", "api"}, {"pod", "a"}};
  firing.annotations = {{"summary", "p99 over 2s"}};
  firing.starts_at_ms = kT0 + 500;
  firing.ends_at_ms = kT0 + 600000;  // in the future: still firing
  firing.generator_url = "http://tyto.example:9800/graph?g0.expr=x";
  Alert resolved;
  resolved.labels = {{"alertname", "HighLatency"}, {"service", "api"}, {"pod", "b"}};
  resolved.annotations = {{"summary", "p99 over 2s"}};
  resolved.starts_at_ms = kT0;
  resolved.ends_at_ms = kT0 + 30000;
  n.alerts = {firing, resolved};
  n.common_labels = {{"alertname", "HighLatency"}, {"service", "api"}};
  n.common_annotations = {{"summary", "p99 over 2s"}};
  return n;
}

rapidjson::Document Parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  EXPECT_FALSE(d.HasParseError()) << body;
  return d;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<missing " + std::string(key) + ">";
  return v[key].GetString();
}

std::string Sha256Hex(std::string_view s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", d[i]);
    out += buf;
  }
  return out;
}

std::string Fingerprint16(const LabelSet& l) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(Fingerprint(l)));
  return buf;
}

class IntegrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Integration> One(const Receiver& r, IntegrationOptions o = {}) {
    auto list = BuildIntegrations(r, GlobalConfig{}, Env::Default(), o);
    EXPECT_EQ(list.size(), 1u);
    return list.empty() ? nullptr : std::move(list[0]);
  }
  Receiver WebhookReceiver(const std::string& path, uint64_t max_alerts = 0) {
    Receiver r;
    r.name = "team-x";
    WebhookConfig w;
    w.url = Secret(receiver_.Url(path));
    w.max_alerts = max_alerts;
    r.webhook_configs.push_back(w);
    return r;
  }

  FakeHttpReceiver receiver_;
  testing::TempDir dir_;
};

TEST_F(IntegrationsTest, WebhookSendsAlertmanagersMessageFieldByField) {
  auto w = One(WebhookReceiver("/hook"));
  EXPECT_EQ(w->Kind(), "webhook");
  EXPECT_EQ(w->Index(), 0);
  EXPECT_TRUE(w->SendResolved());
  DeliveryResult r = w->Deliver(TwoAlerts(), 5000);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(receiver_.Count(), 1u);
  const http::Request req = receiver_.Requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/hook");
  EXPECT_EQ(req.Header("content-type").value_or(""), "application/json");
  rapidjson::Document d = Parse(req.body);
  EXPECT_EQ(Str(d, "receiver"), "team-x");
  EXPECT_EQ(Str(d, "status"), "firing");
  EXPECT_EQ(Str(d, "version"), "4");
  EXPECT_EQ(Str(d, "groupKey"), "{}:{alertname=\"HighLatency\"}");
  EXPECT_EQ(Str(d, "externalURL"), "http://tyto.example:9800");
  ASSERT_TRUE(d["truncatedAlerts"].IsUint64());
  EXPECT_EQ(d["truncatedAlerts"].GetUint64(), 0u);
  EXPECT_EQ(Str(d["groupLabels"], "alertname"), "HighLatency");
  EXPECT_EQ(d["commonLabels"].MemberCount(), 2u);
  EXPECT_EQ(Str(d["commonLabels"], "service"), "api");
  EXPECT_EQ(Str(d["commonAnnotations"], "summary"), "p99 over 2s");
  ASSERT_TRUE(d["alerts"].IsArray());
  ASSERT_EQ(d["alerts"].Size(), 2u);
  const auto& a0 = d["alerts"][0];
  EXPECT_EQ(Str(a0, "status"), "firing");
  EXPECT_EQ(Str(a0["labels"], "pod"), "a");
  EXPECT_EQ(Str(a0["annotations"], "summary"), "p99 over 2s");
  EXPECT_EQ(Str(a0, "startsAt"), "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(Str(a0, "endsAt"), "0001-01-01T00:00:00Z");  // not shown while firing
  EXPECT_EQ(Str(a0, "generatorURL"), "http://tyto.example:9800/graph?g0.expr=x");
  EXPECT_EQ(Str(a0, "fingerprint"), Fingerprint16(TwoAlerts().alerts[0].labels));
  EXPECT_EQ(Str(a0, "fingerprint").size(), 16u);
  const auto& a1 = d["alerts"][1];
  EXPECT_EQ(Str(a1, "status"), "resolved");
  EXPECT_EQ(Str(a1, "startsAt"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(Str(a1, "endsAt"), "2023-11-14T22:13:50Z");
  // Members in the order Go writes them.
  std::vector<std::string> keys;
  const rapidjson::Value& root = d;
  for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) keys.emplace_back(it->name.GetString());
  EXPECT_EQ(keys, (std::vector<std::string>{"receiver", "status", "alerts", "groupLabels", "commonLabels",
                                            "commonAnnotations", "externalURL", "version", "groupKey",
                                            "truncatedAlerts"}));
}

TEST_F(IntegrationsTest, WebhookMessageBytesAreGos) {
  Notification n;
  n.receiver = "a.b";
  n.group_key = "{}:{}";
  n.now_ms = kT0;
  Alert a;
  a.labels = {{"alertname", "X<&>"}};
  a.starts_at_ms = kT0;
  n.alerts = {a};
  n.common_labels = a.labels;
  EXPECT_EQ(WebhookMessage(n, 0),
            "{\"receiver\":\"a\\\\.b\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":"
            "{\"alertname\":\"X\\u003c\\u0026\\u003e\"},\"annotations\":{},\"startsAt\":\"2023-11-14T22:13:20Z\","
            "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"\",\"fingerprint\":\"" +
                Fingerprint16(a.labels) +
                "\"}],\"groupLabels\":{},\"commonLabels\":{\"alertname\":\"X\\u003c\\u0026\\u003e\"},"
                "\"commonAnnotations\":{},\"externalURL\":\"\",\"version\":\"4\",\"groupKey\":\"{}:{}\","
                "\"truncatedAlerts\":0}\n");
}

TEST_F(IntegrationsTest, WebhookTruncatesToMaxAlertsAndRecomputesCommonLabels) {
  auto w = One(WebhookReceiver("/hook", 1));
  ASSERT_TRUE(w->Deliver(TwoAlerts(), 5000).status.ok());
  ASSERT_EQ(receiver_.Count(), 1u);
  rapidjson::Document d = Parse(receiver_.Requests()[0].body);
  ASSERT_EQ(d["alerts"].Size(), 1u);
  EXPECT_EQ(d["truncatedAlerts"].GetUint64(), 1u);
  EXPECT_EQ(Str(d["commonLabels"], "pod"), "a");  // over the one alert sent
  EXPECT_EQ(Str(d, "status"), "firing");
}

TEST_F(IntegrationsTest, ResolvedAlertsAreLeftOutWhenNotSent) {
  Receiver r = WebhookReceiver("/hook");
  r.webhook_configs[0].send_resolved = false;
  auto w = One(r);
  EXPECT_FALSE(w->SendResolved());
  ASSERT_TRUE(w->Deliver(TwoAlerts(), 5000).status.ok());
  rapidjson::Document d = Parse(receiver_.Requests()[0].body);
  ASSERT_EQ(d["alerts"].Size(), 1u);
  EXPECT_EQ(Str(d["alerts"][0], "status"), "firing");
}

TEST_F(IntegrationsTest, AllResolvedGroupIsResolved) {
  Notification n = TwoAlerts();
  n.now_ms = kT0 + 700000;  // both ended
  auto w = One(WebhookReceiver("/hook"));
  ASSERT_TRUE(w->Deliver(n, 5000).status.ok());
  rapidjson::Document d = Parse(receiver_.Requests()[0].body);
  EXPECT_EQ(Str(d, "status"), "resolved");
  EXPECT_EQ(Str(d["alerts"][0], "endsAt"), "2023-11-14T22:23:20Z");
}

TEST_F(IntegrationsTest, AuthHeadersFromHttpConfig) {
  Receiver r = WebhookReceiver("/hook");
  r.webhook_configs[0].http_config.basic_auth_username = "user";
  r.webhook_configs[0].http_config.basic_auth_password = Secret("pass");
  ASSERT_TRUE(One(r)->Deliver(TwoAlerts(), 5000).status.ok());
  EXPECT_EQ(receiver_.Requests()[0].Header("authorization").value_or(""), "Basic dXNlcjpwYXNz");

  {
    std::ofstream(dir_.Path("token")) << "tok-123\n";
  }
  Receiver b = WebhookReceiver("/hook");
  b.webhook_configs[0].http_config.bearer_token_file = dir_.Path("token");
  ASSERT_TRUE(One(b)->Deliver(TwoAlerts(), 5000).status.ok());
  EXPECT_EQ(receiver_.Requests()[1].Header("authorization").value_or(""), "Bearer tok-123");

  Receiver c = WebhookReceiver("/hook");
  c.webhook_configs[0].http_config.authorization_type = "Token";
  c.webhook_configs[0].http_config.authorization_credentials = Secret("xyz");
  ASSERT_TRUE(One(c)->Deliver(TwoAlerts(), 5000).status.ok());
  EXPECT_EQ(receiver_.Requests()[2].Header("authorization").value_or(""), "Token xyz");
}

// Outbound TLS (issue 12): an https webhook's certificate is verified (chain and host name) by
// default; http_config.tls_config ca_file trusts a CA, insecure_skip_verify turns the check off.
TEST_F(IntegrationsTest, HttpsWebhookVerifiesTheCertificateWithTlsConfig) {
  const std::string base = dir_.Path("hook");
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      base + ".key -out " + base + ".crt 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (the openssl command is needed)";
  instrumentation::Registry registry;
  std::atomic<int> delivered{0};
  http::Server tls([&](http::Request&) { ++delivered; return http::Response::Text(200, "ok"); }, &registry, 2);
  http::ServerOptions so;
  so.tls_cert_file = base + ".crt";
  so.tls_key_file = base + ".key";
  ASSERT_TRUE(tls.SetOptions(so).ok());
  ASSERT_TRUE(tls.Listen({"127.0.0.1", 0}).ok());
  tls.Start();
  auto hook = [&](HttpConfig hc) {
    Receiver r;
    r.name = "team-x";
    WebhookConfig w;
    w.url = Secret("https://127.0.0.1:" + std::to_string(tls.port()) + "/hook");
    w.http_config = std::move(hc);
    r.webhook_configs.push_back(w);
    return One(r)->Deliver(TwoAlerts(), 5000);
  };

  DeliveryResult untrusted = hook({});
  ASSERT_FALSE(untrusted.status.ok());
  EXPECT_NE(untrusted.status.message().find("certificate verify failed"), std::string::npos)
      << untrusted.status.ToString();

  HttpConfig trusted;
  trusted.tls_ca_file = base + ".crt";
  DeliveryResult ok = hook(trusted);
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();

  HttpConfig wrong_name = trusted;
  wrong_name.tls_server_name = "hooks.example";
  DeliveryResult refused = hook(wrong_name);
  ASSERT_FALSE(refused.status.ok());
  EXPECT_NE(refused.status.message().find("certificate verify failed"), std::string::npos)
      << refused.status.ToString();

  HttpConfig skip;
  skip.tls_insecure_skip_verify = true;
  EXPECT_TRUE(hook(skip).status.ok());
  tls.Shutdown(std::chrono::seconds(1));
  EXPECT_EQ(delivered.load(), 2);
}

TEST_F(IntegrationsTest, UrlFileIsReadAtEachDeliveryAndAMissingOneFailsClearly) {
  Receiver r;
  r.name = "x";
  WebhookConfig w;
  w.url_file = dir_.Path("url");
  r.webhook_configs.push_back(w);
  auto hook = One(r);
  DeliveryResult missing = hook->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(missing.status.ok());
  EXPECT_FALSE(missing.retry);
  EXPECT_NE(missing.status.message().find("url_file " + dir_.Path("url")), std::string::npos)
      << missing.status.ToString();
  EXPECT_NE(missing.status.message().find("webhook_configs[0]"), std::string::npos);
  {
    std::ofstream(dir_.Path("url")) << receiver_.Url("/from-file") << "\n";
  }
  ASSERT_TRUE(hook->Deliver(TwoAlerts(), 5000).status.ok());
  EXPECT_EQ(receiver_.Requests()[0].path, "/from-file");
}

TEST_F(IntegrationsTest, RetryClassification) {
  auto w = One(WebhookReceiver("/secret-token-path"));
  receiver_.Queue({500, "boom"});
  DeliveryResult r500 = w->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(r500.status.ok());
  EXPECT_TRUE(r500.retry);
  EXPECT_NE(r500.status.message().find("500"), std::string::npos);
  EXPECT_NE(r500.status.message().find("boom"), std::string::npos);
  // The URL's path may hold a token: only scheme://host:port is shown.
  EXPECT_EQ(r500.status.message().find("secret-token-path"), std::string::npos) << r500.status.ToString();
  EXPECT_NE(r500.status.message().find("http://127.0.0.1:" + std::to_string(receiver_.port())), std::string::npos);

  receiver_.Queue({429, "slow down"});
  EXPECT_TRUE(w->Deliver(TwoAlerts(), 5000).retry);
  receiver_.Queue({400, "bad"});
  DeliveryResult r400 = w->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(r400.status.ok());
  EXPECT_FALSE(r400.retry);
  receiver_.Queue({404, ""});
  EXPECT_FALSE(w->Deliver(TwoAlerts(), 5000).retry);

  Receiver refused;
  refused.name = "x";
  WebhookConfig c;
  c.url = Secret("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/secret-token-path");
  refused.webhook_configs.push_back(c);
  DeliveryResult rr = One(refused)->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(rr.status.ok());
  EXPECT_TRUE(rr.retry);
  EXPECT_EQ(rr.status.message().find("secret-token-path"), std::string::npos) << rr.status.ToString();
}

TEST_F(IntegrationsTest, SlackMessageWithAlertmanagersDefaults) {
  Receiver r;
  r.name = "team-x";
  SlackConfig s;
  s.api_url = Secret(receiver_.Url("/services/T0/B0/XXXX"));
  s.channel = "#alerts";
  s.send_resolved = true;
  r.slack_configs.push_back(s);
  auto slack = One(r);
  EXPECT_EQ(slack->Kind(), "slack");
  receiver_.SetDefault({200, "ok"});
  DeliveryResult res = slack->Deliver(TwoAlerts(), 5000);
  ASSERT_TRUE(res.status.ok()) << res.status.ToString();
  rapidjson::Document d = Parse(receiver_.Requests()[0].body);
  EXPECT_EQ(Str(d, "channel"), "#alerts");
  EXPECT_EQ(Str(d, "username"), "Alertmanager");
  EXPECT_FALSE(d.HasMember("icon_emoji"));
  ASSERT_TRUE(d["attachments"].IsArray());
  ASSERT_EQ(d["attachments"].Size(), 1u);
  const auto& a = d["attachments"][0];
  EXPECT_EQ(Str(a, "title"), "[FIRING:1] HighLatency (api)");
  EXPECT_EQ(Str(a, "title_link"), "http://tyto.example:9800/#/alerts?receiver=team-x");
  EXPECT_EQ(Str(a, "text"), "");
  EXPECT_EQ(Str(a, "fallback"), "[FIRING:1] HighLatency (api) | http://tyto.example:9800/#/alerts?receiver=team-x");
  EXPECT_EQ(Str(a, "color"), "danger");
  EXPECT_EQ(Str(a, "footer"), "");
  ASSERT_TRUE(a["mrkdwn_in"].IsArray());
  EXPECT_EQ(a["mrkdwn_in"].Size(), 3u);

  // Literal fields are used as written, simple templates rendered, others get the default.
  SlackConfig t = s;
  t.title = "Latency!";
  t.text = "{{ .CommonAnnotations.summary }} on {{ .CommonLabels.service }}";
  t.color = "{{ if eq .Status \"firing\" }}warning{{ end }}";
  rapidjson::Document d2 = Parse(SlackMessage(t, TwoAlerts()));
  EXPECT_EQ(Str(d2["attachments"][0], "title"), "Latency!");
  EXPECT_EQ(Str(d2["attachments"][0], "text"), "p99 over 2s on api");
  EXPECT_EQ(Str(d2["attachments"][0], "color"), "danger");

  Notification resolved = TwoAlerts();
  resolved.now_ms = kT0 + 700000;
  rapidjson::Document d3 = Parse(SlackMessage(s, resolved));
  EXPECT_EQ(Str(d3["attachments"][0], "title"), "[RESOLVED] HighLatency (api)");
  EXPECT_EQ(Str(d3["attachments"][0], "color"), "good");
}

TEST_F(IntegrationsTest, SlackErrorsIn200AnswersAndSecretUrls) {
  Receiver r;
  r.name = "team-x";
  SlackConfig s;
  s.api_url = Secret(receiver_.Url("/services/T0/B0/SECRETXYZ"));
  r.slack_configs.push_back(s);
  auto slack = One(r);
  receiver_.Queue({200, "invalid_token"});
  DeliveryResult bad = slack->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(bad.status.ok());
  EXPECT_FALSE(bad.retry);
  EXPECT_NE(bad.status.message().find("invalid_token"), std::string::npos);
  receiver_.Queue({200, "{\"ok\":false,\"error\":\"channel_not_found\"}", "application/json"});
  DeliveryResult bad_json = slack->Deliver(TwoAlerts(), 5000);
  EXPECT_FALSE(bad_json.status.ok());
  EXPECT_NE(bad_json.status.message().find("channel_not_found"), std::string::npos);
  receiver_.Queue({200, "{\"ok\": true}", "application/json"});
  EXPECT_TRUE(slack->Deliver(TwoAlerts(), 5000).status.ok());
  receiver_.Queue({503, "down"});
  DeliveryResult down = slack->Deliver(TwoAlerts(), 5000);
  EXPECT_TRUE(down.retry);
  EXPECT_EQ(down.status.message().find("SECRETXYZ"), std::string::npos) << down.status.ToString();
}

TEST_F(IntegrationsTest, PagerdutyEventsV2TriggerAndResolve) {
  Receiver r;
  r.name = "team-x";
  PagerdutyConfig p;
  p.routing_key = Secret("rk-123");
  p.url = receiver_.Url("/v2/enqueue");
  p.details = {{"runbook", "http://runbooks/latency"}};
  p.send_resolved = true;
  r.pagerduty_configs.push_back(p);
  auto pd = One(r);
  EXPECT_EQ(pd->Kind(), "pagerduty");
  receiver_.SetDefault({202, "{\"status\":\"success\"}", "application/json"});
  DeliveryResult res = pd->Deliver(TwoAlerts(), 5000);
  ASSERT_TRUE(res.status.ok()) << res.status.ToString();
  rapidjson::Document d = Parse(receiver_.Requests()[0].body);
  EXPECT_EQ(Str(d, "routing_key"), "rk-123");
  EXPECT_EQ(Str(d, "event_action"), "trigger");
  EXPECT_EQ(Str(d, "dedup_key"), Sha256Hex("{}:{alertname=\"HighLatency\"}"));
  EXPECT_EQ(Str(d, "dedup_key").size(), 64u);
  EXPECT_EQ(Str(d, "client"), "Alertmanager");
  EXPECT_EQ(Str(d, "client_url"), "http://tyto.example:9800/#/alerts?receiver=team-x");
  const auto& payload = d["payload"];
  EXPECT_EQ(Str(payload, "summary"), "[FIRING:1] HighLatency (api)");
  EXPECT_EQ(Str(payload, "source"), "Alertmanager");
  EXPECT_EQ(Str(payload, "severity"), "error");
  EXPECT_FALSE(payload.HasMember("class"));
  const auto& details = payload["custom_details"];
  EXPECT_EQ(Str(details, "num_firing"), "1");
  EXPECT_EQ(Str(details, "num_resolved"), "1");
  EXPECT_EQ(Str(details, "runbook"), "http://runbooks/latency");
  EXPECT_NE(Str(details, "firing").find(" - pod = a\n"), std::string::npos) << Str(details, "firing");
  EXPECT_NE(Str(details, "firing").find("Source: http://tyto.example:9800/graph?g0.expr=x\n"), std::string::npos);

  Notification resolved = TwoAlerts();
  resolved.now_ms = kT0 + 700000;
  ASSERT_TRUE(pd->Deliver(resolved, 5000).status.ok());
  rapidjson::Document d2 = Parse(receiver_.Requests()[1].body);
  EXPECT_EQ(Str(d2, "event_action"), "resolve");
  EXPECT_EQ(Str(d2, "dedup_key"), Str(d, "dedup_key"));

  receiver_.Queue({429, ""});
  EXPECT_TRUE(pd->Deliver(TwoAlerts(), 5000).retry);
  receiver_.Queue({400, "{\"status\":\"invalid event\"}"});
  EXPECT_FALSE(pd->Deliver(TwoAlerts(), 5000).retry);
}

TEST_F(IntegrationsTest, PagerdutySummaryIsCutAt1024Runes) {
  PagerdutyConfig p;
  p.routing_key = Secret("k");
  std::string long_text;
  for (int i = 0; i < 1100; ++i) long_text += "\xC3\xA9";  // é, two bytes
  p.description = long_text;
  rapidjson::Document d = Parse(PagerdutyMessage(p, TwoAlerts(), false));
  const std::string summary = Str(d["payload"], "summary");
  bool truncated = false;
  EXPECT_EQ(TruncateInRunes(summary, 2000, &truncated), summary);
  EXPECT_EQ(summary.size(), 1023u * 2 + 3);  // 1023 é and the 3-byte "…"
  EXPECT_TRUE(summary.ends_with("\u2026"));
}

TEST_F(IntegrationsTest, PagerdutyEventsV1) {
  Receiver r;
  r.name = "team-x";
  PagerdutyConfig p;
  p.service_key = Secret("sk-1");
  p.url = "https://unused.example/";
  r.pagerduty_configs.push_back(p);
  IntegrationOptions o;
  o.pagerduty_v1_url = receiver_.Url("/generic/2010-04-15/create_event.json");
  auto pd = One(r, o);
  ASSERT_TRUE(pd->Deliver(TwoAlerts(), 5000).status.ok());
  const http::Request req = receiver_.Requests()[0];
  EXPECT_EQ(req.path, "/generic/2010-04-15/create_event.json");
  rapidjson::Document d = Parse(req.body);
  EXPECT_EQ(Str(d, "service_key"), "sk-1");
  EXPECT_EQ(Str(d, "event_type"), "trigger");
  EXPECT_EQ(Str(d, "incident_key"), Sha256Hex("{}:{alertname=\"HighLatency\"}"));
  EXPECT_EQ(Str(d, "description"), "[FIRING:1] HighLatency (api)");
  EXPECT_TRUE(d["payload"].IsNull());
  EXPECT_EQ(Str(d["details"], "num_firing"), "1");
  receiver_.Queue({403, "rate limited"});
  EXPECT_TRUE(pd->Deliver(TwoAlerts(), 5000).retry);  // v1 rate-limits with 403
}

TEST_F(IntegrationsTest, BuildsOneIntegrationPerConfigInOrder) {
  Receiver r;
  r.name = "all";
  WebhookConfig w;
  w.url = Secret(receiver_.Url("/a"));
  r.webhook_configs = {w, w};
  SlackConfig s;
  s.api_url = Secret(receiver_.Url("/s"));
  r.slack_configs = {s};
  EmailConfig e;
  e.to = "ops@example.com";
  e.from = "tyto@example.com";
  e.smarthost = "127.0.0.1:25";
  r.email_configs = {e};
  auto list = BuildIntegrations(r, GlobalConfig{}, nullptr);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0]->Kind(), "webhook");
  EXPECT_EQ(list[1]->Index(), 1);
  EXPECT_EQ(list[2]->Kind(), "slack");
  EXPECT_EQ(list[2]->Index(), 0);
  EXPECT_EQ(list[3]->Kind(), "email");
  EXPECT_FALSE(list[3]->SendResolved());
}

TEST(DefaultTemplatesTest, RendersTheSimpleForms) {
  const Notification n = TwoAlerts();
  const auto r = [&](std::string_view t) { return RenderTemplate(t, n).value_or("<unsupported>"); };
  EXPECT_EQ(r("plain"), "plain");
  EXPECT_EQ(r("[{{ .Status | toUpper }}:{{ .Alerts.Firing | len }}] {{ .GroupLabels.alertname }}"),
            "[FIRING:1] HighLatency");
  EXPECT_EQ(r("{{ len .Alerts }}/{{ len .Alerts.Resolved }}"), "2/1");
  EXPECT_EQ(r("{{ index .CommonLabels \"service\" }}|{{ .CommonLabels.missing }}|"), "api||");
  EXPECT_EQ(r("{{ template \"slack.default.title\" . }}"), "[FIRING:1] HighLatency (api)");
  EXPECT_EQ(r("{{ template \"__alertmanagerURL\" . }}"), "http://tyto.example:9800/#/alerts?receiver=team-x");
  EXPECT_EQ(r("a  {{- .Receiver -}}  b{{/* note */}}"), "ateam-xb");
  EXPECT_EQ(r("{{ title .Status }} {{ toUpper .CommonLabels.service }}"), "Firing API");
  EXPECT_EQ(r("{{ range .Alerts }}x{{ end }}"), "<unsupported>");
  EXPECT_EQ(r("{{ .Status"), "<unsupported>");
  EXPECT_EQ(r("{{ printf \"%s\" .Status }}"), "<unsupported>");
  EXPECT_EQ(Render("{{ if true }}x{{ end }}", "fallback", n), "fallback");
  EXPECT_EQ(Render("", "fallback", n), "fallback");
}

TEST(DefaultTemplatesTest, SubjectAsAlertmanagerWritesIt) {
  Notification n = TwoAlerts();
  EXPECT_EQ(Subject(n), "[FIRING:1] HighLatency (api)");
  n.common_labels = n.group_labels;
  EXPECT_EQ(Subject(n), "[FIRING:1] HighLatency ");  // Alertmanager's trailing space
  n.group_labels = {{"alertname", "HighLatency"}, {"cluster", "eu"}};
  n.common_labels = {{"alertname", "HighLatency"}, {"cluster", "eu"}, {"service", "api"}, {"team", "ml"}};
  EXPECT_EQ(Subject(n), "[FIRING:1] HighLatency eu (api ml)");
  EXPECT_EQ(QuoteMeta("a.b+c"), "a\\.b\\+c");
  EXPECT_EQ(QueryEscape("a b/é"), "a+b%2F%C3%A9");
  EXPECT_EQ(GoTime(kT0 + 120), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(GoTime(0), "0001-01-01T00:00:00Z");
  bool cut = true;
  EXPECT_EQ(TruncateInRunes("abc", 3, &cut), "abc");
  EXPECT_FALSE(cut);
  EXPECT_EQ(TruncateInRunes("abcdef", 4, &cut), "abc\u2026");
  EXPECT_TRUE(cut);
}

}  // namespace
}  // namespace tyto::alertmanager
