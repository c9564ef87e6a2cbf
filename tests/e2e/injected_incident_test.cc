// End-to-end: an incident injected into `tyto simulate`'s vLLM fleet shows up in the derived
// metrics, the traces and the logs together, all read back through Tyto's HTTP API (issue 7).
//
// `tyto simulate` (one node of 8 GPUs: two vLLM replicas of 4) sends its inference traffic to a
// `tyto serve` with auth on. Its scenario slows replica 0 ten times from 15 s (a 2 s ramp) and
// takes replica 1 down at 35 s. The test compares before with after, never only "something came back":
//   - metrics: replica 0's median latency (gen_ai_server_request_duration_seconds) rises several
//     times while replica 1's stays; replica 1 counts EngineDeadError failures only after 35 s;
//   - traces: replica 0's traces after the ramp are much longer than before; a min_duration search
//     finds traces of replica 0 that ended after the incident began, few of replica 1 and few from
//     before; after 35 s the gateway's 503 error traces to replica 1 appear (none before);
//   - logs: joined by trace id, the slow traces' model-server logs report the long latency and
//     the gateway's "slow upstream" warnings, the earlier traces' do not; the 503 and
//     EngineDeadError traces have their ERROR logs; the engine's crash is found by text search.
// Times are read from the fleet's start (its deployment event, a tick late when the sender
// starts late), with seconds of margin on either side of each incident; waits are bounded and
// generous, nothing asserts how fast anything is.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::TestResponse;

constexpr const char* kSlowReplica = "vllm-gpu-node-000-0";  // latency x10 from 15 s
constexpr const char* kDownReplica = "vllm-gpu-node-000-1";  // down from 35 s
constexpr const char* kModel = "meta-llama/Llama-3.1-70B-Instruct";
constexpr double kSlowAt = 15, kRampEnd = 17, kDownAt = 35;  // seconds after the fleet's start

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Secs(double t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", t);
  return buf;
}

double WallNow() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

std::string Str(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  return it != obj.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
}

struct TraceRow {
  std::string id;
  double start = 0, end = 0, duration = 0;  // seconds
  std::vector<std::string> services;
  unsigned errors = 0;
  bool Has(const std::string& service) const {
    return std::find(services.begin(), services.end(), service) != services.end();
  }
};

