// Two dispatchers (two servers) sharing silences through a MemoryKeyValue.
#include "cluster/shared_silences.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "cluster/memory_kv.h"
#include "testing/fake_clock.h"

namespace tyto::cluster {
namespace {

using alertmanager::Dispatcher;
using alertmanager::DispatcherOptions;
using alertmanager::Silence;
using alertmanager::SilenceState;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;

const char kConfig[] = "route:\n  receiver: team\nreceivers:\n- name: team\n";

class SharedSilencesTest : public ::testing::Test {
 protected:
  struct Server {
    std::unique_ptr<SharedSilences> shared;
    std::unique_ptr<Dispatcher> dispatcher;
  };
  Server Make() {
    Server s;
    s.shared = std::make_unique<SharedSilences>(&kv_, &clock_);
    DispatcherOptions o;
    o.clock = &clock_;
    SharedSilences* shared = s.shared.get();
    o.on_silence = [shared](const Silence& silence) { (void)shared->Publish(silence); };
    s.dispatcher = std::make_unique<Dispatcher>(*alertmanager::ParseConfig(kConfig), nullptr, std::move(o));
    return s;
  }
  Silence MakeSilence() {
    Silence s;
    s.matchers = *alertmanager::ParseMatchers("{alertname=\"Noisy\",job=~\"a|b\"}");
    s.starts_at = clock_.NowMillis();
    s.ends_at = clock_.NowMillis() + 3'600'000;
    s.created_by = "me";
    s.comment = "maintenance \"window\"";
    return s;
  }

  MemoryKeyValue kv_;
  testing::FakeClock clock_;
};

TEST_F(SharedSilencesTest, CreatedOnOneServerMutesOnTheOther) {
  Server a = Make();
  Server b = Make();
  auto id = a.dispatcher->SetSilence(MakeSilence());
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(b.dispatcher->GetSilence(*id, "default").has_value());
  ASSERT_TRUE(b.shared->Sync(b.dispatcher.get()).ok());
  std::optional<Silence> seen = b.dispatcher->GetSilence(*id, "default");
  ASSERT_TRUE(seen.has_value());
  std::optional<Silence> made = a.dispatcher->GetSilence(*id, "default");
  EXPECT_EQ(seen->matchers, made->matchers);
  EXPECT_EQ(seen->starts_at, made->starts_at);
  EXPECT_EQ(seen->ends_at, made->ends_at);
  EXPECT_EQ(seen->updated_at, made->updated_at);
  EXPECT_EQ(seen->comment, made->comment);
  EXPECT_EQ(seen->created_by, "me");
  EXPECT_EQ(seen->StateAt(clock_.NowMillis()), SilenceState::kActive);

  // Expired on b: a learns it at its next poll.
  clock_.Advance(minutes(1));
  ASSERT_TRUE(b.dispatcher->ExpireSilence(*id, "default").ok());
  ASSERT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());
  EXPECT_EQ(a.dispatcher->GetSilence(*id, "default")->StateAt(clock_.NowMillis()), SilenceState::kExpired);

