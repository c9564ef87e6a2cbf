#include "api/alertmanager_handlers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "alertmanager/dispatch.h"
#include "api/json.h"
#include "api/handler_test_util.h"
#include "testing/fake_clock.h"

namespace tyto::api {
namespace {

using alertmanager::Alert;
using alertmanager::Dispatcher;
using alertmanager::Integration;

class RecordingIntegration final : public Integration {
 public:
  std::string_view Kind() const override { return "webhook"; }
  int Index() const override { return 0; }
  bool SendResolved() const override { return true; }
  alertmanager::DeliveryResult Deliver(const alertmanager::Notification&, int64_t) override { return {}; }
};

const char kConfig[] = R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [alertname]
receivers:
- name: team
- name: other
)";

class AlertmanagerApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = alertmanager::ParseConfig(kConfig);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    alertmanager::DispatcherOptions o;
    o.clock = &clock_;
    dispatcher_ = std::make_unique<Dispatcher>(
        std::move(*c),
        [](const alertmanager::Receiver&) {
          std::vector<std::unique_ptr<Integration>> v;
          v.push_back(std::make_unique<RecordingIntegration>());
          return v;
        },
        std::move(o));
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"reader", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"writer", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kWrite, auth::Scope::kEdit})},
        {"poster", auth::HashSecret("p"), auth::EffectiveScopes({auth::Scope::kWrite})},
        {"acme", auth::HashSecret("acme"),
         auth::EffectiveScopes({auth::Scope::kRead, auth::Scope::kWrite, auth::Scope::kEdit}), {"acme"}},
        {"beta", auth::HashSecret("beta"),
         auth::EffectiveScopes({auth::Scope::kRead, auth::Scope::kWrite, auth::Scope::kEdit}), {"beta"}},
        {"peer", auth::HashSecret("peer"), auth::EffectiveScopes({auth::Scope::kWrite}), {"*"}}}));
    AlertmanagerApiOptions options;
    options.config_text = [] { return std::string(kConfig); };
    options.max_body_bytes = 4096;
    AddAlertmanagerRoutes(&router_, &guard_, dispatcher_.get(), options);
  }

  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& token = "") {
    return CallRoute(router_, method, target, body, token);
  }

  static rapidjson::Document Json(const http::Response& r) { return ParseJson(r); }

  std::string Time(int64_t offset_ms) { return GoTime(clock_.NowMillis() + offset_ms); }

  testing::FakeClock clock_;
  std::unique_ptr<Dispatcher> dispatcher_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(AlertmanagerApiTest, PostAndGetAlerts) {
  const std::string body = R"([
    {"labels": {"alertname": "Hot", "severity": "critical", "gpu": "0"}, "annotations": {"summary": "hot"},
     "startsAt": ")" + Time(-1000) + R"(", "generatorURL": "http://tyto/graph"},
    {"labels": {"alertname": "Hot", "severity": "warning", "gpu": "1"}},
    {"labels": {"alertname": "Gone"}, "startsAt": ")" + Time(-60000) + R"(", "endsAt": ")" + Time(-1000) + R"("}
  ])";
  auto r = Call("POST", "/api/v2/alerts", body);
  ASSERT_EQ(r.status, 200) << r.body;

  r = Call("GET", "/api/v2/alerts");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r);
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u) << "resolved alerts are not listed: " << r.body;
  int suppressed = 0;
  for (const auto& a : d.GetArray()) {
    EXPECT_EQ(std::string(a["fingerprint"].GetString()).size(), 16u);
    EXPECT_STREQ(a["receivers"][0]["name"].GetString(), "team");
    if (std::string(a["status"]["state"].GetString()) == "suppressed") ++suppressed;
    if (std::string(a["labels"]["severity"].GetString()) == "critical") {
      EXPECT_STREQ(a["annotations"]["summary"].GetString(), "hot");
      EXPECT_STREQ(a["generatorURL"].GetString(), "http://tyto/graph");
      EXPECT_EQ(a["startsAt"].GetString(), Time(-1000));
    }
  }
  EXPECT_EQ(suppressed, 1) << "the warning is inhibited";

  r = Call("GET", "/api/v2/alerts?inhibited=false");
  EXPECT_EQ(Json(r).Size(), 1u) << r.body;
  r = Call("GET", "/api/v2/alerts?filter=" + std::string("severity%3D%22warning%22"));
  EXPECT_EQ(Json(r).Size(), 1u) << r.body;
  r = Call("GET", "/api/v2/alerts?receiver=oth.*");
  EXPECT_EQ(Json(r).Size(), 0u) << r.body;
  r = Call("GET", "/api/v2/alerts?active=maybe");
  EXPECT_EQ(r.status, 400);
  r = Call("GET", "/api/v2/alerts?filter=%7Bbad");
  EXPECT_EQ(r.status, 400) << r.body;

  r = Call("GET", "/api/v2/alerts/groups");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  ASSERT_EQ(d.Size(), 1u) << r.body;  // "Gone" is resolved; the "Hot" group holds two
  EXPECT_STREQ(d[0]["labels"]["alertname"].GetString(), "Hot");
  EXPECT_STREQ(d[0]["receiver"]["name"].GetString(), "team");
  EXPECT_EQ(d[0]["alerts"].Size(), 2u);
}

