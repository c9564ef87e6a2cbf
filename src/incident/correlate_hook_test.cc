// The correlate hook ranks an alert's correlations among its own tenant's series.
#include "incident/correlate_hook.h"

#include <gtest/gtest.h>

#include "tenant/tenant_storage.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/db.h"

namespace tyto::incident {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

class CorrelateHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<tsdb::DB>> db = tsdb::DB::Open(Env::Default(), dir_.path(), tsdb::DBOptions{}, nullptr);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  // A step from `before` to `after` at kStart, written as `tenant`'s series.
  void Step(const std::string& tenant, const Labels& labels, double before, double after) {
    tenant::TenantStorage view(db_.get(), tenant);
    std::unique_ptr<Appender> app = view.NewAppender();
    for (int64_t t = kStart - 40 * 60'000; t <= kStart + 6 * 60'000; t += 15'000) {
      ASSERT_TRUE(app->Append(0, labels, t, t < kStart ? before : after).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kStart + 6 * 60'000};
  std::unique_ptr<tsdb::DB> db_;
};

TEST_F(CorrelateHookTest, OnlyTheAlertsTenantsSeriesAreRanked) {
  const Labels temp = Labels::Of({"__name__", "DCGM_FI_DEV_GPU_TEMP", "Hostname", "h1", "gpu", "0"});
  Step("acme", temp, 60, 85);
  Step("beta", temp, 40, 95);  // the same host name in another tenant: a bigger step
  Step("beta", Labels::Of({"__name__", "beta_only_metric", "Hostname", "h1"}), 1, 100);

  alertmanager::LabelSet alert{{"alertname", "Hot"}, {"Hostname", "h1"}};
  alertmanager::SetAlertTenant(&alert, "acme");
  Tracker::CorrelateHook hook = MakeCorrelateHook(db_.get(), &clock_, correlate::Options{});
  const std::vector<Correlation> got = hook(alert, kStart);
  ASSERT_FALSE(got.empty());
  for (const Correlation& c : got) {
    EXPECT_EQ(c.labels.count("__tenant__"), 0u);
    EXPECT_NE(c.labels.at("__name__"), "beta_only_metric");
    EXPECT_NEAR(c.before, 60, 1) << "beta's step ranked for acme's alert";
    EXPECT_NEAR(c.after, 85, 1);
  }
  // The default tenant has no such series at all.
  EXPECT_TRUE(hook({{"alertname", "Hot"}, {"Hostname", "h1"}}, kStart).empty());
}

}  // namespace
}  // namespace tyto::incident
