// Manager over real loopback HTTP (and HTTPS) and a real head: static and file_sd targets are
// scraped on schedule, reloads keep or stop loops, the targets API reports health.
#include "scrape/manager.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
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
  void TearDown() override {
    server_->Shutdown(1s);
    if (tls_server_) tls_server_->Shutdown(1s);
  }

  std::string Address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  // A throwaway self-signed certificate (its own CA) for 127.0.0.1 and localhost: dir/name.crt
  // and dir/name.key. Returns dir/name.
  std::string MakeCert(const std::string& name) {
    const std::string base = dir_.Path(name);
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
        " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        base + ".key -out " + base + ".crt 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return base;
  }

  // Serves the same /metrics over TLS with `cert`'s certificate; returns its address.
  std::string StartTlsServer(const std::string& cert) {
    tls_server_ =
        std::make_unique<http::Server>([this](http::Request& r) { return router_.Dispatch(r); }, &tls_registry_, 2);
    http::ServerOptions o;
    o.tls_cert_file = cert + ".crt";
    o.tls_key_file = cert + ".key";
    EXPECT_TRUE(tls_server_->SetOptions(o).ok());
    EXPECT_TRUE(tls_server_->Listen({"127.0.0.1", 0}).ok());
    tls_server_->Start();
    return "127.0.0.1:" + std::to_string(tls_server_->port());
  }

  const TargetInfo* FindTarget(const std::vector<TargetInfo>& targets, const std::string& job) {
    for (const TargetInfo& t : targets) {
      if (t.job == job) return &t;
    }
    return nullptr;
  }

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
  instrumentation::Registry tls_registry_;  // a second server registers the same metric names
  std::unique_ptr<http::Server> tls_server_;
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

TEST_F(ManagerTest, ScrapesHttpsTargetsAndNamesTlsErrors) {
  const std::string cert = MakeCert("server");
  const std::string other = MakeCert("other");  // a CA that did not sign the server's certificate
  const std::string address = StartTlsServer(cert);
  Manager m(head_.get(), Clock::Real(), &registry_);
  auto https_job = [&](std::string name) {
    ScrapeConfig j = Job(std::move(name));
    j.scheme = "https";
    j.static_configs = {{{address}, {}}};
    return j;
  };
  ScrapeConfig verified = https_job("verified");
  verified.tls_config.ca_file = cert + ".crt";
  // The wrong CA, but verification is off: the scrape succeeds anyway.
  ScrapeConfig skip = https_job("skip_verify");
  skip.tls_config.ca_file = other + ".crt";
  skip.tls_config.insecure_skip_verify = true;
  ScrapeConfig wrong = https_job("wrong_ca");
  wrong.tls_config.ca_file = other + ".crt";
  ASSERT_TRUE(m.ApplyConfig({}, {verified, skip, wrong}).ok());

  ASSERT_TRUE(Eventually([&] {
    auto t = m.Targets();
    for (const char* job : {"verified", "skip_verify", "wrong_ca"}) {
      const TargetInfo* info = FindTarget(t, job);
      if (info == nullptr || info->status.health == "unknown") return false;
    }
    return true;
  }));
  const auto targets = m.Targets();
  for (const char* job : {"verified", "skip_verify"}) {
    const TargetInfo* t = FindTarget(targets, job);
    ASSERT_NE(t, nullptr) << job;
    EXPECT_EQ(t->url, "https://" + address + "/metrics") << job;
    EXPECT_EQ(t->status.health, "up") << job << ": " << t->status.last_error;
  }
  const TargetInfo* failed = FindTarget(targets, "wrong_ca");
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->status.health, "down");
  EXPECT_NE(failed->status.last_error.find("TLS handshake with https://" + address), std::string::npos)
      << failed->status.last_error;
  EXPECT_NE(failed->status.last_error.find("certificate verify failed"), std::string::npos)
      << failed->status.last_error;

  // The samples of the successful https scrapes are stored, and none of the failed one.
  auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
  for (const auto& [job, want] :
       std::vector<std::pair<std::string, size_t>>{{"verified", 1}, {"skip_verify", 1}, {"wrong_ca", 0}}) {
    auto set = (*q)->Select(
        {*Matcher::Make(MatchType::kEqual, "__name__", "demo_value"), *Matcher::Make(MatchType::kEqual, "job", job)});
    size_t n = 0;
    while (set->Next()) ++n;
    EXPECT_EQ(n, want) << job;
  }
}

TEST_F(ManagerTest, TargetLimitFailsEveryTargetOfTheJob) {
  Manager m(head_.get(), Clock::Real(), &registry_);
  ScrapeConfig job = Job("limited");
  job.target_limit = 1;
  job.static_configs = {{{Address(), "localhost:" + std::to_string(server_->port())}, {}}};
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] {
    auto t = m.Targets();
    return t.size() == 2 && t[0].status.health != "unknown" && t[1].status.health != "unknown";
  }));
  for (const TargetInfo& t : m.Targets()) {
    EXPECT_EQ(t.status.health, "down") << t.url;
    EXPECT_EQ(t.status.last_error, "target_limit exceeded (2 targets, limit 1)") << t.url;
  }
  EXPECT_EQ(hits_, 0);  // nothing was fetched
  EXPECT_EQ(SeriesWith("__name__", "demo_value"), 0u);
  EXPECT_EQ(SeriesWith("__name__", "up"), 2u);  // up 0 for each

  // Under the limit again, the same targets are scraped.
  job.target_limit = 2;
  ASSERT_TRUE(m.ApplyConfig({}, {job}).ok());
  ASSERT_TRUE(Eventually([&] {
    auto t = m.Targets();
    return t.size() == 2 && t[0].status.health == "up" && t[1].status.health == "up";
  }));
  EXPECT_EQ(SeriesWith("__name__", "demo_value"), 2u);
}

TEST(ScrapePhaseTest, AThousandTargetsSpreadOverEveryTenthOfTheInterval) {
  // A realistic fleet: 1,000 node exporters of one job, built as the manager builds them.
  ScrapeConfig job;
  job.job_name = "node";
  TargetGroup group;
  for (int i = 0; i < 1000; ++i)
    group.targets.push_back("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":9100");
  for (const auto interval : {1s, 5s, 15s, 60s}) {
    job.scrape_interval = interval;
    job.scrape_timeout = std::min<std::chrono::milliseconds>(interval, 10s);
    ASSERT_TRUE(ApplyDefaults({}, &job).ok());
    const TargetsResult built = BuildTargets(job, relabel::Relabeler(), {group});
    ASSERT_EQ(built.targets.size(), 1000u);
    std::array<int, 10> tenths{};
    for (const Target& t : built.targets) {
      const auto phase = ScrapePhase(t.Key(), t.interval);
      ASSERT_GE(phase.count(), 0);
      ASSERT_LT(phase, t.interval);
      EXPECT_EQ(ScrapePhase(t.Key(), t.interval), phase);  // the same every time
      ++tenths[static_cast<size_t>(phase * 10 / t.interval)];
    }
    // 100 each when perfectly even; a uniform hash's counts stray by about 10. The hash is
    // deterministic, so these counts never change from run to run: the bound is for a change
    // of hash or key, not for chance. Firing together (one tenth with them all) fails it.
    for (size_t i = 0; i < tenths.size(); ++i) {
      EXPECT_GE(tenths[i], 60) << "tenth " << i << " of " << interval.count() << " s";
      EXPECT_LE(tenths[i], 140) << "tenth " << i << " of " << interval.count() << " s";
    }
  }
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
