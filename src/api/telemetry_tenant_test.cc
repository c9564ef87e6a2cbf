// The events, traces and logs APIs by tenant (issue 12): a token of tenant A reads only A's
// records; B's trace ids answer 404 exactly like missing ones. Over a real event store.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/handler_test_util.h"
#include "api/telemetry_ingest_handlers.h"
#include "api/telemetry_query_handlers.h"
#include "auth/auth.h"
#include "eventstore/store.h"
#include "eventstore/test_data.h"
#include "inference/hub.h"
#include "inference/metrics.h"
#include "instrumentation/metrics.h"
#include "tenant/tenant_storage.h"
#include "tsdb/head.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::api {
namespace {

using eventstore::testdata::MakeLog;
using eventstore::testdata::MakeSpan;
using eventstore::testdata::TraceId;

constexpr int64_t kNow = 1'700'000'000'000;

class TelemetryTenantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = eventstore::EventStore::Open(Env::Default(), &clock_, tmp_.Path("events"), {});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    const uint32_t read = auth::EffectiveScopes({auth::Scope::kRead});
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"a", auth::HashSecret("a"), read, {"team-a"}},
        {"b", auth::HashSecret("b"), read, {"team-b"}},
        {"both", auth::HashSecret("both"), read, {"team-a", "team-b"}},
        {"admin-a", auth::HashSecret("admin-a"), auth::EffectiveScopes({auth::Scope::kAdmin}), {"team-a"}}}));
    auto h = tsdb::Head::Open(Env::Default(), tmp_.Path("wal"), tsdb::HeadOptions{}, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    hub_ = std::make_unique<inference::Hub>(inference::InferenceConfig{},
                                            inference::HubDeps{.metrics_storage = head_.get(), .store = store_.get(), .clock = &clock_});
    AddTelemetryQueryRoutes(&router_, &guard_, store_.get(), hub_.get(), head_.get(), &clock_);
    Store("team-a", 1, "svc-a");
    Store("team-b", 2, "svc-b");
  }

  void Store(const std::string& org, uint64_t n, const std::string& service) {
    events::Span span = MakeSpan({.trace = n, .span = n * 10, .service = service, .start_ms = kNow - 60'000});
    span.org = org;
    ASSERT_EQ(store_->AppendSpans(std::vector<events::Span>{span})->stored, 1u);
    events::LogRecord log = MakeLog({.time_ms = kNow - 60'000, .body = "log of " + service, .service = service,
                                     .trace_id = TraceId(n)});
    log.org = org;
    ASSERT_EQ(store_->AppendLogs(std::vector<events::LogRecord>{log})->stored, 1u);
    events::InferenceEvent e;
    e.org = org;
    e.timestamp_ms = kNow - 60'000;
    e.model = "llama";
    e.request_id = "req-" + service;
    e.user = "user-" + service;
    e.trace_id = TraceId(n);
    ASSERT_EQ(store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e})->stored, 1u);
  }

  http::Response Get(const std::string& target, const std::string& token, const std::string& org = "") {
    http::Request req;
    req.method = "GET";
    req.target = target;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    if (!org.empty()) req.headers.emplace_back("X-Scope-OrgID", org);
    if (auto err = http::ParseTarget(&req)) return http::Response::Error(400, "bad_data", *err);
    return router_.Dispatch(req);
  }

  testing::TempDir tmp_;
  testing::FakeClock clock_{kNow};
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<inference::Hub> hub_;
  auth::Guard guard_;
  http::Router router_;
};

