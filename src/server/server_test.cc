// The composition root in-process: start on a free port with a temporary data directory,
// auth, reload over HTTP, and the data-directory lock.
#include "server/server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "audit/chain.h"
#include "auth/auth.h"
#include "common/log.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::server {
namespace {

using testing::HttpGet;

// A request target for a route pattern: ":name" and "*name" segments become "x".
std::string TargetOf(const std::string& pattern) {
  if (pattern == "/") return "/";
  std::string target;
  for (size_t i = 1; i <= pattern.size();) {
    size_t end = pattern.find('/', i);
    if (end == std::string::npos) end = pattern.size();
    std::string seg = pattern.substr(i, end - i);
    if (!seg.empty() && (seg[0] == ':' || seg[0] == '*')) seg = "x";
    target += "/" + seg;
    i = end + 1;
  }
  return target;
}

class ServerFixture : public ::testing::Test {
 protected:
  void TearDown() override { server_.reset(); }
  void WriteConfig(const std::string& text) { std::ofstream(config_path_) << text; }
  Overrides Flags() {
    Overrides o;
    o.config_file = config_path_;
    o.data_dir = dir_ + "/data";
    o.listen = "127.0.0.1:0";
    return o;
  }
  Status Start() {
    server_ = std::make_unique<Server>(Flags(), Env::Default(), Clock::Real());
    return server_->Start();
  }
  std::string Metrics(const std::vector<std::pair<std::string, std::string>>& h = {}) {
    auto r = HttpGet(server_->port(), "/metrics", h);
    return r.ok() ? r->body : "";
  }
  testing::TestResponse Post(const std::string& target, const std::vector<std::pair<std::string, std::string>>& h = {}) {
    auto c = testing::TestConnection::Connect(server_->port());
    EXPECT_TRUE(c.ok());
    EXPECT_TRUE((*c)->Send("POST", target, h).ok());
    auto r = (*c)->Read();
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : testing::TestResponse{};
  }

  testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
  const std::string config_path_ = tmp_.Path("tyto.yml");
  std::unique_ptr<Server> server_;
};

TEST_F(ServerFixture, ServesHealthReadyAndMetrics) {
  WriteConfig("");
  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(HttpGet(server_->port(), "/-/healthy")->status, 200);
  EXPECT_EQ(HttpGet(server_->port(), "/-/ready")->status, 200);
  std::string m = Metrics();
  for (const char* name : {"tyto_build_info{", "process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_open_fds ", "process_start_time_seconds ", "tyto_http_requests_total{",
                           "tyto_config_last_reload_successful 1"}) {
    EXPECT_NE(m.find(name), std::string::npos) << name << " missing from\n" << m;
  }
  auto b = HttpGet(server_->port(), "/api/v1/status/buildinfo");
  EXPECT_NE(b->body.find("\"version\":\"0.1.0\""), std::string::npos) << b->body;
}

TEST_F(ServerFixture, SecondServerOnTheSameDataDirectoryRefuses) {
  WriteConfig("");
  ASSERT_TRUE(Start().ok());
  Server second(Flags(), Env::Default(), Clock::Real());
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("process " + std::to_string(getpid())), std::string::npos) << s.ToString();
}

TEST_F(ServerFixture, ReloadAppliesAGoodFileAndKeepsTheOldOneOnABadFile) {
  WriteConfig("log:\n  level: info\n");
  ASSERT_TRUE(Start().ok());
  WriteConfig("log:\n  level: warn\n");
  auto r = Post("/-/reload");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HttpGet(server_->port(), "/-/log-level")->body, R"({"status":"success","data":{"level":"warn"}})");

  WriteConfig("log:\n  levle: debug\n");
  r = Post("/-/reload");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("tyto.yml:2:3: unknown key 'levle' in section 'log', did you mean 'level'?"),
            std::string::npos)
      << r.body;
  EXPECT_NE(Metrics().find("tyto_config_last_reload_successful 0"), std::string::npos);
  EXPECT_EQ(HttpGet(server_->port(), "/-/log-level")->body, R"({"status":"success","data":{"level":"warn"}})");

  WriteConfig("log:\n  level: info\nstorage:\n  data_dir: /elsewhere\n");
  r = Post("/-/reload");
  EXPECT_EQ(r.status, 200);
  // The flag still overrides the file, so the data directory has not changed.
  EXPECT_NE(r.body.find("\"restart_required\":[]"), std::string::npos) << r.body;
  EXPECT_NE(Metrics().find("tyto_config_last_reload_successful 1"), std::string::npos);
  log::SetLevel(log::Level::kInfo);
}

