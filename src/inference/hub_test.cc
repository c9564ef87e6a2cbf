// The Hub end to end inside the process: events and spans in, derived series in a real metrics
// head, the sampled and redacted rest in a real event store.
#include "inference/hub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "eventstore/store.h"
#include "inference/metrics.h"
#include "instrumentation/metrics.h"
#include "metastore/metastore.h"
#include "redact/redactor.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"
#include "tyto/env.h"

namespace tyto::inference {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1'700'000'000'000;
const std::string kTrace1 = "0af7651916cd43dd1448eb211c803190";  // sampling point 0.08
const std::string kTrace2 = "0af7651916cd43ddf448eb211c803190";  // sampling point 0.95

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto h = tsdb::Head::Open(Env::Default(), dir_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    auto s = eventstore::EventStore::Open(Env::Default(), &clock_, dir_.Path("events"), {}, &registry_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto r = redact::Redactor::Create(redact::RedactionConfig{});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    redactor_ = std::move(r).value();
  }

  std::unique_ptr<Hub> NewHub(InferenceConfig c) {
    return std::make_unique<Hub>(c, HubDeps{.metrics_storage = head_.get(),
                                            .store = store_.get(),
                                            .redactor = &redactor_,
                                            .exemplars = &exemplars_,
                                            .metadata = &metadata_,
                                            .metrics = &metrics_,
                                            .clock = &clock_});
  }

  // The newest value of the only series matching `name` and `labels` (label=value pairs).
  double Value(const std::string& name, std::vector<std::pair<std::string, std::string>> labels = {}) {
    auto q = head_->NewQuerier(0, kT0 * 2);
    EXPECT_TRUE(q.ok());
    std::vector<Matcher> ms = {*Matcher::Make(MatchType::kEqual, "__name__", name)};
    for (auto& [k, v] : labels) ms.push_back(*Matcher::Make(MatchType::kEqual, k, v));
    auto set = (*q)->Select(ms);
    double v = std::nan("");
    int n = 0;
    while (set->Next()) {
      ++n;
      auto it = set->Iterator();
      while (it->Next()) v = it->At().v;
    }
    EXPECT_LE(n, 1) << name;
    return v;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{kT0};
  instrumentation::Registry registry_;
  Metrics metrics_{&registry_};
  metastore::ExemplarStore exemplars_;
  metastore::MetadataStore metadata_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<eventstore::EventStore> store_;
  redact::Redactor redactor_;
};

events::InferenceEvent Event(std::string id, double latency_s, std::string trace = "") {
  events::InferenceEvent e;
  e.timestamp_ms = kT0;
  e.request_id = std::move(id);
  e.model = "llama";
  e.latency_s = latency_s;
  e.trace_id = std::move(trace);
  e.prompt = "my card is 4111 1111 1111 1111, mail bob@example.com";
  e.node = "node-1";
  return e;
}

TEST_F(HubTest, EveryEventIsCountedOnlySampledOnesAreStoredRedacted) {
  InferenceConfig c;
  c.dimensions = {"model"};
  c.sampling.rate = 0.5;
  c.sampling.slow_threshold = std::chrono::seconds(5);
  auto hub = NewHub(c);
  hub->Start();
  events::DecodedEvents in;
  in.inferences.push_back(Event("kept", 0.2, kTrace1));
  in.inferences.push_back(Event("dropped", 0.2, kTrace2));
  auto slow = Event("slow", 9, kTrace2);
  in.inferences.push_back(slow);
  auto failed = Event("failed", 0.1, kTrace2);
  failed.error = true;
  failed.error_type = "timeout";
  in.inferences.push_back(failed);
  ASSERT_TRUE(hub->IngestEvents(std::move(in)).ok());
  clock_.Advance(std::chrono::seconds(10));
  hub->RunOnce(true);

  // Metrics: all four.
  EXPECT_EQ(Value("tyto_inference_requests_total", {{"status", "ok"}}), 3);
  EXPECT_EQ(Value("tyto_inference_requests_total", {{"status", "error"}}), 1);
  EXPECT_EQ(Value("tyto_inference_errors_total", {{"error_type", "timeout"}}), 1);
  // Stored: the sampled one, the slow one and the failed one, prompts redacted.
  eventstore::InferenceEventQuery q;
  auto stored = store_->QueryInferenceEvents(q);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  std::vector<std::string> ids;
  for (const auto& e : *stored) {
    ids.push_back(e.request_id);
    EXPECT_THAT(e.prompt, HasSubstr("[REDACTED:card]"));
    EXPECT_THAT(e.prompt, HasSubstr("[REDACTED:email]"));
    EXPECT_THAT(e.prompt, Not(HasSubstr("4111")));
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"failed", "kept", "slow"}));
  EXPECT_EQ(metrics_.redactions.WithLabels({"card"}).Value(), 3);
  EXPECT_EQ(metrics_.sampling_decisions.WithLabels({"event", "dropped"}).Value(), 1);
  EXPECT_EQ(hub->NodesOf("llama"), std::vector<std::string>{"node-1"});
  hub->Stop();
}

