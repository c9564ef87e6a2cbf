#include "playbook/engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/server.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::playbook {
namespace {

using namespace std::chrono_literals;

// A local HTTP server that records every request and answers from a table of paths.
class FakeServer {
 public:
  FakeServer() : server_([this](http::Request& req) { return Handle(req); }, &registry_, 2) {
    EXPECT_TRUE(server_.Listen({"127.0.0.1", 0}).ok());
    server_.Start();
  }
  ~FakeServer() { server_.Shutdown(1s); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  void Answer(const std::string& method_path, int status, std::string body) {
    std::lock_guard<std::mutex> l(mu_);
    answers_[method_path] = {status, std::move(body)};
  }
  std::vector<http::Request> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  http::Response Handle(http::Request& req) {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(req);
    auto it = answers_.find(req.method + " " + req.path);
    if (it == answers_.end()) return http::Response::Json(200, "{\"ok\":true}");
    return http::Response::Json(it->second.first, it->second.second);
  }

  instrumentation::Registry registry_;
  http::Server server_;
  std::mutex mu_;
  std::vector<http::Request> requests_;
  std::map<std::string, std::pair<int, std::string>> answers_;
};

alertmanager::Alert MakeAlert(alertmanager::LabelSet labels) {
  alertmanager::Alert a;
  a.labels = std::move(labels);
  a.annotations = {{"summary", "it broke"}};
  a.starts_at_ms = 1;
  return a;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class EngineTest : public ::testing::Test {
 protected:
  ~EngineTest() override {
    if (engine_) engine_->Stop();
    engine_.reset();
  }

  void Make(const std::string& yaml, bool dry_run = false) {
    auto list = ParsePlaybookFile(yaml, "test.yml");
    ASSERT_TRUE(list.ok()) << list.status().message();
    EngineOptions o;
    o.data_dir = dir_.Path("playbooks");
    o.dry_run = dry_run;
    o.kill_grace = 200ms;
    Hooks h;
    h.verify = [this](const std::string& q, const std::string& tenant) -> Result<bool> {
      std::lock_guard<std::mutex> l(mu_);
      queries_.push_back(q);
      tenants_.push_back(tenant);
      return verify_result_;
    };
    h.deployment_lookup = [](const std::string& model) -> std::optional<std::pair<std::string, std::string>> {
      if (model == "llama") return std::make_pair(std::string("v2"), std::string("v1"));
      return std::nullopt;
    };
    h.escalate = [this](const alertmanager::Alert& a) {
      std::lock_guard<std::mutex> l(mu_);
      escalations_.push_back(a);
    };
    h.timeline = [this](const std::string& incident, const TimelineEntry& e) {
      std::lock_guard<std::mutex> l(mu_);
      timeline_.push_back(incident + ": " + e.text);
    };
    if (engine_) engine_->Stop();
    // A registry per engine: metric names may be registered once per registry.
    registries_.push_back(std::make_unique<instrumentation::Registry>());
    engine_ = std::make_unique<Engine>(std::move(*list), o, &clock_, Env::Default(), registries_.back().get(), h);
    ASSERT_TRUE(engine_->Start().ok());
  }

  // Waits (real time, bounded) for the run to finish, moving the fake clock so that waits,
  // verify retries and approval timeouts pass.
  playbook::Run WaitFinished(const std::string& id, std::chrono::milliseconds step = 0ms) {
    for (int i = 0; i < 3000; ++i) {
      auto r = engine_->GetRun(id);
      if (r && Finished(r->state)) return *r;
      if (step.count() > 0) clock_.Advance(step);
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "run " << id << " did not finish";
    return engine_->GetRun(id).value_or(playbook::Run{});
  }

  std::string TriggerOne(const std::string& incident, alertmanager::LabelSet labels) {
    auto d = engine_->Trigger(incident, {MakeAlert(std::move(labels))});
    EXPECT_EQ(d.size(), 1u);
    if (d.size() != 1) return "";
    EXPECT_EQ(d[0].skipped, "");
    return d[0].run_id;
  }

  std::vector<std::string> queries() {
    std::lock_guard<std::mutex> l(mu_);
    return queries_;
  }
  std::vector<std::string> verify_tenants() {
    std::lock_guard<std::mutex> l(mu_);
    return tenants_;
  }
  std::vector<std::string> timeline() {
    std::lock_guard<std::mutex> l(mu_);
    return timeline_;
  }

  std::vector<alertmanager::Alert> escalations() {
    std::lock_guard<std::mutex> l(mu_);
    return escalations_;
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  std::vector<std::unique_ptr<instrumentation::Registry>> registries_;
  FakeServer server_;
  std::unique_ptr<Engine> engine_;
  std::mutex mu_;
  Result<bool> verify_result_ = false;
  std::vector<std::string> queries_;
  std::vector<std::string> tenants_;  // of each verify query
  std::vector<alertmanager::Alert> escalations_;
  std::vector<std::string> timeline_;
};

TEST_F(EngineTest, CommandArgumentsWithShellMetacharactersAreLiteral) {
  const std::string script = dir_.Path("record.sh");
  const std::string out = dir_.Path("args.txt");
  std::ofstream(script) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$OUT\"\n";
  ::chmod(script.c_str(), 0755);
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n      - command:\n          argv: [\"" +
       script + "\", \"${labels.pod}\", \"x\"]\n          env: {OUT: \"" + out + "\"}\n");
  const std::string evil = "a; touch " + dir_.Path("pwned") + " $(touch " + dir_.Path("pwned2") + ") `id` | &&";
  std::string id = TriggerOne("inc-1", {{"alertname", "A"}, {"pod", evil}});
  playbook::Run r = WaitFinished(id);
  EXPECT_EQ(r.state, RunState::kSucceeded) << r.reason;
  EXPECT_EQ(Slurp(out), evil + "\nx\n");
  struct stat st;
  EXPECT_NE(::stat(dir_.Path("pwned").c_str(), &st), 0);
  EXPECT_NE(::stat(dir_.Path("pwned2").c_str(), &st), 0);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].exit_code, 0);
}

TEST_F(EngineTest, HttpStepSendsTheRenderedRequestAndRedactsSecrets) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n      - http:\n          method: PUT\n"
       "          url: \"" + server_.url() + "/models/${labels.model}/restart?token=s3cret\"\n"
       "          headers: {Authorization: \"Bearer s3cret\", X-Incident: \"${incident}\"}\n"
       "          body: '{\"model\": \"${labels.model}\"}'\n");
  std::string id = TriggerOne("inc-7", {{"alertname", "A"}, {"model", "llama 3"}});
  playbook::Run r = WaitFinished(id);
  ASSERT_EQ(r.state, RunState::kSucceeded) << r.reason;
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].path, "/models/llama 3/restart");
  EXPECT_EQ(reqs[0].body, "{\"model\": \"llama 3\"}");
  EXPECT_EQ(reqs[0].Header("X-Incident").value_or(""), "inc-7");
  EXPECT_EQ(reqs[0].Header("Authorization").value_or(""), "Bearer s3cret");
  EXPECT_EQ(r.steps[0].http_status, 200);
  const std::string audit = Slurp(engine_->AuditPath());
  EXPECT_EQ(audit.find("s3cret"), std::string::npos) << audit;
  EXPECT_NE(audit.find("<redacted>"), std::string::npos);
  EXPECT_TRUE(VerifyAuditLog(Env::Default(), engine_->AuditPath()).ok());
}

