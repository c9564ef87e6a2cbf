#include "clickhouse/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/config_decode.h"
#include "testing/temp_dir.h"
#include "tyto/env.h"

namespace tyto::clickhouse {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

Result<ClickHouseConfig> Decode(std::string_view text) {
  return testing::DecodeSection("clickhouse", ClickHouseSchema(), text);
}

TEST(ClickHouseConfigTest, DefaultsAndEveryOption) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->urls, std::vector<std::string>{"http://127.0.0.1:8123"});
  EXPECT_EQ(c->database, "tyto");
  EXPECT_EQ(c->retention, 168h);
  EXPECT_FALSE(c->tls.insecure_skip_verify);
  c = Decode(R"(clickhouse:
  urls: [https://ch-1:8443, https://ch-2:8443]
  database: telemetry
  user: tyto
  password_file: /etc/tyto/ch
  tls: {ca_file: /etc/ca.pem, server_name: ch.internal}
  insert_timeout: 5s
  query_timeout: 20s
  retry_for: 2m
  cluster: events
  replicated: true
  retention: 30d
  batch_rows: 50000
  flush_interval: 200ms
  tail_settle: 0s
  writer_id: 7
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->urls.size(), 2u);
  EXPECT_EQ(c->database, "telemetry");
  EXPECT_EQ(c->tls.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c->tls.server_name, "ch.internal");
  EXPECT_EQ(c->insert_timeout, 5s);
  EXPECT_EQ(c->retry_for, 120s);
  EXPECT_EQ(c->cluster, "events");
  EXPECT_TRUE(c->replicated);
  EXPECT_EQ(c->retention, 30 * 24h);
  EXPECT_EQ(c->batch_rows, 50'000u);
  EXPECT_EQ(c->flush_interval, 200ms);
  EXPECT_EQ(c->tail_settle, 0ms);
  EXPECT_EQ(c->writer_id, 7);
}

TEST(ClickHouseConfigTest, Errors) {
  EXPECT_THAT(Decode("clickhouse: {urls: [ftp://x]}").status().message(), HasSubstr("clickhouse.urls"));
  EXPECT_THAT(Decode("clickhouse: {urls: []}").status().message(), HasSubstr("at least one URL"));
  EXPECT_THAT(Decode("clickhouse: {database: 'a; DROP'}").status().message(), HasSubstr("clickhouse.database"));
  EXPECT_THAT(Decode("clickhouse: {cluster: 'x`y'}").status().message(), HasSubstr("clickhouse.cluster"));
  EXPECT_THAT(Decode("clickhouse: {replicated: true}").status().message(), HasSubstr("needs clickhouse.cluster"));
  EXPECT_THAT(Decode("clickhouse: {password: a, password_file: b}").status().message(), HasSubstr("at most one"));
  EXPECT_THAT(Decode("clickhouse: {tls: {cert_file: a}}").status().message(), HasSubstr("together"));
  EXPECT_THAT(Decode("clickhouse: {retention: 12h}").status().message(), HasSubstr("1:25: duration 12h is below"));
  EXPECT_THAT(Decode("clickhouse: {batch_rows: 0}").status().message(), HasSubstr("1:26: value 0 out of range"));
  EXPECT_THAT(Decode("clickhouse: {writer_id: 1024}").status().message(), HasSubstr("1:25: value 1024 out of range"));
  ClickHouseConfig c;
  c.retention = std::chrono::hours(1);
  EXPECT_THAT(Validate(c).message(), HasSubstr("clickhouse.retention"));
  c = {};
  c.batch_rows = 0;
  EXPECT_THAT(Validate(c).message(), HasSubstr("clickhouse.batch_rows"));
  EXPECT_THAT(Decode("clickhouse: {nope: 1}").status().message(), HasSubstr("nope"));
}

TEST(ClickHouseConfigTest, PasswordFromAFile) {
  testing::TempDir dir;
  ClickHouseConfig c;
  c.password_file = dir.Path("pw");
  EXPECT_EQ(ReadPassword(Env::Default(), c).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(Env::Default()->NewWritableFile(c.password_file).value()->Append("s3cret\n").ok());
  auto p = ReadPassword(Env::Default(), c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, "s3cret");
  c.password_file.clear();
  c.password = "inline";
  EXPECT_EQ(*ReadPassword(Env::Default(), c), "inline");
}

}  // namespace
}  // namespace tyto::clickhouse
