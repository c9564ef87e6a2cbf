// The rule manager against a real tsdb::DB: recording rules, alert states, templates,
// notifications, reloads, schedule and metrics. Time is a FakeClock; evaluations are run
// synchronously (EvaluateGroup, RunDueGroups) except in the threaded test at the end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "rules/engine_test_util.h"

namespace tyto::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using ManagerTest = RulesFixture;

template <typename F>
constexpr bool kHasRemove = requires(F& f) { f.Remove({"x"}); };

TEST_F(ManagerTest, RecordingRuleWritesRenamedSeriesWithLabels) {
  Write(Labels::Of({"__name__", "m", "i", "a", "team", "x"}), kT0, 1);
  Write(Labels::Of({"__name__", "m", "i", "b", "team", "x"}), kT0, 2);
  StartManager(R"(groups:
  - name: g
    labels: {team: group, env: prod}
    rules:
      - record: m:doubled
        expr: m * 2
        labels: {team: rule}
      - record: m:count
        expr: count(m)
)");
  Eval(kT0);
  EXPECT_THAT(Query("m:doubled", kT0),
              ElementsAre(R"(m:doubled{env="prod", i="a", team="rule"} 2)", R"(m:doubled{env="prod", i="b", team="rule"} 4)"));
  // A scalar or an aggregate without labels becomes one series named by the rule.
  EXPECT_THAT(Query("m:count", kT0), ElementsAre(R"(m:count{env="prod", team="group"} 2)"));

  const auto groups = manager_->Groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].name, "g");
  EXPECT_EQ(groups[0].file, "rules.yml");
  EXPECT_EQ(groups[0].interval_seconds, 60);
  const api::Rule& r = RuleAt(groups, 0, 0);
  EXPECT_EQ(r.kind, api::Rule::Kind::kRecording);
  EXPECT_EQ(r.query, "m * 2");
  EXPECT_EQ(r.health, "ok");
  EXPECT_EQ(r.labels.ToString(), R"({env="prod", team="rule"})");
  EXPECT_EQ(r.last_evaluation_ms, kT0);
}

TEST_F(ManagerTest, RuleHealthIsUnknownUntilEvaluated) {
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n");
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).health, "unknown");
  EXPECT_EQ(manager_->EvaluateGroup("rules.yml", "nope", kT0).code(), StatusCode::kNotFound);
}

TEST_F(ManagerTest, VanishedSeriesGetStalenessMarkers) {
  const Labels a = Labels::Of({"__name__", "m", "i", "a"});
  const Labels b = Labels::Of({"__name__", "m", "i", "b"});
  StartManager("groups:\n  - name: g\n    rules:\n      - record: big\n        expr: m > 1.5\n");
  Write(a, kT0, 2);
  Write(b, kT0, 2);
  Eval(kT0);
  Write(a, kT0 + kMinute, 2);
  Write(b, kT0 + kMinute, 1);  // b drops out of the result
  Eval(kT0 + kMinute);
  EXPECT_THAT(Raw(Labels::Of({"__name__", "big", "i", "a"})), ElementsAre("0=2", "60=2"));
  EXPECT_THAT(Raw(Labels::Of({"__name__", "big", "i", "b"})), ElementsAre("0=2", "60=stale"));
  EXPECT_THAT(Query("big", kT0 + kMinute), ElementsAre(R"(big{i="a"} 2)"));
}

