// Encryption at rest in ClickHouse (issue 12), against a real clickhouse-server: with a key file,
// a secret planted in a prompt, a response and sensitive span, span event and log attributes is
// not in any byte of the server's data directory, while the queries return it decrypted; a
// filter on a sensitive attribute is refused (ClickHouse compares values it only has encrypted).
// The control without a key file finds the secrets in the same files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "clickhouse/clickhouse_server.h"
#include "clickhouse/store.h"
#include "crypto/field_encryption.h"
#include "crypto/keyring.h"
#include "eventstore/test_data.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::clickhouse {
namespace {

using namespace std::chrono_literals;
using eventstore::testdata::MakeLog;
using eventstore::testdata::MakeSpan;
using eventstore::testdata::TraceId;

constexpr int64_t kNow = 1'700'000'000'000;

const std::string kPromptSecret = "PLANTED-prompt-quokka-4471";
const std::string kResponseSecret = "PLANTED-response-tapir-9902";
const std::string kSpanSecret = "PLANTED-span-narwhal-1183";
const std::string kEventSecret = "PLANTED-event-ocelot-5520";
const std::string kLogSecret = "PLANTED-log-pangolin-3307";


class ClickHouseEncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<testing::ClickHouseServer>(dir_.Path("ch"));
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void TearDown() override {
    store_.reset();
    server_.reset();
  }

  void Open(std::shared_ptr<const crypto::FieldEncryption> encryption) {
    store_.reset();
    ClickHouseConfig c;
    c.urls = {server_->url()};
    c.database = "enc";
    c.user = "tyto";
    c.password = "s3cret";
    c.flush_interval = 0ms;
    c.tail_settle = 0ms;
    c.tail_lookback = 24h * 30;
    auto s = ClickHouseStore::Open(c, Env::Default(), &clock_, &registry_, std::move(encryption));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void AppendSecrets() {
    events::Span span = MakeSpan({.trace = 1, .span = 1, .start_ms = kNow - 1000});
    span.attributes.push_back({"gen_ai.prompt", kSpanSecret});
    span.events.push_back({(kNow - 900) * eventstore::testdata::kNanosPerMilli, "gen_ai.content.prompt",
                           {{"gen_ai.prompt", kEventSecret}}});
    auto rs = store_->AppendSpans(std::vector<events::Span>{span});
    ASSERT_TRUE(rs.ok()) << rs.status().ToString();
    ASSERT_EQ(rs->stored, 1u) << rs->first_rejection;
    events::LogRecord log = MakeLog({.time_ms = kNow - 800, .body = "served a chat request"});
    log.attributes.push_back({"gen_ai.completion", kLogSecret});
    auto rl = store_->AppendLogs(std::vector<events::LogRecord>{log});
    ASSERT_TRUE(rl.ok()) << rl.status().ToString();
    events::InferenceEvent e;
    e.timestamp_ms = kNow - 700;
    e.request_id = "req-1";
    e.model = "llama-3.1-8b";
    e.prompt = kPromptSecret;
    e.response = kResponseSecret;
    auto ri = store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e});
    ASSERT_TRUE(ri.ok()) << ri.status().ToString();
  }

  tyto::testing::TempDir dir_;
  tyto::testing::TempDir keys_;
  std::unique_ptr<testing::ClickHouseServer> server_;
  tyto::testing::FakeClock clock_{kNow};
  instrumentation::Registry registry_;
  std::unique_ptr<ClickHouseStore> store_;
};

TEST_F(ClickHouseEncryptionTest, PlantedSecretsAreNotInTheServersFilesAndReadBackDecrypted) {
  ASSERT_TRUE(crypto::GenerateKeyFile(keys_.Path("keys")).ok());
  auto fe = crypto::LoadFieldEncryption(keys_.Path("keys"), {});
  ASSERT_TRUE(fe.ok()) << fe.status().ToString();
  Open(*fe);
  AppendSecrets();

  auto t = store_->GetTrace(TraceId(1));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ(*events::FindAttribute((*t)[0].attributes, "gen_ai.prompt"), kSpanSecret);
  ASSERT_EQ((*t)[0].events.size(), 1u);
  EXPECT_EQ(*events::FindAttribute((*t)[0].events[0].attributes, "gen_ai.prompt"), kEventSecret);
  auto logs = store_->SearchLogs({.text = "chat"});
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ(*events::FindAttribute((*logs)[0].record.attributes, "gen_ai.completion"), kLogSecret);
  auto ev = store_->QueryInferenceEvents({});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ((*ev)[0].prompt, kPromptSecret);
  EXPECT_EQ((*ev)[0].response, kResponseSecret);

  eventstore::TraceQuery q;
  q.attributes = {{"gen_ai.prompt", kSpanSecret}};
  auto refused = store_->FindTraces(q);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);

  store_.reset();
  server_.reset();  // stopped: everything it buffered is on disk
  const std::string bytes = tyto::testing::AllFileBytes(dir_.path());
  for (const std::string& s : {kPromptSecret, kResponseSecret, kSpanSecret, kEventSecret, kLogSecret}) {
    EXPECT_EQ(bytes.find(s), std::string::npos) << s << " is in ClickHouse's files";
  }
}

TEST_F(ClickHouseEncryptionTest, WithoutKeyFileTheSecretsAreInTheServersFiles) {
  Open(nullptr);
  AppendSecrets();
  store_.reset();
  server_.reset();
  const std::string bytes = tyto::testing::AllFileBytes(dir_.path());
  EXPECT_NE(bytes.find(kPromptSecret), std::string::npos);
  EXPECT_NE(bytes.find(kSpanSecret), std::string::npos);
}

}  // namespace
}  // namespace tyto::clickhouse
