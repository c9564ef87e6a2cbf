#include "alertmanager/dispatch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "alertmanager/store.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::alertmanager {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// An integration that records what it is given and answers from a script (then success).
class FakeIntegration final : public Integration {
 public:
  FakeIntegration(std::string receiver, bool send_resolved) : receiver_(std::move(receiver)), send_resolved_(send_resolved) {}
  std::string_view Kind() const override { return "webhook"; }
  int Index() const override { return 0; }
  bool SendResolved() const override { return send_resolved_; }
  DeliveryResult Deliver(const Notification& n, int64_t) override {
    MutexLock lock(&mu_);
    sent_.push_back(n);
    if (!script_.empty()) {
      DeliveryResult r = script_.front();
      script_.erase(script_.begin());
      return r;
    }
    if (always_fail_) return {Unavailable("receiver down"), true};
    return {};
  }
  std::vector<Notification> Sent() {
    MutexLock lock(&mu_);
    return sent_;
  }
  void Script(std::vector<DeliveryResult> r) {
    MutexLock lock(&mu_);
    script_ = std::move(r);
  }
  void AlwaysFail(bool v) {
    MutexLock lock(&mu_);
    always_fail_ = v;
  }
  const std::string& receiver() const { return receiver_; }

 private:
  const std::string receiver_;
  const bool send_resolved_;
  Mutex mu_;
  std::vector<Notification> sent_ GUARDED_BY(mu_);
  std::vector<DeliveryResult> script_ GUARDED_BY(mu_);
  bool always_fail_ GUARDED_BY(mu_) = false;
};

// Integrations by receiver name; the factory hands out non-owning wrappers so that tests keep
// seeing them across reloads and restarts.
class Integrations {
 public:
  FakeIntegration* Get(const std::string& receiver, bool send_resolved = true) {
    auto& p = by_name_[receiver];
    if (!p) p = std::make_unique<FakeIntegration>(receiver, send_resolved);
    return p.get();
  }
  IntegrationFactory Factory() {
    return [this](const Receiver& r) {
      std::vector<std::unique_ptr<Integration>> out;
      out.push_back(std::make_unique<Forward>(Get(r.name)));
      return out;
    };
  }

 private:
  class Forward final : public Integration {
   public:
    explicit Forward(FakeIntegration* f) : f_(f) {}
    std::string_view Kind() const override { return f_->Kind(); }
    int Index() const override { return f_->Index(); }
    bool SendResolved() const override { return f_->SendResolved(); }
    DeliveryResult Deliver(const Notification& n, int64_t t) override { return f_->Deliver(n, t); }

   private:
    FakeIntegration* f_;
  };
  std::map<std::string, std::unique_ptr<FakeIntegration>> by_name_;
};

Config MustParse(const std::string& yaml) {
  auto c = ParseConfig(yaml);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : Config{};
}

const char kBasic[] = R"(
global:
  resolve_timeout: 1h
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
- name: team
)";

Alert MakeAlert(LabelSet labels, int64_t starts_at = 0, int64_t ends_at = 0) {
  Alert a;
  a.labels = std::move(labels);
  a.starts_at_ms = starts_at;
  a.ends_at_ms = ends_at;
  return a;
}

class DispatchTest : public ::testing::Test {
 protected:
  std::unique_ptr<Dispatcher> Make(const std::string& yaml, std::string data_dir = "") {
    DispatcherOptions o;
    o.clock = &clock_;
    o.data_dir = std::move(data_dir);
    // A registry per dispatcher: a name registered twice is a bug the registry aborts on.
    registries_.push_back(std::make_unique<instrumentation::Registry>());
    registry_ = registries_.back().get();
    o.metrics = registry_;
    o.retry_initial_ms = 1000;
    o.retry_jitter = 0;
    o.sleep = [this](int64_t ms) {
      slept_.push_back(ms);
      clock_.Advance(milliseconds(ms));
      return true;
    };
    auto d = std::make_unique<Dispatcher>(MustParse(yaml), integrations_.Factory(), std::move(o));
    EXPECT_TRUE(d->Open().ok());
    return d;
  }
  void Advance(milliseconds d) { clock_.Advance(d); }

