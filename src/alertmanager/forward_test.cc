// Tests of AlertmanagerForwarder against a fake /api/v2/alerts on 127.0.0.1 (batches, queue
// overflow, retries, auth, several targets), and against Debian's prometheus-alertmanager when
// it is installed.
#include "alertmanager/forward.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "alertmanager/fake_http_receiver.h"
#include "instrumentation/metrics.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace tyto::alertmanager {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kT0 = 1700000000000;

std::vector<Alert> Alerts(int n, int first = 0) {
  std::vector<Alert> out;
  for (int i = first; i < first + n; ++i) {
    Alert a;
    a.labels = {{"alertname", "A" + std::to_string(i)}, {"severity", "page"}};
    a.annotations = {{"summary", "number " + std::to_string(i)}};
    a.starts_at_ms = kT0;
    a.ends_at_ms = kT0 + 300000;
    a.generator_url = "http://tyto:9800/graph";
    out.push_back(a);
  }
  return out;
}

// The alert names in the bodies received, in order.
std::vector<std::string> Names(const std::vector<http::Request>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    rapidjson::Document d;
    d.Parse(r.body.data(), r.body.size());
    if (d.HasParseError() || !d.IsArray()) {
      ADD_FAILURE() << "not a JSON array: " << r.body;
      continue;
    }
    for (const auto& a : d.GetArray()) out.emplace_back(a["labels"]["alertname"].GetString());
  }
  return out;
}

