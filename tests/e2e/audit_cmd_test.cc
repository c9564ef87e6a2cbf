// `tyto audit verify` from the binary: intact logs exit 0 with a summary, a tampered one exits 1
// naming the first broken record, nothing to check exits 2.
#include <gtest/gtest.h>

#include <fstream>

#include "audit/chain.h"
#include "e2e/process.h"
#include "testing/temp_dir.h"

namespace tyto::e2e {
namespace {

void WriteLog(const std::string& path, int records) {
  ASSERT_TRUE(Env::Default()->CreateDirs(ParentDir(path)).ok());
  auto log = audit::ChainLog::Open(Env::Default(), path, Clock::Real());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (int i = 0; i < records; ++i) {
    ASSERT_TRUE((*log)->Append({{{"action", "silence.create"}, {"target", "s" + std::to_string(i)}}, {}}).ok());
  }
}

void Spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

class AuditVerifyTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  std::string trail_ = dir_.Path("data/audit/audit.log");
  std::string playbooks_ = dir_.Path("data/alerting/playbooks/audit.jsonl");
};

TEST_F(AuditVerifyTest, IntactFileAndDataDirectory) {
  WriteLog(trail_, 3);
  CommandResult r = RunCommand({TYTO_BINARY, "audit", "verify", "--file", trail_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("audit.log: intact: 3 records, last seq 3 hash "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("head file at seq 3"), std::string::npos) << r.out;

  WriteLog(playbooks_, 2);
  r = RunCommand({TYTO_BINARY, "audit", "verify", "--data-dir", dir_.Path("data")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("audit.log: intact: 3 records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("audit.jsonl: intact: 2 records"), std::string::npos) << r.out;
}

TEST_F(AuditVerifyTest, TamperedFileIsNamedAndExitsOne) {
  WriteLog(trail_, 4);
  std::string text = ReadFile(trail_);
  size_t at = text.find("\"target\":\"s1\"");
  ASSERT_NE(at, std::string::npos);
  text[at + 11] = '9';
  Spit(trail_, text);
  CommandResult r = RunCommand({TYTO_BINARY, "audit", "verify", "--file", trail_});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("audit.log:2: seq 2: hash_mismatch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the 1 records before it are intact (last seq 1"), std::string::npos) << r.err;

  // The tail removed: the head file names it.
  WriteLog(playbooks_, 3);
  std::string pb = ReadFile(playbooks_);
  Spit(playbooks_, pb.substr(0, pb.rfind('\n', pb.size() - 2) + 1));
  r = RunCommand({TYTO_BINARY, "audit", "verify", "--data-dir", dir_.Path("data")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("audit.jsonl: seq 3: truncated: the file ends at seq 2 but the head file records seq 3"),
            std::string::npos) << r.err;
}

TEST_F(AuditVerifyTest, NothingToVerifyExitsTwo) {
  CommandResult r = RunCommand({TYTO_BINARY, "audit", "verify", "--data-dir", dir_.Path("empty")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no audit log in"), std::string::npos) << r.err;
  r = RunCommand({TYTO_BINARY, "audit", "verify", "--file", dir_.Path("missing.log")});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand({TYTO_BINARY, "audit", "verify"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace tyto::e2e
