// The UI's routes through a router: the built UI's files and the app's routes, the page of a
// binary without a UI, dashboards (list, get, import, delete, auth), the live stream's events,
// and the logs tail as server-sent events over a real event store.
#include "api/ui_handlers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/handler_test_util.h"
#include "api/telemetry_query_handlers.h"
#include "eventstore/store.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "ui/assets.h"
#include "ui/dashboard_store.h"

namespace tyto::api {
namespace {

using namespace std::chrono_literals;

class FakeRules final : public RulesSource {
 public:
  std::vector<RuleGroup> Groups() const override { return groups; }
  std::vector<RuleGroup> groups;
};

class UiApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Env* env = Env::Default();
    ASSERT_TRUE(env->CreateDirs(tmp_.path() + "/dist/assets").ok());
    ASSERT_TRUE(WriteFileAtomically(env, tmp_.path() + "/dist/index.html", "<!doctype html><title>Tyto</title>").ok());
    ASSERT_TRUE(WriteFileAtomically(env, tmp_.path() + "/dist/assets/app-1a2b.js", "console.log(1)").ok());
    ASSERT_TRUE(WriteFileAtomically(env, tmp_.path() + "/dist/favicon.svg", "<svg/>").ok());
    auto assets = ui::UiAssets::FromDirectory(env, tmp_.path() + "/dist");
    ASSERT_TRUE(assets.ok());
    assets_ = *assets;
    store_ = std::make_unique<ui::DashboardStore>(env, tmp_.path() + "/data/ui/dashboards");
    ASSERT_TRUE(store_->Open().ok());
    store_->SetBuiltin({{"fleet", "Fleet", {"builtin"}, R"({"uid":"fleet","title":"Fleet","panels":[]})"}});
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"reader", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"writer", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kWrite, auth::Scope::kEdit})},
        {"acme", auth::HashSecret("acme"), auth::EffectiveScopes({auth::Scope::kRead}), {"acme"}}}));
    UiSources s;
    s.dashboards = store_.get();
    s.assets = [this] { return assets_; };
    s.rules = &rules_;
    s.incidents = [this](std::string_view tenant) { return tenant == "default" ? incidents_ : IncidentCounts{}; };
    s.clock = &clock_;
    AddUiRoutes(&router_, &guard_, std::move(s));
  }

  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& token = "") {
    return CallRoute(router_, method, target, body, token);
  }
  static std::optional<std::string> Header(const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return std::nullopt;
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_;
  std::shared_ptr<const ui::UiAssets> assets_;
  std::unique_ptr<ui::DashboardStore> store_;
  FakeRules rules_;
  IncidentCounts incidents_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(UiApiTest, RootAndUiRedirect) {
  http::Response r = Call("GET", "/");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(Header(r, "Location"), "/ui/");
  r = Call("GET", "/ui?x=1");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(Header(r, "Location"), "/ui/?x=1");
}

TEST_F(UiApiTest, ServesFilesAndTheAppForOtherPaths) {
  http::Response r = Call("GET", "/ui/assets/app-1a2b.js", "", "none");  // public: no token needed
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "console.log(1)");
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(r, "Cache-Control"), "public, max-age=31536000, immutable");
  r = Call("GET", "/ui/favicon.svg");
  EXPECT_EQ(r.content_type, "image/svg+xml");
  EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
  for (const char* path : {"/ui/", "/ui/index.html", "/ui/fleet", "/ui/explore?query=up", "/ui/gpu/node-1/0/"}) {
    r = Call("GET", path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(r.body, "<!doctype html><title>Tyto</title>") << path;
    EXPECT_EQ(Header(r, "Cache-Control"), "no-cache") << path;
  }
  EXPECT_EQ(Call("GET", "/ui/assets/gone-0000.js").status, 404);
  EXPECT_EQ(Call("GET", "/ui/..%2f..%2fetc/passwd").status, 400);
  EXPECT_EQ(Call("GET", "/ui/assets/%2e%2e/x").status, 400);
  EXPECT_EQ(Call("GET", "/ui/a%00b").status, 400);
}

TEST_F(UiApiTest, BinaryWithoutUiSaysHowToBuildIt) {
  assets_ = ui::UiAssets::Embedded();
  if (assets_->built()) assets_ = nullptr;  // this binary embeds a built UI: no UI at all instead
  http::Response r = Call("GET", "/ui/fleet");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("not built into this binary"), std::string::npos);
  EXPECT_NE(r.body.find("scripts/build-ui.sh"), std::string::npos);
  EXPECT_NE(r.body.find("/api/v1/status/buildinfo"), std::string::npos);
}

