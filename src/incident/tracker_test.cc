#include "incident/tracker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "testing/fake_clock.h"
#include "testing/fault_injection_env.h"
#include "testing/log_capture.h"
#include "testing/temp_dir.h"

namespace tyto::incident {
namespace {

using alertmanager::Alert;
using alertmanager::LabelSet;
using std::chrono::milliseconds;
using std::chrono::minutes;

class TrackerTest : public ::testing::Test {
 protected:
  // A tracker on `env` (a FaultInjectionEnv in the fault tests) with a fresh registry_.
  std::unique_ptr<Tracker> Open(TrackerOptions o = {}, Env* env = Env::Default()) {
    if (o.data_dir.empty() && persist_) o.data_dir = dir_.Path("incidents");
    registry_ = std::make_unique<instrumentation::Registry>();
    Result<std::unique_ptr<Tracker>> t = Tracker::Open(env, &clock_, o, registry_.get());
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  Alert Firing(LabelSet labels) {
    Alert a;
    a.labels = std::move(labels);
    a.starts_at_ms = clock_.NowMillis();
    a.ends_at_ms = clock_.NowMillis() + 4 * 60'000;
    return a;
  }
  Alert Resolved(Alert a) {
    a.ends_at_ms = clock_.NowMillis();
    return a;
  }
  std::string JournalPath() const { return dir_.Path("incidents") + "/incidents.journal"; }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  std::unique_ptr<instrumentation::Registry> registry_;
  bool persist_ = true;
};

const LabelSet kGpuHot = {{"alertname", "GpuHot"}, {"Hostname", "h1"}, {"gpu", "0"}, {"severity", "warning"}};
const LabelSet kLatency = {{"alertname", "HighLatency"}, {"Hostname", "h1"}, {"model", "llama"}, {"severity", "critical"}};
const LabelSet kOtherHost = {{"alertname", "GpuHot"}, {"Hostname", "h2"}, {"gpu", "0"}, {"severity", "warning"}};

TEST_F(TrackerTest, AlertsSharingHostnameJoinOneIncident) {
  auto t = Open();
  t->Put({Firing(kGpuHot)});
  clock_.Advance(milliseconds(1000));
  t->Put({Firing(kLatency)});
  std::vector<Incident> all = t->List(std::nullopt, 0);
  ASSERT_EQ(all.size(), 1u);
  const Incident& inc = all[0];
  EXPECT_EQ(inc.title, "GpuHot");
  EXPECT_EQ(inc.state, State::kOpen);
  EXPECT_EQ(inc.severity, "critical");
  ASSERT_EQ(inc.alerts.size(), 2u);
  ASSERT_EQ(inc.timeline.size(), 2u);
  EXPECT_EQ(inc.timeline[0].kind, EntryKind::kAlertFiring);
  EXPECT_EQ(inc.timeline[1].text, "HighLatency firing");
  EXPECT_EQ(t->IncidentOf(kLatency), inc.id);
}

TEST_F(TrackerTest, DifferentHostnameOpensAnother) {
  auto t = Open();
  t->Put({Firing(kGpuHot), Firing(kOtherHost)});
  std::vector<Incident> all = t->List(std::nullopt, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_NE(t->IncidentOf(kGpuHot), t->IncidentOf(kOtherHost));
  EXPECT_EQ(t->List(std::nullopt, 1).size(), 1u);
  EXPECT_EQ(t->List(std::nullopt, 1)[0].id, *t->IncidentOf(kOtherHost));  // newest first
}

TEST_F(TrackerTest, AlertsWithoutGroupingLabelsGroupByAlertname) {
  auto t = Open();
  t->Put({Firing({{"alertname", "TargetDown"}, {"job", "a"}}), Firing({{"alertname", "TargetDown"}, {"job", "b"}}),
          Firing({{"alertname", "Other"}, {"job", "a"}})});
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 2u);
}

TEST_F(TrackerTest, NoJoinPastTheGroupWindow) {
  TrackerOptions o;
  o.group_window = minutes(10);
  auto t = Open(o);
  Alert a = Firing(kGpuHot);
  a.ends_at_ms = 0;  // no timeout given: resolve_timeout applies
  o.resolve_timeout = minutes(60);
  t.reset();
  t = Open(o);
  t->Put({a});
  clock_.Advance(minutes(11));
  t->Put({Firing(kLatency)});
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 2u);
}

TEST_F(TrackerTest, ResolvesWhenAllAlertsResolve) {
  auto t = Open();
  Alert a = Firing(kGpuHot);
  Alert b = Firing(kLatency);
  t->Put({a, b});
  const uint64_t id = *t->IncidentOf(kGpuHot);
  clock_.Advance(minutes(1));
  t->Put({Resolved(a)});
  EXPECT_EQ(t->Get(id)->state, State::kOpen);
  EXPECT_EQ(t->Get(id)->FiringAlerts(), 1u);
  clock_.Advance(minutes(1));
  t->Put({Resolved(b)});
  Incident inc = *t->Get(id);
  EXPECT_EQ(inc.state, State::kResolved);
  EXPECT_EQ(inc.resolved_ms, clock_.NowMillis());
  EXPECT_EQ(inc.resolved_by, "");
  EXPECT_EQ(inc.timeline.back().kind, EntryKind::kResolved);
  // A later, unrelated alert on the same host opens a new incident.
  clock_.Advance(minutes(120));
  t->Put({Firing(kLatency)});
  EXPECT_NE(*t->IncidentOf(kLatency), id);
}

TEST_F(TrackerTest, AlertNotResentResolvesAtItsEnd) {
  auto t = Open();
  t->Put({Firing(kGpuHot)});
  const uint64_t id = *t->IncidentOf(kGpuHot);
  clock_.Advance(minutes(3));
  t->Sweep();
  EXPECT_EQ(t->Get(id)->state, State::kOpen);
  clock_.Advance(minutes(2));
  t->Sweep();
  EXPECT_EQ(t->Get(id)->state, State::kResolved);
}

TEST_F(TrackerTest, ResendsAddNothingToTheTimeline) {
  auto t = Open();
  Alert a = Firing(kGpuHot);
  t->Put({a});
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(1));
    a.ends_at_ms = clock_.NowMillis() + 4 * 60'000;
    t->Put({a});
  }
  t->Sweep();
  Incident inc = *t->Get(*t->IncidentOf(kGpuHot));
  EXPECT_EQ(inc.timeline.size(), 1u);
  EXPECT_EQ(inc.state, State::kOpen);
}

