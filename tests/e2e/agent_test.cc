// End-to-end: `tyto agent` scrapes a target under load and forwards to a receiver (a central
// `tyto serve`, or Debian's Prometheus with its remote-write receiver on); the receiver is killed
// for a minute and restarted, the agent is restarted, and every sample the target served must be
// stored exactly once.
//
// The target serves N series with explicit timestamps, one new sample per series per scrape, and
// records what it served: that record is the ground truth the receiver's stored samples are
// compared with, sample by sample. The outage lasts 60 s (TYTO_E2E_OUTAGE_SECONDS shortens it
// for a quick local run).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "common/mutex.h"
#include "e2e/process.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;

constexpr int kSeries = 200;

int OutageSeconds() {
  const char* s = std::getenv("TYTO_E2E_OUTAGE_SECONDS");
  return s != nullptr ? std::atoi(s) : 60;
}

// A /metrics endpoint with kSeries series, each scrape a new sample (value: the scrape's number,
// timestamp: when it was served), remembering every timestamp it served.
class LoadTarget {
 public:
  LoadTarget() : server_([this](http::Request&) { return Serve(); }, &registry_, 1) {}
  ~LoadTarget() { server_.Shutdown(0ms); }

  uint16_t Start() {
    if (!server_.Listen({"127.0.0.1", 0}).ok()) return 0;
    server_.Start();
    return server_.port();
  }
  // Stops serving samples (503 from then on), so that the ground truth stops growing.
  void Pause() { serving_ = false; }
  void Resume() { serving_ = true; }
  // (timestamp, value) of every scrape served.
  std::vector<std::pair<int64_t, double>> Served() const {
    MutexLock lock(&mu_);
    return served_;
  }

 private:
  http::Response Serve() {
    if (!serving_) return http::Response::Text(503, "paused\n");
    MutexLock lock(&mu_);
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    // Strictly increasing, even for two scrapes in one millisecond.
    const int64_t ts = served_.empty() ? now : std::max(now, served_.back().first + 1);
    const double value = static_cast<double>(served_.size() + 1);
    std::string body = "# TYPE agent_load gauge\n";
    for (int i = 0; i < kSeries; ++i) {
      body += "agent_load{series=\"" + std::to_string(i) + "\"} " + std::to_string(static_cast<int64_t>(value)) + " " +
              std::to_string(ts) + "\n";
    }
    served_.emplace_back(ts, value);
    return http::Response::Text(200, std::move(body));
  }

  instrumentation::Registry registry_;
  http::Server server_;
  std::atomic<bool> serving_{true};
  mutable Mutex mu_;
  std::vector<std::pair<int64_t, double>> served_ GUARDED_BY(mu_);
};