TEST_F(ServerFixture, ReloadReportsOptionsThatNeedARestart) {
  WriteConfig("http:\n  threads: 2\n");
  ASSERT_TRUE(Start().ok());
  WriteConfig("http:\n  threads: 3\n");
  auto out = server_->Reload();
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.restart_required, std::vector<std::string>{"http.threads"});
}

TEST_F(ServerFixture, TokensGuardEveryRouteButHealthAndReady) {
  std::string reader = "reader-secret", admin = "admin-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: grafana, secret_sha256: " + auth::HashSecret(reader) + ", scopes: [read]}\n"
              "    - {name: ops, secret_sha256: " + auth::HashSecret(admin) + ", scopes: [admin]}\n");
  ASSERT_TRUE(Start().ok());
  uint16_t port = server_->port();
  EXPECT_EQ(HttpGet(port, "/-/healthy")->status, 200);
  EXPECT_EQ(HttpGet(port, "/-/ready")->status, 200);
  auto anon = HttpGet(port, "/metrics");
  EXPECT_EQ(anon->status, 401);
  EXPECT_NE(anon->body.find("\"errorType\":\"unauthorized\""), std::string::npos);
  EXPECT_EQ(HttpGet(port, "/metrics", {{"Authorization", "Bearer wrong"}})->status, 401);
  EXPECT_EQ(HttpGet(port, "/metrics", {{"Authorization", "Bearer " + reader}})->status, 200);
  // Basic auth: token name as user, secret as password. "grafana:reader-secret".
  EXPECT_EQ(HttpGet(port, "/metrics", {{"Authorization", "Basic Z3JhZmFuYTpyZWFkZXItc2VjcmV0"}})->status, 200);
  auto forbidden = Post("/-/reload", {{"Authorization", "Bearer " + reader}});
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_NE(forbidden.body.find("lacks the 'admin' scope"), std::string::npos);
  EXPECT_EQ(Post("/-/reload", {{"Authorization", "Bearer " + admin}}).status, 200);
  // Admin implies read.
  EXPECT_EQ(HttpGet(port, "/metrics", {{"Authorization", "Bearer " + admin}})->status, 200);
}

// Every route, tried with a token of tenant team-a naming tenant team-b: each guarded route
// refuses (403) before its handler runs; the routes that answer without credentials are the
// few public ones.
TEST_F(ServerFixture, EveryRouteRefusesATenantTheTokenIsNotGranted) {
  const std::string a = "team-a-secret", b = "team-b-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: a, secret_sha256: " + auth::HashSecret(a) + ", role: admin, tenants: [team-a]}\n"
              "    - {name: b, secret_sha256: " + auth::HashSecret(b) + ", role: admin, tenants: [team-b]}\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  std::set<std::string> public_routes;
  size_t tried = 0;
  for (const http::Router::RouteInfo& r : server_->Routes()) {
    const std::string target = TargetOf(r.pattern);
    for (const std::string& method : r.methods) {
      auto anon = testing::HttpRequest(port, method, target, {}, "");
      ASSERT_TRUE(anon.ok()) << method << " " << target;
      if (anon->status != 401) {
        public_routes.insert(r.pattern);
        continue;
      }
      auto wrong = testing::HttpRequest(port, method, target,
                                        {{"Authorization", "Bearer " + a}, {"X-Scope-OrgID", "team-b"}}, "");
      ASSERT_TRUE(wrong.ok()) << method << " " << target;
      EXPECT_EQ(wrong->status, 403) << method << " " << target << " answered: " << wrong->body;
      EXPECT_NE(wrong->body.find("may not act for tenant 'team-b'"), std::string::npos) << method << " " << target;
      ++tried;
    }
  }
  EXPECT_GT(tried, 50u) << "the server has more guarded routes than that";
  const std::set<std::string> allowed = {"/-/healthy", "/-/ready", "/", "/ui", "/ui/", "/ui/*path"};
  for (const std::string& p : public_routes) EXPECT_TRUE(allowed.count(p)) << "public route: " << p;
}

