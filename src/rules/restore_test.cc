// Alert state across a restart: the tsdb is closed and reopened in the same directory and a
// new manager restores active_at from ALERTS_FOR_STATE, as Prometheus does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/engine_test_util.h"

namespace tyto::rules {
namespace {

class RestoreTest : public RulesFixture {
 protected:
  // Evaluates minutes [from, to] with lat = `value` written at each.
  void Run(int from, int to, double value = 2) {
    for (int m = from; m <= to; ++m) {
      clock_.SetMillis(kT0 + m * kMinute);
      Write(lat_, kT0 + m * kMinute, value);
      Eval(kT0 + m * kMinute);
    }
  }
  // Closes everything and opens the tsdb again, then a new manager with the same rule.
  void Restart(const std::string& rule_for, ManagerOptions options = {}) {
    OpenDB();
    StartManager(Rule(rule_for), std::move(options));
  }
  static std::string Rule(const std::string& rule_for) {
    return "groups:\n  - name: g\n    rules:\n      - alert: Slow\n        expr: lat > 1\n        for: " + rule_for + "\n";
  }
  api::ActiveAlert Alert() {
    const auto groups = manager_->Groups();
    const api::Rule& r = RuleAt(groups, 0, 0);
    if (r.alerts.size() != 1) {
      ADD_FAILURE() << r.alerts.size() << " alerts";
      return {};
    }
    return r.alerts[0];
  }

  const Labels lat_ = Labels::Of({"__name__", "lat"});
};

TEST_F(RestoreTest, PendingAlertKeepsItsPendingTimeButNotTheOutage) {
  StartManager(Rule("30m"));
  Run(0, 20);
  EXPECT_EQ(Alert().state, "pending");
  Restart("30m");
  // Down from minute 20 to 25: 20 of 30 minutes were spent pending, 10 remain (not less
  // than the grace period), so active_at moves forward by the 5 minutes of outage.
  Run(25, 25);
  EXPECT_EQ(Alert().active_at_ms, kT0 + 5 * kMinute);
  EXPECT_EQ(Alert().state, "pending");
  Run(26, 34);
  EXPECT_EQ(Alert().state, "pending");
  Run(35, 35);
  EXPECT_EQ(Alert().state, "firing");
  // ALERTS_FOR_STATE carries the restored time on.
  EXPECT_THAT(Query("ALERTS_FOR_STATE", kT0 + 35 * kMinute),
              ::testing::ElementsAre("ALERTS_FOR_STATE{alertname=\"Slow\"} " +
                                     instrumentation::FormatValue(static_cast<double>((kT0 + 5 * kMinute) / 1000))));
}

TEST_F(RestoreTest, FiringAlertFiresAgainAtOnce) {
  StartManager(Rule("15m"));
  Run(0, 20);
  EXPECT_EQ(Alert().state, "firing");
  receiver_.Take();
  Restart("15m");
  Run(30, 30);
  EXPECT_EQ(Alert().state, "firing");
  EXPECT_EQ(Alert().active_at_ms, kT0);
  auto sent = receiver_.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0][0].starts_at_ms, kT0 + 30 * kMinute);
}

TEST_F(RestoreTest, AlertAboutToFireWaitsTheGracePeriod) {
  StartManager(Rule("15m"));
  Run(0, 10);
  Restart("15m");
  // 5 minutes remained, less than the 10-minute grace period: it fires 10 minutes after the
  // restart, at minute 22.
  Run(12, 12);
  EXPECT_EQ(Alert().active_at_ms, kT0 + 7 * kMinute);
  Run(13, 21);
  EXPECT_EQ(Alert().state, "pending");
  Run(22, 22);
  EXPECT_EQ(Alert().state, "firing");
}

TEST_F(RestoreTest, NothingIsRestoredAfterTheOutageTolerance) {
  StartManager(Rule("30m"));
  Run(0, 20);
  ManagerOptions o;
  o.outage_tolerance = std::chrono::minutes(10);
  Restart("30m", o);
  Run(40, 40);
  EXPECT_EQ(Alert().active_at_ms, kT0 + 40 * kMinute);
}

TEST_F(RestoreTest, ForShorterThanTheGracePeriodStartsOver) {
  StartManager(Rule("5m"));
  Run(0, 3);
  Restart("5m");
  Run(4, 4);
  EXPECT_EQ(Alert().active_at_ms, kT0 + 4 * kMinute);
}

TEST_F(RestoreTest, AlertThatEndedBeforeTheRestartIsNotRestored) {
  StartManager(Rule("30m"));
  Run(0, 5);
  Run(6, 6, 0);  // resolved: ALERTS_FOR_STATE gets a staleness marker
  Restart("30m");
  Run(8, 8);
  EXPECT_EQ(Alert().active_at_ms, kT0 + 8 * kMinute);
}

}  // namespace
}  // namespace tyto::rules