TEST_F(ManagerTest, LimitDiscardsTheWholeResult) {
  Write(Labels::Of({"__name__", "m", "i", "a"}), kT0, 1);
  Write(Labels::Of({"__name__", "m", "i", "b"}), kT0, 1);
  StartManager(R"(groups:
  - name: g
    limit: 1
    rules:
      - record: r
        expr: m
      - alert: A
        expr: m > 0
      - record: one
        expr: sum(m)
)");
  Eval(kT0);
  const auto groups = manager_->Groups();
  EXPECT_EQ(groups[0].limit, 1);
  EXPECT_EQ(RuleAt(groups, 0, 0).health, "err");
  EXPECT_EQ(RuleAt(groups, 0, 0).last_error, "exceeded limit of 1 with 2 series");
  EXPECT_EQ(RuleAt(groups, 0, 1).health, "err");
  EXPECT_EQ(RuleAt(groups, 0, 1).last_error, "exceeded limit of 1 with 2 alerts");
  EXPECT_THAT(RuleAt(groups, 0, 1).alerts, IsEmpty());
  EXPECT_EQ(RuleAt(groups, 0, 2).health, "ok");
  EXPECT_THAT(Query("r", kT0), IsEmpty());
  EXPECT_THAT(Query("ALERTS", kT0), IsEmpty());
  EXPECT_THAT(Query("one", kT0), ElementsAre("one{} 2"));
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_rule_evaluation_failures_total{rule_group=\"rules.yml;g\"} 2\n"));
}

TEST_F(ManagerTest, DuplicateLabelSetsAfterRuleLabelsFail) {
  Write(Labels::Of({"__name__", "m", "i", "a"}), kT0, 1);
  Write(Labels::Of({"__name__", "m", "i", "b"}), kT0, 1);
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: m\n        labels: {i: same}\n");
  Eval(kT0);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).last_error,
            "vector contains metrics with the same labelset after applying rule labels");
}

TEST_F(ManagerTest, QueryOffsetShiftsQueriesAndSamples) {
  const Labels m = Labels::Of({"__name__", "m"});
  Write(m, kT0 - kMinute, 1);
  Write(m, kT0, 2);
  StartManager("groups:\n  - name: g\n    query_offset: 1m\n    rules:\n      - record: r\n        expr: m\n");
  Eval(kT0);
  EXPECT_THAT(Raw(Labels::Of({"__name__", "r"})), ElementsAre("-60=1"));
}

TEST_F(ManagerTest, GlobalQueryOffsetAppliesToGroupsWithoutOne) {
  const Labels m = Labels::Of({"__name__", "m"});
  Write(m, kT0 - kMinute, 1);
  Write(m, kT0, 2);
  ManagerOptions o;
  o.query_offset = std::chrono::minutes(1);
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: m\n", o);
  Eval(kT0);
  EXPECT_THAT(Raw(Labels::Of({"__name__", "r"})), ElementsAre("-60=1"));
}

constexpr std::string_view kUpRule = R"(groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.job }} is down"}
)";