TEST_F(EngineTest, ScaleAgainstAFakeKubernetesApi) {
  std::ofstream(dir_.Path("token")) << "k8s-token\n";
  server_.Answer("GET /apis/apps/v1/namespaces/serving/deployments/vllm/scale", 200,
                 R"({"kind":"Scale","spec":{"replicas":3},"status":{"replicas":3}})");
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n      - scale:\n          api_server: " +
       server_.url() + "\n          namespace: serving\n          deployment: \"${labels.deployment}\"\n"
       "          replicas: \"+2\"\n          max_replicas: 4\n          token_file: " + dir_.Path("token") + "\n");
  std::string id = TriggerOne("inc-1", {{"alertname", "A"}, {"deployment", "vllm"}});
  playbook::Run r = WaitFinished(id);
  ASSERT_EQ(r.state, RunState::kSucceeded) << r.reason;
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[1].path, "/apis/apps/v1/namespaces/serving/deployments/vllm/scale");
  EXPECT_EQ(reqs[1].body, "{\"spec\":{\"replicas\":4}}");  // 3 + 2, held at max_replicas
  EXPECT_EQ(reqs[1].Header("Content-Type").value_or(""), "application/merge-patch+json");
  EXPECT_EQ(reqs[1].Header("Authorization").value_or(""), "Bearer k8s-token");
  EXPECT_EQ(Slurp(engine_->AuditPath()).find("k8s-token"), std::string::npos);
}

