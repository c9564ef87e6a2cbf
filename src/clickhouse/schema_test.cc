#include "clickhouse/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tyto::clickhouse {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SchemaTest, OneServerHasPlainMergeTreeTables) {
  Layout l{"tyto", "", false};
  const auto sql = l.CreateStatements();
  ASSERT_EQ(sql.size(), 1u + kTableCount);
  EXPECT_EQ(sql[0], "CREATE DATABASE IF NOT EXISTS `tyto`");
  EXPECT_THAT(sql[1], HasSubstr("CREATE TABLE IF NOT EXISTS `tyto`.`spans` (`batch_id` UInt64, `seq` UInt32"));
  EXPECT_THAT(sql[1], HasSubstr("ENGINE = MergeTree() PARTITION BY toYYYYMMDD(time) ORDER BY (service, start_ns)"));
  EXPECT_THAT(l.InsertStatement(TableId::kLogs),
              HasSubstr("INSERT INTO `tyto`.`logs` (`batch_id`, `seq`, `source`, `org`, `cursor`, `time`, `time_ns`"));
  for (const std::string& s : sql) {
    for (const char* banned : {"Map(", "JSON", "DateTime64", "TTL", "CODEC", "INDEX", "LowCardinality"}) {
      EXPECT_THAT(s, Not(HasSubstr(banned))) << s;
    }
  }
}

// Tables an older Tyto made (no org, no inference_events.user) get the columns in place; old
// rows read org "default".
TEST(SchemaTest, MissingColumnsAreAddedAfterTheirPredecessor) {
  Layout l{"tyto", "", false};
  std::vector<std::string> existing;
  for (const Column& c : Spec(TableId::kInferenceEvents).columns) {
    if (std::string_view(c.name) != "org" && std::string_view(c.name) != "user") existing.push_back(c.name);
  }
  EXPECT_THAT(l.AddMissingColumns(TableId::kInferenceEvents, l.Table(TableId::kInferenceEvents), existing),
              ::testing::ElementsAre(
                  "ALTER TABLE `tyto`.`inference_events` ADD COLUMN `org` String DEFAULT 'default' AFTER `source`",
                  "ALTER TABLE `tyto`.`inference_events` ADD COLUMN `user` String AFTER `span_id`"));
  existing.push_back("org");
  existing.push_back("user");
  EXPECT_TRUE(l.AddMissingColumns(TableId::kInferenceEvents, "t", existing).empty());
}

TEST(SchemaTest, ClusterHasLocalAndDistributedTables) {
  Layout l{"tyto", "events", true};
  const auto sql = l.CreateStatements();
  ASSERT_EQ(sql.size(), 1u + 2 * kTableCount);
  EXPECT_THAT(sql[1], HasSubstr("`tyto`.`spans_local`"));
  EXPECT_THAT(sql[1], HasSubstr("ReplicatedMergeTree('/clickhouse/tables/{shard}/tyto.spans_local', '{replica}')"));
  EXPECT_EQ(sql[2],
            "CREATE TABLE IF NOT EXISTS `tyto`.`spans` AS `tyto`.`spans_local` ENGINE = Distributed(`events`, "
            "`tyto`, `spans_local`, intHash64(batch_id))");
  EXPECT_EQ(l.Table(TableId::kLogs), "`tyto`.`logs`");
  EXPECT_EQ(l.LocalTable(TableId::kLogs), "`tyto`.`logs_local`");
}

}  // namespace
}  // namespace tyto::clickhouse
