#include "collect/runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "collect/registry.h"
#include "config/yaml.h"
#include "instrumentation/metrics.h"
#include "metastore/metastore.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/env.h"

namespace tyto::collect {
namespace {

// A collector that plays back scripted rounds: each a list of (labels, value), or a failure.
class ScriptedCollector final : public Collector {
 public:
  struct Round {
    std::vector<std::pair<Labels, double>> points;
    bool fail = false;
  };
  explicit ScriptedCollector(std::vector<Round> rounds, std::vector<int64_t>* times)
      : rounds_(std::move(rounds)), times_(times) {}
  std::string_view name() const override { return "scripted"; }
  Status Collect(int64_t now_ms, Sink* sink) override {
    times_->push_back(now_ms);
    const Round& r = rounds_[std::min(next_++, rounds_.size() - 1)];
    if (r.fail) return Status(StatusCode::kUnavailable, "scripted failure");
    sink->Describe("scripted_value", MetricType::kGauge, "A scripted value.");
    for (const auto& [labels, v] : r.points) sink->Add(labels, v);
    return Status::Ok();
  }

 private:
  std::vector<Round> rounds_;
  size_t next_ = 0;
  std::vector<int64_t>* times_;
};

Labels Point(std::string_view device) { return Labels::Of({"__name__", "scripted_value", "device", std::string(device)}); }

struct Stored {
  Labels labels;
  std::vector<Sample> samples;
};

std::vector<Stored> ReadAll(Storage* s) {
  auto q = s->NewQuerier(INT64_MIN, INT64_MAX);
  EXPECT_TRUE(q.ok());
  auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__name__", "scripted_value")});
  std::vector<Stored> out;
  while (set->Next()) {
    Stored st{set->labels(), {}};
    auto it = set->Iterator();
    while (it->Next()) st.samples.push_back(it->At());
    out.push_back(std::move(st));
  }
  return out;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  testing::FakeClock clock_{1'700'000'000'500};
  instrumentation::Registry registry_;
  RunnerMetrics metrics_{&registry_};
  metastore::MetadataStore metadata_;
};

TEST_F(RunnerTest, RoundsRunOnIntervalBoundariesAndEndVanishedSeriesWithMarkers) {
  std::vector<int64_t> times;
  Runner runner({head_.get(), &clock_, &metadata_, &metrics_, "node-7"});
  runner.Add(std::make_unique<ScriptedCollector>(
                 std::vector<ScriptedCollector::Round>{{{{Point("a"), 1}, {Point("b"), 2}}},
                                                       {{{Point("a"), 3}}}, {{{Point("a"), 4}}}},
                 &times),
             std::chrono::seconds(15));

  // Not due before the first 15 s boundary.
  int64_t next = runner.RunDue(clock_.NowMillis());
  EXPECT_TRUE(times.empty());
  EXPECT_EQ(next, 1'700'000'010'000);  // 1,700,000,010,000 is a multiple of 15,000
  clock_.SetMillis(next + 3);           // a little late: the round keeps the boundary's time
  next = runner.RunDue(clock_.NowMillis());
  EXPECT_EQ(next, 1'700'000'025'000);
  clock_.SetMillis(next);
  runner.RunDue(clock_.NowMillis());
  ASSERT_EQ(times, (std::vector<int64_t>{1'700'000'010'000, 1'700'000'025'000}));

  std::vector<Stored> got = ReadAll(head_.get());
  ASSERT_EQ(got.size(), 2u);
  // As a scrape of an exporter would be: job is the collector, instance the machine.
  EXPECT_EQ(got[0].labels,
            Labels::Of({"__name__", "scripted_value", "device", "a", "instance", "node-7", "job", "scripted"}));
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(got[0].samples[1].t, 1'700'000'025'000);
  EXPECT_EQ(got[0].samples[1].v, 3);
  EXPECT_EQ(got[1].labels,
            Labels::Of({"__name__", "scripted_value", "device", "b", "instance", "node-7", "job", "scripted"}));
  ASSERT_EQ(got[1].samples.size(), 2u);  // 2, then the marker: b was not in the second round
  EXPECT_EQ(got[1].samples[0].v, 2);
  EXPECT_TRUE(IsStaleMarker(got[1].samples[1].v));
  EXPECT_EQ(got[1].samples[1].t, 1'700'000'025'000);

  // A process suspended for a minute: one round at the next boundary, no pile-up.
  clock_.SetMillis(1'700'000'025'000 + 61'000);
  next = runner.RunDue(clock_.NowMillis());
  EXPECT_EQ(times.size(), 3u);
  EXPECT_EQ(next, 1'700'000'100'000);

  auto meta = metadata_.Get("scripted_value", 0, 0);
  ASSERT_EQ(meta.size(), 1u);
  EXPECT_EQ(meta.begin()->second[0].type, "gauge");
  EXPECT_EQ(meta.begin()->second[0].help, "A scripted value.");
  std::string exposed = registry_.Expose();
  EXPECT_NE(exposed.find("tyto_collector_rounds_total{collector=\"scripted\"} 3"), std::string::npos) << exposed;
  EXPECT_NE(exposed.find("tyto_collector_samples{collector=\"scripted\"} 1"), std::string::npos) << exposed;
}

TEST_F(RunnerTest, AFailedRoundEndsEverySeriesAndIsReported) {
  std::vector<int64_t> times;
  Runner runner({head_.get(), &clock_, nullptr, &metrics_, "node-7"});
  runner.Add(std::make_unique<ScriptedCollector>(
                 std::vector<ScriptedCollector::Round>{{{{Point("a"), 1}}}, {{}, true}, {{{Point("a"), 5}}}}, &times),
             std::chrono::seconds(1));
  for (int i = 0; i < 4; ++i) {
    runner.RunDue(clock_.NowMillis());
    clock_.Advance(std::chrono::seconds(1));
  }
  ASSERT_EQ(times.size(), 3u);
  std::vector<Stored> got = ReadAll(head_.get());
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 3u);
  EXPECT_EQ(got[0].samples[0].v, 1);
  EXPECT_TRUE(IsStaleMarker(got[0].samples[1].v));
  EXPECT_EQ(got[0].samples[2].v, 5);
  std::string exposed = registry_.Expose();
  EXPECT_NE(exposed.find("tyto_collector_failures_total{collector=\"scripted\"} 1"), std::string::npos) << exposed;
}

TEST_F(RunnerTest, StatusNamesTheLastError) {
  std::vector<int64_t> times;
  Runner runner({head_.get(), &clock_, nullptr, nullptr, "node-7"});
  runner.Add(std::make_unique<ScriptedCollector>(std::vector<ScriptedCollector::Round>{{{}, true}}, &times),
             std::chrono::milliseconds(10));  // clamped to 1 s
  runner.RunDue(clock_.NowMillis());
  clock_.Advance(std::chrono::seconds(1));
  runner.RunDue(clock_.NowMillis());
  auto st = runner.Statuses();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].interval, std::chrono::seconds(1));
  EXPECT_NE(st[0].last_error.find("scripted failure"), std::string::npos);
  EXPECT_EQ(st[0].last_round_ms, 1'700'000'001'000);
}