TEST_F(AlertmanagerApiTest, BadAlertsNameIndexAndField) {
  struct Case {
    std::string body;
    std::string want;
  } cases[] = {
      {"{}", "expected a JSON array"},
      {"[", "invalid JSON"},
      {R"([{"labels": {"a": "b"}}, {"labels": {}}])", "alert 1: labels: must not be empty"},
      {R"([{"annotations": {}}])", "alert 0: labels: required"},
      {R"([{"labels": {"a": 1}}])", "alert 0: labels: value of"},
      {R"([{"labels": {"0a": "x"}}])", "alert 0: labels: invalid label name"},
      {R"([{"labels": {"a": "b"}, "startsAt": "yesterday"}])", "alert 0: startsAt: invalid time"},
      {R"([{"labels": {"a": "b"}, "startsAt": "2026-01-02T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"}])",
       "alert 0: endsAt: before startsAt"},
      {"[1]", "alert 0: expected an object"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/api/v2/alerts", c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    EXPECT_NE(r.body.find(c.want), std::string::npos) << c.body << " -> " << r.body;
  }
  auto r = Call("POST", "/api/v2/alerts", std::string(5000, ' '));
  EXPECT_EQ(r.status, 413);
  r = Call("POST", "/api/v2/alerts", "[]", "r");
  EXPECT_EQ(r.status, 403) << "a read token may not post alerts";
  EXPECT_TRUE(dispatcher_->Alerts().empty());
}

TEST_F(AlertmanagerApiTest, SilencesRoundTrip) {
  const std::string body = R"({"matchers": [{"name": "alertname", "value": "Hot", "isRegex": false},
                                            {"name": "gpu", "value": "0|1", "isRegex": true, "isEqual": true}],
      "startsAt": ")" + Time(0) + R"(", "endsAt": ")" + Time(3600000) + R"(", "createdBy": "alice", "comment": "swap"})";
  auto r = Call("POST", "/api/v2/silences", body);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Json(r)["silenceID"].GetString();
  EXPECT_EQ(id.size(), 36u);

  r = Call("GET", "/api/v2/silence/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r);
  EXPECT_EQ(d["id"].GetString(), id);
  EXPECT_STREQ(d["status"]["state"].GetString(), "active");
  EXPECT_STREQ(d["createdBy"].GetString(), "alice");
  EXPECT_STREQ(d["comment"].GetString(), "swap");
  ASSERT_EQ(d["matchers"].Size(), 2u);
  EXPECT_TRUE(d["matchers"][1]["isRegex"].GetBool());
  EXPECT_EQ(d["endsAt"].GetString(), Time(3600000));

  // The silence mutes a posted alert.
  r = Call("POST", "/api/v2/alerts", R"([{"labels": {"alertname": "Hot", "gpu": "1"}}])");
  ASSERT_EQ(r.status, 200);
  r = Call("GET", "/api/v2/alerts");
  d = Json(r);
  ASSERT_EQ(d.Size(), 1u);
  EXPECT_EQ(d[0]["status"]["silencedBy"][0].GetString(), id);
  EXPECT_EQ(Json(Call("GET", "/api/v2/alerts?silenced=false")).Size(), 0u);

  r = Call("GET", "/api/v2/silences?filter=alertname%3D%22Hot%22");
  EXPECT_EQ(Json(r).Size(), 1u) << r.body;
  r = Call("GET", "/api/v2/silences?filter=alertname%3D%22Cold%22");
  EXPECT_EQ(Json(r).Size(), 0u) << r.body;

  // Update: a new id; the old one expires.
  std::string update = body;
  update.insert(1, "\"id\": \"" + id + "\", ");
  r = Call("POST", "/api/v2/silences", update);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id2 = Json(r)["silenceID"].GetString();
  EXPECT_NE(id2, id);
  EXPECT_STREQ(Json(Call("GET", "/api/v2/silence/" + id))["status"]["state"].GetString(), "expired");

  r = Call("DELETE", "/api/v2/silence/" + id2);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Json(Call("GET", "/api/v2/silence/" + id2))["status"]["state"].GetString(), "expired");
  EXPECT_EQ(Call("DELETE", "/api/v2/silence/nope").status, 404);
  EXPECT_EQ(Call("GET", "/api/v2/silence/nope").status, 404);
  r = Call("GET", "/api/v2/silences");
  EXPECT_EQ(Json(r).Size(), 2u);
}

