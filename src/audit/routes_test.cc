#include "audit/routes.h"

#include <gtest/gtest.h>

#include "testing/fake_audit_recorder.h"

namespace tyto::audit {
namespace {

http::Request Req(std::string method, std::string path) {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.remote = "192.0.2.1:5555";
  r.principal.name = "alice";
  r.principal.tenant = "team-a";
  return r;
}

http::Response Resp(int status, std::string route, std::string body) {
  http::Response r = http::Response::Json(status, std::move(body));
  r.handler = std::move(route);
  return r;
}

TEST(RouteAuditorTest, RecordsTableRoutesWithWhoWhereAndTarget) {
  testing::FakeAuditRecorder rec;
  RouteAuditor auditor(&rec);
  auditor.Observe(Req("POST", "/api/v2/silences"), Resp(200, "/api/v2/silences", R"({"silenceID":"s-1"})"));
  http::Request del = Req("DELETE", "/api/v2/silence/s-1");
  del.path_params = {{"id", "s-1"}};
  auditor.Observe(del, Resp(200, "/api/v2/silence/:id", ""));
  auditor.Observe(Req("GET", "/api/v2/silences"), Resp(200, "/api/v2/silences", "[]"));  // reads are not
  auditor.Observe(Req("POST", "/api/v1/dashboards"), Resp(200, "/api/v1/dashboards", R"({"status":"success","data":{"uid":"d1"}})"));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].action, "silence.create");
  EXPECT_EQ(ev[0].target, "s-1");
  EXPECT_EQ(ev[0].outcome, "ok");
  EXPECT_EQ(ev[0].principal, "alice");
  EXPECT_EQ(ev[0].tenant, "team-a");
  EXPECT_EQ(ev[0].remote, "192.0.2.1:5555");
  EXPECT_EQ(ev[1].action, "silence.expire");
  EXPECT_EQ(ev[1].target, "s-1");
  EXPECT_EQ(ev[2].action, "dashboard.save");
  EXPECT_EQ(ev[2].target, "d1");
}

TEST(RouteAuditorTest, FailuresCarryTheirOutcomeAndError) {
  testing::FakeAuditRecorder rec;
  RouteAuditor auditor(&rec);
  auditor.Observe(Req("POST", "/-/reload"), Resp(500, "/-/reload", http::Response::Error(500, "reload_failed", "bad yaml").body));
  http::Request ack = Req("POST", "/api/v1/incidents/inc-9/acknowledge");
  ack.path_params = {{"id", "inc-9"}};
  auditor.Observe(ack, Resp(404, "/api/v1/incidents/:id/acknowledge", http::Response::Error(404, "not_found", "no incident").body));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].action, "config.reload");
  EXPECT_EQ(ev[0].outcome, "failed");
  ASSERT_EQ(ev[0].details.size(), 2u);
  EXPECT_EQ(ev[0].details[1], (std::pair<std::string, std::string>{"error", "bad yaml"}));
  EXPECT_EQ(ev[1].outcome, "not_found");
  EXPECT_EQ(ev[1].target, "inc-9");
}

TEST(RouteAuditorTest, RefusedCredentialsOnAnyRouteAreAuthFailures) {
  testing::FakeAuditRecorder rec;
  RouteAuditor auditor(&rec);
  http::Request anon = Req("GET", "/api/v1/query");
  anon.principal = {};
  auditor.Observe(anon, Resp(401, "/api/v1/query", http::Response::Error(401, "unauthorized", "wrong token").body));
  auditor.Observe(Req("POST", "/api/v2/silences"),
                  Resp(403, "/api/v2/silences", http::Response::Error(403, "forbidden", "lacks edit").body));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].action, "auth.failed");
  EXPECT_EQ(ev[0].outcome, "unauthenticated");
  EXPECT_EQ(ev[0].target, "/api/v1/query");
  EXPECT_EQ(ev[0].principal, "");
  EXPECT_EQ(ev[0].details[1].second, "wrong token");
  EXPECT_EQ(ev[1].action, "auth.denied");  // not silence.create: it did not happen
}

TEST(RouteAuditorTest, ErasureRecordsWhatWasAskedAndWhatWasRemoved) {
  testing::FakeAuditRecorder rec;
  RouteAuditor auditor(&rec);
  http::Request req = Req("POST", "/api/v1/admin/erase");
  req.body = R"({"tenant":"team-a","user":"u-42"})";
  auditor.Observe(req, Resp(200, "/api/v1/admin/erase",
                            R"({"status":"success","data":{"tenant":"team-a","spans":3,"logs":0,"inference_events":7}})"));
  auto ev = rec.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].action, "data.erase");
  EXPECT_EQ(ev[0].outcome, "ok");
  using D = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ev[0].details, (D{{"tenant", "team-a"}, {"user", "u-42"}, {"spans", "3"}, {"logs", "0"}, {"inference_events", "7"}}));
}

TEST(RouteAuditorTest, TableNamesEveryStateChangingRoute) {
  EXPECT_EQ(RouteAction("POST", "/api/v1/playbooks/runs/:id/approve"), "playbook.approve");
  EXPECT_EQ(RouteAction("PUT", "/-/reload"), "config.reload");
  EXPECT_EQ(RouteAction("GET", "/-/reload"), "");
  EXPECT_EQ(RouteAction("POST", "/api/v1/query"), "");
}

}  // namespace
}  // namespace tyto::audit
