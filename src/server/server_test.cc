// The composition root in-process: start on a free port with a temporary data directory,
// auth, reload over HTTP, and the data-directory lock.
#include "server/server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/log.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::server {
namespace {

using testing::HttpGet;

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
