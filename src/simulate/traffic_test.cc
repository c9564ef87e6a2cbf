// The simulated inference traffic: deterministic for a seed, well-formed traces (one gateway root
// and one model-server child, nested in time), GenAI attributes consistent with the metrics the
// same fleet serves, and the scenario's incidents visible in spans, logs and events.
#include "simulate/traffic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <set>

#include "scrape/text_parser.h"
#include "simulate/corpus.h"
#include "simulate/fleet.h"
#include "simulate/traffic_json.h"
#include "testing/fake_clock.h"

namespace tyto::simulate {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeClock;

// 2023-11-14T22:13:20Z, as fleet_test.cc.
constexpr int64_t kStartMillis = 1'700'000'000'000;
constexpr std::string_view kLlm = "meta-llama/Llama-3.1-70B-Instruct";

const AttributeValue* Find(const std::vector<KeyValue>& attrs, std::string_view key) {
  for (const KeyValue& kv : attrs) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}
std::string StrAttr(const std::vector<KeyValue>& attrs, std::string_view key) {
  const AttributeValue* v = Find(attrs, key);
  return v != nullptr && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "";
}
int64_t IntAttr(const std::vector<KeyValue>& attrs, std::string_view key) {
  const AttributeValue* v = Find(attrs, key);
  return v != nullptr && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : -1;
}
double DblAttr(const std::vector<KeyValue>& attrs, std::string_view key) {
  const AttributeValue* v = Find(attrs, key);
  return v != nullptr && std::holds_alternative<double>(*v) ? std::get<double>(*v) : NAN;
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

class TrafficTest : public ::testing::Test {
 protected:
  std::unique_ptr<Fleet> Make(FleetOptions o) {
    auto f = Fleet::Create(o, &clock_);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(f).value() : nullptr;
  }
  static FleetOptions DefaultFleet() {
    FleetOptions o;  // 4 nodes x 8 GPUs: vLLM on nodes 0 (OTLP) and 3 (events)
    o.scenario = DefaultScenario(o.nodes, o.gpus_per_node);
    return o;
  }
  // Generates ticks [from, to] into one batch.
  static TrafficBatch Generate(TrafficGenerator& g, int64_t from, int64_t to) {
    TrafficBatch b;
    for (int64_t t = from; t <= to; ++t) g.Generate(t, &b);
    return b;
  }
  // The service of a span's resource.
  static const std::string& ServiceOf(const TrafficGenerator& g, const SpanRecord& s) {
    return g.resources().at(s.resource).service;
  }
  // A counter on a model server's page (sum over its series with this name).
  double CounterOnPage(Fleet& f, size_t endpoint, std::string_view metric) {
    Page page = f.Scrape(endpoint);
    EXPECT_EQ(page.status, 200);
    scrape::TextParser p(page.body, scrape::Format::kPrometheusText);
    double sum = 0;
    for (;;) {
      auto e = p.Next();
      EXPECT_TRUE(e.ok()) << e.status().ToString();
      if (!e.ok() || *e == scrape::Entry::kEOF) break;
      if (*e == scrape::Entry::kSeries && p.labels().MetricName() == metric) sum += p.value();
    }
    return sum;
  }
  static int64_t At(milliseconds offset) { return kStartMillis + offset.count(); }
  static int64_t Nanos(milliseconds offset) { return At(offset) * 1'000'000; }

  FakeClock clock_{kStartMillis};
};

TEST_F(TrafficTest, TheSameSeedGivesTheSameTraffic) {
  auto encode = [this](uint64_t seed) {
    FleetOptions o = DefaultFleet();
    o.seed = seed;
    auto f = Make(o);
    auto g = f->NewTrafficGenerator({});
    std::string all;
    for (int64_t t = 1; t <= 90; ++t) {  // the first pipeline run ends at 90 s
      TrafficBatch b;
      g->Generate(t, &b);
      all += TracesJson(g->resources(), b.spans) + LogsJson(g->resources(), b.logs) + EventsJsonLines(b);
    }
    return all;
  };
  const std::string a = encode(42);
  EXPECT_GT(a.size(), 100'000u);
  EXPECT_EQ(a, encode(42));
  EXPECT_NE(a, encode(43));

  // Generating in other steps (and skipping ticks) does not change a tick's records.
  auto f = Make(DefaultFleet());
  auto g1 = f->NewTrafficGenerator({});
  auto g2 = f->NewTrafficGenerator({});
  TrafficBatch b1 = Generate(*g1, 1, 30);
  TrafficBatch skipped;
  g2->Generate(1, &skipped);
  g2->Generate(29, &skipped);  // ticks 2 to 28 stepped, not reported
  TrafficBatch b2;
  g2->Generate(30, &b2);
  TrafficBatch b1_last;
  auto g3 = f->NewTrafficGenerator({});
  Generate(*g3, 1, 29);
  g3->Generate(30, &b1_last);
  EXPECT_EQ(TracesJson(g2->resources(), b2.spans), TracesJson(g3->resources(), b1_last.spans));
  EXPECT_EQ(LogsJson(g2->resources(), b2.logs), LogsJson(g3->resources(), b1_last.logs));
  EXPECT_EQ(EventsJsonLines(b2), EventsJsonLines(b1_last));
  // A tick at or before the last one adds nothing.
  TrafficBatch again;
  g2->Generate(30, &again);
  g2->Generate(5, &again);
  EXPECT_TRUE(again.empty());
}

// Every trace: a gateway SERVER root; for the OTLP replicas one model-server SERVER child inside
// it in time with the GenAI attributes; for the replicas without OpenTelemetry an inference event
// naming the trace instead. Each model-server span has one log record.
TEST_F(TrafficTest, SpansFormTreesWithGenAiAttributes) {
  auto f = Make(DefaultFleet());
  auto g = f->NewTrafficGenerator({});
  const TrafficBatch b = Generate(*g, 1, 300);
  ASSERT_GT(b.spans.size(), 5000u);
  static const std::regex kTraceId("[0-9a-f]{32}");
  static const std::regex kSpanId("[0-9a-f]{16}");

  std::map<std::string, std::vector<const SpanRecord*>> traces;
  std::set<std::string> span_ids;
  for (const SpanRecord& s : b.spans) {
    ASSERT_TRUE(std::regex_match(s.trace_id, kTraceId)) << s.trace_id;
    ASSERT_TRUE(std::regex_match(s.span_id, kSpanId)) << s.span_id;
    EXPECT_TRUE(span_ids.insert(s.span_id).second) << "span id used twice: " << s.span_id;
    EXPECT_EQ(s.kind, kSpanKindServer);
    EXPECT_LE(s.start_unix_nano, s.end_unix_nano);
    EXPECT_GE(s.start_unix_nano, Nanos(seconds(-60)));
    EXPECT_LE(s.end_unix_nano, Nanos(seconds(300)));
    traces[s.trace_id].push_back(&s);
  }
  std::map<std::string, const InferenceRecord*> events_by_trace;  // the LLM's
  for (const InferenceRecord& e : b.inferences) {
    if (e.model == kLlm) {
      EXPECT_TRUE(events_by_trace.emplace(e.trace_id, &e).second);
    }
  }
  std::map<std::string, int> logs_by_span;
  for (const LogRecordOut& l : b.logs) {
    if (!l.span_id.empty()) ++logs_by_span[l.span_id];
  }

  int with_content = 0, errors = 0, via_events = 0;
  for (const auto& [trace_id, spans] : traces) {
    ASSERT_LE(spans.size(), 2u) << trace_id;
    const SpanRecord& root = *spans[0];
    EXPECT_EQ(root.parent_span_id, "");
    EXPECT_EQ(ServiceOf(*g, root), "gateway");
    EXPECT_EQ(StrAttr(root.attributes, "http.request.method"), "POST");
    EXPECT_TRUE(StrAttr(root.attributes, "http.route") == "/v1/chat/completions" ||
                StrAttr(root.attributes, "http.route") == "/v1/completions" ||
                StrAttr(root.attributes, "http.route") == "/v1/extract");
    const int64_t status = IntAttr(root.attributes, "http.response.status_code");
    EXPECT_TRUE(status == 200 || status == 400 || status == 500 || status == 503) << status;
    EXPECT_EQ(root.status_code == kStatusError, status >= 500);
    EXPECT_EQ(StrAttr(root.attributes, "error.type"), status >= 500 ? std::to_string(status) : "");
    const std::string upstream = StrAttr(root.attributes, "tyto.upstream");
    ASSERT_EQ(upstream.rfind("vllm-gpu-node-", 0), 0u) << upstream;
    const bool events_node = upstream.rfind("vllm-gpu-node-003-", 0) == 0;
    if (spans.size() == 1) {
      // No model-server span: the replica reports events, or the gateway got no answer (503).
      if (events_node && status != 503) {
        ASSERT_TRUE(events_by_trace.count(trace_id)) << trace_id;
        const InferenceRecord& e = *events_by_trace.at(trace_id);
        EXPECT_EQ(e.span_id, root.span_id);
        EXPECT_EQ(e.node, "gpu-node-003");
        EXPECT_EQ(e.ok, status == 200);
        EXPECT_LE(e.latency_ms * 1e6, static_cast<double>(root.end_unix_nano - root.start_unix_nano));
        ++via_events;
      } else {
        EXPECT_EQ(status, 503);
      }
      continue;
    }
    EXPECT_FALSE(events_node);
    const SpanRecord& child = *spans[1];
    EXPECT_EQ(child.parent_span_id, root.span_id);
    EXPECT_EQ(ServiceOf(*g, child), upstream);
    EXPECT_GT(child.start_unix_nano, root.start_unix_nano);
    EXPECT_LT(child.end_unix_nano, root.end_unix_nano);
    const auto& a = child.attributes;
    const std::string op = StrAttr(a, "gen_ai.operation.name");
    EXPECT_TRUE(op == "chat" || op == "text_completion") << op;
    if (StrAttr(root.attributes, "http.route") == "/v1/extract") {
      EXPECT_EQ(op, "chat");
    }
    EXPECT_EQ(child.name, op + " meta-llama/Llama-3.1-70B-Instruct");
    EXPECT_EQ(StrAttr(a, "gen_ai.provider.name"), "vllm");
    EXPECT_EQ(StrAttr(a, "gen_ai.request.model"), "meta-llama/Llama-3.1-70B-Instruct");
    EXPECT_EQ(StrAttr(a, "gen_ai.response.model"), "meta-llama/Llama-3.1-70B-Instruct");
    EXPECT_NE(StrAttr(a, "gen_ai.conversation.id"), "");
    EXPECT_NE(StrAttr(a, "gen_ai.response.id"), "");
    EXPECT_EQ(StrAttr(a, "tyto.model.version"), kModelVersion);
    EXPECT_EQ(StrAttr(a, "tyto.endpoint"), StrAttr(root.attributes, "http.route"));
    EXPECT_EQ(StrAttr(a, "tyto.tenant"), StrAttr(root.attributes, "tyto.tenant"));
    EXPECT_GE(IntAttr(a, "gen_ai.usage.input_tokens"), 1);
    EXPECT_GE(IntAttr(a, "gen_ai.usage.output_tokens"), 0);
    const double queue = DblAttr(a, "tyto.queue_time");
    EXPECT_GE(queue, 0);
    const double duration_s = static_cast<double>(child.end_unix_nano - child.start_unix_nano) / 1e9;
    EXPECT_LE(queue, duration_s + 1e-6);
    EXPECT_EQ(logs_by_span[child.span_id], 1) << "one log record per model-server span";
    if (status == 200) {
      EXPECT_EQ(child.status_code, kStatusUnset);
      const AttributeValue* reasons = Find(a, "gen_ai.response.finish_reasons");
      ASSERT_NE(reasons, nullptr);
      ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(*reasons));
      const auto& r = std::get<std::vector<std::string>>(*reasons);
      ASSERT_EQ(r.size(), 1u);
      EXPECT_TRUE(r[0] == "stop" || r[0] == "length") << r[0];
      const double ttft = DblAttr(a, "gen_ai.response.time_to_first_chunk");
      EXPECT_GE(ttft, queue);
      EXPECT_LE(ttft, duration_s + 1e-6);
      EXPECT_EQ(StrAttr(a, "error.type"), "");
    } else {
      ++errors;
      EXPECT_EQ(child.status_code, kStatusError);
      EXPECT_NE(StrAttr(a, "error.type"), "");
      ASSERT_EQ(child.events.size(), 1u);
      EXPECT_EQ(child.events[0].name, "exception");
    }
    if (Find(a, "gen_ai.input.messages") != nullptr) {
      ++with_content;
      EXPECT_EQ(StrAttr(a, "gen_ai.input.messages").rfind("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\"", 0), 0u);
    }
  }
  EXPECT_GT(via_events, 1000);
  EXPECT_GT(with_content, 100);  // 10% of the OTLP replicas' requests
  EXPECT_GT(errors, 0);          // the baseline 0.1%
  // Inference events of the events group: their numbers hold together.
  int with_features = 0, llm_events = 0;
  for (const InferenceRecord& e : b.inferences) {
    if (e.model != kLlm) continue;
    ++llm_events;
    EXPECT_EQ(e.model_version, kModelVersion);
    EXPECT_GE(e.latency_ms, e.queue_ms);
    if (e.ok) {
      EXPECT_GE(e.ttft_ms, e.queue_ms);
      EXPECT_LE(e.ttft_ms, e.latency_ms + 1e-3);
      EXPECT_TRUE(e.finish_reason == "stop" || e.finish_reason == "length");
    } else {
      EXPECT_NE(e.error_type, "");
    }
    if (!e.features.empty()) {
      ++with_features;
      EXPECT_EQ(e.features.size(), 8u);
    }
    EXPECT_TRUE(e.prediction.empty());
  }
  EXPECT_GT(with_features, llm_events / 3);
  // The start's deployment, and the nightly pipeline's run that ends at 90 s.
  ASSERT_EQ(b.deployments.size(), 1u);
  EXPECT_EQ(b.deployments[0].version, kModelVersion);
  EXPECT_EQ(b.deployments[0].previous_version, kPreviousModelVersion);
  ASSERT_EQ(b.pipeline_stages.size(), 4u);
  for (size_t i = 0; i < b.pipeline_stages.size(); ++i) {
    const PipelineStageRecord& p = b.pipeline_stages[i];
    EXPECT_EQ(p.run_id, b.pipeline_stages[0].run_id);
    EXPECT_EQ(p.rows_out, p.rows_in - p.rows_rejected);
    if (i > 0) {
      EXPECT_EQ(p.rows_in, b.pipeline_stages[i - 1].rows_out);
      EXPECT_EQ(p.start_unix_nano, b.pipeline_stages[i - 1].end_unix_nano);
    }
  }
  EXPECT_EQ(b.pipeline_stages.back().end_unix_nano, Nanos(seconds(90)));
  // Every resource is labelled as simulated.
  for (const Resource& r : g->resources()) {
    const AttributeValue* sim = Find(r.attributes, "tyto.simulated");
    ASSERT_NE(sim, nullptr) << r.service;
    EXPECT_TRUE(std::get<bool>(*sim));
    EXPECT_EQ(StrAttr(r.attributes, "service.name"), r.service);
    EXPECT_NE(StrAttr(r.attributes, "host.name"), "");
  }
}

// Per replica, the requests the traffic reports over ten minutes are the scaled number its
// vllm:request_success_total grew by, and their tokens match its token counters per request.
TEST_F(TrafficTest, RequestRatesAndTokensFollowTheVllmCounters) {
  FleetOptions o = DefaultFleet();
  o.scenario.incidents.clear();
  o.scenario.incidents.push_back(DefaultScenario(4, 8).incidents[1]);  // the traffic jump at 2m
  ASSERT_EQ(o.scenario.incidents[0].kind, IncidentKind::kTrafficChange);
  auto f = Make(o);
  auto g = f->NewTrafficGenerator({});
  const int64_t from = 60, to = 660;
  std::map<std::string, size_t> endpoint_of;  // service -> endpoint index
  for (size_t i = 0; i < f->endpoints().size(); ++i) {
    const Endpoint& e = f->endpoints()[i];
    if (e.exporter == Exporter::kVllm) endpoint_of[TrafficGenerator::ServiceName(e.hostname, e.replica)] = i;
  }
  ASSERT_EQ(endpoint_of.size(), 4u);
  std::map<std::string, double> success0, prompt0, generation0;
  clock_.SetMillis(At(seconds(from)));
  for (const auto& [service, i] : endpoint_of) {
    success0[service] = CounterOnPage(*f, i, "vllm:request_success_total");
    prompt0[service] = CounterOnPage(*f, i, "vllm:prompt_tokens_total");
    generation0[service] = CounterOnPage(*f, i, "vllm:generation_tokens_total");
  }
  const TrafficBatch b = Generate(*g, from + 1, to);  // the requests that ended in (from, to]
  struct Seen {
    double requests = 0, input = 0, output = 0;
  };
  std::map<std::string, Seen> seen;
  for (const SpanRecord& s : b.spans) {
    if (ServiceOf(*g, s) == "gateway" || s.status_code == kStatusError) continue;
    Seen& x = seen[ServiceOf(*g, s)];
    ++x.requests;
    x.input += static_cast<double>(IntAttr(s.attributes, "gen_ai.usage.input_tokens"));
    x.output += static_cast<double>(IntAttr(s.attributes, "gen_ai.usage.output_tokens"));
  }
  // The events carry the node, not the replica: count them per node.
  std::map<std::string, Seen> seen_node;
  for (const InferenceRecord& e : b.inferences) {
    if (!e.ok || e.model != kLlm) continue;
    Seen& x = seen_node[e.node];
    ++x.requests;
    x.input += static_cast<double>(e.input_tokens);
    x.output += static_cast<double>(e.output_tokens);
  }
  clock_.SetMillis(At(seconds(to)));
  std::map<std::string, Seen> counted_node;
  for (const auto& [service, i] : endpoint_of) {
    const double requests = CounterOnPage(*f, i, "vllm:request_success_total") - success0[service];
    const double input = CounterOnPage(*f, i, "vllm:prompt_tokens_total") - prompt0[service];
    const double output = CounterOnPage(*f, i, "vllm:generation_tokens_total") - generation0[service];
    ASSERT_GT(requests, 10000) << service;
    const std::string node = f->endpoints()[i].hostname;
    if (TrafficGenerator::ReportsEvents(f->endpoints()[i].node)) {
      Seen& c = counted_node[node];
      c.requests += requests;
      c.input += input;
      c.output += output;
      continue;
    }
    const Seen& x = seen[service];
    EXPECT_NEAR(x.requests / (requests * g->scale()), 1, 0.05) << service << ": " << x.requests << " of " << requests;
    EXPECT_NEAR((x.input / x.requests) / (input / requests), 1, 0.05) << service;
    EXPECT_NEAR((x.output / x.requests) / (output / requests), 1, 0.05) << service;
  }
  ASSERT_EQ(counted_node.size(), 1u);
  for (const auto& [node, c] : counted_node) {
    const Seen& x = seen_node[node];
    EXPECT_NEAR(x.requests / (c.requests * g->scale()), 1, 0.05) << node;
    EXPECT_NEAR((x.input / x.requests) / (c.input / c.requests), 1, 0.05) << node;
    EXPECT_NEAR((x.output / x.requests) / (c.output / c.requests), 1, 0.05) << node;
  }
  // 20 requests/s over the vLLM replicas at the daily mean, give or take the daily cycle and
  // noise, and 1.6 times that after the jump.
  double total = 0;
  for (const auto& [s, x] : seen) total += x.requests;
  for (const auto& [n, x] : seen_node) total += x.requests;
  const double per_second = total / static_cast<double>(to - from);
  EXPECT_GT(per_second, 20 * 1.3);
  EXPECT_LT(per_second, 20 * 1.9);
}

// The default scenario's incidents on the vLLM replicas, in the traffic: the traffic jump (x1.6 at
// 2 minutes), latency creeping up on node 0 replica 0 (from 4 minutes, x3 over 4 minutes), and
// node 3 replica 0 down for a minute at 7 minutes.
TEST_F(TrafficTest, DefaultIncidentsShowInSpansLogsAndEvents) {
  auto f = Make(DefaultFleet());
  auto g = f->NewTrafficGenerator({});
  const TrafficBatch b = Generate(*g, 1, 600);
  auto in = [](int64_t t_ns, seconds from, seconds to) { return t_ns > Nanos(from) && t_ns <= Nanos(to); };

  // Traffic: requests per second before and after the jump.
  auto gateway_requests = [&](seconds from, seconds to) {
    double n = 0;
    for (const SpanRecord& s : b.spans) n += ServiceOf(*g, s) == "gateway" && in(s.end_unix_nano, from, to);
    return n / static_cast<double>((to - from).count());
  };
  const double before = gateway_requests(seconds(30), seconds(110));
  const double after = gateway_requests(seconds(160), seconds(230));
  EXPECT_NEAR(after / before, 1.6, 0.2) << before << " -> " << after;

  // Latency: time to first token of node 0's replicas before the incident and at its height.
  auto ttft = [&](const std::string& service, seconds from, seconds to) {
    std::vector<double> v;
    for (const SpanRecord& s : b.spans) {
      if (ServiceOf(*g, s) != service || !in(s.end_unix_nano, from, to)) continue;
      const double t = DblAttr(s.attributes, "gen_ai.response.time_to_first_chunk");
      if (!std::isnan(t)) v.push_back(t);
    }
    return Median(v);
  };
  const double r0_before = ttft("vllm-gpu-node-000-0", seconds(160), seconds(230));
  const double r0_during = ttft("vllm-gpu-node-000-0", seconds(490), seconds(600));
  const double r1_during = ttft("vllm-gpu-node-000-1", seconds(490), seconds(600));
  EXPECT_GT(r0_during / r0_before, 2.2) << r0_before << " -> " << r0_during;
  EXPECT_GT(r0_during / r1_during, 2.2) << r0_during << " vs replica 1's " << r1_during;
  // ... and the gateway warns about slow first tokens, mostly from that replica.
  int slow_r0 = 0, slow_other = 0;
  for (const LogRecordOut& l : b.logs) {
    if (l.body.rfind("slow upstream", 0) != 0 || !in(l.time_unix_nano, seconds(490), seconds(600))) continue;
    EXPECT_EQ(l.severity_number, kSeverityWarn);
    (StrAttr(l.attributes, "tyto.upstream") == "vllm-gpu-node-000-0" ? slow_r0 : slow_other)++;
  }
  EXPECT_GT(slow_r0, 2 * slow_other);
  EXPECT_GT(slow_r0, 50);

  // The replica down at 7m (it reports events): its requests in flight fail (EngineDeadError) just
  // before, the gateway answers 503 for it for 10 s, then it is out of the pool until it comes back
  // at 8m. Its share moves to replica 1, whose queue grows.
  const std::string down = "vllm-gpu-node-003-0";
  int dead = 0, unavailable = 0, unavailable_late = 0, ok_while_down = 0;
  for (const InferenceRecord& e : b.inferences) {
    if (e.node != "gpu-node-003") continue;
    if (e.error_type == "EngineDeadError") {
      ++dead;
      EXPECT_TRUE(in(e.end_unix_nano, seconds(419), seconds(420))) << e.end_unix_nano;
    }
  }
  for (const SpanRecord& s : b.spans) {
    if (StrAttr(s.attributes, "tyto.upstream") != down) continue;
    if (IntAttr(s.attributes, "http.response.status_code") == 503) {
      ++unavailable;
      EXPECT_EQ(s.status_code, kStatusError);
      EXPECT_EQ(StrAttr(s.attributes, "error.type"), "503");
      if (!in(s.end_unix_nano, seconds(420), seconds(430))) ++unavailable_late;
    } else if (in(s.end_unix_nano, seconds(420), seconds(479))) {
      ++ok_while_down;
    }
  }
  EXPECT_GT(dead, 0);
  EXPECT_GT(unavailable, 10);
  EXPECT_EQ(unavailable_late, 0);
  EXPECT_EQ(ok_while_down, 0);
  auto gateway_logs = [&](std::string_view prefix, int severity, seconds from, seconds to) {
    int n = 0;
    for (const LogRecordOut& l : b.logs) {
      n += g->resources()[l.resource].service == "gateway" && l.body.find(prefix) != std::string::npos &&
           l.body.find(down) != std::string::npos && l.severity_number == severity && in(l.time_unix_nano, from, to);
    }
    return n;
  };
  EXPECT_EQ(gateway_logs("health check failed", kSeverityWarn, seconds(425), seconds(435)), 2);  // both gateways
  EXPECT_EQ(gateway_logs("is back in the pool", kSeverityInfo, seconds(479), seconds(481)), 2);
  EXPECT_EQ(gateway_logs(" 503 from upstream", kSeverityError, seconds(420), seconds(430)), unavailable);
  // Error share of node 3's requests: the baseline's 0.1% before, most during the first seconds.
  auto error_share = [&](seconds from, seconds to) {
    double all = 0, failed = 0;
    for (const SpanRecord& s : b.spans) {
      if (ServiceOf(*g, s) != "gateway" || StrAttr(s.attributes, "tyto.upstream").rfind("vllm-gpu-node-003", 0) != 0 ||
          !in(s.end_unix_nano, from, to)) {
        continue;
      }
      ++all;
      failed += s.status_code == kStatusError;
    }
    return failed / std::max(all, 1.0);
  };
  EXPECT_LT(error_share(seconds(300), seconds(419)), 0.01);
  EXPECT_GT(error_share(seconds(420), seconds(430)), 0.2);
}

// A replica with OpenTelemetry going down: error spans with error.type and the engine's ERROR
// log; its restart logged. And a queue building on another: its queue time and TTFT grow.
TEST_F(TrafficTest, ReplicaDownAndQueueOnAnOtlpReplica) {
  FleetOptions o;
  o.nodes = 1;  // vLLM only: replicas 0 and 1, both with OpenTelemetry
  Incident down;
  down.kind = IncidentKind::kReplicaDown;
  down.at = minutes(2);
  down.duration = minutes(1);
  down.node = 0, down.replica = 0;
  Incident queue;
  queue.kind = IncidentKind::kQueueBuildup;
  queue.at = minutes(1);
  queue.duration = minutes(3);
  queue.ramp = seconds(30);
  queue.node = 0, queue.replica = 1, queue.slowdown = 3;
  o.scenario.incidents = {down, queue};
  auto f = Make(o);
  auto g = f->NewTrafficGenerator({});
  const TrafficBatch b = Generate(*g, 1, 240);
  auto in = [](int64_t t_ns, seconds from, seconds to) { return t_ns > Nanos(from) && t_ns <= Nanos(to); };

  int dead_spans = 0;
  for (const SpanRecord& s : b.spans) {
    if (ServiceOf(*g, s) != "vllm-gpu-node-000-0") continue;
    EXPECT_FALSE(in(s.end_unix_nano, seconds(120), seconds(179))) << "a span while the replica is down";
    if (StrAttr(s.attributes, "error.type") == "EngineDeadError") {
      ++dead_spans;
      EXPECT_EQ(s.status_code, kStatusError);
      EXPECT_TRUE(in(s.end_unix_nano, seconds(119), seconds(120)));
    }
  }
  EXPECT_GT(dead_spans, 0);
  int engine_error = 0, startup = 0, dead_logs = 0;
  for (const LogRecordOut& l : b.logs) {
    if (g->resources()[l.resource].service != "vllm-gpu-node-000-0") continue;
    engine_error += l.severity_number == kSeverityError && l.body.find("AsyncLLMEngine is dead") != std::string::npos;
    startup += l.body == "Application startup complete." && in(l.time_unix_nano, seconds(179), seconds(180));
    dead_logs += l.severity_number == kSeverityError && StrAttr(l.attributes, "error.type") == "EngineDeadError" &&
                 !l.trace_id.empty();
  }
  EXPECT_EQ(engine_error, 1);
  EXPECT_EQ(startup, 1);
  EXPECT_EQ(dead_logs, dead_spans);  // one ERROR record per failed request

  auto queue_ttft = [&](seconds from, seconds to) {
    std::vector<double> q, t;
    for (const SpanRecord& s : b.spans) {
      if (ServiceOf(*g, s) != "vllm-gpu-node-000-1" || !in(s.end_unix_nano, from, to) ||
          s.status_code != kStatusUnset) {
        continue;
      }
      q.push_back(DblAttr(s.attributes, "tyto.queue_time"));
      t.push_back(DblAttr(s.attributes, "gen_ai.response.time_to_first_chunk"));
    }
    return std::make_pair(Median(q), Median(t));
  };
  const auto [q_before, t_before] = queue_ttft(seconds(10), seconds(60));
  const auto [q_during, t_during] = queue_ttft(seconds(200), seconds(240));
  EXPECT_GT(q_during, 10 * q_before) << q_before << " -> " << q_during;
  EXPECT_GT(t_during, 3 * t_before) << t_before << " -> " << t_during;
}

TEST(CorpusTest, AboutFiftyEntriesWithMarkedSyntheticPii) {
  const auto corpus = Corpus();
  EXPECT_GE(corpus.size(), 45u);
  std::set<std::string_view> topics;
  int pii = 0;
  static const std::regex kEmail(R"([A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]+)");
  static const std::regex kCard(R"(\b\d{4} ?\d{4,6} ?\d{4,5}(?: ?\d{4})?\b)");
  static const std::regex kSecret(R"(sk-[A-Za-z0-9-]{20,}|AKIA[0-9A-Z]{16})");
  static const std::regex kIp(R"(\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)");
  static const std::regex kPhone(R"(555-01\d\d|20 7946 0\d\d\d)");
  int cards = 0;
  for (const CorpusEntry& e : corpus) {
    EXPECT_FALSE(e.prompt.empty());
    EXPECT_FALSE(e.response.empty());
    topics.insert(e.topic);
    const std::string text = std::string(e.prompt) + "\n" + std::string(e.response);
    const bool has = std::regex_search(text, kEmail) || std::regex_search(text, kCard) ||
                     std::regex_search(text, kSecret) || std::regex_search(text, kIp) ||
                     std::regex_search(text, kPhone);
    EXPECT_EQ(has, e.synthetic_pii) << e.prompt;
    pii += e.synthetic_pii;
    // E-mail addresses only at reserved example domains.
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kEmail); it != std::sregex_iterator(); ++it) {
      EXPECT_NE(it->str().find("example."), std::string::npos) << it->str();
    }
    // Card numbers are test numbers that pass the Luhn check, so a redactor's check finds them.
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kCard); it != std::sregex_iterator(); ++it) {
      std::string digits;
      for (char c : it->str()) {
        if (c != ' ') digits.push_back(c);
      }
      if (digits.size() < 13) continue;
      int sum = 0;
      for (size_t i = 0; i < digits.size(); ++i) {
        int d = digits[digits.size() - 1 - i] - '0';
        if (i % 2 == 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
      }
      EXPECT_EQ(sum % 10, 0) << digits;
      ++cards;
    }
  }
  EXPECT_GE(topics.size(), 6u);
  EXPECT_GE(pii, 10);
  EXPECT_GE(cards, 4);
}

}  // namespace
}  // namespace tyto::simulate
