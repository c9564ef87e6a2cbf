// The rule manager with tenants: two tenants' groups, loaded from one rule file, evaluated
// against one storage. Each group reads only its tenant's series, writes its recording rules'
// results into its tenant's series, and sends alerts carrying its tenant.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/engine_test_util.h"
#include "tenant/limits.h"
#include "tenant/tenant_storage.h"

namespace tyto::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class TenantRulesTest : public RulesFixture {
 protected:
  void WriteAs(const std::string& tenant, const Labels& l, int64_t t, double v) {
    tenant::TenantStorage view(db_.get(), tenant);
    auto app = view.NewAppender();
    ASSERT_TRUE(app->Append(0, l, t, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  // Instant query results through `tenant`'s view, as "labels value" lines, sorted.
  std::vector<std::string> QueryAs(const std::string& tenant, const std::string& q, int64_t t) {
    tenant::TenantStorage view(db_.get(), tenant);
    promql::QueryContext ctx;
    ctx.storage = &view;
    auto r = engine_->Instant(q, t, ctx);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& e : r->vector) out.push_back(e.metric.ToString() + " " + instrumentation::FormatValue(e.v));
    std::sort(out.begin(), out.end());
    return out;
  }
};

constexpr char kRules[] = R"(groups:
  - name: g
    rules:
      - record: m:sum
        expr: sum(m)
      - alert: MHigh
        expr: m > 0
        labels: {__tenant__: other}
)";

TEST_F(TenantRulesTest, EachTenantsGroupsSeeAndWriteOnlyItsSeries) {
  WriteAs("acme", Labels::Of({"__name__", "m", "i", "a"}), kT0, 1);
  WriteAs("beta", Labels::Of({"__name__", "m", "i", "b"}), kT0, 10);
  Write(Labels::Of({"__name__", "m", "i", "d"}), kT0, 100);  // the default tenant's

  registry_ = std::make_unique<instrumentation::Registry>();
  ManagerOptions options;
  tsdb::DB* db = db_.get();
  std::vector<std::string> asked;
  options.tenant_storage = [db, &asked](const std::string& t) -> std::unique_ptr<Storage> {
    asked.push_back(t);
    return std::make_unique<tenant::TenantStorage>(db, t);
  };
  manager_ = std::make_unique<Manager>(engine_.get(), db_.get(), &clock_, registry_.get(), &receiver_, options);
  std::vector<RuleFile> files;
  for (const char* t : {"acme", "beta"}) {
    Result<RuleFile> f = ParseRuleFile(kRules, "rules.yml");
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    f->tenant = t;
    files.push_back(std::move(f).value());
  }
  ASSERT_TRUE(manager_->Update(std::move(files)).ok());
  EXPECT_THAT(asked, ElementsAre("acme", "beta"));

  const std::vector<api::RuleGroup> groups = manager_->Groups();
  ASSERT_EQ(groups.size(), 2u) << "one file, two tenants: two groups";
  EXPECT_EQ(groups[0].tenant, "acme");
  EXPECT_EQ(groups[1].tenant, "beta");
  EXPECT_EQ(manager_->EvaluateGroup("rules.yml", "g", kT0, "default").code(), StatusCode::kNotFound);
  ASSERT_TRUE(manager_->EvaluateGroup("rules.yml", "g", kT0, "acme").ok());
  ASSERT_TRUE(manager_->EvaluateGroup("rules.yml", "g", kT0, "beta").ok());

  // A's recording rule summed A's series only, and wrote into A's.
  EXPECT_THAT(QueryAs("acme", "m:sum", kT0), ElementsAre("m:sum{} 1"));
  EXPECT_THAT(QueryAs("beta", "m:sum", kT0), ElementsAre("m:sum{} 10"));
  EXPECT_THAT(QueryAs("default", "m:sum", kT0), IsEmpty());
  EXPECT_THAT(Query("m:sum", kT0), ElementsAre("m:sum{__tenant__=\"acme\"} 1", "m:sum{__tenant__=\"beta\"} 10"));
  // ALERTS too: each tenant's own.
  EXPECT_THAT(QueryAs("acme", "count(ALERTS)", kT0), ElementsAre("{} 1"));
  EXPECT_THAT(QueryAs("default", "ALERTS", kT0), IsEmpty());

  // Alerts carry their group's tenant, whatever the rule's labels say, and only its series.
  std::map<std::string, std::string> instance_by_tenant;
  for (const auto& batch : receiver_.Take()) {
    for (const alertmanager::Alert& a : batch) {
      instance_by_tenant[std::string(alertmanager::AlertTenant(a.labels))] += a.labels.at("i");
    }
  }
  EXPECT_EQ(instance_by_tenant, (std::map<std::string, std::string>{{"acme", "a"}, {"beta", "b"}}));
  std::map<std::string, size_t> active;
  for (const alertmanager::Alert& a : manager_->ActiveAlerts()) ++active[std::string(alertmanager::AlertTenant(a.labels))];
  EXPECT_EQ(active, (std::map<std::string, size_t>{{"acme", 1}, {"beta", 1}}));
}

// A group removed by a reload marks its series stale in its tenant's view, not another's.
TEST_F(TenantRulesTest, RemovedGroupsGoStaleInTheirTenant) {
  WriteAs("acme", Labels::Of({"__name__", "m", "i", "a"}), kT0, 1);
  registry_ = std::make_unique<instrumentation::Registry>();
  ManagerOptions options;
  tsdb::DB* db = db_.get();
  options.tenant_storage = [db](const std::string& t) { return std::make_unique<tenant::TenantStorage>(db, t); };
  manager_ = std::make_unique<Manager>(engine_.get(), db_.get(), &clock_, registry_.get(), &receiver_, options);
  Result<RuleFile> f = ParseRuleFile("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(m)\n", "r.yml");
  ASSERT_TRUE(f.ok());
  f->tenant = "acme";
  std::vector<RuleFile> files;
  files.push_back(*f);
  ASSERT_TRUE(manager_->Update(std::move(files)).ok());
  ASSERT_TRUE(manager_->EvaluateGroup("r.yml", "g", kT0, "acme").ok());
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(manager_->Update({}).ok());
  clock_.Advance(std::chrono::minutes(3));
  manager_->RunDueGroups();
  EXPECT_THAT(Raw(Labels::Of({"__name__", "r", "__tenant__", "acme"})), ElementsAre("0=1", "60=stale"));
  EXPECT_THAT(Raw(Labels::Of({"__name__", "r"})), IsEmpty());
}

// A tenant's recording rules count against its limits as any write does: a rule whose result
// would be a series over max_active_series fails, and says why.
TEST_F(TenantRulesTest, RecordingRulesCountAgainstTheTenantsSeriesLimit) {
  WriteAs("acme", Labels::Of({"__name__", "m", "i", "a1"}), kT0, 1);
  WriteAs("acme", Labels::Of({"__name__", "m", "i", "a2"}), kT0, 2);
  registry_ = std::make_unique<instrumentation::Registry>();
  tenant::TenantLimits acme;
  acme.max_active_series = 1;  // WriteAs wrote without limits: only the rule's results count
  tenant::Limiter limiter({{"acme", acme}}, tenant::TenantLimits{}, &clock_);
  ManagerOptions options;
  tsdb::DB* db = db_.get();
  options.tenant_storage = [db, &limiter](const std::string& t) {
    return std::make_unique<tenant::TenantStorage>(db, t, &limiter);
  };
  manager_ = std::make_unique<Manager>(engine_.get(), db_.get(), &clock_, registry_.get(), &receiver_, options);
  Result<RuleFile> f = ParseRuleFile(
      "groups:\n  - name: g\n    rules:\n      - record: m:copy\n        expr: m\n", "r.yml");
  ASSERT_TRUE(f.ok());
  f->tenant = "acme";
  std::vector<RuleFile> files;
  files.push_back(*f);
  ASSERT_TRUE(manager_->Update(std::move(files)).ok());
  (void)manager_->EvaluateGroup("r.yml", "g", kT0, "acme");
  const std::vector<api::RuleGroup> groups = manager_->Groups();
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].rules.size(), 1u);
  EXPECT_EQ(groups[0].rules[0].health, "err");
  EXPECT_THAT(groups[0].rules[0].last_error, ::testing::HasSubstr("active series limit of 1"));
  EXPECT_THAT(QueryAs("acme", "m:copy", kT0), ::testing::SizeIs(::testing::Le(1u)));
  EXPECT_EQ(limiter.ActiveSeries("acme"), 1u);
}

}  // namespace
}  // namespace tyto::rules