  testing::FakeClock clock_;
  std::vector<std::unique_ptr<instrumentation::Registry>> registries_;
  instrumentation::Registry* registry_ = nullptr;
  Integrations integrations_;
  std::vector<int64_t> slept_;
};

TEST_F(DispatchTest, GroupWaitIntervalAndRepeat) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  d->Put({MakeAlert({{"alertname", "HighLatency"}, {"pod", "a"}})});
  d->RunDueForTest();
  EXPECT_TRUE(team->Sent().empty()) << "notified before group_wait";
  Advance(seconds(29));
  d->RunDueForTest();
  EXPECT_TRUE(team->Sent().empty());
  Advance(seconds(1));
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 1u);
  const Notification first = team->Sent()[0];
  EXPECT_EQ(first.receiver, "team");
  EXPECT_EQ(first.group_key, "{}:{alertname=\"HighLatency\"}");
  EXPECT_EQ(first.alerts.size(), 1u);
  EXPECT_EQ(first.State(), "firing");
  EXPECT_EQ(first.group_labels, (LabelSet{{"alertname", "HighLatency"}}));

  // A second alert joins the group: sent at the next group_interval, not before.
  Advance(minutes(1));
  d->Put({MakeAlert({{"alertname", "HighLatency"}, {"pod", "b"}})});
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 1u);
  Advance(minutes(4));
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 2u);
  EXPECT_EQ(team->Sent()[1].alerts.size(), 2u);
  EXPECT_EQ(team->Sent()[1].common_labels, (LabelSet{{"alertname", "HighLatency"}}));

  // Nothing changes: silent until repeat_interval (keep the alerts alive by re-sending them).
  for (int i = 0; i < 47; ++i) {
    Advance(minutes(5));
    d->Put({MakeAlert({{"alertname", "HighLatency"}, {"pod", "a"}}), MakeAlert({{"alertname", "HighLatency"}, {"pod", "b"}})});
    d->RunDueForTest();
  }
  EXPECT_EQ(team->Sent().size(), 2u) << "re-notified before repeat_interval";
  Advance(minutes(5));  // exactly repeat_interval after the last notification
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 2u);
  Advance(minutes(5));
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 3u) << "not re-notified after repeat_interval";
  EXPECT_EQ(d->Deliveries().size(), 3u);
  EXPECT_EQ(d->Deliveries()[0].outcome, "success");
  EXPECT_EQ(d->Deliveries()[0].alerts, 2u);
}