// Metrics written for team-b are invisible to team-a through PromQL and the series, label and
// label-value APIs, and visible to team-b.
TEST_F(ServerFixture, ATenantsMetricsAreInvisibleToAnother) {
  const std::string a = "team-a-secret", b = "team-b-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: a, secret_sha256: " + auth::HashSecret(a) + ", role: admin, tenants: [team-a]}\n"
              "    - {name: b, secret_sha256: " + auth::HashSecret(b) + ", role: admin, tenants: [team-b]}\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string body =
      R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"b_private_metric","gauge":{"dataPoints":[{"asDouble":42,"timeUnixNano":")" +
      std::to_string(now_ns) + R"(","attributes":[{"key":"b_private_label","value":{"stringValue":"v"}}]}]}}]}]}]})";
  auto w = testing::HttpRequest(port, "POST", "/v1/metrics",
                                {{"Authorization", "Bearer " + b}, {"Content-Type", "application/json"}}, body);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->status, 200) << w->body;
  auto get = [&](const std::string& secret, const std::string& target) {
    auto r = HttpGet(port, target, {{"Authorization", "Bearer " + secret}});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << target << ": " << r->body;
    return r.ok() ? r->body : std::string();
  };
  for (const std::string& target :
       {std::string("/api/v1/query?query=b_private_metric"), std::string("/api/v1/query?query=%7B__name__%3D~%22.%2B%22%7D"),
        std::string("/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D"), std::string("/api/v1/labels"),
        std::string("/api/v1/label/__name__/values"), std::string("/api/v1/label/b_private_label/values")}) {
    EXPECT_EQ(get(a, target).find("b_private"), std::string::npos) << target;
    EXPECT_EQ(get(a, target).find("__tenant__"), std::string::npos) << target;
  }
  const std::string seen = get(b, "/api/v1/query?query=b_private_metric");
  EXPECT_NE(seen.find("\"42\""), std::string::npos) << seen;
  EXPECT_EQ(seen.find("__tenant__"), std::string::npos) << seen;
  EXPECT_NE(get(b, "/api/v1/label/__name__/values").find("b_private_metric"), std::string::npos);
}

