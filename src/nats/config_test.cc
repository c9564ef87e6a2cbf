#include "nats/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/schema.h"
#include "config/yaml.h"
#include "testing/temp_dir.h"

namespace tyto::nats {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct File {
  NatsConfig nats;
};

config::Section<File>& Root() {
  static auto* root = [] {
    auto* r = new config::Section<File>("", "test");
    r->Nested("nats", &File::nats, NatsSchema());
    return r;
  }();
  return *root;
}

Result<NatsConfig> Decode(std::string_view text) {
  TYTO_ASSIGN_OR_RETURN(config::Node n, config::ParseYaml(text, "tyto.yml"));
  File f;
  config::Diagnostics d;
  Root().Decode(n, &f, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return f.nats;
}

TEST(NatsConfigTest, Defaults) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->urls, std::vector<std::string>{"nats://127.0.0.1:4222"});
  EXPECT_EQ(c->stream, "TYTO_TELEMETRY");
  EXPECT_EQ(c->subject_prefix, "telemetry");
  EXPECT_EQ(c->durable, "tyto-server");
  EXPECT_EQ(c->kv_bucket, "tyto");
  EXPECT_EQ(c->storage, "file");
  EXPECT_EQ(c->replicas, 1);
  EXPECT_EQ(c->max_age, 168h);
  EXPECT_EQ(c->duplicate_window, 10min);
  EXPECT_FALSE(c->tls.insecure_skip_verify);
  EXPECT_TRUE(Validate(*c).ok());
}

TEST(NatsConfigTest, EveryKey) {
  auto c = Decode(R"(
nats:
  urls: [tls://n1:4222, n2:4222]
  user: tyto
  password_file: /etc/tyto/nats
  tls:
    ca_file: /etc/ca.pem
    cert_file: /etc/c.pem
    key_file: /etc/k.pem
    server_name: nats.internal
    insecure_skip_verify: false
  connect_timeout: 3s
  request_timeout: 10s
  stream: TELEMETRY_2
  subject_prefix: acme.telemetry
  max_age: 3d
  max_bytes: 100GiB
  storage: memory
  replicas: 3
  duplicate_window: 1h
  durable: servers
  ack_wait: 1m
  max_ack_pending: 5000
  consumer_workers: 4
  kv_bucket: tyto_state
  tenant: team-a
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->urls.size(), 2u);
  EXPECT_EQ(c->password_file, "/etc/tyto/nats");
  EXPECT_EQ(c->tls.server_name, "nats.internal");
  EXPECT_EQ(c->request_timeout, 10s);
  EXPECT_EQ(c->subject_prefix, "acme.telemetry");
  EXPECT_EQ(c->max_bytes, 100ull << 30);
  EXPECT_EQ(c->replicas, 3);
  EXPECT_EQ(c->duplicate_window, 1h);
  EXPECT_EQ(c->ack_wait, 60s);
  EXPECT_EQ(c->max_ack_pending, 5000);
  EXPECT_EQ(c->consumer_workers, 4);
  EXPECT_EQ(c->tenant, "team-a");
}

TEST(NatsConfigTest, ErrorsNamePlaceAndProblem) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  const Case cases[] = {
      {"nats:\n  urls: []\n", "at least one server"},
      {"nats:\n  urls: [http://x:1]\n", "is not nats://"},
      {"nats:\n  user: a\n  password: b\n  password_file: c\n", "at most one of password and password_file"},
      {"nats:\n  token: a\n  token_file: b\n", "at most one of token and token_file"},
      {"nats:\n  user: a\n  token: b\n", "not both"},
      {"nats:\n  password: b\n", "needs a user"},
      {"nats:\n  tls: {cert_file: a}\n", "cert_file and key_file go together"},
      {"nats:\n  stream: a.b\n", "nats.stream 'a.b'"},
      {"nats:\n  durable: 'x y'\n", "nats.durable"},
      {"nats:\n  kv_bucket: 'a/b'\n", "nats.kv_bucket"},
      {"nats:\n  subject_prefix: 'a.>'\n", "no wildcards"},
      {"nats:\n  subject_prefix: 'a..b'\n", "subject_prefix"},
      {"nats:\n  replicas: 7\n", "tyto.yml:2:13"},
      {"nats:\n  storage: disk\n", "tyto.yml:2:12"},
      {"nats:\n  max_age: 1m\n  duplicate_window: 2m\n", "duplicate_window must not be longer"},
      {"nats:\n  ack_wait: 10ms\n", "tyto.yml:2:13"},
      {"nats:\n  strem: X\n", "did you mean 'stream'"},
  };
  for (const Case& c : cases) {
    auto r = Decode(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_THAT(r.status().message(), HasSubstr(c.want)) << c.yaml;
    EXPECT_THAT(r.status().message(), HasSubstr("tyto.yml:")) << c.yaml;
  }
}

TEST(NatsConfigTest, SecretsAreNotShown) {
  auto c = Decode("nats:\n  user: u\n  password: hunter2\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  config::Writer w;
  File f;
  f.nats = *c;
  Root().Encode(f, w);
  EXPECT_THAT(w.Text(), ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(w.Text(), HasSubstr("<secret>"));
}

TEST(NatsConfigTest, SecretsFromFiles) {
  tyto::testing::TempDir dir;
  ASSERT_TRUE(Env::Default()->CreateDirs(dir.path()).ok());
  {
    auto f = Env::Default()->NewWritableFile(dir.Path("pw"));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("s3cret\n").ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  NatsConfig c;
  c.user = "u";
  c.password_file = dir.Path("pw");
  auto pw = ReadPassword(Env::Default(), c);
  ASSERT_TRUE(pw.ok()) << pw.status().ToString();
  EXPECT_EQ(*pw, "s3cret");
  c.password_file = dir.Path("missing");
  auto missing = ReadPassword(Env::Default(), c);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nats.password_file"));
  c.token = "t";
  c.user.clear();
  c.password_file.clear();
  auto tok = ReadToken(Env::Default(), c);
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(*tok, "t");
}

}  // namespace
}  // namespace tyto::nats