TEST_F(TelemetryTenantTest, EachTenantSeesOnlyItsOwn) {
  http::Response r = Get("/api/v1/traces", "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(TraceId(1)), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(TraceId(2)), std::string::npos) << r.body;

  r = Get("/api/v1/logs", "b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("log of svc-b"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("log of svc-a"), std::string::npos) << r.body;

  r = Get("/api/v1/logs/tail?cursor=0", "b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("log of svc-b"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("log of svc-a"), std::string::npos) << r.body;

  r = Get("/api/v1/events", "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("req-svc-a"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("req-svc-b"), std::string::npos) << r.body;

  r = Get("/api/services", "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("svc-a"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("svc-b"), std::string::npos) << r.body;

  r = Get("/api/traces?service=svc-b&lookback=24h", "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(TraceId(2)), std::string::npos) << r.body;

  // A token of both tenants names one with X-Scope-OrgID.
  r = Get("/api/v1/events", "both", "team-b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("req-svc-b"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("req-svc-a"), std::string::npos) << r.body;
}

TEST_F(TelemetryTenantTest, AnotherTenantsTraceIsNotFoundLikeAMissingOne) {
  EXPECT_EQ(Get("/api/v1/traces/" + TraceId(1), "a").status, 200);
  http::Response theirs = Get("/api/v1/traces/" + TraceId(1), "b");
  http::Response missing = Get("/api/v1/traces/" + TraceId(77), "b");
  EXPECT_EQ(theirs.status, 404) << theirs.body;
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(theirs.body.find(TraceId(1)) == std::string::npos, missing.body.find(TraceId(77)) == std::string::npos);
  EXPECT_EQ(Get("/api/traces/" + TraceId(2), "a").status, 404);
  EXPECT_EQ(Get("/api/traces/" + TraceId(2), "b").status, 200);
  // Logs of B's trace, asked for by A: none.
  http::Response logs = Get("/api/v1/logs?trace_id=" + TraceId(2), "a");
  ASSERT_EQ(logs.status, 200);
  EXPECT_EQ(logs.body.find("svc-b"), std::string::npos) << logs.body;
}

// Deployments are the server's (playbook rollbacks read them): tenants see none of them.
TEST_F(TelemetryTenantTest, AModelsGpusAreReadFromTheTenantsSeriesOnly) {
  // team-b's vLLM names its node, and dcgm-exporter there its GPU: both in team-b's series.
  tenant::TenantStorage b(head_.get(), "team-b");
  std::unique_ptr<Appender> app = b.NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "vllm:num_requests_running", "model_name", "llama", "Hostname", "gpu-b1"}),
                          kNow - 10'000, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "DCGM_FI_DEV_GPU_UTIL", "Hostname", "gpu-b1", "gpu", "0", "UUID", "GPU-b"}),
                          kNow - 10'000, 50).ok());
  ASSERT_TRUE(app->Commit().ok());

  http::Response r = Get("/api/v1/models/llama/gpus", "b");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("GPU-b"), std::string::npos) << r.body;
  r = Get("/api/v1/models/llama/gpus", "a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("gpu-b1"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("GPU-b"), std::string::npos) << r.body;
}

TEST_F(TelemetryTenantTest, DeploymentsAreOnlyTheDefaultTenants) {
  events::DeploymentEvent d;
  d.timestamp_ms = kNow - 60'000;
  d.model = "llama";
  d.version = "v2";
  d.previous_version = "v1";
  ASSERT_TRUE(store_->AppendDeployments(std::vector<events::DeploymentEvent>{d}, {}).ok());
  EXPECT_EQ(Get("/api/v1/deployments", "a").body, R"({"status":"success","data":[]})");
  EXPECT_EQ(Get("/api/v1/pipelines/runs", "a").body, R"({"status":"success","data":[]})");
  guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
      {"ops", auth::HashSecret("ops"), auth::EffectiveScopes({auth::Scope::kRead})}}));
  EXPECT_NE(Get("/api/v1/deployments", "ops").body.find("\"previous_version\":\"v1\""), std::string::npos);
}

TEST_F(TelemetryTenantTest, AdminErasesItsTenantsRecordsOnly) {
  auto post = [&](const std::string& body, const std::string& token) {
    http::Request req;
    req.method = "POST";
    req.target = "/api/v1/admin/erase";
    req.body = body;
    req.headers.emplace_back("Authorization", "Bearer " + token);
    EXPECT_FALSE(http::ParseTarget(&req).has_value());
    return router_.Dispatch(req);
  };
  EXPECT_EQ(post(R"({"tenant":"team-a","user":"user-svc-a"})", "a").status, 403);  // read only
  EXPECT_EQ(post(R"({"tenant":"team-b"})", "admin-a").status, 403);               // another tenant
  EXPECT_EQ(post(R"({"user":"x"})", "admin-a").status, 400);
  EXPECT_EQ(post(R"({"tenant":"team-a","who":"x"})", "admin-a").status, 400);
  EXPECT_EQ(post("not json", "admin-a").status, 400);

  // A body nested past any stack is refused, not a crash.
  EXPECT_EQ(post(std::string(200'000, '[') + std::string(200'000, ']'), "admin-a").status, 400);

  http::Response r = post(R"({"tenant":"team-a","user":"user-svc-a"})", "admin-a");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"tenant":"team-a","spans":1,"logs":1,"inference_events":1,"predictions":0,"feedback":0}})");
  EXPECT_EQ(Get("/api/v1/traces/" + TraceId(1), "a").status, 404);
  r = Get("/api/v1/events", "b");
  EXPECT_NE(r.body.find("req-svc-b"), std::string::npos) << r.body;
}

// The embedded store with each append's source recorded (copied when the append is made, as
// the ClickHouse store does): what a store that keeps sources would be given.
class SourceRecordingStore final : public eventstore::TelemetryStore {
 public:
  explicit SourceRecordingStore(eventstore::TelemetryStore* inner) : s_(inner) {}
  std::vector<std::pair<std::string, bool>> sources;  // (source, maybe_repeated)