// Two tenants on one dispatcher: each sees, silences and expires only its own.
TEST_F(AlertmanagerApiTest, TenantsSeeOnlyTheirOwn) {
  // A body naming another tenant does not pick it: the token's tenant does.
  auto r = Call("POST", "/api/v2/alerts", R"([{"labels": {"alertname": "Hot", "__tenant__": "beta"}}])", "acme");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Call("POST", "/api/v2/alerts", R"([{"labels": {"alertname": "Hot"}}])", "beta");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(dispatcher_->Alerts().size(), 2u) << "equal labels, two tenants: two alerts";

  for (const std::string tenant : {"acme", "beta"}) {
    r = Call("GET", "/api/v2/alerts", "", tenant);
    ASSERT_EQ(r.status, 200) << r.body;
    auto d = Json(r);
    ASSERT_EQ(d.Size(), 1u) << tenant << ": " << r.body;
    EXPECT_FALSE(d[0]["labels"].HasMember("__tenant__")) << r.body;
    r = Call("GET", "/api/v2/alerts/groups", "", tenant);
    EXPECT_EQ(Json(r).Size(), 1u) << tenant << ": " << r.body;
  }
  EXPECT_EQ(Json(Call("GET", "/api/v2/alerts")).Size(), 0u) << "the default tenant has none";

  const std::string silence = R"({"matchers": [{"name": "alertname", "value": "Hot", "isRegex": false}],
      "startsAt": ")" + Time(0) + R"(", "endsAt": ")" + Time(3600000) + R"(", "createdBy": "a", "comment": "c"})";
  r = Call("POST", "/api/v2/silences", silence, "acme");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = Json(r)["silenceID"].GetString();
  EXPECT_EQ(Json(Call("GET", "/api/v2/alerts?silenced=false", "", "acme")).Size(), 0u);
  EXPECT_EQ(Json(Call("GET", "/api/v2/alerts?silenced=false", "", "beta")).Size(), 1u) << "acme's silence mutes beta's alert";

  EXPECT_EQ(Json(Call("GET", "/api/v2/silences", "", "beta")).Size(), 0u);
  EXPECT_EQ(Json(Call("GET", "/api/v2/silences", "", "acme")).Size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v2/silence/" + id, "", "beta").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v2/silence/" + id, "", "beta").status, 404);
  std::string replace = silence;
  replace.insert(1, "\"id\": \"" + id + "\", ");
  EXPECT_EQ(Call("POST", "/api/v2/silences", replace, "beta").status, 404);
  EXPECT_STREQ(Json(Call("GET", "/api/v2/silence/" + id, "", "acme"))["status"]["state"].GetString(), "active");
  EXPECT_EQ(Call("DELETE", "/api/v2/silence/" + id, "", "acme").status, 200);

  // A token granted every tenant (a cluster peer forwarding alerts) keeps the alerts' tenants.
  r = Call("POST", "/api/v2/alerts", R"([{"labels": {"alertname": "Fwd", "__tenant__": "beta"}}, {"labels": {"alertname": "Fwd"}}])",
           "peer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(Call("GET", "/api/v2/alerts", "", "beta").body.find("Fwd"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v2/alerts", "", "acme").body.find("Fwd"), std::string::npos);
  EXPECT_NE(Call("GET", "/api/v2/alerts").body.find("Fwd"), std::string::npos) << "the one without a tenant: default";

  // Silences need the edit scope; posting alerts is ingest (write).
  EXPECT_EQ(Call("POST", "/api/v2/silences", silence, "p").status, 403);
  EXPECT_EQ(Call("POST", "/api/v2/alerts", R"([{"labels": {"alertname": "X"}}])", "p").status, 200);
}

