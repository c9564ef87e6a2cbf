// The whole server against abusive clients (docs/security.md, "Hardening"): decompression bombs
// on every compressed ingest route and slowloris clients are refused while normal requests go on
// being answered, and the rate limits and attack signals are wired to their configuration keys.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "auth/auth.h"
#include "server/server.h"
#include "testing/compression_bombs.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::server {
namespace {

using namespace std::chrono_literals;
using testing::HttpGet;
using testing::HttpRequest;

// Resident memory of this process now, in bytes.
size_t Rss() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

class HardeningTest : public ::testing::Test {
 protected:
  void TearDown() override { server_.reset(); }
  Status Start(const std::string& config) {
    std::ofstream(tmp_.Path("tyto.yml")) << config;
    Overrides o;
    o.config_file = tmp_.Path("tyto.yml");
    o.data_dir = tmp_.Path("data");
    o.listen = "127.0.0.1:0";
    server_ = std::make_unique<Server>(o, Env::Default(), Clock::Real());
    return server_->Start();
  }
  std::string Metrics() {
    auto r = HttpGet(server_->port(), "/metrics");
    return r.ok() ? r->body : "";
  }

  testing::TempDir tmp_;
  std::unique_ptr<Server> server_;
};

TEST_F(HardeningTest, DecompressionBombsAreRefusedWhileNormalTrafficContinues) {
  ASSERT_TRUE(Start("").ok());
  const uint16_t port = server_->port();
  // 10 GiB in about 10 MB (gzip), well under 1 MB (zstd); 200 MiB in 10 MB (snappy's best ratio).
  struct Bomb {
    std::string path, content_type, encoding, body, name;
  };
  const std::vector<Bomb> bombs = {
      {"/v1/logs", "application/x-protobuf", "gzip", testing::GzipBomb(10240), "gzip"},
      {"/api/v1/logs", "application/x-ndjson", "zstd", testing::ZstdBomb(10240, /*declare_size=*/false), "zstd"},
      {"/v1/traces", "application/json", "zstd", testing::ZstdBomb(10240, /*declare_size=*/true), "zstd"},
      {"/api/v1/write", "application/x-protobuf", "snappy", testing::SnappyBomb(200), "snappy"},
  };
  // Normal requests, one after another, for as long as the bombs are being sent.
  std::atomic<bool> done{false};
  std::atomic<int> normal_ok{0}, normal_failed{0};
  std::thread normal([&] {
    while (!done) {
      auto q = HttpGet(port, "/api/v1/query?query=vector(1)");
      auto w = HttpRequest(port, "POST", "/api/v1/logs", {{"Content-Type", "application/x-ndjson"}},
                           "{\"body\":\"user logged in\",\"service\":\"web\"}\n");
      (q.ok() && q->status == 200 && w.ok() && w->status == 200 ? normal_ok : normal_failed)++;
      std::this_thread::sleep_for(20ms);  // well under the per-address rate limit
    }
  });
  std::atomic<size_t> peak{0};
  const size_t before = Rss();
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak.load(), Rss());
      std::this_thread::sleep_for(5ms);
    }
  });
  for (const Bomb& b : bombs) {
    const auto start = std::chrono::steady_clock::now();
    auto r = HttpRequest(port, "POST", b.path, {{"Content-Type", b.content_type}, {"Content-Encoding", b.encoding}},
                         b.body);
    ASSERT_TRUE(r.ok()) << b.path << ": " << r.status().ToString();
    EXPECT_EQ(r->status, 413) << b.path << ": " << r->body;
    EXPECT_NE(r->body.find(b.name), std::string::npos) << b.path << ": the answer names the encoding: " << r->body;
    EXPECT_NE(r->body.find(std::to_string(64 << 20)), std::string::npos) << b.path << ": and the limit: " << r->body;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << b.path;
  }
  // Let the normal requests run a little past the last bomb, then stop.
  for (int i = 0; i < 200 && normal_ok < 5; ++i) std::this_thread::sleep_for(10ms);
  done = true;
  normal.join();
  sampler.join();
  EXPECT_GE(normal_ok.load(), 5);
  EXPECT_EQ(normal_failed.load(), 0);
  // Decoding stops at the 64 MiB cap: far from the 10 GiB the bombs expand to.
  EXPECT_LT(peak.load() - std::min(peak.load(), before), size_t{1} << 30)
      << "resident memory grew by " << (peak.load() - before) / (1 << 20) << " MiB";
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_http_requests_refused_total{reason=\"decompressed_too_large\"} 4"), std::string::npos) << m;
}