TEST_F(TrackerTest, FiringAgainSoonAfterResolutionReopens) {
  auto t = Open();
  Alert a = Firing(kGpuHot);
  t->Put({a});
  const uint64_t id = *t->IncidentOf(kGpuHot);
  clock_.Advance(minutes(1));
  t->Put({Resolved(a)});
  ASSERT_EQ(t->Get(id)->state, State::kResolved);
  clock_.Advance(minutes(5));
  t->Put({Firing(kGpuHot)});
  Incident inc = *t->Get(id);
  EXPECT_EQ(inc.state, State::kOpen);
  EXPECT_EQ(inc.resolved_ms, 0);
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 1u);
  bool reopened = false;
  for (const TimelineEntry& e : inc.timeline) reopened |= e.kind == EntryKind::kReopened;
  EXPECT_TRUE(reopened);
}

TEST_F(TrackerTest, AcknowledgeNotesAndManualResolve) {
  auto t = Open();
  Alert a = Firing(kGpuHot);
  t->Put({a});
  const uint64_t id = *t->IncidentOf(kGpuHot);
  ASSERT_TRUE(t->Acknowledge(id, "ana").ok());
  Incident inc = *t->Get(id);
  EXPECT_EQ(inc.state, State::kAcknowledged);
  EXPECT_EQ(inc.acknowledged_by, "ana");
  EXPECT_EQ(t->Acknowledge(id, "bo").code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(t->AddNote(id, "ana", "fan replaced").ok());
  EXPECT_EQ(t->AddNote(id, "ana", "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t->AddNote(id, "ana", std::string(20'000, 'x')).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t->AddNote(999, "ana", "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(t->AddEntry(id, EntryKind::kResolved, "", "x").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(t->AddEntry(id, EntryKind::kNotification, "", "sent to slack", {{"receiver", "slack"}}).ok());
  ASSERT_TRUE(t->Resolve(id, "ana").ok());
  EXPECT_EQ(t->Resolve(id, "ana").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(t->Acknowledge(id, "ana").code(), StatusCode::kFailedPrecondition);
  inc = *t->Get(id);
  EXPECT_EQ(inc.state, State::kResolved);
  EXPECT_EQ(inc.resolved_by, "ana");
  ASSERT_EQ(inc.timeline.size(), 5u);
  EXPECT_EQ(inc.timeline[1].kind, EntryKind::kAcknowledged);
  EXPECT_EQ(inc.timeline[2].text, "fan replaced");
  EXPECT_EQ(inc.timeline[3].fields, (Fields{{"receiver", "slack"}}));
  EXPECT_EQ(inc.timeline[4].kind, EntryKind::kResolved);
  // The alert still fires and is re-sent: the resolved incident stays resolved.
  clock_.Advance(minutes(1));
  t->Put({a});
  EXPECT_EQ(t->Get(id)->state, State::kResolved);
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 1u);
  EXPECT_EQ(t->Get(12345).status().code(), StatusCode::kNotFound);
}

TEST_F(TrackerTest, RestartKeepsIncidentsAlertsAndTimeline) {
  uint64_t id = 0;
  {
    auto t = Open();
    t->Put({Firing(kGpuHot), Firing(kLatency), Firing(kOtherHost)});
    id = *t->IncidentOf(kGpuHot);
    ASSERT_TRUE(t->Acknowledge(id, "ana").ok());
    ASSERT_TRUE(t->AddNote(id, "ana", "looking").ok());
    t->Put({Resolved(Firing(kOtherHost))});
  }
  auto t = Open();
  std::vector<Incident> all = t->List(std::nullopt, 0);
  ASSERT_EQ(all.size(), 2u);
  Incident inc = *t->Get(id);
  EXPECT_EQ(inc.state, State::kAcknowledged);
  EXPECT_EQ(inc.acknowledged_by, "ana");
  EXPECT_EQ(inc.alerts.size(), 2u);
  EXPECT_EQ(inc.severity, "critical");
  ASSERT_EQ(inc.timeline.size(), 4u);
  EXPECT_EQ(inc.timeline[3].text, "looking");
  EXPECT_EQ(t->List(State::kResolved, 0).size(), 1u);
  // Grouping still works after the restart, and new ids do not reuse old ones.
  t->Put({Firing({{"alertname", "KvCachePressure"}, {"model", "llama"}})});
  EXPECT_EQ(t->IncidentOf({{"alertname", "KvCachePressure"}, {"model", "llama"}}), id);
  t->Put({Firing({{"alertname", "Other"}, {"Hostname", "h9"}})});
  EXPECT_GT(*t->IncidentOf({{"alertname", "Other"}, {"Hostname", "h9"}}), id + 1);
  // Firing alerts get resolve_timeout after a restart for their rules to re-send them.
  clock_.Advance(minutes(4));
  t->Sweep();
  EXPECT_EQ(t->Get(id)->state, State::kAcknowledged);
}

// An incident is the tenant's of the alert that opened it; alerts join only their own tenant's
// incidents (equal Hostname or not), and the tenant survives a restart and a rewrite.
TEST_F(TrackerTest, TenantsGroupApartAndPersist) {
  LabelSet acme_hot = kGpuHot, acme_latency = kLatency;
  alertmanager::SetAlertTenant(&acme_hot, "acme");
  alertmanager::SetAlertTenant(&acme_latency, "acme");
  uint64_t acme = 0, plain = 0;
  {
    auto t = Open();
    t->Put({Firing(kGpuHot), Firing(acme_hot), Firing(acme_latency)});
    ASSERT_EQ(t->List(std::nullopt, 0).size(), 2u);
    plain = *t->IncidentOf(kGpuHot);
    acme = *t->IncidentOf(acme_hot);
    EXPECT_NE(acme, plain);
    EXPECT_EQ(t->IncidentOf(acme_latency), acme) << "same tenant, same Hostname: one incident";
    EXPECT_FALSE(t->IncidentOf(kLatency).has_value());
    EXPECT_EQ(t->Get(acme)->tenant, "acme");
    EXPECT_EQ(t->Get(plain)->tenant, "default");
    ASSERT_EQ(t->List(std::nullopt, 0, "acme").size(), 1u);
    EXPECT_EQ(t->List(std::nullopt, 0, "acme")[0].id, acme);
    EXPECT_TRUE(t->List(std::nullopt, 0, "beta").empty());
  }
  auto t = Open();
  EXPECT_EQ(t->Get(acme)->tenant, "acme");
  EXPECT_EQ(t->Get(plain)->tenant, "default");
  // Grouping by tenant holds after the restart too.
  t->Put({Firing(kLatency)});
  EXPECT_EQ(t->IncidentOf(kLatency), plain);
}

TEST_F(TrackerTest, TornJournalTailIsTruncatedWithALogLine) {
  uint64_t size_before_last = 0;
  {
    auto t = Open();
    t->Put({Firing(kGpuHot)});
    size_before_last = t->JournalBytes();
    ASSERT_TRUE(t->AddNote(*t->IncidentOf(kGpuHot), "ana", "this note is torn").ok());
  }
  Result<uint64_t> size = Env::Default()->FileSize(JournalPath());
  ASSERT_TRUE(size.ok());
  ASSERT_TRUE(Env::Default()->TruncateFile(JournalPath(), *size - 3).ok());
  testing::LogCapture logs;
  auto t = Open();
  EXPECT_EQ(logs.Count({"incident journal damaged", "torn write"}), 1);
  Incident inc = *t->Get(*t->IncidentOf(kGpuHot));
  EXPECT_EQ(inc.timeline.size(), 1u);
  EXPECT_EQ(*Env::Default()->FileSize(JournalPath()), size_before_last);
  ASSERT_TRUE(t->AddNote(inc.id, "ana", "after").ok());
  t.reset();
  t = Open();
  EXPECT_EQ(t->Get(inc.id)->timeline.back().text, "after");
}

TEST_F(TrackerTest, ChecksumMismatchTruncatesFromTheDamagedFrame) {
  uint64_t good = 0;
  {
    auto t = Open();
    t->Put({Firing(kGpuHot)});
    good = t->JournalBytes();
    t->Put({Firing(kOtherHost)});
  }
  Result<std::string> bytes = Env::Default()->ReadFile(JournalPath());
  ASSERT_TRUE(bytes.ok());
  std::string damaged = *bytes;
  damaged[good + 12] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), JournalPath(), damaged).ok());
  testing::LogCapture logs;
  auto t = Open();
  EXPECT_EQ(logs.Count({"incident journal damaged", "checksum mismatch"}), 1);
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 1u);
  EXPECT_FALSE(t->IncidentOf(kOtherHost).has_value());
}

