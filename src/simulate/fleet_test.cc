// The simulated fleet, driven by a FakeClock: what it serves parses, its dynamics keep the
// invariants real exporters keep, a seed gives the same fleet, and incidents change the right
// series at the right time.
#include "simulate/fleet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "scrape/text_parser.h"
#include "testing/fake_clock.h"
#include "testing/http_client.h"

namespace tyto::simulate {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeClock;

// 2023-11-14T22:13:20Z: a fixed start, so diurnal phase and noise are the same on every run.
constexpr int64_t kStartMillis = 1'700'000'000'000;

struct ParsedPage {
  std::map<std::string, double> values;                 // series as written -> value
  std::map<std::string, Labels> labels;                 // series as written -> labels
  std::map<std::string, scrape::MetricType> types;      // family -> type
  std::set<std::string> helps;                          // families with a HELP line
  std::string error;                                    // empty: parsed whole
};

ParsedPage Parse(const std::string& body) {
  ParsedPage out;
  scrape::TextParser p(body, scrape::Format::kPrometheusText);
  for (;;) {
    auto e = p.Next();
    if (!e.ok()) {
      out.error = e.status().ToString();
      return out;
    }
    if (*e == scrape::Entry::kEOF) return out;
    if (*e == scrape::Entry::kType) out.types[std::string(p.family())] = p.type();
    if (*e == scrape::Entry::kHelp) out.helps.insert(std::string(p.family()));
    if (*e == scrape::Entry::kSeries) {
      std::string s(p.series());
      out.values[s] = p.value();
      out.labels[s] = p.labels();
    }
  }
}

// The family a sample belongs to: its name, or for histograms the name without the suffix.
std::string FamilyOf(const ParsedPage& page, std::string_view name) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      std::string base(name.substr(0, name.size() - suffix.size()));
      auto it = page.types.find(base);
      if (it != page.types.end() && it->second == scrape::MetricType::kHistogram) return base;
    }
  }
  return std::string(name);
}

bool IsCounterLike(const ParsedPage& page, const std::string& series) {
  const Labels& l = page.labels.at(series);
  const std::string family = FamilyOf(page, l.MetricName());
  auto it = page.types.find(family);
  return it != page.types.end() &&
         (it->second == scrape::MetricType::kCounter || it->second == scrape::MetricType::kHistogram);
}

// One value of `metric` on a page, picked by one label (empty name: the only series).
double Value(const ParsedPage& page, std::string_view metric, std::string_view label = "", std::string_view value = "") {
  for (const auto& [series, l] : page.labels) {
    if (l.MetricName() != metric) continue;
    if (!label.empty() && l.Get(label) != value) continue;
    return page.values.at(series);
  }
  ADD_FAILURE() << "no " << metric << " with " << label << "=" << value;
  return NAN;
}

