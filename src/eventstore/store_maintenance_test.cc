// EventStore: retention, the size cap, idle writers, changed partition lengths, and damaged
// partition files, with a FakeClock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "eventstore/store.h"
#include "eventstore/test_data.h"
#include "instrumentation/metrics.h"
#include "testing/fake_clock.h"
#include "testing/log_capture.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

using namespace std::chrono_literals;
using testdata::MakeLog;
using testdata::MakeSpan;
using testdata::TraceId;
using ::testing::HasSubstr;

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kNow = 1'700'000'000'000;         // 2023-11-14T22:13:20Z
constexpr int64_t kThisHour = kNow - kNow % kHour;  // 22:00

class MaintenanceTest : public ::testing::Test {
 protected:
  void Open(EventStoreOptions o) {
    store_.reset();
    registry_ = std::make_unique<instrumentation::Registry>();
    auto s = EventStore::Open(Env::Default(), &clock_, Dir(), o, registry_.get());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  std::string Dir() const { return dir_.Path("events"); }
  std::string File(int64_t hour_start_ms) const {
    time_t secs = static_cast<time_t>(hour_start_ms / 1000);
    struct tm tm {};
    gmtime_r(&secs, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ.db", &tm);
    return Dir() + "/" + buf;
  }
  // One trace (numbered by its start) of 200 spans at `start_ms`, for some bytes.
  void AppendTrace(uint64_t trace, int64_t start_ms, size_t spans = 200) {
    std::vector<events::Span> batch;
    for (size_t i = 0; i < spans; ++i) {
      batch.push_back(MakeSpan({.trace = trace,
                                .span = trace * 1000 + i,
                                .parent = i == 0 ? -1 : int64_t(trace * 1000),
                                .start_ms = start_ms + static_cast<int64_t>(i)}));
    }
    auto r = store_->AppendSpans(batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->stored, spans) << r->first_rejection;
  }
  bool HasTrace(uint64_t trace) { return store_->GetTrace(TraceId(trace)).ok(); }
  std::string Metrics() const { return registry_->Expose(); }

  testing::TempDir dir_;
  testing::FakeClock clock_{kNow};
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(MaintenanceTest, RetentionDeletesWholePartitions) {
  EventStoreOptions o;
  o.retention = 3h;
  Open(o);
  AppendTrace(1, kThisHour - 3 * kHour + 30 * 60'000);  // 19:30 (19:13:20 is the oldest accepted)
  AppendTrace(2, kThisHour - 2 * kHour);                // 20:00
  AppendTrace(3, kThisHour + 60'000);                   // 22:01
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_EQ(store_->Stats().partitions, 3u);
  EXPECT_TRUE(HasTrace(1));

  clock_.Advance(std::chrono::minutes(50));  // 23:03: 19:00-20:00 ends before now - 3h
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_EQ(store_->Stats().partitions, 2u);
  EXPECT_FALSE(HasTrace(1));
  EXPECT_TRUE(HasTrace(2));
  EXPECT_FALSE(std::filesystem::exists(File(kThisHour - 3 * kHour)));
  EXPECT_FALSE(std::filesystem::exists(File(kThisHour - 3 * kHour) + "-wal"));
  EXPECT_TRUE(std::filesystem::exists(File(kThisHour - 2 * kHour)));
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_partitions_dropped_total{reason=\"retention\"} 1"));
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_partitions 2"));

  // 20:10 is within the retention (20:03:20 on) and its partition exists: accepted.
  AppendTrace(4, kThisHour - 2 * kHour + 10 * 60'000);
  clock_.Advance(std::chrono::hours(2));  // 01:03: only 22:00 and later are kept
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_EQ(store_->Stats().partitions, 1u);
  EXPECT_TRUE(HasTrace(3));
}

TEST_F(MaintenanceTest, SizeCapDeletesOldestFirstButNeverTheCurrentPartition) {
  EventStoreOptions o;
  o.writer_idle = 0ms;  // Maintain checkpoints every partition: sizes are stable
  Open(o);
  // About 1 MB per partition, so that the few KiB of WAL and shared-memory files that open
  // connections keep beside each one do not decide the test.
  for (int h = 4; h >= 1; --h) AppendTrace(static_cast<uint64_t>(h), kThisHour - h * kHour, 2000);
  AppendTrace(9, kThisHour + 1000, 2000);  // the current partition
  ASSERT_TRUE(store_->Maintain().ok());
  ASSERT_EQ(store_->Stats().partitions, 5u);
  auto size = [&](int64_t start) { return std::filesystem::file_size(File(start)); };
  const uint64_t newest_three = size(kThisHour) + size(kThisHour - kHour) + size(kThisHour - 2 * kHour);
  ASSERT_GT(size(kThisHour - 3 * kHour), 500'000u);

  // A cap that holds the three newest partitions: 18:00 and 19:00 go, oldest first.
  o.max_bytes = newest_three + 300'000;
  Open(o);
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_EQ(store_->Stats().partitions, 3u);
  EXPECT_FALSE(HasTrace(4));
  EXPECT_FALSE(HasTrace(3));
  EXPECT_TRUE(HasTrace(2));
  EXPECT_TRUE(HasTrace(1));
  EXPECT_TRUE(HasTrace(9));
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_partitions_dropped_total{reason=\"size\"} 2"));
  EXPECT_LE(store_->Stats().bytes, o.max_bytes);

  // Rows for a deleted range are refused from then on, though within the retention.
  auto r = store_->AppendSpans(
      std::vector<events::Span>{MakeSpan({.trace = 5, .span = 5, .start_ms = kThisHour - 3 * kHour})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_THAT(r->first_rejection, HasSubstr("deleted range"));
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_rows_rejected_total{table=\"spans\",reason=\"too_old\"} 1"));

  // A cap below one partition: everything but the current one goes.
  o.max_bytes = 1;
  Open(o);
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_EQ(store_->Stats().partitions, 1u);
  EXPECT_TRUE(HasTrace(9));
  EXPECT_TRUE(std::filesystem::exists(File(kThisHour)));
}

TEST_F(MaintenanceTest, IdleWriterIsClosedAndItsWalEmptied) {
  EventStoreOptions o;
  o.writer_idle = 5min;
  Open(o);
  AppendTrace(1, kNow);
  const std::string wal = File(kThisHour) + "-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_GT(std::filesystem::file_size(wal), 0u) << "written just now: kept open";
  clock_.Advance(6min);
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0);
  EXPECT_TRUE(HasTrace(1));
  AppendTrace(2, kNow + 1);  // writes again after closing
  EXPECT_TRUE(HasTrace(2));
}

TEST_F(MaintenanceTest, AtMostFourWriteConnectionsStayOpen) {
  Open({});
  for (int h = 6; h >= 1; --h) AppendTrace(static_cast<uint64_t>(h), kThisHour - h * kHour, 20);
  auto wal_bytes = [&](int h) -> uintmax_t {
    const std::string wal = File(kThisHour - h * kHour) + "-wal";
    return std::filesystem::exists(wal) ? std::filesystem::file_size(wal) : 0;
  };
  int open_wals = 0;
  for (int h = 6; h >= 1; --h) open_wals += wal_bytes(h) > 0 ? 1 : 0;
  EXPECT_EQ(open_wals, 4) << "the two least recently written were checkpointed and closed";
  EXPECT_EQ(wal_bytes(6), 0u);
  EXPECT_EQ(wal_bytes(5), 0u);
  for (uint64_t t = 1; t <= 6; ++t) EXPECT_TRUE(HasTrace(t)) << t;
  AppendTrace(7, kThisHour - 6 * kHour + 1, 20);  // reopens its writer
  EXPECT_TRUE(HasTrace(7));
}

TEST_F(MaintenanceTest, ChangedPartitionLengthKeepsExistingFiles) {
  Open({});
  AppendTrace(1, kThisHour + 1);  // 22:00-23:00
  EventStoreOptions daily;
  daily.partition = 24h;
  Open(daily);
  AppendTrace(2, kThisHour + 2);          // still the 22:00 hour file
  AppendTrace(3, kThisHour + kHour);      // 23:00: a new file up to the end of the day
  AppendTrace(4, kThisHour - 3 * kHour);  // 19:00: a new file from 00:00 up to 22:00
  EXPECT_EQ(store_->Stats().partitions, 3u);
  EXPECT_TRUE(std::filesystem::exists(File(kThisHour)));
  EXPECT_TRUE(std::filesystem::exists(File(kThisHour + kHour)));
  EXPECT_TRUE(std::filesystem::exists(File(kThisHour - 22 * kHour)));  // 2023-11-14T00:00
  for (uint64_t t = 1; t <= 4; ++t) EXPECT_TRUE(HasTrace(t)) << t;
  Open(daily);
  EXPECT_EQ(store_->Stats().partitions, 3u);
  for (uint64_t t = 1; t <= 4; ++t) EXPECT_TRUE(HasTrace(t)) << t;
}

TEST_F(MaintenanceTest, UnreadablePartitionFileIsSkipped) {
  Open({});
  AppendTrace(1, kThisHour - kHour);
  AppendTrace(2, kThisHour);
  auto logs = store_->AppendLogs(std::vector<events::LogRecord>{MakeLog({.time_ms = kThisHour - kHour, .body = "old"}),
                                                                MakeLog({.time_ms = kThisHour, .body = "new"})});
  ASSERT_TRUE(logs.ok());
  store_.reset();
  {  // Garbage over the whole 21:00 file, as a failing disk or a stray copy might leave it.
    const std::string path = File(kThisHour - kHour);
    const auto n = std::filesystem::file_size(path);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    std::mt19937 rng(7);
    for (uintmax_t i = 0; i < n; ++i) f.put(static_cast<char>(rng()));
  }
  testing::LogCapture logs_seen;
  Open({});
  EXPECT_TRUE(logs_seen.Contains("cannot be read"));
  EXPECT_EQ(store_->Stats().partitions, 2u);
  EXPECT_EQ(store_->Stats().unreadable_partitions, 1u);
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_partition_errors_total{op=\"open\"} 1"));
  EXPECT_FALSE(HasTrace(1));
  EXPECT_TRUE(HasTrace(2));
  auto found = store_->FindTraces({});
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 1u);
  auto bodies = store_->SearchLogs({});
  ASSERT_TRUE(bodies.ok());
  ASSERT_EQ(bodies->size(), 1u);
  EXPECT_EQ((*bodies)[0].record.body, "new");
  EXPECT_EQ(store_->LastLogCursor(), 2u);
  // Its range refuses rows rather than making a second file for it.
  auto r = store_->AppendSpans(std::vector<events::Span>{MakeSpan({.trace = 3, .span = 3, .start_ms = kThisHour - 1})});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rejected, 1u);
  EXPECT_THAT(Metrics(), HasSubstr("reason=\"unreadable_partition\"} 1"));
  // Retention deletes it as any other.
  clock_.Advance(std::chrono::hours(24 * 7));
  ASSERT_TRUE(store_->Maintain().ok());
  EXPECT_FALSE(std::filesystem::exists(File(kThisHour - kHour)));
}

TEST_F(MaintenanceTest, DamageFoundByAQuerySkipsThatPartition) {
  Open({});
  AppendTrace(1, kThisHour - kHour, 3000);
  AppendTrace(2, kThisHour, 10);
  store_.reset();
  {  // Keep the first pages (schema, meta) and the last (written last: the trace filter) and
     // overwrite the middle, where the spans are: opening works, reading them fails.
    const std::string path = File(kThisHour - kHour);
    const auto n = std::filesystem::file_size(path);
    ASSERT_GT(n, 800'000u);
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    const uintmax_t from = 40 * 8192;  // past the root pages of every table and index (about 45)
    f.seekp(static_cast<std::streamoff>(from));
    std::mt19937 rng(7);
    for (uintmax_t i = from; i < n / 2; ++i) f.put(static_cast<char>(rng()));
  }
  testing::LogCapture logs_seen;
  Open({});
  EXPECT_EQ(store_->Stats().unreadable_partitions, 0u);
  // Reading every span of the damaged partition meets the damage; the query still answers,
  // with what the other partition has.
  auto found = store_->FindTraces({.limit = 10'000});
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_FALSE(found->empty());
  EXPECT_EQ((*found)[0].trace_id, TraceId(2));
  auto t1 = store_->GetTrace(TraceId(1));
  EXPECT_FALSE(t1.ok() && t1->size() == 3000u);
  EXPECT_THAT(Metrics(), HasSubstr("tyto_eventstore_partition_errors_total{op=\"query\"}"));
  EXPECT_TRUE(logs_seen.Contains("queries skip it"));
}

TEST_F(MaintenanceTest, BackgroundMaintenanceRuns) {
  EventStoreOptions o;
  o.retention = 2h;
  Open(o);
  AppendTrace(1, kThisHour - 2 * kHour + 20 * 60'000);  // 20:20
  AppendTrace(2, kNow);
  clock_.Advance(std::chrono::hours(1));
  store_->StartBackground(5ms);
  for (int i = 0; i < 2000 && store_->Stats().partitions > 1; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(store_->Stats().partitions, 1u);
  ASSERT_TRUE(store_->Close().ok());  // stops the thread
}

}  // namespace
}  // namespace tyto::eventstore