TEST_F(UiApiTest, Dashboards) {
  http::Response r = Call("GET", "/api/v1/dashboards");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"status":"success","data":[{"uid":"fleet","title":"Fleet","tags":["builtin"],"source":"builtin"}]})");
  r = Call("GET", "/api/v1/dashboards/fleet");
  EXPECT_EQ(r.body, R"({"status":"success","data":{"uid":"fleet","title":"Fleet","panels":[]}})");
  EXPECT_EQ(Call("GET", "/api/v1/dashboards/nope").status, 404);

  // Writing needs the write scope.
  const std::string grafana = R"j({"dashboard":{"id":null,"title":"Node Exporter","tags":["linux"],"panels":[
      {"type":"timeseries","title":"CPU","targets":[{"refId":"A","expr":"rate(node_cpu_seconds_total{instance=\"$node\"}[$__rate_interval])"}]},
      {"type":"graph","title":"Bad","targets":[{"refId":"B","expr":"sum(rate(x[5m])"}]}]},"overwrite":false})j";
  EXPECT_EQ(Call("POST", "/api/v1/dashboards", grafana, "r").status, 403);
  r = Call("POST", "/api/v1/dashboards", grafana);
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = ParseJson(r);
  EXPECT_STREQ(d["data"]["uid"].GetString(), "node-exporter");
  ASSERT_EQ(d["data"]["warnings"].Size(), 1u);
  EXPECT_NE(std::string(d["data"]["warnings"][0].GetString()).find("dashboard.panels[1].targets[0].expr (panel \"Bad\", refId B)"),
            std::string::npos)
      << r.body;
  r = Call("GET", "/api/v1/dashboards");
  d = ParseJson(r);
  ASSERT_EQ(d["data"].Size(), 2u);
  EXPECT_STREQ(d["data"][1]["source"].GetString(), "imported");
  r = Call("GET", "/api/v1/dashboards/node-exporter");
  EXPECT_NE(r.body.find(R"("uid":"node-exporter")"), std::string::npos) << r.body;

  r = Call("POST", "/api/v1/dashboards", R"({"uid":"node-exporter","title":"Again","panels":[]})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Call("POST", "/api/v1/dashboards?overwrite=true", R"({"uid":"node-exporter","title":"Again","panels":[]})").status,
            200);
  r = Call("POST", "/api/v1/dashboards", R"({"title":"x","panels":[{"type":"stat","targets":[{"expr":1}]}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("panels[0].targets[0].expr: expected a string, got a number"), std::string::npos) << r.body;
  EXPECT_EQ(Call("POST", "/api/v1/dashboards", std::string(ui::kMaxDashboardBytes + 1, ' ')).status, 413);

  EXPECT_EQ(Call("DELETE", "/api/v1/dashboards/fleet").status, 400);
  EXPECT_EQ(Call("DELETE", "/api/v1/dashboards/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/dashboards/node-exporter", "", "r").status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/dashboards/node-exporter").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/dashboards/node-exporter").status, 404);
}

TEST_F(UiApiTest, StreamSendsTicksAndChangedCounts) {
  EXPECT_EQ(Call("GET", "/api/v1/stream", "", "none").status, 401);
  http::Response bad = Call("GET", "/api/v1/stream?interval=0.5s");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\\\"interval\\\""), std::string::npos) << bad.body;
  EXPECT_EQ(Call("GET", "/api/v1/stream?interval=2m").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/stream?interval=soon").status, 400);

  Rule alerting;
  alerting.kind = Rule::Kind::kAlerting;
  for (const char* state : {"firing", "pending", "firing"}) {
    ActiveAlert a;
    a.state = state;
    alerting.alerts.push_back(a);
  }
  RuleGroup group;
  group.rules = {alerting};
  rules_.groups = {group};
  incidents_ = {1, 0};
  http::Response r = Call("GET", "/api/v1/stream?interval=2s");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.content_type, "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.stream->Poll().data,
            "retry: 3000\n\n"
            "event: alerts\ndata: {\"firing\":2,\"pending\":1}\n\n"
            "event: incidents\ndata: {\"open\":1,\"acknowledged\":0}\n\n"
            "event: tick\ndata: {\"time\":1700000000.000}\n\n");
  EXPECT_EQ(r.stream->Poll().data, "");
  incidents_ = {0, 1};
  clock_.Advance(1s);  // the counts are read at most once a second
  EXPECT_EQ(r.stream->Poll().data, "event: incidents\ndata: {\"open\":0,\"acknowledged\":1}\n\n");
  clock_.Advance(1s);
  EXPECT_EQ(r.stream->Poll().data, "event: tick\ndata: {\"time\":1700000002.000}\n\n");
  clock_.Advance(1500ms);
  EXPECT_EQ(r.stream->Poll().data, "");
  clock_.Advance(500ms);
  EXPECT_EQ(r.stream->Poll().data, "event: tick\ndata: {\"time\":1700000004.000}\n\n");
  clock_.Advance(15s);  // no tick missed for long: the next one is an interval from now
  EXPECT_NE(r.stream->Poll().data.find("time\":1700000019.000"), std::string::npos);
}

