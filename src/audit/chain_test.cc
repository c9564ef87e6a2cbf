#include "audit/chain.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/fake_clock.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace tyto::audit {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  for (std::string line; std::getline(s, line);) out.push_back(line + "\n");
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

class ChainTest : public ::testing::Test {
 protected:
  void Write(int n) {
    auto log = ChainLog::Open(Env::Default(), path_, &clock_);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < n; ++i) {
      Entry e{{{"action", "step"}, {"output", "line " + std::to_string(written_)}}, {{"n", written_}}};
      ++written_;
      ASSERT_TRUE((*log)->Append(e).ok());
      clock_.Advance(std::chrono::seconds(1));
    }
  }

  Verdict Check() {
    auto v = Verify(Env::Default(), path_);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : Verdict{};
  }

  testing::FakeClock clock_;
  testing::TempDir dir_;
  std::string path_ = dir_.Path("audit.log");
  int written_ = 0;
};

TEST_F(ChainTest, IntactChainVerifiesAndContinuesAfterReopen) {
  Write(3);
  Write(2);  // a second process continues the chain
  Verdict v = Check();
  EXPECT_TRUE(v.intact()) << v.ToString(path_);
  EXPECT_EQ(v.records, 5u);
  EXPECT_EQ(v.last_seq, 5u);
  EXPECT_TRUE(v.head_checked);
  EXPECT_EQ(v.head_seq, 5u);
  EXPECT_NE(v.ToString(path_).find("intact: 5 records"), std::string::npos) << v.ToString(path_);
  EXPECT_EQ(Slurp(HeadPath(path_)), "tyto-audit-head 1 5 " + v.last_hash + "\n");
  std::string text = Slurp(path_);
  EXPECT_EQ(text.find("{\"seq\":1,\"time\":\"2023-11-14T22:13:20.000Z\",\"time_ms\":1700000000000,\"action\":\"step\""),
            0u);
}

TEST_F(ChainTest, EditedByteInAMiddleRecordIsNamed) {
  Write(5);
  std::string text = Slurp(path_);
  size_t at = text.find("line 2");
  ASSERT_NE(at, std::string::npos);
  text[at + 5] = '7';
  Spit(path_, text);
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kHashMismatch);
  EXPECT_EQ(v.line, 3u);
  EXPECT_EQ(v.seq, 3u);
  EXPECT_EQ(v.records, 2u);
  EXPECT_NE(v.ToString(path_).find("audit.log:3: seq 3: hash_mismatch"), std::string::npos) << v.ToString(path_);
}

TEST_F(ChainTest, DeletedRecordIsNamed) {
  Write(5);
  auto lines = Lines(Slurp(path_));
  lines.erase(lines.begin() + 1);  // seq 2
  Spit(path_, Join(lines));
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kSequenceGap) << v.ToString(path_);
  EXPECT_EQ(v.line, 2u);
  EXPECT_EQ(v.seq, 3u);
  EXPECT_NE(v.detail.find("seq 3 follows seq 1: 1 record is missing"), std::string::npos) << v.detail;
}

TEST_F(ChainTest, ReorderedRecordsAreNamed) {
  Write(5);
  auto lines = Lines(Slurp(path_));
  std::swap(lines[2], lines[3]);
  Spit(path_, Join(lines));
  Verdict v = Check();
  // Line 3 now holds seq 4: a jump; swapping is seen at the first record out of place.
  EXPECT_FALSE(v.intact());
  EXPECT_EQ(v.line, 3u);
  EXPECT_EQ(v.seq, 4u);
  // Swapped the other way round (a later line holds an earlier seq) it reads as reordered.
  std::swap(lines[2], lines[3]);
  lines.push_back(lines[1]);
  Spit(path_, Join(lines));
  v = Check();
  EXPECT_EQ(v.problem, Problem::kReordered) << v.ToString(path_);
  EXPECT_EQ(v.line, 6u);
  EXPECT_EQ(v.seq, 2u);
}

