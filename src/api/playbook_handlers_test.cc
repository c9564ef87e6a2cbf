#include "api/playbook_handlers.h"

#include <gtest/gtest.h>

#include <thread>

#include "playbook/engine.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::api {
namespace {

class PlaybookHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto list = playbook::ParsePlaybookFile(R"(playbooks:
  - name: hot-gpu
    description: cool it down
    match: ['alertname="GPUOverheat"']
    approval: required
    steps:
      - wait: 0s
)",
                                            "p.yml");
    ASSERT_TRUE(list.ok()) << list.status().message();
    playbook::EngineOptions o;
    o.data_dir = dir_.Path("pb");
    engine_ = std::make_unique<playbook::Engine>(*list, o, &clock_, Env::Default(), &registry_, playbook::Hooks{});
    ASSERT_TRUE(engine_->Start().ok());
    AddPlaybookRoutes(&router_, &guard_, engine_.get());
  }
  void TearDown() override { engine_->Stop(); }

  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.target = target;
    req.body = body;
    EXPECT_FALSE(http::ParseTarget(&req).has_value());
    return router_.Dispatch(req);
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  instrumentation::Registry registry_;
  auth::Guard guard_;
  http::Router router_;
  std::unique_ptr<playbook::Engine> engine_;
};

TEST_F(PlaybookHandlersTest, ListsApprovesAndAudits) {
  auto list = Call("GET", "/api/v1/playbooks");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"name\":\"hot-gpu\""), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("\"match\":[\"alertname=\\\"GPUOverheat\\\"\"]"), std::string::npos) << list.body;

  alertmanager::Alert a;
  a.labels = {{"alertname", "GPUOverheat"}};
  auto d = engine_->Trigger("inc-1", {a});
  ASSERT_EQ(d.size(), 1u);
  const std::string id = d[0].run_id;

  auto runs = Call("GET", "/api/v1/playbooks/runs?incident=inc-1");
  EXPECT_EQ(runs.status, 200);
  EXPECT_NE(runs.body.find("\"state\":\"awaiting_approval\""), std::string::npos) << runs.body;
  EXPECT_EQ(Call("GET", "/api/v1/playbooks/runs?incident=other").body.find(id), std::string::npos);

  EXPECT_EQ(Call("POST", "/api/v1/playbooks/runs/" + id + "/approve", "{\"by\":").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/playbooks/runs/nope/approve").status, 404);
  auto ok = Call("POST", "/api/v1/playbooks/runs/" + id + "/approve", R"({"by":"alice","comment":"go"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Call("POST", "/api/v1/playbooks/runs/" + id + "/reject").status, 409);
  ASSERT_TRUE(engine_->WaitIdle(std::chrono::seconds(30)));

  auto run = Call("GET", "/api/v1/playbooks/runs/" + id);
  EXPECT_EQ(run.status, 200);
  EXPECT_NE(run.body.find("\"decided_by\":\"alice\""), std::string::npos) << run.body;
  EXPECT_NE(run.body.find("\"kind\":\"wait\""), std::string::npos) << run.body;
  EXPECT_EQ(Call("GET", "/api/v1/playbooks/runs/nope").status, 404);

  auto audit = Call("GET", "/api/v1/playbooks/audit?run=" + id + "&limit=50");
  EXPECT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("\"type\":\"approved\""), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("\"type\":\"run_finished\""), std::string::npos) << audit.body;
  EXPECT_EQ(Call("GET", "/api/v1/playbooks/audit?limit=0").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/playbooks/audit?limit=x").status, 400);
}

// A run started by tenant acme's alert is acme's: another tenant neither sees nor decides it
// (404, as an unknown run), nor reads its audit records; deciding needs the operate scope.
TEST_F(PlaybookHandlersTest, TenantsSeeAndDecideOnlyTheirOwnRuns) {
  guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
      {"acme", auth::HashSecret("acme"), auth::EffectiveScopes({auth::Scope::kRead, auth::Scope::kOperate}), {"acme"}},
      {"ops", auth::HashSecret("ops"), auth::EffectiveScopes({auth::Scope::kRead, auth::Scope::kOperate})},
      {"viewer", auth::HashSecret("viewer"), auth::EffectiveScopes({auth::Scope::kRead}), {"acme"}}}));
  auto call = [this](const std::string& token, const std::string& method, const std::string& target) {
    http::Request req;
    req.method = method;
    req.target = target;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    EXPECT_FALSE(http::ParseTarget(&req).has_value());
    return router_.Dispatch(req);
  };
  alertmanager::Alert a;
  a.labels = {{"alertname", "GPUOverheat"}};
  alertmanager::SetAlertTenant(&a.labels, "acme");
  auto d = engine_->Trigger("5", {a});
  ASSERT_EQ(d.size(), 1u);
  const std::string id = d[0].run_id;
  ASSERT_FALSE(id.empty());

  EXPECT_EQ(call("ops", "GET", "/api/v1/playbooks/runs").body.find(id), std::string::npos);
  EXPECT_NE(call("acme", "GET", "/api/v1/playbooks/runs").body.find(id), std::string::npos);
  EXPECT_EQ(call("ops", "GET", "/api/v1/playbooks/runs/" + id).status, 404);
  EXPECT_EQ(call("acme", "GET", "/api/v1/playbooks/runs/" + id).status, 200);
  EXPECT_EQ(call("ops", "POST", "/api/v1/playbooks/runs/" + id + "/approve").status, 404);
  EXPECT_EQ(call("ops", "POST", "/api/v1/playbooks/runs/" + id + "/cancel").status, 404);
  EXPECT_EQ(call("viewer", "POST", "/api/v1/playbooks/runs/" + id + "/approve").status, 403);
  EXPECT_EQ(engine_->GetRun(id)->state, playbook::RunState::kAwaitingApproval);
  EXPECT_EQ(call("acme", "POST", "/api/v1/playbooks/runs/" + id + "/approve").status, 200);
  ASSERT_TRUE(engine_->WaitIdle(std::chrono::seconds(30)));

  const std::string theirs = call("acme", "GET", "/api/v1/playbooks/audit?limit=100").body;
  EXPECT_NE(theirs.find("\"type\":\"approved\""), std::string::npos) << theirs;
  EXPECT_EQ(theirs.find("playbooks_loaded"), std::string::npos) << theirs;
  const std::string ours = call("ops", "GET", "/api/v1/playbooks/audit?limit=100").body;
  EXPECT_EQ(ours.find(id), std::string::npos) << ours;
  EXPECT_NE(ours.find("playbooks_loaded"), std::string::npos) << ours;
}

}  // namespace
}  // namespace tyto::api
