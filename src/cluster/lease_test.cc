#include "cluster/lease.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "cluster/group_leases.h"
#include "cluster/memory_kv.h"
#include "testing/fake_clock.h"

namespace tyto::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kTtl = seconds(15);

std::unique_ptr<Lease> MakeLease(KeyValue* kv, Clock* clock, const std::string& node) {
  return std::make_unique<Lease>(kv, clock, LeaseOptions{"rules.g", node, "http://" + node, kTtl});
}

bool AcquireOk(Lease& l) {
  Result<bool> r = l.Acquire();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && *r;
}

int Holders(const std::vector<std::unique_ptr<Lease>>& leases) {
  int n = 0;
  for (const auto& l : leases) n += l->Held() ? 1 : 0;
  return n;
}

TEST(LeaseTest, RecordRoundTripsAndBadRecordsAreErrors) {
  LeaseRecord r{"n1", "http://n1", 123, 100};
  Result<LeaseRecord> back = DecodeLeaseRecord(EncodeLeaseRecord(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->node, "n1");
  EXPECT_EQ(back->url, "http://n1");
  EXPECT_EQ(back->expires_at_ms, 123);
  EXPECT_EQ(back->acquired_at_ms, 100);
  EXPECT_FALSE(DecodeLeaseRecord("").ok());
  EXPECT_FALSE(DecodeLeaseRecord("[]").ok());
  EXPECT_FALSE(DecodeLeaseRecord(R"({"node":"a"})").ok());
  EXPECT_FALSE(DecodeLeaseRecord(R"({"node":1,"expires_at_ms":2})").ok());
}

TEST(LeaseTest, ThreeContendersOneHolderAtATime) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  std::vector<std::unique_ptr<Lease>> leases;
  for (const char* n : {"a", "b", "c"}) leases.push_back(MakeLease(&kv, &clock, n));
  // Every contender tries at every step for two minutes; the first holds it throughout.
  for (int step = 0; step < 120; ++step) {
    int winners = 0;
    for (auto& l : leases) winners += AcquireOk(*l) ? 1 : 0;
    EXPECT_EQ(winners, 1) << "step " << step;
    EXPECT_EQ(Holders(leases), 1) << "step " << step;
    clock.Advance(seconds(1));
  }
  EXPECT_TRUE(leases[0]->Held());
}

TEST(LeaseTest, TakenOverAfterTheHolderStopsRenewing) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  auto b = MakeLease(&kv, &clock, "b");
  auto c = MakeLease(&kv, &clock, "c");
  ASSERT_TRUE(AcquireOk(*a));
  // a dies: it stops renewing. Until its lease expires nobody else takes it.
  for (int i = 0; i < 14; ++i) {
    clock.Advance(seconds(1));
    EXPECT_FALSE(AcquireOk(*b));
    EXPECT_FALSE(AcquireOk(*c));
  }
  clock.Advance(seconds(1));  // 15 s after a's last write: expired
  EXPECT_FALSE(a->Held());
  const bool b_won = AcquireOk(*b);
  const bool c_won = AcquireOk(*c);
  EXPECT_TRUE(b_won);
  EXPECT_FALSE(c_won);
  ASSERT_TRUE(b->LastSeen().has_value());
  EXPECT_EQ(b->LastSeen()->node, "b");
  auto rec = kv.Get("rules.g");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  Result<LeaseRecord> r = DecodeLeaseRecord((*rec)->value);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->node, "b");
  EXPECT_EQ(r->url, "http://b");
  EXPECT_EQ(r->expires_at_ms, clock.NowMillis() + kTtl.count());
}

