#include "alertmanager/inhibit.h"

#include <gtest/gtest.h>

#include "alertmanager/alert.h"

namespace tyto::alertmanager {
namespace {

std::vector<InhibitRule> Rules(std::string_view yaml_rules) {
  std::string text = "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules:\n" + std::string(yaml_rules);
  auto c = ParseConfig(text);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? c->inhibit_rules : std::vector<InhibitRule>{};
}

// configuration.md "<inhibit_rule>" example: a critical alert mutes the warning with the same
// alertname.
TEST(Inhibitor, CriticalMutesWarningWithEqualLabels) {
  Inhibitor ih(Rules("- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"warning\"]\n"
                     "  equal: [alertname]\n"));
  ih.SetFiring({{{"alertname", "HighLatency"}, {"severity", "critical"}}});
  size_t rule = 99;
  EXPECT_TRUE(ih.Inhibited({{"alertname", "HighLatency"}, {"severity", "warning"}}, &rule));
  EXPECT_EQ(rule, 0u);
  EXPECT_FALSE(ih.Inhibited({{"alertname", "Other"}, {"severity", "warning"}}));
  EXPECT_FALSE(ih.Inhibited({{"alertname", "HighLatency"}, {"severity", "info"}}));
  // The critical alert does not match the target side.
  EXPECT_FALSE(ih.Inhibited({{"alertname", "HighLatency"}, {"severity", "critical"}}));
  ih.SetFiring({});
  EXPECT_FALSE(ih.Inhibited({{"alertname", "HighLatency"}, {"severity", "warning"}}));
}

TEST(Inhibitor, AbsentEqualLabelsAreEqual) {
  Inhibitor ih(Rules("- source_match: {severity: critical}\n  target_match: {severity: warning}\n"
                     "  equal: [cluster]\n"));
  ih.SetFiring({{{"severity", "critical"}}});
  EXPECT_TRUE(ih.Inhibited({{"severity", "warning"}}));
  EXPECT_FALSE(ih.Inhibited({{"severity", "warning"}, {"cluster", "eu"}}));
}

// Inhibition stays within a tenant (alert.h): another tenant's critical alert mutes nothing.
TEST(Inhibitor, OnlyWithinATenant) {
  Inhibitor ih(Rules("- source_matchers: [severity=\"critical\"]\n  target_matchers: [severity=\"warning\"]\n"));
  ih.SetFiring({{{"severity", "critical"}, {kTenantLabel, "acme"}}});
  EXPECT_TRUE(ih.Inhibited({{"severity", "warning"}, {kTenantLabel, "acme"}}));
  EXPECT_FALSE(ih.Inhibited({{"severity", "warning"}, {kTenantLabel, "beta"}}));
  EXPECT_FALSE(ih.Inhibited({{"severity", "warning"}}));
}

// An alert matching both sides neither mutes itself nor is muted by another two-sided alert,
// but a one-sided source still mutes it.
TEST(Inhibitor, TwoSidedAlertsDoNotMuteEachOther) {
  Inhibitor ih(Rules("- source_matchers: [team=\"db\"]\n  target_matchers: ['severity=~\"warning|critical\"']\n"));
  LabelSet both_a{{"team", "db"}, {"severity", "warning"}, {"alertname", "A"}};
  LabelSet both_b{{"team", "db"}, {"severity", "critical"}, {"alertname", "B"}};
  ih.SetFiring({both_a, both_b});
  EXPECT_FALSE(ih.Inhibited(both_a));
  EXPECT_FALSE(ih.Inhibited(both_b));
  EXPECT_TRUE(ih.Inhibited({{"team", "web"}, {"severity", "warning"}}));
  ih.SetFiring({both_a, both_b, {{"team", "db"}, {"severity", "info"}}});
  EXPECT_TRUE(ih.Inhibited(both_a));
}

}  // namespace
}  // namespace tyto::alertmanager
