#include "forward/disk_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"
#include "testing/log_capture.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

namespace tyto::forward {
namespace {

using namespace std::chrono_literals;

// "record-<i>" padded to `size` bytes, so records are told apart and sized at will.
std::string Payload(int i, size_t size = 0) {
  std::string p = "record-" + std::to_string(i);
  if (p.size() < size) p.append(size - p.size(), 'x');
  return p;
}

int IdOf(const std::string& payload) {
  return std::stoi(
      payload.substr(7, payload.find('x') == std::string::npos ? std::string::npos : payload.find('x') - 7));
}

class DiskQueueTest : public ::testing::Test {
 protected:
  DiskQueueTest() {
    options_.max_bytes = 1 << 20;
    options_.segment_bytes = 4096;
    options_.fsync = FsyncMode::kInterval;
  }

  std::unique_ptr<DiskQueue> Open(Env* env = nullptr) {
    auto q = DiskQueue::Open(env != nullptr ? env : Env::Default(), nullptr, dir_.Path("queue"), options_);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  // Reads every unread record: their ids, and the end of the last one in *end.
  static std::vector<int> ReadAll(DiskQueue* q, QueuePosition* end = nullptr) {
    std::vector<int> ids;
    QueueRecord r;
    for (int i = 0; i < 100000; ++i) {
      Result<bool> got = q->Read(&r);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok() || !*got) break;
      ids.push_back(IdOf(r.payload));
      if (end != nullptr) *end = r.end;
    }
    return ids;
  }

  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names = Env::Default()->ListDir(dir_.Path("queue")).value();
    names.erase(
        std::remove_if(names.begin(), names.end(),
                       [](const std::string& n) { return n.find_first_not_of("0123456789") != std::string::npos; }),
        names.end());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string SegmentPath(uint64_t n) const {
    char name[16];
    std::snprintf(name, sizeof name, "%08llu", static_cast<unsigned long long>(n));
    return dir_.Path("queue") + "/" + name;
  }

  testing::TempDir dir_;
  DiskQueueOptions options_;
};

std::vector<int> Range(int from, int to) {  // [from, to)
  std::vector<int> v;
  for (int i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST_F(DiskQueueTest, RecordsComeBackInOrderWithTheirSampleCounts) {
  auto q = Open();
  ASSERT_NE(q, nullptr);
  QueueRecord r;
  ASSERT_FALSE(q->Read(&r).value());  // empty
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q->Append(Payload(i, 100 * i), static_cast<uint32_t>(10 + i)).ok());
  ASSERT_TRUE(q->Append("", 0).ok());  // an empty record is a record
  EXPECT_EQ(q->Stats().unread_records, 4u);
  EXPECT_EQ(q->Stats().unread_samples, 33u);
  QueuePosition last;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(q->Read(&r).value());
    EXPECT_EQ(r.payload, Payload(i, 100 * i));
    EXPECT_EQ(r.samples, static_cast<uint32_t>(10 + i));
    EXPECT_GT(r.end, last);
    last = r.end;
  }
  ASSERT_TRUE(q->Read(&r).value());
  EXPECT_EQ(r.payload, "");
  EXPECT_EQ(r.samples, 0u);
  EXPECT_FALSE(q->Read(&r).value());
  EXPECT_EQ(q->Stats().unread_records, 0u);

  // Appends after the reader caught up are read, from the same segment.
  ASSERT_TRUE(q->Append(Payload(7), 1).ok());
  ASSERT_TRUE(q->Read(&r).value());
  EXPECT_EQ(r.payload, Payload(7));
  EXPECT_TRUE(q->Ack(r.end).ok());
  EXPECT_EQ(q->Stats().acked, r.end);
}

// Bytes from a hex dump as docs/format/agent-queue.md prints them.
std::string Hex(std::string_view dump) {
  std::string out;
  for (size_t i = 0; i + 1 < dump.size(); i += 3)
    out.push_back(static_cast<char>(std::stoi(std::string(dump.substr(i, 2)), nullptr, 16)));
  return out;
}

TEST_F(DiskQueueTest, ByteLayoutMatchesTheFormatDoc) {
  {
    auto q = Open();
    ASSERT_TRUE(q->Append("abc", 2).ok());
  }
  EXPECT_EQ(Env::Default()->ReadFile(SegmentPath(0)).value(),
            Hex("54 59 51 53 01 00 00 00 00 00 00 00 00 00 00 00 ") +   // header of segment 0
                Hex("14 5e 9f af 03 00 00 00 02 00 00 00 61 62 63 "));  // the doc's example record
  {
    auto q = Open();  // appends go to segment 1
    ASSERT_TRUE(q->Append("def", 1).ok());
  }
  // The doc's example cursor: the first record of segment 1.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir_.Path("queue/cursor"),
                                  Hex("54 59 51 43 01 00 00 00 01 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00 "
                                      "d1 be d8 40 "))
                  .ok());
  auto q = Open();
  EXPECT_EQ(q->Stats().acked, (QueuePosition{1, 16}));
  EXPECT_FALSE(Env::Default()->FileExists(SegmentPath(0)));  // before the cursor: deleted
  QueueRecord r;
  ASSERT_TRUE(q->Read(&r).value());
  EXPECT_EQ(r.payload, "def");
  EXPECT_FALSE(q->Read(&r).value());
  ASSERT_TRUE(q->Ack(r.end).ok());
  EXPECT_EQ(Env::Default()->ReadFile(dir_.Path("queue/cursor")).value().substr(8, 16),
            Hex("01 00 00 00 00 00 00 00 1f 00 00 00 00 00 00 00 "));  // segment 1, offset 16 + 15
}