TEST_F(TrackerTest, NotAJournalIsAnError) {
  ASSERT_TRUE(Env::Default()->CreateDirs(dir_.Path("incidents")).ok());
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), JournalPath(), "something else entirely").ok());
  TrackerOptions o;
  o.data_dir = dir_.Path("incidents");
  instrumentation::Registry registry;
  Result<std::unique_ptr<Tracker>> t = Tracker::Open(Env::Default(), &clock_, o, &registry);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kCorruption);
  EXPECT_NE(t.status().message().find("incidents.journal"), std::string::npos);
}

TEST_F(TrackerTest, CompactionBoundsTheJournalAndKeepsState) {
  TrackerOptions o;
  o.compact_min_bytes = 4096;
  o.max_timeline_entries = 20;
  uint64_t id = 0;
  LabelSet hot = kGpuHot;  // of a tenant: the rewrite keeps it
  alertmanager::SetAlertTenant(&hot, "acme");
  {
    auto t = Open(o);
    t->Put({Firing(hot)});
    id = *t->IncidentOf(hot);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(t->AddNote(id, "ana", "note " + std::to_string(i)).ok());
    EXPECT_LT(t->JournalBytes(), 5u * 4096);
  }
  auto t = Open(o);
  Incident inc = *t->Get(id);
  ASSERT_EQ(inc.timeline.size(), 20u);
  EXPECT_EQ(inc.timeline.back().text, "note 1999");
  EXPECT_EQ(inc.alerts.size(), 1u);
  EXPECT_EQ(inc.state, State::kOpen);
  EXPECT_EQ(inc.tenant, "acme");
}