  // An update (a new id, the old one expired) reaches b too.
  clock_.Advance(minutes(1));
  Silence again = MakeSilence();
  auto id2 = a.dispatcher->SetSilence(again);
  ASSERT_TRUE(id2.ok());
  ASSERT_TRUE(b.shared->Sync(b.dispatcher.get()).ok());
  EXPECT_EQ(b.dispatcher->Silences().size(), 2u);
  EXPECT_EQ(b.dispatcher->GetSilence(*id2, "default")->StateAt(clock_.NowMillis()), SilenceState::kActive);
}

TEST_F(SharedSilencesTest, OlderWriteNeverWinsAndOfflineSilencesArePublishedLater) {
  Server a = Make();
  Server b = Make();
  kv_.SetUnavailable(true);
  auto id = a.dispatcher->SetSilence(MakeSilence());  // the store is down: kept locally
  ASSERT_TRUE(id.ok());
  kv_.SetUnavailable(false);
  ASSERT_TRUE(b.shared->Sync(b.dispatcher.get()).ok());
  EXPECT_FALSE(b.dispatcher->GetSilence(*id, "default").has_value());
  ASSERT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());  // a writes back what the store lacks
  ASSERT_TRUE(b.shared->Sync(b.dispatcher.get()).ok());
  ASSERT_TRUE(b.dispatcher->GetSilence(*id, "default").has_value());
  // b expires it; a stale publish of the active version loses to the newer record.
  clock_.Advance(minutes(1));
  const Silence active = *a.dispatcher->GetSilence(*id, "default");
  ASSERT_TRUE(b.dispatcher->ExpireSilence(*id, "default").ok());
  ASSERT_TRUE(a.shared->Publish(active).ok());
  ASSERT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());
  EXPECT_EQ(a.dispatcher->GetSilence(*id, "default")->StateAt(clock_.NowMillis()), SilenceState::kExpired);
}

TEST_F(SharedSilencesTest, ExpiredRecordsAreDeletedAfterRetention) {
  Server a = Make();
  auto id = a.dispatcher->SetSilence(MakeSilence());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(a.dispatcher->ExpireSilence(*id, "default").ok());
  ASSERT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());
  EXPECT_EQ(kv_.List("silences.")->size(), 1u);
  clock_.Advance(hours(121));
  ASSERT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());
  EXPECT_TRUE(kv_.List("silences.")->empty());
}

TEST_F(SharedSilencesTest, BadRecordsAreSkipped) {
  Server a = Make();
  ASSERT_TRUE(kv_.Put("silences.x", "{").ok());
  ASSERT_TRUE(kv_.Put("silences.y", R"({"id":"y","starts_at_ms":1,"ends_at_ms":2,"updated_at_ms":1,"matchers":[{"name":"a","value":"(","isRegex":true}]})").ok());
  EXPECT_TRUE(a.shared->Sync(a.dispatcher.get()).ok());
  EXPECT_TRUE(a.dispatcher->Silences().empty());
  EXPECT_FALSE(DecodeSilenceRecord(R"({"id":"z"})").ok());
}

// A record carries its silence's tenant; one from a server that predates tenants is the
// default tenant's; an empty tenant is refused.
TEST_F(SharedSilencesTest, RecordsKeepTheTenant) {
  Silence s;
  s.id = "t1";
  s.matchers = *alertmanager::ParseMatchers("{a=\"b\"}");
  s.starts_at = 1;
  s.ends_at = 2;
  s.updated_at = 1;
  s.tenant = "acme";
  Result<Silence> back = DecodeSilenceRecord(EncodeSilenceRecord(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->tenant, "acme");
  const std::string old = R"({"id":"o","starts_at_ms":1,"ends_at_ms":2,"updated_at_ms":1,"matchers":[{"name":"a","value":"b"}]})";
  Result<Silence> legacy = DecodeSilenceRecord(old);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  EXPECT_EQ(legacy->tenant, "default");
  std::string empty = old;
  empty.insert(1, R"("tenant":"",)");
  EXPECT_FALSE(DecodeSilenceRecord(empty).ok());
}

TEST_F(SharedSilencesTest, PollThreadApplies) {
  Server a = Make();
  Server b = Make();
  b.shared = std::make_unique<SharedSilences>(&kv_, &clock_, SharedSilencesOptions{milliseconds(5), hours(120)});
  b.shared->Start(b.dispatcher.get());
  auto id = a.dispatcher->SetSilence(MakeSilence());
  ASSERT_TRUE(id.ok());
  for (int i = 0; i < 2000 && !b.dispatcher->GetSilence(*id, "default").has_value(); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_TRUE(b.dispatcher->GetSilence(*id, "default").has_value());
  b.shared->Stop();
}

}  // namespace
}  // namespace tyto::cluster
