// EventStore under kill -9: a forked child appends batches (each one trace of spans and its logs)
// and reports each batch after Append returned OK; the parent kills it with SIGKILL at a
// moment chosen at random. After reopening, every reported batch is there, whole, and no batch
// is there in part (a batch of one partition is one transaction).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>

#include "eventstore/store.h"
#include "eventstore/test_data.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace tyto::eventstore {
namespace {

using testdata::MakeLog;
using testdata::MakeSpan;
using testdata::TraceId;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr size_t kSpansPerBatch = 5;
constexpr size_t kLogsPerBatch = 3;

// The child: appends batches first, first+1, ... with a minute between them (so partitions
// roll over), writing each batch number to `fd` once both appends returned OK. Never returns.
[[noreturn]] void Writer(const std::string& dir, uint32_t first, int64_t start_ms, int fd) {
  testing::FakeClock clock(start_ms);
  auto store = EventStore::Open(Env::Default(), &clock, dir, {});
  if (!store.ok()) _exit(3);
  for (uint32_t batch = first;; ++batch) {
    const int64_t t = clock.NowMillis();
    std::vector<events::Span> spans;
    for (size_t i = 0; i < kSpansPerBatch; ++i) {
      spans.push_back(MakeSpan({.trace = batch,
                                .span = uint64_t(batch) * 100 + i,
                                .parent = i == 0 ? -1 : int64_t(batch) * 100,
                                .start_ms = t + int64_t(i)}));
    }
    std::vector<events::LogRecord> logs;
    for (size_t i = 0; i < kLogsPerBatch; ++i) {
      logs.push_back(MakeLog({.time_ms = t, .body = "batch log", .attributes = {{"batch", std::to_string(batch)}}}));
    }
    auto a = (*store)->AppendSpans(spans);
    if (!a.ok() || a->stored != kSpansPerBatch) _exit(4);
    auto b = (*store)->AppendLogs(logs);
    if (!b.ok() || b->stored != kLogsPerBatch) _exit(5);
    if (write(fd, &batch, sizeof batch) != sizeof batch) _exit(6);
    clock.Advance(std::chrono::minutes(1));
  }
}

TEST(StoreCrashTest, EveryAcknowledgedBatchSurvivesKill9) {
  testing::TempDir dir;
  const std::string path = dir.Path("events");
  std::mt19937 rng(20231114);
  std::vector<std::pair<uint32_t, uint32_t>> acked_ranges;  // [first, last] per round
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    const uint32_t first = static_cast<uint32_t>(round) * 100'000 + 1;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      Writer(path, first, kNow + round * 4 * 3'600'000LL, fds[1]);
    }
    close(fds[1]);
    const uint32_t kill_after = 5 + rng() % 120;
    uint32_t last = 0;
    for (uint32_t n = 0; n < kill_after; ++n) {
      uint32_t batch = 0;
      ASSERT_EQ(read(fds[0], &batch, sizeof batch), static_cast<ssize_t>(sizeof batch)) << "the writer died";
      last = batch;
    }
    // Let it run on a random few hundred microseconds into the next batches, then kill it.
    usleep(static_cast<useconds_t>(rng() % 3000));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited with " << WEXITSTATUS(status);
    // Batches it reported after the `kill_after`-th were acknowledged too.
    uint32_t batch = 0;
    while (read(fds[0], &batch, sizeof batch) == static_cast<ssize_t>(sizeof batch)) last = batch;
    close(fds[0]);
    acked_ranges.emplace_back(first, last);
  }

  testing::FakeClock clock(kNow + kRounds * 4 * 3'600'000LL);
  auto store = EventStore::Open(Env::Default(), &clock, path, {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (const auto& [first, last] : acked_ranges) {
    // Through the last acknowledged batch, and a few beyond it that may have been committed.
    for (uint32_t batch = first; batch <= last + 3; ++batch) {
      auto spans = (*store)->GetTrace(TraceId(batch));
      auto logs = (*store)->SearchLogs({.attributes = {{"batch", std::to_string(batch)}}});
      ASSERT_TRUE(logs.ok()) << logs.status().ToString();
      if (batch <= last) {
        ASSERT_TRUE(spans.ok()) << "batch " << batch << " (acknowledged up to " << last
                                << "): " << spans.status().ToString();
        EXPECT_EQ(spans->size(), kSpansPerBatch) << batch;
        EXPECT_EQ(logs->size(), kLogsPerBatch) << batch;
      } else {
        // Not acknowledged: all of it or none of it.
        EXPECT_TRUE(!spans.ok() || spans->size() == kSpansPerBatch) << batch;
        EXPECT_TRUE(logs->empty() || logs->size() == kLogsPerBatch) << batch;
      }
    }
  }
  // Log cursors after the restarts still grow: a tail sees each record once.
  std::set<uint64_t> cursors;
  uint64_t cursor = 0;
  while (true) {
    auto page = (*store)->LogsAfter(cursor, {}, 1000);
    ASSERT_TRUE(page.ok());
    if (page->logs.empty()) break;
    for (const LogEntry& e : page->logs) EXPECT_TRUE(cursors.insert(e.cursor).second);
    cursor = page->next_cursor;
  }
  EXPECT_GT(cursors.size(), 0u);
}

}  // namespace
}  // namespace tyto::eventstore