TEST_F(EngineTest, RollbackLooksUpThePreviousVersion) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    on_failure: stop\n    steps:\n"
       "      - rollback: {model: \"${labels.model}\", webhook: \"" + server_.url() + "/rollback/${model}/${previous}\"}\n");
  std::string id = TriggerOne("inc-1", {{"alertname", "A"}, {"model", "llama"}});
  playbook::Run r = WaitFinished(id);
  ASSERT_EQ(r.state, RunState::kSucceeded) << r.reason;
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/rollback/llama/v1");
  EXPECT_NE(reqs[0].body.find("\"model\":\"llama\",\"current\":\"v2\",\"previous\":\"v1\""), std::string::npos)
      << reqs[0].body;
  // Unknown model: the step fails, nothing is sent.
  clock_.Advance(11min);  // past the default cooldown
  std::string id2 = TriggerOne("inc-2", {{"alertname", "A"}, {"model", "other"}});
  playbook::Run r2 = WaitFinished(id2);
  EXPECT_EQ(r2.state, RunState::kFailed);
  EXPECT_NE(r2.reason.find("no previous version of model 'other'"), std::string::npos) << r2.reason;
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_TRUE(escalations().empty());  // on_failure: stop
}

TEST_F(EngineTest, DryRunChangesNothing) {
  const std::string marker = dir_.Path("touched");
  const std::string yaml = "playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    cooldown: 0s\n    approval: required\n"
                           "    steps:\n      - http: {url: \"" + server_.url() + "/x\"}\n"
                           "      - command: [\"/usr/bin/touch\", \"" + marker + "\"]\n"
                           "      - scale: {api_server: \"" + server_.url() + "\", deployment: d, replicas: \"+1\"}\n"
                           "      - rollback: {model: llama, webhook: \"" + server_.url() + "/r\"}\n"
                           "      - wait: 1h\n      - verify: up\n      - escalate: now\n";
  for (bool global : {true, false}) {
    std::string text = yaml;
    if (!global) text.replace(text.find("    cooldown"), 0, "    dry_run: true\n");
    Make(text, global);
    std::string id = TriggerOne(global ? "inc-g" : "inc-p", {{"alertname", "A"}});
    playbook::Run r = WaitFinished(id);
    ASSERT_EQ(r.state, RunState::kSucceeded) << r.reason;
    EXPECT_TRUE(r.dry_run);
    ASSERT_EQ(r.steps.size(), 7u);
    for (const StepResult& s : r.steps) {
      EXPECT_EQ(s.outcome, "dry_run") << s.name;
      EXPECT_EQ(s.rendered.rfind("would ", 0), 0u) << s.rendered;
    }
    engine_->Stop();
  }
  EXPECT_TRUE(server_.requests().empty());
  struct stat st;
  EXPECT_NE(::stat(marker.c_str(), &st), 0);
  EXPECT_TRUE(escalations().empty());
  EXPECT_TRUE(queries().empty());
}