// Waits (bounded) until the forwarder's queue is empty and `n` alerts were sent or failed.
bool WaitSettled(AlertmanagerForwarder& f, uint64_t n) {
  for (int i = 0; i < 2000; ++i) {
    const auto s = f.stats();
    if (s.queue_length == 0 && s.sent >= n) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

ForwarderOptions Options(const std::vector<uint16_t>& ports) {
  ForwarderOptions o;
  for (uint16_t p : ports) o.targets.push_back("127.0.0.1:" + std::to_string(p));
  o.timeout = 5s;
  o.retry_backoff = 1ms;
  o.max_retry_wait = 5ms;
  return o;
}

TEST(ForwardTest, PostsBatchesAsPrometheusDoes) {
  FakeHttpReceiver am;
  ForwarderOptions o = Options({am.port()});
  o.path_prefix = "/am/";
  instrumentation::Registry registry;
  auto f = AlertmanagerForwarder::Create(o, &registry);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->urls()[0], "http://127.0.0.1:" + std::to_string(am.port()) + "/am/api/v2/alerts");
  (*f)->Put(Alerts(150));
  ASSERT_TRUE(WaitSettled(**f, 150));
  const auto requests = am.Requests();
  ASSERT_GE(requests.size(), 3u);  // at most 64 a batch
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.path, "/am/api/v2/alerts");
    EXPECT_EQ(r.Header("content-type").value_or(""), "application/json");
    rapidjson::Document d;
    d.Parse(r.body.data(), r.body.size());
    ASSERT_TRUE(d.IsArray());
    EXPECT_LE(d.Size(), 64u);
  }
  std::vector<std::string> want;
  for (const Alert& a : Alerts(150)) want.push_back(a.labels.at("alertname"));
  EXPECT_EQ(Names(requests), want);
  rapidjson::Document d;
  d.Parse(requests[0].body.data(), requests[0].body.size());
  const auto& a = d[0];
  EXPECT_STREQ(a["labels"]["severity"].GetString(), "page");
  EXPECT_STREQ(a["annotations"]["summary"].GetString(), "number 0");
  EXPECT_STREQ(a["startsAt"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_STREQ(a["endsAt"].GetString(), "2023-11-14T22:18:20.000Z");
  EXPECT_STREQ(a["generatorURL"].GetString(), "http://tyto:9800/graph");
  const auto s = (*f)->stats();
  EXPECT_EQ(s.sent, 150u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.dropped, 0u);
  const std::string metrics = registry.Expose();
  EXPECT_NE(metrics.find("tyto_notifications_sent_total{alertmanager=\"" + (*f)->urls()[0] + "\"} 150"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tyto_notifications_alertmanagers_discovered 1"), std::string::npos);
  EXPECT_NE(metrics.find("tyto_notifications_queue_length 0"), std::string::npos);
}

TEST(ForwardTest, FullQueueDropsTheOldest) {
  FakeHttpReceiver am;
  std::promise<void> arrived, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  am.SetHook([&](const http::Request&) {
    if (first.exchange(false)) {
      arrived.set_value();
      released.wait_for(20s);  // holds the sender inside its first request
    }
  });
  ForwarderOptions o = Options({am.port()});
  o.queue_capacity = 10;
  o.max_batch = 100;
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(1));
  ASSERT_EQ(arrived.get_future().wait_for(20s), std::future_status::ready);
  (*f)->Put(Alerts(15, 1));  // A1..A15 into a queue of 10: A1..A5 dropped
  EXPECT_EQ((*f)->stats().dropped, 5u);
  EXPECT_EQ((*f)->stats().queue_length, 10u);
  release.set_value();
  ASSERT_TRUE(WaitSettled(**f, 11));
  std::vector<std::string> want = {"A0"};
  for (int i = 6; i <= 15; ++i) want.push_back("A" + std::to_string(i));
  EXPECT_EQ(Names(am.Requests()), want);
}

TEST(ForwardTest, RetriesServerErrorsButNotClientErrors) {
  FakeHttpReceiver am;
  am.Queue({503, "busy"});
  am.Queue({429, "slow", "text/plain", "0"});
  ForwarderOptions o = Options({am.port()});
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(3));
  ASSERT_TRUE(WaitSettled(**f, 3));
  EXPECT_EQ(am.Count(), 3u);  // 503, 429, then 200
  EXPECT_EQ((*f)->stats().errors, 0u);
  EXPECT_EQ((*f)->stats().dropped, 0u);

  am.Queue({400, "bad alert"});
  (*f)->Put(Alerts(2, 10));
  ASSERT_TRUE(WaitSettled(**f, 5));
  EXPECT_EQ(am.Count(), 4u);  // not tried again
  EXPECT_EQ((*f)->stats().errors, 2u);
  EXPECT_EQ((*f)->stats().dropped, 2u);  // no Alertmanager took them
}

TEST(ForwardTest, GivesUpAfterMaxRetries) {
  FakeHttpReceiver am;
  am.SetDefault({500, "down"});
  ForwarderOptions o = Options({am.port()});
  o.max_retries = 2;
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(1));
  ASSERT_TRUE(WaitSettled(**f, 1));
  EXPECT_EQ(am.Count(), 3u);
  EXPECT_EQ((*f)->stats().errors, 1u);
  EXPECT_EQ((*f)->stats().dropped, 1u);
}

TEST(ForwardTest, SendsToEveryTargetAndCountsEachOnItsOwn) {
  FakeHttpReceiver up;
  ForwarderOptions o = Options({up.port(), ClosedPort()});
  o.max_retries = 1;
  o.bearer_token = "tok";
  instrumentation::Registry registry;
  auto f = AlertmanagerForwarder::Create(o, &registry);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(4));
  ASSERT_TRUE(WaitSettled(**f, 8));
  EXPECT_EQ(Names(up.Requests()).size(), 4u);
  EXPECT_EQ(up.Requests()[0].Header("authorization").value_or(""), "Bearer tok");
  EXPECT_EQ((*f)->stats().errors, 4u);   // the target that is down
  EXPECT_EQ((*f)->stats().dropped, 0u);  // one Alertmanager took them
  EXPECT_NE(registry.Expose().find("tyto_notifications_errors_total{alertmanager=\"" + (*f)->urls()[1] + "\"} 4"),
            std::string::npos);
}