TEST(LeaseTest, RenewedEveryThirdOfTheTtl) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  ASSERT_TRUE(AcquireOk(*a));
  const uint64_t writes = kv.writes();
  clock.Advance(seconds(4));
  ASSERT_TRUE(AcquireOk(*a));
  EXPECT_EQ(kv.writes(), writes);  // not due yet: no write
  clock.Advance(seconds(1));
  ASSERT_TRUE(AcquireOk(*a));
  EXPECT_EQ(kv.writes(), writes + 1);
  // Renewed an hour long, it never expires for others.
  auto b = MakeLease(&kv, &clock, "b");
  for (int i = 0; i < 720; ++i) {
    clock.Advance(seconds(5));
    ASSERT_TRUE(AcquireOk(*a));
    ASSERT_FALSE(AcquireOk(*b));
  }
}

TEST(LeaseTest, HolderThatLosesTheRaceLearnsIt) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  auto b = MakeLease(&kv, &clock, "b");
  ASSERT_TRUE(AcquireOk(*a));
  // a is paused (say, a long GC pause) past its expiry; b takes over.
  clock.Advance(seconds(16));
  ASSERT_TRUE(AcquireOk(*b));
  // a comes back and tries to renew with its old revision: the compare-and-set fails.
  EXPECT_FALSE(AcquireOk(*a));
  EXPECT_FALSE(a->Held());
  EXPECT_TRUE(b->Held());
  ASSERT_TRUE(a->LastSeen().has_value());
  EXPECT_EQ(a->LastSeen()->node, "b");
}

TEST(LeaseTest, HolderLosesRaceMidRenewal) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  ASSERT_TRUE(AcquireOk(*a));
  // Someone rewrites the key behind a's back (an operator, a node with a's revision gone).
  auto e = kv.Get("rules.g");
  ASSERT_TRUE(e.ok() && e->has_value());
  LeaseRecord other{"z", "", clock.NowMillis() + 60'000, clock.NowMillis()};
  ASSERT_TRUE(kv.Update("rules.g", EncodeLeaseRecord(other), (*e)->revision).ok());
  clock.Advance(seconds(5));
  EXPECT_FALSE(AcquireOk(*a));  // renewal's CAS fails; the read shows z holding it
  EXPECT_FALSE(a->Held());
}

TEST(LeaseTest, ReleaseHandsOverAtOnce) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  auto b = MakeLease(&kv, &clock, "b");
  ASSERT_TRUE(AcquireOk(*a));
  EXPECT_FALSE(AcquireOk(*b));
  ASSERT_TRUE(a->Release().ok());
  EXPECT_FALSE(a->Held());
  EXPECT_TRUE(AcquireOk(*b));
  // A release by a node that no longer holds it leaves the new holder alone.
  ASSERT_TRUE(a->Release().ok());
  EXPECT_TRUE(AcquireOk(*b));
  auto rec = kv.Get("rules.g");
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ(DecodeLeaseRecord((*rec)->value)->node, "b");
}

TEST(LeaseTest, RestartedHolderKeepsItsLease) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  ASSERT_TRUE(AcquireOk(*MakeLease(&kv, &clock, "a")));
  clock.Advance(seconds(2));
  auto again = MakeLease(&kv, &clock, "a");  // the same node after a restart
  EXPECT_TRUE(AcquireOk(*again));
  EXPECT_FALSE(AcquireOk(*MakeLease(&kv, &clock, "b")));
}

TEST(LeaseTest, UnreadableRecordIsTakenOver) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  ASSERT_TRUE(kv.Put("rules.g", "garbage").ok());
  EXPECT_TRUE(AcquireOk(*MakeLease(&kv, &clock, "a")));
}

TEST(LeaseTest, UnreachableStoreKeepsTheLeaseUntilItsExpiryOnly) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = MakeLease(&kv, &clock, "a");
  ASSERT_TRUE(AcquireOk(*a));
  kv.SetUnavailable(true);
  clock.Advance(seconds(10));
  EXPECT_FALSE(a->Acquire().ok());
  EXPECT_TRUE(a->Held());
  clock.Advance(seconds(5));
  EXPECT_FALSE(a->Acquire().ok());
  EXPECT_FALSE(a->Held());
}

