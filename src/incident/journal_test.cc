#include "incident/journal.h"

#include <gtest/gtest.h>

#include "common/coding.h"
#include "common/crc32.h"

namespace tyto::incident::journal {
namespace {

std::vector<Op> AllKinds() {
  std::vector<Op> ops(7);
  ops[0].type = OpType::kOpened;
  ops[0].id = 7;
  ops[0].time_ms = -5;
  ops[0].title = "GpuHot";
  ops[1].type = OpType::kAlert;
  ops[1].id = 7;
  ops[1].alert.labels = {{"alertname", "GpuHot"}, {"Hostname", "h1"}};
  ops[1].alert.annotations = {{"summary", "hot"}};
  ops[1].alert.starts_at_ms = 1'700'000'000'000;
  ops[1].alert.ends_at_ms = 1'700'000'060'000;
  ops[1].alert.generator_url = "http://x/graph";
  ops[1].alert.firing = false;
  ops[2].type = OpType::kEntry;
  ops[2].id = 7;
  ops[2].entry = {12, EntryKind::kPlaybookStep, "bot", "scaled", {{"step", "scale"}, {"exit_code", "0"}}};
  ops[3].type = OpType::kCorrelations;
  ops[3].id = 7;
  ops[3].correlations = {{{{"__name__", "node_load1"}}, "host", 3.5, 1, 2.25, "up"}};
  ops[4].type = OpType::kState;
  ops[4].id = 7;
  ops[4].state = State::kAcknowledged;
  ops[4].acknowledged_ms = 99;
  ops[4].acknowledged_by = "ana";
  ops[5].type = OpType::kForget;
  ops[5].id = 3;
  ops[6].type = OpType::kNextId;
  ops[6].id = 8;
  return ops;
}

TEST(JournalTest, FramesRoundTrip) {
  const std::string file = FileHeader() + EncodeFrame(AllKinds()) + EncodeFrame({});
  Result<ParsedFile> p = ParseFile(file);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->problem.empty());
  EXPECT_EQ(p->good_bytes, file.size());
  ASSERT_EQ(p->frames.size(), 2u);
  const std::vector<Op>& ops = p->frames[0];
  ASSERT_EQ(ops.size(), 7u);
  EXPECT_EQ(ops[0].time_ms, -5);
  EXPECT_EQ(ops[0].title, "GpuHot");
  EXPECT_EQ(ops[1].alert.labels.at("Hostname"), "h1");
  EXPECT_EQ(ops[1].alert.annotations.at("summary"), "hot");
  EXPECT_EQ(ops[1].alert.ends_at_ms, 1'700'000'060'000);
  EXPECT_EQ(ops[1].alert.generator_url, "http://x/graph");
  EXPECT_FALSE(ops[1].alert.firing);
  EXPECT_EQ(ops[2].entry.kind, EntryKind::kPlaybookStep);
  EXPECT_EQ(ops[2].entry.fields[1].second, "0");
  EXPECT_EQ(ops[3].correlations[0].after, 2.25);
  EXPECT_EQ(ops[3].correlations[0].direction, "up");
  EXPECT_EQ(ops[4].state, State::kAcknowledged);
  EXPECT_EQ(ops[4].acknowledged_by, "ana");
  EXPECT_EQ(ops[5].type, OpType::kForget);
  EXPECT_EQ(ops[6].id, 8u);
}

// An incident of the default tenant is written as before tenants (type 1, which an older Tyto
// reads); another tenant's as type 8 with its tenant, read back as kOpened.
TEST(JournalTest, OpenedKeepsItsTenant) {
  std::vector<Op> ops(2, AllKinds()[0]);
  ops[1].tenant = "acme";
  const std::string frame = EncodeFrame(ops);
  Result<ParsedFile> p = ParseFile(FileHeader() + frame);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->frames.at(0).size(), 2u);
  EXPECT_EQ(p->frames[0][0].tenant, "default");
  EXPECT_EQ(p->frames[0][1].type, OpType::kOpened);
  EXPECT_EQ(p->frames[0][1].tenant, "acme");
  EXPECT_EQ(p->frames[0][1].title, "GpuHot");
  // The bytes: type 1, id 7, time -5, "GpuHot" (10 bytes); then type 8, the same, "acme".
  const std::string payload = frame.substr(kFrameHeaderSize);
  ASSERT_EQ(payload.size(), 25u);
  EXPECT_EQ(payload[0], '\x01');
  EXPECT_EQ(payload[10], '\x08');
  EXPECT_EQ(payload.substr(20), std::string("\x04" "acme"));
}

TEST(JournalTest, EveryCutOfTheLastFrameIsATornTail) {
  const std::string first = FileHeader() + EncodeFrame({AllKinds()[0]});
  const std::string file = first + EncodeFrame(AllKinds());
  for (size_t cut = first.size() + 1; cut < file.size(); ++cut) {
    Result<ParsedFile> p = ParseFile(std::string_view(file).substr(0, cut));
    ASSERT_TRUE(p.ok()) << cut;
    EXPECT_EQ(p->frames.size(), 1u) << cut;
    EXPECT_EQ(p->good_bytes, first.size()) << cut;
    EXPECT_NE(p->problem.find("torn write"), std::string::npos) << cut;
  }
}

TEST(JournalTest, HeaderProblems) {
  Result<ParsedFile> empty = ParseFile("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->good_bytes, 0u);
  Result<ParsedFile> torn = ParseFile(FileHeader().substr(0, 5));
  ASSERT_TRUE(torn.ok());
  EXPECT_EQ(torn->good_bytes, 0u);
  EXPECT_FALSE(torn->problem.empty());
  std::string bad = FileHeader();
  bad[4] = 9;  // version
  EXPECT_EQ(ParseFile(bad).status().code(), StatusCode::kCorruption);
}

TEST(JournalTest, ACheckedFrameThatDoesNotDecodeIsCorruption) {
  for (const std::string& payload :
       {std::string("\x63\x01"), std::string("\x01\x07"), std::string("\x03\x07\x00\x63", 4),
        std::string("\x08\x07\x00\x01g\x00", 6)}) {  // type 8 with an empty tenant
    std::string frame;
    coding::PutFixed32(&frame, static_cast<uint32_t>(payload.size()));
    coding::PutFixed32(&frame, Crc32(payload));
    frame += payload;
    Result<ParsedFile> p = ParseFile(FileHeader() + frame);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kCorruption);
    EXPECT_NE(p.status().message().find("offset 8"), std::string::npos);
  }
}

}  // namespace
}  // namespace tyto::incident::journal
