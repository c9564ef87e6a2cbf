// /api/v1/rules and /api/v1/alerts by tenant: each request sees its tenant's groups and alerts.
#include "api/rules_handlers.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/handler_test_util.h"

namespace tyto::api {
namespace {

class TwoTenantsSource final : public RulesSource {
 public:
  std::vector<RuleGroup> Groups() const override {
    std::vector<RuleGroup> out;
    for (const char* tenant : {"default", "acme"}) {
      RuleGroup g;
      g.name = std::string("g-") + tenant;
      g.file = "rules.yml";
      g.tenant = tenant;
      Rule r;
      r.kind = Rule::Kind::kAlerting;
      r.name = std::string("Alert-") + tenant;
      r.query = "up == 0";
      r.state = "firing";
      ActiveAlert a;
      a.labels = Labels::Of({"alertname", r.name});
      a.state = "firing";
      r.alerts.push_back(a);
      g.rules.push_back(r);
      out.push_back(g);
    }
    return out;
  }
};

class RulesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"plain", auth::HashSecret("plain"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"acme", auth::HashSecret("acme"), auth::EffectiveScopes({auth::Scope::kRead}), {"acme"}},
        {"both", auth::HashSecret("both"), auth::EffectiveScopes({auth::Scope::kRead}), {"acme", "default"}}}));
    AddRulesRoutes(&router_, &guard_, &source_);
  }
  std::string Get(const std::string& target, const std::string& token, const std::string& org = "") {
    http::Request req;
    req.method = "GET";
    req.target = target;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    if (!org.empty()) req.headers.emplace_back("X-Scope-OrgID", org);
    EXPECT_FALSE(http::ParseTarget(&req).has_value());
    http::Response r = router_.Dispatch(req);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  TwoTenantsSource source_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(RulesApiTest, EachTenantSeesItsGroupsAndAlerts) {
  for (const char* target : {"/api/v1/rules", "/api/v1/alerts"}) {
    const std::string plain = Get(target, "plain");
    EXPECT_NE(plain.find("Alert-default"), std::string::npos) << target << ": " << plain;
    EXPECT_EQ(plain.find("Alert-acme"), std::string::npos) << target << ": " << plain;
    const std::string acme = Get(target, "acme");
    EXPECT_NE(acme.find("Alert-acme"), std::string::npos) << target << ": " << acme;
    EXPECT_EQ(acme.find("Alert-default"), std::string::npos) << target << ": " << acme;
    // A token granted both sees one at a time, as X-Scope-OrgID names it.
    const std::string both = Get(target, "both", "acme");
    EXPECT_NE(both.find("Alert-acme"), std::string::npos) << target << ": " << both;
    EXPECT_EQ(both.find("Alert-default"), std::string::npos) << target << ": " << both;
  }
}

}  // namespace
}  // namespace tyto::api