TEST_F(DispatchTest, OldAlertFlushesNewGroupAtOnce) {
  auto d = Make(kBasic);
  d->Put({MakeAlert({{"alertname", "A"}}, clock_.NowMillis() - 60'000)});
  d->RunDueForTest();
  EXPECT_EQ(integrations_.Get("team")->Sent().size(), 1u);
}

TEST_F(DispatchTest, GroupByAndContinue) {
  auto d = Make(R"(
route:
  receiver: team
  group_by: [alertname, cluster]
  group_wait: 10s
  routes:
  - matchers: [severity="page"]
    receiver: pager
    continue: true
  - matchers: [severity=~"page|ticket"]
    receiver: tickets
receivers:
- name: team
- name: pager
- name: tickets
)");
  d->Put({MakeAlert({{"alertname", "Down"}, {"cluster", "a"}, {"severity", "page"}}),
          MakeAlert({{"alertname", "Down"}, {"cluster", "b"}, {"severity", "page"}}),
          MakeAlert({{"alertname", "Slow"}, {"cluster", "a"}, {"severity", "info"}})});
  Advance(seconds(10));
  d->RunDueForTest();
  EXPECT_EQ(integrations_.Get("pager")->Sent().size(), 2u);    // one per cluster
  EXPECT_EQ(integrations_.Get("tickets")->Sent().size(), 2u);  // continue: true
  EXPECT_EQ(integrations_.Get("team")->Sent().size(), 1u);     // the info alert
  EXPECT_EQ(d->Groups().size(), 5u);
}

TEST_F(DispatchTest, SilenceMutesUntilExpired) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  Silence s;
  s.matchers = *ParseMatchers("{alertname=\"Noisy\"}");
  s.starts_at = clock_.NowMillis();
  s.ends_at = clock_.NowMillis() + 3'600'000;
  s.created_by = "me";
  s.comment = "maintenance";
  auto id = d->SetSilence(s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->size(), 36u);  // a UUID

  d->Put({MakeAlert({{"alertname", "Noisy"}}), MakeAlert({{"alertname", "Other"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 1u);
  EXPECT_EQ(team->Sent()[0].alerts[0].labels.at("alertname"), "Other");
  auto alerts = d->Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  for (const AlertStatus& a : alerts) {
    if (a.alert.labels.at("alertname") == "Noisy") {
      EXPECT_EQ(a.silenced_by, std::vector<std::string>{*id});
      EXPECT_EQ(a.state, "suppressed");
    }
  }

  ASSERT_TRUE(d->ExpireSilence(*id, "default").ok());
  EXPECT_FALSE(d->ExpireSilence(*id, "default").ok());
  EXPECT_EQ(d->ExpireSilence("nope", "default").code(), StatusCode::kNotFound);
  Advance(minutes(5));
  d->Put({MakeAlert({{"alertname", "Noisy"}}), MakeAlert({{"alertname", "Other"}})});
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 2u);
  EXPECT_EQ(team->Sent()[1].alerts[0].labels.at("alertname"), "Noisy");
}

TEST_F(DispatchTest, SilenceUpdateReplacesAndValidates) {
  auto d = Make(kBasic);
  Silence s;
  s.matchers = *ParseMatchers("{job=\"x\"}");
  s.starts_at = clock_.NowMillis();
  s.ends_at = clock_.NowMillis() + 60'000;
  auto id = d->SetSilence(s);
  ASSERT_TRUE(id.ok());
  s.id = *id;
  s.ends_at += 60'000;
  auto id2 = d->SetSilence(s);
  ASSERT_TRUE(id2.ok());
  EXPECT_NE(*id, *id2);
  EXPECT_EQ(d->GetSilence(*id, "default")->StateAt(clock_.NowMillis()), SilenceState::kExpired);
  EXPECT_EQ(d->GetSilence(*id2, "default")->StateAt(clock_.NowMillis()), SilenceState::kActive);
  s.id = "unknown";
  EXPECT_EQ(d->SetSilence(s).status().code(), StatusCode::kNotFound);
  s.id.clear();
  s.matchers = *ParseMatchers("{job=~\".*\"}");
  EXPECT_EQ(d->SetSilence(s).status().code(), StatusCode::kInvalidArgument);
}

// Two tenants' alerts with equal labels: separate alerts, separate groups (one notification
// never mixes tenants), each silenced only by its own tenant's silences, which the other tenant
// can neither see, replace nor expire.
TEST_F(DispatchTest, TenantsAreIsolated) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  Silence s;
  s.matchers = *ParseMatchers("{alertname=\"Noisy\"}");
  s.starts_at = clock_.NowMillis();
  s.ends_at = clock_.NowMillis() + 3'600'000;
  s.tenant = "acme";
  auto id = d->SetSilence(s);
  ASSERT_TRUE(id.ok()) << id.status().ToString();

  LabelSet acme{{"alertname", "Noisy"}}, beta{{"alertname", "Noisy"}}, plain{{"alertname", "Noisy"}};
  SetAlertTenant(&acme, "acme");
  SetAlertTenant(&beta, "beta");
  SetAlertTenant(&plain, "default");
  EXPECT_EQ(plain.count(kTenantLabel), 0u);
  d->Put({MakeAlert(acme), MakeAlert(beta), MakeAlert(plain)});
  Advance(seconds(30));
  d->RunDueForTest();
  // beta's and default's alerts go out, each in its own notification; acme's is silenced.
  const std::vector<Notification> sent = team->Sent();
  ASSERT_EQ(sent.size(), 2u);
  std::vector<std::string> tenants;
  for (const Notification& n : sent) {
    ASSERT_EQ(n.alerts.size(), 1u);
    tenants.emplace_back(AlertTenant(n.alerts[0].labels));
  }
  std::sort(tenants.begin(), tenants.end());
  EXPECT_EQ(tenants, (std::vector<std::string>{"beta", "default"}));
  ASSERT_EQ(d->Alerts().size(), 3u);
  for (const AlertStatus& a : d->Alerts()) {
    EXPECT_EQ(a.silenced_by.empty(), AlertTenant(a.alert.labels) != "acme") << AlertTenant(a.alert.labels);
  }
  std::vector<DeliveryRecord> records = d->Deliveries();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].tenant, records[1].tenant);

  // Another tenant: not found, as an unknown id.
  EXPECT_FALSE(d->GetSilence(*id, "beta").has_value());
  EXPECT_TRUE(d->GetSilence(*id, "acme").has_value());
  EXPECT_EQ(d->ExpireSilence(*id, "beta").code(), StatusCode::kNotFound);
  EXPECT_TRUE(d->Silences("beta").empty());
  EXPECT_EQ(d->Silences("acme").size(), 1u);
  Silence hijack = s;
  hijack.id = *id;
  hijack.tenant = "beta";
  EXPECT_EQ(d->SetSilence(hijack).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(d->GetSilence(*id, "acme")->StateAt(clock_.NowMillis()), SilenceState::kActive);
  ASSERT_TRUE(d->ExpireSilence(*id, "acme").ok());
}

TEST_F(DispatchTest, Inhibition) {
  auto d = Make(std::string(kBasic) + R"(
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
)");
  FakeIntegration* team = integrations_.Get("team");
  d->Put({MakeAlert({{"alertname", "A"}, {"severity", "critical"}, {"cluster", "x"}}),
          MakeAlert({{"alertname", "A"}, {"severity", "warning"}, {"cluster", "x"}}),
          MakeAlert({{"alertname", "A"}, {"severity", "warning"}, {"cluster", "y"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 1u);
  ASSERT_EQ(team->Sent()[0].alerts.size(), 2u);
  const std::vector<Notification> sent = team->Sent();
  for (const Alert& a : sent[0].alerts) {
    EXPECT_FALSE(a.labels.at("severity") == "warning" && a.labels.at("cluster") == "x");
  }
}

TEST_F(DispatchTest, MuteAndActiveTimeIntervals) {
  // The FakeClock starts at 22:13 UTC: inside "evening".
  const std::string yaml = R"(
route:
  receiver: team
  group_wait: 30s
  repeat_interval: 24h
  routes:
  - matchers: [team="muted"]
    receiver: muted
    mute_time_intervals: [evening]
  - matchers: [team="active"]
    receiver: active
    active_time_intervals: [morning]
receivers:
- name: team
- name: muted
- name: active
time_intervals:
- name: evening
  time_intervals:
  - times: [{start_time: '18:00', end_time: '24:00'}]
- name: morning
  time_intervals:
  - times: [{start_time: '06:00', end_time: '12:00'}]
)";
  auto d = Make(yaml);
  d->Put({MakeAlert({{"alertname", "A"}, {"team", "muted"}}), MakeAlert({{"alertname", "A"}, {"team", "active"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  EXPECT_TRUE(integrations_.Get("muted")->Sent().empty());
  EXPECT_TRUE(integrations_.Get("active")->Sent().empty());
  // At 06:00 the muted one is out of "evening" and the active one inside "morning".
  for (int i = 0; i < 100 && integrations_.Get("active")->Sent().empty(); ++i) {
    Advance(minutes(5));
    d->Put({MakeAlert({{"alertname", "A"}, {"team", "muted"}}), MakeAlert({{"alertname", "A"}, {"team", "active"}})});
    d->RunDueForTest();
  }
  EXPECT_EQ(integrations_.Get("muted")->Sent().size(), 1u);
  EXPECT_EQ(integrations_.Get("active")->Sent().size(), 1u);
}

TEST_F(DispatchTest, RetriesWithBackoffThenSucceed) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  team->Script({{Unavailable("503"), true}, {Unavailable("503"), true}});
  d->Put({MakeAlert({{"alertname", "A"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 3u);
  EXPECT_EQ(slept_, (std::vector<int64_t>{1000, 2000}));
  ASSERT_EQ(d->Deliveries().size(), 1u);
  EXPECT_EQ(d->Deliveries()[0].attempts, 3);
  EXPECT_EQ(d->Deliveries()[0].outcome, "success");
  EXPECT_EQ(d->NflogSize(), 1u);
}

TEST_F(DispatchTest, RetriesGiveUpAtDeadlineAndOnFinalErrors) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  team->AlwaysFail(true);
  d->Put({MakeAlert({{"alertname", "A"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  // Waits 1, 2, 4, ..., 32 s, then 60 s (the cap) three times: 243 s; the next would pass the
  // deadline (group_interval, 300 s): 10 attempts.
  EXPECT_EQ(team->Sent().size(), 10u);
  ASSERT_EQ(d->Deliveries().size(), 1u);
  EXPECT_EQ(d->Deliveries()[0].outcome, "failed");
  EXPECT_NE(d->Deliveries()[0].error.find("receiver down"), std::string::npos);
  EXPECT_EQ(d->NflogSize(), 0u) << "a failed notification must not be logged";
  EXPECT_NE(registry_->Expose().find("tyto_alertmanager_notifications_failed_total{integration=\"webhook\",reason=\"contextDeadlineExceeded\"} 1"),
            std::string::npos)
      << registry_->Expose();

  // Retried at the next group_interval; a 4xx stops at once.
  team->AlwaysFail(false);
  team->Script({{InvalidArgument("400 bad request"), false}});
  Advance(minutes(5));
  d->Put({MakeAlert({{"alertname", "A"}})});
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 11u);
  EXPECT_EQ(d->Deliveries()[0].attempts, 1);
  EXPECT_EQ(d->Deliveries()[0].outcome, "failed");
}

TEST_F(DispatchTest, ResolvedWithAndWithoutSendResolved) {
  const std::string yaml = R"(
route:
  receiver: loud
  group_wait: 30s
  group_interval: 1m
  routes:
  - matchers: [to="quiet"]
    receiver: quiet
receivers:
- name: loud
- name: quiet
)";
  FakeIntegration* loud = integrations_.Get("loud", true);
  FakeIntegration* quiet = integrations_.Get("quiet", false);
  auto d = Make(yaml);
  d->Put({MakeAlert({{"alertname", "A"}}), MakeAlert({{"alertname", "A"}, {"to", "quiet"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  ASSERT_EQ(loud->Sent().size(), 1u);
  ASSERT_EQ(quiet->Sent().size(), 1u);
  // Both resolve.
  Advance(seconds(10));
  const int64_t now = clock_.NowMillis();
  d->Put({MakeAlert({{"alertname", "A"}}, 0, now), MakeAlert({{"alertname", "A"}, {"to", "quiet"}}, 0, now)});
  Advance(minutes(1));
  d->RunDueForTest();
  ASSERT_EQ(loud->Sent().size(), 2u);
  EXPECT_EQ(loud->Sent()[1].State(), "resolved");
  EXPECT_EQ(quiet->Sent().size(), 1u) << "send_resolved: false got a resolved notification";
  // The groups are gone after the resolved flush; nothing more is sent.
  EXPECT_TRUE(d->Groups().empty());
  Advance(hours(5));
  d->RunDueForTest();
  EXPECT_EQ(loud->Sent().size(), 2u);
  EXPECT_EQ(quiet->Sent().size(), 1u);
  EXPECT_TRUE(d->Alerts().empty()) << "resolved alerts not garbage collected";
}

TEST_F(DispatchTest, ResolveTimeoutEndsAlertsNotRefreshed) {
  auto d = Make("global:\n  resolve_timeout: 1m\nroute:\n  receiver: team\nreceivers:\n- name: team\n");
  d->Put({MakeAlert({{"alertname", "A"}})});
  auto alerts = d->Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].alert.ends_at_ms, clock_.NowMillis() + 60'000);
  EXPECT_EQ(alerts[0].alert.starts_at_ms, clock_.NowMillis());
}

TEST_F(DispatchTest, DedupAcrossRestartAndSilencesKept) {
  testing::TempDir dir;
  FakeIntegration* team = integrations_.Get("team");
  std::string silence_id;
  {
    auto d = Make(kBasic, dir.path());
    d->Put({MakeAlert({{"alertname", "A"}})});
    Advance(seconds(30));
    d->RunDueForTest();
    ASSERT_EQ(team->Sent().size(), 1u);
    Silence s;
    s.matchers = *ParseMatchers("{alertname=\"B\"}");
    s.starts_at = clock_.NowMillis();
    s.ends_at = clock_.NowMillis() + 3'600'000;
    silence_id = *d->SetSilence(s);
  }  // Stop writes the log
  auto d = Make(kBasic, dir.path());
  ASSERT_TRUE(d->GetSilence(silence_id, "default").has_value()) << "silence forgotten across a restart";
  d->Put({MakeAlert({{"alertname", "A"}}), MakeAlert({{"alertname", "B"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 1u) << "re-notified after a restart";
  d->Put({MakeAlert({{"alertname", "A"}, {"pod", "new"}})});
  Advance(minutes(5));
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 2u);
}

TEST_F(DispatchTest, DamagedSnapshotsStartEmpty) {
  testing::TempDir dir;
  {
    auto d = Make(kBasic, dir.path());
    Silence s;
    s.matchers = *ParseMatchers("{alertname=\"B\"}");
    s.starts_at = clock_.NowMillis();
    s.ends_at = clock_.NowMillis() + 3'600'000;
    ASSERT_TRUE(d->SetSilence(s).ok());
  }
  for (const char* name : {kSilencesSnapshot, kNflogSnapshot}) {
    auto data = Env::Default()->ReadFile(dir.Path(name));
    ASSERT_TRUE(data.ok());
    std::string bad = *data;
    bad[bad.size() / 2] ^= 0x5a;
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir.Path(name), bad).ok());
  }
  auto d = Make(kBasic, dir.path());
  EXPECT_TRUE(d->Silences().empty());
}

TEST_F(DispatchTest, NothingWrittenBeforeOpen) {
  testing::TempDir dir;
  {
    DispatcherOptions o;
    o.clock = &clock_;
    o.data_dir = dir.path();
    Dispatcher d(MustParse(kBasic), integrations_.Factory(), std::move(o));
    Silence s;
    s.matchers = *ParseMatchers("{alertname=\"B\"}");
    s.starts_at = clock_.NowMillis();
    s.ends_at = clock_.NowMillis() + 3'600'000;
    ASSERT_TRUE(d.SetSilence(s).ok());
  }
  EXPECT_FALSE(Env::Default()->FileExists(dir.Path(kSilencesSnapshot)));
  EXPECT_FALSE(Env::Default()->FileExists(dir.Path(kNflogSnapshot)));
}

TEST_F(DispatchTest, ReloadKeepsAlertsSilencesAndLog) {
  auto d = Make(kBasic);
  FakeIntegration* team = integrations_.Get("team");
  Silence s;
  s.matchers = *ParseMatchers("{alertname=\"B\"}");
  s.starts_at = clock_.NowMillis();
  s.ends_at = clock_.NowMillis() + 3'600'000;
  ASSERT_TRUE(d->SetSilence(s).ok());
  d->Put({MakeAlert({{"alertname", "A"}}), MakeAlert({{"alertname", "B"}})});
  Advance(seconds(30));
  d->RunDueForTest();
  ASSERT_EQ(team->Sent().size(), 1u);

  d->Update(MustParse(std::string(kBasic) + "- name: other\n"));
  Advance(seconds(30));
  d->RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 1u) << "reload re-notified";
  EXPECT_EQ(d->Alerts().size(), 2u);
  EXPECT_EQ(d->Silences().size(), 1u);
  EXPECT_EQ(d->config()->receivers.size(), 2u);

  // A reload that routes elsewhere notifies the new receiver.
  d->Update(MustParse(R"(
route:
  receiver: other
  group_by: [alertname]
  group_wait: 30s
receivers:
- name: other
)"));
  Advance(seconds(30));
  d->RunDueForTest();
  EXPECT_EQ(integrations_.Get("other")->Sent().size(), 1u);
}

TEST_F(DispatchTest, ObserverAndRecordsBounded) {
  DispatcherOptions o;
  o.clock = &clock_;
  o.max_records = 3;
  std::atomic<int> seen{0};
  o.on_delivery = [&seen](const DeliveryRecord& r) {
    EXPECT_EQ(r.receiver, "team");
    ++seen;
  };
  Dispatcher d(MustParse(kBasic), integrations_.Factory(), std::move(o));
  for (int i = 0; i < 5; ++i) d.Put({MakeAlert({{"alertname", "A" + std::to_string(i)}})});
  Advance(seconds(30));
  d.RunDueForTest();
  EXPECT_EQ(seen.load(), 5);
  EXPECT_EQ(d.Deliveries().size(), 3u);
  EXPECT_EQ(d.Deliveries(1).size(), 1u);
}

// A shared log that answers from a script and records what it was told.
class ScriptedSharedLog final : public SharedNotificationLog {
 public:
  NotificationClaim Claim(const NotificationClaimRequest& r) override {
    claims.push_back(r);
    NotificationClaim c;
    c.outcome = outcome;
    c.sent = sent;
    c.revision = 1;
    return c;
  }
  bool Renew(NotificationClaim*, int64_t) override {
    ++renewals;
    return renew;
  }
  void Done(const NotificationClaim&, const NotificationClaimRequest&, bool delivered) override {
    done.push_back(delivered);
  }
  ClaimOutcome outcome = ClaimOutcome::kSend;
  NflogEntry sent;
  bool renew = true;
  int renewals = 0;
  std::vector<NotificationClaimRequest> claims;
  std::vector<bool> done;
};

TEST_F(DispatchTest, SharedLogDecidesWhoSends) {
  ScriptedSharedLog shared;
  DispatcherOptions o;
  o.clock = &clock_;
  o.shared_nflog = &shared;
  o.retry_initial_ms = 1000;
  o.retry_jitter = 0;
  o.sleep = [this](int64_t ms) {
    clock_.Advance(milliseconds(ms));
    return true;
  };
  Dispatcher d(MustParse(kBasic), integrations_.Factory(), std::move(o));
  FakeIntegration* team = integrations_.Get("team");
  // Another server sent it: nothing sent here, nothing recorded as a delivery, the log learns it.
  shared.outcome = ClaimOutcome::kAlreadySent;
  shared.sent = NflogEntry{{Fingerprint({{"alertname", "A"}})}, {}, clock_.NowMillis(), 0};
  d.Put({MakeAlert({{"alertname", "A"}})});
  Advance(seconds(30));
  d.RunDueForTest();
  ASSERT_EQ(shared.claims.size(), 1u);
  EXPECT_EQ(shared.claims[0].integration_key, "team/webhook/0");
  EXPECT_EQ(shared.claims[0].repeat_interval_ms, 4 * 3'600'000);
  EXPECT_TRUE(team->Sent().empty());
  EXPECT_TRUE(d.Deliveries().empty());
  EXPECT_EQ(d.NflogSize(), 1u);
  // Nothing changed: the local log now says so without asking.
  Advance(minutes(5));
  d.RunDueForTest();
  EXPECT_EQ(shared.claims.size(), 1u);
  // Another server is sending a new alert now: no delivery, no failure; the next flush asks again.
  shared.outcome = ClaimOutcome::kBusy;
  d.Put({MakeAlert({{"alertname", "A"}}), MakeAlert({{"alertname", "A"}, {"x", "1"}})});
  Advance(minutes(5));
  d.RunDueForTest();
  EXPECT_EQ(shared.claims.size(), 2u);
  EXPECT_TRUE(d.Deliveries().empty());
  EXPECT_TRUE(shared.done.empty());
  // This server wins; the first attempt fails, the renewal before the retry finds the claim
  // taken over: it stops, and neither records a failure nor tells the log it is done.
  shared.outcome = ClaimOutcome::kSend;
  shared.renew = false;
  team->Script({{Unavailable("down"), true}});
  Advance(minutes(5));
  d.RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 1u);
  EXPECT_EQ(shared.renewals, 1);
  EXPECT_TRUE(shared.done.empty());
  EXPECT_TRUE(d.Deliveries().empty());
  // And when it keeps the claim, it sends and says so.
  shared.renew = true;
  Advance(minutes(5));
  d.RunDueForTest();
  EXPECT_EQ(team->Sent().size(), 2u);
  EXPECT_EQ(shared.done, std::vector<bool>{true});
  EXPECT_EQ(d.Deliveries().size(), 1u);
}

TEST_F(DispatchTest, SilenceObserverAndApply) {
  std::vector<Silence> seen;
  DispatcherOptions o;
  o.clock = &clock_;
  o.on_silence = [&seen](const Silence& s) { seen.push_back(s); };
  Dispatcher d(MustParse(kBasic), integrations_.Factory(), std::move(o));
  Silence s;
  s.matchers = *ParseMatchers("{job=\"x\"}");
  s.starts_at = clock_.NowMillis();
  s.ends_at = clock_.NowMillis() + 60'000;
  auto id = d.SetSilence(s);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id, *id);
  Advance(seconds(1));
  s.id = *id;
  auto id2 = d.SetSilence(s);  // the old one expired, a new one made: both observed
  ASSERT_TRUE(id2.ok());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].id, *id);
  EXPECT_EQ(seen[1].StateAt(clock_.NowMillis()), SilenceState::kExpired);
  EXPECT_EQ(seen[2].id, *id2);
  ASSERT_TRUE(d.ExpireSilence(*id2, "default").ok());
  ASSERT_EQ(seen.size(), 4u);

  // From another server: stored as it is, unless older than what is held; not observed.
  Silence remote = seen[2];
  remote.id = "0f1e2d3c-0000-4000-8000-000000000001";
  remote.ends_at = clock_.NowMillis() + 3'600'000;
  remote.updated_at = clock_.NowMillis();
  ASSERT_TRUE(d.ApplySilence(remote).ok());
  EXPECT_EQ(d.GetSilence(remote.id, "default")->ends_at, remote.ends_at);
  EXPECT_EQ(seen.size(), 4u);
  Silence older = remote;
  older.ends_at += 1;
  older.updated_at -= 1;
  ASSERT_TRUE(d.ApplySilence(older).ok());
  EXPECT_EQ(d.GetSilence(remote.id, "default")->ends_at, remote.ends_at);
  Silence bad = remote;
  bad.matchers.clear();
  EXPECT_EQ(d.ApplySilence(bad).code(), StatusCode::kInvalidArgument);
}

// The threads: Start, deliveries on the pool, a prompt Stop while a retry waits.
TEST_F(DispatchTest, BackgroundThreads) {
  DispatcherOptions o;
  o.clock = &clock_;
  o.delivery_workers = 2;
  o.retry_initial_ms = 3'600'000;  // a long real wait that Stop must cut short
  Dispatcher d(MustParse(R"(
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 2h
  routes:
  - matchers: [alertname="Slow"]
    receiver: slow
receivers:
- name: team
- name: slow
)"),
               integrations_.Factory(), std::move(o));
  integrations_.Get("slow")->AlwaysFail(true);
  d.Start();
  d.Put({MakeAlert({{"alertname", "Slow"}}), MakeAlert({{"alertname", "A"}})});
  FakeIntegration* team = integrations_.Get("team");
  for (int i = 0; i < 2000 && (team->Sent().empty() || integrations_.Get("slow")->Sent().empty()); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(team->Sent().size(), 1u);
  EXPECT_EQ(integrations_.Get("slow")->Sent().size(), 1u);
  for (int i = 0; i < 2000 && d.Deliveries().empty(); ++i) std::this_thread::sleep_for(milliseconds(10));
  d.Stop();  // returns although "slow" waits an hour before its retry
  EXPECT_EQ(d.Deliveries().size(), 2u);
}

}  // namespace
}  // namespace tyto::alertmanager