TEST_F(DiskQueueTest, RestartResumesRightAfterTheLastAcknowledgedRecord) {
  QueuePosition after_second;
  {
    auto q = Open();
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(q->Append(Payload(i, 300), 5).ok());  // several segments
    QueueRecord r;
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(q->Read(&r).value());
      if (i == 19) after_second = r.end;
    }
    ASSERT_TRUE(q->Ack(after_second).ok());  // 0..19 acknowledged; 20..29 read, not acknowledged
    EXPECT_GT(SegmentFiles().size(), 2u);
  }
  {
    auto q = Open();
    EXPECT_EQ(q->Stats().acked, after_second);
    EXPECT_EQ(q->Stats().unread_records, 30u);
    EXPECT_EQ(q->Stats().unread_samples, 150u);
    QueuePosition end;
    EXPECT_EQ(ReadAll(q.get(), &end), Range(20, 50));  // nothing acknowledged again, nothing lost
    ASSERT_TRUE(q->Ack(end).ok());
    EXPECT_EQ(q->Stats().segments, 1u);  // those wholly acknowledged are deleted
    EXPECT_EQ(SegmentFiles().size(), 1u);
  }
  {
    auto q = Open();  // everything acknowledged: nothing to read; appends go on
    EXPECT_TRUE(ReadAll(q.get()).empty());
    ASSERT_TRUE(q->Append(Payload(50), 1).ok());
    EXPECT_EQ(ReadAll(q.get()), std::vector<int>{50});
  }
}

TEST_F(DiskQueueTest, AcknowledgementsAreMonotonicAndCannotPassTheReader) {
  auto q = Open();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q->Append(Payload(i), 1).ok());
  QueueRecord first, second;
  ASSERT_TRUE(q->Read(&first).value());
  ASSERT_TRUE(q->Read(&second).value());
  ASSERT_TRUE(q->Ack(second.end).ok());
  ASSERT_TRUE(q->Ack(first.end).ok());  // older: ignored
  EXPECT_EQ(q->Stats().acked, second.end);
  Status s = q->Ack({second.end.segment, second.end.offset + 1000});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("beyond the last record read"), std::string::npos) << s.message();
}

