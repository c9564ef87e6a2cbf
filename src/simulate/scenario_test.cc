#include "simulate/scenario.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace tyto::simulate {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ScenarioTest, ParsesEveryIncidentKind) {
  const char* text = R"(name: drill
traffic:
  requests_per_second: 200
  diurnal_amplitude: 0.1
incidents:
  - kind: traffic_change
    at: 2m
    requests_per_second: 320
    ramp: 30s
  - {kind: gpu_overheat, at: 1m, duration: 8m, ramp: 3m, node: 1, gpu: 3, temperature: 95}
  - {kind: xid_error, at: 3m, duration: 2m, node: 0, gpu: 5, xid: 48}
  - {kind: ecc_errors, at: 3m, node: 0, gpu: 5, sbe_per_minute: 12, dbe: 2}
  - {kind: latency_increase, at: 4m, duration: 6m, ramp: 4m, node: 0, replica: 1, factor: 3}
  - {kind: queue_buildup, at: 5m, duration: 4m, node: 2, replica: 0, slowdown: 4}
  - {kind: replica_down, at: 7m, duration: 1m, node: 3, replica: 0}
  - {kind: data_drift, at: 15m, duration: 30m, ramp: 5m, model: escalation-classifier, feature: user_age, factor: 2}
  - {kind: quality_drop, at: 25m, ramp: 2m, model: meta-llama/Llama-3.1-70B-Instruct, severity: 0.7}
  - {kind: data_drift, at: 1h, factor: 1.5}
)";
  auto s = ParseScenario(text, "drill.yml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "drill");
  EXPECT_EQ(s->traffic.requests_per_second, 200);
  EXPECT_EQ(s->traffic.diurnal_amplitude, 0.1);
  EXPECT_EQ(s->traffic.load, 0.6);  // default kept
  ASSERT_EQ(s->incidents.size(), 10u);
  const Incident& t = s->incidents[0];
  EXPECT_EQ(t.kind, IncidentKind::kTrafficChange);
  EXPECT_EQ(t.at, minutes(2));
  EXPECT_EQ(t.ramp, seconds(30));
  EXPECT_EQ(t.requests_per_second, 320);
  EXPECT_EQ(t.position.ToString(), "drill.yml:6:5");
  EXPECT_EQ(s->incidents[1].kind, IncidentKind::kGpuOverheat);
  EXPECT_EQ(s->incidents[1].temperature, 95);
  EXPECT_EQ(s->incidents[2].xid, 48);
  EXPECT_EQ(s->incidents[3].dbe, 2);
  EXPECT_EQ(s->incidents[3].duration, milliseconds(0));
  EXPECT_EQ(s->incidents[4].replica, 1);
  EXPECT_EQ(s->incidents[5].slowdown, 4);
  EXPECT_EQ(s->incidents[6].kind, IncidentKind::kReplicaDown);
  EXPECT_EQ(s->incidents[6].position.line, 15);
  const Incident& drift = s->incidents[7];
  EXPECT_EQ(drift.kind, IncidentKind::kDataDrift);
  EXPECT_EQ(drift.model, "escalation-classifier");
  EXPECT_EQ(drift.feature, "user_age");
  EXPECT_EQ(drift.factor, 2);
  EXPECT_EQ(drift.ramp, minutes(5));
  const Incident& drop = s->incidents[8];
  EXPECT_EQ(drop.kind, IncidentKind::kQualityDrop);
  EXPECT_EQ(drop.model, "meta-llama/Llama-3.1-70B-Instruct");
  EXPECT_EQ(drop.severity, 0.7);
  EXPECT_EQ(drop.duration, milliseconds(0));
  EXPECT_EQ(s->incidents[9].model, "");  // every model
  EXPECT_EQ(s->incidents[9].feature, "");
  EXPECT_EQ(IncidentKindName(drift.kind), "data_drift");
  EXPECT_EQ(IncidentKindName(drop.kind), "quality_drop");
  EXPECT_TRUE(CheckScenario(*s, 8, {2, 4, 2, 2}).ok());
}

TEST(ScenarioTest, RampAndActivity) {
  Incident inc;
  inc.at = minutes(2);
  inc.duration = minutes(4);
  inc.ramp = minutes(2);
  EXPECT_FALSE(inc.ActiveAt(minutes(1)));
  EXPECT_TRUE(inc.ActiveAt(minutes(2)));
  EXPECT_TRUE(inc.ActiveAt(minutes(6) - milliseconds(1)));
  EXPECT_FALSE(inc.ActiveAt(minutes(6)));
  EXPECT_EQ(inc.RampAt(minutes(1)), 0);
  EXPECT_DOUBLE_EQ(inc.RampAt(minutes(3)), 0.5);
  EXPECT_EQ(inc.RampAt(minutes(5)), 1);
}