TEST_F(TrackerTest, OldestResolvedArePrunedPastTheBound) {
  TrackerOptions o;
  o.max_incidents = 2;
  auto t = Open(o);
  for (int i = 0; i < 4; ++i) {
    Alert a = Firing({{"alertname", "X"}, {"Hostname", "h" + std::to_string(i)}});
    t->Put({a});
    clock_.Advance(minutes(1));
    t->Put({Resolved(a)});
  }
  t->Sweep();
  std::vector<Incident> all = t->List(std::nullopt, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].alerts[0].labels.at("Hostname"), "h3");
  EXPECT_EQ(all[1].alerts[0].labels.at("Hostname"), "h2");
  // Past max_incidents unresolved, new alerts are left out (and counted), never grown without end.
  t->Put({Firing({{"alertname", "Y"}, {"Hostname", "a"}}), Firing({{"alertname", "Y"}, {"Hostname", "b"}}),
          Firing({{"alertname", "Y"}, {"Hostname", "c"}})});
  EXPECT_EQ(t->List(State::kOpen, 0).size(), 2u);
  EXPECT_NE(registry_->Expose().find("tyto_incident_alerts_dropped_total{reason=\"max_incidents\"} 1"), std::string::npos);
}

TEST_F(TrackerTest, ResolvedIncidentsPastTheAgeArePruned) {
  TrackerOptions o;
  o.max_resolved_age = minutes(60);
  auto t = Open(o);
  Alert a = Firing(kGpuHot);
  t->Put({a});
  t->Put({Resolved(a)});
  clock_.Advance(minutes(61));
  t->Sweep();
  EXPECT_TRUE(t->List(std::nullopt, 0).empty());
}

