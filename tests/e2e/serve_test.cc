// End-to-end: the built `tyto` binary as a user runs it. Each test starts `tyto serve` on a
// port the kernel picks (--listen 127.0.0.1:0; the port is read from the start-up log line)
// with its own temporary data directory, and stops what it started.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "auth/auth.h"
#include "e2e/process.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::HttpGet;
using testing::TestConnection;

class ServeTest : public ::testing::Test {
 protected:
  void TearDown() override { children_.clear(); }

  // Starts `tyto serve` and waits until /-/ready answers; returns the child (nullptr on failure).
  Child* Serve(std::vector<std::string> extra = {}, const std::string& log = "serve.log",
              const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> argv = {TYTO_BINARY, "serve", "--data-dir", dir_ + "/data", "--listen", listen};
    argv.insert(argv.end(), extra.begin(), extra.end());
    children_.push_back(std::make_unique<Child>(argv, dir_ + "/" + log));
    Child* c = children_.back().get();
    port_ = WaitUntilServing(c, dir_ + "/" + log);
    if (port_ != 0) return c;
    ADD_FAILURE() << "tyto serve did not become ready; log:\n" << ReadFile(dir_ + "/" + log);
    return nullptr;
  }

  testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Child>> children_;
};

TEST_F(ServeTest, VersionAndHelp) {
  CommandResult v = RunCommand({TYTO_BINARY, "version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("tyto 0.1.0", 0), 0u) << v.out;
  CommandResult h = RunCommand({TYTO_BINARY, "serve", "--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* flag : {"--config", "--data-dir", "--listen", "--insecure-no-auth"}) {
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(ServeTest, CheckConfigPrintsEveryErrorWithPosition) {
  std::string bad = dir_ + "/bad.yml";
  std::ofstream(bad) << "http:\n  listne: 1\n  read_timeout: soon\n";
  CommandResult r = RunCommand({TYTO_BINARY, "check", "config", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(bad + ":2:3: unknown key 'listne' in section 'http', did you mean 'listen'?"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(bad + ":3:17: invalid duration 'soon'"), std::string::npos) << r.err;

  std::string good = dir_ + "/good.yml";
  std::ofstream(good) << "log:\n  level: warn\n";
  r = RunCommand({TYTO_BINARY, "check", "config", good});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, good + ": OK\n");
}

TEST_F(ServeTest, ServesMetricsAndStopsCleanlyOnSigterm) {
  Child* c = Serve();
  ASSERT_TRUE(c);
  auto m = HttpGet(port_, "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("process_start_time_seconds"), std::string::npos);
  EXPECT_NE(m->body.find("tyto_build_info{"), std::string::npos);
  c->Signal(SIGTERM);
  std::string why;
  EXPECT_EQ(c->Wait(30s, &why), 0) << why;
  // The lock is released: the same data directory can be served again.
  ASSERT_TRUE(Serve({}, "again.log"));
}

TEST_F(ServeTest, SigtermCompletesEveryAcceptedRequest) {
  Child* c = Serve();
  ASSERT_TRUE(c);
  // Clients hammer the server on fresh and kept-alive connections while SIGTERM arrives.
  std::atomic<bool> stop{false};
  std::atomic<int> completed{0}, refused{0}, broken{0};
  std::mutex reasons_mu;
  std::vector<std::string> reasons;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 2000 && !stop; ++i) {
        auto conn = TestConnection::Connect(port_, false, 5s);
        if (!conn.ok()) {
          ++refused;  // not accepted: the listener is closed
          continue;
        }
        if (!(*conn)->Send("GET", "/metrics").ok()) {
          ++refused;
          continue;
        }
        auto r = (*conn)->Read();
        if (r.ok() && r->status == 200 && r->body.find("process_open_fds") != std::string::npos) {
          ++completed;
        } else if (!r.ok() && r.status().code() == StatusCode::kUnavailable) {
          // Not one byte of response: the connection was still in the kernel's accept queue when
          // the listener closed, or idle when the server closed it. Tyto never read the request.
          ++refused;
        } else {
          ++broken;  // a response cut short or wrong
          std::lock_guard<std::mutex> l(reasons_mu);
          reasons.push_back(r.ok() ? "status " + std::to_string(r->status) : r.status().ToString());
        }
      }
    });
  }
  // One request is mid-body when the signal arrives: it must still be answered.
  auto arriving = TestConnection::Connect(port_);
  ASSERT_TRUE(arriving.ok());
  ASSERT_TRUE((*arriving)->SendRaw("POST /-/log-level HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nlevel").ok());
  while (completed < 50) std::this_thread::sleep_for(1ms);
  c->Signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE((*arriving)->SendRaw("=info").ok());
  auto r = (*arriving)->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->Header("Connection"), "close");
  std::string why;
  int code = c->Wait(30s, &why);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(code, 0) << why;
  EXPECT_EQ(broken, 0) << "completed " << completed << ", refused " << refused << ", first: "
                       << (reasons.empty() ? "" : reasons[0]);
  EXPECT_GE(completed, 50);
  std::string log = ReadFile(dir_ + "/serve.log");
  EXPECT_NE(log.find("\"msg\":\"shutting down\",\"signal\":\"SIGTERM\""), std::string::npos) << log;
  // The server's side of the same promise: nothing was still open when the grace period ended.
  EXPECT_EQ(log.find("shutdown grace period over"), std::string::npos) << log;
}

TEST_F(ServeTest, SecondServerOnTheSameDataDirectoryRefusesToStart) {
  Child* first = Serve();
  ASSERT_TRUE(first);
  CommandResult second =
      RunCommand({TYTO_BINARY, "serve", "--data-dir", dir_ + "/data", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("is held by process " + std::to_string(first->pid())), std::string::npos) << second.err;
  // The first is unharmed.
  EXPECT_EQ(HttpGet(port_, "/-/healthy")->status, 200);
}

TEST_F(ServeTest, SighupReloadKeepsOldConfigOnError) {
  std::string cfg = dir_ + "/tyto.yml";
  std::ofstream(cfg) << "log:\n  level: info\n";
  Child* c = Serve({"--config", cfg});
  ASSERT_TRUE(c);
  std::ofstream(cfg, std::ios::trunc) << "log:\n  level: [\n";
  c->Signal(SIGHUP);
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = HttpGet(port_, "/metrics")->body;
    if (metrics.find("tyto_config_last_reload_successful 0") != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(metrics.find("tyto_config_last_reload_successful 0"), std::string::npos);
  EXPECT_NE(ReadFile(dir_ + "/serve.log").find("config reload failed, keeping the previous configuration"),
            std::string::npos);
  std::ofstream(cfg, std::ios::trunc) << "log:\n  level: warn\n";
  c->Signal(SIGHUP);
  for (int i = 0; i < 500; ++i) {
    metrics = HttpGet(port_, "/metrics")->body;
    if (metrics.find("tyto_config_last_reload_successful 1") != std::string::npos) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(metrics.find("tyto_config_last_reload_successful 1"), std::string::npos);
  EXPECT_NE(HttpGet(port_, "/-/log-level")->body.find("\"level\":\"warn\""), std::string::npos);
}

TEST_F(ServeTest, ScrapesTargetsFromAPrometheusScrapeConfigAndListsThem) {
  std::string cfg = dir_ + "/tyto.yml";
  std::ofstream(cfg) << "log:\n  level: info\ncollectors:\n  host:\n    enabled: false\n  gpu:\n    enabled: false\n";
  Child* c = Serve({"--config", cfg});
  ASSERT_TRUE(c);
  // Now that the port is known: Tyto scrapes its own /metrics, as a pasted prometheus.yml
  // section, applied by a reload. The built-in host and GPU collectors are off, so that the
  // only job whose series are listed is the scraped one (job="host" otherwise appears as soon as
  // the host collector's first round has run).
  std::ofstream(cfg, std::ios::trunc) << "collectors:\n  host:\n    enabled: false\n  gpu:\n    enabled: false\n"
                                         "global:\n  scrape_interval: 200ms\n  scrape_timeout: 200ms\n"
                                         "scrape_configs:\n"
                                         "  - job_name: self\n"
                                         "    static_configs:\n"
                                         "      - targets: ['127.0.0.1:"
                                      << port_ << "']\n        labels: {env: e2e}\n";
  c->Signal(SIGHUP);
  std::string targets;
  for (int i = 0; i < 500; ++i) {
    targets = HttpGet(port_, "/api/v1/targets")->body;
    if (targets.find("\"health\":\"up\"") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(targets.find("\"health\":\"up\""), std::string::npos) << targets;
  EXPECT_NE(targets.find("\"scrapePool\":\"self\""), std::string::npos) << targets;
  EXPECT_NE(targets.find("\"env\":\"e2e\""), std::string::npos) << targets;
  EXPECT_NE(targets.find("\"scrapeUrl\":\"http://127.0.0.1:" + std::to_string(port_) + "/metrics\""),
            std::string::npos)
      << targets;
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = HttpGet(port_, "/metrics")->body;
    if (metrics.find("tyto_scrapes_total 0") == std::string::npos &&
        metrics.find("tyto_scrapes_total") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(metrics.find("tyto_scrapes_total 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(HttpGet(port_, "/api/v1/targets?state=bogus")->status, 400);
  // The scraped page's TYPE and HELP lines are served as metadata.
  std::string metadata;
  for (int i = 0; i < 500; ++i) {
    metadata = HttpGet(port_, "/api/v1/metadata?metric=tyto_scrapes_total")->body;
    if (metadata.find("\"type\":\"counter\"") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(metadata.find("{\"tyto_scrapes_total\":[{\"type\":\"counter\",\"help\":\"Scrapes finished"),
            std::string::npos)
      << metadata;
  auto exemplars = HttpGet(port_, "/api/v1/query_exemplars?query=up&start=0");
  EXPECT_EQ(exemplars->status, 200);
  EXPECT_EQ(exemplars->body, "{\"status\":\"success\",\"data\":[]}");
  auto bad = HttpGet(port_, "/api/v1/query_exemplars?query=up{&start=0");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("1:4: parse error: unexpected end of input inside braces"), std::string::npos) << bad->body;

  // What was scraped is listed by the series and label APIs Grafana uses.
  auto series = HttpGet(port_, "/api/v1/series?match[]=up{job=%22self%22}");
  EXPECT_EQ(series->status, 200);
  EXPECT_NE(series->body.find("\"__name__\":\"up\""), std::string::npos) << series->body;
  EXPECT_NE(series->body.find("\"env\":\"e2e\""), std::string::npos) << series->body;
  EXPECT_NE(HttpGet(port_, "/api/v1/labels")->body.find("\"instance\""), std::string::npos);
  EXPECT_EQ(HttpGet(port_, "/api/v1/label/job/values")->body, "{\"status\":\"success\",\"data\":[\"self\"]}");
  auto limited = HttpGet(port_, "/api/v1/label/__name__/values?limit=1")->body;
  EXPECT_NE(limited.find("\"warnings\":[\"results truncated due to limit\"]"), std::string::npos) << limited;
  // PromQL over what was scraped.
  auto query = HttpGet(port_, "/api/v1/query?query=up%7Bjob%3D%22self%22%7D");
  EXPECT_EQ(query->status, 200);
  EXPECT_NE(query->body.find("\"resultType\":\"vector\""), std::string::npos) << query->body;
  EXPECT_NE(query->body.find("\"value\":["), std::string::npos) << query->body;
  EXPECT_NE(query->body.find(",\"1\"]"), std::string::npos) << query->body;
  EXPECT_EQ(HttpGet(port_, "/api/v1/query?query=1%2B1&time=100")->body,
            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[100,\"2\"]}}");
  auto bad_query = HttpGet(port_, "/api/v1/query?query=sum(");
  EXPECT_EQ(bad_query->status, 400);
  EXPECT_NE(bad_query->body.find("parse error"), std::string::npos) << bad_query->body;
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto range = HttpGet(port_, "/api/v1/query_range?query=count(up)&start=" + std::to_string(now_s - 60) +
                                  "&end=" + std::to_string(now_s + 5) + "&step=5s");
  EXPECT_EQ(range->status, 200);
  EXPECT_NE(range->body.find("\"resultType\":\"matrix\""), std::string::npos) << range->body;
  EXPECT_EQ(HttpGet(port_, "/api/v1/query_range?query=up&start=0&end=100000&step=1")->status, 400);  // > 11,000 points

  EXPECT_EQ(HttpGet(port_, "/api/v1/series")->status, 400);  // match[] is required
  EXPECT_EQ(HttpGet(port_, "/api/v1/labels?start=soon")->status, 400);

  // A flush writes the head's samples to blocks, which the series API still finds.
  auto conn = TestConnection::Connect(port_);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Send("POST", "/api/v1/admin/tsdb/flush").ok());
  auto flushed = (*conn)->Read();
  ASSERT_TRUE(flushed.ok());
  EXPECT_EQ(flushed->status, 200) << flushed->body;
  EXPECT_NE(flushed->body.find("\"blocks_written\":1"), std::string::npos) << flushed->body;
  std::vector<std::string> blocks;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/data/blocks")) blocks.push_back(e.path());
  EXPECT_EQ(blocks.size(), 1u);
  EXPECT_NE(HttpGet(port_, "/api/v1/series?match[]=up")->body.find("\"job\":\"self\""), std::string::npos);
}

TEST_F(ServeTest, NonLoopbackNeedsTokensOrTheInsecureFlag) {
  CommandResult r = RunCommand({TYTO_BINARY, "serve", "--data-dir", dir_ + "/data", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("without auth tokens"), std::string::npos) << r.err;
  Child* c = Serve({"--insecure-no-auth"}, "insecure.log", "0.0.0.0:0");
  ASSERT_TRUE(c);
  EXPECT_NE(ReadFile(dir_ + "/insecure.log").find("serving without authentication"), std::string::npos);
}

TEST_F(ServeTest, TokenNewPrintsAWorkingConfigEntry) {
  CommandResult t = RunCommand({TYTO_BINARY, "token", "new", "--name", "grafana", "--scope", "read"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(t.out, m, std::regex("#   (tyto_[A-Za-z0-9_-]+)")));
  std::string secret = m[1];
  std::string entry = t.out.substr(t.out.find("    - name:"));
  // A role for tenants, as a team's token would be.
  CommandResult team = RunCommand({TYTO_BINARY, "token", "new", "--name", "team", "--role", "viewer", "--tenant", "team-a"});
  ASSERT_EQ(team.exit_code, 0) << team.err;
  ASSERT_TRUE(std::regex_search(team.out, m, std::regex("#   (tyto_[A-Za-z0-9_-]+)")));
  const std::string team_secret = m[1];
  entry += team.out.substr(team.out.find("    - name:"));
  std::string cfg = dir_ + "/tyto.yml";
  std::ofstream(cfg) << "auth:\n  tokens:\n" << entry;
  Child* c = Serve({"--config", cfg});
  ASSERT_TRUE(c);
  EXPECT_EQ(HttpGet(port_, "/metrics")->status, 401);
  EXPECT_EQ(HttpGet(port_, "/metrics", {{"Authorization", "Bearer " + secret}})->status, 200);
  EXPECT_EQ(HttpGet(port_, "/api/v1/query?query=up", {{"Authorization", "Bearer " + team_secret}})->status, 200);
  EXPECT_EQ(HttpGet(port_, "/api/v1/query?query=up",
                    {{"Authorization", "Bearer " + team_secret}, {"X-Scope-OrgID", "team-b"}})->status, 403);
  EXPECT_EQ(RunCommand({TYTO_BINARY, "token", "new", "--name", "x", "--scope", "root"}).exit_code, 2);
  EXPECT_EQ(RunCommand({TYTO_BINARY, "token", "new", "--name", "x", "--role", "root"}).exit_code, 2);
  EXPECT_EQ(RunCommand({TYTO_BINARY, "token", "new", "--name", "x"}).exit_code, 2);
}

}  // namespace
}  // namespace tyto::e2e
