#include "alertmanager/route.h"

#include <gtest/gtest.h>

#include "alertmanager/alert.h"

namespace tyto::alertmanager {
namespace {

using namespace std::chrono_literals;

// Equivalent of the routing example in Alertmanager's configuration.md ("<route>", Example):
// a root with defaults, a database pager with a shorter group_wait, a frontend route grouping
// by other labels, and two routes for one service, the first with `continue: true`.
constexpr std::string_view kTree = R"(
route:
  receiver: default-receiver
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  group_by: [cluster, alertname]
  routes:
  - receiver: database-pager
    group_wait: 10s
    matchers: ['service=~"mysql|cassandra"']
  - receiver: frontend-pager
    group_by: [product, environment]
    matchers: [team="frontend"]
  - receiver: dev-pager
    matchers: [service="inhouse-service"]
    mute_time_intervals: [offhours]
    continue: true
  - receiver: on-call-pager
    matchers: [service="inhouse-service"]
    active_time_intervals: [offhours]
    routes:
    - matchers: [severity="page"]
      group_by: ['...']
receivers:
- name: default-receiver
- name: database-pager
- name: frontend-pager
- name: dev-pager
- name: on-call-pager
time_intervals:
- name: offhours
  time_intervals:
  - times: [{start_time: '18:00', end_time: '24:00'}]
)";

class RouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseConfig(kTree);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    root_ = Route::Build(c->route);
  }
  std::vector<std::string> Receivers(const LabelSet& alert) {
    std::vector<std::string> out;
    for (const Route* r : root_->Match(alert)) out.push_back(r->options().receiver);
    return out;
  }
  std::unique_ptr<Route> root_;
};

TEST_F(RouteTest, UnmatchedAlertsStayAtTheRoot) {
  LabelSet alert{{"alertname", "DiskFull"}, {"cluster", "eu1"}, {"service", "nginx"}};
  auto matches = root_->Match(alert);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0], root_.get());
  EXPECT_EQ(matches[0]->options().group_wait, 30s);
  EXPECT_EQ(root_->Key(), "{}");
  EXPECT_EQ(root_->GroupKey(alert), R"({}:{alertname="DiskFull", cluster="eu1"})");
}

// The tenant label is always a group label (and routes can match it), so that two tenants'
// alerts never share a group; the default tenant's keys are as before tenants.
TEST_F(RouteTest, GroupsKeepTheTenant) {
  LabelSet alert{{"alertname", "DiskFull"}, {"cluster", "eu1"}, {"service", "nginx"}};
  LabelSet acme = alert;
  SetAlertTenant(&acme, "acme");
  EXPECT_EQ(root_->GroupKey(acme), R"({}:{__tenant__="acme", alertname="DiskFull", cluster="eu1"})");
  EXPECT_NE(root_->GroupKey(acme), root_->GroupKey(alert));
  EXPECT_EQ(AlertTenant(acme), "acme");
  EXPECT_EQ(AlertTenant(alert), "default");
  EXPECT_EQ(WithoutTenant(acme), alert);
}

TEST_F(RouteTest, ChildrenInheritAndOverride) {
  LabelSet alert{{"alertname", "SlowQuery"}, {"cluster", "eu1"}, {"service", "mysql"}, {"x", "y"}};
  auto matches = root_->Match(alert);
  ASSERT_EQ(matches.size(), 1u);
  const RouteOptions& o = matches[0]->options();
  EXPECT_EQ(o.receiver, "database-pager");
  EXPECT_EQ(o.group_wait, 10s);
  EXPECT_EQ(o.group_interval, 5min);  // inherited
  EXPECT_EQ(o.repeat_interval, 4h);
  EXPECT_EQ(o.group_by, (std::vector<std::string>{"alertname", "cluster"}));
  EXPECT_EQ(matches[0]->Key(), R"({}/{service=~"mysql|cassandra"})");
  EXPECT_EQ(matches[0]->Id(), R"({}/{service=~"mysql|cassandra"}/0)");
  EXPECT_EQ(matches[0]->GroupKey(alert), R"({}/{service=~"mysql|cassandra"}:{alertname="SlowQuery", cluster="eu1"})");

  LabelSet frontend{{"alertname", "Errors"}, {"team", "frontend"}, {"product", "shop"}};
  matches = root_->Match(frontend);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0]->options().receiver, "frontend-pager");
  // The alert has no environment label: only product is a group label.
  EXPECT_EQ(matches[0]->GroupKey(frontend), R"({}/{team="frontend"}:{product="shop"})");
}