// The metrics derived from a tenant's inference events are that tenant's: team-a reads its
// request count; team-b and the default tenant see nothing of it.
TEST_F(ServerFixture, MetricsDerivedFromATenantsEventsAreItsOwn) {
  const std::string a = "team-a-secret", b = "team-b-secret", d = "default-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: a, secret_sha256: " + auth::HashSecret(a) + ", role: admin, tenants: [team-a]}\n"
              "    - {name: b, secret_sha256: " + auth::HashSecret(b) + ", role: admin, tenants: [team-b]}\n"
              "    - {name: d, secret_sha256: " + auth::HashSecret(d) + ", role: admin}\n"
              "inference:\n  flush_interval: 1s\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  auto w = testing::HttpRequest(port, "POST", "/api/v1/events",
                                {{"Authorization", "Bearer " + a}, {"Content-Type", "application/x-ndjson"}},
                                "{\"model\":\"a-private-model\",\"request_id\":\"r-1\",\"latency_s\":0.5,"
                                "\"trace_id\":\"5b8efff798038103d269b633813fc60c\"}\n");
  ASSERT_TRUE(w.ok());
  ASSERT_LT(w->status, 300) << w->body;
  const std::string query = "/api/v1/query?query=sum%20by%20(model)%20(tyto_inference_requests_total)";
  auto get = [&](const std::string& secret) {
    auto r = HttpGet(port, query, {{"Authorization", "Bearer " + secret}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body : std::string();
  };
  std::string seen;
  for (int i = 0; i < 100 && seen.find("a-private-model") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = get(a);
  }
  EXPECT_NE(seen.find("\"model\":\"a-private-model\""), std::string::npos) << seen;
  EXPECT_EQ(seen.find("__tenant__"), std::string::npos) << seen;
  EXPECT_EQ(get(b).find("a-private-model"), std::string::npos);
  EXPECT_EQ(get(d).find("a-private-model"), std::string::npos);
  // So are the exemplars of its latency buckets (the request's trace id).
  auto exemplars = [&](const std::string& secret) {
    auto r = HttpGet(port, "/api/v1/query_exemplars?query=gen_ai_server_request_duration_seconds_bucket&start=0",
                     {{"Authorization", "Bearer " + secret}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body : std::string();
  };
  const std::string own = exemplars(a);
  EXPECT_NE(own.find("5b8efff798038103d269b633813fc60c"), std::string::npos) << own;
  EXPECT_EQ(own.find("__tenant__"), std::string::npos) << own;
  EXPECT_EQ(exemplars(b).find("a-private-model"), std::string::npos);
  EXPECT_EQ(exemplars(d).find("a-private-model"), std::string::npos);
}

// Erasure reaches the quality monitor too: the prediction and the feedback (with its free-text
// correction) of the erased request are gone, and counted in the answer.
TEST_F(ServerFixture, ErasureForgetsTheRequestsPredictionAndFeedback) {
  const std::string admin = "admin-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: admin, secret_sha256: " + auth::HashSecret(admin) + ", role: admin}\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  auto post = [&](const std::string& path, const std::string& type, const std::string& body) {
    auto r = testing::HttpRequest(port, "POST", path, {{"Authorization", "Bearer " + admin}, {"Content-Type", type}},
                                  body);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : testing::TestResponse{};
  };
  EXPECT_LT(post("/api/v1/events", "application/x-ndjson",
                 "{\"model\":\"clf\",\"request_id\":\"r-81\",\"prediction\":{\"label\":\"refund\"}}\n")
                .status,
            300);
  testing::TestResponse fed = post("/api/v1/feedback", "application/x-ndjson",
                                   "{\"request_id\":\"r-81\",\"label\":\"cancel\",\"correction\":\"wanted to cancel\"}\n");
  EXPECT_LT(fed.status, 300) << fed.body;
  testing::TestResponse erased = post("/api/v1/admin/erase", "application/json", R"({"tenant":"default","request_id":"r-81"})");
  EXPECT_EQ(erased.status, 200) << erased.body;
  EXPECT_NE(erased.body.find("\"predictions\":1,\"feedback\":1"), std::string::npos) << erased.body;
}

// A log line without a time gets the batch's X-Tyto-Received-At (set from the NATS stream's
// timestamp, so a redelivered batch decodes to the same rows and ClickHouse finds the earlier
// copy in the same time range), not the time the server happens to read it.
TEST_F(ServerFixture, LinesWithoutATimeTakeTheBatchsReceivedAt) {
  WriteConfig("log:\n  level: info\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t received_ms = (now_s - 7200) * 1000;  // two hours ago
  auto w = testing::HttpRequest(port, "POST", "/api/v1/logs",
                                {{"Content-Type", "application/x-ndjson"},
                                 {"X-Tyto-Received-At", std::to_string(received_ms)}},
                                "{\"service\":\"s\",\"message\":\"from-the-bus-7781\"}\n");
  ASSERT_TRUE(w.ok());
  ASSERT_LT(w->status, 300) << w->body;
  auto around = [&](int64_t start_s, int64_t end_s) {
    auto r = HttpGet(port, "/api/v1/logs?start=" + std::to_string(start_s) + "&end=" + std::to_string(end_s));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body : std::string();
  };
  EXPECT_NE(around(now_s - 7201, now_s - 7199).find("from-the-bus-7781"), std::string::npos);
  EXPECT_EQ(around(now_s - 60, now_s + 60).find("from-the-bus-7781"), std::string::npos);
}

// A tenant over its event rate gets 429 naming the limit; another tenant is not held back.
TEST_F(ServerFixture, ATenantOverItsEventRateIsRefusedWith429) {
  const std::string a = "team-a-secret", b = "team-b-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: a, secret_sha256: " + auth::HashSecret(a) + ", scopes: [write], tenants: [team-a]}\n"
              "    - {name: b, secret_sha256: " + auth::HashSecret(b) + ", scopes: [write], tenants: [team-b]}\n"
              "tenants:\n  - {name: team-a, limits: {event_rate: 1, event_burst: 3}}\n");
  ASSERT_TRUE(Start().ok());
  std::string events;
  for (int i = 0; i < 5; ++i) events += "{\"model\":\"m\",\"request_id\":\"r-" + std::to_string(i) + "\"}\n";
  auto post = [&](const std::string& secret) {
    auto r = testing::HttpRequest(server_->port(), "POST", "/api/v1/events",
                                  {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/x-ndjson"}},
                                  events);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : testing::TestResponse{};
  };
  EXPECT_LT(post(a).status, 300) << "a full bucket takes one request, even one larger than the burst";
  testing::TestResponse refused = post(a);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("tenant 'team-a': event rate limit of 1 records/s"), std::string::npos) << refused.body;
  EXPECT_LT(post(b).status, 300) << "team-b has no limit";
  EXPECT_LT(post(b).status, 300);
}

// A tenant whose events, spans and logs fill its storage limit gets 429 for more; another
// tenant is not held back.
TEST_F(ServerFixture, ATenantAtItsStorageLimitIsRefusedWith429) {
  const std::string a = "team-a-secret", b = "team-b-secret";
  auto config = [&](const std::string& limit) {
    WriteConfig("auth:\n  tokens:\n"
                "    - {name: a, secret_sha256: " + auth::HashSecret(a) + ", scopes: [write], tenants: [team-a]}\n"
                "    - {name: b, secret_sha256: " + auth::HashSecret(b) + ", scopes: [write], tenants: [team-b]}\n"
                "    - {name: a-admin, secret_sha256: " + auth::HashSecret(a + "-admin") +
                ", role: admin, tenants: [team-a]}\n"
                "tenants:\n  - {name: team-a, limits: {max_storage_bytes: " + limit + "}}\n");
  };
  config("4KiB");
  ASSERT_TRUE(Start().ok());
  // 20 log lines of over 200 bytes each (log records are all kept; events are sampled).
  const std::string words(200, 'w');
  auto post = [&](const std::string& secret, int i) {
    std::string lines;
    for (int k = 0; k < 20; ++k) {
      lines += "{\"service\":\"s\",\"message\":\"line " + std::to_string(i * 100 + k) + " " + words + "\"}\n";
    }
    auto r = testing::HttpRequest(server_->port(), "POST", "/api/v1/logs",
                                  {{"Authorization", "Bearer " + secret}, {"Content-Type", "application/x-ndjson"}},
                                  lines);
    EXPECT_TRUE(r.ok());
    // The limiter reads the store's figure again after 100 ms.
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    return r.ok() ? *r : testing::TestResponse{};
  };
  EXPECT_LT(post(a, 1).status, 300) << "under the limit before: taken whole";
  testing::TestResponse refused = post(a, 2);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("tenant 'team-a': storage limit of 4096 bytes reached"), std::string::npos)
      << refused.body;
  for (int i = 0; i < 3; ++i) EXPECT_LT(post(b, i).status, 300) << "team-b has no limit";
  // A reload changes the limit at once, both ways.
  config("1MiB");
  api::ReloadOutcome reloaded = server_->Reload();
  ASSERT_TRUE(reloaded.status.ok()) << reloaded.status.ToString();
  EXPECT_TRUE(reloaded.restart_required.empty());
  EXPECT_LT(post(a, 3).status, 300);
  config("4KiB");
  ASSERT_TRUE(server_->Reload().status.ok());
  EXPECT_EQ(post(a, 4).status, 429);
  // Erasing the tenant's data makes room again.
  auto erased = testing::HttpRequest(server_->port(), "POST", "/api/v1/admin/erase",
                                     {{"Authorization", "Bearer " + a + "-admin"}, {"Content-Type", "application/json"}},
                                     R"({"tenant":"team-a"})");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->status, 200) << erased->body;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_LT(post(a, 5).status, 300);
}

