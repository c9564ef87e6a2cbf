// Tests of the derived metrics, sampling, pipeline health, deployments, GPU cost and the
// `inference:` config section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "config/yaml.h"
#include "inference/config.h"
#include "inference/deriver.h"
#include "inference/gpu_cost.h"
#include "inference/metrics.h"
#include "inference/pipelines.h"
#include "inference/sampler.h"
#include "inference/series_writer.h"
#include "instrumentation/metrics.h"
#include "metastore/metastore.h"
#include "testing/recording_appender.h"

namespace tyto::inference {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using testing::RecordingAppender;

events::InferenceEvent Event(std::string model, double latency_s) {
  events::InferenceEvent e;
  e.timestamp_ms = 1'700'000'000'000;
  e.model = std::move(model);
  e.model_version = "v1";
  e.endpoint = "/v1/chat/completions";
  e.tenant = "acme";
  e.latency_s = latency_s;
  return e;
}

InferenceConfig DefaultConfig() { return InferenceConfig{}; }

// One flush of the deriver through `w` into `app`, at `t`.
void FlushAt(Deriver& d, SeriesWriter& w, RecordingAppender* app, int64_t t) {
  w.Begin(app, t);
  d.Flush(t, w);
  EXPECT_TRUE(w.End().ok());
}

constexpr int64_t kT0 = 1'700'000'000'000;


// The text of `name` with the base dimensions of Event() and `extra` labels, as ToString sorts them.
std::string Key(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> extra = {}) {
  LabelsBuilder b;
  b.Set("__name__", name);
  b.Set("model", "llama");
  b.Set("model_version", "v1");
  b.Set("endpoint", "/v1/chat/completions");
  b.Set("tenant", "acme");
  for (const auto& [k, v] : extra) b.Set(k, v);
  return b.Build().ToString();
}

TEST(DeriverTest, CountsLatencyTokensAndErrors) {
  InferenceConfig c = DefaultConfig();
  c.cost.models.push_back({"llama", 0.5, 1.5});
  Deriver d(c, nullptr, nullptr, kT0);
  auto ok = Event("llama", 0.3);
  ok.ttft_s = 0.05;
  ok.input_tokens = 1000;
  ok.output_tokens = 11;  // 10 tokens after the first in 0.25 s: 0.025 s each
  ok.queue_s = 0.01;
  d.Observe(ok, kT0);
  d.Observe(ok, kT0);
  auto err = Event("llama", 2.0);
  err.error = true;
  err.error_type = "timeout";
  d.Observe(err, kT0);
  auto untyped = Event("llama", 0.1);
  untyped.error = true;
  d.Observe(untyped, kT0);

  RecordingAppender app;
  SeriesWriter w;
  FlushAt(d, w, &app, kT0 + 10'000);

  EXPECT_EQ(app.Last(Key("tyto_inference_requests_total", {{"status", "ok"}})), 2);
  EXPECT_EQ(app.Last(Key("tyto_inference_requests_total", {{"status", "error"}})), 2);
  const std::string dur = "gen_ai_server_request_duration_seconds";
  // 0.3 s falls in le=0.32; cumulative counts below it are 0.
  EXPECT_EQ(app.Last(Key(dur + "_bucket", {{"le", "0.16"}})), 0);
  EXPECT_EQ(app.Last(Key(dur + "_bucket", {{"le", "0.32"}})), 2);
  EXPECT_EQ(app.Last(Key(dur + "_bucket", {{"le", "+Inf"}})), 2);
  EXPECT_DOUBLE_EQ(app.Last(Key(dur + "_sum")), 0.6);
  EXPECT_EQ(app.Last(Key(dur + "_count")), 2);
  // Errors carry error_type; an error without one is _OTHER.
  EXPECT_EQ(app.Last(Key(dur + "_count", {{"error_type", "timeout"}})), 1);
  EXPECT_EQ(app.Last(Key(dur + "_bucket", {{"error_type", "timeout"}, {"le", "2.56"}})), 1);
  EXPECT_EQ(app.Last(Key(dur + "_bucket", {{"error_type", "timeout"}, {"le", "1.28"}})), 0);
  EXPECT_EQ(app.Last(Key("tyto_inference_errors_total", {{"error_type", "timeout"}})), 1);
  EXPECT_EQ(app.Last(Key("tyto_inference_errors_total", {{"error_type", "_OTHER"}})), 1);
  EXPECT_EQ(app.Last(Key("gen_ai_server_time_to_first_token_seconds_count")), 2);
  EXPECT_EQ(app.Last(Key("gen_ai_server_time_per_output_token_seconds_bucket", {{"le", "0.025"}})), 2);
  EXPECT_EQ(app.Last(Key("gen_ai_server_time_per_output_token_seconds_bucket", {{"le", "0.01"}})), 0);
  EXPECT_EQ(app.Last(Key("tyto_inference_queue_duration_seconds_count")), 2);
  EXPECT_EQ(app.Last(Key("tyto_inference_tokens_total", {{"gen_ai_token_type", "input"}})), 2000);
  EXPECT_EQ(app.Last(Key("gen_ai_client_token_usage_bucket", {{"gen_ai_token_type", "input"}, {"le", "1024"}})), 2);
  EXPECT_EQ(app.Last(Key("gen_ai_client_token_usage_bucket", {{"gen_ai_token_type", "input"}, {"le", "256"}})), 0);
  // 2000 input tokens over a 10 s window.
  EXPECT_DOUBLE_EQ(app.Last(Key("tyto_inference_tokens_per_second", {{"gen_ai_token_type", "input"}})), 200);
  // Busy seconds 0.3 + 0.3 + 2 + 0.1 over 10 s.
  EXPECT_DOUBLE_EQ(app.Last(Key("tyto_inference_concurrency")), 0.27);
  // 2000 input tokens at 0.5 per 1k = 1; 22 output tokens at 1.5 per 1k = 0.033.
  EXPECT_DOUBLE_EQ(app.Last(Key("tyto_inference_cost_total", {{"cost_type", "input"}, {"currency", "USD"}})), 1.0);
  EXPECT_NEAR(app.Last(Key("tyto_inference_cost_total", {{"cost_type", "output"}, {"currency", "USD"}})), 0.033,
              1e-12);
  EXPECT_NEAR(app.Last(Key("tyto_inference_cost_per_1k_tokens", {{"currency", "USD"}})), (1.0 + 0.033) / 2022 * 1000,
              1e-9);
}

TEST(DeriverTest, CountersAreCumulativeAndWindowsReset) {
  Deriver d(DefaultConfig(), nullptr, nullptr, kT0);
  d.Observe(Event("llama", 1), kT0);
  RecordingAppender app;
  SeriesWriter w;
  FlushAt(d, w, &app, kT0 + 10'000);
  FlushAt(d, w, &app, kT0 + 20'000);
  const auto& req = app.samples[Key("tyto_inference_requests_total", {{"status", "ok"}})];
  ASSERT_EQ(req.size(), 2u);
  EXPECT_EQ(req[0].v, 1);
  EXPECT_EQ(req[1].v, 1);
  EXPECT_EQ(req[1].t, kT0 + 20'000);
  const auto& conc = app.samples[Key("tyto_inference_concurrency")];
  ASSERT_EQ(conc.size(), 2u);
  EXPECT_DOUBLE_EQ(conc[0].v, 0.1);
  EXPECT_EQ(conc[1].v, 0);
}

TEST(DeriverTest, CapOnLabelSetsCountsTheRestAsOverflow) {
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  InferenceConfig c = DefaultConfig();
  c.dimensions = {"model"};
  c.max_dimension_sets = 2;
  Deriver d(c, nullptr, &metrics, kT0);
  for (std::string m : {"a", "b", "c", "d", "a"}) d.Observe(Event(m, 0.1), kT0);
  EXPECT_EQ(d.label_sets(), 3u);  // a, b and the overflow set
  EXPECT_EQ(metrics.dimension_overflow.Value(), 2);
  RecordingAppender app;
  SeriesWriter w;
  FlushAt(d, w, &app, kT0);
  EXPECT_EQ(app.Last("tyto_inference_requests_total{model=\"a\", status=\"ok\"}"), 2);
  EXPECT_EQ(app.Last("tyto_inference_requests_total{model=\"_overflow\", status=\"ok\"}"), 2);
  EXPECT_TRUE(std::isnan(app.Last("tyto_inference_requests_total{model=\"c\", status=\"ok\"}")));
}

// A tenant's requests count in its own series (the __tenant__ label its metrics view reads);
// the default tenant's carry none, whether their org is empty or "default".
TEST(DeriverTest, EachTenantsRequestsCountInItsOwnSeries) {
  InferenceConfig c = DefaultConfig();
  c.dimensions = {"model"};
  Deriver d(c, nullptr, nullptr, kT0);
  for (std::string org : {"", "default", "team-a", "team-a", "team-b"}) {
    events::InferenceEvent e = Event("m", 0.1);
    e.org = org;
    d.Observe(e, kT0);
  }
  EXPECT_EQ(d.label_sets(), 3u);
  RecordingAppender app;
  SeriesWriter w;
  FlushAt(d, w, &app, kT0);
  EXPECT_EQ(app.Last("tyto_inference_requests_total{model=\"m\", status=\"ok\"}"), 2);
  EXPECT_EQ(app.Last("tyto_inference_requests_total{__tenant__=\"team-a\", model=\"m\", status=\"ok\"}"), 2);
  EXPECT_EQ(app.Last("tyto_inference_requests_total{__tenant__=\"team-b\", model=\"m\", status=\"ok\"}"), 1);
}

TEST(DeriverTest, IdleSetsEndWithAStalenessMarker) {
  InferenceConfig c = DefaultConfig();
  c.dimensions = {"model"};
  c.idle_timeout = std::chrono::minutes(1);
  Deriver d(c, nullptr, nullptr, kT0);
  d.Observe(Event("old", 0.1), kT0);
  RecordingAppender app;
  SeriesWriter w;
  FlushAt(d, w, &app, kT0 + 1000);
  d.Observe(Event("new", 0.1), kT0 + 120'000);
  FlushAt(d, w, &app, kT0 + 121'000);
  EXPECT_EQ(d.label_sets(), 1u);
  EXPECT_TRUE(app.IsStale("tyto_inference_requests_total{model=\"old\", status=\"ok\"}"));
  EXPECT_FALSE(app.IsStale("tyto_inference_requests_total{model=\"new\", status=\"ok\"}"));
}

TEST(DeriverTest, LatencyBucketsGetTraceExemplars) {
  metastore::ExemplarStore exemplars;
  InferenceConfig c = DefaultConfig();
  c.dimensions = {"model"};
  Deriver d(c, &exemplars, nullptr, kT0);
  auto e = Event("llama", 0.3);
  e.trace_id = "0af7651916cd43dd8448eb211c80319c";
  e.span_id = "b7ad6b7169203331";
  d.Observe(e, kT0);
  e.trace_id = "1af7651916cd43dd8448eb211c80319c";
  d.Observe(e, kT0 + 10);  // same bucket within a second: not kept
  auto got = exemplars.Query({*Matcher::Make(MatchType::kEqual, "__name__",
                                             "gen_ai_server_request_duration_seconds_bucket")},
                             0, kT0 * 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].series.Get("le"), "0.32");
  ASSERT_EQ(got[0].exemplars.size(), 1u);
  EXPECT_EQ(got[0].exemplars[0].labels.Get("trace_id"), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(got[0].exemplars[0].labels.Get("span_id"), "b7ad6b7169203331");
  EXPECT_DOUBLE_EQ(got[0].exemplars[0].value, 0.3);
}

TEST(DeriverTest, NodeBusyTimeFeedsGpuCost) {
  Deriver d(DefaultConfig(), nullptr, nullptr, kT0);
  auto a = Event("a", 3);
  a.node = "n1";
  auto b = Event("b", 1);
  b.node = "n1";
  d.Observe(a, kT0);
  d.Observe(b, kT0);
  auto busy = d.TakeNodeBusy();
  EXPECT_EQ((busy[{"n1", "a"}]), 3);
  EXPECT_EQ((busy[{"n1", "b"}]), 1);
  EXPECT_TRUE(d.TakeNodeBusy().empty());

  CostConfig c;
  c.gpus.push_back({"", "H100", 4.0});
  c.default_gpu_per_hour = 1.0;
  GpuCost cost(c);
  EXPECT_EQ(cost.PricePerHour({"n1", "H100"}), 4.0);
  EXPECT_EQ(cost.PricePerHour({"n1", "A10"}), 1.0);
  // Two H100s on n1 for half an hour: 4.0; shared 3:1. n2's A10 is idle: 0.5 to _idle.
  cost.Accumulate({{"n1", "H100"}, {"n1", "H100"}, {"n2", "A10"}}, busy, 1800);
  EXPECT_DOUBLE_EQ((cost.totals().at({"n1", "a"})), 3.0);
  EXPECT_DOUBLE_EQ((cost.totals().at({"n1", "b"})), 1.0);
  EXPECT_DOUBLE_EQ((cost.totals().at({"n2", "_idle"})), 0.5);
  RecordingAppender app;
  SeriesWriter w;
  w.Begin(&app, kT0);
  cost.Write(w);
  ASSERT_TRUE(w.End().ok());
  EXPECT_EQ(app.Last("tyto_inference_gpu_cost_total{currency=\"USD\", model=\"a\", node=\"n1\"}"), 3.0);
}

TEST(SamplerTest, SamplingPointIsFixedByTheId) {
  EXPECT_EQ(SamplingPoint("00000000000000000000000000000000"), 0);
  EXPECT_NEAR(SamplingPoint("0000000000000000" "8000000000000000"), 0.5, 1e-12);
  EXPECT_NEAR(SamplingPoint("ffffffffffffffff" "4000000000000000"), 0.25, 1e-12);
  EXPECT_EQ(SamplingPoint("req-1"), SamplingPoint("req-1"));
  EXPECT_NE(SamplingPoint("req-1"), SamplingPoint("req-2"));
  // Over many ids, the share below the rate is near the rate.
  int below = 0;
  for (int i = 0; i < 10000; ++i) below += SamplingPoint("request-" + std::to_string(i)) < 0.1;
  EXPECT_GT(below, 850);
  EXPECT_LT(below, 1150);
}

TEST(SamplerTest, EventsKeepErrorsSlowAndTheSampledShare) {
  SamplingConfig c;
  c.rate = 0.5;
  c.slow_threshold = std::chrono::seconds(5);
  auto e = Event("m", 0.1);
  e.trace_id = "00000000000000000000000000000000" ;  // point 0: sampled
  EXPECT_EQ(DecideEvent(c, e), Decision::kKeptSampled);
  e.trace_id = "0000000000000000f000000000000000";  // point 0.94: not
  EXPECT_EQ(DecideEvent(c, e), Decision::kDropped);
  e.latency_s = 6;
  EXPECT_EQ(DecideEvent(c, e), Decision::kKeptSlow);
  e.error = true;
  EXPECT_EQ(DecideEvent(c, e), Decision::kKeptError);
  c.keep_errors = false;
  c.slow_threshold = std::chrono::milliseconds(0);
  EXPECT_EQ(DecideEvent(c, e), Decision::kDropped);
}

events::Span MakeSpan(std::string trace, std::string id, int64_t dur_ms, bool error = false) {
  events::Span s;
  s.trace_id = std::move(trace);
  s.span_id = std::move(id);
  s.start_unix_nano = 1'000'000'000;
  s.end_unix_nano = s.start_unix_nano + dur_ms * 1'000'000;
  if (error) s.status = events::StatusCode::kError;
  return s;
}

TEST(SamplerTest, TracesWaitAndAnErrorAnywhereKeepsThemWhole) {
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  SamplingConfig c;
  c.rate = 0;
  c.decision_wait = std::chrono::seconds(5);
  c.slow_threshold = std::chrono::seconds(5);
  TraceSampler s(c, &metrics);
  const std::string err_trace = "0000000000000000f000000000000001";
  const std::string ok_trace = "0000000000000000f000000000000002";
  const std::string slow_trace = "0000000000000000f000000000000003";
  std::vector<events::Span> kept;
  s.Add({MakeSpan(err_trace, "a", 10), MakeSpan(ok_trace, "b", 10), MakeSpan(slow_trace, "c", 6000)}, kT0, &kept);
  s.Add({MakeSpan(err_trace, "d", 5, true)}, kT0 + 2000, &kept);
  EXPECT_THAT(kept, IsEmpty());
  EXPECT_EQ(s.pending_spans(), 4u);
  s.Poll(kT0 + 5000, false, &kept);  // the ok and slow traces are quiet for 5 s; err is not
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].span_id, "c");
  s.Poll(kT0 + 7000, false, &kept);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[1].span_id, "a");
  EXPECT_EQ(kept[2].span_id, "d");
  // Late spans follow the decision made.
  s.Add({MakeSpan(err_trace, "late", 1), MakeSpan(ok_trace, "late2", 1)}, kT0 + 8000, &kept);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[3].span_id, "late");
  EXPECT_EQ(s.pending_spans(), 0u);
  EXPECT_EQ(metrics.sampling_decisions.WithLabels({"trace", "kept_error"}).Value(), 1);
  EXPECT_EQ(metrics.sampling_decisions.WithLabels({"trace", "kept_slow"}).Value(), 1);
  EXPECT_EQ(metrics.sampling_decisions.WithLabels({"trace", "dropped"}).Value(), 1);
}

TEST(SamplerTest, WithRateOneSpansAreKeptAtOnce) {
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  SamplingConfig c;
  c.rate = 1;
  c.decision_wait = std::chrono::seconds(5);
  TraceSampler s(c, &metrics);
  const std::string t1 = "0000000000000000f000000000000001";
  const std::string t2 = "0000000000000000f000000000000002";
  std::vector<events::Span> kept;
  s.Add({MakeSpan(t1, "a", 10), MakeSpan(t2, "b", 10), MakeSpan(t1, "c", 10, true)}, kT0, &kept);
  ASSERT_EQ(kept.size(), 3u);  // nothing waits for the trace to be quiet
  EXPECT_EQ(s.pending_spans(), 0u);
  s.Add({MakeSpan(t2, "late", 1)}, kT0 + 1, &kept);
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[3].span_id, "late");
  EXPECT_EQ(metrics.sampling_decisions.WithLabels({"trace", "kept_sampled"}).Value(), 2);  // once per trace
}

TEST(SamplerTest, TooManyPendingSpansDecideTheOldestTracesEarly) {
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  SamplingConfig c;
  c.rate = 0;  // every span here is kept as slow, after waiting (rate 1 would not wait)
  c.slow_threshold = std::chrono::milliseconds(1);
  c.max_pending_spans = 10;
  TraceSampler s(c, &metrics);
  std::vector<events::Span> kept;
  for (int i = 0; i < 11; ++i) {
    s.Add({MakeSpan("trace" + std::to_string(i), "s", 1)}, kT0 + i, &kept);
  }
  EXPECT_LE(s.pending_spans(), 10u);
  EXPECT_GE(metrics.traces_decided_early.Value(), 1);
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept[0].trace_id, "trace0");
  s.Poll(kT0, true, &kept);
  EXPECT_EQ(kept.size(), 11u);
}

TEST(PipelineTest, StageMetricsAndFreshness) {
  PipelineMonitor m(PipelinesConfig{}, nullptr);
  events::PipelineStageEvent e;
  e.pipeline = "features";
  e.stage = "extract";
  e.start_ms = kT0;
  e.end_ms = kT0 + 20'000;
  e.rows_in = 1000;
  e.rows_out = 900;
  e.rows_rejected = 100;
  EXPECT_THAT(m.Observe(e), IsEmpty());
  e.failed = true;
  e.end_ms = kT0 + 30'000;
  m.Observe(e);
  RecordingAppender app;
  SeriesWriter w;
  w.Begin(&app, kT0 + 80'000);
  m.Flush(kT0 + 80'000, w);
  ASSERT_TRUE(w.End().ok());
  const std::string base = "pipeline=\"features\", stage=\"extract\"";
  EXPECT_EQ(app.Last("tyto_pipeline_stage_runs_total{" + base + ", status=\"success\"}"), 1);
  EXPECT_EQ(app.Last("tyto_pipeline_stage_runs_total{" + base + ", status=\"failed\"}"), 1);
  EXPECT_EQ(app.Last("tyto_pipeline_stage_rows_total{kind=\"rejected\", " + base + "}"), 200);
  EXPECT_DOUBLE_EQ(app.Last("tyto_pipeline_stage_last_run_rejected_ratio{" + base + "}"), 0.1);
  EXPECT_DOUBLE_EQ(app.Last("tyto_pipeline_stage_last_run_rows_per_second{" + base + "}"), 30);
  // Freshness counts from the last successful run's end.
  EXPECT_DOUBLE_EQ(app.Last("tyto_pipeline_stage_freshness_seconds{" + base + "}"), 60);
  EXPECT_EQ(app.Last("tyto_pipeline_stage_duration_seconds_count{" + base + "}"), 2);
}

TEST(PipelineTest, SchemaMismatchesFromConfiguredAndLearnedSchemas) {
  PipelinesConfig c;
  c.schemas.push_back({"p", "configured", {{"id", "int64"}, {"amount", "double"}}});
  instrumentation::Registry registry;
  Metrics metrics(&registry);
  PipelineMonitor m(c, &metrics);
  events::PipelineStageEvent e;
  e.pipeline = "p";
  e.stage = "configured";
  e.fields = {{"amount", "string"}, {"debug", "bool"}};
  std::vector<std::string> got;
  for (const SchemaMismatch& x : m.Observe(e)) got.push_back(Describe(x));
  EXPECT_THAT(got, ElementsAre("field amount is string, expected double", "missing field id (int64)",
                               "extra field debug (bool)"));
  EXPECT_EQ(metrics.schema_mismatches.WithLabels({"missing"}).Value(), 1);

  e.stage = "learned";
  e.fields = {{"id", "int64"}};
  EXPECT_THAT(m.Observe(e), IsEmpty());  // the first run registers its fields
  EXPECT_EQ(m.Schema("p", "learned").at("id"), "int64");
  e.fields = {{"id", "string"}};
  ASSERT_EQ(m.Observe(e).size(), 1u);
  e.fields.clear();  // no fields sent: nothing to compare
  EXPECT_THAT(m.Observe(e), IsEmpty());
}

TEST(DeploymentTest, InfoSeriesFollowsTheLatestVersion) {
  DeploymentTracker t;
  events::DeploymentEvent d;
  d.model = "llama";
  d.version = "v1";
  d.timestamp_ms = kT0;
  t.Observe(d);
  RecordingAppender app;
  SeriesWriter w;
  w.Begin(&app, kT0);
  t.Flush(w);
  ASSERT_TRUE(w.End().ok());
  const std::string v1 = "tyto_model_deployment_info{action=\"deploy\", model=\"llama\", version=\"v1\"}";
  EXPECT_EQ(app.Last(v1), 1);
  d.version = "v2";
  d.previous_version = "v1";
  d.timestamp_ms = kT0 + 1000;
  t.Observe(d);
  d.version = "v0";  // an older event arriving late does not win
  d.timestamp_ms = kT0 - 1000;
  t.Observe(d);
  w.Begin(&app, kT0 + 2000);
  t.Flush(w);
  ASSERT_TRUE(w.End().ok());
  EXPECT_TRUE(app.IsStale(v1));
  EXPECT_EQ(app.Last("tyto_model_deployment_info{action=\"deploy\", model=\"llama\", previous_version=\"v1\", "
                     "version=\"v2\"}"),
            1);
  EXPECT_EQ(app.Last("tyto_model_deployment_timestamp_seconds{model=\"llama\", version=\"v2\"}"), 1'700'000'001.0);
}

std::vector<std::string> DecodeErrors(const std::string& yaml, InferenceConfig* out) {
  auto doc = config::ParseYaml(yaml, "t.yml");
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  config::Diagnostics d;
  InferenceSchema().Decode(*doc, out, &d);
  return d.messages();
}

TEST(InferenceConfigTest, DecodesAndChecks) {
  InferenceConfig c;
  EXPECT_THAT(DecodeErrors("dimensions: [model, tenant, operation]\n"
                           "sampling: {rate: 0.25, slow_threshold: 2s}\n"
                           "cost:\n"
                           "  models: [{model: llama, input_per_1k_tokens: 0.0005, output_per_1k_tokens: 0.0015}]\n"
                           "  gpus: [{gpu_model: H100, per_hour: 2.49}]\n"
                           "pipelines:\n"
                           "  schemas: [{pipeline: p, stage: s, fields: {id: int64}}]\n",
                           &c),
              IsEmpty());
  EXPECT_THAT(c.dimensions, ElementsAre("model", "tenant", "operation"));
  EXPECT_EQ(c.sampling.rate, 0.25);
  EXPECT_EQ(c.sampling.slow_threshold, std::chrono::seconds(2));
  EXPECT_EQ(c.cost.models[0].output_per_1k_tokens, 0.0015);
  EXPECT_EQ(c.cost.gpus[0].per_hour, 2.49);
  EXPECT_EQ(c.pipelines.schemas[0].fields.at("id"), "int64");

  InferenceConfig bad;
  EXPECT_THAT(DecodeErrors("dimensions: [modle]\n", &bad),
              ElementsAre(HasSubstr("unknown dimension 'modle', did you mean 'model'?")));
  EXPECT_THAT(DecodeErrors("sampling: {rate: 1.5}\n", &bad), ElementsAre("t.yml:1:18: value 1.5 out of range [0, 1]"));
  EXPECT_THAT(DecodeErrors("cost: {models: [{model: a}, {model: a}]}\n", &bad),
              ElementsAre(HasSubstr("model 'a' is priced twice")));
  EXPECT_THAT(DecodeErrors("pipelines: {schemas: [{pipeline: p}]}\n", &bad),
              ElementsAre(HasSubstr("pipeline and stage are required")));
}

}  // namespace
}  // namespace tyto::inference
