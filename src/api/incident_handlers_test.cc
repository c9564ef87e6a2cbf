#include "api/incident_handlers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/handler_test_util.h"
#include "incident/tracker.h"
#include "testing/fake_clock.h"

namespace tyto::api {
namespace {

class IncidentApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<incident::Tracker>> t =
        incident::Tracker::Open(Env::Default(), &clock_, incident::TrackerOptions{}, nullptr);
    ASSERT_TRUE(t.ok());
    tracker_ = std::move(*t);
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"reader", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"writer", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kOperate})},
        {"ingest", auth::HashSecret("i"), auth::EffectiveScopes({auth::Scope::kWrite})},
        {"acme", auth::HashSecret("acme"), auth::EffectiveScopes({auth::Scope::kRead, auth::Scope::kOperate}), {"acme"}}}));
    AddIncidentRoutes(&router_, &guard_, tracker_.get());
    alertmanager::Alert a;
    a.labels = {{"alertname", "GpuHot"}, {"Hostname", "h1"}, {"severity", "critical"}};
    a.annotations = {{"summary", "GPU 0 is hot"}};
    a.starts_at_ms = clock_.NowMillis();
    tracker_->Put({a});
    a.labels = {{"alertname", "TargetDown"}, {"Hostname", "h2"}};
    tracker_->Put({a});
  }

  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& token = "") {
    return CallRoute(router_, method, target, body, token);
  }

  static rapidjson::Document Json(const http::Response& r) { return ParseJson(r); }

  static std::string Error(const http::Response& r) {
    rapidjson::Document d = Json(r);
    if (!d.IsObject() || !d.HasMember("error")) return "";
    return d["error"].GetString();
  }

  testing::FakeClock clock_;
  std::unique_ptr<incident::Tracker> tracker_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(IncidentApiTest, ListAndGet) {
  http::Response r = Call("GET", "/api/v1/incidents");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  ASSERT_EQ(d["data"].Size(), 2u);
  EXPECT_EQ(d["data"][0]["id"].GetUint64(), 2u);  // newest first
  EXPECT_STREQ(d["data"][1]["title"].GetString(), "GpuHot");
  EXPECT_STREQ(d["data"][1]["state"].GetString(), "open");
  EXPECT_STREQ(d["data"][1]["severity"].GetString(), "critical");
  EXPECT_EQ(d["data"][1]["firingAlerts"].GetUint64(), 1u);
  EXPECT_TRUE(d["data"][1]["resolvedAt"].IsNull());

  r = Call("GET", "/api/v1/incidents?limit=1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["data"].Size(), 1u);

  r = Call("GET", "/api/v1/incidents/1");
  ASSERT_EQ(r.status, 200) << r.body;
  d = Json(r);
  const auto& inc = d["data"];
  EXPECT_STREQ(inc["alerts"][0]["labels"]["Hostname"].GetString(), "h1");
  EXPECT_STREQ(inc["alerts"][0]["annotations"]["summary"].GetString(), "GPU 0 is hot");
  EXPECT_STREQ(inc["alerts"][0]["state"].GetString(), "firing");
  EXPECT_EQ(std::string(inc["alerts"][0]["fingerprint"].GetString()).size(), 16u);
  EXPECT_STREQ(inc["openedAt"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_TRUE(inc["correlations"].IsArray());
  ASSERT_EQ(inc["timeline"].Size(), 1u);
  EXPECT_STREQ(inc["timeline"][0]["kind"].GetString(), "alert_firing");
  EXPECT_STREQ(inc["timeline"][0]["fields"]["alertname"].GetString(), "GpuHot");
}

TEST_F(IncidentApiTest, AcknowledgeNoteResolveRoundTrip) {
  http::Response r = Call("POST", "/api/v1/incidents/1/acknowledge", R"({"by":"ana"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Json(r)["data"]["state"].GetString(), "acknowledged");
  EXPECT_STREQ(Json(r)["data"]["acknowledgedBy"].GetString(), "ana");

  r = Call("POST", "/api/v1/incidents/1/acknowledge");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(Error(r).find("already acknowledged by ana"), std::string::npos);

  r = Call("POST", "/api/v1/incidents/1/notes", R"({"text":"fan replaced"})");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  const auto& tl = d["data"]["timeline"];
  EXPECT_STREQ(tl[tl.Size() - 1]["text"].GetString(), "fan replaced");
  EXPECT_STREQ(tl[tl.Size() - 1]["by"].GetString(), "writer");  // the token's name

  r = Call("POST", "/api/v1/incidents/1/resolve", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(Json(r)["data"]["state"].GetString(), "resolved");
  EXPECT_EQ(Call("POST", "/api/v1/incidents/1/resolve").status, 409);

  r = Call("GET", "/api/v1/incidents?state=resolved");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(Json(r)["data"].Size(), 1u);
  EXPECT_EQ(Json(r)["data"][0]["id"].GetUint64(), 1u);
  r = Call("GET", "/api/v1/incidents?state=open");
  ASSERT_EQ(Json(r)["data"].Size(), 1u);
  EXPECT_EQ(Json(r)["data"][0]["id"].GetUint64(), 2u);
}

TEST_F(IncidentApiTest, ErrorsAreClearJson) {
  struct Case {
    std::string method, target, body;
    int status;
    std::string message;
  } cases[] = {
      {"GET", "/api/v1/incidents/abc", "", 400, "incident id: expected a positive integer, got \"abc\""},
      {"GET", "/api/v1/incidents/0", "", 400, "got \"0\""},
      {"GET", "/api/v1/incidents/99999999999999999999", "", 400, "expected a positive integer"},
      {"GET", "/api/v1/incidents/42", "", 404, "incident 42 not found"},
      {"GET", "/api/v1/incidents?state=closed", "", 400, "state: expected open, acknowledged or resolved"},
      {"GET", "/api/v1/incidents?limit=0", "", 400, "limit: expected an integer from 1 to 10000"},
      {"GET", "/api/v1/incidents?limit=x", "", 400, "limit:"},
      {"POST", "/api/v1/incidents/42/acknowledge", "", 404, "incident 42 not found"},
      {"POST", "/api/v1/incidents/1/notes", "", 400, "\"text\" is required"},
      {"POST", "/api/v1/incidents/1/notes", "{\"text\":", 400, "body: invalid JSON at offset"},
      {"POST", "/api/v1/incidents/1/notes", "[1]", 400, "body: expected a JSON object"},
      {"POST", "/api/v1/incidents/1/notes", R"({"text":3})", 400, "\"text\" must be a string"},
      {"POST", "/api/v1/incidents/1/notes", R"({"txt":"a"})", 400, "unknown key \"txt\" (expected text, by)"},
      {"POST", "/api/v1/incidents/1/acknowledge", R"({"text":"a"})", 400, "unknown key \"text\" (expected by)"},
      {"POST", "/api/v1/incidents/1/notes", R"({"text":")" + std::string(20'000, 'x') + R"("})", 400,
       "over the limit"},
      {"POST", "/api/v1/incidents/1/notes", std::string(70'000, ' '), 413, "larger than 65536 bytes"},
  };
  for (const Case& c : cases) {
    http::Response r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.target << " " << r.body;
    EXPECT_NE(Error(r).find(c.message), std::string::npos) << c.target << " " << r.body;
  }
  // Scopes: reading needs read, changing needs operate (write is ingest only).
  EXPECT_EQ(Call("POST", "/api/v1/incidents/1/acknowledge", "", "r").status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/incidents/1/acknowledge", "", "i").status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/incidents", "", "nope").status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/incidents/1").status, 405);
}

// Tenant acme's alert opens acme's incident; the default tenant (incidents 1 and 2) and acme
// each see and change only their own, another's id being 404 as an unknown one.
TEST_F(IncidentApiTest, TenantsSeeOnlyTheirOwn) {
  alertmanager::Alert a;
  a.labels = {{"alertname", "GpuHot"}, {"Hostname", "h1"}, {"severity", "critical"}};
  alertmanager::SetAlertTenant(&a.labels, "acme");
  a.starts_at_ms = clock_.NowMillis();
  tracker_->Put({a});  // same labels and Hostname as incident 1, but another tenant: a new incident
  http::Response r = Call("GET", "/api/v1/incidents", "", "acme");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Json(r);
  ASSERT_EQ(d["data"].Size(), 1u) << r.body;
  EXPECT_EQ(d["data"][0]["id"].GetUint64(), 3u);
  EXPECT_EQ(Json(Call("GET", "/api/v1/incidents"))["data"].Size(), 2u);

  r = Call("GET", "/api/v1/incidents/3", "", "acme");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(Json(r)["data"]["alerts"][0]["labels"].HasMember("__tenant__")) << r.body;
  EXPECT_EQ(Call("GET", "/api/v1/incidents/1", "", "acme").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/incidents/3").status, 404);
  for (const char* action : {"acknowledge", "resolve"}) {
    EXPECT_EQ(Call("POST", std::string("/api/v1/incidents/1/") + action, "", "acme").status, 404) << action;
    EXPECT_EQ(Call("POST", std::string("/api/v1/incidents/3/") + action, "", "w").status, 404) << action;
  }
  EXPECT_EQ(Call("POST", "/api/v1/incidents/3/notes", R"({"text": "x"})", "w").status, 404);
  EXPECT_EQ(tracker_->Get(1)->state, incident::State::kOpen);
  EXPECT_EQ(tracker_->Get(3)->state, incident::State::kOpen);
  EXPECT_TRUE(tracker_->Get(3)->timeline.size() == 1u) << "no note added by another tenant";
  EXPECT_EQ(Call("POST", "/api/v1/incidents/3/acknowledge", "", "acme").status, 200);
  EXPECT_EQ(tracker_->Get(3)->state, incident::State::kAcknowledged);
}

}  // namespace
}  // namespace tyto::api
