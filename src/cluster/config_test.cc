#include "cluster/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/config_decode.h"

namespace tyto::cluster {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Result<ClusterConfig> Decode(std::string_view text) {
  return testing::DecodeSection("cluster", ClusterSchema(), text);
}

TEST(ClusterConfigTest, DefaultsAndHostName) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->lease_ttl, 15s);
  EXPECT_EQ(c->poll_interval, 1s);
  EXPECT_EQ(c->notification_claim_grace, 15s);
  EXPECT_EQ(c->playbook_claim_ttl, 1h);
  EXPECT_FALSE(ResolveNode(*c).empty());
  c->node = "tyto-1";
  EXPECT_EQ(ResolveNode(*c), "tyto-1");
}

TEST(ClusterConfigTest, EveryKey) {
  auto c = Decode(R"(
cluster:
  node: tyto-2
  advertise_url: http://tyto-2:9090
  lease_ttl: 30s
  poll_interval: 500ms
  notification_claim_grace: 20s
  playbook_claim_ttl: 2h
  peers: [tyto-1:9090, tyto-3:9090]
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node, "tyto-2");
  EXPECT_EQ(c->advertise_url, "http://tyto-2:9090");
  EXPECT_EQ(c->lease_ttl, 30s);
  EXPECT_EQ(c->poll_interval, 500ms);
  EXPECT_EQ(c->notification_claim_grace, 20s);
  EXPECT_EQ(c->playbook_claim_ttl, 2h);
  EXPECT_THAT(c->peers, ::testing::ElementsAre("tyto-1:9090", "tyto-3:9090"));
}

TEST(ClusterConfigTest, BadValuesNamePosition) {
  auto bad_node = Decode("cluster:\n  node: \"a b\"\n");
  ASSERT_FALSE(bad_node.ok());
  EXPECT_THAT(bad_node.status().message(), HasSubstr("cluster.node"));
  EXPECT_THAT(bad_node.status().message(), HasSubstr("tyto.yml:"));
  EXPECT_FALSE(Decode("cluster:\n  lease_ttl: 1s\n").ok());
  EXPECT_FALSE(Decode("cluster:\n  poll_interval: 2m\n").ok());
  EXPECT_FALSE(Decode("cluster:\n  nodes: x\n").ok());
}

}  // namespace
}  // namespace tyto::cluster