// The value of an unlabelled sample line "name value" of a /metrics page; -1 when absent.
double MetricValue(const std::string& page, const std::string& name) {
  std::regex re("(^|\n)" + std::regex_replace(name, std::regex(R"([{}"])"), R"(\$&)") + " ([^\n]+)");
  std::smatch m;
  if (!std::regex_search(page, m, re)) return -1;
  return std::stod(m[2]);
}

double ScrapeValue(uint16_t port, const std::string& name) {
  auto r = testing::HttpGet(port, "/metrics");
  return r.ok() && r->status == 200 ? MetricValue(r->body, name) : -1;
}

// Every stored sample of agent_load, per series label, read through the receiver's
// Prometheus HTTP API (the same call for Tyto and Prometheus).
Result<std::map<std::string, std::vector<std::pair<int64_t, double>>>> Stored(uint16_t port) {
  auto r = testing::HttpGet(port, "/api/v1/query?query=agent_load%5B30m%5D");
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status(StatusCode::kUnavailable, "query: " + std::to_string(r->status) + " " + r->body);
  rapidjson::Document d;
  d.Parse(r->body.c_str());
  if (d.HasParseError() || !d.HasMember("data")) return InvalidArgument("query: not JSON: " + r->body.substr(0, 200));
  std::map<std::string, std::vector<std::pair<int64_t, double>>> out;
  for (const auto& series : d["data"]["result"].GetArray()) {
    auto& samples = out[series["metric"]["series"].GetString()];
    for (const auto& v : series["values"].GetArray()) {
      samples.emplace_back(static_cast<int64_t>(std::llround(v[0].GetDouble() * 1000)), std::stod(v[1].GetString()));
    }
  }
  return out;
}

// Polls until the receiver holds exactly what the target served, for every series; returns the
// difference found at the last try ("" when they agree).
std::string WaitUntilStoredEqualsServed(uint16_t port, const LoadTarget& target, std::chrono::seconds limit) {
  std::string diff = "never read";
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const auto served = target.Served();
  while (std::chrono::steady_clock::now() < deadline) {
    auto stored = Stored(port);
    if (!stored.ok()) {
      diff = stored.status().ToString();
    } else if (stored->size() != static_cast<size_t>(kSeries)) {
      diff = std::to_string(stored->size()) + " series stored, " + std::to_string(kSeries) + " served";
    } else {
      diff.clear();
      for (const auto& [series, samples] : *stored) {
        if (samples != served) {
          diff = "series " + series + ": " + std::to_string(samples.size()) + " samples stored, " +
                 std::to_string(served.size()) + " served";
          break;
        }
      }
      if (diff.empty()) return "";
    }
    std::this_thread::sleep_for(500ms);
  }
  return diff;
}

// A receiver the agent forwards to: started, killed and started again on the same port and data.
class Receiver {
 public:
  virtual ~Receiver() = default;
  virtual uint16_t Start() = 0;  // the port (the same on every start), 0 on failure
  virtual std::string remote_write_url() const = 0;
  virtual std::string log() const = 0;
  void Kill() {
    child_->Signal(SIGKILL);
    child_->Wait(10s);
  }

 protected:
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
  int starts_ = 0;
};

class TytoReceiver final : public Receiver {
 public:
  explicit TytoReceiver(const testing::TempDir& dir) : dir_(dir) {
    // The agent on this machine forwards its own collectors: the receiver's would be the same series.
    std::ofstream(dir_.Path("central.yml")) << "collectors: {host: {enabled: false}, gpu: {enabled: false}}\n";
  }
  uint16_t Start() override {
    const std::string log_path = dir_.Path("central-" + std::to_string(++starts_) + ".log");
    child_ = std::make_unique<Child>(
        std::vector<std::string>{TYTO_BINARY, "serve", "--config", dir_.Path("central.yml"), "--data-dir",
                                 dir_.Path("central"), "--listen", "127.0.0.1:" + std::to_string(port_)},
        log_path);
    port_ = WaitUntilServing(child_.get(), log_path);
    log_path_ = log_path;
    return port_;
  }
  std::string remote_write_url() const override { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const override { return ReadFile(log_path_); }

 private:
  const testing::TempDir& dir_;
  std::string log_path_;
};

// Debian's Prometheus 2.42 with --web.enable-remote-write-receiver.
class PrometheusReceiver final : public Receiver {
 public:
  explicit PrometheusReceiver(const testing::TempDir& dir) : dir_(dir) {
    std::ofstream(dir_.Path("prometheus.yml")) << "global: {scrape_interval: 1m}\n";
  }
  uint16_t Start() override {
    if (port_ == 0) port_ = FreePort();
    const std::string log_path = dir_.Path("prometheus-" + std::to_string(++starts_) + ".log");
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + dir_.Path("prometheus.yml"),
                                 "--storage.tsdb.path=" + dir_.Path("prometheus"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--web.enable-remote-write-receiver"},
        log_path);
    log_path_ = log_path;
    for (int i = 0; i < 600; ++i) {
      auto r = testing::HttpGet(port_, "/-/ready");
      if (r.ok() && r->status == 200) return port_;
      if (child_->Wait(50ms) != -1) return 0;
    }
    return 0;
  }
  std::string remote_write_url() const override {
    return "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/write";
  }
  std::string log() const override { return ReadFile(log_path_); }

 private:
  static uint16_t FreePort() {
    instrumentation::Registry r;
    http::Server probe([](http::Request&) { return http::Response::Text(200, ""); }, &r, 1);
    if (!probe.Listen({"127.0.0.1", 0}).ok()) return 0;
    return probe.port();  // released when probe goes; Prometheus binds it a moment later
  }
  const testing::TempDir& dir_;
  std::string log_path_;
};

class AgentE2ETest : public ::testing::Test {
 protected:
  void WriteAgentConfig(uint16_t target_port) {
    std::ofstream(dir_.Path("agent.yml")) << ("collectors: {host: {enabled: false}, gpu: {enabled: false}}\n"
                                "scrape_configs:\n"
                                "  - job_name: load\n"
                                "    scrape_interval: 1s\n"
                                "    scrape_timeout: 1s\n"
                                "    static_configs: [{targets: ['127.0.0.1:" +
                                    std::to_string(target_port) +
                                    "']}]\n"
                                    "agent:\n"
                                    "  batch_send_deadline: 200ms\n"
                                    "  min_backoff: 50ms\n"
                                    "  max_backoff: 1s\n"
                                    "  remote_timeout: 5s\n");
  }

  // Starts (or restarts) the agent; returns its /metrics port, 0 on failure.
  uint16_t StartAgent(const std::string& url) {
    agent_log_ = dir_.Path("agent-" + std::to_string(++agent_starts_) + ".log");
    agent_ = std::make_unique<Child>(std::vector<std::string>{TYTO_BINARY, "agent", "--server", url, "--config",
                                                              dir_.Path("agent.yml"), "--data-dir", dir_.Path("agent"),
                                                              "--listen", "127.0.0.1:0"},
                                     agent_log_);
    static const std::regex kPort("\"msg\":\"Tyto agent started\".*\"port\":([0-9]+)");
    for (int i = 0; i < 1000; ++i) {
      std::smatch m;
      const std::string text = ReadFile(agent_log_);
      if (std::regex_search(text, m, kPort)) return static_cast<uint16_t>(std::stoi(m[1]));
      if (agent_->Wait(10ms) != -1) break;
    }
    return 0;
  }

  // Waits until the target has served `n` more scrapes.
  void WaitForScrapes(size_t n) {
    const size_t want = target_.Served().size() + n;
    for (int i = 0; i < 300 && target_.Served().size() < want; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_GE(target_.Served().size(), want) << "the agent does not scrape; log:\n" << ReadFile(agent_log_);
  }

  // The outage: the receiver is killed while the agent keeps scraping, then started again.
  void RunOutageTest(Receiver* receiver, const std::string& ignored_metric) {
    const uint16_t target_port = target_.Start();
    ASSERT_NE(target_port, 0);
    WriteAgentConfig(target_port);
    const uint16_t port = receiver->Start();
    ASSERT_NE(port, 0) << receiver->log();
    const uint16_t agent_port = StartAgent(receiver->remote_write_url());
    ASSERT_NE(agent_port, 0) << ReadFile(agent_log_);
    WaitForScrapes(3);

    receiver->Kill();
    const int outage = OutageSeconds();
    const auto back_at = std::chrono::steady_clock::now() + std::chrono::seconds(outage);
    while (std::chrono::steady_clock::now() < back_at) std::this_thread::sleep_for(200ms);
    // The agent kept scraping into its queue, and retried.
    const double queued = ScrapeValue(agent_port, "tyto_agent_queue_samples");
    EXPECT_GT(queued, 0) << "nothing queued during the outage";
    EXPECT_GT(ScrapeValue(agent_port, "tyto_agent_send_retries_total"), 0);

    ASSERT_EQ(receiver->Start(), port) << receiver->log();
    WaitForScrapes(3);
    target_.Pause();
    EXPECT_EQ(WaitUntilStoredEqualsServed(port, target_, 120s), "")
        << "served " << target_.Served().size() << " scrapes; agent log:\n"
        << ReadFile(agent_log_);
    EXPECT_EQ(ScrapeValue(agent_port, "tyto_agent_samples_dropped_total{reason=\"queue_full\"}"), 0);
    EXPECT_EQ(ScrapeValue(agent_port, "tyto_agent_samples_dropped_total{reason=\"rejected\"}"), 0);
    EXPECT_EQ(ScrapeValue(agent_port, "tyto_agent_samples_dropped_total{reason=\"corrupt\"}"), 0);
    if (!ignored_metric.empty()) {
      // A request in flight when the receiver died may have been stored and is then sent again
      // (its answer never came): the store keeps one copy. Anything more would be a bug.
      std::printf("receiver ignored %.0f resent samples after the outage\n", ScrapeValue(port, ignored_metric));
    }
    agent_->Signal(SIGTERM);
    EXPECT_EQ(agent_->Wait(30s), 0) << ReadFile(agent_log_);
  }

  testing::TempDir dir_;
  LoadTarget target_;
  std::unique_ptr<Child> agent_;
  std::string agent_log_;
  int agent_starts_ = 0;
};

TEST_F(AgentE2ETest, CentralTytoKilledForAMinuteLosesNothing) {
  TytoReceiver central(dir_);
  RunOutageTest(&central, "tyto_tsdb_head_samples_ignored_total");
}

TEST_F(AgentE2ETest, PrometheusAsTheReceiverKilledForAMinuteLosesNothing) {
  if (::access("/usr/bin/prometheus", X_OK) != 0) {
    GTEST_SKIP() << "Debian's prometheus is not installed (scripts/install-deps.sh --test installs it)";
  }
  PrometheusReceiver prometheus(dir_);
  RunOutageTest(&prometheus, "");
}

// The agent restarted (gracefully, then killed with SIGKILL) sends nothing twice: the central
// server, which keeps running, is never sent a sample it already has.
TEST_F(AgentE2ETest, AnAgentRestartSendsNothingTwice) {
  const uint16_t target_port = target_.Start();
  ASSERT_NE(target_port, 0);
  WriteAgentConfig(target_port);
  TytoReceiver central(dir_);
  const uint16_t port = central.Start();
  ASSERT_NE(port, 0) << central.log();
  ASSERT_NE(StartAgent(central.remote_write_url()), 0) << ReadFile(agent_log_);
  WaitForScrapes(3);

  agent_->Signal(SIGTERM);
  ASSERT_EQ(agent_->Wait(30s), 0) << ReadFile(agent_log_);
  ASSERT_NE(StartAgent(central.remote_write_url()), 0) << ReadFile(agent_log_);
  WaitForScrapes(3);
  target_.Pause();
  EXPECT_EQ(WaitUntilStoredEqualsServed(port, target_, 60s), "") << ReadFile(agent_log_);
  EXPECT_EQ(ScrapeValue(port, "tyto_tsdb_head_samples_ignored_total"), 0)
      << "the restarted agent sent samples the server already had";

  // Killed: what it had committed to its queue is sent after the restart; a batch in flight at
  // the kill may be sent again (the store keeps one copy), nothing else. The target pauses
  // first, so that no scrape it served is still being parsed when the agent dies.
  target_.Resume();
  WaitForScrapes(3);
  target_.Pause();
  std::this_thread::sleep_for(300ms);
  agent_->Signal(SIGKILL);
  agent_->Wait(10s);
  ASSERT_NE(StartAgent(central.remote_write_url()), 0) << ReadFile(agent_log_);
  EXPECT_EQ(WaitUntilStoredEqualsServed(port, target_, 60s), "") << ReadFile(agent_log_);
  agent_->Signal(SIGTERM);
  EXPECT_EQ(agent_->Wait(30s), 0) << ReadFile(agent_log_);
}

}  // namespace
}  // namespace tyto::e2e