// The counts are the request tenant's: another tenant's stream counts none of these.
TEST_F(UiApiTest, StreamCountsTheRequestTenantsOnly) {
  Rule alerting;
  alerting.kind = Rule::Kind::kAlerting;
  ActiveAlert a;
  a.state = "firing";
  alerting.alerts.push_back(a);
  RuleGroup group;  // the default tenant's
  group.rules = {alerting};
  rules_.groups = {group};
  incidents_ = {3, 0};
  http::Response theirs = Call("GET", "/api/v1/stream", "", "acme");
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  const std::string first = theirs.stream->Poll().data;
  EXPECT_NE(first.find("event: alerts\ndata: {\"firing\":0,\"pending\":0}"), std::string::npos) << first;
  EXPECT_NE(first.find("event: incidents\ndata: {\"open\":0,\"acknowledged\":0}"), std::string::npos) << first;
  http::Response ours = Call("GET", "/api/v1/stream");
  const std::string mine = ours.stream->Poll().data;
  EXPECT_NE(mine.find("{\"firing\":1,\"pending\":0}"), std::string::npos) << mine;
  EXPECT_NE(mine.find("{\"open\":3,\"acknowledged\":0}"), std::string::npos) << mine;
}

class LogsTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = eventstore::EventStore::Open(Env::Default(), &clock_, tmp_.path() + "/events", {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"reader", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})}}));
    AddTelemetryQueryRoutes(&router_, &guard_, store_.get(), nullptr, nullptr, &clock_);
  }
  void Log(const std::string& body, const std::string& service = "api") {
    events::LogRecord r;
    r.time_unix_nano = clock_.NowMillis() * 1'000'000;
    r.severity_number = 9;
    r.severity_text = "INFO";
    r.body = body;
    r.service = service;
    ASSERT_TRUE(store_->AppendLogs(std::span<const events::LogRecord>(&r, 1)).ok());
  }
  http::Response Tail(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = "GET";
    req.target = target;
    req.headers = std::move(headers);
    req.headers.emplace_back("Authorization", "Bearer r");
    EXPECT_FALSE(http::ParseTarget(&req).has_value());
    return router_.Dispatch(req);
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_;
  std::unique_ptr<eventstore::EventStore> store_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(LogsTailTest, EventStreamSendsNewRecordsWithCursorIds) {
  Log("before");
  http::Response r = Tail("/api/v1/logs/tail?service=api", {{"Accept", "text/event-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.stream->Poll().data, "retry: 3000\n\n");  // nothing newer than the start yet
  Log("first");
  Log("other service", "db");
  Log("second");
  std::string got = r.stream->Poll().data;
  EXPECT_NE(got.find("event: log\nid: 2\ndata: {\"cursor\":2,"), std::string::npos) << got;
  EXPECT_NE(got.find("\"body\":\"first\""), std::string::npos) << got;
  EXPECT_EQ(got.find("other service"), std::string::npos) << got;
  EXPECT_NE(got.find("event: log\nid: 4\n"), std::string::npos) << got;
  EXPECT_LT(got.find("first"), got.find("second"));
  EXPECT_EQ(r.stream->Poll().data, "");

  // Last-Event-ID resumes after the record it names.
  http::Response resumed = Tail("/api/v1/logs/tail?service=api", {{"Accept", "text/event-stream"}, {"Last-Event-ID", "2"}});
  ASSERT_NE(resumed.stream, nullptr);
  got = resumed.stream->Poll().data;
  EXPECT_EQ(got.find("\"body\":\"first\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"body\":\"second\""), std::string::npos) << got;

  // Without the Accept header, the long poll answers as before.
  http::Response poll = Tail("/api/v1/logs/tail?cursor=1");
  EXPECT_EQ(poll.stream, nullptr);
  rapidjson::Document d = ParseJson(poll);
  EXPECT_EQ(d["data"]["logs"].Size(), 3u);
  EXPECT_EQ(Tail("/api/v1/logs/tail?level=loud", {{"Accept", "text/event-stream"}}).status, 400);
}

}  // namespace
}  // namespace tyto::api