struct LogRow {
  std::string service, severity, body, trace_id, latency;  // latency: the tyto.latency attribute
};

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class InjectedIncidentE2ETest : public ::testing::Test {
 protected:
  TestResponse Get(const std::string& target) { return ApiClient(port_, "", "r-secret").Get(target); }

  // data of a {"status":"success","data":...} answer into doc_; false (with a failure) otherwise.
  bool GetData(const std::string& target, rapidjson::Document* doc) {
    TestResponse r = Get(target);
    doc->Parse(r.body.c_str(), r.body.size());
    const bool ok = r.status == 200 && !doc->HasParseError() && doc->IsObject() && doc->HasMember("data");
    EXPECT_TRUE(ok) << target << ": " << r.status << " " << r.body.substr(0, 500);
    return ok;
  }

  // The value of a one-series instant query at `time`, NaN when there is none.
  double Value(const std::string& query, double time) {
    rapidjson::Document d;
    if (!GetData("/api/v1/query?query=" + UrlEncode(query) + "&time=" + Secs(time), &d)) return std::nan("");
    const rapidjson::Value& data = d["data"];
    if (!data.HasMember("result") || !data["result"].IsArray() || data["result"].Empty()) return std::nan("");
    const rapidjson::Value& v = data["result"][0]["value"];
    if (!v.IsArray() || v.Size() != 2 || !v[1].IsString()) return std::nan("");
    return std::strtod(v[1].GetString(), nullptr);
  }

  // /api/v1/traces with `params` (already encoded), start and end in seconds.
  std::vector<TraceRow> Traces(const std::string& params, double start, double end) {
    std::vector<TraceRow> out;
    rapidjson::Document d;
    if (!GetData("/api/v1/traces?" + params + "&start=" + Secs(start) + "&end=" + Secs(end) + "&limit=5000", &d)) {
      return out;
    }
    const rapidjson::Value& data = d["data"];
    if (!data.IsArray()) return out;
    for (const rapidjson::Value& t : data.GetArray()) {
      TraceRow row;
      row.id = Str(t, "traceId");
      row.start = std::strtod(Str(t, "startTimeUnixNano").c_str(), nullptr) / 1e9;
      row.duration = t.HasMember("durationMs") && t["durationMs"].IsNumber() ? t["durationMs"].GetDouble() / 1e3 : 0;
      row.end = row.start + row.duration;
      row.errors = t.HasMember("errorCount") && t["errorCount"].IsUint() ? t["errorCount"].GetUint() : 0;
      if (t.HasMember("services") && t["services"].IsArray()) {
        for (const rapidjson::Value& s : t["services"].GetArray()) {
          if (s.IsString()) row.services.emplace_back(s.GetString());
        }
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  // /api/v1/logs with `params` (already encoded), over the last hour.
  std::vector<LogRow> Logs(const std::string& params) {
    std::vector<LogRow> out;
    rapidjson::Document d;
    if (!GetData("/api/v1/logs?" + params + "&limit=5000", &d)) return out;
    const rapidjson::Value& data = d["data"];
    if (!data.IsArray()) return out;
    for (const rapidjson::Value& l : data.GetArray()) {
      LogRow row{Str(l, "service"), Str(l, "severityText"), Str(l, "body"), Str(l, "traceId"), ""};
      if (l.HasMember("attributes")) row.latency = Str(l["attributes"], "tyto.latency");
      out.push_back(std::move(row));
    }
    return out;
  }

  void SleepUntil(double wall) {
    while (WallNow() < wall) std::this_thread::sleep_for(200ms);
  }

  std::string Diagnostics() {
    return "\n--- simulate.log ---\n" + ReadFile(dir_.Path("simulate.log")).substr(0, 4000) + "\n--- serve.log ---\n" +
           ReadFile(dir_.Path("serve.log")).substr(0, 4000);
  }

  testing::TempDir dir_;
  uint16_t port_ = 0;
};

TEST_F(InjectedIncidentE2ETest, SlowReplicaAndReplicaDownShowInMetricsTracesAndLogsTogether) {
  const auto wall_start = std::chrono::steady_clock::now();
  ServedTyto served = ServeWithTokens(dir_, {{"sim", "w-secret", "write"}, {"grafana", "r-secret", "read"}},
                                      "inference:\n"
                                      "  flush_interval: 1s\n"
                                      "  dimensions: [model, service]\n"
                                      "  sampling: {rate: 1, decision_wait: 1s}\n");
  port_ = served.port;
  ASSERT_NE(port_, 0) << ReadFile(dir_.Path("serve.log"));
  {
    std::ofstream(dir_.Path("token")) << "w-secret\n";
    std::ofstream(dir_.Path("scenario.yml"))
        << "name: incident-drill\n"
           "traffic: {diurnal_amplitude: 0, noise: 0}\n"
           "incidents:\n"
           "  - {kind: latency_increase, at: 15s, ramp: 2s, node: 0, replica: 0, factor: 10}\n"
           "  - {kind: replica_down, at: 35s, duration: 60s, node: 0, replica: 1}\n";
  }
  const double launched = WallNow();
  Child sim({TYTO_BINARY, "simulate", "--nodes", "1", "--gpus-per-node", "8", "--listen-base", "127.0.0.1:0",
             "--scenario", dir_.Path("scenario.yml"), "--send-to", "http://127.0.0.1:" + std::to_string(port_),
             "--token-file", dir_.Path("token"), "--inference-rate", "20"},
            dir_.Path("simulate.log"));

  // The fleet's start: its deployment event is stamped a fifth of a tick into the first tick.
  double t0 = std::nan("");
  for (int i = 0; i < 60 && std::isnan(t0) && sim.Wait(1ms) == -1; ++i) {
    rapidjson::Document d;
    if (GetData("/api/v1/deployments?model=" + UrlEncode(kModel), &d) && d["data"].IsArray() && !d["data"].Empty() &&
        d["data"][0].HasMember("timestamp") && d["data"][0]["timestamp"].IsNumber()) {
      t0 = d["data"][0]["timestamp"].GetDouble() - 0.2;
    } else {
      std::this_thread::sleep_for(500ms);
    }
  }
  ASSERT_FALSE(std::isnan(t0)) << "no deployment event from tyto simulate" << Diagnostics();
  std::printf("the fleet started %.2f s after tyto simulate was launched\n", t0 - launched);
  ASSERT_LT(std::fabs(t0 - launched), 60) << "the fleet's clock is not the wall clock";

  // ---- Phase 1: replica 0 slows down (15 s to 17 s); look at 33 s of it (from 36 s, for stragglers).
  SleepUntil(t0 + 36);
  ASSERT_EQ(sim.Wait(1ms), -1) << "tyto simulate exited" << Diagnostics();

  // (a) Derived metrics: the median latency per replica, over 10 s before and 10 s after.
  auto p50 = [&](const std::string& service, double at) {
    return Value(
        "histogram_quantile(0.5, sum by (le) (increase(gen_ai_server_request_duration_seconds_bucket{service=\"" +
            service + "\"}[10s])))",
        at);
  };
  const double slow_before = p50(kSlowReplica, t0 + 13), slow_after = p50(kSlowReplica, t0 + 31);
  const double other_before = p50(kDownReplica, t0 + 13), other_after = p50(kDownReplica, t0 + 31);
  std::printf("median latency (metrics): %s %.2f s -> %.2f s; %s %.2f s -> %.2f s\n", kSlowReplica, slow_before,
              slow_after, kDownReplica, other_before, other_after);
  EXPECT_GT(slow_before, 0) << Diagnostics();
  EXPECT_GT(slow_after, 4 * slow_before);
  EXPECT_GT(other_before, 0);
  EXPECT_LT(other_after, 2 * other_before);

  // (b) Traces through replica 0: before (ended before 15 s) and after the ramp (ended 18 s to 33 s).
  const std::vector<TraceRow> through_slow = Traces("service=" + UrlEncode(kSlowReplica), t0 - 120, t0 + 33);
  std::vector<double> before_durations, after_durations;
  for (const TraceRow& t : through_slow) {
    if (t.end < t0 + kSlowAt - 1.5) before_durations.push_back(t.duration);
    if (t.end >= t0 + kRampEnd + 1 && t.end <= t0 + 33) after_durations.push_back(t.duration);
  }
  const double trace_before = Median(before_durations), trace_after = Median(after_durations);
  std::printf("traces through %s: %zu before (median %.2f s), %zu after the ramp (median %.2f s)\n", kSlowReplica,
              before_durations.size(), trace_before, after_durations.size(), trace_after);
  ASSERT_GE(before_durations.size(), 20U) << Diagnostics();
  ASSERT_GE(after_durations.size(), 20U) << Diagnostics();
  EXPECT_GT(trace_after, 4 * trace_before);

  // A min_duration search: three times the usual median. It finds replica 0's traces from after the
  // incident began; hardly any of replica 1's, hardly any from before.
  const int threshold = std::max(1, static_cast<int>(std::ceil(3 * trace_before)));
  const std::string min_duration = "&min_duration=" + std::to_string(threshold) + "s";
  const std::vector<TraceRow> slow = Traces("service=" + UrlEncode(kSlowReplica) + min_duration, t0 - 120, t0 + 33);
  const std::vector<TraceRow> slow_other =
      Traces("service=" + UrlEncode(kDownReplica) + min_duration, t0 - 120, t0 + 33);
  size_t slow_after_incident = 0;
  for (const TraceRow& t : slow) {
    EXPECT_GE(t.duration, threshold - 0.01) << t.id;
    EXPECT_TRUE(t.Has(kSlowReplica)) << t.id;
    EXPECT_FALSE(t.Has(kDownReplica)) << t.id;
    slow_after_incident += t.end >= t0 + kSlowAt;
  }
  const size_t slow_before_incident = static_cast<size_t>(
      std::count_if(before_durations.begin(), before_durations.end(), [&](double d) { return d >= threshold; }));
  std::printf(
      "min_duration=%ds: %zu traces through %s (%zu ended after 15 s; %zu of the earlier ones), %zu through %s\n",
      threshold, slow.size(), kSlowReplica, slow_after_incident, slow_before_incident, slow_other.size(), kDownReplica);
  EXPECT_GE(slow_after_incident, 20U);
  EXPECT_GE(slow_after_incident * 10, slow.size() * 9);
  EXPECT_LE(slow_before_incident * 10, before_durations.size());
  EXPECT_LE(slow_other.size() * 10, slow.size());

  // (c) Logs, joined by trace id: the model server's record of each slow trace reports its long
  // latency, and the gateway warned about the slow first token; the earlier traces' do not.
  auto joined = [&](const TraceRow& t, bool* slow_latency, bool* warned) {
    const std::vector<LogRow> logs = Logs("trace_id=" + t.id);
    bool found = false;
    *slow_latency = *warned = false;
    for (const LogRow& l : logs) {
      EXPECT_EQ(l.trace_id, t.id);
      if (l.service == kSlowReplica && !l.latency.empty()) {
        found = true;
        *slow_latency = std::strtod(l.latency.c_str(), nullptr) >= threshold;
      }
      if (l.service == "gateway" && l.body.find("slow upstream") != std::string::npos) *warned = true;
    }
    EXPECT_TRUE(found) << "no log of " << kSlowReplica << " for trace " << t.id;
  };
  int slow_logged = 0, slow_warned = 0, slow_checked = 0;
  for (const TraceRow& t : slow) {
    if (t.end < t0 + kSlowAt || slow_checked >= 15) continue;
    bool s = false, w = false;
    joined(t, &s, &w);
    ++slow_checked, slow_logged += s, slow_warned += w;
  }
  int early_logged = 0, early_warned = 0, early_checked = 0;
  for (const TraceRow& t : through_slow) {
    if (t.end >= t0 + kSlowAt - 1.5 || early_checked >= 15) continue;
    bool s = false, w = false;
    joined(t, &s, &w);
    ++early_checked, early_logged += s, early_warned += w;
  }
  std::printf(
      "logs by trace id: %d of %d slow traces log a latency over %d s, %d have a slow-upstream warning; "
      "%d and %d of %d earlier traces\n",
      slow_logged, slow_checked, threshold, slow_warned, early_logged, early_warned, early_checked);
  EXPECT_EQ(slow_checked, 15);
  EXPECT_EQ(slow_logged, slow_checked);
  EXPECT_GE(slow_warned * 2, slow_checked);
  EXPECT_EQ(early_checked, 15);
  EXPECT_LE(early_logged, 2);
  EXPECT_LE(early_warned, 2);

  // Log search by text: the gateway's slow-upstream warnings about replica 0, before and after.
  auto warnings = [&](double from, double to) {
    return Logs("service=gateway&level=warn&query=" + UrlEncode("\"slow upstream\"") + "&attr=" +
                UrlEncode(std::string("tyto.upstream=") + kSlowReplica) + "&start=" + Secs(from) + "&end=" + Secs(to))
        .size();
  };
  const size_t warned_before = warnings(t0, t0 + kSlowAt - 1.5), warned_after = warnings(t0 + kRampEnd + 1, t0 + 33);
  std::printf("slow-upstream warnings about %s: %zu before, %zu after the ramp\n", kSlowReplica, warned_before,
              warned_after);
  EXPECT_GE(warned_after, 20U);
  EXPECT_GT(warned_after, 5 * warned_before);

  // ---- Phase 2: replica 1 goes down at 35 s; the gateway drops it 10 s later. ---------------
  const std::string dead_errors =
      "sum(tyto_inference_errors_total{service=\"" + std::string(kDownReplica) + "\",error_type=\"EngineDeadError\"})";
  const double dead_before = Value(dead_errors, t0 + 33);
  EXPECT_TRUE(std::isnan(dead_before) || dead_before == 0) << dead_before;
  const std::string unavailable =
      "service=gateway&status=error&attr=" + UrlEncode(std::string("tyto.upstream=") + kDownReplica) +
      "&attr=" + UrlEncode("error.type=503");
  EXPECT_EQ(Traces(unavailable, t0 - 120, t0 + kDownAt - 1).size(), 0U);

  SleepUntil(t0 + kDownAt + 12);
  ASSERT_EQ(sim.Wait(1ms), -1) << "tyto simulate exited" << Diagnostics();
  // (a) the crash's failures counted, by type, for the replica that went down.
  double dead_after = std::nan("");
  for (int i = 0; i < 40; ++i) {
    dead_after = Value(dead_errors, WallNow());
    if (dead_after > 0) break;
    std::this_thread::sleep_for(500ms);
  }
  std::printf("EngineDeadError failures of %s: %g at 33 s, %g after 35 s\n", kDownReplica, dead_before, dead_after);
  EXPECT_GT(dead_after, 0);

  // (b) the gateway's 503s to the replica while it was down and still in the pool: error traces
  // with the gateway's span only (no model server answered).
  const std::vector<TraceRow> refused = Traces(unavailable, t0 + kDownAt - 1, WallNow());
  for (const TraceRow& t : refused) {
    EXPECT_GE(t.errors, 1U) << t.id;
    EXPECT_EQ(t.services, std::vector<std::string>{"gateway"}) << t.id;
  }
  // The requests in flight when it crashed: error traces through the replica, ending then (in the
  // tick it went down; the model's rare ordinary failures, 0.1%, hardly ever fall in those seconds).
  size_t crashed = 0, crashed_logged = 0;
  for (const TraceRow& t : Traces("status=error&service=" + UrlEncode(kDownReplica), t0 - 120, WallNow())) {
    if (t.end < t0 + kDownAt - 1.5 || t.end > t0 + kDownAt + 2.5) continue;
    ++crashed;
    if (crashed > 10) continue;
    for (const LogRow& l : Logs("trace_id=" + t.id + "&level=error")) {
      crashed_logged += l.service == kDownReplica && l.body.find("EngineDeadError") != std::string::npos;
    }
  }
  // (c) their logs: each 503 trace has the gateway's ERROR naming the replica.
  size_t refused_logged = 0, refused_checked = 0;
  for (const TraceRow& t : refused) {
    if (++refused_checked > 10) break;
    for (const LogRow& l : Logs("trace_id=" + t.id + "&level=error")) {
      refused_logged +=
          l.service == "gateway" && l.body.find(std::string("503 from upstream ") + kDownReplica) != std::string::npos;
    }
  }
  refused_checked = std::min<size_t>(refused_checked, 10);
  std::printf(
      "after 35 s: %zu 503 traces (%zu of %zu with the gateway's ERROR log), %zu crashed requests' traces "
      "(%zu with an EngineDeadError log)\n",
      refused.size(), refused_logged, refused_checked, crashed, crashed_logged);
  EXPECT_GE(refused.size(), 3U) << Diagnostics();
  EXPECT_EQ(refused_logged, refused_checked);
  EXPECT_GE(crashed, 3U);
  EXPECT_EQ(crashed_logged, std::min<size_t>(crashed, 10));

  // The engine's crash and the health check, by log search; neither before the outage.
  const std::string crash_log =
      "service=" + UrlEncode(kDownReplica) + "&level=error&query=" + UrlEncode("AsyncLLMEngine dead");
  EXPECT_EQ(Logs(crash_log + "&start=" + Secs(t0 - 60) + "&end=" + Secs(t0 + kDownAt - 1)).size(), 0U);
  EXPECT_EQ(Logs(crash_log + "&start=" + Secs(t0 + kDownAt - 1) + "&end=" + Secs(WallNow())).size(), 1U);
  std::vector<LogRow> removed;
  for (int i = 0; i < 40 && removed.size() < 2; ++i) {
    removed = Logs("service=gateway&level=warn&query=" + UrlEncode("\"health check failed\"") +
                   "&attr=" + UrlEncode(std::string("tyto.upstream=") + kDownReplica));
    if (removed.size() < 2) std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(removed.size(), 2U) << "each gateway logs that it removed " << kDownReplica;

  sim.Signal(SIGTERM);
  EXPECT_EQ(sim.Wait(10s), 0) << Diagnostics();
  std::printf("wall time %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
}

}  // namespace
}  // namespace tyto::e2e
