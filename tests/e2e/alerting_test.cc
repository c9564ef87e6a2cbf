// End-to-end: alerting through the built binaries (issue 9). `tyto simulate` serves a small
// fleet whose scenario overheats one GPU; `tyto serve` scrapes it, evaluates a Prometheus rule
// file, routes the alert with an Alertmanager configuration to a local webhook receiver, forwards
// it to Debian's prometheus-alertmanager (when installed), opens an incident, runs the matching
// playbook (an HTTP action, then a PromQL verification that passes once the GPU has cooled), and
// resolves the incident. Also: alert and incident state across a restart, a dry-run playbook
// that changes nothing, a failing step that escalates, and bad rule and playbook files refused
// with file:line:column.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include "alertmanager/fake_http_receiver.h"
#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using alertmanager::FakeHttpReceiver;
using testing::TestResponse;

constexpr const char* kAlertmanagerBinary = "/usr/bin/prometheus-alertmanager";

rapidjson::Document Json(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return d;
}

// Polls until `pred` holds, every 250 ms, at most `limit`.
template <typename Pred>
bool WaitUntil(std::chrono::seconds limit, Pred pred) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return pred();
}

uint16_t FreePort() {
  instrumentation::Registry r;
  http::Server probe([](http::Request&) { return http::Response::Text(200, ""); }, &r, 1);
  if (!probe.Listen({"127.0.0.1", 0}).ok()) return 0;
  return probe.port();
}

// Debian's Alertmanager on a free loopback port, stopped when this goes.
class RealAlertmanager {
 public:
  explicit RealAlertmanager(const testing::TempDir& dir) {
    std::ofstream(dir.Path("am.yml")) << "route: {receiver: none}\nreceivers: [{name: none}]\n";
    port_ = FreePort();
    child_ = std::make_unique<Child>(
        std::vector<std::string>{kAlertmanagerBinary, "--config.file=" + dir.Path("am.yml"),
                                 "--storage.path=" + dir.Path("am-data"),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--cluster.listen-address=", "--log.level=warn"},
        dir.Path("alertmanager.log"));
    ready_ = WaitUntil(30s, [this] {
      auto r = testing::HttpGet(port_, "/-/ready");
      return r.ok() && r->status == 200;
    });
  }
  ~RealAlertmanager() {
    if (child_) {
      child_->Signal(SIGTERM);
      child_->Wait(10s);
    }
  }
  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  bool ready_ = false;
  std::unique_ptr<Child> child_;
};

class AlertingE2ETest : public ::testing::Test {
 protected:
  void TearDown() override {
    StopTyto();
    if (sim_) {
      sim_->Signal(SIGTERM);
      sim_->Wait(10s);
    }
  }

  // `tyto simulate` of one node with two GPUs; GPU 1 overheats from `at` for `duration`.
  void StartFleet(const std::string& at, const std::string& duration) {
    std::ofstream(dir_.Path("scenario.yml")) << "name: hot-gpu\nincidents:\n  - kind: gpu_overheat\n    at: " << at
                                             << "\n    ramp: 2s\n    duration: " << duration
                                             << "\n    node: 0\n    gpu: 1\n    temperature: 120\n";
    sim_ = std::make_unique<Child>(
        std::vector<std::string>{TYTO_BINARY, "simulate", "--nodes", "1", "--gpus-per-node", "2", "--listen-base",
                                 "127.0.0.1:0", "--targets-file", dir_.Path("targets.json"), "--scenario",
                                 dir_.Path("scenario.yml")},
        dir_.Path("simulate.log"));
    ASSERT_TRUE(WaitUntil(20s, [&] { return !ReadFile(dir_.Path("targets.json")).empty(); }))
        << ReadFile(dir_.Path("simulate.log"));
  }

  // tyto.yml's alerting sections around `extra`: scrape the fleet every second, evaluate
  // alerts.yml every second, notify the webhook receiver.
  std::string Config(const std::string& extra) const {
    return "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
           "scrape_configs:\n"
           "  - job_name: sim\n"
           "    file_sd_configs: [{files: [" +
           dir_.Path("targets.json") +
           "]}]\n"
           "rule_files: [alerts.yml]\n"
           "rules: {stock: false, for_grace_period: 1s}\n"
           "alertmanager:\n"
           "  route: {receiver: hook, group_by: [alertname], group_wait: 1s, group_interval: 2s, "
           "repeat_interval: 1h}\n"
           "  receivers:\n"
           "    - name: hook\n"
           "      webhook_configs: [{url: '" +
           hook_.Url("/hook") + "'}]\n" + extra;
  }

