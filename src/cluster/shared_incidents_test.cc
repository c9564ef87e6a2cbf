// Two incident trackers (two servers) sharing what people do through a MemoryKeyValue.
#include "cluster/shared_incidents.h"

#include <gtest/gtest.h>

#include <memory>

#include "cluster/memory_kv.h"
#include "testing/fake_clock.h"

namespace tyto::cluster {
namespace {

using incident::EntryKind;
using incident::State;
using incident::Tracker;

alertmanager::Alert Firing(const std::string& host, int64_t start) {
  alertmanager::Alert a;
  a.labels = {{"alertname", "GpuHot"}, {"Hostname", host}};
  a.starts_at_ms = start;
  return a;
}

class SharedIncidentsTest : public ::testing::Test {
 protected:
  struct Server {
    std::unique_ptr<SharedIncidents> shared;
    std::unique_ptr<Tracker> tracker;
  };
  Server Make(const std::string& node) {
    Server s;
    s.shared = std::make_unique<SharedIncidents>(&kv_, &clock_, SharedIncidentsOptions{node});
    auto t = Tracker::Open(Env::Default(), &clock_, incident::TrackerOptions{}, nullptr);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    s.tracker = std::move(t).value();
    SharedIncidents* shared = s.shared.get();
    s.tracker->SetActionListener(
        [shared](const incident::Incident& inc, const incident::TimelineEntry& e) { (void)shared->Publish(inc, e); });
    return s;
  }
  static uint64_t Only(Server& s) {
    auto all = s.tracker->List(std::nullopt, 0);
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? 0 : all[0].id;
  }
  static int Notes(const incident::Incident& inc) {
    int n = 0;
    for (const auto& e : inc.timeline) n += e.kind == EntryKind::kNote ? 1 : 0;
    return n;
  }

  MemoryKeyValue kv_;
  testing::FakeClock clock_;
};

TEST_F(SharedIncidentsTest, AcknowledgeNoteAndResolveReachTheOtherServer) {
  Server a = Make("a");
  Server b = Make("b");
  const int64_t start = clock_.NowMillis();
  // b already has an incident before this one, so the ids differ.
  b.tracker->Put({Firing("other", start - 1000)});
  a.tracker->Put({Firing("gpu-1", start)});
  b.tracker->Put({Firing("gpu-1", start)});
  const uint64_t ia = Only(a);
  const auto b_all = b.tracker->List(std::nullopt, 0);
  ASSERT_EQ(b_all.size(), 2u);
  const uint64_t ib = b_all[0].id;  // newest first
  ASSERT_NE(ia, ib);

  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(a.tracker->Acknowledge(ia, "alice").ok());
  ASSERT_TRUE(b.shared->Sync(b.tracker.get()).ok());
  auto inc = b.tracker->Get(ib);
  ASSERT_TRUE(inc.ok());
  EXPECT_EQ(inc->state, State::kAcknowledged);
  EXPECT_EQ(inc->acknowledged_by, "alice");
  EXPECT_EQ(b.tracker->Get(b_all[1].id)->state, State::kOpen);  // the other incident untouched

  ASSERT_TRUE(b.tracker->AddNote(ib, "bob", "rebooting gpu-1").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.shared->Sync(a.tracker.get()).ok());
  EXPECT_EQ(Notes(*a.tracker->Get(ia)), 1);
  // b's own note is not applied to b twice.
  ASSERT_TRUE(b.shared->Sync(b.tracker.get()).ok());
  EXPECT_EQ(Notes(*b.tracker->Get(ib)), 1);

  ASSERT_TRUE(b.tracker->Resolve(ib, "bob").ok());
  ASSERT_TRUE(a.shared->Sync(a.tracker.get()).ok());
  EXPECT_EQ(a.tracker->Get(ia)->state, State::kResolved);
  EXPECT_EQ(a.tracker->Get(ia)->resolved_by, "bob");
}

TEST_F(SharedIncidentsTest, ActionWaitsForItsIncidentAndRestartsDoNotRepeatNotes) {
  Server a = Make("a");
  const int64_t start = clock_.NowMillis();
  a.tracker->Put({Firing("gpu-2", start)});
  ASSERT_TRUE(a.tracker->AddNote(Only(a), "alice", "looking").ok());
  Server b = Make("b");
  ASSERT_TRUE(b.shared->Sync(b.tracker.get()).ok());  // b has no such incident yet
  EXPECT_TRUE(b.tracker->List(std::nullopt, 0).empty());
  b.tracker->Put({Firing("gpu-2", start)});
  ASSERT_TRUE(b.shared->Sync(b.tracker.get()).ok());
  EXPECT_EQ(Notes(*b.tracker->Get(Only(b))), 1);
  // A fresh SharedIncidents over the same tracker (a restart that kept the journal) does not
  // add the note again.
  auto again = std::make_unique<SharedIncidents>(&kv_, &clock_, SharedIncidentsOptions{"b"});
  ASSERT_TRUE(again->Sync(b.tracker.get()).ok());
  EXPECT_EQ(Notes(*b.tracker->Get(Only(b))), 1);
}

TEST_F(SharedIncidentsTest, OldActionsAreDeletedAndBadOnesSkipped) {
  Server a = Make("a");
  a.tracker->Put({Firing("gpu-3", clock_.NowMillis())});
  ASSERT_TRUE(a.tracker->Acknowledge(Only(a), "alice").ok());
  ASSERT_TRUE(kv_.Put("incidents.x.1", "{").ok());
  EXPECT_EQ(kv_.List("incidents.")->size(), 2u);
  Server b = Make("b");
  clock_.Advance(std::chrono::hours(24 * 31));
  ASSERT_TRUE(b.shared->Sync(b.tracker.get()).ok());
  EXPECT_EQ(kv_.List("incidents.")->size(), 1u);  // the unreadable one stays, skipped
  EXPECT_FALSE(DecodeIncidentAction(R"({"incident":"x","kind":"reopened","at_ms":1})").ok());
  IncidentActionRecord r{"id", "note", "me", "text", 5, "a"};
  auto back = DecodeIncidentAction(EncodeIncidentAction(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->text, "text");
  EXPECT_EQ(back->at_ms, 5);
}

}  // namespace
}  // namespace tyto::cluster