TEST_F(ServerFixture, AFailedLoginASilenceAndAReloadLeaveAuditRecords) {
  const std::string admin = "admin-secret", tenant_admin = "default-admin-secret";
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: ops, secret_sha256: " + auth::HashSecret(admin) + ", scopes: [admin], tenants: ['*']}\n"
              "    - {name: local, secret_sha256: " + auth::HashSecret(tenant_admin) + ", scopes: [admin]}\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  const std::vector<std::pair<std::string, std::string>> as_admin{{"Authorization", "Bearer " + admin}};
  EXPECT_EQ(HttpGet(port, "/api/v1/query?query=up", {{"Authorization", "Bearer wrong"}})->status, 401);
  {
    auto c = testing::TestConnection::Connect(port);
    ASSERT_TRUE(c.ok());
    const std::string body = R"({"matchers":[{"name":"alertname","value":"Hot","isRegex":false}],)"
                             R"("startsAt":"2030-01-01T00:00:00Z","endsAt":"2030-01-01T01:00:00Z",)"
                             R"("createdBy":"alice","comment":"maintenance"})";
    ASSERT_TRUE((*c)->Send("POST", "/api/v2/silences", {{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}}, body).ok());
    auto r = (*c)->Read();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
  }
  EXPECT_EQ(Post("/-/reload", as_admin).status, 200);

  auto trail = HttpGet(port, "/api/v1/audit", as_admin);
  ASSERT_EQ(trail->status, 200) << trail->body;
  const std::string& b = trail->body;
  EXPECT_NE(b.find(R"("action":"server.start","outcome":"ok")"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("action":"auth.failed","outcome":"unauthenticated","target":"/api/v1/query","remote":"127.0.0.1:)"),
            std::string::npos) << b;
  EXPECT_NE(b.find(R"("action":"silence.create","outcome":"ok","target":")"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("action":"config.reload","outcome":"ok","principal":"ops")"), std::string::npos) << b;
  // An admin of one tenant sees that tenant's records only: not the failed login, nor the start.
  auto own = HttpGet(port, "/api/v1/audit", {{"Authorization", "Bearer " + tenant_admin}});
  ASSERT_EQ(own->status, 200) << own->body;
  EXPECT_NE(own->body.find("silence.create"), std::string::npos) << own->body;
  EXPECT_EQ(own->body.find("auth.failed"), std::string::npos) << own->body;
  EXPECT_EQ(own->body.find("server.start"), std::string::npos) << own->body;
  // Filtered, and the file itself verifies.
  auto reloads = HttpGet(port, "/api/v1/audit?action=config", as_admin);
  EXPECT_EQ(reloads->body.find("silence.create"), std::string::npos) << reloads->body;
  // A reload that adds a token says so (without its secret), before the reload itself.
  WriteConfig("auth:\n  tokens:\n"
              "    - {name: ops, secret_sha256: " + auth::HashSecret(admin) + ", scopes: [admin], tenants: ['*']}\n"
              "    - {name: local, secret_sha256: " + auth::HashSecret(tenant_admin) + ", scopes: [admin]}\n"
              "    - {name: ci, secret_sha256: " + auth::HashSecret("ci-secret") + ", scopes: [write]}\n");
  EXPECT_EQ(Post("/-/reload", as_admin).status, 200);
  auto tokens = HttpGet(port, "/api/v1/audit?action=token", as_admin);
  EXPECT_NE(tokens->body.find(R"("action":"token.create","outcome":"ok","target":"ci","grants":"scopes=write","via":"reload")"),
            std::string::npos) << tokens->body;
  EXPECT_EQ(tokens->body.find(auth::HashSecret("ci-secret")), std::string::npos);
  auto v = audit::Verify(Env::Default(), dir_ + "/data/audit/audit.log");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->intact()) << v->ToString("audit.log");
  EXPECT_EQ(v->records, 6u);
}

