// Manager over real loopback HTTP and a real head: static and file_sd targets are scraped on
// schedule, reloads keep or stop loops, the targets API reports health.
#include "scrape/manager.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <thread>

#include "http/server.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::scrape {
namespace {

using namespace std::chrono_literals;

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add({"GET"}, "/metrics", "metrics", [this](http::Request& r) {
      ++hits_;
      {
        std::lock_guard<std::mutex> lock(seen_mu_);
        seen_authorization_ = std::string(r.Header("Authorization").value_or(""));
        seen_accept_ = std::string(r.Header("Accept").value_or(""));
      }
      return http::Response::Text(200, "demo_value 42\n");
    });
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return router_.Dispatch(r); }, &registry_, 2);
    ASSERT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    server_->Start();
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), {}, nullptr);
    ASSERT_TRUE(h.ok());
    head_ = std::move(h).value();
  }
  void TearDown() override { server_->Shutdown(1s); }

  std::string Address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  ScrapeConfig Job(std::string name) {
    ScrapeConfig j;
    j.job_name = std::move(name);
    j.scrape_interval = 100ms;
    j.scrape_timeout = 100ms;
    return j;
  }

  // Waits (bounded) until `pred` holds.
  template <typename Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  size_t SeriesWith(const std::string& name, const std::string& value) {
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, name, value)});
    size_t n = 0;
    while (set->Next()) ++n;
    return n;
  }

  testing::TempDir dir_;
  instrumentation::Registry registry_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<tsdb::Head> head_;
  std::atomic<int> hits_{0};
  std::mutex seen_mu_;
  std::string seen_authorization_;
  std::string seen_accept_;
};

TEST_F(ManagerTest, SendsAuthorizationFromFilesAndPrometheusAcceptHeader) {
  Manager m(head_.get(), Clock::Real(), &registry_);
  const std::string secret = dir_.Path("token");
  { std::ofstream(secret) << "s3cret\n"; }
  ScrapeConfig job = Job("auth");
  job.authorization.credentials_file = secret;
  job.static_configs = {{{Address()}, {}}};
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(seen_mu_);
    return seen_authorization_ == "Bearer s3cret";
  }));
  {
    std::lock_guard<std::mutex> lock(seen_mu_);
    EXPECT_EQ(seen_accept_, kAcceptHeader);
  }
  job.authorization = {};
  job.basic_auth.username = "u";
  job.basic_auth.password = "p";
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> lock(seen_mu_);
    return seen_authorization_ == "Basic dTpw";  // base64("u:p")
  }));
  // A missing password file fails the scrape, naming it.
  job.basic_auth.password = "";
  job.basic_auth.password_file = dir_.Path("absent");
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] {
    auto t = m.Targets();
    return t.size() == 1 && t[0].status.last_error.find("basic_auth password_file") != std::string::npos;
  }));
}

TEST_F(ManagerTest, ScrapesStaticTargetsOnScheduleAndReportsThem) {
  Manager m(head_.get(), Clock::Real(), &registry_);
  ScrapeConfig job = Job("demo");
  job.static_configs = {{{Address(), "127.0.0.1:1"}, {{"env", "test"}}}};
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] { return hits_ >= 3; }));
  ASSERT_TRUE(Eventually([&] {
    auto targets = m.Targets();
    return targets.size() == 2 && targets[0].status.health != "unknown" && targets[1].status.health != "unknown";
  }));
  int up = 0, down = 0;
  for (const TargetInfo& t : m.Targets()) {
    EXPECT_EQ(t.job, "demo");
    EXPECT_EQ(t.labels.Get("env"), "test");
    (t.status.health == "up" ? up : down)++;
    if (t.status.health == "down") {
      EXPECT_NE(t.status.last_error.find("127.0.0.1:1"), std::string::npos);
    }
  }
  EXPECT_EQ(up, 1);
  EXPECT_EQ(down, 1);
  EXPECT_EQ(SeriesWith("__name__", "demo_value"), 1u);
  EXPECT_EQ(SeriesWith("__name__", "up"), 2u);

  // A reload without the job stops its loops.
  ASSERT_TRUE(m.ApplyConfig({}, {}).ok());
  EXPECT_TRUE(m.Targets().empty());
  const int after = hits_;
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(hits_ - after, 1);  // at most one scrape was already in flight
}

TEST_F(ManagerTest, FileSdTargetsFollowTheFile) {
  Manager m(head_.get(), Clock::Real(), &registry_, {}, 50ms);
  const std::string file = dir_.Path("targets.json");
  {
    std::ofstream(file) << R"([{"targets": [")" << Address() << R"("], "labels": {"team": "ml"}}])";
  }
  ScrapeConfig job = Job("files");
  job.file_sd_configs = {{{dir_.Path("*.json")}, 1min}};
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] { return SeriesWith("team", "ml") > 0; }));
  // Rewritten: the old target goes (its series end), the new one comes.
  std::this_thread::sleep_for(20ms);  // a different mtime
  {
    std::ofstream(file) << R"([{"targets": [")" << Address() << R"("], "labels": {"team": "infra"}}])";
  }
  ASSERT_TRUE(Eventually([&] {
    auto t = m.Targets();
    return t.size() == 1 && t[0].labels.Get("team") == "infra";
  }));
  // A broken file keeps the targets it had.
  { std::ofstream(file) << "[{\"targets\": "; }
  std::this_thread::sleep_for(200ms);
  auto t = m.Targets();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].labels.Get("team"), "infra");
}

TEST(ReadTargetFileTest, ErrorsNameTheFileAndPlace) {
  testing::TempDir dir;
  const std::string path = dir.Path("t.yml");
  { std::ofstream(path) << "- targets: [a:1]\n  lables: {x: y}\n"; }
  auto r = ReadTargetFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("t.yml:2:3: unknown key 'lables'"), std::string::npos) << r.status().message();
  EXPECT_EQ(ReadTargetFile(dir.Path("missing.json")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tyto::scrape
