// End-to-end: a remote write sender pushing snappy-compressed WriteRequests to the built `tyto
// serve` over HTTP, with auth on; what it acknowledged survives kill -9 (read back with
// `tyto tsdb dump`).
#include <gtest/gtest.h>
#include <signal.h>


#include "e2e/process.h"
#include "e2e/serve_fixture.h"
#include "testing/http_client.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

using namespace std::chrono_literals;
using testing::RemoteWriteSeries;
using testing::TestConnection;
using testing::TestResponse;

class RemoteWriteE2ETest : public ::testing::Test {
 protected:
  // Starts `tyto serve` with a write token ("agent") and a read token ("grafana").
  void SetUp() override {
    ServedTyto s = ServeWithTokens(dir_, {{"agent", "w-secret", "write"}, {"grafana", "r-secret", "read"}});
    child_ = std::move(s.child);
    port_ = s.port;
    ASSERT_NE(port_, 0) << "tyto serve did not start; log:\n" << ReadFile(dir_.Path("serve.log"));
  }

  TestResponse Push(const std::vector<RemoteWriteSeries>& series, const std::string& secret = "w-secret") {
    auto r = PushRemoteWrite(port_, series, secret);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : TestResponse{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Child> child_;
  uint16_t port_ = 0;
};

RemoteWriteSeries Gpu(std::string gpu, std::vector<std::pair<int64_t, double>> samples) {
  return {{{"__name__", "DCGM_FI_DEV_GPU_TEMP"}, {"gpu", std::move(gpu)}, {"job", "dcgm"}}, std::move(samples)};
}

TEST_F(RemoteWriteE2ETest, AcknowledgedSamplesSurviveKill9) {
  EXPECT_EQ(Push({Gpu("0", {{15000, 41}})}, "r-secret").status, 403);
  EXPECT_EQ(Push({Gpu("0", {{15000, 41}})}, "nope").status, 401);

  TestResponse r = Push({Gpu("0", {{15000, 41}, {30000, 42}}), Gpu("1", {{15000, 55.5}})});
  EXPECT_EQ(r.status, 204) << r.body;
  // A sample older than the series' newest beyond the out-of-order window: refused by name,
  // while the valid sample in the same request is stored.
  r = Push({Gpu("0", {{30000 - 3'600'000, 1}}), Gpu("1", {{30000, 56}})});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("1 of 2 samples rejected; the first: timeseries[0].samples[0]: sample at -3570000"),
            std::string::npos)
      << r.body;
  // Not snappy: a 400 naming the problem, and the server carries on.
  auto conn = TestConnection::Connect(port_);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Send("POST", "/api/v1/write", {{"Authorization", "Bearer w-secret"}}, "plain text").ok());
  auto bad = (*conn)->Read();
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("invalid snappy block"), std::string::npos) << bad->body;

  auto metrics = testing::HttpGet(port_, "/metrics", {{"Authorization", "Bearer r-secret"}});
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("tyto_remote_write_samples_stored_total 4\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("tyto_remote_write_samples_rejected_total{reason=\"out_of_order\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("tyto_remote_write_requests_total{code=\"204\"} 1\n"), std::string::npos);

  child_->Signal(SIGKILL);
  child_->Wait(30s);
  CommandResult dump = RunCommand({TYTO_BINARY, "tsdb", "dump", dir_.Path("data"), "DCGM_FI_DEV_GPU_TEMP"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_EQ(dump.out,
            "DCGM_FI_DEV_GPU_TEMP{gpu=\"0\", job=\"dcgm\"} 41 15000\n"
            "DCGM_FI_DEV_GPU_TEMP{gpu=\"0\", job=\"dcgm\"} 42 30000\n"
            "DCGM_FI_DEV_GPU_TEMP{gpu=\"1\", job=\"dcgm\"} 55.5 15000\n"
            "DCGM_FI_DEV_GPU_TEMP{gpu=\"1\", job=\"dcgm\"} 56 30000\n");
}

}  // namespace
}  // namespace tyto::e2e
