// KeyValueStore against a real nats-server: the cluster::KeyValue contract, key encoding, and
// errors while NATS is down.
#include "nats/kv_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nats/kv_contract.h"
#include "nats/test_fixture.h"

namespace tyto::nats {
namespace {

using ::testing::HasSubstr;
using testing::NatsTest;

TEST(NatsKeyTest, EncodingIsReversibleAndKeepsPrefixes) {
  EXPECT_EQ(EncodeKey("rules/cpu-high_1"), "rules/cpu-high_1");
  EXPECT_EQ(EncodeKey("a b"), "a=20b");
  EXPECT_EQ(EncodeKey(".x."), "=2Ex=2E");
  EXPECT_EQ(EncodeKey("="), "=3D");
  EXPECT_EQ(EncodeKey(std::string("\0\xff", 2)), "=00=FF");
  const std::string keys[] = {"", "plain", "with space", "a.b.c", "=3D", std::string("\0\x01\x7f\x80\xff", 5),
                              "\xc3\xbc*>"};
  for (const std::string& k : keys) {
    auto back = DecodeKey(EncodeKey(k));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, k);
    for (size_t i = 0; i <= k.size(); ++i) {
      EXPECT_EQ(EncodeKey(k).rfind(EncodeKey(k.substr(0, i)), 0), 0u) << "prefix of '" << k << "'";
    }
  }
  // Not written by Tyto: refused, never mistaken for another key.
  for (std::string_view bad : {"a.b", "=4", "=zz", "=41", "a=", "*"}) {
    EXPECT_FALSE(DecodeKey(bad).ok()) << bad;
  }
}

TEST_F(NatsTest, KeyValueContract) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto kv = KeyValueStore::Open(conn.get());
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  cluster::testing::CheckKeyValueContract(kv->get(), "contract/");

  // A second store on the bucket (another server) sees the same data and loses the same races.
  auto conn2 = Connect();
  ASSERT_NE(conn2, nullptr);
  auto kv2 = KeyValueStore::Open(conn2.get());
  ASSERT_TRUE(kv2.ok()) << kv2.status().ToString();
  auto mine = (*kv)->Create("lease/group-a", "server-1");
  ASSERT_TRUE(mine.ok());
  auto theirs = (*kv2)->Create("lease/group-a", "server-2");
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.status().code(), StatusCode::kAlreadyExists);
  auto seen = (*kv2)->Get("lease/group-a");
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->value, "server-1");
  EXPECT_EQ((*seen)->revision, *mine);
  EXPECT_EQ(conn->metrics()->kv_operations.WithLabels({"create", "ok"}).Value() > 0, true);
  EXPECT_GE(conn2->metrics()->kv_operations.WithLabels({"create", "conflict"}).Value(), 1);
}

TEST_F(NatsTest, KeyValueSurvivesRestartAndReportsOutages) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  auto kv = KeyValueStore::Open(conn.get());
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  auto rev = (*kv)->Put("silences/1", "{}");
  ASSERT_TRUE(rev.ok());
  EXPECT_TRUE((*kv)->Health().ok());
  EXPECT_EQ((*kv)->Get("").status().code(), StatusCode::kInvalidArgument);

  server_->Stop();
  ASSERT_TRUE(WaitFor([&] { return !conn->connected(); }));
  auto down = (*kv)->Get("silences/1");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable) << down.status().ToString();
  EXPECT_EQ((*kv)->Put("silences/2", "{}").status().code(), StatusCode::kUnavailable) << (*kv)->Put("silences/2", "{}").status().ToString();
  EXPECT_EQ((*kv)->Update("silences/1", "{}", *rev).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ((*kv)->List("").status().code(), StatusCode::kUnavailable);
  Status health = (*kv)->Health();
  EXPECT_EQ(health.code(), StatusCode::kUnavailable);
  EXPECT_THAT(health.message(), HasSubstr(std::to_string(server_->port())));

  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(WaitFor([&] { return (*kv)->Health().ok(); }));
  std::optional<cluster::Entry> after;
  ASSERT_TRUE(WaitFor([&] {
    auto e = (*kv)->Get("silences/1");
    if (!e.ok()) return false;
    after = *e;
    return true;
  }));
  ASSERT_TRUE(after.has_value()) << "file storage keeps the bucket across a restart";
  EXPECT_EQ(after->revision, *rev);
  EXPECT_TRUE((*kv)->Update("silences/1", "{\"v\":2}", *rev).ok());
}

}  // namespace
}  // namespace tyto::nats