TEST(GroupLeasesTest, OneServerEvaluatesEachGroupAndASurvivorTakesOver) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  GroupLeases a(&kv, &clock, {"a", "http://a", kTtl});
  GroupLeases b(&kv, &clock, {"b", "http://b", kTtl});
  const std::vector<std::pair<std::string, std::string>> groups = {{"r.yml", "g1"}, {"r.yml", "g2"}, {"s.yml", "g1"}};
  for (int step = 0; step < 10; ++step) {
    for (const auto& [f, g] : groups) {
      const bool x = a.MayEvaluate(f, g);
      const bool y = b.MayEvaluate(f, g);
      EXPECT_NE(x, y) << f << ";" << g << " step " << step;
    }
    a.Tick();
    b.Tick();
    clock.Advance(seconds(5));
  }
  for (const auto& [f, g] : groups) EXPECT_TRUE(a.MayEvaluate(f, g));
  // a dies (no Stop, no renewals). b's background rounds take every group once a's leases expire.
  int steps = 0;
  bool all = false;
  while (!all && steps < 10) {
    clock.Advance(seconds(5));
    b.Tick();
    ++steps;
    all = true;
    for (const auto& l : b.Leases()) all = all && l.held;
  }
  EXPECT_TRUE(all);
  EXPECT_LE(steps, 4);  // within TTL + TTL/3 of a's last renewal
  for (const auto& [f, g] : groups) EXPECT_TRUE(b.MayEvaluate(f, g));
}

TEST(GroupLeasesTest, StopReleasesSoTheOtherTakesAtOnce) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  auto a = std::make_unique<GroupLeases>(&kv, &clock, GroupLeasesOptions{"a", "", kTtl});
  GroupLeases b(&kv, &clock, {"b", "", kTtl});
  ASSERT_TRUE(a->MayEvaluate("f", "g"));
  ASSERT_FALSE(b.MayEvaluate("f", "g"));
  a->Stop();
  EXPECT_TRUE(b.MayEvaluate("f", "g"));
}

TEST(GroupLeasesTest, KeysAreValidNatsKeysAndDistinct) {
  const std::string k1 = GroupLeases::Key("a", "bc");
  const std::string k2 = GroupLeases::Key("ab", "c");
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k1.rfind("rules.", 0), 0u);
  EXPECT_EQ(k1.size(), 6u + 64u);
  for (char c : k1) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.') << k1;
}

TEST(GroupLeasesTest, GroupNoLongerAskedAboutIsReleased) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  GroupLeases a(&kv, &clock, {"a", "", kTtl});
  GroupLeases b(&kv, &clock, {"b", "", kTtl});
  ASSERT_TRUE(a.MayEvaluate("f", "g"));
  // a's configuration drops the group; a keeps renewing for a while, then lets it go.
  for (int i = 0; i < 12; ++i) {
    clock.Advance(seconds(5));
    a.Tick();
  }
  EXPECT_TRUE(b.MayEvaluate("f", "g"));
}

TEST(GroupLeasesTest, BackgroundThreadRenews) {
  MemoryKeyValue kv;
  testing::FakeClock clock;
  GroupLeases a(&kv, &clock, {"a", "", milliseconds(30)});
  ASSERT_TRUE(a.MayEvaluate("f", "g"));
  a.Start();
  const uint64_t writes = kv.writes();
  // The thread waits real time (TTL/3 = 10 ms); the fake clock moves by hand.
  for (int i = 0; i < 2000 && kv.writes() == writes; ++i) {
    clock.Advance(milliseconds(10));
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_GT(kv.writes(), writes);
  a.Stop();
  GroupLeases b(&kv, &clock, {"b", "", milliseconds(30)});
  EXPECT_TRUE(b.MayEvaluate("f", "g"));
}

}  // namespace
}  // namespace tyto::cluster