TEST_F(EngineTest, CooldownAndRateLimit) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    cooldown: 10m\n    max_runs_per_hour: 2\n"
       "    steps: [{wait: 0s}]\n");
  const alertmanager::LabelSet labels = {{"alertname", "A"}};
  std::string first = TriggerOne("i1", labels);
  WaitFinished(first);
  auto d = engine_->Trigger("i2", {MakeAlert(labels)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].skipped, "cooldown");
  d = engine_->Trigger("i2", {MakeAlert(labels)});  // again: counted, not recorded twice
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].skipped, "cooldown");
  {
    const std::string audit = Slurp(engine_->AuditPath());
    size_t n = 0;
    for (size_t at = audit.find("\"reason\":\"cooldown\""); at != std::string::npos;
         at = audit.find("\"reason\":\"cooldown\"", at + 1)) {
      ++n;
    }
    EXPECT_EQ(n, 1u);
  }
  clock_.Advance(11min);
  WaitFinished(TriggerOne("i3", labels));
  clock_.Advance(11min);
  d = engine_->Trigger("i4", {MakeAlert(labels)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].skipped, "rate_limit");
  clock_.Advance(40min);  // the first run is now over an hour old
  WaitFinished(TriggerOne("i5", labels));
  // Non-matching and resolved alerts start nothing.
  clock_.Advance(11min);
  EXPECT_TRUE(engine_->Trigger("i6", {MakeAlert({{"alertname", "B"}})}).empty());
  auto resolved = MakeAlert(labels);
  resolved.ends_at_ms = 2;
  EXPECT_TRUE(engine_->Trigger("i6", {resolved}).empty());
  const std::string audit = Slurp(engine_->AuditPath());
  EXPECT_NE(audit.find("\"reason\":\"cooldown\""), std::string::npos);
  EXPECT_NE(audit.find("\"reason\":\"rate_limit\""), std::string::npos);
}

TEST_F(EngineTest, CooldownSurvivesARestart) {
  const std::string yaml = "playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    cooldown: 10m\n"
                           "    steps: [{wait: 0s}]\n";
  Make(yaml);
  WaitFinished(TriggerOne("i1", {{"alertname", "A"}}));
  clock_.Advance(5min);
  Make(yaml);  // a new engine over the same data directory
  auto d = engine_->Trigger("i1", {MakeAlert({{"alertname", "A"}})});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].skipped, "cooldown");
  clock_.Advance(6min);
  WaitFinished(TriggerOne("i1", {{"alertname", "A"}}));
  EXPECT_TRUE(VerifyAuditLog(Env::Default(), engine_->AuditPath()).ok());
}

TEST_F(EngineTest, OneRunPerIncidentAndPlaybook) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    cooldown: 0s\n    max_runs_per_hour: 0\n"
       "    steps: [{wait: 1h}]\n");
  std::string id = TriggerOne("i1", {{"alertname", "A"}});
  auto d = engine_->Trigger("i1", {MakeAlert({{"alertname", "A"}})});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].skipped, "already_running");
  std::string other = TriggerOne("i2", {{"alertname", "A"}});
  EXPECT_NE(other, id);
  EXPECT_EQ(engine_->Runs("i1").size(), 1u);
  EXPECT_EQ(engine_->Runs().size(), 2u);
  EXPECT_EQ(WaitFinished(id, 1min).state, RunState::kSucceeded);
  EXPECT_EQ(WaitFinished(other, 1min).state, RunState::kSucceeded);
  EXPECT_EQ(TriggerOne("i1", {{"alertname", "A"}}).empty(), false);  // finished: may run again
}

