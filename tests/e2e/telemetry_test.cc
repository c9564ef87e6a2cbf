// End-to-end: inference telemetry into the built `tyto serve` with auth on: GenAI spans (OTLP
// JSON), JSON-lines events and logs, OTLP logs; the derived metrics read back with PromQL, the
// trace, logs and events through the query API (Jaeger's and Tyto's), prompts redacted; a latency
// bucket's exemplar leads to the trace, a model to its GPUs (dcgm series pushed by remote write); bad
// input answered with the line or field at fault; after kill -9 the stored items are still there.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::TestResponse;

constexpr const char* kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kConfig =
    "inference:\n"
    "  flush_interval: 1s\n"
    "  sampling: {rate: 1, decision_wait: 100ms}\n"
    "  cost:\n"
    "    models: [{model: llama-3-8b, input_per_1k_tokens: 0.1, output_per_1k_tokens: 0.2}]\n";

std::string Now(int64_t offset_s = 0) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return std::to_string(s + offset_s);
}

// A gateway CLIENT span and, under it, the model server's SERVER span with GenAI attributes.
std::string TracesJson() {
  const std::string start = Now(-2) + "000000000", mid = Now(-1) + "500000000", end = Now(-1) + "900000000";
  return R"({"resourceSpans":[
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gateway"}}]},
     "scopeSpans":[{"scope":{"name":"gw"},"spans":[
       {"traceId":")" + std::string(kTrace) + R"(","spanId":"00f067aa0ba902b7","name":"POST /v1/chat/completions",
        "kind":"SPAN_KIND_SERVER","startTimeUnixNano":")" + start + R"(","endTimeUnixNano":")" + end + R"("}]}]},
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"vllm-0"}},
                               {"key":"host.name","value":{"stringValue":"gpu-node-1"}}]},
     "scopeSpans":[{"scope":{"name":"vllm"},"spans":[
       {"traceId":")" + std::string(kTrace) + R"(","spanId":"00f067aa0ba902b8","parentSpanId":"00f067aa0ba902b7",
        "name":"chat llama-3-8b","kind":2,"startTimeUnixNano":")" + mid + R"(","endTimeUnixNano":")" + end + R"(",
        "attributes":[
          {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
          {"key":"gen_ai.request.model","value":{"stringValue":"llama-3-8b"}},
          {"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000"}},
          {"key":"gen_ai.usage.output_tokens","value":{"intValue":"50"}},
          {"key":"gen_ai.response.time_to_first_chunk","value":{"doubleValue":0.05}},
          {"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"content\":\"my email is ann@example.com\"}]"}}]},
       {"traceId":"4bf92f3577b34da6a3ce929d0e0e47","spanId":"00f067aa0ba902b9","name":"bad id"}]}]}]})";
}

class TelemetryE2ETest : public ::testing::Test {
 protected:
  void Start() {
    ServedTyto s = ServeWithTokens(dir_, {{"app", "w-secret", "write"}, {"grafana", "r-secret", "read"}}, kConfig);
    child_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not start; log:\n" << ReadFile(dir_.Path("serve.log"));
  }
  void SetUp() override { Start(); }

  TestResponse Post(const std::string& path, const std::string& body, const std::string& type) {
    return ApiClient(port_, "w-secret", "r-secret").Post(path, body, type);
  }
  TestResponse Get(const std::string& target) { return ApiClient(port_, "w-secret", "r-secret").Get(target); }
  TestResponse GetUntil(const std::string& target, const std::string& want) {
    return ApiClient(port_, "w-secret", "r-secret").GetUntil(target, want);
  }

  testing::TempDir dir_;
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
};

