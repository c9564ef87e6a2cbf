#include "playbook/audit_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::playbook {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

class AuditLogTest : public ::testing::Test {
 protected:
  void Write(int n) {
    auto log = AuditLog::Open(Env::Default(), path_, &clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < n; ++i) {
      AuditEntry e{"step", "run-" + std::to_string(i % 2), "inc-1", "pb", {{"output", "line " + std::to_string(i)}},
                   {{"exit_code", i}}};
      ASSERT_TRUE((*log)->Append(e).ok());
      clock_.Advance(std::chrono::seconds(1));
    }
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  std::string path_ = dir_.Path("audit.jsonl");
};

TEST_F(AuditLogTest, ChainVerifiesAndContinuesAfterReopen) {
  Write(3);
  Write(2);  // a second process continues the chain
  uint64_t n = 0;
  ASSERT_TRUE(VerifyAuditLog(Env::Default(), path_, &n).ok());
  EXPECT_EQ(n, 5u);
  std::string text = Slurp(path_);
  EXPECT_EQ(text.find("\"seq\":1,"), 1u);
  EXPECT_NE(text.find("\"seq\":5,"), std::string::npos);
  EXPECT_NE(text.find("\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\""),
            std::string::npos);
  // The bytes of a record are those the playbook log always had (docs/format/audit.md).
  EXPECT_EQ(text.find("{\"seq\":1,\"time\":\"2023-11-14T22:13:20.000Z\",\"time_ms\":1700000000000,\"type\":\"step\","
                      "\"run\":\"run-0\",\"incident\":\"inc-1\",\"playbook\":\"pb\",\"output\":\"line 0\",\"exit_code\":0,"
                      "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"hash\":\""),
            0u);
  // A log from before the head file (none beside it) continues and gains one.
  ASSERT_TRUE(Env::Default()->RemoveFile(audit::HeadPath(path_)).ok());
  Write(1);
  EXPECT_TRUE(Env::Default()->FileExists(audit::HeadPath(path_)));
  EXPECT_TRUE(VerifyAuditLog(Env::Default(), path_).ok());
}

TEST_F(AuditLogTest, DetectsAnEditedRecord) {
  Write(4);
  std::string text = Slurp(path_);
  size_t at = text.find("line 1");
  ASSERT_NE(at, std::string::npos);
  text[at + 5] = '7';
  Spit(path_, text);
  Status s = VerifyAuditLog(Env::Default(), path_);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("audit.jsonl:2: seq 2: hash_mismatch"), std::string::npos) << s.message();
}

TEST_F(AuditLogTest, DetectsARemovedRecord) {
  Write(4);
  std::string text = Slurp(path_);
  size_t first = text.find('\n');
  size_t second = text.find('\n', first + 1);
  Spit(path_, text.substr(0, first + 1) + text.substr(second + 1));
  Status s = VerifyAuditLog(Env::Default(), path_);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("audit.jsonl:2: seq 3: sequence_gap"), std::string::npos) << s.message();
}

TEST_F(AuditLogTest, CutsATornTailOnOpen) {
  Write(2);
  std::string text = Slurp(path_);
  Spit(path_, text + "{\"seq\":3,\"ti");
  EXPECT_EQ(VerifyAuditLog(Env::Default(), path_).code(), StatusCode::kCorruption);
  Write(1);
  uint64_t n = 0;
  ASSERT_TRUE(VerifyAuditLog(Env::Default(), path_, &n).ok());
  EXPECT_EQ(n, 3u);
}

TEST_F(AuditLogTest, ReadsBackWithFilters) {
  Write(5);
  auto all = ReadAuditLog(Env::Default(), path_, AuditFilter{"", "", 100});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[0].seq, 1u);
  EXPECT_EQ((*all)[0].type, "step");
  EXPECT_EQ((*all)[0].time_ms, 1'700'000'000'000);
  auto run1 = ReadAuditLog(Env::Default(), path_, AuditFilter{"run-1", "", 100});
  ASSERT_TRUE(run1.ok());
  ASSERT_EQ(run1->size(), 2u);
  EXPECT_EQ((*run1)[1].seq, 4u);
  auto last = ReadAuditLog(Env::Default(), path_, AuditFilter{"", "inc-1", 2});
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->size(), 2u);
  EXPECT_EQ((*last)[0].seq, 4u);
  EXPECT_EQ((*last)[1].seq, 5u);
}

TEST_F(AuditLogTest, BoundsFieldsAndKeepsJsonValid) {
  auto log = AuditLog::Open(Env::Default(), path_, &clock_);
  ASSERT_TRUE(log.ok());
  std::string big(100000, 'x');
  big[5] = '\xff';  // not UTF-8
  ASSERT_TRUE((*log)->Append({"step", "r", "i", "p", {{"output", big}, {"quote", "a\"b\n"}}, {}}).ok());
  std::string text = Slurp(path_);
  EXPECT_LT(text.size(), kMaxAuditFieldBytes + 1000);
  EXPECT_NE(text.find("bytes cut]"), std::string::npos);
  EXPECT_TRUE(VerifyAuditLog(Env::Default(), path_).ok());
}

}  // namespace
}  // namespace tyto::playbook