TEST_F(TrackerTest, ListenerRunsOutsideTheLockOnOpenAndNewAlerts) {
  auto t = Open();
  std::vector<std::pair<uint64_t, size_t>> calls;
  Tracker* raw = t.get();
  t->SetListener([&](const Incident& inc) {
    // Calling back into the tracker would deadlock if the lock were held.
    EXPECT_TRUE(raw->Get(inc.id).ok());
    calls.emplace_back(inc.id, inc.alerts.size());
  });
  Alert a = Firing(kGpuHot);
  t->Put({a});
  t->Put({a});  // a re-send: no call
  t->Put({Firing(kLatency)});
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].second, 1u);
  EXPECT_EQ(calls[1].second, 2u);
  EXPECT_EQ(calls[0].first, calls[1].first);
}

TEST_F(TrackerTest, CorrelateHookRunsOnTheWorkerAndIsRecorded) {
  persist_ = true;
  uint64_t id = 0;
  {
    auto t = Open();
    std::atomic<int> calls{0};
    const std::thread::id test_thread = std::this_thread::get_id();
    std::atomic<bool> other_thread{false};
    t->SetCorrelateHook([&](const LabelSet& labels, int64_t start_ms) {
      other_thread = std::this_thread::get_id() != test_thread;
      ++calls;
      EXPECT_EQ(labels.at("alertname"), "GpuHot");
      EXPECT_EQ(start_ms, 1'700'000'000'000);
      Correlation c;
      c.labels = {{"__name__", "DCGM_FI_DEV_GPU_TEMP"}, {"Hostname", "h1"}};
      c.kind = "gpu";
      c.score = 42;
      c.before = 60;
      c.after = 90;
      c.direction = "up";
      return std::vector<Correlation>{c};
    });
    t->Put({Firing(kGpuHot)});
    id = *t->IncidentOf(kGpuHot);
    t->Put({Firing(kLatency)});  // joins: no second correlation
    for (int i = 0; i < 2000 && t->Get(id)->correlations.empty(); ++i) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    Incident inc = *t->Get(id);
    ASSERT_EQ(inc.correlations.size(), 1u);
    EXPECT_EQ(inc.correlations[0].kind, "gpu");
    EXPECT_TRUE(other_thread);
    EXPECT_EQ(calls.load(), 1);
    bool entry = false;
    for (const TimelineEntry& e : inc.timeline) {
      if (e.kind != EntryKind::kCorrelation) continue;
      entry = true;
      EXPECT_EQ(e.fields[0], (std::pair<std::string, std::string>("series", "1")));
    }
    EXPECT_TRUE(entry);
  }
  auto t = Open();
  ASSERT_EQ(t->Get(id)->correlations.size(), 1u);
  EXPECT_EQ(t->Get(id)->correlations[0].score, 42);
}

