#include "tenant/limits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "testing/fake_clock.h"

namespace tyto::tenant {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(LimiterTest, IngestRateIsABucketPerTenant) {
  testing::FakeClock clock;
  TenantLimits a;
  a.ingest_rate = 100;
  Limiter l({{"team-a", a}}, TenantLimits{}, &clock);
  EXPECT_TRUE(l.CheckIngest("team-a").ok());
  l.ChargeIngest("team-a", 250);  // one request may overdraw
  Status refused = l.CheckIngest("team-a");
  EXPECT_TRUE(IsLimit(refused)) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("tenant 'team-a'"));
  EXPECT_THAT(refused.message(), HasSubstr("100 samples/s"));
  EXPECT_TRUE(l.CheckIngest("team-b").ok()) << "other tenants are not held back";
  l.ChargeIngest("team-b", 1'000'000);
  EXPECT_TRUE(l.CheckIngest("team-b").ok()) << "team-b has no limit";
  clock.Advance(1s);
  EXPECT_FALSE(l.CheckIngest("team-a").ok()) << "-150 + 100 is still overdrawn";
  clock.Advance(1s);
  EXPECT_TRUE(l.CheckIngest("team-a").ok());
}

TEST(LimiterTest, ActiveSeriesCountNewSeriesOnlyAndExpire) {
  testing::FakeClock clock;
  TenantLimits d;
  d.max_active_series = 2;
  Limiter l({}, d, &clock, 20min);
  const Labels s1 = Labels::Of({"__name__", "a"}), s2 = Labels::Of({"__name__", "b"}), s3 = Labels::Of({"__name__", "c"});
  EXPECT_TRUE(l.AdmitSeries("t", s1, 0).ok());
  EXPECT_TRUE(l.AdmitSeries("t", s2, 0).ok());
  EXPECT_TRUE(l.AdmitSeries("t", s1, 0).ok()) << "a known series is always taken";
  Status refused = l.AdmitSeries("t", s3, 0);
  EXPECT_TRUE(IsLimit(refused));
  EXPECT_THAT(refused.message(), HasSubstr("active series limit of 2"));
  EXPECT_TRUE(l.AdmitSeries("other", s3, 0).ok()) << "per tenant";
  clock.Advance(10min);
  EXPECT_TRUE(l.AdmitSeries("t", s1, 0).ok());
  clock.Advance(15min);  // s2 idle for 25 minutes: no longer active
  EXPECT_TRUE(l.AdmitSeries("t", s3, 0).ok());
  EXPECT_EQ(l.ActiveSeries("t"), 2u);
}

TEST(LimiterTest, QueryConcurrencyPermitsAreGivenBack) {
  testing::FakeClock clock;
  TenantLimits d;
  d.max_query_concurrency = 1;
  Limiter l({}, d, &clock);
  {
    auto first = l.StartQuery("t");
    ASSERT_TRUE(first.ok());
    auto second = l.StartQuery("t");
    ASSERT_FALSE(second.ok());
    EXPECT_TRUE(IsLimit(second.status()));
    EXPECT_TRUE(l.StartQuery("u").ok());
  }
  EXPECT_TRUE(l.StartQuery("t").ok());
  EXPECT_FALSE(IsLimit(Status(StatusCode::kResourceExhausted, "series limit")));
}

// Limits change at a reload; what was counted (the bucket) is kept.
TEST(LimiterTest, SetLimitsReplacesTheLimitsAndKeepsTheCounts) {
  testing::FakeClock clock;
  Limiter l({}, TenantLimits{}, &clock);
  EXPECT_FALSE(l.any());
  TenantLimits a;
  a.ingest_rate = 10;
  l.SetLimits({{"team-a", a}}, TenantLimits{});
  EXPECT_TRUE(l.any());
  EXPECT_EQ(l.For("team-a").ingest_rate, 10);
  EXPECT_EQ(l.For("team-b").ingest_rate, 0);
  l.ChargeIngest("team-a", 30);
  EXPECT_TRUE(IsLimit(l.CheckIngest("team-a")));
  a.ingest_rate = 1000;
  l.SetLimits({{"team-a", a}}, TenantLimits{});
  EXPECT_TRUE(IsLimit(l.CheckIngest("team-a"))) << "still overdrawn until refilled";
  clock.Advance(1s);
  EXPECT_TRUE(l.CheckIngest("team-a").ok()) << "refilled at the new rate";
  l.SetLimits({}, TenantLimits{});
  EXPECT_FALSE(l.any());
  l.ChargeIngest("team-a", 1'000'000);
  EXPECT_TRUE(l.CheckIngest("team-a").ok());
}

// The storage limit: the store's figure, asked once per refresh interval and per tenant with
// the limit; a failed read keeps the last figure (writes then fail at the store, if it is down).
TEST(LimiterTest, StorageLimitRefusesEventsWhileTheStoreHoldsTooMuch) {
  testing::FakeClock clock;
  TenantLimits a;
  a.max_storage_bytes = 1000;
  Limiter l({{"team-a", a}}, TenantLimits{}, &clock);
  EXPECT_TRUE(l.CheckEvents("team-a").ok()) << "no usage source: nothing to hold against";
  std::map<std::string, uint64_t, std::less<>> stored = {{"team-a", 999}, {"team-b", 1'000'000}};
  std::vector<std::string> asked;
  bool fail = false;
  l.SetStorageUsage(
      [&](std::string_view t) -> Result<uint64_t> {
        asked.emplace_back(t);
        if (fail) return Unavailable("store down");
        return stored[std::string(t)];
      },
      10s);
  EXPECT_TRUE(l.CheckEvents("team-a").ok());
  EXPECT_TRUE(l.CheckEvents("team-b").ok()) << "team-b has no storage limit";
  stored["team-a"] = 1000;
  EXPECT_TRUE(l.CheckEvents("team-a").ok()) << "read again only after the refresh interval";
  EXPECT_EQ(asked, std::vector<std::string>{"team-a"});
  clock.Advance(10s);
  Status refused = l.CheckEvents("team-a");
  EXPECT_TRUE(IsLimit(refused)) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("tenant 'team-a'"));
  EXPECT_THAT(refused.message(), HasSubstr("storage limit of 1000 bytes reached (1000 bytes"));
  EXPECT_TRUE(l.CheckIngest("team-a").ok()) << "metrics are limited by rate and series, not by this";
  fail = true;
  clock.Advance(10s);
  EXPECT_TRUE(IsLimit(l.CheckEvents("team-a"))) << "a failed read keeps the last figure";
  fail = false;
  stored["team-a"] = 10;  // retention or erasure freed space
  EXPECT_TRUE(IsLimit(l.CheckEvents("team-a"))) << "the failed read counts as a read";
  clock.Advance(10s);
  EXPECT_TRUE(l.CheckEvents("team-a").ok());
  EXPECT_EQ(asked.size(), 4u);
}

}  // namespace
}  // namespace tyto::tenant