TEST_F(RouteTest, ContinueSendsToTheNextSiblingToo) {
  LabelSet alert{{"alertname", "Down"}, {"service", "inhouse-service"}};
  EXPECT_EQ(Receivers(alert), (std::vector<std::string>{"dev-pager", "on-call-pager"}));
  auto matches = root_->Match(alert);
  EXPECT_EQ(matches[0]->options().mute_time_intervals, std::vector<std::string>{"offhours"});
  EXPECT_TRUE(matches[0]->options().active_time_intervals.empty());
  EXPECT_EQ(matches[1]->options().active_time_intervals, std::vector<std::string>{"offhours"});
  // The same service also matching the database route's regex would stop there: the first
  // match without continue ends the search.
  EXPECT_EQ(Receivers({{"service", "mysql"}, {"team", "frontend"}}), std::vector<std::string>{"database-pager"});
}

TEST_F(RouteTest, DeepestMatchWinsAndIntervalsAreNotInherited) {
  LabelSet alert{{"alertname", "Down"}, {"service", "inhouse-service"}, {"severity", "page"}, {"zone", "a"}};
  auto matches = root_->Match(alert);
  ASSERT_EQ(matches.size(), 2u);
  const Route* deep = matches[1];
  EXPECT_EQ(deep->options().receiver, "on-call-pager");  // inherited from its parent
  EXPECT_TRUE(deep->options().active_time_intervals.empty());
  EXPECT_TRUE(deep->options().group_by_all);
  EXPECT_EQ(deep->Key(), R"({}/{service="inhouse-service"}/{severity="page"})");
  EXPECT_EQ(deep->Id(), R"({}/{service="inhouse-service"}/3/{severity="page"}/0)");
  EXPECT_EQ(deep->GroupKey(alert),
            R"({}/{service="inhouse-service"}/{severity="page"}:{alertname="Down", service="inhouse-service", severity="page", zone="a"})");
}

// configuration.md "<route>": mute_time_intervals hold a route back inside them,
// active_time_intervals outside them; neither is inherited by the child.
TEST_F(RouteTest, MutedAt) {
  auto c = ParseConfig(kTree);
  ASSERT_TRUE(c.ok());
  constexpr int64_t kEvening = 1'800'000'000'000 - 1'800'000'000'000 % 86'400'000 + 19 * 3'600'000;  // 19:00 UTC
  constexpr int64_t kNoon = kEvening - 7 * 3'600'000;
  auto matches = root_->Match({{"service", "inhouse-service"}, {"severity", "page"}});
  ASSERT_EQ(matches.size(), 2u);
  const RouteOptions& dev = matches[0]->options();  // mute_time_intervals: [offhours]
  EXPECT_TRUE(MutedAt(dev, *c, kEvening));
  EXPECT_FALSE(MutedAt(dev, *c, kNoon));
  const RouteOptions& on_call = root_->routes()[3]->options();  // active_time_intervals: [offhours]
  EXPECT_FALSE(MutedAt(on_call, *c, kEvening));
  EXPECT_TRUE(MutedAt(on_call, *c, kNoon));
  EXPECT_FALSE(MutedAt(matches[1]->options(), *c, kNoon));  // the child inherits neither
  EXPECT_FALSE(MutedAt(root_->options(), *c, kNoon));
}

TEST(Route, DefaultsAndSortedMatchers) {
  auto c = ParseConfig("route:\n  receiver: r\n  routes:\n  - matchers: ['b=1', 'a=~\"x\"']\n    match: {c: d}\n"
                       "receivers: [{name: r}]\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto root = Route::Build(c->route);
  EXPECT_EQ(root->options().group_wait, 30s);
  EXPECT_EQ(root->options().group_interval, 5min);
  EXPECT_EQ(root->options().repeat_interval, 4h);
  EXPECT_TRUE(root->options().group_by.empty());
  EXPECT_EQ(root->GroupKey({{"a", "b"}}), "{}:{}");
  EXPECT_EQ(root->routes()[0]->Key(), R"({}/{a=~"x",b="1",c="d"})");
}

}  // namespace
}  // namespace tyto::alertmanager