TEST(ForwardTest, BasicAuthAndBadOptions) {
  FakeHttpReceiver am;
  ForwarderOptions o = Options({am.port()});
  o.basic_auth_username = "u";
  o.basic_auth_password = "p";
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(1));
  ASSERT_TRUE(WaitSettled(**f, 1));
  EXPECT_EQ(am.Requests()[0].Header("authorization").value_or(""), "Basic dTpw");

  ForwarderOptions both = o;
  both.bearer_token = "t";
  EXPECT_FALSE(AlertmanagerForwarder::Create(both, nullptr).ok());
  ForwarderOptions scheme = Options({am.port()});
  scheme.scheme = "ftp";
  EXPECT_FALSE(AlertmanagerForwarder::Create(scheme, nullptr).ok());
  ForwarderOptions none;
  EXPECT_FALSE(AlertmanagerForwarder::Create(none, nullptr).ok());
  ForwarderOptions bad = Options({});
  bad.targets = {"127.0.0.1:notaport"};
  EXPECT_FALSE(AlertmanagerForwarder::Create(bad, nullptr).ok());
}

TEST(ForwardTest, StopDrainsWhatIsQueued) {
  FakeHttpReceiver am;
  ForwarderOptions o = Options({am.port()});
  o.max_batch = 5;
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  (*f)->Put(Alerts(20));
  (*f)->Stop();
  EXPECT_EQ(Names(am.Requests()).size(), 20u);
  (*f)->Put(Alerts(1));  // after Stop: dropped
  EXPECT_EQ((*f)->stats().dropped, 1u);
}

// End to end with the real Alertmanager (Debian's prometheus-alertmanager), when installed.
TEST(ForwardTest, RealAlertmanagerReceivesTheAlerts) {
  const char* binary = "/usr/bin/prometheus-alertmanager";
  if (::access(binary, X_OK) != 0) {
    GTEST_SKIP() << binary << " is not installed (apt-get install prometheus-alertmanager)";
  }
  testing::TempDir dir;
  {
    std::ofstream(dir.Path("alertmanager.yml")) << "route:\n  receiver: none\nreceivers:\n  - name: none\n";
  }
  const uint16_t port = ClosedPort();
  const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
  const std::string config = "--config.file=" + dir.Path("alertmanager.yml");
  const std::string storage = "--storage.path=" + dir.Path("data");
  std::vector<std::string> args = {binary, config, storage, listen, "--cluster.listen-address=", "--log.level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, binary, nullptr, nullptr, argv.data(), environ), 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  } reaper{pid};
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {  // up to about 30 s for it to start
    auto r = testing::HttpGet(port, "/-/ready");
    ready = r.ok() && r->status == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << "prometheus-alertmanager did not become ready on port " << port;

  ForwarderOptions o = Options({port});
  auto f = AlertmanagerForwarder::Create(o, nullptr);
  ASSERT_TRUE(f.ok());
  std::vector<Alert> alerts = Alerts(2);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (Alert& a : alerts) {
    a.starts_at_ms = now - 60000;
    a.ends_at_ms = now + 600000;
  }
  (*f)->Put(alerts);
  ASSERT_TRUE(WaitSettled(**f, 2));
  EXPECT_EQ((*f)->stats().errors, 0u);
  std::string body;
  for (int i = 0; i < 100; ++i) {
    auto r = testing::HttpGet(port, "/api/v2/alerts");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    body = r->body;
    if (body.find("\"A1\"") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  ASSERT_TRUE(d.IsArray()) << body;
  std::set<std::string> names;
  for (const auto& a : d.GetArray()) {
    names.insert(a["labels"]["alertname"].GetString());
    EXPECT_STREQ(a["annotations"]["summary"].GetString(),
                 ("number " + std::string(a["labels"]["alertname"].GetString()).substr(1)).c_str());
    EXPECT_STREQ(a["status"]["state"].GetString(), "active");
  }
  EXPECT_EQ(names, (std::set<std::string>{"A0", "A1"}));
}

}  // namespace
}  // namespace tyto::alertmanager
