#include "server/probe.h"

#include <gtest/gtest.h>

namespace tyto::server {
namespace {

TEST(ProbeTest, TheEmbeddedDefaultHasNothingToReach) {
  EXPECT_TRUE(ProbeDependencies(Config{}, Env::Default()).empty());
}

TEST(ProbeTest, EachSelectedEngineIsReachedAndNamedWhenItDoesNotAnswer) {
  auto cfg = ParseConfig(
      "storage:\n"
      "  events: clickhouse\n"
      "  metrics: remote\n"
      "  shared_state: nats\n"
      "  clickhouse: {urls: ['http://127.0.0.1:1'], query_timeout: 2s}\n"
      "  remote_query: {query_url: 'http://127.0.0.1:1', timeout: 2s}\n"
      "  nats: {urls: ['nats://127.0.0.1:1'], connect_timeout: 1s}\n"
      "remote_write: [{url: 'http://127.0.0.1:1/api/v1/write'}]\n",
      "tyto.yml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  std::vector<api::DependencyHealth> got = ProbeDependencies(*cfg, Env::Default());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "clickhouse");
  EXPECT_EQ(got[1].name, "remote_metrics");
  EXPECT_EQ(got[2].name, "nats");
  for (const api::DependencyHealth& d : got) {
    EXPECT_FALSE(d.status.ok()) << d.name;
    EXPECT_NE(d.status.message().find("127.0.0.1:1"), std::string::npos) << d.status.message();
  }
}

}  // namespace
}  // namespace tyto::server