TEST_F(ManagerTest, AlertGoesPendingThenFiringThenResolved) {
  ManagerOptions o;
  o.external_url = "http://tyto:9800";
  o.external_labels = {{"cluster", "eu"}};
  StartManager(std::string(kUpRule), o);
  const Labels up = Labels::Of({"__name__", "up", "job", "api"});
  const Labels pending = Labels::Of({"__name__", "ALERTS", "alertname", "Down", "alertstate", "pending", "job", "api", "severity", "page"});
  const Labels firing = Labels::Of({"__name__", "ALERTS", "alertname", "Down", "alertstate", "firing", "job", "api", "severity", "page"});
  const Labels for_state = Labels::Of({"__name__", "ALERTS_FOR_STATE", "alertname", "Down", "job", "api", "severity", "page"});

  Write(up, kT0, 0);
  Eval(kT0);
  auto groups = manager_->Groups();
  const api::Rule& r0 = RuleAt(groups, 0, 0);
  EXPECT_EQ(r0.state, "pending");
  EXPECT_EQ(r0.duration_seconds, 120);
  ASSERT_EQ(r0.alerts.size(), 1u);
  EXPECT_EQ(r0.alerts[0].state, "pending");
  EXPECT_EQ(r0.alerts[0].active_at_ms, kT0);
  EXPECT_EQ(r0.alerts[0].labels.ToString(), R"({alertname="Down", job="api", severity="page"})");
  EXPECT_EQ(r0.alerts[0].annotations.ToString(), R"({summary="api is down"})");
  EXPECT_TRUE(receiver_.Take().empty());  // pending alerts are not sent
  EXPECT_TRUE(manager_->ActiveAlerts().empty());

  Write(up, kT0 + kMinute, 0);
  Eval(kT0 + kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).state, "pending");

  Write(up, kT0 + 2 * kMinute, 0);
  Eval(kT0 + 2 * kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).state, "firing");
  auto sent = receiver_.Take();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_EQ(sent[0].size(), 1u);
  const alertmanager::Alert& a = sent[0][0];
  EXPECT_EQ(alertmanager::LabelSetToString(a.labels), R"({alertname="Down", cluster="eu", job="api", severity="page"})");
  EXPECT_EQ(a.annotations.at("summary"), "api is down");
  EXPECT_EQ(a.starts_at_ms, kT0 + 2 * kMinute);
  EXPECT_EQ(a.ends_at_ms, kT0 + 2 * kMinute + 4 * kMinute);
  EXPECT_EQ(a.generator_url, "http://tyto:9800/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
  auto active = manager_->ActiveAlerts();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].labels.at("cluster"), "eu");
  EXPECT_EQ(active[0].ends_at_ms, 0);

  Write(up, kT0 + 3 * kMinute, 1);
  Eval(kT0 + 3 * kMinute);
  groups = manager_->Groups();
  EXPECT_EQ(RuleAt(groups, 0, 0).state, "inactive");
  EXPECT_THAT(RuleAt(groups, 0, 0).alerts, IsEmpty());
  sent = receiver_.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0][0].ends_at_ms, kT0 + 3 * kMinute);
  EXPECT_EQ(sent[0][0].starts_at_ms, kT0 + 2 * kMinute);

  EXPECT_THAT(Raw(pending), ElementsAre("0=1", "60=1", "120=stale"));
  EXPECT_THAT(Raw(firing), ElementsAre("120=1", "180=stale"));
  const std::string active_at = instrumentation::FormatValue(static_cast<double>(kT0 / 1000));
  EXPECT_THAT(Raw(for_state), ElementsAre("0=" + active_at, "60=" + active_at, "120=" + active_at, "180=stale"));
}

TEST_F(ManagerTest, PendingAlertThatClearsIsForgottenUnsent) {
  StartManager(std::string(kUpRule));
  const Labels up = Labels::Of({"__name__", "up", "job", "api"});
  Write(up, kT0, 0);
  Eval(kT0);
  Write(up, kT0 + kMinute, 1);
  Eval(kT0 + kMinute);
  EXPECT_THAT(RuleAt(manager_->Groups(), 0, 0).alerts, IsEmpty());
  EXPECT_TRUE(receiver_.Take().empty());
  // It starts over when it comes back.
  Write(up, kT0 + 2 * kMinute, 0);
  Eval(kT0 + 2 * kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).alerts.at(0).active_at_ms, kT0 + 2 * kMinute);
}

TEST_F(ManagerTest, KeepFiringForHoldsAResolvedAlert) {
  StartManager(R"(groups:
  - name: g
    rules:
      - alert: Hot
        expr: temp > 80
        keep_firing_for: 2m
)");
  const Labels temp = Labels::Of({"__name__", "temp"});
  Write(temp, kT0, 90);
  Eval(kT0);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).state, "firing");  // no `for`: fires at once
  Write(temp, kT0 + kMinute, 70);
  Eval(kT0 + kMinute);
  auto r = RuleAt(manager_->Groups(), 0, 0);
  EXPECT_EQ(r.state, "firing");
  EXPECT_EQ(r.keep_firing_for_seconds, 120);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].keep_firing_since_ms, kT0 + kMinute);
  Write(temp, kT0 + 2 * kMinute, 70);
  Eval(kT0 + 2 * kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).state, "firing");
  Write(temp, kT0 + 3 * kMinute, 70);
  Eval(kT0 + 3 * kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).state, "inactive");
  // Firing again resets keep_firing_since.
  Write(temp, kT0 + 4 * kMinute, 95);
  Eval(kT0 + 4 * kMinute);
  r = RuleAt(manager_->Groups(), 0, 0);
  ASSERT_EQ(r.alerts.size(), 1u);
  EXPECT_EQ(r.alerts[0].keep_firing_since_ms, 0);
  EXPECT_EQ(r.alerts[0].active_at_ms, kT0 + 4 * kMinute);
}