TEST_F(HardeningTest, SlowlorisClientsAreCutAndQueriesAnswered) {
  ASSERT_TRUE(Start("http:\n  header_timeout: 2s\n").ok());
  const uint16_t port = server_->port();
  std::vector<std::unique_ptr<testing::TestConnection>> slow;
  for (int i = 0; i < 50; ++i) {
    auto c = testing::TestConnection::Connect(port);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->SendRaw("GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\n").ok());
    slow.push_back(std::move(c).value());
  }
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (auto& c : slow) (void)c->SendRaw("X");
      std::this_thread::sleep_for(100ms);
    }
  });
  auto q = HttpGet(port, "/api/v1/query?query=vector(1)");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->status, 200);
  EXPECT_EQ(Metrics().find("reason=\"slow_client\""), std::string::npos) << "answered before the slow ones were cut";
  // Every slow one is cut once its headers have taken header_timeout.
  std::string m;
  for (int i = 0; i < 200; ++i) {
    m = Metrics();
    if (m.find("tyto_http_requests_refused_total{reason=\"slow_client\"} 50") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  trickle.join();
  EXPECT_NE(m.find("tyto_http_requests_refused_total{reason=\"slow_client\"} 50"), std::string::npos) << m;
  for (auto& c : slow) EXPECT_TRUE(c->ClosedByPeer(2s));
}

TEST_F(HardeningTest, RateLimitPerAddressFromTheConfiguration) {
  // A burst of 4 and then one request every 100 s: the test never waits for a refill.
  ASSERT_TRUE(Start("http:\n  rate_limit_per_address: 0.01\n  rate_limit_per_address_burst: 4\n").ok());
  const uint16_t port = server_->port();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(HttpGet(port, "/-/healthy")->status, 200) << i;
  const std::string m = Metrics();  // the 4th
  EXPECT_NE(m.find("tyto_http_requests_by_address_total{class=\"loopback\",bucket="), std::string::npos) << m;
  auto r = HttpGet(port, "/-/healthy");
  EXPECT_EQ(r->status, 429);
  EXPECT_NE(r->body.find("\"limit\":\"rate_limit_per_address\""), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("http.rate_limit_per_address"), std::string::npos) << r->body;
}

TEST_F(HardeningTest, FailedAuthenticationsSpendTheAddressAllowance) {
  ASSERT_TRUE(Start("http:\n"
                    "  auth_failures_per_address: 0.01\n"
                    "  auth_failures_per_address_burst: 2\n"
                    "auth:\n"
                    "  tokens:\n"
                    "    - name: grafana\n"
                    "      secret_sha256: " + auth::HashSecret("right") + "\n"
                    "      scopes: [read]\n")
                  .ok());
  const uint16_t port = server_->port();
  EXPECT_EQ(HttpGet(port, "/api/v1/labels", {{"Authorization", "Bearer right"}})->status, 200);
  // Two wrong secrets spend the allowance: the next attempt, even with the right secret, is
  // refused before its credentials are checked.
  EXPECT_EQ(HttpGet(port, "/api/v1/labels", {{"Authorization", "Bearer guess-1"}})->status, 401);
  EXPECT_EQ(HttpGet(port, "/api/v1/labels", {{"Authorization", "Bearer guess-2"}})->status, 401);
  auto r = HttpGet(port, "/api/v1/labels", {{"Authorization", "Bearer right"}});
  EXPECT_EQ(r->status, 429);
  EXPECT_NE(r->body.find("\"limit\":\"auth_failures_per_address\""), std::string::npos) << r->body;
  EXPECT_EQ(HttpGet(port, "/-/healthy")->status, 200) << "unguarded routes are not held back";
}

TEST_F(HardeningTest, AccessLogsSentInCountIntoTheSignals) {
  ASSERT_TRUE(Start("").ok());
  std::string lines;
  for (int i = 0; i < 3; ++i) {
    lines += R"({"service":"nginx","body":"203.0.113.7 - - [23/Nov/2026:10:00:0)" + std::to_string(i) +
             R"( +0000] \"POST /login HTTP/1.1\" 401 0 \"-\" \"hydra\""})" + "\n";
  }
  lines += R"({"service":"nginx","body":"203.0.113.7 - - [23/Nov/2026:10:00:09 +0000] \"GET /.env HTTP/1.1\" 404 0"})"
           "\n";
  lines += R"({"service":"nginx","body":"worker started"})"
           "\n";
  auto r = HttpRequest(server_->port(), "POST", "/api/v1/logs", {{"Content-Type", "application/x-ndjson"}}, lines);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_access_log_auth_failures_total{service=\"nginx\"} 3"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_unknown_path_total{service=\"nginx\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_requests_total{service=\"nginx\",code=\"4xx\"} 4"), std::string::npos) << m;
}

}  // namespace
}  // namespace tyto::server
