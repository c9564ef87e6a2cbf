// End-to-end: an OpenTelemetry exporter pushing OTLP/HTTP metrics (a protobuf body and a JSON
// body) to the built `tyto serve`, with auth on; what it acknowledged is read back with
// `tyto tsdb dump` after kill -9.
#include <gtest/gtest.h>
#include <signal.h>


#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "http/gzip.h"
#include "http/message.h"
#include "testing/http_client.h"
#include "testing/otlp_builder.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::TestResponse;
namespace pb = testing::otlp_pb;

class OtlpE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServedTyto s = ServeWithTokens(dir_, {{"collector", "w-secret", "write"}});
    child_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not start; log:\n" << ReadFile(dir_.Path("serve.log"));
  }

  TestResponse Post(const std::string& body, http::Headers headers) {
    headers.emplace_back("Authorization", "Bearer w-secret");
    auto r = testing::HttpRequest(port_, "POST", "/v1/metrics", headers, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : TestResponse{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
};

TEST_F(OtlpE2ETest, ProtobufAndJsonBodiesAreStored) {
  const std::string proto = pb::Request({pb::ResourceMetrics(
      {pb::Attr("service.name", "vllm"), pb::Attr("service.instance.id", "gpu-node-1")},
      {pb::ScopeMetrics("vllm.metrics", "",
                        {pb::Metric("vllm.num_requests.running", "{request}", pb::kGauge,
                                    pb::Gauge({pb::NumberPoint({pb::Attr("model", "llama")}, 15'000'000'000, 3)})),
                         pb::Metric("vllm.generation_tokens", "", pb::kSum,
                                    pb::Sum({pb::NumberPoint({}, 15'000'000'000, 40)}, pb::kDelta, true))})})});
  TestResponse r = Post(http::GzipCompress(proto), {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200) << r.body;

  r = Post(R"({"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"vllm"}},
             {"key":"service.instance.id","value":{"stringValue":"gpu-node-1"}}]},
           "scopeMetrics":[{"scope":{"name":"vllm.metrics"},"metrics":[
             {"name":"vllm.generation_tokens","sum":{"aggregationTemporality":1,"isMonotonic":true,
              "dataPoints":[{"timeUnixNano":"30000000000","asDouble":2}]}}]}]}]})",
           {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");

  r = Post("{\"resourceMetrics\":[", {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid JSON at byte"), std::string::npos) << r.body;

  child_->Signal(SIGKILL);
  child_->Wait(30s);
  CommandResult dump = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "vllm_generation_tokens_total"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  // Delta points summed into a counter.
  EXPECT_EQ(dump.out,
            "vllm_generation_tokens_total{instance=\"gpu-node-1\", job=\"vllm\", otel_scope_name=\"vllm.metrics\"} 40 15000\n"
            "vllm_generation_tokens_total{instance=\"gpu-node-1\", job=\"vllm\", otel_scope_name=\"vllm.metrics\"} 42 30000\n");
  dump = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "vllm_num_requests_running"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out,
            "vllm_num_requests_running{instance=\"gpu-node-1\", job=\"vllm\", model=\"llama\", "
            "otel_scope_name=\"vllm.metrics\"} 3 15000\n");
}

}  // namespace
}  // namespace tyto::e2e
