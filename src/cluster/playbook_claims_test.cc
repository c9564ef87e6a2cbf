// Two playbook engines (two servers) sharing run claims through a MemoryKeyValue.
#include "cluster/playbook_claims.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "cluster/memory_kv.h"
#include "instrumentation/metrics.h"
#include "playbook/engine.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::cluster {
namespace {

using namespace std::chrono_literals;

alertmanager::Alert MakeAlert() {
  alertmanager::Alert a;
  a.labels = {{"alertname", "A"}, {"pod", "p-1"}};
  a.starts_at_ms = 1;
  return a;
}

class PlaybookClaimsTest : public ::testing::Test {
 protected:
  struct Server {
    std::unique_ptr<PlaybookClaims> claims;
    std::unique_ptr<instrumentation::Registry> registry;
    std::unique_ptr<playbook::Engine> engine;
  };
  Server Make(const std::string& node) {
    Server s;
    s.claims = std::make_unique<PlaybookClaims>(&kv_, &clock_, PlaybookClaimsOptions{node, 1h});
    s.registry = std::make_unique<instrumentation::Registry>();
    auto list = playbook::ParsePlaybookFile(
        "playbooks:\n  - name: restart\n    match: ['alertname=\"A\"']\n    cooldown: 10m\n    dry_run: true\n"
        "    steps: [{wait: 0s}]\n",
        "p.yml");
    EXPECT_TRUE(list.ok()) << list.status().message();
    playbook::EngineOptions o;
    o.data_dir = dir_.Path("playbooks-" + node);
    playbook::Hooks h;
    PlaybookClaims* c = s.claims.get();
    h.claim_run = [c](const std::string& p, const std::string& incident, const alertmanager::Alert& a,
                      std::chrono::milliseconds cooldown) { return c->Claim(p, incident, a, cooldown); };
    h.run_finished = [c](const std::string& p, const alertmanager::LabelSet& labels, std::chrono::milliseconds cooldown) {
      c->Finished(p, labels, cooldown);
    };
    s.engine = std::make_unique<playbook::Engine>(std::move(*list), o, &clock_, Env::Default(), s.registry.get(), h);
    EXPECT_TRUE(s.engine->Start().ok());
    return s;
  }
  static bool WaitIdle(Server& s) { return s.engine->WaitIdle(30s); }

  MemoryKeyValue kv_;
  testing::FakeClock clock_;
  testing::TempDir dir_;
};

TEST_F(PlaybookClaimsTest, TwoEnginesOneRun) {
  Server a = Make("a");
  Server b = Make("b");
  // Each server has its own incident for the same alert.
  auto da = a.engine->Trigger("inc-1", {MakeAlert()});
  auto db = b.engine->Trigger("inc-7", {MakeAlert()});
  ASSERT_EQ(da.size(), 1u);
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(da[0].skipped, "");
  EXPECT_EQ(db[0].skipped, "claimed_elsewhere");
  ASSERT_TRUE(WaitIdle(a));
  EXPECT_EQ(a.engine->Runs().size(), 1u);
  EXPECT_TRUE(b.engine->Runs().empty());
  // Triggered again while the claim holds (the run finished, the cooldown has not passed): b
  // still does not run it.
  clock_.Advance(5min);
  EXPECT_EQ(b.engine->Trigger("inc-7", {MakeAlert()})[0].skipped, "claimed_elsewhere");
  // After the cooldown, as on one server, it may run again: once.
  clock_.Advance(6min);
  auto db2 = b.engine->Trigger("inc-7", {MakeAlert()});
  auto da2 = a.engine->Trigger("inc-1", {MakeAlert()});
  EXPECT_EQ(db2[0].skipped, "");
  EXPECT_EQ(da2[0].skipped, "claimed_elsewhere");
  ASSERT_TRUE(WaitIdle(b));
  EXPECT_EQ(a.engine->Runs().size() + b.engine->Runs().size(), 2u);
  a.engine->Stop();
  b.engine->Stop();
}

TEST_F(PlaybookClaimsTest, ClaimRules) {
  PlaybookClaims a(&kv_, &clock_, {"a", 1h});
  PlaybookClaims b(&kv_, &clock_, {"b", 1h});
  const alertmanager::Alert alert = MakeAlert();
  EXPECT_TRUE(a.Claim("p", "1", alert, 10min));
  EXPECT_FALSE(b.Claim("p", "2", alert, 10min));
  // Another playbook, or another alert, is another claim.
  EXPECT_TRUE(b.Claim("q", "2", alert, 10min));
  alertmanager::Alert other = alert;
  other.labels["pod"] = "p-2";
  EXPECT_TRUE(b.Claim("p", "3", other, 10min));
  // a died mid-run: the claim holds for run_ttl, then b may run it.
  clock_.Advance(59min);
  EXPECT_FALSE(b.Claim("p", "2", alert, 10min));
  clock_.Advance(1min);
  EXPECT_TRUE(b.Claim("p", "2", alert, 10min));
  // a's late Finished does not touch b's claim.
  a.Finished("p", alert.labels, 0min);
  EXPECT_FALSE(a.Claim("p", "1", alert, 10min));
  // An unreachable store refuses.
  kv_.SetUnavailable(true);
  EXPECT_FALSE(a.Claim("z", "1", alert, 10min));
}

TEST_F(PlaybookClaimsTest, KeysAndRecords) {
  const std::string k = PlaybookClaims::Key("p", {{"a", "b"}});
  EXPECT_EQ(k.rfind("playbook.", 0), 0u);
  EXPECT_NE(k, PlaybookClaims::Key("p", {{"a", "c"}}));
  PlaybookClaimRecord r{"n", "p", "inc-1", "running", 1, 2};
  auto back = DecodePlaybookClaim(EncodePlaybookClaim(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->incident, "inc-1");
  EXPECT_EQ(back->expires_at_ms, 2);
  EXPECT_FALSE(DecodePlaybookClaim("[").ok());
  EXPECT_FALSE(DecodePlaybookClaim("{}").ok());
}

}  // namespace
}  // namespace tyto::cluster
