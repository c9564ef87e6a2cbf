// Two rule managers (two servers) over one storage, each asking its GroupLeases before every
// evaluation: each group is evaluated by one of them, and moves to the survivor when its holder
// dies.
#include <gtest/gtest.h>

#include "cluster/group_leases.h"
#include "cluster/memory_kv.h"
#include "rules/engine_test_util.h"

namespace tyto::rules {
namespace {

using cluster::GroupLeases;
using cluster::MemoryKeyValue;

constexpr char kRules[] = R"(groups:
  - name: g1
    rules:
      - record: r1
        expr: vector(1)
  - name: g2
    rules:
      - record: r2
        expr: vector(2)
)";

class ClusteredRulesTest : public RulesFixture {};

TEST_F(ClusteredRulesTest, EachGroupOnceAndTakenOverAfterTheHolderDies) {
  MemoryKeyValue kv;
  auto leases_a = std::make_unique<GroupLeases>(&kv, &clock_, cluster::GroupLeasesOptions{"a", "", std::chrono::seconds(15)});
  GroupLeases leases_b(&kv, &clock_, {"b", "", std::chrono::seconds(15)});
  auto hook = [](GroupLeases* l) {
    ManagerOptions o;
    o.may_evaluate = [l](const std::string& f, const std::string& g) { return l->MayEvaluate(f, g); };
    return o;
  };
  StartManager(kRules, hook(leases_a.get()));
  instrumentation::Registry registry_b;
  RecordingReceiver receiver_b;
  Manager b(engine_.get(), db_.get(), &clock_, &registry_b, &receiver_b, hook(&leases_b));
  {
    Result<RuleFile> f = ParseRuleFile(kRules, "rules.yml");
    ASSERT_TRUE(f.ok());
    std::vector<RuleFile> files;
    files.push_back(std::move(f).value());
    ASSERT_TRUE(b.Update(std::move(files)).ok());
  }
  EXPECT_EQ(manager_->RunDueGroups() + b.RunDueGroups(), 0);  // schedules only
  // Ten minutes: every minute each group is evaluated exactly once, by a (which asked first).
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 12; ++j) {  // the background rounds, every TTL/3
      clock_.Advance(std::chrono::seconds(5));
      leases_a->Tick();
      leases_b.Tick();
    }
    EXPECT_EQ(manager_->RunDueGroups(), 2);
    EXPECT_EQ(b.RunDueGroups(), 0);
  }
  EXPECT_EQ(RawSamples(Labels::Of({"__name__", "r1"})).size(), 10u);
  EXPECT_EQ(RawSamples(Labels::Of({"__name__", "r2"})).size(), 10u);
  // a dies: no more renewals, no more evaluations. b's rounds take both groups once a's
  // leases expire (15 s after a's last renewal, plus a round of 5 s), then b evaluates them.
  manager_->Stop();
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(std::chrono::seconds(5));
    leases_b.Tick();
  }
  for (const auto& l : leases_b.Leases()) EXPECT_TRUE(l.held) << l.group;
  clock_.Advance(std::chrono::seconds(40));
  EXPECT_EQ(b.RunDueGroups(), 2);
  EXPECT_EQ(RawSamples(Labels::Of({"__name__", "r1"})).size(), 11u);
  b.Stop();
}

TEST_F(ClusteredRulesTest, CleanShutdownHandsGroupsOverAtOnce) {
  MemoryKeyValue kv;
  GroupLeases leases_a(&kv, &clock_, {"a", "", std::chrono::seconds(15)});
  GroupLeases leases_b(&kv, &clock_, {"b", "", std::chrono::seconds(15)});
  ASSERT_TRUE(leases_a.MayEvaluate("rules.yml", "g1"));
  EXPECT_FALSE(leases_b.MayEvaluate("rules.yml", "g1"));
  leases_a.Stop();  // after its rule manager stopped
  EXPECT_TRUE(leases_b.MayEvaluate("rules.yml", "g1"));
}

}  // namespace
}  // namespace tyto::rules