TEST_F(ManagerTest, TemplatesSeeLabelsValueExternalDataAndQuery) {
  ManagerOptions o;
  o.external_url = "http://tyto";
  o.external_labels = {{"cluster", "eu"}};
  StartManager(R"y(groups:
  - name: g
    labels: {team: "{{ $labels.job }}-team"}
    rules:
      - alert: Busy
        expr: reqs > 100
        labels:
          severity: '{{ if gt $value 1000000.0 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: '{{ $labels.job }} at {{ $value | humanize }} in {{ $externalLabels.cluster }}'
          link: '{{ $externalURL }}/x'
          total: '{{ with query "sum(reqs)" }}{{ . | first | value | humanize }}{{ end }}'
          broken: '{{ query "sum(" }}'
)y",
               o);
  Write(Labels::Of({"__name__", "reqs", "job", "api"}), kT0, 1234567);
  Write(Labels::Of({"__name__", "reqs", "job", "web"}), kT0, 200);
  Eval(kT0);
  const api::Rule r = RuleAt(manager_->Groups(), 0, 0);
  ASSERT_EQ(r.alerts.size(), 2u);
  EXPECT_EQ(r.alerts[0].labels.ToString(), R"({alertname="Busy", job="api", severity="page", team="api-team"})");
  EXPECT_EQ(r.alerts[1].labels.ToString(), R"({alertname="Busy", job="web", severity="ticket", team="web-team"})");
  const Labels& ann = r.alerts[0].annotations;
  EXPECT_EQ(ann.Get("summary"), "api at 1.235M in eu");
  EXPECT_EQ(ann.Get("link"), "http://tyto/x");
  EXPECT_EQ(ann.Get("total"), "1.235M");
  EXPECT_THAT(std::string(ann.Get("broken")), HasSubstr("<error expanding template: "));
  EXPECT_EQ(r.alerts[1].value, 200);
}

TEST_F(ManagerTest, AlertsAreResentAndResolvedOnesKeptFifteenMinutes) {
  StartManager("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x > 0\n");
  const Labels x = Labels::Of({"__name__", "x"});
  std::vector<int64_t> sent_at;
  std::vector<int64_t> ends;
  auto step = [&](int minute, double v) {
    Write(x, kT0 + minute * kMinute, v);
    Eval(kT0 + minute * kMinute);
    for (const auto& batch : receiver_.Take()) {
      for (const auto& a : batch) {
        sent_at.push_back(minute);
        ends.push_back((a.ends_at_ms - kT0) / kMinute);
      }
    }
  };
  for (int m = 0; m <= 4; ++m) step(m, 1);  // firing from 0
  for (int m = 5; m <= 22; ++m) step(m, 0);  // resolved at 5
  // Firing: sent at 0, then whenever the last send is more than resend_delay (1m) old, with
  // ends_at 4 intervals ahead. Resolved: at once, then again every 2 minutes while kept (15m).
  EXPECT_THAT(sent_at, ElementsAre(0, 2, 4, 5, 7, 9, 11, 13, 15, 17, 19));
  EXPECT_THAT(ends, ElementsAre(4, 6, 8, 5, 5, 5, 5, 5, 5, 5, 5));
}