TEST_F(TrackerTest, IncidentsNeverCorrelatedAreCorrelatedOnceTheHookIsSet) {
  uint64_t id = 0;
  {
    auto t = Open();
    t->Put({Firing(kGpuHot)});
    id = *t->IncidentOf(kGpuHot);
  }
  auto t = Open();
  std::atomic<int> calls{0};
  t->SetCorrelateHook([&](const LabelSet&, int64_t) {
    ++calls;
    return std::vector<Correlation>{};
  });
  auto correlated = [&] {
    const Incident inc = *t->Get(id);
    for (const TimelineEntry& e : inc.timeline) {
      if (e.kind == EntryKind::kCorrelation) return true;
    }
    return false;
  };
  for (int i = 0; i < 2000 && !correlated(); ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(correlated());
  EXPECT_EQ(t->Get(id)->timeline.back().text, "no related series changed around the start");
  // Setting it again queues nothing more.
  t->SetCorrelateHook([&](const LabelSet&, int64_t) {
    ++calls;
    return std::vector<Correlation>{};
  });
  t->Put({Firing(kOtherHost)});  // a new incident: one more call
  for (int i = 0; i < 2000 && calls.load() < 2; ++i) std::this_thread::sleep_for(milliseconds(5));
  t.reset();  // joins the worker: every queued call has run
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(TrackerTest, ConcurrentPutsAndReads) {
  auto t = Open();
  t->SetCorrelateHook([](const LabelSet&, int64_t) { return std::vector<Correlation>{}; });
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        t->Put({Firing({{"alertname", "A"}, {"Hostname", "h" + std::to_string((w * 50 + i) % 17)}})});
        (void)t->List(std::nullopt, 5);
        (void)t->AddNote(1, "x", "y");
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 17u);
}

TEST_F(TrackerTest, MetricsCountStatesOpensAndEntries) {
  auto t = Open();
  t->Put({Firing(kGpuHot), Firing(kOtherHost)});
  ASSERT_TRUE(t->Acknowledge(*t->IncidentOf(kGpuHot), "ana").ok());
  const std::string text = registry_->Expose();
  EXPECT_NE(text.find("tyto_incidents{state=\"open\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("tyto_incidents{state=\"acknowledged\"} 1"), std::string::npos);
  EXPECT_NE(text.find("tyto_incidents_opened_total 2"), std::string::npos);
  EXPECT_NE(text.find("tyto_incident_timeline_entries_total 3"), std::string::npos);
}

TEST_F(TrackerTest, AFailedJournalWriteChangesNothingAndIsCounted) {
  testing::FaultInjectionEnv env(Env::Default());
  std::unique_ptr<Tracker> t = Open({}, &env);
  ASSERT_NE(t, nullptr);
  t->Put({Firing(kGpuHot)});
  const uint64_t id = *t->IncidentOf(kGpuHot);
  env.FailAll(true);
  EXPECT_FALSE(t->AddNote(id, "ana", "lost").ok());
  EXPECT_FALSE(t->Acknowledge(id, "ana").ok());
  t->Put({Firing(kOtherHost)});
  EXPECT_EQ(t->Get(id)->timeline.size(), 1u);
  EXPECT_EQ(t->Get(id)->state, State::kOpen);
  EXPECT_FALSE(t->IncidentOf(kOtherHost).has_value());
  EXPECT_NE(registry_->Expose().find("tyto_incident_alerts_dropped_total{reason=\"journal_write\"} 1"), std::string::npos);
  env.FailAll(false);
  EXPECT_TRUE(t->Acknowledge(id, "ana").ok());
  t->Put({Firing(kOtherHost)});
  EXPECT_TRUE(t->IncidentOf(kOtherHost).has_value());
}

TEST_F(TrackerTest, ATornWriteIsCutOffBeforeTheNextFrame) {
  testing::FaultInjectionEnv env(Env::Default());
  {
    std::unique_ptr<Tracker> t = Open({}, &env);
    ASSERT_NE(t, nullptr);
    t->Put({Firing(kGpuHot)});
    const uint64_t id = *t->IncidentOf(kGpuHot);
    env.SetWriteBudget(10);  // the next frame is torn after 10 bytes
    EXPECT_FALSE(t->AddNote(id, "ana", "a note long enough to tear").ok());
    env.SetWriteBudget(-1);
    ASSERT_TRUE(t->AddNote(id, "ana", "kept").ok());
  }
  testing::LogCapture logs;
  auto t = Open();
  EXPECT_EQ(logs.Count({"incident journal damaged"}), 0);
  Incident inc = *t->Get(*t->IncidentOf(kGpuHot));
  ASSERT_EQ(inc.timeline.size(), 2u);
  EXPECT_EQ(inc.timeline[1].text, "kept");
}

TEST_F(TrackerTest, MemoryOnlyModeWritesNothing) {
  TrackerOptions o;
  Result<std::unique_ptr<Tracker>> opened = Tracker::Open(Env::Default(), &clock_, o, nullptr);
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<Tracker> t = std::move(*opened);
  t->Put({Firing(kGpuHot)});
  EXPECT_EQ(t->JournalBytes(), 0u);
  EXPECT_EQ(t->List(std::nullopt, 0).size(), 1u);
}

}  // namespace
}  // namespace tyto::incident