TEST_F(DiskQueueTest, OverflowDropsTheOldestSegmentsAndCountsTheirUnsentSamples) {
  options_.max_bytes = 16 * 1024;
  options_.segment_bytes = 4096;
  testing::LogCapture log;
  auto q = Open();
  // Two records read by the sender (in flight) before the overflow: not counted as dropped.
  ASSERT_TRUE(q->Append(Payload(0, 1000), 10).ok());
  ASSERT_TRUE(q->Append(Payload(1, 1000), 10).ok());
  QueueRecord r;
  ASSERT_TRUE(q->Read(&r).value());
  ASSERT_TRUE(q->Read(&r).value());
  const QueuePosition in_flight_end = r.end;
  constexpr int kRecords = 100;
  for (int i = 2; i < kRecords; ++i) ASSERT_TRUE(q->Append(Payload(i, 1000), 10).ok()) << i;

  const DiskQueueStats st = q->Stats();
  EXPECT_LE(st.bytes, options_.max_bytes);
  EXPECT_GT(st.dropped_samples, 0u);
  EXPECT_EQ(st.dropped_samples, 10 * st.dropped_records);
  EXPECT_EQ(q->dropped_samples(), st.dropped_samples);
  EXPECT_TRUE(log.Contains("agent queue full: dropped its oldest segment")) << "no log line";
  uint64_t on_disk = 0;
  for (const std::string& name : SegmentFiles()) {
    on_disk += Env::Default()->FileSize(dir_.Path("queue") + "/" + name).value();
  }
  EXPECT_EQ(on_disk, st.bytes);

  // What is left is the newest records, in order, and every unsent record is either read or
  // counted as dropped.
  const std::vector<int> ids = ReadAll(q.get());
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids, Range(ids.front(), kRecords));
  EXPECT_EQ(ids.size() + st.dropped_records, static_cast<size_t>(kRecords - 2));
  // Acknowledging the in-flight records of a dropped segment is harmless.
  EXPECT_TRUE(q->Ack(in_flight_end).ok());
}

TEST_F(DiskQueueTest, ARecordLargerThanASegmentGetsOneOfItsOwn) {
  options_.max_bytes = 64 * 1024;
  options_.segment_bytes = 4096;
  auto q = Open();
  ASSERT_TRUE(q->Append(Payload(0, 100), 1).ok());
  ASSERT_TRUE(q->Append(Payload(1, 20000), 1).ok());
  ASSERT_TRUE(q->Append(Payload(2, 100), 1).ok());
  EXPECT_EQ(ReadAll(q.get()), Range(0, 3));
  Status s = q->Append(std::string(64 * 1024, 'x'), 1);  // cannot fit even in an empty queue
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.message().find("cannot fit"), std::string::npos) << s.message();
  EXPECT_EQ(q->Stats().dropped_samples, 0u);
}

TEST_F(DiskQueueTest, ATornTailIsCutOffAtOpenAndLogged) {
  {
    auto q = Open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q->Append(Payload(i, 50), 2).ok());
  }
  ASSERT_EQ(SegmentFiles().size(), 1u);
  const std::string path = dir_.Path("queue") + "/" + SegmentFiles()[0];
  const uint64_t good_size = Env::Default()->FileSize(path).value();
  {
    // kill -9 in the middle of an append: a header promising 1000 bytes, then 10 of them.
    auto f = Env::Default()->NewAppendableFile(path).value();
    std::string torn(DiskQueue::kRecordHeaderSize, '\0');
    torn[4] = static_cast<char>(0xe8);  // length 1000, little-endian
    torn[5] = 0x03;
    torn += std::string(10, 'y');
    ASSERT_TRUE(f->Append(torn).ok());
    ASSERT_TRUE(f->Close().ok());
  }
  testing::LogCapture log;
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(log.Contains("torn write")) << "no log line";
  EXPECT_EQ(Env::Default()->FileSize(path).value(), good_size);
  EXPECT_EQ(ReadAll(q.get()), Range(0, 3));
  ASSERT_TRUE(q->Append(Payload(3), 1).ok());  // into a new segment
  EXPECT_EQ(ReadAll(q.get()), std::vector<int>{3});
  EXPECT_EQ(SegmentFiles().size(), 2u);

  // A tail too short for a record header, and a segment cut inside its own header.
  q.reset();
  for (const std::string& name : SegmentFiles()) {
    auto f = Env::Default()->NewAppendableFile(dir_.Path("queue") + "/" + name).value();
    ASSERT_TRUE(f->Append("abc").ok());
    ASSERT_TRUE(f->Close().ok());
  }
  {
    auto f = Env::Default()->NewWritableFile(SegmentPath(7)).value();
    ASSERT_TRUE(f->Append("TYQS\x01").ok());
    ASSERT_TRUE(f->Close().ok());
  }
  q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(ReadAll(q.get()), Range(0, 4));
  EXPECT_EQ(Env::Default()->FileSize(SegmentPath(7)).value(), 0u);
}