TEST_F(ManagerTest, EnrichIsCalledOnceWhenAnAlertFires) {
  std::atomic<int> calls{0};
  ManagerOptions o;
  o.enrich = [&calls](const alertmanager::LabelSet& labels, int64_t active_at, alertmanager::LabelSet* annotations) {
    ++calls;
    (*annotations)["correlated"] = labels.at("alertname") + "@" + std::to_string(active_at);
    (*annotations)["summary"] = "loses to the rule's own";
  };
  StartManager(R"(groups:
  - name: g
    rules:
      - alert: A
        expr: x > 0
        for: 1m
        annotations: {summary: mine}
)",
               o);
  const Labels x = Labels::Of({"__name__", "x"});
  for (int m = 0; m <= 3; ++m) {
    Write(x, kT0 + m * kMinute, 1);
    Eval(kT0 + m * kMinute);
  }
  EXPECT_EQ(calls.load(), 1);
  auto sent = receiver_.Take();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0][0].annotations.at("correlated"), "A@" + std::to_string(kT0));
  EXPECT_EQ(sent[0][0].annotations.at("summary"), "mine");
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).alerts.at(0).annotations.Get("correlated"), "A@" + std::to_string(kT0));
}

TEST_F(ManagerTest, ReloadKeepsAlertStateAndMarksRemovedRulesStale) {
  const std::string before = R"(groups:
  - name: g
    rules:
      - record: gone
        expr: vector(1)
      - alert: A
        expr: x > 0
        for: 5m
)";
  StartManager(before);
  const Labels x = Labels::Of({"__name__", "x"});
  Write(x, kT0, 1);
  Eval(kT0);
  ASSERT_EQ(RuleAt(manager_->Groups(), 0, 1).alerts.size(), 1u);
  ASSERT_TRUE(Load(R"(groups:
  - name: g
    rules:
      - alert: A
        expr: x > 0.5
        for: 5m
      - record: new
        expr: vector(2)
)")
                  .ok());
  auto groups = manager_->Groups();
  const api::Rule& a = RuleAt(groups, 0, 0);
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_EQ(a.alerts[0].active_at_ms, kT0);
  EXPECT_EQ(a.health, "ok");
  EXPECT_EQ(RuleAt(groups, 0, 1).health, "unknown");
  EXPECT_EQ(groups[0].last_evaluation_ms, kT0);

  Write(x, kT0 + kMinute, 1);
  Eval(kT0 + kMinute);
  EXPECT_EQ(RuleAt(manager_->Groups(), 0, 0).alerts.at(0).active_at_ms, kT0);
  EXPECT_THAT(Raw(Labels::Of({"__name__", "gone"})), ElementsAre("0=1", "60=stale"));
  EXPECT_THAT(Raw(Labels::Of({"__name__", "new"})), ElementsAre("60=2"));
}

TEST_F(ManagerTest, RemovedGroupSeriesGoStaleTwoIntervalsLater) {
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n");
  Eval(kT0);
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(Load("groups: []\n").ok());
  EXPECT_TRUE(manager_->Groups().empty());
  const Labels r = Labels::Of({"__name__", "r"});
  clock_.Advance(std::chrono::minutes(1));
  manager_->RunDueGroups();
  EXPECT_THAT(Raw(r), ElementsAre("0=1"));
  clock_.Advance(std::chrono::minutes(1));
  manager_->RunDueGroups();
  // Marked at the time the group was removed.
  EXPECT_THAT(Raw(r), ElementsAre("0=1", "30=stale"));
}

TEST_F(ManagerTest, GroupsOfALaterUpdateAreNotRestoredButEmitAtOnce) {
  StartManager("groups: []\n");
  ASSERT_TRUE(Load("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: vector(1)\n        for: 1h\n").ok());
  Eval(kT0);
  EXPECT_THAT(Query("ALERTS", kT0), ElementsAre(R"(ALERTS{alertname="A", alertstate="pending"} 1)"));
}

