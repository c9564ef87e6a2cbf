#include "collect/discovery/refresher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "collect/discovery/testdata/fake_proc.h"
#include "instrumentation/metrics.h"
#include "testing/fault_injection_env.h"

namespace tyto::collect::discovery {
namespace {

using testdata::FakeProc;

class RefresherTest : public ::testing::Test {
 protected:
  RefresherTest() {
    DiscoveryOptions o;
    o.proc_path = proc_.root();
    discoverer_ = std::make_unique<Discoverer>(std::move(o));
  }

  void Serve(int pid, std::vector<std::string> argv, uint16_t port) {
    proc_.Process(pid, std::move(argv));
    proc_.Socket(pid, 5, static_cast<uint64_t>(pid) * 10);
    proc_.Listen(FakeProc::kHostNamespace, "0.0.0.0", port, static_cast<uint64_t>(pid) * 10);
    proc_.Flush();
  }
  void Exit(int pid) { std::filesystem::remove_all(proc_.root() + "/" + std::to_string(pid)); }

  FakeProc proc_;
  std::unique_ptr<Discoverer> discoverer_;
};

std::vector<std::string> Targets(const std::vector<scrape::ScrapeConfig>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) {
    for (const auto& g : j.static_configs) {
      for (const auto& t : g.targets) out.push_back(j.job_name + " " + t);
    }
  }
  return out;
}

TEST_F(RefresherTest, TheCallbackRunsOnlyWhenTheJobsChange) {
  std::vector<std::vector<std::string>> calls;
  instrumentation::Registry registry;
  RefresherMetrics metrics(&registry);
  Refresher r(
      discoverer_.get(), [&](const std::vector<scrape::ScrapeConfig>& jobs) { calls.push_back(Targets(jobs)); },
      &metrics);

  // The first refresh always reports, even with nothing found.
  auto changed = r.Refresh();
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_TRUE(*changed);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_TRUE(calls[0].empty());
  EXPECT_FALSE(*r.Refresh());

  Serve(100, {"vllm", "serve", "m", "--port", "8000"}, 8000);
  EXPECT_TRUE(*r.Refresh());
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1], (std::vector<std::string>{"vllm 127.0.0.1:8000"}));
  EXPECT_FALSE(*r.Refresh());
  EXPECT_EQ(calls.size(), 2u);

  // A server that is found but not scraped changes the servers, not the jobs.
  Serve(500, {"ollama", "serve"}, 11434);
  EXPECT_FALSE(*r.Refresh());
  EXPECT_EQ(r.servers().size(), 2u);

  // The user's jobs change the names: a change.
  std::vector<scrape::ScrapeConfig> user(1);
  user[0].job_name = "vllm";
  r.SetUserJobs(user);
  EXPECT_TRUE(*r.Refresh());
  EXPECT_EQ(calls.back(), (std::vector<std::string>{"vllm-discovered 127.0.0.1:8000"}));
  EXPECT_EQ(Targets(r.jobs()), calls.back());

  Exit(100);
  EXPECT_TRUE(*r.Refresh());
  EXPECT_TRUE(calls.back().empty());
  EXPECT_EQ(calls.size(), 4u);

  std::string exposed = registry.Expose();
  EXPECT_NE(exposed.find("tyto_inference_discovery_refreshes_total 7"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("tyto_inference_discovery_servers 1"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("tyto_inference_discovery_targets 0"), std::string::npos) << exposed;
}

TEST_F(RefresherTest, AFailedRefreshKeepsTheLastJobs) {
  int calls = 0;
  instrumentation::Registry registry;
  Serve(100, {"vllm", "serve", "m"}, 8000);
  tyto::testing::FaultInjectionEnv env(Env::Default());
  DiscoveryOptions o;
  o.proc_path = proc_.root();
  o.env = &env;
  Discoverer d(o);
  RefresherMetrics metrics(&registry);
  Refresher r(&d, [&](const std::vector<scrape::ScrapeConfig>&) { ++calls; }, &metrics);
  EXPECT_TRUE(*r.Refresh());
  EXPECT_EQ(Targets(r.jobs()), (std::vector<std::string>{"vllm 127.0.0.1:8000"}));

  std::vector<std::string> lines;
  log::SetSinkForTesting([&](std::string_view line) { lines.emplace_back(line); });
  env.FailAll(true);  // /proc cannot be listed
  auto failed = r.Refresh();
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.Refresh().status().code(), StatusCode::kUnavailable);  // logged once, counted twice
  log::SetSinkForTesting(nullptr);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("inference server discovery failed"), std::string::npos) << lines[0];
  EXPECT_EQ(Targets(r.jobs()), (std::vector<std::string>{"vllm 127.0.0.1:8000"}));
  EXPECT_EQ(r.servers().size(), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(registry.Expose().find("tyto_inference_discovery_refresh_failures_total 2"), std::string::npos);

  // Back with the same servers: nothing to report.
  env.FailAll(false);
  EXPECT_FALSE(*r.Refresh());
  EXPECT_EQ(calls, 1);
}

TEST_F(RefresherTest, ItsThreadRefreshesUntilStopped) {
  std::atomic<int> calls{0};
  std::atomic<size_t> last_targets{0};
  Refresher r(discoverer_.get(), [&](const std::vector<scrape::ScrapeConfig>& jobs) {
    last_targets = Targets(jobs).size();
    ++calls;
  });
  r.Start(std::chrono::milliseconds(5));
  // Bounded waits (the scan takes well under a millisecond here; 10 s is far above).
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 2000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return calls.load() >= 1; }));
  Serve(100, {"vllm", "serve", "m"}, 8000);
  ASSERT_TRUE(wait_for([&] { return last_targets.load() == 1; }));
  const int seen = calls.load();
  r.Stop();
  r.Stop();  // idempotent
  Exit(100);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(calls.load(), seen) << "no refresh after Stop";
}

TEST_F(RefresherTest, TheInfoCollectorReportsTheLastServers) {
  Serve(500, {"ollama", "serve"}, 11434);
  Refresher r(discoverer_.get(), nullptr);
  ServerInfoCollector c(&r);
  EXPECT_EQ(c.name(), "inference_servers");
  VectorSink before;
  ASSERT_TRUE(c.Collect(0, &before).ok());
  EXPECT_TRUE(before.points.empty());
  ASSERT_TRUE(r.Refresh().ok());
  VectorSink after;
  ASSERT_TRUE(c.Collect(0, &after).ok());
  ASSERT_EQ(after.points.size(), 1u);
  EXPECT_EQ(after.points[0].labels.Get("kind"), "ollama");
  EXPECT_EQ(after.points[0].labels.Get("not_scraped"), "no_metrics_endpoint");
}

}  // namespace
}  // namespace tyto::collect::discovery