TEST_F(ChainTest, TruncatedTailIsCaughtByTheHeadFile) {
  Write(5);
  auto lines = Lines(Slurp(path_));
  lines.resize(3);
  Spit(path_, Join(lines));
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kTruncated) << v.ToString(path_);
  EXPECT_EQ(v.seq, 5u);
  EXPECT_NE(v.detail.find("ends at seq 3 but the head file records seq 5"), std::string::npos) << v.detail;
  // The writer refuses to continue over the gap, so the evidence stays.
  auto reopened = ChainLog::Open(Env::Default(), path_, &clock_);
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("tail of the audit log was removed"), std::string::npos);
  // Emptied altogether: the same.
  Spit(path_, "");
  EXPECT_EQ(Check().problem, Problem::kTruncated);
}

TEST_F(ChainTest, WithoutAHeadATruncatedTailCannotBeSeen) {
  Write(5);
  auto lines = Lines(Slurp(path_));
  lines.resize(3);
  Spit(path_, Join(lines));
  ASSERT_TRUE(Env::Default()->RemoveFile(HeadPath(path_)).ok());
  Verdict v = Check();
  EXPECT_TRUE(v.intact());
  EXPECT_FALSE(v.head_checked);
  EXPECT_NE(v.ToString(path_).find("no head file"), std::string::npos);
}

TEST_F(ChainTest, ForgedAppendedLinesAreNamed) {
  Write(3);
  const std::string good = Slurp(path_);
  auto lines = Lines(good);
  // A copy of the last record with its seq moved on: its hash no longer matches.
  std::string forged = lines[2];
  forged.replace(forged.find("\"seq\":3"), 7, "\"seq\":4");
  Spit(path_, good + forged);
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kHashMismatch);
  EXPECT_EQ(v.line, 4u);
  // A line that is not a record at all.
  Spit(path_, good + "{\"action\":\"config.reload\"}\n");
  v = Check();
  EXPECT_EQ(v.problem, Problem::kNotARecord);
  EXPECT_EQ(v.line, 4u);
  EXPECT_EQ(v.seq, 4u);
  // A whole forged record, correctly hashed but chained to nothing.
  {
    testing::TempDir other;
    auto log = ChainLog::Open(Env::Default(), other.Path("x.log"), &clock_);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE((*log)->Append(Entry{{{"action", "forged"}}, {}}).ok());
    Spit(path_, good + Lines(Slurp(other.Path("x.log")))[3]);
  }
  v = Check();
  EXPECT_EQ(v.problem, Problem::kPrevMismatch) << v.ToString(path_);
  EXPECT_EQ(v.line, 4u);
}

TEST_F(ChainTest, TornLastLineIsReportedThenCutOnOpen) {
  Write(2);
  std::string text = Slurp(path_);
  Spit(path_, text + "{\"seq\":3,\"ti");
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kTorn);
  EXPECT_EQ(v.line, 3u);
  Write(1);  // Open cuts the torn line; the chain goes on from seq 2
  EXPECT_EQ(Slurp(path_).substr(0, text.size()), text);
  v = Check();
  EXPECT_TRUE(v.intact()) << v.ToString(path_);
  EXPECT_EQ(v.last_seq, 3u);
}

TEST_F(ChainTest, AFailedWriteLeavesNoPartOfItsRecord) {
  Write(2);
  const std::string before = Slurp(path_);
  testing::FaultInjectionEnv env(Env::Default());
  auto log = ChainLog::Open(&env, path_, &clock_);
  ASSERT_TRUE(log.ok());
  env.SetWriteBudget(40);  // the disk fills in the middle of the next record
  EXPECT_FALSE((*log)->Append(Entry{{{"action", "config.reload"}, {"output", std::string(200, 'x')}}, {}}).ok());
  EXPECT_EQ(Slurp(path_), before);
  env.SetWriteBudget(-1);
  env.FailSyncs(true);  // written whole, but not durable: not acknowledged, so not kept
  EXPECT_FALSE((*log)->Append(Entry{{{"action", "config.reload"}}, {}}).ok());
  EXPECT_EQ(Slurp(path_), before);
  env.FailSyncs(false);
  ASSERT_TRUE((*log)->Append(Entry{{{"action", "config.reload"}}, {}}).ok());
  Verdict v = Check();
  EXPECT_TRUE(v.intact()) << v.ToString(path_);
  EXPECT_EQ(v.last_seq, 3u);
  EXPECT_EQ(v.head_seq, 3u);
}