TEST_F(DiskQueueTest, AFlippedBitTruncatesItsSegmentAndLaterSegmentsAreStillRead) {
  {
    auto q = Open();
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(q->Append(Payload(i, 400), 3).ok());
  }
  const std::vector<std::string> files = SegmentFiles();
  ASSERT_GE(files.size(), 3u);
  {
    // Flip a payload byte of the second record of the first segment.
    const std::string path = dir_.Path("queue") + "/" + files[0];
    std::string bytes = Env::Default()->ReadFile(path).value();
    const size_t second_record = DiskQueue::kSegmentHeaderSize + DiskQueue::kRecordHeaderSize + 400;
    bytes[second_record + DiskQueue::kRecordHeaderSize + 100] ^= 0x10;
    ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, bytes).ok());
  }
  testing::LogCapture log;
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(log.Contains("checksum mismatch")) << "no log line";
  std::vector<int> ids = ReadAll(q.get());
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 0);
  // The rest of the first segment is gone; the next segments are read in full.
  EXPECT_GT(ids[1], 1);
  EXPECT_EQ(std::vector<int>(ids.begin() + 1, ids.end()), Range(ids[1], 30));
}

TEST_F(DiskQueueTest, DamageFoundWhileReadingSkipsTheRestOfTheSegmentAndIsCounted) {
  auto q = Open();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(q->Append(Payload(i, 400), 3).ok());
  const std::string path = dir_.Path("queue") + "/" + SegmentFiles()[0];
  {
    // The disk changes under the open queue: damage the first segment's third record.
    std::string bytes = Env::Default()->ReadFile(path).value();
    bytes[DiskQueue::kSegmentHeaderSize + 2 * (DiskQueue::kRecordHeaderSize + 400) + 20] ^= 0x01;
    auto f = Env::Default()->NewWritableFile(path).value();
    ASSERT_TRUE(f->Append(bytes).ok());
    ASSERT_TRUE(f->Close().ok());
  }
  testing::LogCapture log;
  std::vector<int> ids = ReadAll(q.get());
  EXPECT_TRUE(log.Contains("damaged after it was checked")) << "no log line";
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[0], 0);
  EXPECT_EQ(ids[1], 1);
  const uint64_t lost_records = static_cast<uint64_t>(30 - ids.size());
  EXPECT_GT(lost_records, 0u);
  EXPECT_EQ(q->Stats().corrupt_samples, 3 * lost_records);
  EXPECT_EQ(std::vector<int>(ids.begin() + 2, ids.end()), Range(ids[2], 30));
}

TEST_F(DiskQueueTest, ADamagedCursorMeansReadingFromTheOldestSegment) {
  {
    auto q = Open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Append(Payload(i), 1).ok());
    QueuePosition end;
    ReadAll(q.get(), &end);
    ASSERT_TRUE(q->Ack(end).ok());
  }
  std::string cursor = Env::Default()->ReadFile(dir_.Path("queue/cursor")).value();
  ASSERT_EQ(cursor.size(), 28u);
  EXPECT_EQ(cursor.substr(0, 4), "TYQC");
  cursor[10] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), dir_.Path("queue/cursor"), cursor).ok());
  testing::LogCapture log;
  auto q = Open();
  EXPECT_TRUE(log.Contains("cursor file is damaged")) << "no log line";
  EXPECT_EQ(ReadAll(q.get()), Range(0, 5));  // sent again rather than lost
}

TEST_F(DiskQueueTest, AFullDiskFailsTheAppendClearlyAndTheQueueRecovers) {
  testing::FaultInjectionEnv env(Env::Default());
  auto q = Open(&env);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Append(Payload(0, 100), 1).ok());
  env.SetWriteBudget(50);  // the next record is torn part-way
  Status s = q->Append(Payload(1, 100), 1);
  EXPECT_EQ(s.code(), StatusCode::kNoSpace) << s.ToString();
  EXPECT_NE(s.message().find("agent queue append"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
  EXPECT_EQ(q->Stats().unread_records, 1u);
  s = q->Append(Payload(2, 100), 1);  // still full: creating the next segment fails
  EXPECT_EQ(s.code(), StatusCode::kNoSpace) << s.ToString();

  env.SetWriteBudget(-1);  // space again
  ASSERT_TRUE(q->Append(Payload(3, 100), 1).ok());
  EXPECT_EQ(ReadAll(q.get()), (std::vector<int>{0, 3}));
  q.reset();
  q = Open();  // no garbage was left behind for the scan to find
  EXPECT_EQ(ReadAll(q.get()), (std::vector<int>{0, 3}));
}

TEST_F(DiskQueueTest, FailingSyncsAndWritesAreErrorsNotLostRecords) {
  testing::FaultInjectionEnv env(Env::Default());
  options_.fsync = FsyncMode::kAlways;
  auto q = Open(&env);
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->Append(Payload(0), 1).ok());
  env.FailSyncs(true);
  Status s = q->Append(Payload(1), 1);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("fdatasync"), std::string::npos) << s.message();
  env.FailSyncs(false);
  ASSERT_TRUE(q->Append(Payload(2), 1).ok());

  QueueRecord r;
  ASSERT_TRUE(q->Read(&r).value());
  env.FailAll(true);  // the disk vanished: the cursor cannot be written
  s = q->Ack(r.end);
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("writing the cursor"), std::string::npos) << s.message();
  env.FailAll(false);
  ASSERT_TRUE(q->Read(&r).value());
  ASSERT_TRUE(q->Ack(r.end).ok());  // covers the one whose acknowledgement was not written
  q.reset();
  q = Open();
  EXPECT_TRUE(ReadAll(q.get()).empty());
}