class FleetTest : public ::testing::Test {
 protected:
  std::unique_ptr<Fleet> Make(FleetOptions o) {
    auto f = Fleet::Create(o, &clock_);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  // The endpoint of this job on this node (replica 0 for model servers).
  static size_t Find(const Fleet& f, Exporter e, int node, int replica = -1) {
    const auto& eps = f.endpoints();
    for (size_t i = 0; i < eps.size(); ++i) {
      if (eps[i].exporter == e && eps[i].node == node && (replica < 0 || eps[i].replica == replica)) return i;
    }
    ADD_FAILURE() << "no endpoint " << JobName(e) << " on node " << node;
    return 0;
  }
  ParsedPage ScrapeParsed(Fleet& f, size_t i) {
    Page page = f.Scrape(i);
    EXPECT_EQ(page.status, 200);
    ParsedPage p = Parse(page.body);
    EXPECT_EQ(p.error, "");
    return p;
  }

  FakeClock clock_{kStartMillis};
};

TEST_F(FleetTest, EndpointsPerNodeAndJob) {
  FleetOptions o;  // 4 nodes x 8 GPUs
  auto f = Make(o);
  ASSERT_TRUE(f);
  std::map<std::string, int> jobs;
  for (const Endpoint& e : f->endpoints()) ++jobs[e.job()];
  EXPECT_EQ(jobs["dcgm"], 4);
  EXPECT_EQ(jobs["node"], 4);
  EXPECT_EQ(jobs["vllm"], 4);    // nodes 0 and 3, tensor parallel 4: 2 replicas each
  EXPECT_EQ(jobs["tgi"], 4);     // node 1, tensor parallel 2
  EXPECT_EQ(jobs["triton"], 2);  // node 2, tensor parallel 4
  EXPECT_EQ(f->endpoints()[0].hostname, "gpu-node-000");
  // 60% of 32 GPUs' capacity at the daily mean: the demo's 200 requests/s, give or take the
  // daily cycle and noise.
  const double rate = f->FleetRequestRate(kStartMillis);
  EXPECT_GT(rate, 200 * 0.7);
  EXPECT_LT(rate, 200 * 1.3);
  auto bad = Fleet::Create([] { FleetOptions b; b.nodes = 0; return b; }(), &clock_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--nodes must be between 1 and 10000, got 0"), std::string::npos);
}

// Every endpoint's page parses as the Prometheus text format, every family has HELP and TYPE,
// and every series is labelled simulated="true" - through the default scenario's incidents.
TEST_F(FleetTest, EveryPageParsesAndIsLabelledSimulated) {
  FleetOptions o;
  o.nodes = 6;
  o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
  auto f = Make(o);
  ASSERT_TRUE(f);
  std::set<std::string> names;
  int down = 0;
  for (seconds at : {seconds(0), seconds(210), seconds(450), seconds(720)}) {
    clock_.SetMillis(kStartMillis + milliseconds(at).count());
    for (size_t i = 0; i < f->endpoints().size(); ++i) {
      Page page = f->Scrape(i);
      if (page.status == 503) {
        ++down;
        continue;
      }
      ASSERT_EQ(page.status, 200);
      EXPECT_EQ(page.content_type, "text/plain; version=0.0.4; charset=utf-8");
      ParsedPage p = Parse(page.body);
      ASSERT_EQ(p.error, "") << f->endpoints()[i].job() << "\n" << page.body;
      ASSERT_GT(p.values.size(), 5u);
      static const std::regex kUuid("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
      for (const auto& [series, l] : p.labels) {
        EXPECT_EQ(l.Get("simulated"), "true") << series;
        if (l.Has("UUID")) {
          EXPECT_TRUE(std::regex_match(std::string(l.Get("UUID")), kUuid)) << series;
        }
        const std::string family = FamilyOf(p, l.MetricName());
        EXPECT_TRUE(p.types.count(family)) << "no TYPE for " << series;
        EXPECT_TRUE(p.helps.count(family)) << "no HELP for " << series;
        names.insert(std::string(l.MetricName()));
      }
      EXPECT_EQ(Value(p, "tyto_simulator_info"), 1);
    }
  }
  EXPECT_EQ(down, 1);  // the default scenario's replica_down, at 7m30s
  for (const char* n :
       {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_MEMORY_TEMP", "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS",
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "node_cpu_seconds_total",
        "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes", "node_load1", "node_load5", "node_load15",
        "node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes", "node_disk_read_bytes_total", "node_boot_time_seconds", "node_time_seconds",
        "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc",
        "vllm:prompt_tokens_total", "vllm:generation_tokens_total", "vllm:request_success_total",
        "vllm:time_to_first_token_seconds_bucket", "vllm:time_per_output_token_seconds_sum",
        "vllm:e2e_request_latency_seconds_count", "tgi_request_duration_bucket", "tgi_queue_size",
        "tgi_batch_current_size", "tgi_request_count", "nv_inference_request_success", "nv_inference_request_failure",
        "nv_inference_count", "nv_inference_queue_duration_us", "nv_inference_compute_infer_duration_us",
        "nv_gpu_utilization", "process_start_time_seconds", "tyto_simulator_info"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

// Over three simulated hours: counters never decrease except when a replica restarts (as the
// scenario scripts), histograms stay consistent, and values stay in physical ranges.
TEST_F(FleetTest, DynamicsKeepTheInvariantsOverHours) {
  FleetOptions o;
  o.nodes = 3;
  o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
  Incident down;  // vLLM replica 1 of node 0 restarts twice
  down.kind = IncidentKind::kReplicaDown;
  down.node = 0, down.replica = 1, down.duration = minutes(2);
  for (auto at : {minutes(30), minutes(95)}) {
    down.at = at;
    o.scenario.incidents.push_back(down);
  }
  auto f = Make(o);
  ASSERT_TRUE(f);
  std::map<std::pair<size_t, std::string>, double> last;
  std::map<size_t, double> start_time;
  std::set<std::pair<int, int>> restarting;  // (node, replica) the scenario takes down
  int restarts_expected = 0;
  for (const Incident& inc : o.scenario.incidents) {
    if (inc.kind != IncidentKind::kReplicaDown) continue;
    restarting.insert({inc.node, inc.replica});
    ++restarts_expected;
  }
  ASSERT_EQ(restarts_expected, 3);  // the default scenario's and ours
  int restarts_seen = 0;
  for (int step = 0; step <= 180; ++step) {
    clock_.SetMillis(kStartMillis + step * 60'000);
    for (size_t i = 0; i < f->endpoints().size(); ++i) {
      const Endpoint& ep = f->endpoints()[i];
      Page page = f->Scrape(i);
      if (page.status == 503) continue;
      ParsedPage p = Parse(page.body);
      ASSERT_EQ(p.error, "");
      bool restarted = false;
      if (ep.replica >= 0) {
        const double st = Value(p, "process_start_time_seconds");
        restarted = start_time.count(i) && st != start_time[i];
        if (restarted) {
          ++restarts_seen;
          EXPECT_TRUE(restarting.count({ep.node, ep.replica})) << ep.job() << " " << ep.node << "/" << ep.replica;
        }
        start_time[i] = st;
      }
      std::map<std::string, std::map<double, double>> buckets;  // histogram series -> le -> count
      std::map<std::string, double> counts;
      for (const auto& [series, v] : p.values) {
        const Labels& l = p.labels.at(series);
        const std::string_view name = l.MetricName();
        ASSERT_TRUE(std::isfinite(v)) << series;
        if (IsCounterLike(p, series)) {
          ASSERT_GE(v, 0) << series;
          auto key = std::make_pair(i, series);
          if (last.count(key) && !restarted) {
            ASSERT_GE(v, last[key]) << series << " at minute " << step;
          }
          last[key] = v;
        }
        if (name.size() > 7 && name.substr(name.size() - 7) == "_bucket") {
          LabelsBuilder b(l);
          b.Del("le");
          b.Del("__name__");
          std::string le(l.Get("le"));
          buckets[b.Build().ToString() + std::string(name.substr(0, name.size() - 7))][le == "+Inf" ? INFINITY : std::stod(le)] = v;
        }
        if (name.size() > 6 && name.substr(name.size() - 6) == "_count" && FamilyOf(p, name) != name) {
          LabelsBuilder b(l);
          b.Del("__name__");
          counts[b.Build().ToString() + std::string(name.substr(0, name.size() - 6))] = v;
        }
        // Physical ranges, and integers where the real exporters give integers.
        auto integer = [value = v, text = series] { EXPECT_EQ(value, std::floor(value)) << text; };  // clang 14 cannot capture structured bindings
        if (name == "DCGM_FI_DEV_GPU_UTIL" || name == "DCGM_FI_DEV_MEM_COPY_UTIL") {
          EXPECT_TRUE(v >= 0 && v <= 100) << series << " " << v;
          integer();
        }
        if (name == "DCGM_FI_DEV_GPU_TEMP" || name == "DCGM_FI_DEV_MEMORY_TEMP") {
          EXPECT_TRUE(v >= 20 && v <= 110) << series << " " << v;
          integer();
        }
        if (name == "DCGM_FI_DEV_POWER_USAGE") {
          EXPECT_TRUE(v > 40 && v <= 700) << series << " " << v;
        }
        if (name == "DCGM_FI_DEV_SM_CLOCK") {
          EXPECT_TRUE(v >= 300 && v <= 1980) << series << " " << v;
        }
        if (name == "DCGM_FI_DEV_FB_USED") {
          integer();
          const std::string free_series = "DCGM_FI_DEV_FB_FREE" + series.substr(name.size());
          EXPECT_EQ(v + p.values.at(free_series) + 548, 81559) << series;
        }
        if (name == "vllm:gpu_cache_usage_perc") {
          EXPECT_TRUE(v >= 0 && v <= 1) << v;
        }
        if (name == "vllm:num_requests_running" || name == "vllm:num_requests_waiting" || name == "tgi_queue_size" ||
            name == "tgi_batch_current_size" || name == "nv_inference_pending_request_count") {
          EXPECT_GE(v, 0);
          integer();
        }
        if (name == "nv_gpu_utilization") {
          EXPECT_TRUE(v >= 0 && v <= 1) << v;
        }
        if (name == "node_load1") {
          EXPECT_TRUE(v >= 0 && v < 64) << v;
        }
        if (name == "node_memory_MemAvailable_bytes") {
          EXPECT_GT(v, 0);
          EXPECT_LT(v, Value(p, "node_memory_MemTotal_bytes"));
        }
      }
      ASSERT_EQ(buckets.size(), counts.size()) << ep.job();
      for (const auto& [h, by_le] : buckets) {
        ASSERT_TRUE(by_le.count(INFINITY)) << h;
        double prev = 0;
        for (const auto& [le, c] : by_le) {
          EXPECT_GE(c, prev) << h << " le=" << le;
          prev = c;
        }
        EXPECT_EQ(by_le.at(INFINITY), counts.at(h)) << h;
      }
    }
  }
  EXPECT_EQ(restarts_seen, restarts_expected);
}

TEST_F(FleetTest, TheSameSeedGivesTheSamePagesHoweverOftenScraped) {
  FleetOptions o;
  o.nodes = 3;
  o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
  auto a = Make(o);
  auto b = Make(o);
  o.seed = 43;
  auto c = Make(o);
  ASSERT_TRUE(a && b && c);
  // `a` is scraped every 15 s for 20 minutes; `b` and `c` only at the end.
  for (int s = 0; s <= 80; ++s) {
    clock_.SetMillis(kStartMillis + s * 15'000);
    for (size_t i = 0; i < a->endpoints().size(); ++i) (void)a->Scrape(i);
  }
  for (size_t i = 0; i < a->endpoints().size(); ++i) {
    Page pa = a->Scrape(i);
    Page pb = b->Scrape(i);
    EXPECT_EQ(pa.body, pb.body) << a->endpoints()[i].job();
    Page pc = c->Scrape(i);
    EXPECT_NE(pa.body, pc.body) << a->endpoints()[i].job();
  }
}

TEST_F(FleetTest, GpuOverheatRaisesTemperatureDropsClocksAndSetsThrottleReasons) {
  FleetOptions o;
  auto s = ParseScenario("incidents:\n  - {kind: gpu_overheat, at: 10m, duration: 10m, ramp: 2m, node: 1, gpu: 2, temperature: 95}\n",
                         "s.yml");
  ASSERT_TRUE(s.ok());
  o.scenario = *s;
  auto f = Make(o);
  ASSERT_TRUE(f);
  const size_t dcgm = Find(*f, Exporter::kDcgm, 1);
  auto at = [&](milliseconds t) {
    clock_.SetMillis(kStartMillis + t.count());
    return ScrapeParsed(*f, dcgm);
  };
  ParsedPage before = at(minutes(10) - seconds(1));
  EXPECT_LT(Value(before, "DCGM_FI_DEV_GPU_TEMP", "gpu", "2"), 80);
  EXPECT_EQ(static_cast<int>(Value(before, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gpu", "2")) & 0x60, 0);
  EXPECT_EQ(Value(before, "DCGM_FI_DEV_SM_CLOCK", "gpu", "2"), 1980);
  ParsedPage during = at(minutes(17));
  EXPECT_GE(Value(during, "DCGM_FI_DEV_GPU_TEMP", "gpu", "2"), 90);
  EXPECT_EQ(static_cast<int>(Value(during, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gpu", "2")) & 0x60, 0x60);
  EXPECT_LT(Value(during, "DCGM_FI_DEV_SM_CLOCK", "gpu", "2"), 1600);
  // The other GPUs are untouched.
  EXPECT_LT(Value(during, "DCGM_FI_DEV_GPU_TEMP", "gpu", "1"), 80);
  EXPECT_EQ(static_cast<int>(Value(during, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gpu", "1")) & 0x60, 0);
  ParsedPage after = at(minutes(30));
  EXPECT_LT(Value(after, "DCGM_FI_DEV_GPU_TEMP", "gpu", "2"), 80);
  EXPECT_EQ(Value(after, "DCGM_FI_DEV_SM_CLOCK", "gpu", "2"), 1980);
}

TEST_F(FleetTest, XidAndEccErrorsAppearOnTheirGpuAtTheirTime) {
  FleetOptions o;
  auto s = ParseScenario(
      "incidents:\n"
      "  - {kind: xid_error, at: 5m, duration: 2m, node: 0, gpu: 5, xid: 79}\n"
      "  - {kind: ecc_errors, at: 5m, duration: 5m, node: 0, gpu: 5, sbe_per_minute: 30, dbe: 2}\n",
      "s.yml");
  ASSERT_TRUE(s.ok());
  o.scenario = *s;
  auto f = Make(o);
  ASSERT_TRUE(f);
  const size_t dcgm = Find(*f, Exporter::kDcgm, 0);
  auto at = [&](milliseconds t) {
    clock_.SetMillis(kStartMillis + t.count());
    return ScrapeParsed(*f, dcgm);
  };
  ParsedPage before = at(minutes(5) - seconds(1));
  EXPECT_EQ(Value(before, "DCGM_FI_DEV_XID_ERRORS", "gpu", "5"), 0);
  EXPECT_EQ(Value(before, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpu", "5"), 0);
  EXPECT_EQ(Value(before, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "gpu", "5"), 0);
  ParsedPage during = at(minutes(6));
  EXPECT_EQ(Value(during, "DCGM_FI_DEV_XID_ERRORS", "gpu", "5"), 79);
  EXPECT_EQ(Value(during, "DCGM_FI_DEV_XID_ERRORS", "gpu", "4"), 0);
  EXPECT_EQ(Value(during, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpu", "5"), 2);
  ParsedPage later = at(minutes(12));
  EXPECT_EQ(Value(later, "DCGM_FI_DEV_XID_ERRORS", "gpu", "5"), 0);
  EXPECT_EQ(Value(later, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpu", "5"), 2);
  const double sbe = Value(later, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "gpu", "5");
  EXPECT_GT(sbe, 100);  // about 150 over 5 minutes
  EXPECT_LT(sbe, 200);
  EXPECT_EQ(Value(later, "DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "gpu", "4"), 0);
}

TEST_F(FleetTest, ReplicaDownAnswers503ThenRestartsWithCountersFromZero) {
  FleetOptions o;
  auto s = ParseScenario("incidents:\n  - {kind: replica_down, at: 3m, duration: 1m, node: 0, replica: 1}\n", "s.yml");
  ASSERT_TRUE(s.ok());
  o.scenario = *s;
  auto f = Make(o);
  ASSERT_TRUE(f);
  const size_t vllm = Find(*f, Exporter::kVllm, 0, 1);
  const size_t dcgm = Find(*f, Exporter::kDcgm, 0);
  clock_.SetMillis(kStartMillis + 179'000);
  ParsedPage before = ScrapeParsed(*f, vllm);
  const double successes = Value(before, "vllm:request_success_total", "finished_reason", "stop");
  EXPECT_GT(successes, 1000);
  clock_.SetMillis(kStartMillis + 210'000);
  Page down = f->Scrape(vllm);
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("simulated outage"), std::string::npos);
  EXPECT_EQ(f->Scrape(Find(*f, Exporter::kVllm, 0, 0)).status, 200);  // the other replica serves
  // Its GPUs (4 to 7) idle and release their memory.
  ParsedPage gpus = ScrapeParsed(*f, dcgm);
  EXPECT_EQ(Value(gpus, "DCGM_FI_DEV_GPU_UTIL", "gpu", "5"), 0);
  EXPECT_EQ(Value(gpus, "DCGM_FI_DEV_FB_USED", "gpu", "5"), 0);
  EXPECT_GT(Value(gpus, "DCGM_FI_DEV_GPU_UTIL", "gpu", "1"), 0);
  clock_.SetMillis(kStartMillis + 300'000);
  ParsedPage after = ScrapeParsed(*f, vllm);
  const double again = Value(after, "vllm:request_success_total", "finished_reason", "stop");
  EXPECT_GT(again, 0);
  EXPECT_LT(again, successes / 10);
  EXPECT_EQ(Value(after, "process_start_time_seconds"), (kStartMillis + 240'000) / 1000);
  EXPECT_GT(Value(ScrapeParsed(*f, dcgm), "DCGM_FI_DEV_FB_USED", "gpu", "5"), 70000);
}

// Traffic jumps by the scripted factor; the served request rate follows.
TEST_F(FleetTest, TrafficChangeRaisesRequestRates) {
  FleetOptions base;
  base.scenario.traffic.requests_per_second = 200;
  base.scenario.traffic.diurnal_amplitude = 0;
  FleetOptions jump = base;
  auto s = ParseScenario("incidents:\n  - {kind: traffic_change, at: 10m, requests_per_second: 320}\n", "s.yml");
  ASSERT_TRUE(s.ok());
  jump.scenario.incidents = s->incidents;
  auto a = Make(base);
  auto b = Make(jump);
  ASSERT_TRUE(a && b);
  const int64_t t = kStartMillis + 15 * 60'000;
  EXPECT_DOUBLE_EQ(b->FleetRequestRate(t) / a->FleetRequestRate(t), 1.6);
  EXPECT_DOUBLE_EQ(b->FleetRequestRate(kStartMillis + 9 * 60'000), a->FleetRequestRate(kStartMillis + 9 * 60'000));
  // Requests served by one vLLM replica per minute, before and after.
  const size_t vllm = Find(*b, Exporter::kVllm, 0, 0);
  auto served = [&](int minute) {
    clock_.SetMillis(kStartMillis + minute * 60'000);
    return Value(ScrapeParsed(*b, vllm), "vllm:e2e_request_latency_seconds_count");
  };
  // The model only moves forward: scrape in time order.
  const double at4 = served(4), at9 = served(9), at11 = served(11), at16 = served(16);
  const double r1 = at9 - at4;
  const double r2 = at16 - at11;
  EXPECT_GT(r2 / r1, 1.4);
  EXPECT_LT(r2 / r1, 1.8);
}

TEST_F(FleetTest, LatencyCreepsAndQueueBuildsOnTheirReplica) {
  FleetOptions o;
  o.scenario.traffic.diurnal_amplitude = 0;
  auto s = ParseScenario(
      "incidents:\n"
      "  - {kind: latency_increase, at: 10m, ramp: 5m, node: 0, replica: 0, factor: 3}\n"
      "  - {kind: queue_buildup, at: 10m, duration: 5m, node: 2, replica: 1, slowdown: 4}\n",
      "s.yml");
  ASSERT_TRUE(s.ok());
  o.scenario.incidents = s->incidents;
  auto f = Make(o);
  ASSERT_TRUE(f);
  const size_t vllm = Find(*f, Exporter::kVllm, 0, 0);
  const size_t other = Find(*f, Exporter::kVllm, 0, 1);
  const size_t triton = Find(*f, Exporter::kTriton, 2, 1);
  struct Totals {
    double sum, count;
  };
  auto ttft = [&](size_t ep, int minute) {
    clock_.SetMillis(kStartMillis + minute * 60'000);
    ParsedPage p = ScrapeParsed(*f, ep);
    return Totals{Value(p, "vllm:time_to_first_token_seconds_sum"), Value(p, "vllm:time_to_first_token_seconds_count")};
  };
  // Mean time to first token over minutes 4-9 and 16-21, on the slowed replica and its
  // neighbour (the model only moves forward: scrape in time order).
  std::map<std::pair<size_t, int>, Totals> t;
  for (int minute : {4, 9, 16, 21}) {
    for (size_t ep : {vllm, other}) t[{ep, minute}] = ttft(ep, minute);
  }
  auto mean = [&](size_t ep, int from, int to) {
    return (t[{ep, to}].sum - t[{ep, from}].sum) / (t[{ep, to}].count - t[{ep, from}].count);
  };
  const double ratio = mean(vllm, 16, 21) / mean(vllm, 4, 9);
  EXPECT_GT(ratio, 2.5);
  EXPECT_LT(ratio, 3.5);
  const double other_ratio = mean(other, 16, 21) / mean(other, 4, 9);
  EXPECT_GT(other_ratio, 0.8);
  EXPECT_LT(other_ratio, 1.25);

  auto pending = [&](int minute) {
    clock_.SetMillis(kStartMillis + minute * 60'000);
    return Value(ScrapeParsed(*f, triton), "nv_inference_pending_request_count");
  };
  EXPECT_LT(pending(9), 5);
  const double mid = pending(12);
  const double late = pending(14);
  EXPECT_GT(mid, 100);
  EXPECT_GT(late, mid);  // still building
  EXPECT_LT(pending(25), 5);  // drained once the replica recovered
}

TEST_F(FleetTest, ServesEveryEndpointOnItsOwnPortAndWritesTargets) {
  FleetOptions o;
  o.nodes = 2;
  auto f = Make(o);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->Start().ok());
  std::set<std::string> addresses;
  for (const Endpoint& e : f->endpoints()) addresses.insert(e.address);
  EXPECT_EQ(addresses.size(), f->endpoints().size());
  const std::string& addr = f->endpoints()[2].address;  // node 0's first vLLM replica
  auto port = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
  auto r = testing::HttpGet(port, "/metrics");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Parse(r->body).error, "");
  EXPECT_NE(r->body.find("vllm:num_requests_running{"), std::string::npos);
  EXPECT_EQ(testing::HttpGet(port, "/")->status, 404);
  const std::string sd = f->TargetsJson();
  EXPECT_NE(sd.find("{\"targets\":[\"" + f->endpoints()[0].address + "\","), std::string::npos) << sd;
  for (const char* job : {"dcgm", "node", "vllm", "tgi"}) {
    EXPECT_NE(sd.find("\"labels\":{\"job\":\"" + std::string(job) + "\"}"), std::string::npos) << sd;
  }
  EXPECT_EQ(sd.find("triton"), std::string::npos);  // two nodes: no Triton node
  f->Stop();
  EXPECT_FALSE(testing::TestConnection::Connect(port, false, seconds(1)).ok());
}

}  // namespace
}  // namespace tyto::simulate