TEST_F(RunnerTest, TheThreadRunsRoundsOnTheRealClock) {
  std::vector<int64_t> times;
  Runner runner({head_.get(), nullptr, nullptr, nullptr, ""});
  runner.Add(std::make_unique<ScriptedCollector>(std::vector<ScriptedCollector::Round>{{{{Point("a"), 1}}}}, &times),
             std::chrono::seconds(1));
  runner.Start();
  for (int i = 0; i < 300 && runner.Statuses()[0].last_round_ms == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  runner.Stop();
  EXPECT_NE(runner.Statuses()[0].last_round_ms, 0);
  EXPECT_EQ(runner.Statuses()[0].last_round_ms % 1000, 0);
}

Result<CollectorsConfig> Decode(std::string_view yaml) {
  auto root = config::ParseYaml(yaml, "tyto.yml");
  if (!root.ok()) return root.status();
  CollectorsConfig c;
  config::Diagnostics d;
  CollectorsSchema().Decode(*root, &c, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return c;
}

TEST(CollectorsConfigTest, DefaultsEnableEveryCollectorAtItsDescriptorsInterval) {
  CollectorsConfig c;
  ASSERT_EQ(c.collectors.size(), Plugins().size());
  for (const CollectorConfig& cc : c.collectors) {
    EXPECT_TRUE(cc.enabled) << cc.name;
    EXPECT_EQ(EffectiveInterval(cc), FindPlugin(cc.name)->descriptor.default_interval);
  }
  ASSERT_NE(c.Find("host"), nullptr);
  ASSERT_NE(c.Find("gpu"), nullptr);
}

TEST(CollectorsConfigTest, OptionsAreTypedByTheDescriptor) {
  auto c = Decode("host: {interval: 5s, cgroups: false, proc_path: /host/proc, max_cgroups: 10}\ngpu: {enabled: false}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const CollectorConfig* host = c->Find("host");
  EXPECT_EQ(host->interval, std::chrono::seconds(5));
  const Plugin* p = FindPlugin("host");
  OptionValues o(p->descriptor, host->options);
  EXPECT_FALSE(o.Bool("cgroups"));
  EXPECT_EQ(o.String("proc_path"), "/host/proc");
  EXPECT_EQ(o.String("sys_path"), "/sys");  // the default
  EXPECT_EQ(o.Int("max_cgroups"), 10);
  EXPECT_FALSE(c->Find("gpu")->enabled);
}

TEST(CollectorsConfigTest, MistakesAreNamedWithTheirPosition) {
  auto st = Decode("hots: {}\n").status();
  EXPECT_NE(st.message().find("tyto.yml:1:1: unknown key 'hots' in section 'collectors', did you mean 'host'?"),
            std::string::npos)
      << st.ToString();
  st = Decode("host:\n  cgroup: true\n").status();
  EXPECT_NE(st.message().find("tyto.yml:2:3: unknown key 'cgroup' in section 'collectors.host', did you mean 'cgroups'?"),
            std::string::npos)
      << st.ToString();
  st = Decode("host: {cgroups: maybe}\n").status();
  EXPECT_NE(st.message().find("tyto.yml:1:17"), std::string::npos) << st.ToString();
  st = Decode("host: {interval: 500ms}\n").status();
  EXPECT_NE(st.message().find("tyto.yml:1:18"), std::string::npos) << st.ToString();
  st = Decode("gpu: {interval: 2m}\n").status();
  EXPECT_NE(st.message().find("collectors.gpu.interval: 2m is longer than 1m"), std::string::npos) << st.ToString();
  st = Decode("host: {max_cgroups: -1}\n").status();
  EXPECT_FALSE(st.ok());
}

TEST(CollectorsConfigTest, ReferenceDocIsCurrent) {
  std::ifstream in(std::string(TYTO_SOURCE_DIR) + "/docs/collectors.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- generated: collectors reference -->\n";
  const std::string end = "<!-- end generated -->";
  size_t b = doc.find(begin);
  size_t e = doc.find(end);
  ASSERT_NE(b, std::string::npos) << "docs/collectors.md lacks the generated section's markers";
  ASSERT_NE(e, std::string::npos);
  const std::string want = CollectorsReference();
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), want)
      << "docs/collectors.md is out of date; put this between its markers:\n"
      << want;
}

TEST(NewRunnerTest, CreatesTheEnabledCollectorsWithTheirOptions) {
  testing::TempDir dir;
  auto h = tsdb::Head::Open(Env::Default(), dir.Path("wal"), tsdb::HeadOptions{}, nullptr);
  ASSERT_TRUE(h.ok());
  auto c = Decode("host: {interval: 2s, proc_path: /nonexistent/proc, sys_path: /nonexistent/sys}\ngpu: {enabled: false}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  testing::FakeClock clock;
  auto runner = NewRunner(*c, {h->get(), &clock, nullptr, nullptr, ""});
  runner->RunDue(clock.NowMillis());
  clock.Advance(std::chrono::seconds(2));
  runner->RunDue(clock.NowMillis());
  auto st = runner->Statuses();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].name, "host");
  EXPECT_EQ(st[0].interval, std::chrono::seconds(2));
  // Nothing under the configured roots: the round fails, naming why.
  EXPECT_FALSE(st[0].last_error.empty());
  EXPECT_NE(st[0].last_round_ms, 0);
}

}  // namespace
}  // namespace tyto::collect