TEST_F(AlertmanagerApiTest, BadSilences) {
  const std::string times = R"("startsAt": ")" + Time(0) + R"(", "endsAt": ")" + Time(60000) + R"(")";
  struct Case {
    std::string body;
    int status;
    std::string want;
  } cases[] = {
      {"[]", 400, "expected a JSON object"},
      {"{" + times + R"(, "createdBy": "a", "comment": "c"})", 400, "matchers in body is required"},
      {R"({"matchers": [{"name": "a", "value": "b"}], "createdBy": "a", "comment": "c"})", 400, "startsAt in body is required"},
      {"{" + times + R"(, "matchers": [{"name": "a", "value": "b"}], "comment": "c"})", 400, "createdBy in body is required"},
      {"{" + times + R"x(, "matchers": [{"name": "a", "value": "(", "isRegex": true}], "createdBy": "a", "comment": "c"})x", 400,
       "matchers[0]"},
      {"{" + times + R"(, "matchers": [{"name": "a", "value": ""}], "createdBy": "a", "comment": "c"})", 400,
       "must not match the empty string"},
      {"{" + times + R"(, "id": "missing", "matchers": [{"name": "a", "value": "b"}], "createdBy": "a", "comment": "c"})", 404,
       "not found"},
  };
  for (const Case& c : cases) {
    auto r = Call("POST", "/api/v2/silences", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.want), std::string::npos) << c.body << " -> " << r.body;
  }
}

TEST_F(AlertmanagerApiTest, StatusReceiversAndNotifications) {
  auto r = Call("GET", "/api/v2/status");
  ASSERT_EQ(r.status, 200) << r.body;
  auto d = Json(r);
  EXPECT_EQ(std::string(d["config"]["original"].GetString()), kConfig);
  EXPECT_TRUE(d["uptime"].IsString());
  EXPECT_TRUE(d["versionInfo"]["version"].IsString());
  EXPECT_STREQ(d["cluster"]["status"].GetString(), "disabled");

  r = Call("GET", "/api/v2/receivers");
  d = Json(r);
  ASSERT_EQ(d.Size(), 2u);
  EXPECT_STREQ(d[1]["name"].GetString(), "other");

  dispatcher_->Put({Alert{{{"alertname", "A"}}, {}, 0, 0, ""}});
  clock_.Advance(std::chrono::seconds(30));
  dispatcher_->RunDueForTest();
  r = Call("GET", "/api/v1/notifications?limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  ASSERT_EQ(d["data"]["notifications"].Size(), 1u) << r.body;
  const auto& n = d["data"]["notifications"][0];
  EXPECT_STREQ(n["receiver"].GetString(), "team");
  EXPECT_STREQ(n["integration"].GetString(), "webhook");
  EXPECT_STREQ(n["outcome"].GetString(), "success");
  EXPECT_STREQ(n["state"].GetString(), "firing");
  EXPECT_EQ(n["attempts"].GetInt(), 1);
  EXPECT_EQ(Call("GET", "/api/v1/notifications?limit=x").status, 400);
}

}  // namespace
}  // namespace tyto::api