TEST_F(DiskQueueTest, OpenChecksOptionsAndLocksTheDirectory) {
  options_.segment_bytes = 1000;
  EXPECT_EQ(DiskQueue::Open(Env::Default(), nullptr, dir_.Path("q"), options_).status().code(),
            StatusCode::kInvalidArgument);
  options_.segment_bytes = 8192;
  options_.max_bytes = 10000;
  EXPECT_EQ(DiskQueue::Open(Env::Default(), nullptr, dir_.Path("q"), options_).status().code(),
            StatusCode::kInvalidArgument);
  options_.max_bytes = 1 << 20;
  auto first = Open();
  ASSERT_NE(first, nullptr);
  auto second = DiskQueue::Open(Env::Default(), nullptr, dir_.Path("queue"), options_);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_EQ(ParseFsyncMode("always").value(), FsyncMode::kAlways);
  EXPECT_EQ(ParseFsyncMode("interval").value(), FsyncMode::kInterval);
  EXPECT_EQ(ParseFsyncMode("sometimes").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DiskQueueTest, ProducersAppendWhileTheConsumerReadsAndAcknowledges) {
  options_.max_bytes = 64 << 20;
  testing::FaultInjectionEnv env(Env::Default());
  env.SkipSyncs(true);
  auto q = Open(&env);
  ASSERT_NE(q, nullptr);
  constexpr int kProducers = 4, kEach = 500;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(q->Append(Payload(p * kEach + i, 200), 1).ok());
    });
  }
  std::multiset<int> seen;
  std::vector<int> last_of(kProducers, -1);
  std::atomic<bool> no_cancel{false};
  QueueRecord r;
  for (int spins = 0; seen.size() < kProducers * kEach && spins < 100000; ++spins) {
    Result<bool> got = q->Read(&r);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (!*got) {
      (void)q->WaitForRecords(100ms, &no_cancel);
      continue;
    }
    const int id = IdOf(r.payload);
    EXPECT_GT(id % kEach, last_of[id / kEach]);  // each producer's records in its order
    last_of[id / kEach] = id % kEach;
    seen.insert(id);
    if (seen.size() % 50 == 0) {
      ASSERT_TRUE(q->Ack(r.end).ok());
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kProducers * kEach));
  EXPECT_EQ(std::set<int>(seen.begin(), seen.end()).size(), seen.size());  // each exactly once
}

TEST_F(DiskQueueTest, WaitForRecordsWakesOnAppendAndOnCancel) {
  auto q = Open();
  std::atomic<bool> cancel{false};
  EXPECT_FALSE(q->WaitForRecords(1ms, &cancel));
  std::thread producer([&] { EXPECT_TRUE(q->Append(Payload(0), 1).ok()); });
  // Bounded by the test's timeout, not asserted: returns once the append lands.
  while (!q->WaitForRecords(10s, &cancel)) {
  }
  producer.join();
  QueueRecord r;
  ASSERT_TRUE(q->Read(&r).value());
  std::thread canceller([&] {
    cancel = true;
    q->WakeReaders();
  });
  EXPECT_FALSE(q->WaitForRecords(std::chrono::hours(1), &cancel));  // returns at the cancel
  canceller.join();
}

}  // namespace
}  // namespace tyto::forward