TEST_F(EngineTest, ApprovalFlow) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    cooldown: 0s\n    max_runs_per_hour: 0\n"
       "    approval: required\n    approval_timeout: 10m\n    steps:\n      - http: {url: \"" + server_.url() + "/go\"}\n");
  std::string id = TriggerOne("i1", {{"alertname", "A"}});
  ASSERT_EQ(engine_->GetRun(id)->state, RunState::kAwaitingApproval);
  EXPECT_TRUE(server_.requests().empty());
  ASSERT_TRUE(engine_->Approve(id, "alice", "go ahead").ok());
  playbook::Run r = WaitFinished(id);
  EXPECT_EQ(r.state, RunState::kSucceeded);
  EXPECT_EQ(r.decided_by, "alice");
  EXPECT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(engine_->Approve(id, "bob").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->Approve("run-nope", "bob").code(), StatusCode::kNotFound);

  std::string rejected = TriggerOne("i2", {{"alertname", "A"}});
  ASSERT_TRUE(engine_->Reject(rejected, "bob", "not now").ok());
  EXPECT_EQ(engine_->GetRun(rejected)->state, RunState::kRejected);

  std::string expired = TriggerOne("i3", {{"alertname", "A"}});
  playbook::Run e = WaitFinished(expired, 1min);
  EXPECT_EQ(e.state, RunState::kExpired);
  EXPECT_EQ(server_.requests().size(), 1u);
  const std::string audit = Slurp(engine_->AuditPath());
  for (const char* type : {"approval_requested", "approved", "rejected", "run_finished"}) {
    EXPECT_NE(audit.find(std::string("\"type\":\"") + type + "\""), std::string::npos) << type;
  }
  EXPECT_NE(audit.find("\"by\":\"alice\""), std::string::npos);
}

TEST_F(EngineTest, VerifyTrueSucceeds) {
  verify_result_ = true;
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n"
       "      - verify: {query: 'up{pod=\"${labels.pod}\"} == 1', within: 1m, interval: 10s}\n");
  playbook::Run r = WaitFinished(TriggerOne("i1", {{"alertname", "A"}, {"pod", "p\"1"}}));
  EXPECT_EQ(r.state, RunState::kSucceeded);
  ASSERT_EQ(queries().size(), 1u);
  EXPECT_EQ(queries()[0], "up{pod=\"p\\\"1\"} == 1");
  EXPECT_TRUE(escalations().empty());
}

TEST_F(EngineTest, VerifyThatStaysFalseEscalates) {
  verify_result_ = false;
  // Matched by team, which the escalation alert carries too.
  Make("playbooks:\n  - name: p\n    match: ['team=\"ml\"']\n    steps:\n      - wait: 1m\n"
       "      - verify: {query: 'up == 1', within: 1m, interval: 10s}\n");
  playbook::Run r = WaitFinished(TriggerOne("inc-9", {{"alertname", "A"}, {"team", "ml"}}), 5s);
  EXPECT_EQ(r.state, RunState::kFailed);
  EXPECT_TRUE(r.escalated);
  EXPECT_GE(queries().size(), 2u);
  auto esc = escalations();
  ASSERT_EQ(esc.size(), 1u);
  EXPECT_EQ(esc[0].labels.at("alertname"), "PlaybookEscalation");
  EXPECT_EQ(esc[0].labels.at("playbook"), "p");
  EXPECT_EQ(esc[0].labels.at("incident"), "inc-9");
  EXPECT_EQ(esc[0].labels.at("source_alertname"), "A");
  EXPECT_EQ(esc[0].labels.at("team"), "ml");
  EXPECT_NE(esc[0].annotations.at("description").find("stayed false"), std::string::npos);
  // The escalation itself never starts a playbook, even one whose matchers it satisfies.
  clock_.Advance(1h);
  EXPECT_TRUE(engine_->Trigger("inc-10", esc).empty());
  const std::string audit = Slurp(engine_->AuditPath());
  EXPECT_NE(audit.find("\"type\":\"escalated\""), std::string::npos);
}