events::Span GenAiSpan(const std::string& trace, const std::string& id, bool error) {
  events::Span s;
  s.trace_id = trace;
  s.span_id = id;
  s.service = "vllm-0";
  s.name = "chat llama";
  s.kind = events::SpanKind::kServer;
  s.start_unix_nano = (kT0 - 1000) * 1'000'000;
  s.end_unix_nano = kT0 * 1'000'000;
  if (error) s.status = events::StatusCode::kError;
  s.attributes = {{"gen_ai.operation.name", "chat"},
                  {"gen_ai.request.model", "llama"},
                  {"gen_ai.usage.output_tokens", "12"},
                  {"gen_ai.input.messages", "[{\"role\":\"user\",\"content\":\"I am at 10.1.2.3\"}]"}};
  return s;
}

TEST_F(HubTest, SpansAreCountedAtOnceAndStoredAfterTheirTraceIsDecided) {
  InferenceConfig c;
  c.dimensions = {"model"};
  c.sampling.rate = 0;
  c.sampling.decision_wait = std::chrono::seconds(2);
  auto hub = NewHub(c);
  hub->Start();
  ASSERT_TRUE(hub->IngestSpans({GenAiSpan(kTrace1, "00f067aa0ba902b7", false), GenAiSpan(kTrace2, "00f067aa0ba902b8", true)}).ok());
  hub->RunOnce(true);
  EXPECT_EQ(Value("tyto_inference_requests_total", {{"status", "ok"}}), 1);
  EXPECT_EQ(Value("tyto_inference_tokens_total", {{"gen_ai_token_type", "output"}}), 24);  // both requests
  // Not decided yet: nothing stored.
  EXPECT_EQ(store_->GetTrace(kTrace2).status().code(), StatusCode::kNotFound);
  clock_.Advance(std::chrono::seconds(3));
  hub->RunOnce(false);
  // The trace with an error is kept, its content redacted; the other (rate 0) is not.
  auto kept = store_->GetTrace(kTrace2);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->size(), 1u);
  const std::string* content = events::FindAttribute((*kept)[0].attributes, "gen_ai.input.messages");
  ASSERT_NE(content, nullptr);
  EXPECT_THAT(*content, HasSubstr("[REDACTED:ipv4]"));
  EXPECT_EQ(store_->GetTrace(kTrace1).status().code(), StatusCode::kNotFound);
  hub->Stop();
}

TEST_F(HubTest, PipelineMismatchesBecomeLogsAndDeploymentsSurviveARestart) {
  InferenceConfig c;
  c.pipelines.schemas.push_back({"features", "extract", {{"id", "int64"}}});
  {
    auto hub = NewHub(c);
    hub->Start();
    events::DecodedEvents in;
    events::PipelineStageEvent p;
    p.pipeline = "features";
    p.stage = "extract";
    p.run_id = "run-7";
    p.start_ms = kT0 - 60'000;
    p.end_ms = kT0;
    p.fields = {{"id", "string"}};
    in.pipeline_stages.push_back(p);
    events::DeploymentEvent d;
    d.timestamp_ms = kT0;
    d.model = "llama";
    d.version = "v2";
    in.deployments.push_back(d);
    ASSERT_TRUE(hub->IngestEvents(std::move(in)).ok());
    hub->RunOnce(true);
    EXPECT_EQ(Value("tyto_pipeline_schema_mismatches_total", {{"kind", "retyped"}}), 1);
    EXPECT_EQ(Value("tyto_model_deployment_info", {{"version", "v2"}}), 1);
    eventstore::LogQuery lq;
    lq.text = "mismatch";
    auto logs = store_->SearchLogs(lq);
    ASSERT_TRUE(logs.ok()) << logs.status().ToString();
    ASSERT_EQ(logs->size(), 1u);
    EXPECT_THAT((*logs)[0].record.body, HasSubstr("field id is string, expected int64"));
    hub->Stop();
  }
  // A new hub (a restart) reads the deployment back.
  auto hub = NewHub(c);
  hub->Start();
  ASSERT_EQ(hub->deployments().Current().size(), 1u);
  EXPECT_EQ(hub->deployments().Current()[0].version, "v2");
  hub->Stop();
}

TEST_F(HubTest, GpuCostIsSharedByBusyTimeOnTheNode) {
  InferenceConfig c;
  c.cost.gpus.push_back({"", "H100", 3.6});  // 0.001 per GPU-second
  auto hub = NewHub(c);
  hub->Start();
  events::DecodedEvents in;
  auto a = Event("a", 3);
  a.model = "a";
  auto b = Event("b", 1);
  b.model = "b";
  in.inferences = {a, b};
  ASSERT_TRUE(hub->IngestEvents(std::move(in)).ok());
  clock_.Advance(std::chrono::seconds(100));
  // Two GPUs on node-1 as dcgm-exporter reports them, recently.
  {
    auto app = head_->NewAppender();
    for (const char* gpu : {"0", "1"}) {
      ASSERT_TRUE(app->Append(0,
                              Labels::Of({"__name__", "DCGM_FI_DEV_GPU_UTIL", "gpu", gpu, "UUID",
                                          std::string("GPU-") + gpu, "Hostname", "node-1", "modelName", "H100"}),
                              kT0 + 90'000, 50)
                      .ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  hub->RunOnce(true);
  // 2 GPUs x 100 s x 0.001 = 0.2, shared 3:1.
  EXPECT_NEAR(Value("tyto_inference_gpu_cost_total", {{"model", "a"}}), 0.15, 1e-9);
  EXPECT_NEAR(Value("tyto_inference_gpu_cost_total", {{"model", "b"}}), 0.05, 1e-9);
  hub->Stop();
}

}  // namespace
}  // namespace tyto::inference