TEST_F(ManagerTest, ScheduleCountsMissedIterationsAndLag) {
  StartManager("groups:\n  - name: g\n    interval: 10s\n    rules:\n      - record: r\n        expr: vector(1)\n");
  // The first call only schedules: the first slot is the next one after now.
  EXPECT_EQ(manager_->RunDueGroups(), 0);
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_EQ(manager_->RunDueGroups(), 1);
  EXPECT_EQ(manager_->RunDueGroups(), 0);
  std::vector<Sample> samples = RawSamples(Labels::Of({"__name__", "r"}));
  ASSERT_EQ(samples.size(), 1u);
  const int64_t first = samples[0].t;  // the slot: kT0 < first <= kT0 + 10 s
  EXPECT_GT(first, kT0);
  EXPECT_LE(first, kT0 + 10'000);
  // 34 s after the first slot: those at +10 s and +20 s were missed; the group runs at the
  // +30 s slot, 4 s late.
  clock_.SetMillis(first + 34'000);
  EXPECT_EQ(manager_->RunDueGroups(), 1);
  samples = RawSamples(Labels::Of({"__name__", "r"}));
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[1].t, first + 30'000);
  EXPECT_EQ(manager_->Groups()[0].last_evaluation_ms, first + 34'000);
  const std::string metrics = registry_->Expose();
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_iterations_total{rule_group=\"rules.yml;g\"} 4\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_iterations_missed_total{rule_group=\"rules.yml;g\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_evaluations_total{rule_group=\"rules.yml;g\"} 2\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_evaluation_failures_total{rule_group=\"rules.yml;g\"} 0\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_interval_seconds{rule_group=\"rules.yml;g\"} 10\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_rules{rule_group=\"rules.yml;g\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_last_evaluation_samples{rule_group=\"rules.yml;g\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_last_evaluation_lag_seconds{rule_group=\"rules.yml;g\"} 4\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_last_duration_seconds{rule_group=\"rules.yml;g\"} 0\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_evaluation_duration_seconds_count 2\n"));
  EXPECT_THAT(metrics, HasSubstr("tyto_rule_group_last_evaluation_timestamp_seconds{rule_group=\"rules.yml;g\"} " +
                                     instrumentation::FormatValue(static_cast<double>(first + 34'000) / 1000) + "\n"));
}

TEST_F(ManagerTest, RemovedGroupsLoseTheirMetricSeriesWhereTheRegistryCan) {
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n");
  Eval(kT0);
  EXPECT_THAT(registry_->Expose(), HasSubstr("rule_group=\"rules.yml;g\""));
  ASSERT_TRUE(Load("groups:\n  - name: h\n    rules:\n      - record: r\n        expr: vector(1)\n").ok());
  if constexpr (!kHasRemove<instrumentation::Family<instrumentation::Gauge>>) {
    GTEST_SKIP() << "instrumentation::Family has no Remove yet";
  } else {
    EXPECT_THAT(registry_->Expose(), Not(HasSubstr("rule_group=\"rules.yml;g\"")));
  }
}

TEST_F(ManagerTest, GroupsAreOrderedByFileThenAsWritten) {
  StartManager("groups: []\n");
  std::vector<RuleFile> files;
  for (const char* name : {"b.yml", "a.yml"}) {
    auto f = ParseRuleFile("groups:\n  - name: z\n    rules: []\n  - name: y\n    rules: []\n", name);
    ASSERT_TRUE(f.ok());
    files.push_back(std::move(f).value());
  }
  ASSERT_TRUE(manager_->Update(std::move(files)).ok());
  std::vector<std::string> order;
  for (const auto& g : manager_->Groups()) order.push_back(g.file + "/" + g.name);
  EXPECT_THAT(order, ElementsAre("a.yml/z", "a.yml/y", "b.yml/z", "b.yml/y"));
}

// A group label that is not a valid template is refused by the parser, with its place, so a
// reload (and `tyto check rules`) stops before the manager sees the file.
TEST_F(ManagerTest, BadGroupLabelTemplateIsRefusedBeforeTheManager) {
  StartManager("groups: []\n");
  Result<RuleFile> f = ParseRuleFile(R"(groups:
  - name: g
    labels: {team: "{{ nope"}
    rules:
      - alert: A
        expr: vector(1)
)",
                                     "rules.yml");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message().rfind("rules.yml:3:20: invalid template in group label 'team': ", 0), 0u)
      << f.status().message();
  EXPECT_TRUE(manager_->Groups().empty());
}

// A group of 1,000 simple rules (the scale docs/rules.md promises to keep cheap): every rule
// writes its series in one iteration.
TEST_F(ManagerTest, ThousandRulesInOneGroup) {
  std::string yaml = "groups:\n  - name: g\n    rules:\n";
  for (int i = 0; i < 1000; ++i) {
    yaml += "      - record: r" + std::to_string(i) + "\n        expr: sum(m) + " + std::to_string(i) + "\n";
  }
  Write(Labels::Of({"__name__", "m"}), kT0, 1);
  StartManager(yaml);
  const auto start = std::chrono::steady_clock::now();
  Eval(kT0);
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("1000 rules evaluated in %.3f s\n", took);
  EXPECT_THAT(Query("r999", kT0), ElementsAre("r999{} 1000"));
  EXPECT_THAT(registry_->Expose(), HasSubstr("tyto_rule_group_last_evaluation_samples{rule_group=\"rules.yml;g\"} 1000\n"));
}

TEST_F(ManagerTest, MayEvaluateSkipsSlotsWhileFalse) {
  std::atomic<bool> allowed{false};
  ManagerOptions o;
  std::vector<std::string> asked;
  o.may_evaluate = [&](const std::string& file, const std::string& group) {
    asked.push_back(file + ";" + group);
    return allowed.load();
  };
  StartManager("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n", o);
  EXPECT_EQ(manager_->RunDueGroups(), 0);  // schedules only
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(manager_->RunDueGroups(), 0);  // due, but skipped
  EXPECT_THAT(asked, ElementsAre("rules.yml;g"));
  EXPECT_TRUE(RawSamples(Labels::Of({"__name__", "r"})).empty());
  allowed = true;
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_EQ(manager_->RunDueGroups(), 1);
  EXPECT_EQ(RawSamples(Labels::Of({"__name__", "r"})).size(), 1u);
}

// Two servers over one storage, each group evaluated by the holder only: the survivor restores
// a pending alert's `for` from ALERTS_FOR_STATE; the server that stopped evaluating forgets it.
TEST_F(ManagerTest, GroupMovesToAnotherServerAndRestoresForState) {
  std::string holder = "a";
  auto options = [&](const std::string& node) {
    ManagerOptions o;
    o.may_evaluate = [&holder, node](const std::string&, const std::string&) { return holder == node; };
    return o;
  };
  const std::string yaml = "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: lat > 1\n"
                           "        for: 30m\n";
  StartManager(yaml, options("a"));
  instrumentation::Registry registry_b;
  RecordingReceiver receiver_b;
  Manager b(engine_.get(), db_.get(), &clock_, &registry_b, &receiver_b, options("b"));
  {
    Result<RuleFile> f = ParseRuleFile(yaml, "rules.yml");
    ASSERT_TRUE(f.ok());
    std::vector<RuleFile> files;
    files.push_back(std::move(f).value());
    ASSERT_TRUE(b.Update(std::move(files)).ok());
  }
  const Labels lat = Labels::Of({"__name__", "lat"});
  auto step = [&](int expect_a, int expect_b) {
    clock_.Advance(std::chrono::minutes(1));
    Write(lat, clock_.NowMillis() - 30'000, 2);
    Write(lat, clock_.NowMillis(), 2);
    EXPECT_EQ(manager_->RunDueGroups(), expect_a);
    EXPECT_EQ(b.RunDueGroups(), expect_b);
  };
  auto alerts_of = [&](const Manager& m) { return RuleAt(m.Groups(), 0, 0).alerts; };
  EXPECT_EQ(manager_->RunDueGroups(), 0);
  EXPECT_EQ(b.RunDueGroups(), 0);
  for (int i = 0; i < 20; ++i) step(1, 0);
  ASSERT_EQ(alerts_of(*manager_).size(), 1u);
  const int64_t active_at = alerts_of(*manager_)[0].active_at_ms;
  EXPECT_EQ(alerts_of(*manager_)[0].state, "pending");
  EXPECT_TRUE(alerts_of(b).empty());
  // a stops evaluating (its lease went to b). 19 of 30 minutes were spent pending when a last
  // wrote ALERTS_FOR_STATE; b restores that, and the one minute without an evaluation does not count.
  holder = "b";
  step(0, 1);
  ASSERT_EQ(alerts_of(b).size(), 1u);
  EXPECT_EQ(alerts_of(b)[0].state, "pending");
  EXPECT_EQ(alerts_of(b)[0].active_at_ms, active_at + kMinute);
  EXPECT_TRUE(alerts_of(*manager_).empty());
  EXPECT_TRUE(manager_->ActiveAlerts().empty());
  // b fires it 30 minutes after the restored active_at (11 minutes after it took over), not 30
  // minutes after it took over.
  for (int i = 0; i < 10; ++i) step(0, 1);
  EXPECT_EQ(alerts_of(b)[0].state, "pending");
  step(0, 1);
  EXPECT_EQ(alerts_of(b)[0].state, "firing");
  EXPECT_EQ(b.ActiveAlerts().size(), 1u);
  EXPECT_TRUE(receiver_.Take().empty());  // a never sent it
  EXPECT_FALSE(receiver_b.Take().empty());
  // Back to a: it restores from what b wrote and fires at once (it was firing).
  holder = "a";
  step(1, 0);
  ASSERT_EQ(alerts_of(*manager_).size(), 1u);
  EXPECT_EQ(alerts_of(*manager_)[0].state, "firing");
  EXPECT_TRUE(alerts_of(b).empty());
  b.Stop();
}

// Group g: a recording rule r and an alert A, every second. The threads test starts with it
// (and a group h) and reloads it back and forth.
constexpr char kGroupG[] = R"(groups:
  - name: g
    interval: 1s
    rules:
      - record: r
        expr: vector(1)
      - alert: A
        expr: vector(1)
)";

// The evaluation threads against reloads and readers (run under ThreadSanitizer too).
TEST_F(ManagerTest, ThreadsEvaluateOnScheduleAndStopPromptly) {
  ManagerOptions o;
  o.evaluation_threads = 3;
  StartManager(std::string(kGroupG) + R"(  - name: h
    interval: 2s
    rules:
      - record: s
        expr: vector(2)
)",
               o);
  manager_->Start();
  manager_->Start();  // idempotent
  auto iterations = [&] {
    const std::string m = registry_->Expose();
    const std::string key = "tyto_rule_group_iterations_total{rule_group=\"rules.yml;g\"} ";
    const size_t at = m.find(key);
    return at == std::string::npos ? 0.0 : std::stod(m.substr(at + key.size()));
  };
  // Time moves only when the test says so; the threads notice within their wait bound.
  for (int i = 0; i < 2000 && (iterations() < 5 || manager_->ActiveAlerts().empty()); ++i) {
    clock_.Advance(std::chrono::milliseconds(500));
    (void)manager_->Groups();
    (void)manager_->ActiveAlerts();
    if (i % 3 == 0) {
      ASSERT_TRUE(Load(i % 2 == 0 ? kGroupG
                                                 : R"(groups:
  - name: g
    interval: 1s
    rules:
      - alert: A
        expr: vector(1)
)")
                                .ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(iterations(), 5);
  manager_->Stop();
  manager_->Stop();
  EXPECT_FALSE(manager_->ActiveAlerts().empty());
}

}  // namespace
}  // namespace tyto::rules