  void WriteRules() {
    std::ofstream(dir_.Path("alerts.yml")) << R"(groups:
  - name: gpu
    interval: 1s
    rules:
      - alert: GPUHot
        expr: DCGM_FI_DEV_GPU_TEMP > 85
        for: 2s
        labels: {severity: page}
        annotations:
          summary: 'GPU {{ $labels.gpu }} on {{ $labels.Hostname }} at {{ $value | printf "%.0f" }} C'
)";
  }

  void StartTyto(const std::string& extra) {
    ServedTyto s = ServeWithTokens(dir_, {{"ops", "w-secret", "write, edit, operate"}, {"viewer", "r-secret", "read"}}, Config(extra));
    tyto_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not start; log:\n" << ReadFile(dir_.Path("serve.log"));
  }
  void StopTyto() {
    if (tyto_) {
      tyto_->Signal(SIGTERM);
      EXPECT_EQ(tyto_->Wait(30s), 0) << ReadFile(dir_.Path("serve.log"));
      tyto_.reset();
    }
  }

  TestResponse Get(const std::string& target) { return ApiClient(port_, "w-secret", "r-secret").Get(target); }

  // The GPUHot alert of /api/v1/alerts, as {state, activeAt}; empty state when absent.
  std::pair<std::string, std::string> HotAlert() {
    rapidjson::Document d = Json(Get("/api/v1/alerts").body);
    if (!d.IsObject() || !d.HasMember("data")) return {};
    for (const auto& a : d["data"]["alerts"].GetArray()) {
      if (std::string(a["labels"]["alertname"].GetString()) != "GPUHot") continue;
      return {a["state"].GetString(), a["activeAt"].GetString()};
    }
    return {};
  }

  // The incidents of /api/v1/incidents.
  rapidjson::Document Incidents() { return Json(Get("/api/v1/incidents").body); }

  // The webhook notifications received so far with `status` ("firing", "resolved").
  int Notifications(const std::string& status) {
    int n = 0;
    for (const http::Request& r : hook_.Requests()) {
      if (r.target != "/hook") continue;
      rapidjson::Document d = Json(r.body);
      if (d.IsObject() && d.HasMember("status") && d["status"].GetString() == status) ++n;
    }
    return n;
  }
  int Requests(const std::string& target_prefix) {
    int n = 0;
    for (const http::Request& r : hook_.Requests()) n += r.target.rfind(target_prefix, 0) == 0;
    return n;
  }

  testing::TempDir dir_;
  FakeHttpReceiver hook_;
  std::unique_ptr<Child> sim_;
  std::unique_ptr<Child> tyto_;
  uint16_t port_ = 0;
};

