// Encryption at rest in the event store (issue 12): with a key file, a secret planted in a
// prompt, a response, sensitive span, span event and log attributes cannot be found in any byte
// of any file under the store's directory (partitions, WAL, shared memory), while every query
// answers with the text decrypted; after a key rotation old rows still read and new rows use the
// new key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crypto/field_encryption.h"
#include "crypto/keyring.h"
#include "eventstore/store.h"
#include "eventstore/test_data.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

using testdata::MakeLog;
using testdata::MakeSpan;
using testdata::TraceId;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;


// Planted secrets: distinct, so a find names which one leaked.
const std::string kPromptSecret = "PLANTED-prompt-s3cr3t-4471";
const std::string kResponseSecret = "PLANTED-response-s3cr3t-9902";
const std::string kSpanSecret = "PLANTED-span-attr-s3cr3t-1183";
const std::string kEventSecret = "PLANTED-span-event-s3cr3t-5520";
const std::string kLogSecret = "PLANTED-log-attr-s3cr3t-3307";
const std::string kCustomSecret = "PLANTED-custom-field-s3cr3t-6645";

class EncryptionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(crypto::GenerateKeyFile(key_file_).ok()); }

  std::shared_ptr<const crypto::FieldEncryption> LoadKeys() {
    auto fe = crypto::LoadFieldEncryption(key_file_, {"user.ssn"});
    EXPECT_TRUE(fe.ok()) << fe.status().ToString();
    return fe.ok() ? *fe : nullptr;
  }

  void Open(std::shared_ptr<const crypto::FieldEncryption> encryption) {
    store_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    EventStoreOptions o;
    o.encryption = std::move(encryption);
    auto s = EventStore::Open(Env::Default(), &clock_, data_.Path("events"), o, registry_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void AppendSecrets(uint64_t trace, const std::string& request_id) {
    events::Span span = MakeSpan({.trace = trace, .span = 1, .start_ms = kNow - 1000});
    span.attributes.push_back({"gen_ai.prompt", kSpanSecret});
    span.attributes.push_back({"user.ssn", kCustomSecret});
    span.events.push_back({(kNow - 900) * testdata::kNanosPerMilli, "gen_ai.content.prompt",
                           {{"gen_ai.prompt", kEventSecret}}});
    auto rs = store_->AppendSpans(std::vector<events::Span>{span});
    ASSERT_TRUE(rs.ok()) << rs.status().ToString();
    ASSERT_EQ(rs->stored, 1u) << rs->first_rejection;

    events::LogRecord log = MakeLog({.time_ms = kNow - 800, .body = "served a chat request"});
    log.attributes.push_back({"gen_ai.completion", kLogSecret});
    auto rl = store_->AppendLogs(std::vector<events::LogRecord>{log});
    ASSERT_TRUE(rl.ok()) << rl.status().ToString();
    ASSERT_EQ(rl->stored, 1u) << rl->first_rejection;

    events::InferenceEvent e;
    e.timestamp_ms = kNow - 700;
    e.request_id = request_id;
    e.model = "llama-3.1-8b";
    e.prompt = "Summarise this: " + kPromptSecret;
    e.response = "Summary: " + kResponseSecret;
    auto ri = store_->AppendInferenceEvents(std::vector<events::InferenceEvent>{e});
    ASSERT_TRUE(ri.ok()) << ri.status().ToString();
    ASSERT_EQ(ri->stored, 1u) << ri->first_rejection;
  }

  // Fails naming each secret found in the store's files.
  void ExpectNoSecretOnDisk() {
    const std::string bytes = testing::AllFileBytes(data_.path());
    for (const std::string& s : {kPromptSecret, kResponseSecret, kSpanSecret, kEventSecret, kLogSecret, kCustomSecret}) {
      EXPECT_EQ(bytes.find(s), std::string::npos) << s << " is in the data directory's bytes";
    }
    // Nor a word of them as the full-text indexes would keep it (case folded, split on '-').
    EXPECT_EQ(bytes.find("s3cr3t"), std::string::npos);
  }

  void ExpectReadsDecrypted(uint64_t trace, const std::string& request_id) {
    auto t = store_->GetTrace(TraceId(trace));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ASSERT_EQ(t->size(), 1u);
    EXPECT_EQ(*events::FindAttribute((*t)[0].attributes, "gen_ai.prompt"), kSpanSecret);
    EXPECT_EQ(*events::FindAttribute((*t)[0].attributes, "user.ssn"), kCustomSecret);
    EXPECT_EQ(*events::FindAttribute((*t)[0].attributes, "gen_ai.operation.name"), "chat");
    ASSERT_EQ((*t)[0].events.size(), 1u);
    EXPECT_EQ(*events::FindAttribute((*t)[0].events[0].attributes, "gen_ai.prompt"), kEventSecret);

    // An attribute filter on a sensitive key finds the span through its keyed index term.
    TraceQuery q;
    q.attributes = {{"gen_ai.prompt", kSpanSecret}};
    auto found = store_->FindTraces(q);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    bool has = false;
    for (const TraceSummary& s : *found) has = has || s.trace_id == TraceId(trace);
    EXPECT_TRUE(has) << "FindTraces by gen_ai.prompt";

    LogQuery lq;
    lq.text = "chat";
    lq.attributes = {{"gen_ai.completion", kLogSecret}};
    auto logs = store_->SearchLogs(lq);
    ASSERT_TRUE(logs.ok()) << logs.status().ToString();
    ASSERT_FALSE(logs->empty());
    EXPECT_EQ(*events::FindAttribute((*logs)[0].record.attributes, "gen_ai.completion"), kLogSecret);

    auto ev = store_->QueryInferenceEvents({});
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    bool seen = false;
    for (const events::InferenceEvent& e : *ev) {
      if (e.request_id != request_id) continue;
      seen = true;
      EXPECT_EQ(e.prompt, "Summarise this: " + kPromptSecret);
      EXPECT_EQ(e.response, "Summary: " + kResponseSecret);
    }
    EXPECT_TRUE(seen) << request_id;
  }

  testing::TempDir keys_dir_;
  testing::TempDir data_;
  const std::string key_file_ = keys_dir_.Path("keys");
  testing::FakeClock clock_{kNow};
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(EncryptionTest, PlantedSecretsAreNotOnDiskAndReadBackDecrypted) {
  Open(LoadKeys());
  AppendSecrets(1, "req-1");
  ExpectNoSecretOnDisk();  // open: the WAL and shared-memory files too
  ExpectReadsDecrypted(1, "req-1");
  store_.reset();  // checkpointed into the database files
  ExpectNoSecretOnDisk();
  Open(LoadKeys());
  ExpectReadsDecrypted(1, "req-1");
}

// The control: the same records without a key file are found on disk, so the scan above can fail.
TEST_F(EncryptionTest, WithoutKeyFileSecretsAreOnDisk) {
  Open(nullptr);
  AppendSecrets(1, "req-1");
  store_.reset();
  const std::string bytes = testing::AllFileBytes(data_.path());
  EXPECT_NE(bytes.find(kPromptSecret), std::string::npos);
  EXPECT_NE(bytes.find(kSpanSecret), std::string::npos);
  EXPECT_NE(bytes.find(kLogSecret), std::string::npos);
  // Rows written before the key file was configured still read once it is.
  Open(LoadKeys());
  ExpectReadsDecrypted(1, "req-1");
}

TEST_F(EncryptionTest, RotationKeepsOldRowsReadableAndWritesUnderNewKey) {
  Open(LoadKeys());
  const std::string old_id = LoadKeys()->keyring().current().id;
  AppendSecrets(1, "req-old");
  store_.reset();
  auto new_id = crypto::RotateKeyFile(key_file_);
  ASSERT_TRUE(new_id.ok()) << new_id.status().ToString();
  EXPECT_EQ(testing::AllFileBytes(data_.path()).find(*new_id), std::string::npos);

  Open(LoadKeys());
  ExpectReadsDecrypted(1, "req-old");
  AppendSecrets(2, "req-new");
  ExpectReadsDecrypted(2, "req-new");
  store_.reset();
  ExpectNoSecretOnDisk();
  const std::string bytes = testing::AllFileBytes(data_.path());
  EXPECT_NE(bytes.find(*new_id), std::string::npos) << "new rows name the new key in their envelopes";
  EXPECT_NE(bytes.find(old_id), std::string::npos);
}

TEST_F(EncryptionTest, WithoutTheKeyEncryptedRowsAreAnErrorNotText) {
  Open(LoadKeys());
  AppendSecrets(1, "req-1");
  store_.reset();
  Open(nullptr);
  auto ev = store_->QueryInferenceEvents({});
  if (ev.ok()) {
    for (const events::InferenceEvent& e : *ev) EXPECT_NE(e.request_id, "req-1") << "returned without its key";
  } else {
    EXPECT_THAT(ev.status().message(), HasSubstr("encryption_key_file"));
  }
  // Another key file with other keys: the tag does not verify, or the key id is unknown.
  testing::TempDir other;
  ASSERT_TRUE(crypto::GenerateKeyFile(other.Path("keys")).ok());
  auto fe = crypto::LoadFieldEncryption(other.Path("keys"), {});
  ASSERT_TRUE(fe.ok());
  Open(*fe);
  auto t = store_->GetTrace(TraceId(1));
  if (t.ok()) {
    for (const events::Span& s : *t) EXPECT_EQ(events::FindAttribute(s.attributes, "gen_ai.prompt"), nullptr);
  } else {
    // The partition is skipped (logged with the missing key id), so the trace is not found.
    EXPECT_EQ(t.status().code(), StatusCode::kNotFound) << t.status().ToString();
  }
}

}  // namespace
}  // namespace tyto::eventstore
