// Tenants sharing one head: each sees only its own series, through PromQL, label names and
// values, and cannot write into another's by sending a __tenant__ label.
#include "tenant/tenant_storage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "promql/engine.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::tenant {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

class TenantStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok());
    head_ = std::move(h).value();
  }

  void Write(const std::string& tenant, const Labels& labels, double v) {
    TenantStorage s(head_.get(), tenant);
    auto app = s.NewAppender();
    ASSERT_TRUE(app->Append(0, labels, 1000, v).ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  // "labels=value" of each series an instant query returns for the tenant.
  std::vector<std::string> Query(const std::string& tenant, const std::string& q) {
    TenantStorage s(head_.get(), tenant);
    promql::Engine engine(head_.get());
    promql::QueryContext ctx;
    ctx.storage = &s;
    auto r = engine.Instant(q, 1000, ctx);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& sample : r->vector) out.push_back(sample.metric.ToString() + "=" + std::to_string(int(sample.v)));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
};

TEST_F(TenantStorageTest, EachTenantSeesOnlyItsOwnSeries) {
  Write("default", Labels::Of({"__name__", "up", "job", "a"}), 1);
  Write("team-a", Labels::Of({"__name__", "up", "job", "a"}), 2);
  Write("team-b", Labels::Of({"__name__", "up", "job", "a"}), 3);
  Write("team-b", Labels::Of({"__name__", "secret_b", "job", "b"}), 4);

  EXPECT_THAT(Query("default", "up"), ElementsAre("up{job=\"a\"}=1"));
  EXPECT_THAT(Query("team-a", "up"), ElementsAre("up{job=\"a\"}=2"));
  EXPECT_THAT(Query("team-b", "sum(up)"), ElementsAre("{}=3"));
  EXPECT_TRUE(Query("team-a", "secret_b").empty());
  EXPECT_TRUE(Query("team-a", "{__name__=~\".+\", job=\"b\"}").empty());
  // A matcher on __tenant__ cannot widen the view.
  EXPECT_TRUE(Query("team-a", "{__tenant__=\"team-b\"}").empty());
  EXPECT_THAT(Query("team-a", "{__name__=\"up\", __tenant__=~\".*\"}"), ElementsAre("up{job=\"a\"}=2"));
}

TEST_F(TenantStorageTest, LabelNamesAndValuesAreTheTenants) {
  Write("team-a", Labels::Of({"__name__", "m", "only_a", "x"}), 1);
  Write("team-b", Labels::Of({"__name__", "m", "only_b", "y"}), 1);
  Write("default", Labels::Of({"__name__", "m", "only_default", "z"}), 1);
  TenantStorage a(head_.get(), "team-a");
  auto q = a.NewQuerier(0, 10'000);
  ASSERT_TRUE(q.ok());
  auto names = (*q)->LabelNames({});
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("__name__", "only_a"));
  auto values = (*q)->LabelValues("__tenant__", {});
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
  TenantStorage d(head_.get(), "default");
  auto dq = d.NewQuerier(0, 10'000);
  ASSERT_TRUE(dq.ok());
  auto dnames = (*dq)->LabelNames({});
  ASSERT_TRUE(dnames.ok());
  EXPECT_THAT(*dnames, ElementsAre("__name__", "only_default"));
  auto only_b = (*dq)->LabelValues("only_b", {});
  ASSERT_TRUE(only_b.ok());
  EXPECT_TRUE(only_b->empty());
}

TEST_F(TenantStorageTest, ASentTenantLabelIsReplacedNotHonoured) {
  // team-a tries to write into team-b's series, and into the default tenant's.
  Write("team-a", Labels::Of({"__name__", "injected", "__tenant__", "team-b"}), 7);
  Write("default", Labels::Of({"__name__", "injected2", "__tenant__", "team-b"}), 8);
  EXPECT_TRUE(Query("team-b", "injected").empty());
  EXPECT_TRUE(Query("team-b", "injected2").empty());
  EXPECT_THAT(Query("team-a", "injected"), ElementsAre("injected{}=7"));
  EXPECT_THAT(Query("default", "injected2"), ElementsAre("injected2{}=8"));
}

}  // namespace
}  // namespace tyto::tenant
