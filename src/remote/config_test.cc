#include "remote/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/schema.h"
#include "testing/config_decode.h"

namespace tyto::remote {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct File {
  std::vector<RemoteWriteConfig> remote_write;
  RemoteQueryConfig remote_query;
};

Result<File> Decode(std::string_view text) {
  config::Section<File> root("", "test");
  root.List("remote_write", &File::remote_write, RemoteWriteSchema())
      .Nested("remote_query", &File::remote_query, RemoteQuerySchema());
  return testing::DecodeYaml(root, text, "tyto.yml");
}

TEST(RemoteConfigTest, APrometheusRemoteWriteSectionDecodes) {
  auto f = Decode(R"(
remote_write:
  - url: http://vm:8428/api/v1/write
    name: vm
    remote_timeout: 10s
    headers:
      X-Scope-OrgID: fleet
    write_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
    authorization:
      credentials_file: /etc/tyto/vm-token
    tls_config:
      insecure_skip_verify: true
    queue_config:
      max_shards: 8
      max_samples_per_send: 5000
      batch_send_deadline: 2s
      min_backoff: 100ms
      max_backoff: 10s
      max_size: 1GiB
      fsync: always
  - url: https://mimir.example.com/api/v1/push
    basic_auth: {username: u, password: p}
remote_query:
  query_url: http://vm:8428
  timeout: 30s
  max_response_size: 64MiB
  headers: {X-Scope-OrgID: fleet}
)");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->remote_write.size(), 2u);
  const RemoteWriteConfig& vm = f->remote_write[0];
  EXPECT_EQ(vm.url, "http://vm:8428/api/v1/write");
  EXPECT_EQ(QueueName(vm), "vm");
  EXPECT_EQ(vm.remote_timeout, 10s);
  EXPECT_EQ(vm.headers.at("X-Scope-OrgID"), "fleet");
  ASSERT_EQ(vm.write_relabel_configs.size(), 1u);
  EXPECT_EQ(vm.write_relabel_configs[0].action, "drop");
  EXPECT_EQ(vm.authorization.credentials_file, "/etc/tyto/vm-token");
  EXPECT_TRUE(vm.tls_config.insecure_skip_verify);
  EXPECT_EQ(vm.queue_config.max_shards, 8);
  EXPECT_EQ(vm.queue_config.max_samples_per_send, 5000);
  EXPECT_EQ(vm.queue_config.batch_send_deadline, 2s);
  EXPECT_EQ(vm.queue_config.min_backoff, 100ms);
  EXPECT_EQ(vm.queue_config.max_backoff, 10s);
  EXPECT_EQ(vm.queue_config.max_size, 1ull << 30);
  EXPECT_EQ(vm.queue_config.fsync, "always");
  const RemoteWriteConfig& mimir = f->remote_write[1];
  EXPECT_EQ(mimir.queue_config.max_shards, 4);  // defaults
  EXPECT_EQ(mimir.remote_timeout, 30s);
  EXPECT_THAT(QueueName(mimir), ::testing::MatchesRegex("rw-[0-9a-f]{16}"));
  EXPECT_EQ(QueueName(mimir), QueueName(mimir));
  EXPECT_EQ(f->remote_query.query_url, "http://vm:8428");
  EXPECT_EQ(f->remote_query.timeout, 30s);
  EXPECT_EQ(f->remote_query.max_response_size, 64ull << 20);
  EXPECT_TRUE(CheckRemoteMode(f->remote_query, f->remote_write).ok());
  // query_url is needed in remote mode only (CheckRemoteMode): the section with its defaults
  // decodes, as the server's /api/v1/status/config shows it.
  EXPECT_TRUE(Decode("remote_query: {timeout: 1s}").ok());
}

TEST(RemoteConfigTest, ErrorsArePositionedAndNamed) {
  auto err = [](std::string_view text) {
    auto f = Decode(text);
    EXPECT_FALSE(f.ok()) << text;
    return f.ok() ? std::string() : f.status().message();
  };
  EXPECT_THAT(err("remote_write: [{name: x}]"), HasSubstr("remote_write url is required"));
  EXPECT_THAT(err("remote_write: [{url: 'ftp://x/'}]"), HasSubstr("tyto.yml:1:"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', name: '../etc'}]"), HasSubstr("names a folder"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', queue_config: {capacity: 10000}}]"),
              HasSubstr("queue_config.capacity: not supported"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', queue_config: {min_shards: 1}}]"),
              HasSubstr("queue_config.min_shards: not supported"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', queue_config: {min_backoff: 10s, max_backoff: 1s}}]"),
              HasSubstr("min_backoff is greater than max_backoff"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', headers: {Authorization: x}}]"), HasSubstr("set by Tyto"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', headers: {'Bad Name': x}}]"), HasSubstr("not allowed"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', basic_auth: {username: u}, authorization: {credentials: t}}]"),
              HasSubstr("at most one of basic_auth and authorization"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', sigv4: {}}]"), HasSubstr("unknown key 'sigv4'"));
  EXPECT_THAT(err("remote_write: [{url: 'http://x/', write_relabel_configs: [{regex: '('}]}]"), HasSubstr("tyto.yml:1:"));
  EXPECT_THAT(err("remote_query: {query_url: 'http://vm:8428', headers: {Content-Type: x}}"),
              HasSubstr("remote_query header Content-Type"));
}

TEST(RemoteConfigTest, ListAndModeChecks) {
  RemoteWriteConfig a, b;
  a.url = "http://a/api/v1/write";
  b.url = "http://a/api/v1/write";
  Status s = CheckRemoteWriteList({a, b});
  EXPECT_THAT(s.message(), HasSubstr("remote_write[0] and remote_write[1] have the same name"));
  b.name = "second";
  EXPECT_TRUE(CheckRemoteWriteList({a, b}).ok());
  RemoteQueryConfig q;
  q.query_url = "http://vm:8428";
  EXPECT_THAT(CheckRemoteMode(q, {}).message(), HasSubstr("at least one remote_write destination"));
  EXPECT_THAT(CheckRemoteMode({}, {a}).message(), HasSubstr("query_url is required"));
}

TEST(RemoteConfigTest, SecretsAreNotEncoded) {
  auto f = Decode(R"(
remote_write:
  - url: http://x/
    basic_auth: {username: u, password: hunter2}
remote_query:
  query_url: http://vm:8428
  authorization: {credentials: tok3n}
)");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  config::Writer w;
  w.BeginList();
  RemoteWriteSchema().Encode(f->remote_write[0], w);
  RemoteQuerySchema().Encode(f->remote_query, w);
  w.EndList();
  const std::string text = w.Text();
  EXPECT_NE(text.find("<secret>"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("tok3n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tyto::remote
