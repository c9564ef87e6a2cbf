// The stock rule files (rules/*.yml): they parse, the embedded copies are the files, every
// expression is empty (never an error) without data, and each alert's expression returns the
// incident's series, and only them, on data shaped like the incident, and nothing on the calm
// series beside it and before it. The data is synthetic (one test per file), and pages of the
// simulated fleet (src/simulate) with scripted incidents, scraped in-process.
//
// The expressions run on promql::Engine over a tsdb::Head, as the rule engine will run them.
// Recording rules (slo.yml) are evaluated here too, at each instant an alert is checked, and
// their results stored at that instant, before the alert's expression runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "rules/rule_file.h"
#include "rules/stock/stock_rules.h"
#include "scrape/text_parser.h"
#include "simulate/fleet.h"
#include "simulate/scenario.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::rules {
namespace {

using Names = std::vector<std::string>;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// The synthetic data's first instant; the tests' times are offsets from it.
constexpr int64_t kStart = 1'700'000'000'000;
constexpr double kNoSample = std::numeric_limits<double>::quiet_NaN();

// Every stock file, parsed once. A file that does not parse is left out (ParseEveryFile fails).
const std::vector<RuleFile>& ParsedFiles() {
  static const std::vector<RuleFile>* files = [] {
    auto* v = new std::vector<RuleFile>;
    for (const StockFile& f : StockRuleFiles()) {
      auto r = ParseRuleFile(f.contents, f.name);
      if (r.ok()) v->push_back(std::move(r).value());
    }
    return v;
  }();
  return *files;
}

const Rule* FindAlert(const std::string& name) {
  for (const RuleFile& f : ParsedFiles()) {
    for (const RuleGroup& g : f.groups) {
      for (const Rule& r : g.rules) {
        if (r.kind == Rule::Kind::kAlerting && r.name == name) return &r;
      }
    }
  }
  return nullptr;
}

std::vector<const Rule*> AlertsOf(const std::string& file) {
  std::vector<const Rule*> out;
  for (const RuleFile& f : ParsedFiles()) {
    if (f.filename != file) continue;
    for (const RuleGroup& g : f.groups) {
      for (const Rule& r : g.rules) {
        if (r.kind == Rule::Kind::kAlerting) out.push_back(&r);
      }
    }
  }
  return out;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(StockRulesTest, EmbeddedCopiesAreTheFiles) {
  std::map<std::string, std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(TYTO_SOURCE_DIR) / "rules")) {
    if (entry.path().extension() == ".yml") on_disk[entry.path().filename().string()] = ReadFile(entry.path());
  }
  std::map<std::string, std::string> embedded;
  Names order;
  for (const StockFile& f : StockRuleFiles()) {
    embedded[f.name] = f.contents;
    order.push_back(f.name);
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(embedded, on_disk);
  for (const char* name :
       {"gpu.yml", "inference.yml", "pipelines.yml", "quality.yml", "security.yml", "slo.yml", "targets.yml"}) {
    EXPECT_TRUE(embedded.count(name)) << name;
  }
}

TEST(StockRulesTest, EveryFileParses) {
  for (const StockFile& f : StockRuleFiles()) {
    auto r = ParseRuleFile(f.contents, f.name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) {
      EXPECT_FALSE(r->groups.empty()) << f.name;
    }
  }
  EXPECT_EQ(ParsedFiles().size(), StockRuleFiles().size());
}

// Each alert: a unique name, a severity of page, ticket or info, a summary, a description and a
// runbook hint, and templates that expand without error on an alert's usual labels.
TEST(StockRulesTest, EveryAlertIsComplete) {
  std::set<std::string> names;
  int alerts = 0;
  for (const RuleFile& f : ParsedFiles()) {
    for (const RuleGroup& g : f.groups) {
      for (const Rule& r : g.rules) {
        if (r.kind != Rule::Kind::kAlerting) continue;
        ++alerts;
        EXPECT_TRUE(names.insert(r.name).second) << "duplicate alert " << r.name;
        std::map<std::string, std::string> labels(r.labels.begin(), r.labels.end());
        EXPECT_TRUE(labels["severity"] == "page" || labels["severity"] == "ticket" || labels["severity"] == "info")
            << r.name << ": severity '" << labels["severity"] << "'";
        std::map<std::string, std::string> annotations(r.annotations.begin(), r.annotations.end());
        for (const char* a : {"summary", "description", "runbook"}) {
          EXPECT_FALSE(annotations[a].empty()) << r.name << " has no " << a;
        }
        TemplateData data;
        data.labels = {{"Hostname", "gpu-node-001"}, {"gpu", "3"}, {"model", "llama"}, {"instance", "10.0.0.1:8000"},
                       {"job", "vllm"}, {"pipeline", "features"}, {"stage", "join"}};
        data.value = 0.25;
        for (const Template& t : r.annotation_templates) {
          auto out = t.Execute(data);
          EXPECT_TRUE(out.ok()) << r.name << ": " << out.status().ToString();
        }
        for (const Template& t : r.label_templates) {
          auto out = t.Execute(data);
          EXPECT_TRUE(out.ok()) << r.name << ": " << out.status().ToString();
        }
      }
    }
  }
  EXPECT_GE(alerts, 30);
}

// Storage, an engine, and the helpers that fill one and run the stock rules on it.
class Bench {
 public:
  Bench() {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    if (!h.ok()) std::abort();  // a test machine without a usable /tmp
    head_ = std::move(h).value();
    engine_ = std::make_unique<promql::Engine>(head_.get());
  }

  Storage* storage() { return head_.get(); }