TEST_F(TelemetryE2ETest, SpansEventsAndLogsInMetricsTracesAndLogsOut) {
  // Spans: one invalid (a 15-byte trace id) is refused, the others kept (partial success).
  TestResponse r = Post("/v1/traces", TracesJson(), "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"rejectedSpans\":\"1\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("spans[1] \\\"bad id\\\": traceId"), std::string::npos) << r.body;

  // Events: line 2 is bad and named; the others are accepted.
  r = Post("/api/v1/events",
           "{\"timestamp\": " + Now() +
               ", \"request_id\": \"r1\", \"model\": \"llama-3-8b\", \"tenant\": \"acme\", \"status\": \"error\", "
               "\"error_type\": \"timeout\", \"latency_ms\": 30000, \"prompt\": \"call +1 415 555 0100\"}\n"
               "{\"model\": 7}\n"
               "{\"type\": \"deployment\", \"model\": \"llama-3-8b\", \"version\": \"v2\", \"previous_version\": \"v1\"}\n",
           "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"accepted\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"line\":2,\"message\":\"model:"), std::string::npos) << r.body;
  // Every line bad: 400.
  r = Post("/api/v1/events", "not json\n", "application/x-ndjson");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"line\":1"), std::string::npos) << r.body;

  // Logs, both ways in.
  r = Post("/api/v1/logs",
           std::string("{\"level\": \"error\", \"message\": \"CUDA out of memory for ann@example.com\", \"trace_id\": \"") +
               kTrace + "\", \"service\": \"vllm-0\"}\n",
           "application/x-ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Post("/v1/logs",
           R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gateway"}}]},
               "scopeLogs":[{"logRecords":[{"timeUnixNano":")" + Now() + R"(000000000","severityText":"INFO",
               "body":{"stringValue":"routed to vllm-0"},"traceId":")" + kTrace + R"("}]}]}]})",
           "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  r = Post("/v1/logs", "{\"resourceLogs\": 5}", "application/json");
  EXPECT_EQ(r.status, 400) << r.body;

  // Derived metrics (written every second).
  r = GetUntil("/api/v1/query?query=sum(tyto_inference_requests_total)", "\"2\"");
  EXPECT_NE(r.body.find("\"2\""), std::string::npos) << r.body;  // the span's request and the event's
  r = GetUntil("/api/v1/query?query=tyto_inference_cost_total{cost_type=\"input\"}", "0.1");
  EXPECT_NE(r.body.find("\"0.1\""), std::string::npos) << r.body;  // 1000 input tokens at 0.1 per 1k
  r = GetUntil("/api/v1/query?query=tyto_model_deployment_info", "v2");
  EXPECT_NE(r.body.find("\"version\":\"v2\""), std::string::npos) << r.body;
  r = GetUntil("/api/v1/query?query=tyto_inference_errors_total", "timeout");
  EXPECT_NE(r.body.find("\"error_type\":\"timeout\""), std::string::npos) << r.body;

  // From a latency bucket to the trace: the model server's span (0.4 s, ok) left an exemplar
  // on its duration bucket (le 0.64) carrying its trace and span ids.
  r = GetUntil("/api/v1/query_exemplars?query=gen_ai_server_request_duration_seconds_bucket", kTrace);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"__name__\":\"gen_ai_server_request_duration_seconds_bucket\""), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("\"le\":\"0.64\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(std::string("\"trace_id\":\"") + kTrace + "\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"span_id\":\"00f067aa0ba902b8\""), std::string::npos) << r.body;
  // The failed request (an event, no trace id) left none, and a bucket it did not reach has none.
  r = Get("/api/v1/query_exemplars?query=gen_ai_server_request_duration_seconds_bucket%7Ble%3D%220.01%22%7D");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find(kTrace), std::string::npos) << r.body;

  // The trace, as Jaeger and as a tree; its content redacted.
  r = GetUntil(std::string("/api/traces/") + kTrace, "vllm-0");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"refType\":\"CHILD_OF\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("[REDACTED:email]"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("ann@example.com"), std::string::npos) << r.body;
  r = Get(std::string("/api/v1/traces/") + kTrace);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"depth\":1"), std::string::npos) << r.body;
  r = Get("/api/traces?service=vllm-0&tags=%7B%22gen_ai.request.model%22%3A%22llama-3-8b%22%7D&lookback=1h");
  EXPECT_NE(r.body.find(kTrace), std::string::npos) << r.body;
  r = Get("/api/v1/traces?service=vllm-0&min_duration=1ms");
  EXPECT_NE(r.body.find(kTrace), std::string::npos) << r.body;
  EXPECT_EQ(Get("/api/v1/traces?min_duration=soon").status, 400);

  // From the trace to its logs; log search by text; the live tail's cursor.
  r = Get(std::string("/api/v1/logs?trace_id=") + kTrace);
  EXPECT_NE(r.body.find("routed to vllm-0"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("CUDA out of memory for [REDACTED:email]"), std::string::npos) << r.body;
  r = Get("/api/v1/logs?query=memory&level=error");
  EXPECT_NE(r.body.find("CUDA out of memory"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("routed"), std::string::npos) << r.body;
  r = Get("/api/v1/logs/tail?cursor=0&limit=10");
  EXPECT_NE(r.body.find("\"cursor\":"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("routed to vllm-0"), std::string::npos) << r.body;

  // The failed event was kept (errors always are), its prompt redacted.
  r = Get("/api/v1/events?model=llama-3-8b");
  EXPECT_NE(r.body.find("\"request_id\":\"r1\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("555 0100"), std::string::npos) << r.body;
  // The model's nodes, from its spans.
  r = Get("/api/v1/models/llama-3-8b/gpus");
  EXPECT_NE(r.body.find("gpu-node-1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"gpus\":[]"), std::string::npos) << r.body;  // no GPU series for the node yet
  // ... and its GPUs, once dcgm-exporter series (the gpu collector's names) for that node exist;
  // another node's GPU is not the model's.
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto gpu_util = [&](std::string host, std::string gpu, std::string uuid) {
    return testing::RemoteWriteSeries{{{"Hostname", std::move(host)},
                                       {"UUID", std::move(uuid)},
                                       {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                                       {"device", "nvidia" + gpu},
                                       {"gpu", gpu},
                                       {"job", "dcgm"},
                                       {"modelName", "NVIDIA H100 80GB HBM3"}},
                                      {{now_ms, 87}}};
  };
  auto pushed = PushRemoteWrite(port_,
                                {gpu_util("gpu-node-1", "0", "GPU-aaaa"), gpu_util("gpu-node-1", "1", "GPU-bbbb"),
                                 gpu_util("gpu-node-9", "0", "GPU-cccc")},
                                "w-secret");
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  ASSERT_EQ(pushed->status, 204) << pushed->body;
  r = GetUntil("/api/v1/models/llama-3-8b/gpus", "GPU-bbbb");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("{\"node\":\"gpu-node-1\",\"gpu\":\"0\",\"UUID\":\"GPU-aaaa\",\"modelName\":\"NVIDIA H100 "
                        "80GB HBM3\",\"device\":\"nvidia0\"}"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("{\"node\":\"gpu-node-1\",\"gpu\":\"1\",\"UUID\":\"GPU-bbbb\""), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("GPU-cccc"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("gpu-node-9"), std::string::npos) << r.body;

  // Reading needs the read scope; writing the write scope.
  auto denied = testing::HttpGet(port_, "/api/v1/logs", {{"Authorization", "Bearer w-secret"}});
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->status, 403);
  auto anon = testing::HttpRequest(port_, "POST", "/api/v1/events", {}, "{\"model\":\"x\"}\n");
  ASSERT_TRUE(anon.ok());
  EXPECT_EQ(anon->status, 401);

  // kill -9: what was stored is still there after a restart.
  child_->Signal(SIGKILL);
  child_->Wait(30s);
  Start();
  r = Get(std::string("/api/traces/") + kTrace);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("vllm-0"), std::string::npos) << r.body;
  r = Get("/api/v1/logs?query=memory");
  EXPECT_NE(r.body.find("CUDA out of memory"), std::string::npos) << r.body;
  r = GetUntil("/api/v1/query?query=tyto_model_deployment_info", "v2");
  EXPECT_NE(r.body.find("\"version\":\"v2\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace tyto::e2e
