#include "audit/trail.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::audit {
namespace {

class TrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = Trail::Open(Env::Default(), dir_.Path("audit"), &clock_, &registry_, {.auth_failures_per_minute = 3});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    trail_ = std::move(*t);
  }

  Event Ev(std::string action, std::string principal, std::string tenant, std::string target = "x") {
    Event e;
    e.action = std::move(action);
    e.principal = std::move(principal);
    e.tenant = std::move(tenant);
    e.target = std::move(target);
    e.remote = "10.0.0.1:4000";
    return e;
  }

  std::vector<std::string> Actions(const Query& q) {
    auto r = trail_->Find(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& rec : *r) out.emplace_back(rec.Get("action"));
    }
    return out;
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  instrumentation::Registry registry_;
  std::unique_ptr<Trail> trail_;
};

TEST_F(TrailTest, RecordsWhoWhatWhereAndFilters) {
  trail_->Record(Ev("silence.create", "alice", "team-a", "s1"));
  clock_.Advance(std::chrono::seconds(10));
  trail_->Record(Ev("silence.expire", "bob", "team-b", "s2"));
  clock_.Advance(std::chrono::seconds(10));
  trail_->Record(Ev("config.reload", "root", ""));
  clock_.Advance(std::chrono::seconds(10));
  trail_->Record(Ev("incident.acknowledge", "alice", "team-a", "inc-1"));

  auto all = trail_->Find({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  const Record& first = (*all)[0];
  EXPECT_EQ(first.Get("action"), "silence.create");
  EXPECT_EQ(first.Get("outcome"), "ok");
  EXPECT_EQ(first.Get("target"), "s1");
  EXPECT_EQ(first.Get("principal"), "alice");
  EXPECT_EQ(first.Get("tenant"), "team-a");
  EXPECT_EQ(first.Get("remote"), "10.0.0.1:4000");
  EXPECT_EQ((*all)[2].Get("tenant"), "");  // not written when empty

  EXPECT_EQ(Actions({.action = "silence"}), (std::vector<std::string>{"silence.create", "silence.expire"}));
  EXPECT_EQ(Actions({.action = "silence.expire"}), (std::vector<std::string>{"silence.expire"}));
  EXPECT_TRUE(Actions({.action = "silen"}).empty());
  EXPECT_EQ(Actions({.principal = "alice"}), (std::vector<std::string>{"silence.create", "incident.acknowledge"}));
  EXPECT_EQ(Actions({.tenant = "team-b"}), (std::vector<std::string>{"silence.expire"}));
  const int64_t t0 = 1'700'000'000'000;
  EXPECT_EQ(Actions({.start_ms = t0 + 10'000, .end_ms = t0 + 20'000}),
            (std::vector<std::string>{"silence.expire", "config.reload"}));
  EXPECT_EQ(Actions({.limit = 2}), (std::vector<std::string>{"config.reload", "incident.acknowledge"}));
  EXPECT_TRUE(Actions({.limit = 0}).empty());
  auto v = Verify(Env::Default(), trail_->path());
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact()) << v->ToString(trail_->path());
}

TEST_F(TrailTest, AFloodOfFailedLoginsIsSummarizedPerAddressAndMinute) {
  for (int i = 0; i < 100; ++i) {
    Event e = Ev("auth.failed", "guess" + std::to_string(i), "", "/api/v1/query");
    e.outcome = "denied";
    e.details = {{"why", "unknown token"}};
    trail_->Record(e);
  }
  Event other = Ev("auth.failed", "", "");
  other.remote = "10.0.0.2:1";
  trail_->Record(other);
  EXPECT_EQ(Actions({.action = "auth"}).size(), 4u);  // 3 from .1, 1 from .2
  clock_.Advance(std::chrono::minutes(1));
  trail_->Record(Ev("config.reload", "root", ""));  // the next minute writes the summary first
  auto r = trail_->Find({.action = "auth.failed_summary"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].Get("remote"), "10.0.0.1");
  EXPECT_EQ((*r)[0].Get("suppressed"), "97");
  EXPECT_EQ((*r)[0].Get("total"), "100");
  EXPECT_EQ((*r)[0].Get("last_principal"), "guess99");
  EXPECT_EQ((*r)[0].Get("last_why"), "unknown token");
  EXPECT_EQ(Actions({}).back(), "config.reload");
  // A new minute starts a new allowance.
  for (int i = 0; i < 5; ++i) trail_->Record(Ev("auth.failed", "", ""));
  trail_->Flush();
  EXPECT_EQ(Actions({.action = "auth.failed"}).size(), 7u);
  EXPECT_EQ(Actions({.action = "auth.failed_summary"}).size(), 2u);
}

TEST_F(TrailTest, ManyAddressesAreCappedInAllAndShareASummary) {
  instrumentation::Registry registry;
  testing::TempDir dir;
  auto t = Trail::Open(Env::Default(), dir.Path("audit"), &clock_, &registry,
                       {.auth_failures_per_minute = 2, .auth_failures_per_minute_total = 5, .max_tracked_addresses = 3});
  ASSERT_TRUE(t.ok());
  for (int a = 0; a < 10; ++a) {
    for (int i = 0; i < 3; ++i) {
      Event e = Ev("auth.failed", "", "");
      e.remote = "10.0.1." + std::to_string(a) + ":99";
      (*t)->Record(e);
    }
  }
  (*t)->Flush();
  auto all = (*t)->Find({.action = "auth"});
  ASSERT_TRUE(all.ok());
  size_t one_by_one = 0;
  std::map<std::string, std::string> suppressed;
  for (const Record& r : *all) {
    if (r.Get("action") == "auth.failed") ++one_by_one;
    else suppressed[std::string(r.Get("remote"))] = r.Get("suppressed");
  }
  EXPECT_EQ(one_by_one, 5u);  // 2 + 2 + 1, then the minute's total is reached
  // 3 addresses tracked, then "other" for the 7 more (21 failures, none written).
  EXPECT_EQ(suppressed, (std::map<std::string, std::string>{
                            {"10.0.1.0", "1"}, {"10.0.1.1", "1"}, {"10.0.1.2", "2"}, {"other", "21"}}));
}

TEST_F(TrailTest, ReopenedTrailContinuesTheChain) {
  trail_->Record(Ev("config.reload", "root", ""));
  trail_.reset();
  instrumentation::Registry registry;
  auto again = Trail::Open(Env::Default(), dir_.Path("audit"), &clock_, &registry);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  (*again)->Record(Ev("config.reload", "root", ""));
  auto v = Verify(Env::Default(), Trail::PathIn(dir_.Path("audit")));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->intact());
  EXPECT_EQ(v->records, 2u);
}

}  // namespace
}  // namespace tyto::audit