TEST_F(ChainTest, OneRecordPastTheHeadIsACrashWindowMoreIsRefused) {
  Write(3);
  const std::string head = Slurp(HeadPath(path_));
  Write(1);
  Spit(HeadPath(path_), head);  // as if the process died between the record's fsync and the head's
  Verdict v = Check();
  EXPECT_TRUE(v.intact());
  EXPECT_EQ(v.after_head, 1u);
  Write(1);  // accepted, and the head catches up
  EXPECT_EQ(Check().after_head, 0u);
  Spit(HeadPath(path_), head);
  auto reopened = ChainLog::Open(Env::Default(), path_, &clock_);
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
}

TEST_F(ChainTest, RewrittenTailIsCaughtByTheHeadFile) {
  Write(3);
  const std::string head = Slurp(HeadPath(path_));
  auto lines = Lines(Slurp(path_));
  lines.resize(2);
  Spit(path_, Join(lines));
  // Record 3 rewritten with other content, chained correctly, by someone who removed the head...
  ASSERT_TRUE(Env::Default()->RemoveFile(HeadPath(path_)).ok());
  Write(1);
  // ...but a copy of the head (or the old one restored from a backup) still names the original.
  Spit(HeadPath(path_), head);
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kHeadMismatch) << v.ToString(path_);
  EXPECT_EQ(v.line, 3u);
  EXPECT_EQ(v.seq, 3u);
  EXPECT_EQ(ChainLog::Open(Env::Default(), path_, &clock_).status().code(), StatusCode::kCorruption);
}

TEST_F(ChainTest, BadHeadFileIsNamed) {
  Write(1);
  Spit(HeadPath(path_), "garbage\n");
  Verdict v = Check();
  EXPECT_EQ(v.problem, Problem::kBadHead);
  EXPECT_EQ(ChainLog::Open(Env::Default(), path_, &clock_).status().code(), StatusCode::kCorruption);
}

TEST_F(ChainTest, ReadsRecordsWithTheirMembers) {
  Write(3);
  std::vector<Record> got;
  ASSERT_TRUE(ForEachRecord(Env::Default(), path_, [&](Record&& r) {
                got.push_back(std::move(r));
                return true;
              }).ok());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].seq, 2u);
  EXPECT_EQ(got[1].line, 2u);
  EXPECT_EQ(got[1].Get("output"), "line 1");
  EXPECT_EQ(got[1].time_ms, 1'700'000'001'000);
  EXPECT_TRUE(ForEachRecord(Env::Default(), dir_.Path("missing"), [](Record&&) { return true; }).ok());
}

TEST_F(ChainTest, FieldsAreBoundedAndMadeValidUtf8) {
  auto log = ChainLog::Open(Env::Default(), path_, &clock_);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append(Entry{{{"big", std::string(kMaxFieldBytes + 10, 'x')}, {"bad", "a\xff" "b"}, {"seq", "9"}}, {}})
                  .ok());
  std::string text = Slurp(path_);
  EXPECT_NE(text.find("...[10 bytes cut]"), std::string::npos);
  EXPECT_NE(text.find("\"bad\":\"a?b\""), std::string::npos);
  EXPECT_EQ(text.find("\"seq\":\"9\""), std::string::npos);
  EXPECT_TRUE(Check().intact());
}

}  // namespace
}  // namespace tyto::audit