// Every route that a token with only read or only write is refused (those for editors,
// operators and admins: routes that change what people own) is on the audit trail's table.
TEST_F(ServerFixture, EveryRouteForEditorsOperatorsAndAdminsIsAudited) {
  const std::string viewer = "viewer-secret", writer = "writer-secret";
  // Two refusals a route: the shield's limit on refusals per address must not answer first.
  WriteConfig("http:\n  auth_failures_per_address: 10000\n  auth_failures_per_address_burst: 10000\n"
              "auth:\n  tokens:\n"
              "    - {name: v, secret_sha256: " + auth::HashSecret(viewer) + ", role: viewer}\n"
              "    - {name: w, secret_sha256: " + auth::HashSecret(writer) + ", scopes: [write]}\n");
  ASSERT_TRUE(Start().ok());
  const uint16_t port = server_->port();
  size_t privileged = 0;
  for (const http::Router::RouteInfo& r : server_->Routes()) {
    const std::string target = TargetOf(r.pattern);
    for (const std::string& method : r.methods) {
      if (method == "GET" || method == "HEAD") continue;
      auto as_viewer = testing::HttpRequest(port, method, target, {{"Authorization", "Bearer " + viewer}}, "");
      auto as_writer = testing::HttpRequest(port, method, target, {{"Authorization", "Bearer " + writer}}, "");
      ASSERT_TRUE(as_viewer.ok() && as_writer.ok()) << method << " " << target;
      ASSERT_NE(as_viewer->status, 429) << "rate-limited: " << method << " " << target;
      if (as_viewer->status != 403 || as_writer->status != 403) continue;
      ++privileged;
      EXPECT_FALSE(audit::RouteAction(method, r.pattern).empty())
          << method << " " << r.pattern << " needs editors, operators or admins but is not in src/audit/routes.cc";
    }
  }
  EXPECT_GE(privileged, 10u);  // reload, log level, flush, silences, dashboards, incidents, erasure
}