TEST_F(AlertingE2ETest, InjectedIncidentFiresNotifiesRunsThePlaybookAndResolves) {
  std::unique_ptr<RealAlertmanager> am;
  if (::access(kAlertmanagerBinary, X_OK) == 0) {
    am = std::make_unique<RealAlertmanager>(dir_);
    ASSERT_TRUE(am->ready()) << ReadFile(dir_.Path("alertmanager.log"));
  }
  // The GPU heads for 120 C with a 40 s time constant: past 85 C about 35 s in; it is back
  // under 85 C about 10 s after the incident ends.
  ASSERT_NO_FATAL_FAILURE(StartFleet("3s", "55s"));
  WriteRules();
  std::ofstream(dir_.Path("playbooks.yml")) << "playbooks:\n"
                                               "  - name: cool-gpu\n"
                                               "    match: ['alertname=\"GPUHot\"']\n"
                                               "    on_failure: escalate\n"
                                               "    steps:\n"
                                               "      - name: drain the GPU\n"
                                               "        http: {url: '" +
                                                   hook_.Url("/actions/drain?gpu=${labels.gpu}") +
                                                   "', body: '{\"node\": \"${labels.Hostname}\"}'}\n"
                                                   "      - name: cooled down\n"
                                                   "        verify: {query: 'max(DCGM_FI_DEV_GPU_TEMP) < 85', "
                                                   "within: 2m, interval: 1s}\n";
  std::string extra = "playbooks: {files: [playbooks.yml]}\n";
  if (am) {
    extra += "alerting:\n  alertmanagers: [{static_configs: [{targets: ['127.0.0.1:" + std::to_string(am->port()) +
             "']}]}]\n";
  }
  ASSERT_NO_FATAL_FAILURE(StartTyto(extra));

  // The rule fires once the GPU is past 85 C for 2 s, and only for GPU 1.
  ASSERT_TRUE(WaitUntil(150s, [&] { return HotAlert().first == "firing"; }))
      << Get("/api/v1/alerts").body << ReadFile(dir_.Path("serve.log"));
  rapidjson::Document alerts = Json(Get("/api/v1/alerts").body);
  ASSERT_EQ(alerts["data"]["alerts"].Size(), 1u) << Get("/api/v1/alerts").body;
  EXPECT_STREQ(alerts["data"]["alerts"][0]["labels"]["gpu"].GetString(), "1");
  EXPECT_EQ(std::string(alerts["data"]["alerts"][0]["annotations"]["summary"].GetString()).rfind("GPU 1 on ", 0), 0u);
  // ALERTS is a series like any other.
  EXPECT_NE(Get("/api/v1/query?query=ALERTS%7Balertstate%3D%22firing%22%7D").body.find("GPUHot"), std::string::npos);

  // The webhook receives Alertmanager's payload (version 4).
  ASSERT_TRUE(WaitUntil(30s, [&] { return Notifications("firing") >= 1; })) << ReadFile(dir_.Path("serve.log"));
  for (const http::Request& r : hook_.Requests()) {
    if (r.target != "/hook") continue;
    rapidjson::Document d = Json(r.body);
    EXPECT_STREQ(d["version"].GetString(), "4");
    EXPECT_STREQ(d["receiver"].GetString(), "hook");
    EXPECT_STREQ(d["alerts"][0]["labels"]["alertname"].GetString(), "GPUHot");
    EXPECT_EQ(d["alerts"][0]["fingerprint"].GetStringLength(), 16u);
    break;
  }
  // Debian's Alertmanager got it too.
  if (am) {
    EXPECT_TRUE(WaitUntil(30s, [&] {
      auto r = testing::HttpGet(am->port(), "/api/v2/alerts");
      return r.ok() && r->body.find("\"GPUHot\"") != std::string::npos;
    })) << "the forwarded alert never reached prometheus-alertmanager";
  }

  // An incident opened, and the playbook ran its HTTP action with the alert's labels.
  ASSERT_TRUE(WaitUntil(30s, [&] { return Requests("/actions/drain?gpu=1") >= 1; })) << Get("/api/v1/playbooks/runs").body;
  rapidjson::Document incidents = Incidents();
  ASSERT_TRUE(incidents.IsObject()) << Get("/api/v1/incidents").body;
  ASSERT_GE(incidents["data"].Size(), 1u) << Get("/api/v1/incidents").body;
  const std::string id = std::to_string(incidents["data"][0]["id"].GetUint64());
  EXPECT_STREQ(incidents["data"][0]["title"].GetString(), "GPUHot");

  // The GPU cools after 55 s: the verification passes, the run succeeds, the alert resolves (a
  // resolved notification), and so does the incident.
  ASSERT_TRUE(WaitUntil(120s, [&] {
    return Get("/api/v1/playbooks/runs").body.find("\"succeeded\"") != std::string::npos;
  })) << Get("/api/v1/playbooks/runs").body;
  ASSERT_TRUE(WaitUntil(60s, [&] { return Notifications("resolved") >= 1; })) << ReadFile(dir_.Path("serve.log"));
  ASSERT_TRUE(WaitUntil(60s, [&] {
    return Get("/api/v1/incidents/" + id).body.find("\"state\":\"resolved\"") != std::string::npos;
  })) << Get("/api/v1/incidents/" + id).body;
  const std::string incident = Get("/api/v1/incidents/" + id).body;
  for (const char* kind : {"alert_firing", "notification", "playbook_step", "alert_resolved"}) {
    EXPECT_NE(incident.find(kind), std::string::npos) << kind << " missing from the timeline:\n" << incident;
  }
  // The audit log has every step.
  const std::string audit = Get("/api/v1/playbooks/audit").body;
  EXPECT_NE(audit.find("drain the GPU"), std::string::npos) << audit;
  EXPECT_NE(audit.find("cooled down"), std::string::npos) << audit;
}

