#include "eventstore/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/config_decode.h"

namespace tyto::eventstore {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Result<EventStoreConfig> Decode(std::string_view text) {
  return testing::DecodeSection("event_store", EventStoreSchema(), text);
}

TEST(EventStoreConfigTest, Defaults) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->path, "events");
  EXPECT_EQ(c->partition, 1h);
  EXPECT_EQ(c->retention, 168h);
  EXPECT_EQ(c->max_size, 10ull << 30);
  EXPECT_EQ(c->max_future, 1h);
  EXPECT_EQ(c->sync, "normal");
  EventStoreOptions o = ToOptions(*c);
  EXPECT_EQ(o.partition, 1h);
  EXPECT_EQ(o.max_bytes, 10ull << 30);
  EXPECT_EQ(o.sync, SyncMode::kNormal);
  EXPECT_TRUE(ValidateOptions(o).ok());
  EXPECT_EQ(StoreDir("./data/", *c), "./data/events");
}

TEST(EventStoreConfigTest, EveryKey) {
  auto c = Decode(R"(
event_store:
  path: /var/lib/tyto-events
  partition: 1d
  retention: 30d
  max_size: 200GiB
  max_future: 10m
  sync: full
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->partition, 24h);
  EXPECT_EQ(c->retention, 720h);
  EXPECT_EQ(c->max_size, 200ull << 30);
  EXPECT_EQ(c->max_future, 10min);
  EXPECT_EQ(StoreDir("./data", *c), "/var/lib/tyto-events");
  EXPECT_EQ(ToOptions(*c).sync, SyncMode::kFull);
  EXPECT_EQ(ToOptions(*c).retention, 720h);
}

TEST(EventStoreConfigTest, Errors) {
  EXPECT_THAT(Decode("event_store:\n  partition: 30s\n").status().message(), HasSubstr("tyto.yml:2:14: duration 30s"));
  EXPECT_THAT(Decode("event_store:\n  partition: 90500ms\n").status().message(), HasSubstr("whole number of seconds"));
  EXPECT_THAT(Decode("event_store:\n  partition: 1d\n  retention: 12h\n").status().message(),
              HasSubstr("at least one partition"));
  EXPECT_THAT(Decode("event_store:\n  sync: always\n").status().message(),
              HasSubstr("'always' (expected one of normal, full)"));
  EXPECT_THAT(Decode("event_store:\n  path: \"\"\n").status().message(), HasSubstr("path must not be empty"));
  EXPECT_THAT(Decode("event_store:\n  retension: 1d\n").status().message(), HasSubstr("did you mean 'retention'"));
  EXPECT_THAT(Decode("event_store:\n  max_size: lots\n").status().message(), HasSubstr("tyto.yml:2"));
}

}  // namespace
}  // namespace tyto::eventstore