TEST_F(ServerFixture, NonLoopbackWithoutTokensRefusesToStart) {
  WriteConfig("");
  Overrides o = Flags();
  o.listen = "0.0.0.0:0";
  Server s(o, Env::Default(), Clock::Real());
  Status st = s.Start();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("without auth tokens"), std::string::npos);
}

TEST_F(ServerFixture, LogLevelChangesAtRunTime) {
  WriteConfig("");
  ASSERT_TRUE(Start().ok());
  EXPECT_EQ(Post("/-/log-level?level=debug").status, 200);
  EXPECT_EQ(log::GetLevel(), log::Level::kDebug);
  auto bad = Post("/-/log-level?level=chatty");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("unknown log level 'chatty'"), std::string::npos);
  log::SetLevel(log::Level::kInfo);
}

// The web UI's routes are served, and ui: is checked at start: an assets_dir without index.html
// or a dashboard file that does not validate stops the server from starting.
TEST_F(ServerFixture, ServesTheUiAndChecksItsConfiguration) {
  ASSERT_EQ(::mkdir((dir_ + "/dist").c_str(), 0755), 0);
  WriteConfig("ui: {assets_dir: " + dir_ + "/dist}\n");
  Status s = Start();
  EXPECT_NE(s.message().find("has no index.html"), std::string::npos) << s.ToString();
  server_.reset();
  std::ofstream(dir_ + "/dist/index.html") << "<title>dev UI</title>";
  std::ofstream(dir_ + "/mine.json") << R"({"uid":"mine","title":"Mine","panels":[]})";
  WriteConfig("ui: {assets_dir: " + dir_ + "/dist, dashboards: [" + dir_ + "/mine.json]}\n");
  ASSERT_TRUE(Start().ok());
  auto root = HttpGet(server_->port(), "/");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->status, 302);
  auto page = HttpGet(server_->port(), "/ui/fleet");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->body, "<title>dev UI</title>");
  auto list = HttpGet(server_->port(), "/api/v1/dashboards");
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->body.find(R"({"uid":"mine","title":"Mine","tags":[],"source":"file"})"), std::string::npos)
      << list->body;
  // A reload reads ui: again; a bad dashboard file is refused and the running set kept.
  std::ofstream(dir_ + "/more.json") << R"({"uid":"more","title":"More","panels":[]})";
  WriteConfig("ui: {assets_dir: " + dir_ + "/dist, dashboards: [" + dir_ + "/*.json]}\n");
  EXPECT_EQ(Post("/-/reload").status, 200);
  list = HttpGet(server_->port(), "/api/v1/dashboards");
  EXPECT_NE(list->body.find(R"("uid":"more")"), std::string::npos) << list->body;
  std::ofstream(dir_ + "/more.json") << R"({"uid":"more","title":"More"})";
  EXPECT_NE(Post("/-/reload").status, 200);
  list = HttpGet(server_->port(), "/api/v1/dashboards");
  EXPECT_NE(list->body.find(R"("uid":"more")"), std::string::npos) << list->body;
  std::remove((dir_ + "/more.json").c_str());
  server_.reset();
  std::ofstream(dir_ + "/mine.json") << R"({"uid":"mine","title":"Mine","panels":{}})";
  s = Start();
  EXPECT_NE(s.message().find("mine.json: panels: expected an array"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace tyto::server