// Each bad file gets every error, with file:line:column and the field.
TEST(ScenarioTest, ErrorsNamePositionAndField) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"incidents:\n  - kind: gpu_overheat\n    at: soon\n", "s.yml:3:9: incidents[].at: invalid duration 'soon'"},
      {"incidents:\n  - kind: gpu_overheat\n    at: 1m\n    nod: 1\n",
       "s.yml:4:5: unknown key 'nod' in section 'incidents[]', did you mean 'node'?"},
      {"incidents:\n  - kind: meltdown\n    at: 1m\n", "s.yml:2:11: incidents[].kind: "},
      {"incidents:\n  - kind: xid_error\n    at: 1m\n    temperature: 99\n",
       "s.yml:4:5: incidents[].temperature: does not apply to kind 'xid_error'"},
      {"incidents:\n  - kind: xid_error\n    node: 1\n", "s.yml:2:5: incidents[]: missing 'at'"},
      {"incidents:\n  - at: 1m\n", "s.yml:2:5: incidents[]: missing 'kind'"},
      {"incidents:\n  - {kind: gpu_overheat, at: 1m, gpu: -1}\n", "s.yml:2:39: incidents[].gpu: value -1 out of range [0, 1024]"},
      {"traffic:\n  load: lots\n", "s.yml:2:9: traffic.load: expected a number, got 'lots'"},
      {"traffic:\n  noise: 3\n", "s.yml:2:10: traffic.noise: value 3 out of range [0, 1]"},
      {"incidents:\n  - {kind: queue_buildup, at: 1m, duration: 1m, ramp: 2m}\n",
       "s.yml:2:5: incidents[]: ramp 2m is longer than duration 1m"},
      {"incidents:\n  - {kind: data_drift, at: 1m, model: gpt-5}\n",
       "s.yml:2:39: incidents[].model: the traffic has no model 'gpt-5' (its models: "
       "meta-llama/Llama-3.1-70B-Instruct, intent-router, escalation-classifier)"},
      {"incidents:\n  - kind: data_drift\n    at: 1m\n    model: intent-router\n    feature: user_age\n",
       "s.yml:5:14: incidents[].feature: model 'intent-router' has no feature 'user_age' (its features: "
       "prompt_length, language, channel, plan, country, embedding)"},
      {"incidents:\n  - {kind: data_drift, at: 1m, feature: colour}\n",
       "s.yml:2:41: incidents[].feature: the traffic has no feature 'colour'"},
      {"incidents:\n  - {kind: quality_drop, at: 1m, feature: country}\n",
       "s.yml:2:34: incidents[].feature: does not apply to kind 'quality_drop'"},
      {"incidents:\n  - {kind: quality_drop, at: 1m, severity: 2}\n",
       "s.yml:2:44: incidents[].severity: value 2 out of range [0, 1]"},
      {"incidents:\n  - {kind: data_drift, at: 1m, node: 1}\n",
       "s.yml:2:32: incidents[].node: does not apply to kind 'data_drift'"},
      {"incidents:\n  - {kind: data_drift, at: 1m, factor: lots}\n",
       "s.yml:2:40: incidents[].factor: expected a number, got 'lots'"},
      {"incidents:\n  - {kind: quality_drop, at: 2m, duration: 1m, ramp: 5m}\n",
       "s.yml:2:5: incidents[]: ramp 5m is longer than duration 1m"},
      {"incidents: [\n", "s.yml:"},
      {"", "s.yml: the scenario is empty"},
  };
  for (const Case& c : cases) {
    auto s = ParseScenario(c.text, "s.yml");
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.status().message().find(c.error), std::string::npos)
        << "input:\n" << c.text << "\nwant: " << c.error << "\ngot: " << s.status().message();
  }
}

TEST(ScenarioTest, CheckScenarioNamesTheIncidentAndWhatTheFleetHas) {
  auto s = ParseScenario(
      "incidents:\n"
      "  - {kind: gpu_overheat, at: 1m, node: 4, gpu: 0}\n"
      "  - {kind: xid_error, at: 1m, node: 0, gpu: 8}\n"
      "  - {kind: replica_down, at: 1m, node: 1, replica: 2}\n"
      "  - {kind: traffic_change, at: 1m, factor: 2}\n",
      "s.yml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Status st = CheckScenario(*s, 8, {2, 2, 4, 2});
  ASSERT_FALSE(st.ok());
  const std::string& m = st.message();
  EXPECT_NE(m.find("s.yml:2:5: incident 'gpu_overheat': node 4 does not exist (the fleet has 4 nodes, 0 to 3)"),
            std::string::npos) << m;
  EXPECT_NE(m.find("s.yml:3:5: incident 'xid_error': gpu 8 does not exist (nodes have 8 GPUs)"), std::string::npos) << m;
  EXPECT_NE(m.find("s.yml:4:5: incident 'replica_down': replica 2 does not exist (node 1 runs 2 replicas)"),
            std::string::npos) << m;
  EXPECT_EQ(m.find("traffic_change"), std::string::npos) << m;
}

TEST(ScenarioTest, DefaultScenarioFitsAnyFleet) {
  for (int nodes : {1, 2, 4, 100}) {
    for (int gpus : {1, 4, 8}) {
      Scenario s = DefaultScenario(nodes, gpus);
      EXPECT_GE(s.incidents.size(), 6u);
      std::vector<int> replicas(static_cast<size_t>(nodes), 1);
      EXPECT_TRUE(CheckScenario(s, gpus, replicas).ok()) << nodes << "x" << gpus;
      // Something to see in the first half hour, the fleet's incidents in the first ten minutes.
      int models = 0;
      for (const Incident& inc : s.incidents) {
        const bool model = inc.kind == IncidentKind::kDataDrift || inc.kind == IncidentKind::kQualityDrop;
        models += model;
        EXPECT_LE(inc.at, model ? minutes(30) : minutes(10)) << IncidentKindName(inc.kind);
      }
      EXPECT_EQ(models, 2);
    }
  }
}

TEST(ScenarioTest, TheExampleFileParses) {
  const std::string path = std::string(TYTO_SOURCE_DIR) + "/examples/scenario.yml";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::stringstream text;
  text << in.rdbuf();
  auto s = ParseScenario(text.str(), path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GE(s->incidents.size(), 6u);
  // It shows every kind.
  std::set<IncidentKind> kinds;
  for (const Incident& inc : s->incidents) kinds.insert(inc.kind);
  EXPECT_EQ(kinds.size(), 9u);
  EXPECT_TRUE(CheckScenario(*s, 8, {2, 4, 2, 2}).ok());
}

}  // namespace
}  // namespace tyto::simulate