  // One series sampled every `step` in [from, to) (offsets from kStart), value(t) at offset t;
  // kNoSample leaves a sample out.
  void Series(const Labels& labels, int64_t from, int64_t to, int64_t step, const std::function<double(int64_t)>& value) {
    auto app = head_->NewAppender();
    for (int64_t t = from; t < to; t += step) {
      const double v = value(t);
      if (std::isnan(v)) continue;
      ASSERT_TRUE(app->Append(0, labels, kStart + t, v).ok()) << labels.ToString();
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  // A counter growing by rate(t) per second.
  void Counter(const Labels& labels, int64_t from, int64_t to, int64_t step, const std::function<double(int64_t)>& rate) {
    double total = 0;
    Series(labels, from, to, step, [&](int64_t t) {
      total += rate(t) * static_cast<double>(step) / kSecond;
      return total;
    });
  }
  // A histogram (cumulative _bucket{le}, _sum, _count) receiving `per_second` observations a
  // second, each of value(t).
  void Histogram(const std::string& name, const Labels& labels, const Names& bounds, int64_t from, int64_t to,
                 int64_t step, double per_second, const std::function<double(int64_t)>& value) {
    Names les = bounds;
    les.push_back("+Inf");
    std::vector<double> cumulative(les.size(), 0);
    double sum = 0, count = 0;
    auto app = head_->NewAppender();
    for (int64_t t = from; t < to; t += step) {
      const double n = per_second * static_cast<double>(step) / kSecond, v = value(t);
      count += n;
      sum += n * v;
      for (size_t i = 0; i < les.size(); ++i) {
        if (les[i] == "+Inf" || v <= std::stod(les[i])) cumulative[i] += n;
        LabelsBuilder b(labels);
        b.Set(kMetricNameLabel, name + "_bucket");
        b.Set("le", les[i]);
        ASSERT_TRUE(app->Append(0, b.Build(), kStart + t, cumulative[i]).ok());
      }
      LabelsBuilder s(labels);
      s.Set(kMetricNameLabel, name + "_sum");
      ASSERT_TRUE(app->Append(0, s.Build(), kStart + t, sum).ok());
      s.Set(kMetricNameLabel, name + "_count");
      ASSERT_TRUE(app->Append(0, s.Build(), kStart + t, count).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  // Runs every recording rule at `t` (an offset from kStart; file and group order) and stores
  // its results at t, as the rule engine does before the alerts that read them.
  void Record(int64_t t) {
    for (const RuleFile& f : ParsedFiles()) {
      for (const RuleGroup& g : f.groups) {
        for (const Rule& r : g.rules) {
          if (r.kind != Rule::Kind::kRecording) continue;
          auto result = engine_->Instant(r.expr, kStart + t);
          ASSERT_TRUE(result.ok()) << r.name << ": " << result.status().ToString();
          auto app = head_->NewAppender();
          for (const promql::Element& e : result->vector) {
            LabelsBuilder b(e.metric);
            b.Set(kMetricNameLabel, r.name);
            for (const auto& [name, value] : r.labels) b.Set(name, value);
            ASSERT_TRUE(app->Append(0, b.Build(), kStart + t, e.v).ok()) << r.name;
          }
          ASSERT_TRUE(app->Commit().ok());
        }
      }
    }
  }

  // The sorted values of `label` on the results of alert `alert`'s expression at `t` (an offset
  // from kStart, or an absolute time when `absolute`). An unknown alert or a failed query fails
  // the test.
  Names Firing(const std::string& alert, int64_t t, const std::string& label, bool absolute = false) {
    const Rule* rule = FindAlert(alert);
    if (rule == nullptr) {
      ADD_FAILURE() << "no alert " << alert;
      return {"?"};
    }
    if (!absolute) Record(t);
    auto result = engine_->Instant(rule->expr, absolute ? t : kStart + t);
    if (!result.ok()) {
      ADD_FAILURE() << alert << ": " << result.status().ToString();
      return {"?"};
    }
    Names out;
    for (const promql::Element& e : result->vector) out.emplace_back(e.metric.Get(label));
    std::sort(out.begin(), out.end());
    return out;
  }

  // `alert` returns the series whose `label` is in `want` at t and again at t + its `for`, so it
  // would fire. Calls must come in increasing time (recorded series are stored as they go).
  void ExpectFires(const std::string& alert, int64_t t, const std::string& label, const Names& want) {
    const Rule* rule = FindAlert(alert);
    ASSERT_NE(rule, nullptr) << alert;
    EXPECT_EQ(Firing(alert, t, label), want) << alert << " at " << t / kMinute << " min";
    const int64_t end = t + rule->for_duration.count();
    if (end != t) {
      EXPECT_EQ(Firing(alert, end, label), want) << alert << " at " << end / kMinute << " min";
    }
  }
  // `alert` would not fire in [from, to), evaluated every `step` as the rule engine does: no
  // series stays in its results for its `for` (with no `for`, no series at all).
  void ExpectQuiet(const std::string& alert, int64_t from, int64_t to, int64_t step, const std::string& label) {
    const Rule* rule = FindAlert(alert);
    ASSERT_NE(rule, nullptr) << alert;
    std::map<std::string, int64_t> pending;  // a series' label set -> when it appeared
    for (int64_t t = from; t < to; t += step) {
      Names now = Firing(alert, t, label);
      std::map<std::string, int64_t> still;
      for (const std::string& v : now) {
        auto it = pending.find(v);
        const int64_t since = it == pending.end() ? t : it->second;
        still[v] = since;
        EXPECT_LT(t - since, rule->for_duration.count() == 0 ? 1 : rule->for_duration.count())
            << alert << " would fire for " << label << "=" << v << " at " << t / kMinute << " min";
      }
      pending = std::move(still);
    }
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<promql::Engine> engine_;
};

// With no series at all, every expression returns an empty vector (no error): stock rules cost
// nothing and alert on nothing where their series do not exist.
TEST(StockRulesTest, EveryExpressionIsEmptyWithoutData) {
  Bench bench;
  promql::Engine engine(bench.storage());
  int rules = 0;
  for (const RuleFile& f : ParsedFiles()) {
    for (const RuleGroup& g : f.groups) {
      for (const Rule& r : g.rules) {
        ++rules;
        auto result = engine.Instant(r.expr, kStart + kDay);
        ASSERT_TRUE(result.ok()) << r.name << ": " << result.status().ToString();
        EXPECT_EQ(result->type, promql::ValueType::kVector) << r.name;
        EXPECT_TRUE(result->vector.empty()) << r.name << " returned " << result->vector.size() << " series";
      }
    }
  }
  EXPECT_GT(rules, 30);
}

Labels GpuLabels(const std::string& name, int gpu) {
  return Labels::Of({"__name__", name, "Hostname", "gpu-node-000", "UUID", "GPU-0000000" + std::to_string(gpu), "gpu",
                     std::to_string(gpu), "instance", "10.0.0.1:9400", "job", "dcgm", "modelName",
                     "NVIDIA H100 80GB HBM3"});
}

// Four GPUs on one node, every 15 s for 5 hours. GPU 0 stays calm. At 3 h GPU 1 gets every
// hardware incident at once (heat, thermal and power throttling, XID 79, double-bit ECC errors,
// a failed and a pending row remap, full memory, lost), GPU 2 goes idle, and GPU 3 reports XID
// 13 (an application's fault).
TEST(StockRulesTest, GpuAlerts) {
  Bench bench;
  constexpr int64_t end = 5 * kHour + 10 * kMinute, step = 15 * kSecond, s = 3 * kHour;
  auto after = [](int64_t t) { return t >= s; };
  for (int gpu = 0; gpu < 4; ++gpu) {
    const bool hot = gpu == 1, idle = gpu == 2;
    auto util = [&, idle](int64_t t) { return idle && after(t) ? 0.0 : 55.0 + 10 * std::sin(static_cast<double>(t) / kHour); };
    bench.Series(GpuLabels("DCGM_FI_DEV_GPU_UTIL", gpu), 0, end, step, util);
    bench.Series(GpuLabels("DCGM_FI_DEV_GPU_TEMP", gpu), 0, end, step, [&, hot, idle](int64_t t) {
      if (hot && after(t)) return 93.0;
      return idle && after(t) ? 38.0 : 70.0 + std::round(4 * std::sin(static_cast<double>(t) / (7 * kMinute)));
    });
    // 0x1 idle; 0x4 power cap (briefly, now and then, as at full load); 0x20|0x40 thermal.
    bench.Series(GpuLabels("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", gpu), 0, end, step, [&, hot, idle](int64_t t) {
      if (hot && after(t)) return 0x4 + 0x20 + 0x40 + 0.0;
      if (idle && after(t)) return 1.0;
      return (t / step) % 40 == 0 ? 4.0 : 0.0;
    });
    const int xid = gpu == 1 ? 79 : gpu == 3 ? 13 : 0;
    // The gauge keeps the last XID, as dcgm-exporter's does.
    bench.Series(GpuLabels("DCGM_FI_DEV_XID_ERRORS", gpu), 0, end, step, [&, xid](int64_t t) { return after(t) ? xid : 0.0; });
    bench.Series(GpuLabels("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", gpu), 0, end, step,
                 [&, hot](int64_t t) { return hot && after(t) ? 2.0 : 0.0; });
    bench.Series(GpuLabels("DCGM_FI_DEV_ROW_REMAP_FAILURE", gpu), 0, end, step,
                 [&, hot](int64_t t) { return hot && after(t) ? 1.0 : 0.0; });
    bench.Series(GpuLabels("DCGM_FI_DEV_ROW_REMAP_PENDING", gpu), 0, end, step,
                 [&, hot](int64_t t) { return hot && after(t) ? 1.0 : 0.0; });
    // vLLM reserves 90% of the memory: the calm level.
    bench.Series(GpuLabels("DCGM_FI_DEV_FB_USED", gpu), 0, end, step, [&, hot](int64_t t) { return hot && after(t) ? 80200.0 : 73500.0; });
    bench.Series(GpuLabels("DCGM_FI_DEV_FB_FREE", gpu), 0, end, step, [&, hot](int64_t t) { return hot && after(t) ? 811.0 : 7511.0; });
    bench.Series(GpuLabels("tyto_gpu_lost", gpu), 0, end, step, [&, hot](int64_t t) { return hot && after(t) ? 1.0 : 0.0; });
  }

  const Names gpu_alerts = {"GPUTemperatureHigh", "GPUTemperatureCritical", "GPUThermalThrottling", "GPUPowerThrottling",
                            "GPUXidErrorCritical", "GPUXidError", "GPULost", "GPUUncorrectableECCErrors",
                            "GPURowRemapFailure", "GPURowRemapPending", "GPUMemoryNearlyFull", "GPUIdle"};
  EXPECT_EQ(gpu_alerts.size(), AlertsOf("gpu.yml").size());
  for (const std::string& alert : gpu_alerts) bench.ExpectQuiet(alert, 0, s, kMinute, "gpu");

  const int64_t lead = 2 * kMinute;
  bench.ExpectFires("GPUTemperatureHigh", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUTemperatureCritical", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUThermalThrottling", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUPowerThrottling", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUXidErrorCritical", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUXidError", s + lead, "gpu", {"3"});
  bench.ExpectFires("GPULost", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUUncorrectableECCErrors", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPURowRemapFailure", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPURowRemapPending", s + lead, "gpu", {"1"});
  bench.ExpectFires("GPUMemoryNearlyFull", s + lead, "gpu", {"1"});
  // A new XID alerts for 15 minutes; the gauge still holding it afterwards does not.
  EXPECT_EQ(bench.Firing("GPUXidErrorCritical", s + 14 * kMinute, "gpu"), Names{"1"});
  EXPECT_EQ(bench.Firing("GPUXidErrorCritical", s + 16 * kMinute, "gpu"), Names{});
  EXPECT_EQ(bench.Firing("GPUXidError", s + 16 * kMinute, "gpu"), Names{});
  // The double-bit errors counted once alert for 10 minutes.
  EXPECT_EQ(bench.Firing("GPUUncorrectableECCErrors", s + 12 * kMinute, "gpu"), Names{});
  // Idle from 3 h: the hour's mean falls under 5% near 4 h; fires after another hour.
  EXPECT_EQ(bench.Firing("GPUIdle", s + 50 * kMinute, "gpu"), Names{});
  bench.ExpectFires("GPUIdle", s + kHour, "gpu", {"2"});
}

Labels With(const std::string& name, std::initializer_list<std::string_view> pairs) {
  LabelsBuilder b(Labels::Of(pairs));
  b.Set(kMetricNameLabel, name);
  return b.Build();
}

// Model servers and Tyto's derived inference series, every 30 s for 10 hours; incidents from 9 h.
TEST(StockRulesTest, InferenceAlerts) {
  Bench bench;
  constexpr int64_t s = 9 * kHour, end = 10 * kHour, step = 30 * kSecond;
  auto after = [](int64_t t) { return t >= s; };
  auto wave = [](int64_t t, double period_min) { return std::sin(static_cast<double>(t) / (period_min * kMinute)); };

  // KV cache and preemptions: vLLM instance a calm, b full from s; SGLang c calm.
  for (const char* instance : {"a:8000", "b:8000"}) {
    const bool bad = std::string(instance) == "b:8000";
    const Labels l = Labels::Of({"instance", instance, "job", "vllm", "model_name", "llama"});
    auto named = [&l](const char* name) {
      LabelsBuilder b(l);
      b.Set(kMetricNameLabel, name);
      return b.Build();
    };
    bench.Series(named("vllm:gpu_cache_usage_perc"), 0, end, step,
                 [&, bad](int64_t t) { return bad && after(t) ? 0.99 : 0.5 + 0.3 * wave(t, 9); });
    // A preemption now and then when calm (a burst of load), 4 a minute when full.
    bench.Counter(named("vllm:num_preemptions_total"), 0, end, step,
                  [&, bad](int64_t t) { return bad && after(t) ? 4.0 / 60 : (t % kHour < 2 * kMinute ? 0.03 : 0.0); });
    // Calm: bursts up to 40 waiting that drain within a minute or two.
    bench.Series(named("vllm:num_requests_waiting"), 0, end, step, [&, bad](int64_t t) {
      if (bad && after(t)) return 20.0 + static_cast<double>(t - s) / kMinute;
      return t % (20 * kMinute) < 90 * kSecond ? 40.0 : 2.0;
    });
  }
  bench.Series(With("sglang:token_usage", {"instance", "c:30000", "job", "sglang", "model_name", "qwen"}), 0, end, step,
               [&](int64_t t) { return 0.6 + 0.2 * wave(t, 11); });
  bench.Series(With("sglang:num_queue_reqs", {"instance", "c:30000", "job", "sglang", "model_name", "qwen"}), 0, end,
               step, [&](int64_t) { return 3.0; });
  bench.Series(With("tgi_queue_size", {"instance", "g:80", "job", "tgi"}), 0, end, step, [&](int64_t) { return 1.0; });
  // Triton t2's queue builds from s.
  for (const char* instance : {"t1:8002", "t2:8002"}) {
    const bool bad = std::string(instance) == "t2:8002";
    bench.Series(With("nv_inference_pending_request_count", {"instance", instance, "job", "triton", "model", "ensemble", "version", "1"}),
                 0, end, step, [&, bad](int64_t t) { return bad && after(t) ? 50.0 : 0.0; });
  }

  // Tyto's derived request counters: "chat" fails 1% of the time, "broken" 20% from s, "tiny"
  // fails every request but gets one every two minutes (too few to judge).
  for (const char* model : {"chat", "broken", "tiny"}) {
    const std::string m = model;
    const double rps = m == "tiny" ? 1.0 / 120 : 10.0;
    bench.Counter(With("tyto_inference_requests_total", {"model", model, "status", "ok"}), 0, end, step, [&, m, rps](int64_t t) {
      if (m == "tiny") return 0.0;
      return rps * (m == "broken" && after(t) ? 0.8 : 0.99);
    });
    bench.Counter(With("tyto_inference_requests_total", {"model", model, "status", "error"}), 0, end, step, [&, m, rps](int64_t t) {
      if (m == "tiny") return rps;
      return rps * (m == "broken" && after(t) ? 0.2 : 0.01);
    });
  }
  // TGI g1 and Triton t1 calm (0.1% failures); TGI g2 (30% overloaded) and Triton t2 (10%) from s.
  for (const char* instance : {"g1:80", "g2:80"}) {
    const bool bad = std::string(instance) == "g2:80";
    bench.Counter(With("tgi_request_count", {"instance", instance, "job", "tgi"}), 0, end, step, [](int64_t) { return 20.0; });
    bench.Counter(With("tgi_request_failure", {"instance", instance, "job", "tgi", "err", "overloaded"}), 0, end, step,
                  [&, bad](int64_t t) { return bad && after(t) ? 6.0 : 0.0; });
    bench.Counter(With("tgi_request_failure", {"instance", instance, "job", "tgi", "err", "generation"}), 0, end, step,
                  [](int64_t) { return 0.02; });
  }
  for (const char* instance : {"t1:8002", "t2:8002"}) {
    const bool bad = std::string(instance) == "t2:8002";
    const std::initializer_list<std::string_view> base = {"instance", instance, "job", "triton", "model", "ensemble", "version", "1"};
    bench.Counter(With("nv_inference_request_success", base), 0, end, step, [&, bad](int64_t t) { return bad && after(t) ? 18.0 : 20.0; });
    LabelsBuilder failure(With("nv_inference_request_failure", base));
    failure.Set("reason", "BACKEND");
    bench.Counter(failure.Build(), 0, end, step, [&, bad](int64_t t) { return bad && after(t) ? 2.0 : 0.02; });
  }

  // Time to first token: "chat" steady at 200 ms and deployed at s; "slow" deployed at s and
  // 900 ms from then; "old" as slow from s, with no deployment since yesterday.
  const Names ttft = {"0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1",
                      "0.25",  "0.5",   "0.75", "1",    "2.5",  "5",    "7.5",  "10"};
  for (const char* model : {"chat", "slow", "old"}) {
    const std::string m = model;
    bench.Histogram("gen_ai_server_time_to_first_token_seconds", Labels::Of({"model", model, "model_version", "v1"}), ttft, 0,
                    end, step, 5, [&, m](int64_t t) { return m != "chat" && after(t) ? 0.9 : 0.2; });
    const int64_t deployed = m == "old" ? -kDay : s;
    bench.Series(With("tyto_model_deployment_timestamp_seconds", {"model", model, "version", m == "old" ? "v1" : "v2"}),
                 m == "old" ? 0 : s, end, step, [&, deployed](int64_t) { return static_cast<double>(kStart + deployed) / 1000; });
  }

  const Names inference_alerts = {"KVCacheNearlyFull",         "KVCachePreemptions", "InferenceQueueBuildup",
                                  "InferenceErrorRatioHigh",   "ModelServerErrorRatioHigh",
                                  "TimeToFirstTokenRegression"};
  EXPECT_EQ(inference_alerts.size(), AlertsOf("inference.yml").size());
  for (const std::string& alert : inference_alerts) bench.ExpectQuiet(alert, 10 * kMinute, s, kMinute, "instance");
  // At s, with "chat" and "slow" just deployed and one slow sample in view: nothing either.
  EXPECT_EQ(bench.Firing("TimeToFirstTokenRegression", s, "model"), Names{});

  const int64_t lead = 6 * kMinute;
  bench.ExpectFires("KVCacheNearlyFull", s + lead, "instance", {"b:8000"});
  bench.ExpectFires("KVCachePreemptions", s + lead, "instance", {"b:8000"});
  bench.ExpectFires("InferenceQueueBuildup", s + lead, "instance", {"b:8000", "t2:8002"});
  bench.ExpectFires("InferenceErrorRatioHigh", s + lead, "model", {"broken"});
  bench.ExpectFires("ModelServerErrorRatioHigh", s + lead, "instance", {"g2:80", "t2:8002"});
  bench.ExpectFires("TimeToFirstTokenRegression", s + 16 * kMinute, "model", {"slow"});
}

// The latency SLO: 1-minute samples over 3 days and 7 hours. "steady" is always within its
// budget (0.5% slow requests against 1%); "creep" is always a little over it (1.5%: a ticket,
// never a page); "spike" turns 50% slow at s (a page).
TEST(StockRulesTest, LatencySloBurnRateAlerts) {
  Bench bench;
  constexpr int64_t s = 3 * kDay + 6 * kHour, end = s + kHour, step = kMinute;
  for (const char* model : {"steady", "creep", "spike"}) {
    const std::string m = model;
    auto slow = [&, m](int64_t t) {
      if (m == "creep") return 0.015;
      return m == "spike" && t >= s ? 0.5 : 0.005;
    };
    const std::string base = "gen_ai_server_request_duration_seconds";
    bench.Counter(With(base + "_count", {"model", model, "model_version", "1"}), 0, end, step, [](int64_t) { return 2.0; });
    bench.Counter(With(base + "_bucket", {"model", model, "model_version", "1", "le", "10.24"}), 0, end, step,
                  [&](int64_t t) { return 2.0 * (1 - slow(t)); });
  }
  EXPECT_EQ(AlertsOf("slo.yml").size(), 2u);
  // The recording rules run every 5 minutes from the start (the long windows add up their
  // 5-minute rates); the checks, in time order, record at their own times too.
  auto record_until = [&bench](int64_t from, int64_t until) {
    for (int64_t t = from; t < until; t += 5 * kMinute) bench.Record(t);
  };
  record_until(5 * kMinute, s - 6 * kHour);
  for (int64_t t = s - 6 * kHour; t < s; t += 10 * kMinute) {
    EXPECT_EQ(bench.Firing("LatencySLOBudgetBurnFast", t, "model"), Names{}) << t / kMinute;
    EXPECT_EQ(bench.Firing("LatencySLOBudgetBurnSlow", t, "model"), Names{"creep"}) << t / kMinute;
    bench.Record(t + 5 * kMinute);
  }
  // 50% slow: the 1-hour ratio passes 14.4% after about 17 minutes.
  record_until(s, s + 10 * kMinute);
  EXPECT_EQ(bench.Firing("LatencySLOBudgetBurnFast", s + 10 * kMinute, "model"), Names{});
  record_until(s + 15 * kMinute, s + 20 * kMinute);
  bench.ExpectFires("LatencySLOBudgetBurnFast", s + 20 * kMinute, "model", {"spike"});
  record_until(s + 25 * kMinute, s + 30 * kMinute);
  EXPECT_EQ(bench.Firing("LatencySLOBudgetBurnSlow", s + 30 * kMinute, "model"), Names{"creep"});
}

// Quality scores every minute for a day and 3 hours, and drift flags; the incidents start at s.
TEST(StockRulesTest, QualityAlerts) {
  Bench bench;
  constexpr int64_t s = kDay + 2 * kHour, end = s + 2 * kHour, step = kMinute;
  // "good" scores 0.8; "worse" 0.8 then 0.4 from s; "rare" 0.1, but 1 evaluation in 10 minutes.
  for (const char* model : {"good", "worse", "rare"}) {
    const std::string m = model;
    const double per_second = m == "rare" ? 1.0 / 600 : 0.25;
    auto score = [&, m](int64_t t) {
      if (m == "rare") return 0.1;
      return m == "worse" && t >= s ? 0.4 : 0.8 + 0.05 * std::sin(static_cast<double>(t) / kHour);
    };
    const Labels l = Labels::Of({"model", model, "version", "1", "evaluator", "composite"});
    bench.Histogram("tyto_quality_score", l, {"0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9", "1"}, 0, end,
                    step, per_second, score);
  }
  // Drift: m1's column income drifts from s (the data set does not); all of m2's do.
  for (const char* feature : {"age", "income"}) {
    const std::string f = feature;
    bench.Series(With("tyto_drift_detected", {"model", "m1", "feature", feature, "test", "ks"}), 0, end, step,
                 [&, f](int64_t t) { return f == "income" && t >= s ? 1.0 : 0.0; });
    bench.Series(With("tyto_drift_detected", {"model", "m2", "feature", feature, "test", "ks"}), 0, end, step,
                 [&](int64_t t) { return t >= s ? 1.0 : 0.0; });
  }
  bench.Series(With("tyto_drift_dataset_drift", {"model", "m1"}), 0, end, step, [](int64_t) { return 0.0; });
  bench.Series(With("tyto_drift_dataset_drift", {"model", "m2"}), 0, end, step, [&](int64_t t) { return t >= s ? 1.0 : 0.0; });

  const Names quality_alerts = {"QualityScoreDrop", "QualityScoreLow", "DataDriftDetected", "FeatureDriftDetected"};
  EXPECT_EQ(quality_alerts.size(), AlertsOf("quality.yml").size());
  for (const std::string& alert : quality_alerts) bench.ExpectQuiet(alert, 2 * kHour, s, 5 * kMinute, "model");
  bench.ExpectFires("DataDriftDetected", s + kMinute, "model", {"m2"});
  bench.ExpectFires("FeatureDriftDetected", s + kMinute, "model", {"m1"});
  bench.ExpectFires("QualityScoreDrop", s + 20 * kMinute, "model", {"worse"});
  bench.ExpectFires("QualityScoreLow", s + 25 * kMinute, "model", {"worse"});
}

// Pipeline stages over a day and 6 hours, every minute (Tyto writes them every flush).
//   hourly: succeeds on every hour, fails once at half past each hour (a success follows: not
//           "failing"), and stops at s (stale after about 3.5 hours).
//   daily:  succeeds once a day (never stale by its own rhythm).
//   flaky:  hourly, then from s fails every 10 minutes and writes fields off its schema; its
//           last run rejected 20% of its rows.
TEST(StockRulesTest, PipelineAlerts) {
  Bench bench;
  constexpr int64_t s = kDay + kHour, end = s + 5 * kHour, step = kMinute;
  struct Stage {
    std::string name;
    std::function<bool(int64_t)> success;  // a successful run ends at this minute
    std::function<bool(int64_t)> failure;
  };
  const std::vector<Stage> stages = {
      {"hourly", [](int64_t t) { return t < s && t % kHour == 0; },
       [](int64_t t) { return t < s - kHour && t % kHour == 30 * kMinute; }},
      {"daily", [](int64_t t) { return t % kDay == 10 * kMinute; }, [](int64_t) { return false; }},
      {"flaky", [](int64_t t) { return t < s && t % kHour == 0; }, [](int64_t t) { return t >= s && t % (10 * kMinute) == 0; }},
  };
  for (const Stage& st : stages) {
    auto labels = [&st](const char* name, std::initializer_list<std::string_view> extra) {
      LabelsBuilder b(Labels::Of(extra));
      b.Set(kMetricNameLabel, name);
      b.Set("pipeline", "features");
      b.Set("stage", st.name);
      return b.Build();
    };
    double successes = 0, failures = 0;
    int64_t last_success = -1;
    std::vector<std::pair<int64_t, double>> freshness, ok, failed;
    for (int64_t t = 0; t < end; t += step) {
      if (st.success(t)) ++successes, last_success = t;
      if (st.failure(t)) ++failures;
      if (last_success >= 0) freshness.emplace_back(t, static_cast<double>(t - last_success) / kSecond);
      ok.emplace_back(t, successes);
      failed.emplace_back(t, failures);
    }
    auto replay = [](const std::vector<std::pair<int64_t, double>>& points) {
      return [&points](int64_t t) {
        auto it = std::lower_bound(points.begin(), points.end(), std::make_pair(t, -1e300));
        return it != points.end() && it->first == t ? it->second : kNoSample;
      };
    };
    bench.Series(labels("tyto_pipeline_stage_freshness_seconds", {}), 0, end, step, replay(freshness));
    bench.Series(labels("tyto_pipeline_stage_runs_total", {"status", "success"}), 0, end, step, replay(ok));
    bench.Series(labels("tyto_pipeline_stage_runs_total", {"status", "failed"}), 0, end, step, replay(failed));
    const bool flaky = st.name == "flaky";
    for (const char* kind : {"missing", "extra", "retyped"}) {
      const bool off = flaky && std::string(kind) == "missing";
      bench.Series(labels("tyto_pipeline_schema_mismatches_total", {"kind", kind}), 0, end, step,
                   [&, off](int64_t t) { return off && t >= s ? 3.0 : 0.0; });
    }
    bench.Series(labels("tyto_pipeline_stage_last_run_rejected_ratio", {}), 0, end, step,
                 [&, flaky](int64_t t) { return flaky && t >= s ? 0.2 : 0.01; });
  }

  const Names pipeline_alerts = {"PipelineStageStale", "PipelineStageFailing", "PipelineSchemaMismatch",
                                 "PipelineRejectedRowsHigh"};
  EXPECT_EQ(pipeline_alerts.size(), AlertsOf("pipelines.yml").size());
  for (const std::string& alert : pipeline_alerts) bench.ExpectQuiet(alert, 2 * kHour, s, 5 * kMinute, "stage");
  bench.ExpectFires("PipelineSchemaMismatch", s + kMinute, "stage", {"flaky"});
  bench.ExpectFires("PipelineRejectedRowsHigh", s + kMinute, "stage", {"flaky"});
  // flaky's last success was at s - 1 h: failures from s, none succeeded within the hour.
  bench.ExpectFires("PipelineStageFailing", s + 5 * kMinute, "stage", {"flaky"});
  // hourly and flaky stopped succeeding at s - 1 h (their last run on the hour before s):
  // stale past 3 times their mean interval.
  EXPECT_EQ(bench.Firing("PipelineStageStale", s + 2 * kHour, "stage"), Names{});
  bench.ExpectFires("PipelineStageStale", s + 3 * kHour, "stage", {"flaky", "hourly"});
}

// Scrape targets every 15 s for 2 hours: one of four vLLM targets down from s, three of them
// from s2, and the only target of job solo down from s.
TEST(StockRulesTest, TargetAlerts) {
  Bench bench;
  constexpr int64_t s = kHour, s2 = kHour + 30 * kMinute, end = 2 * kHour, step = 15 * kSecond;
  for (int i = 0; i < 4; ++i) {
    const std::string instance = "v" + std::to_string(i) + ":8000";
    const int64_t down = i == 0 ? s : i < 3 ? s2 : end;
    bench.Series(With("up", {"instance", instance, "job", "vllm"}), 0, end, step, [down](int64_t t) { return t >= down ? 0.0 : 1.0; });
  }
  bench.Series(With("up", {"instance", "d0:9400", "job", "dcgm"}), 0, end, step, [](int64_t) { return 1.0; });
  bench.Series(With("up", {"instance", "solo:9000", "job", "solo"}), 0, end, step, [](int64_t t) { return t >= s ? 0.0 : 1.0; });

  EXPECT_EQ(AlertsOf("targets.yml").size(), 2u);
  bench.ExpectQuiet("TargetDown", 0, s, kMinute, "instance");
  bench.ExpectQuiet("JobMostlyDown", 0, s2, kMinute, "job");
  bench.ExpectFires("TargetDown", s + kMinute, "instance", {"solo:9000", "v0:8000"});
  bench.ExpectFires("JobMostlyDown", s2 + kMinute, "job", {"vllm"});
}

// Tyto's own attack signals and those of access logs sent in: a brute-force run of wrong
// credentials, a scanner's 404s, a spike of refused bodies, on one instance or service, beside a
// calm one whose failures and 404s stay at the everyday trickle.
TEST(StockRulesTest, SecurityAlerts) {
  Bench bench;
  constexpr int64_t s = kHour, end = 2 * kHour, step = 15 * kSecond;
  auto after = [](double calm, double attack) { return [=](int64_t t) { return t >= s ? attack : calm; }; };
  // Rates a second: 0.5 wrong secrets a second is 150 in 5 minutes; the calm trickle is 0.02.
  bench.Counter(With("tyto_http_auth_failures_total", {"instance", "a:9800", "job", "tyto", "reason", "invalid_credentials"}),
                0, end, step, after(0.02, 0.5));
  bench.Counter(With("tyto_http_auth_failures_total", {"instance", "b:9800", "job", "tyto", "reason", "invalid_credentials"}),
                0, end, step, after(0.02, 0.02));
  bench.Counter(With("tyto_http_auth_failures_total", {"instance", "b:9800", "job", "tyto", "reason", "missing_scope"}),
                0, end, step, after(0.02, 1));  // a token without the scope: not guessing
  bench.Counter(With("tyto_http_unknown_path_requests_total", {"instance", "a:9800", "job", "tyto"}), 0, end, step,
                after(0.01, 2));
  bench.Counter(With("tyto_http_unknown_path_requests_total", {"instance", "b:9800", "job", "tyto"}), 0, end, step,
                after(0.01, 0.01));
  bench.Counter(With("tyto_http_requests_refused_total", {"instance", "b:9800", "job", "tyto", "reason", "decompressed_too_large"}),
                0, end, step, after(0, 1));
  bench.Counter(With("tyto_http_requests_refused_total", {"instance", "a:9800", "job", "tyto", "reason", "rate_limited"}),
                0, end, step, after(0.01, 0.01));
  // Access logs: nginx is attacked (guessing and scanning, 413s), api is busy and calm.
  for (const auto& [service, total, calm_share] : {std::tuple{"nginx", 5.0, 0.01}, std::tuple{"api", 50.0, 0.01}}) {
    const bool attacked = std::string(service) == "nginx";
    bench.Counter(With("tyto_access_log_requests_total", {"service", service, "code", "2xx"}), 0, end, step,
                  after(total, total));
    bench.Counter(With("tyto_access_log_auth_failures_total", {"service", service}), 0, end, step,
                  after(total * calm_share, attacked ? 3 : total * calm_share));
    bench.Counter(With("tyto_access_log_unknown_path_total", {"service", service}), 0, end, step,
                  after(total * calm_share, attacked ? 4 : total * calm_share));
    bench.Counter(With("tyto_access_log_refused_total", {"service", service, "reason", "body_too_large"}), 0, end, step,
                  after(0, attacked ? 1 : 0));
  }
  // A busy service's everyday 404s (0.5 a second: 150 in 5 minutes) are no scan: a small share.
  bench.Counter(With("tyto_access_log_unknown_path_total", {"service", "busy"}), 0, end, step, after(0.5, 0.5));
  bench.Counter(With("tyto_access_log_requests_total", {"service", "busy", "code", "2xx"}), 0, end, step, after(50, 50));

  EXPECT_EQ(AlertsOf("security.yml").size(), 6u);
  for (const char* alert : {"TytoAuthBruteForce", "TytoUnknownPathScan", "TytoRequestsRefusedSpike"}) {
    bench.ExpectQuiet(alert, 10 * kMinute, s, kMinute, "instance");
  }
  for (const char* alert : {"AccessLogAuthFailures", "AccessLogUnknownPathScan", "AccessLogRefusedSpike"}) {
    bench.ExpectQuiet(alert, 10 * kMinute, s, kMinute, "service");
  }
  bench.ExpectFires("TytoAuthBruteForce", s + 5 * kMinute, "instance", {"a:9800"});
  bench.ExpectFires("TytoUnknownPathScan", s + 5 * kMinute, "instance", {"a:9800"});
  bench.ExpectFires("TytoRequestsRefusedSpike", s + 5 * kMinute, "reason", {"decompressed_too_large"});
  bench.ExpectFires("AccessLogAuthFailures", s + 5 * kMinute, "service", {"nginx"});
  bench.ExpectFires("AccessLogUnknownPathScan", s + 5 * kMinute, "service", {"nginx"});
  bench.ExpectFires("AccessLogRefusedSpike", s + 5 * kMinute, "service", {"nginx"});
}

// Scrapes every dcgm-exporter and model-server endpoint of `fleet` every 15 s while its clock
// is at or before kStart + until, as Tyto's scrapes would store them: `up`, and each page's
// samples with `job` and `instance` ("<hostname>/<job>/<replica>").
void ScrapeFleet(simulate::Fleet* fleet, testing::FakeClock* clock, Storage* storage, int64_t until) {
  const auto& endpoints = fleet->endpoints();
  for (; clock->NowMillis() <= kStart + until; clock->Advance(std::chrono::seconds(15))) {
    const int64_t now = clock->NowMillis();
    auto app = storage->NewAppender();
    for (size_t i = 0; i < endpoints.size(); ++i) {
      const simulate::Endpoint& e = endpoints[i];
      if (e.exporter == simulate::Exporter::kNode) continue;
      const std::string instance = e.hostname + "/" + e.job() + "/" + std::to_string(e.replica);
      const simulate::Page page = fleet->Scrape(i);
      ASSERT_TRUE(app->Append(0, With("up", {"instance", instance, "job", e.job()}), now, page.status == 200 ? 1 : 0).ok());
      if (page.status != 200) continue;
      scrape::TextParser parser(page.body, scrape::FormatFromContentType(page.content_type));
      for (;;) {
        auto entry = parser.Next();
        ASSERT_TRUE(entry.ok()) << entry.status().ToString();
        if (*entry == scrape::Entry::kEOF) break;
        if (*entry != scrape::Entry::kSeries) continue;
        LabelsBuilder b(parser.labels());
        b.Set("instance", instance);
        b.Set("job", e.job());
        ASSERT_TRUE(app->Append(0, b.Build(), now, parser.value()).ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
}

// "<Hostname>/<gpu>" of each series alert `alert` returns at the absolute time `t`.
Names GpusFiring(Bench& bench, const std::string& alert, int64_t t) {
  Names hosts = bench.Firing(alert, t, "Hostname", true), gpus = bench.Firing(alert, t, "gpu", true);
  Names out;
  for (size_t i = 0; i < hosts.size() && i < gpus.size(); ++i) out.push_back(hosts[i] + "/" + gpus[i]);
  return out;
}

// The simulated fleet (src/simulate): 3 nodes of 8 GPUs (vLLM, TGI, Triton), scraped in-process
// every 15 s for 22 minutes, with incidents from minute 5: GPU 3 of node 1 overheats, GPU 5 of
// node 0 reports XID 79 and double-bit ECC errors, Triton's replica on node 2 slows down (its
// queue builds), and vLLM's second replica on node 0 goes down. Before minute 5 no GPU,
// inference or target alert returns anything; then each incident's alert returns its series.
TEST(StockRulesTest, SimulatedFleetIncidents) {
  using std::chrono::minutes;
  simulate::Scenario scenario;
  auto add = [&scenario](simulate::IncidentKind kind, int node) -> simulate::Incident& {
    simulate::Incident& inc = scenario.incidents.emplace_back();
    inc.kind = kind;
    inc.at = minutes(5);
    inc.node = node;
    return inc;
  };
  simulate::Incident& heat = add(simulate::IncidentKind::kGpuOverheat, 1);
  heat.gpu = 3, heat.temperature = 95, heat.ramp = minutes(1);
  add(simulate::IncidentKind::kXidError, 0).gpu = 5;
  simulate::Incident& ecc = add(simulate::IncidentKind::kEccErrors, 0);
  ecc.gpu = 5, ecc.dbe = 2;
  simulate::Incident& queue = add(simulate::IncidentKind::kQueueBuildup, 2);
  queue.replica = 0, queue.slowdown = 3, queue.ramp = minutes(1);
  add(simulate::IncidentKind::kReplicaDown, 0).replica = 1;

  testing::FakeClock clock(kStart);
  simulate::FleetOptions options;
  options.nodes = 3;
  options.gpus_per_node = 8;
  options.scenario = scenario;
  auto fleet = simulate::Fleet::Create(options, &clock);
  ASSERT_TRUE(fleet.ok()) << fleet.status().ToString();

  Bench bench;
  auto scrape_until = [&](int64_t until) { ScrapeFleet(fleet->get(), &clock, bench.storage(), until); };

  std::vector<const Rule*> watched;
  for (const char* file : {"gpu.yml", "inference.yml", "targets.yml"}) {
    for (const Rule* r : AlertsOf(file)) watched.push_back(r);
  }
  ASSERT_FALSE(watched.empty());
  // Calm: the first 5 minutes, every 30 s.
  for (int64_t t = kMinute; t < 5 * kMinute; t += 30 * kSecond) {
    scrape_until(t);
    for (const Rule* r : watched) {
      EXPECT_EQ(bench.Firing(r->name, kStart + t, "instance", /*absolute=*/true), Names{})
          << r->name << " at " << t / kSecond << " s";
    }
  }
  auto gpu_of = [&](const std::string& alert, int64_t t) { return GpusFiring(bench, alert, kStart + t); };
  scrape_until(6 * kMinute + 30 * kSecond);
  EXPECT_EQ(gpu_of("GPUXidErrorCritical", 6 * kMinute + 30 * kSecond), Names{"gpu-node-000/5"});
  EXPECT_EQ(gpu_of("GPUUncorrectableECCErrors", 6 * kMinute + 30 * kSecond), Names{"gpu-node-000/5"});
  scrape_until(12 * kMinute);
  EXPECT_EQ(gpu_of("GPUTemperatureHigh", 12 * kMinute), Names{"gpu-node-001/3"});
  EXPECT_EQ(gpu_of("GPUTemperatureCritical", 12 * kMinute), Names{"gpu-node-001/3"});
  EXPECT_EQ(gpu_of("GPUThermalThrottling", 12 * kMinute), Names{"gpu-node-001/3"});
  EXPECT_EQ(bench.Firing("TargetDown", kStart + 12 * kMinute, "instance", true), Names{"gpu-node-000/vllm/1"});
  scrape_until(22 * kMinute);
  Names queued = bench.Firing("InferenceQueueBuildup", kStart + 22 * kMinute, "instance", true);
  EXPECT_EQ(queued, Names{"gpu-node-002/triton/0"});
}

// `tyto simulate`'s default scenario (DefaultScenario: its first ten minutes) on its default
// 4 x 8 GPU fleet: the GPU alerts a demo or an end-to-end test can count on, and when.
TEST(StockRulesTest, DefaultDemoScenario) {
  testing::FakeClock clock(kStart);
  simulate::FleetOptions options;
  options.scenario = simulate::DefaultScenario(options.nodes, options.gpus_per_node);
  auto fleet = simulate::Fleet::Create(options, &clock);
  ASSERT_TRUE(fleet.ok()) << fleet.status().ToString();
  Bench bench;
  // Calm until the overheating starts at 1 min.
  ScrapeFleet(fleet->get(), &clock, bench.storage(), kMinute);
  for (const Rule* r : AlertsOf("gpu.yml")) {
    EXPECT_EQ(bench.Firing(r->name, kStart + kMinute, "gpu", true), Names{}) << r->name;
  }
  // XID 79 and 2 double-bit ECC errors on GPU 5 of node 0 at 3 min: both page at once.
  ScrapeFleet(fleet->get(), &clock, bench.storage(), 3 * kMinute + 30 * kSecond);
  EXPECT_EQ(GpusFiring(bench, "GPUXidErrorCritical", kStart + 3 * kMinute + 30 * kSecond), Names{"gpu-node-000/5"});
  EXPECT_EQ(GpusFiring(bench, "GPUUncorrectableECCErrors", kStart + 3 * kMinute + 30 * kSecond),
            Names{"gpu-node-000/5"});
  // GPU 3 of node 1 heats towards 94 °C from 1 min (a 3-minute ramp, then the card's lag):
  // 90 °C and thermal throttling by 6.5 min, still there one and two minutes later (past
  // their `for`), so both fire before the incident ends at 9 min.
  for (int64_t t : {6 * kMinute + 30 * kSecond, 7 * kMinute + 30 * kSecond, 8 * kMinute + 30 * kSecond}) {
    ScrapeFleet(fleet->get(), &clock, bench.storage(), t);
    EXPECT_EQ(GpusFiring(bench, "GPUTemperatureCritical", kStart + t), Names{"gpu-node-001/3"}) << t / kSecond;
    EXPECT_EQ(GpusFiring(bench, "GPUThermalThrottling", kStart + t), Names{"gpu-node-001/3"}) << t / kSecond;
  }
}

}  // namespace
}  // namespace tyto::rules