TEST_F(AlertingE2ETest, AlertAndIncidentStateSurviveARestart) {
  ASSERT_NO_FATAL_FAILURE(StartFleet("2s", "10m"));
  WriteRules();
  ASSERT_NO_FATAL_FAILURE(StartTyto(""));
  ASSERT_TRUE(WaitUntil(150s, [&] { return HotAlert().first == "firing"; })) << ReadFile(dir_.Path("serve.log"));
  const std::string active_at = HotAlert().second;
  ASSERT_TRUE(WaitUntil(30s, [&] { return Notifications("firing") >= 1; }));
  rapidjson::Document before = Incidents();
  ASSERT_GE(before["data"].Size(), 1u);
  const uint64_t id = before["data"][0]["id"].GetUint64();
  const int notified = Notifications("firing");

  StopTyto();
  ASSERT_NO_FATAL_FAILURE(StartTyto(""));
  // Still firing, active since the same instant (restored from ALERTS_FOR_STATE: its `for` is
  // not shorter than rules.for_grace_period), the same incident open, and no second
  // notification of an unchanged group.
  ASSERT_TRUE(WaitUntil(30s, [&] { return HotAlert().first == "firing"; })) << Get("/api/v1/alerts").body;
  // ALERTS_FOR_STATE holds whole seconds, as Prometheus's does.
  EXPECT_EQ(HotAlert().second.substr(0, 19), active_at.substr(0, 19));
  rapidjson::Document after = Incidents();
  ASSERT_GE(after["data"].Size(), 1u);
  EXPECT_EQ(after["data"][0]["id"].GetUint64(), id);
  EXPECT_STREQ(after["data"][0]["state"].GetString(), "open");
  std::this_thread::sleep_for(5s);  // a few group intervals
  EXPECT_EQ(Notifications("firing"), notified);
}

TEST_F(AlertingE2ETest, DryRunChangesNothingAndAFailingStepEscalates) {
  ASSERT_NO_FATAL_FAILURE(StartFleet("2s", "10m"));
  WriteRules();
  const uint16_t closed = FreePort();
  std::ofstream(dir_.Path("playbooks.yml"))
      << "playbooks:\n"
         "  - name: rehearsal\n"
         "    match: ['alertname=\"GPUHot\"']\n"
         "    dry_run: true\n"
         "    steps:\n"
         "      - http: {url: '" +
             hook_.Url("/actions/dry") +
             "'}\n"
             "  - name: broken\n"
             "    match: ['alertname=\"GPUHot\"']\n"
             "    on_failure: escalate\n"
             "    steps:\n"
             "      - http: {url: 'http://127.0.0.1:" +
             std::to_string(closed) + "/nobody-listens', timeout: 2s}\n";
  ASSERT_NO_FATAL_FAILURE(StartTyto("playbooks: {files: [playbooks.yml]}\n"));
  ASSERT_TRUE(WaitUntil(150s, [&] { return HotAlert().first == "firing"; })) << ReadFile(dir_.Path("serve.log"));
  // The failing step escalates: an alert to a person, through the same notification route.
  ASSERT_TRUE(WaitUntil(60s, [&] {
    for (const http::Request& r : hook_.Requests()) {
      if (r.target == "/hook" && r.body.find("PlaybookEscalation") != std::string::npos) return true;
    }
    return false;
  })) << Get("/api/v1/playbooks/runs").body;
  // The dry run logged what it would have done and sent nothing.
  const std::string runs = Get("/api/v1/playbooks/runs").body;
  EXPECT_NE(runs.find("\"dry_run\""), std::string::npos) << runs;
  EXPECT_EQ(Requests("/actions/dry"), 0);
  EXPECT_NE(Get("/api/v1/playbooks/audit").body.find("/actions/dry"), std::string::npos);
}

TEST_F(AlertingE2ETest, BadRuleAndPlaybookFilesAreRefusedWithTheirPlace) {
  std::ofstream(dir_.Path("bad-rules.yml")) << "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: rate(x[5m]\n";
  CommandResult r = RunCommand({TYTO_BINARY, "check", "rules", dir_.Path("bad-rules.yml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find(dir_.Path("bad-rules.yml") + ":5:"), std::string::npos) << r.out << r.err;

  std::ofstream(dir_.Path("bad-playbooks.yml"))
      << "playbooks:\n  - name: p\n    match: ['alertname=\"X\"']\n    steps:\n      - command: 'rm -rf /tmp/x'\n";
  r = RunCommand({TYTO_BINARY, "check", "playbooks", dir_.Path("bad-playbooks.yml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find(dir_.Path("bad-playbooks.yml") + ":5:"), std::string::npos) << r.out << r.err;

  // tyto serve refuses to start on them, naming the place.
  std::ofstream(dir_.Path("tyto.yml")) << "rule_files: [bad-rules.yml]\n";
  r = RunCommand({TYTO_BINARY, "check", "config", dir_.Path("tyto.yml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad-rules.yml:5:"), std::string::npos) << r.err;
  ServedTyto s = ServeWithTokens(dir_, {{"ops", "w-secret", "write, edit, operate"}}, "rule_files: [bad-rules.yml]\n");
  EXPECT_EQ(s.port, 0);
  EXPECT_NE(ReadFile(dir_.Path("serve.log")).find("bad-rules.yml:5:"), std::string::npos)
      << ReadFile(dir_.Path("serve.log"));
}

}  // namespace
}  // namespace tyto::e2e