// A run is the tenant's of its alert: its verify queries that tenant's metrics, its escalation
// carries the tenant, and its audit records name it (the default tenant's name none).
TEST_F(EngineTest, RunsKeepTheirAlertsTenant) {
  verify_result_ = false;
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n"
       "      - verify: {query: 'up == 1', within: 10s, interval: 10s}\n");
  alertmanager::LabelSet labels{{"alertname", "A"}};
  alertmanager::SetAlertTenant(&labels, "acme");
  playbook::Run r = WaitFinished(TriggerOne("7", labels), 5s);
  EXPECT_EQ(r.tenant, "acme");
  ASSERT_FALSE(verify_tenants().empty());
  EXPECT_EQ(verify_tenants()[0], "acme");
  ASSERT_EQ(escalations().size(), 1u);
  EXPECT_EQ(alertmanager::AlertTenant(escalations()[0].labels), "acme");
  clock_.Advance(1h);  // the playbook's cooldown (the server's, for every tenant)
  playbook::Run plain = WaitFinished(TriggerOne("8", {{"alertname", "A"}}), 5s);
  EXPECT_EQ(plain.tenant, "default");
  EXPECT_EQ(verify_tenants().back(), "default");
  const std::string audit = Slurp(engine_->AuditPath());
  EXPECT_NE(audit.find("\"tenant\":\"acme\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find("\"tenant\":\"default\""), std::string::npos) << audit;
}

TEST_F(EngineTest, FailingCommandEscalatesAndTheAuditChainHolds) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n      - command: [\"/bin/sh\", \"-c\", \"echo oops; exit 7\"]\n"
       "      - http: {url: \"" + server_.url() + "/never\"}\n");
  playbook::Run r = WaitFinished(TriggerOne("i1", {{"alertname", "A"}}));
  EXPECT_EQ(r.state, RunState::kFailed);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(r.steps[0].exit_code, 7);
  EXPECT_EQ(r.steps[0].output, "oops\n");
  EXPECT_EQ(escalations().size(), 1u);
  EXPECT_TRUE(server_.requests().empty());
  uint64_t n = 0;
  ASSERT_TRUE(VerifyAuditLog(Env::Default(), engine_->AuditPath(), &n).ok());
  auto records = engine_->Audit(AuditFilter{r.id, "", 100});
  ASSERT_TRUE(records.ok());
  std::vector<std::string> types;
  for (const auto& rec : *records) types.push_back(rec.type);
  EXPECT_EQ(types, (std::vector<std::string>{"run_created", "run_started", "step", "escalated", "run_finished"}));
  EXPECT_NE((*records)[2].json.find("\"exit_code\":7"), std::string::npos) << (*records)[2].json;
  EXPECT_NE((*records)[2].json.find("\"output\":\"oops\\n\""), std::string::npos) << (*records)[2].json;
  EXPECT_FALSE(timeline().empty());
}

TEST_F(EngineTest, StopEndsARunningCommandPromptly) {
  const std::string marker = dir_.Path("started");
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps:\n      - command:\n"
       "          argv: [\"/bin/sh\", \"-c\", \"trap '' TERM; touch " + marker + "; sleep 60\"]\n          timeout: 1h\n");
  std::string id = TriggerOne("i1", {{"alertname", "A"}});
  struct stat st;
  for (int i = 0; i < 3000 && ::stat(marker.c_str(), &st) != 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(::stat(marker.c_str(), &st), 0);
  auto start = std::chrono::steady_clock::now();
  engine_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  auto r = engine_->GetRun(id);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->state, RunState::kCancelled);
  EXPECT_TRUE(escalations().empty());
}

TEST_F(EngineTest, CancelAndUpdate) {
  Make("playbooks:\n  - name: p\n    match: ['alertname=\"A\"']\n    steps: [{wait: 1h}]\n");
  std::string id = TriggerOne("i1", {{"alertname", "A"}});
  ASSERT_TRUE(engine_->Cancel(id, "carol").ok());
  EXPECT_EQ(WaitFinished(id).state, RunState::kCancelled);
  auto next = ParsePlaybookFile("playbooks:\n  - name: q\n    match: ['alertname=\"B\"']\n    steps: [{wait: 0s}]\n", "n.yml");
  ASSERT_TRUE(next.ok());
  engine_->Update(*next);
  EXPECT_TRUE(engine_->Trigger("i2", {MakeAlert({{"alertname", "A"}})}).empty());
  WaitFinished(TriggerOne("i2", {{"alertname", "B"}}));
  ASSERT_EQ(engine_->Playbooks().size(), 1u);
  EXPECT_EQ(engine_->Playbooks()[0]->name, "q");
}

}  // namespace
}  // namespace tyto::playbook