  using O = eventstore::AppendOptions;
  Result<eventstore::AppendResult> AppendSpans(std::span<const events::Span> v, const O& o) override {
    Note(o);
    return s_->AppendSpans(v, o);
  }
  Result<eventstore::AppendResult> AppendLogs(std::span<const events::LogRecord> v, const O& o) override {
    Note(o);
    return s_->AppendLogs(v, o);
  }
  Result<eventstore::AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> v, const O& o) override {
    Note(o);
    return s_->AppendInferenceEvents(v, o);
  }
  Result<eventstore::AppendResult> AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> v,
                                                             const O& o) override {
    return s_->AppendPipelineStageEvents(v, o);
  }
  Result<eventstore::AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> v, const O& o) override {
    return s_->AppendDeployments(v, o);
  }
  Result<std::vector<eventstore::TraceSummary>> FindTraces(const eventstore::TraceQuery& q) const override {
    return s_->FindTraces(q);
  }
  Result<std::vector<events::Span>> GetTrace(std::string_view id, const eventstore::TraceLookup& l) const override {
    return s_->GetTrace(id, l);
  }
  Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> ids,
                                                           const eventstore::TraceLookup& l) const override {
    return s_->GetTraces(ids, l);
  }
  Result<std::vector<std::string>> Services(std::string_view org, int64_t a, int64_t b) const override {
    return s_->Services(org, a, b);
  }
  Result<std::vector<eventstore::Operation>> Operations(std::string_view org, std::string_view svc, int64_t a,
                                                        int64_t b) const override {
    return s_->Operations(org, svc, a, b);
  }
  Result<std::vector<eventstore::LogEntry>> SearchLogs(const eventstore::LogQuery& q) const override {
    return s_->SearchLogs(q);
  }
  uint64_t LastLogCursor() const override { return s_->LastLogCursor(); }
  Result<eventstore::LogPage> LogsAfter(uint64_t c, const eventstore::LogQuery& f, size_t n) const override {
    return s_->LogsAfter(c, f, n);
  }
  bool WaitForLogs(uint64_t c, std::chrono::milliseconds t) const override { return s_->WaitForLogs(c, t); }
  std::unique_ptr<eventstore::LogSubscription> SubscribeLogs(eventstore::LogListener l) override {
    return s_->SubscribeLogs(std::move(l));
  }
  Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(const eventstore::InferenceEventQuery& q) const override {
    return s_->QueryInferenceEvents(q);
  }
  Result<std::vector<events::DeploymentEvent>> Deployments(const eventstore::DeploymentQuery& q) const override {
    return s_->Deployments(q);
  }
  Result<std::vector<events::PipelineStageEvent>> PipelineRuns(const eventstore::PipelineRunQuery& q) const override {
    return s_->PipelineRuns(q);
  }
  Result<eventstore::EraseResult> Erase(const eventstore::EraseRequest& r) override { return s_->Erase(r); }
  void SetOrgRetention(eventstore::OrgRetention r) override { s_->SetOrgRetention(std::move(r)); }
  Result<uint64_t> StoredBytes(std::string_view org) const override { return s_->StoredBytes(org); }
  Status Health() const override { return s_->Health(); }

 private:
  void Note(const O& o) { sources.emplace_back(std::string(o.source), o.maybe_repeated); }
  eventstore::TelemetryStore* s_;
};

// An Idempotency-Key reaches the store as the batch's source, the tenant's own (prefixed) for a
// tenant other than the default, and marked maybe repeated unless a first delivery.
TEST_F(TelemetryTenantTest, AnIdempotencyKeyReachesTheStoreAsTheTenantsSource) {
  SourceRecordingStore recording(store_.get());
  instrumentation::Registry registry;
  inference::Metrics metrics(&registry);
  inference::InferenceConfig config;
  config.sampling.rate = 1;
  inference::Hub hub(config, inference::HubDeps{.metrics_storage = head_.get(), .store = &recording, .clock = &clock_});
  const events::DecodeLimits limits;
  const uint32_t write = auth::EffectiveScopes({auth::Scope::kWrite});
  guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
      {"w", auth::HashSecret("w"), write, {"default", "team-a"}}}));
  http::Router router;
  AddTelemetryIngestRoutes(&router, &guard_, &registry, &hub, &metrics, &limits, &clock_);
  auto post = [&](const std::string& org, const std::string& key, bool first) {
    http::Request req;
    req.method = "POST";
    req.target = "/api/v1/logs";
    req.path = req.target;
    req.headers = {{"Authorization", "Bearer w"}, {"Content-Type", "application/x-ndjson"}, {"X-Scope-OrgID", org},
                   {"Idempotency-Key", key}};
    if (first) req.headers.emplace_back("X-Tyto-First-Delivery", "true");
    req.body = "{\"message\":\"keyed\",\"service\":\"s\"}\n";
    http::Response r = router.Dispatch(req);
    EXPECT_EQ(r.status, 200) << r.body;
  };
  // Keys longer than SSO, so a view of a temporary would read freed memory.
  const std::string key = "nats:publisher-0123456789abcdef:42:" + std::string(40, 'k');
  post("default", key, true);
  post("team-a", key, false);
  ASSERT_EQ(recording.sources.size(), 2u);
  EXPECT_EQ(recording.sources[0], std::make_pair(key, false));
  EXPECT_EQ(recording.sources[1], std::make_pair("team-a/" + key, true));
}

}  // namespace
}  // namespace tyto::api
