#include "api/audit_handlers.h"

#include <gtest/gtest.h>

#include "api/handler_test_util.h"
#include "audit/trail.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::api {
namespace {

class AuditHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = audit::Trail::Open(Env::Default(), dir_.Path("audit"), &clock_, &registry_);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    trail_ = std::move(*t);
    const uint32_t admin = auth::EffectiveScopes({auth::Scope::kAdmin});
    const uint32_t read = auth::EffectiveScopes({auth::Scope::kRead});
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {.name = "root", .secret_sha256 = auth::HashSecret("root"), .scopes = admin, .tenants = {"*"}},
        {.name = "a-admin", .secret_sha256 = auth::HashSecret("a-admin"), .scopes = admin, .tenants = {"team-a"}},
        {.name = "a-viewer", .secret_sha256 = auth::HashSecret("a-viewer"), .scopes = read, .tenants = {"team-a"}},
    }));
    AddAuditRoutes(&router_, &guard_, trail_.get());
    // Three actions a second apart, in two tenants and none.
    Record("silence.create", "alice", "team-a", "s1");
    Record("silence.expire", "bob", "team-b", "s2");
    Record("auth.failed", "", "", "/api/v1/query");
    Record("incident.acknowledge", "alice", "team-a", "inc-1");
  }

  void Record(std::string action, std::string principal, std::string tenant, std::string target) {
    audit::Event e;
    e.action = std::move(action);
    e.principal = std::move(principal);
    e.tenant = std::move(tenant);
    e.target = std::move(target);
    e.remote = "10.1.1.1:1000";
    trail_->Record(e);
    clock_.Advance(std::chrono::seconds(1));
  }

  // The actions of the records answered, or the error.
  std::string Get(const std::string& query, const std::string& token = "root", int want = 200) {
    http::Response r = CallRoute(router_, "GET", "/api/v1/audit" + query, "", token);
    EXPECT_EQ(r.status, want) << r.body;
    if (r.status != 200) return r.body;
    rapidjson::Document d = ParseJson(r);
    std::string out;
    for (const auto& rec : d["data"]["records"].GetArray()) {
      if (!out.empty()) out += ",";
      out += rec["action"].GetString();
    }
    return out;
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  instrumentation::Registry registry_;
  std::unique_ptr<audit::Trail> trail_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(AuditHandlersTest, FiltersByTimeActionPrincipalTenantAndLimit) {
  EXPECT_EQ(Get(""), "silence.create,silence.expire,auth.failed,incident.acknowledge");
  EXPECT_EQ(Get("?action=silence"), "silence.create,silence.expire");
  EXPECT_EQ(Get("?action=silence.create"), "silence.create");
  EXPECT_EQ(Get("?principal=alice"), "silence.create,incident.acknowledge");
  EXPECT_EQ(Get("?tenant=team-b"), "silence.expire");
  EXPECT_EQ(Get("?start=1700000001&end=1700000002"), "silence.expire,auth.failed");
  EXPECT_EQ(Get("?start=2023-11-14T22:13:22Z"), "auth.failed,incident.acknowledge");
  EXPECT_EQ(Get("?limit=1"), "incident.acknowledge");
  http::Response r = CallRoute(router_, "GET", "/api/v1/audit?limit=1", "", "root");
  rapidjson::Document d = ParseJson(r);
  EXPECT_STREQ(d["status"].GetString(), "success");
  const auto& rec = d["data"]["records"][0];
  EXPECT_EQ(rec["seq"].GetUint64(), 4u);
  EXPECT_STREQ(rec["target"].GetString(), "inc-1");
  EXPECT_STREQ(rec["remote"].GetString(), "10.1.1.1:1000");
  EXPECT_EQ(std::string(rec["hash"].GetString()).size(), 64u);
}

TEST_F(AuditHandlersTest, BadParametersAreNamed) {
  EXPECT_NE(Get("?limit=0", "root", 400).find("limit"), std::string::npos);
  EXPECT_NE(Get("?limit=10001", "root", 400).find("limit"), std::string::npos);
  EXPECT_NE(Get("?start=yesterday", "root", 400).find("start"), std::string::npos);
  EXPECT_NE(Get("?start=1700000003&end=1700000001", "root", 400).find("before"), std::string::npos);
}

TEST_F(AuditHandlersTest, ATenantAdminSeesOnlyItsTenant) {
  EXPECT_EQ(Get("", "a-admin"), "silence.create,incident.acknowledge");
  EXPECT_EQ(Get("?tenant=team-a&action=incident", "a-admin"), "incident.acknowledge");
  EXPECT_NE(Get("?tenant=team-b", "a-admin", 403).find("team-a"), std::string::npos);
  Get("", "a-viewer", 403);  // admins only
  Get("", "nobody", 401);
}

}  // namespace
}  // namespace tyto::api
