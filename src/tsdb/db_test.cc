// The engine as a whole: blocks cut from the head, queries across blocks and head, reopening,
// compaction, rollups and retention, and all of them at once.
#include "tsdb/db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <bit>
#include <cmath>
#include <map>
#include <thread>

#include "common/log.h"
#include "common/mutex.h"
#include "testing/log_capture.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"
#include "tsdb/block/block.h"
#include "tsdb/compact.h"
#include "tsdb/rollup.h"
#include "tsdb/series.h"

namespace tyto::tsdb {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kStep = 15000;

Matcher Eq(std::string n, std::string v) { return *Matcher::Make(MatchType::kEqual, std::move(n), std::move(v)); }

std::vector<Sample> Samples(Storage* s, const std::vector<Matcher>& m, int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
  auto q = s->NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok());
  auto set = (*q)->Select(m);
  std::vector<Sample> out;
  int series = 0;
  while (set->Next()) {
    ++series;
    auto it = set->Iterator();
    while (it->Next()) out.push_back(it->At());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  EXPECT_TRUE(set->status().ok()) << set->status().ToString();
  EXPECT_LE(series, 1);
  return out;
}

// Every series' samples, value bits included, by series.
using Dump = std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>>;

Dump DumpAll(Storage* s, int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX, SelectHints hints = {}) {
  Dump out;
  auto q = s->NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  if (!q.ok()) return out;
  auto set = (*q)->SelectWithHints({*Matcher::Make(MatchType::kRegexMatch, "__name__", ".+")}, hints);
  while (set->Next()) {
    auto& v = out[set->labels().ToString()];
    EXPECT_TRUE(v.empty()) << "series twice: " << set->labels().ToString();
    auto it = set->Iterator();
    while (it->Next()) v.emplace_back(it->At().t, std::bit_cast<uint64_t>(it->At().v));
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  EXPECT_TRUE(set->status().ok()) << set->status().ToString();
  return out;
}

class DBTest : public ::testing::Test {
 protected:
  // Syncs cost milliseconds each and a test writes hundreds of blocks; what they guarantee
  // cannot be checked without a power cut anyway.
  DBTest() { env_.SkipSyncs(true); }

  std::unique_ptr<DB> Open(DBOptions o = {}) {
    o.head.fsync = FsyncPolicy::kNever;
    auto db = DB::Open(&env_, dir_.path(), o, nullptr);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // `hours` of 15 s samples for 3 series, value = t / 1000 + series.
  void Fill(DB* db, int64_t from, int64_t hours) {
    auto app = db->NewAppender();
    for (int64_t t = from; t < from + hours * kHour; t += kStep) {
      for (int s = 0; s < 3; ++s) {
        ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "m", "s", std::to_string(s)}), t, t / 1000.0 + s).ok());
      }
      if ((t / kStep) % 100 == 0) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  // Block directories on disk (complete ones).
  size_t BlockDirs() {
    auto dirs = block::ListBlocks(Env::Default(), dir_.Path("blocks"));
    EXPECT_TRUE(dirs.ok());
    return dirs.ok() ? dirs->size() : 0;
  }
  testing::FaultInjectionEnv env_{Env::Default()};
  testing::TempDir dir_;
};

void ExpectContiguous(const std::vector<Sample>& got, int64_t from, int64_t to, int series) {
  ASSERT_EQ(static_cast<int64_t>(got.size()), (to - from) / kStep + 1);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].t, from + static_cast<int64_t>(i) * kStep);
    ASSERT_EQ(got[i].v, got[i].t / 1000.0 + series);
  }
}

TEST_F(DBTest, CutsBlocksAndQueriesAcrossBlocksAndHead) {
  auto db = Open();
  Fill(db.get(), 0, 7);
  auto cut = db->CutBlocks();
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  // Head spanned 0..7h: cuts [0,2h) and [2h,4h), keeping [4h,7h) (1.5 ranges or less).
  EXPECT_EQ(*cut, 2);
  EXPECT_EQ(db->num_blocks(), 2u);
  EXPECT_EQ(db->head()->persisted_before(), 4 * kHour);
  EXPECT_GT(db->blocks_bytes(), 0u);
  ExpectContiguous(Samples(db.get(), {Eq("s", "1")}), 0, 7 * kHour - kStep, 1);
  // A range inside one block, one across a block and the head, and [mint, maxt] inclusive.
  ExpectContiguous(Samples(db.get(), {Eq("s", "2")}, kHour, 2 * kHour), kHour, 2 * kHour, 2);
  ExpectContiguous(Samples(db.get(), {Eq("s", "0")}, 3 * kHour, 5 * kHour), 3 * kHour, 5 * kHour, 0);
  auto q = db->NewQuerier(0, kHour);
  EXPECT_EQ(*(*q)->LabelValues("s", {}), (std::vector<std::string>{"0", "1", "2"}));
  // Samples older than the blocks are refused.
  auto app = db->NewAppender();
  EXPECT_EQ(app->Append(0, Labels::Of({"__name__", "m", "s", "0"}), kHour, 1).status().code(),
            StatusCode::kOutOfOrderSample);
}

TEST_F(DBTest, ReopenServesTheSameDataWithoutDuplicates) {
  {
    auto db = Open();
    Fill(db.get(), 0, 7);
    ASSERT_TRUE(db->CutBlocks().ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open();
  EXPECT_EQ(db->num_blocks(), 2u);
  EXPECT_EQ(db->head()->persisted_before(), 4 * kHour);
  ExpectContiguous(Samples(db.get(), {Eq("s", "1")}), 0, 7 * kHour - kStep, 1);
  // And appending continues after a restart.
  Fill(db.get(), 7 * kHour, 1);
  ExpectContiguous(Samples(db.get(), {Eq("s", "2")}), 0, 8 * kHour - kStep, 2);
}

TEST_F(DBTest, FlushPersistsEverything) {
  auto db = Open();
  Fill(db.get(), 0, 3);
  auto n = db->Flush();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(db->head()->Stats(1).samples, 0u);
  ExpectContiguous(Samples(db.get(), {Eq("s", "0")}), 0, 3 * kHour - kStep, 0);
}

TEST_F(DBTest, TimeRetentionCountsBackFromTheNewestSample) {
  DBOptions o;
  o.retention = std::chrono::hours(3);
  auto db = Open(o);
  Fill(db.get(), 0, 9);
  ASSERT_TRUE(db->CutBlocks().ok());
  EXPECT_EQ(db->num_blocks(), 3u);  // [0,2h) [2h,4h) [4h,6h)
  auto removed = db->ApplyRetention();
  ASSERT_TRUE(removed.ok());
  // Newest is ~9h: blocks ending before 6h are older than 3h and go, rolled up first.
  EXPECT_EQ(*removed, 2);
  auto got = Samples(db.get(), {Eq("s", "0")});
  ASSERT_FALSE(got.empty());
  // Before 4h the 5-minute rollups answer: with no hint, each window's average, stamped at its
  // last sample; raw samples from 4h on.
  size_t i = 0;
  for (int64_t w = 0; w < 4 * kHour; w += 5 * 60000, ++i) {
    ASSERT_LT(i, got.size());
    EXPECT_EQ(got[i].t, w + 5 * 60000 - kStep);
    EXPECT_EQ(got[i].v, (w + 142500) / 1000.0);  // the mean of 20 samples t/1000
  }
  ExpectContiguous({got.begin() + static_cast<ptrdiff_t>(i), got.end()}, 4 * kHour, 9 * kHour - kStep, 0);
  // Backfilled history far in the past stays while nothing newer arrives: time retention
  // counts from the newest sample, not from the wall clock.
}

TEST_F(DBTest, SizeRetentionRemovesTheOldestBlocks) {
  DBOptions o;
  o.retention = std::chrono::milliseconds(0);
  auto db = Open(o);
  Fill(db.get(), 0, 9);
  ASSERT_TRUE(db->CutBlocks().ok());
  ASSERT_EQ(db->num_blocks(), 3u);
  uint64_t all = db->blocks_bytes();
  db.reset();
  o.retention_bytes = all - 1;  // one block too many
  db = Open(o);
  ASSERT_EQ(*db->ApplyRetention(), 1);
  EXPECT_EQ(db->num_blocks(), 2u);
  EXPECT_EQ(Samples(db.get(), {Eq("s", "0")}).front().t, 2 * kHour);
}

TEST_F(DBTest, BackgroundMaintenanceCutsBlocks) {
  auto db = Open();
  Fill(db.get(), 0, 7);
  db->StartBackground(std::chrono::milliseconds(10));
  for (int i = 0; i < 500 && db->num_blocks() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(db->num_blocks(), 2u);
  ASSERT_TRUE(db->Close().ok());
}

// 30 h cut into 2 h blocks up to 28 h (the head keeps the rest): the 6 h ranges of the first
// day are complete, then the day itself; [24 h, 28 h) may still grow and stays as it is.
TEST_F(DBTest, CompactionMergesBlocksAndQueriesReturnTheSameSamples) {
  auto db = Open();
  Fill(db.get(), 0, 30);
  // Values that stress the merge: NaN payloads, a staleness marker, -0.0.
  {
    auto app = db->NewAppender();
    Labels odd = Labels::Of({"__name__", "odd"});
    ASSERT_TRUE(app->Append(0, odd, 1000, -0.0).ok());
    ASSERT_TRUE(app->Append(0, odd, 2 * kHour + 5, std::bit_cast<double>(uint64_t{0x7ff8000000000123})).ok());
    ASSERT_TRUE(app->Append(0, odd, 7 * kHour, StaleMarker()).ok());
    ASSERT_TRUE(app->Append(0, odd, 23 * kHour, 1e300).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_EQ(*db->CutBlocks(), 14);
  const Dump before = DumpAll(db.get());
  auto compacted = db->Compact();
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(*compacted, 5);  // four 6 h blocks, then one day
  auto metas = db->BlockMetas();
  ASSERT_EQ(metas.size(), 3u);
  EXPECT_EQ(metas[0].min_time, 0);
  EXPECT_EQ(metas[0].max_time, 24 * kHour - 1);
  EXPECT_EQ(metas[0].level, 3);
  EXPECT_EQ(metas[0].sources.size(), 4u);
  EXPECT_EQ(metas[1].level, 1);
  EXPECT_EQ(BlockDirs(), 3u);
  EXPECT_EQ(DumpAll(db.get()), before);
  // Nothing more to do, and a reopened store serves the same.
  EXPECT_EQ(*db->Compact(), 0);
  ASSERT_TRUE(db->Close().ok());
  db = Open();
  EXPECT_EQ(db->num_blocks(), 3u);
  EXPECT_EQ(DumpAll(db.get()), before);
}

TEST_F(DBTest, CompactionRespectsTheMaximumRange) {
  DBOptions o;
  o.retention = std::chrono::hours(48);  // 10%: 4.8 h, so 2 h blocks are merged no further
  auto db = Open(o);
  Fill(db.get(), 0, 30);
  ASSERT_TRUE(db->CutBlocks().ok());
  EXPECT_EQ(*db->Compact(), 0);
  EXPECT_EQ(db->num_blocks(), 14u);
}

TEST_F(DBTest, QueryHoldingMergedBlocksKeepsReadingThem) {
  auto db = Open();
  Fill(db.get(), 0, 30);
  ASSERT_TRUE(db->CutBlocks().ok());
  const Dump before = DumpAll(db.get(), 0, 10 * kHour);
  auto q = db->NewQuerier(0, 10 * kHour);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select({Eq("s", "1")});
  ASSERT_TRUE(set->Next());
  auto it = set->Iterator();
  ASSERT_TRUE(it->Next());
  // The blocks this query reads are merged and their files removed under it.
  ASSERT_EQ(*db->Compact(), 5);
  ASSERT_EQ(BlockDirs(), 3u);
  std::vector<std::pair<int64_t, uint64_t>> got{{it->At().t, std::bit_cast<uint64_t>(it->At().v)}};
  while (it->Next()) got.emplace_back(it->At().t, std::bit_cast<uint64_t>(it->At().v));
  ASSERT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(got, before.at(Labels::Of({"__name__", "m", "s", "1"}).ToString()));
  EXPECT_FALSE(set->Next());
}

TEST_F(DBTest, OpenRemovesBlocksLeftByACrashDuringCompaction) {
  Dump before;
  std::vector<std::string> sources;
  {
    auto db = Open();
    Fill(db.get(), 0, 30);
    ASSERT_TRUE(db->CutBlocks().ok());
    before = DumpAll(db.get());
    // The crash: the merged block is written, its sources are still there.
    std::vector<std::shared_ptr<block::Reader>> first_day;
    for (const auto& m : db->BlockMetas()) {
      if (m.max_time >= 6 * kHour) continue;
      auto r = block::Reader::Open(Env::Default(), dir_.Path("blocks/" + m.id));
      ASSERT_TRUE(r.ok());
      first_day.push_back(std::move(r).value());
      sources.push_back(m.id);
    }
    ASSERT_EQ(first_day.size(), 3u);
    auto merged = MergeBlocks(Env::Default(), dir_.Path("blocks"), first_day);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(merged->sources, sources);
    EXPECT_EQ(merged->level, 2);
    ASSERT_TRUE(db->Close().ok());
  }
  ASSERT_EQ(BlockDirs(), 15u);
  auto db = Open();
  EXPECT_EQ(db->num_blocks(), 12u);
  EXPECT_EQ(BlockDirs(), 12u);
  for (const std::string& id : sources) EXPECT_FALSE(Env::Default()->FileExists(dir_.Path("blocks/" + id)));
  EXPECT_EQ(DumpAll(db.get()), before);  // no sample lost or doubled
}

// Flips one byte in the middle of `path` (a file of a block).
void FlipMiddleByte(const std::string& path) {
  auto bytes = Env::Default()->ReadFile(path);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_GT(bytes->size(), 16u);
  (*bytes)[bytes->size() / 2] = static_cast<char>((*bytes)[bytes->size() / 2] ^ 0x5a);
  auto f = Env::Default()->NewWritableFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append(*bytes).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

// `dump` without the samples in [mint, maxt].
Dump Without(Dump dump, int64_t mint, int64_t maxt) {
  for (auto& [series, samples] : dump) {
    std::erase_if(samples, [&](const auto& s) { return s.first >= mint && s.first <= maxt; });
  }
  return dump;
}

class DamagedBlockTest : public DBTest {
 protected:
  // Three 2 h blocks and 3 h in the head; the DB closed. Returns what it served.
  Dump WriteAndClose() {
    auto db = Open();
    Fill(db.get(), 0, 9);
    auto cut = db->CutBlocks();
    EXPECT_TRUE(cut.ok());
    metas_ = db->BlockMetas();
    EXPECT_EQ(metas_.size(), 3u);
    return DumpAll(db.get());
  }
  std::unique_ptr<DB> Reopen() {
    DBOptions o;
    o.head.fsync = FsyncPolicy::kNever;
    auto db = DB::Open(&env_, dir_.path(), o, &registry_);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  bool Reported(int times) {
    return registry_.Expose().find("tyto_tsdb_blocks_corrupted_total " + std::to_string(times) + "\n") !=
           std::string::npos;
  }
  std::vector<block::Meta> metas_;
  instrumentation::Registry registry_;
};

// A damaged index is found when the DB opens: that block is left on disk, not served, logged
// and counted; the other blocks and the head are served as before.
TEST_F(DamagedBlockTest, DamagedIndexSkipsTheBlockAndServesTheRest) {
  const Dump before = WriteAndClose();
  ASSERT_EQ(metas_.size(), 3u);
  const block::Meta damaged = metas_[1];
  const std::string damaged_dir = dir_.Path("blocks/" + damaged.id);
  FlipMiddleByte(damaged_dir + "/index");
  testing::LogCapture log;
  auto db = Reopen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->num_blocks(), 2u);
  EXPECT_TRUE(Reported(1)) << registry_.Expose();
  EXPECT_EQ(log.Count({"\"level\":\"error\"", "block damaged", damaged.id, "index"}), 1);
  EXPECT_EQ(DumpAll(db.get()), Without(before, damaged.min_time, damaged.max_time));
  EXPECT_TRUE(Env::Default()->FileExists(damaged_dir));  // kept for inspection
  // The head still takes samples.
  auto app = db->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "m", "s", "0"}), 9 * kHour, 1).ok());
  EXPECT_TRUE(app->Commit().ok());
}

// Damaged chunks are found when read: a query reading them fails with kCorruption naming the
// file (never wrong samples), the damage is logged and counted once, and queries over the other
// blocks and the head are served.
TEST_F(DamagedBlockTest, DamagedChunksFailOnlyTheReadsThatReachThem) {
  const Dump before = WriteAndClose();
  ASSERT_EQ(metas_.size(), 3u);
  const block::Meta damaged = metas_[1];
  FlipMiddleByte(dir_.Path("blocks/" + damaged.id + "/chunks"));
  testing::LogCapture log;
  auto db = Reopen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->num_blocks(), 3u);  // chunks are checked when read
  EXPECT_TRUE(Reported(0)) << registry_.Expose();
  // The other blocks and the head.
  EXPECT_EQ(DumpAll(db.get(), INT64_MIN, damaged.min_time - 1), Without(before, damaged.min_time, INT64_MAX));
  EXPECT_EQ(DumpAll(db.get(), damaged.max_time + 1, INT64_MAX), Without(before, INT64_MIN, damaged.max_time));
  EXPECT_TRUE(Reported(0));
  // The damaged block, twice: every sample returned is a stored one; a series stops at the damage.
  for (int pass = 0; pass < 2; ++pass) {
    auto q = db->NewQuerier(damaged.min_time, damaged.max_time);
    ASSERT_TRUE(q.ok());
    auto set = (*q)->Select({*Matcher::Make(MatchType::kRegexMatch, "__name__", ".+")});
    int failed = 0;
    while (set->Next()) {
      const auto& want = before.at(set->labels().ToString());
      auto it = set->Iterator();
      while (it->Next()) {
        const std::pair<int64_t, uint64_t> got{it->At().t, std::bit_cast<uint64_t>(it->At().v)};
        EXPECT_TRUE(std::find(want.begin(), want.end(), got) != want.end()) << "a sample never stored: " << got.first;
      }
      if (!it->status().ok()) {
        ++failed;
        EXPECT_EQ(it->status().code(), StatusCode::kCorruption) << it->status().ToString();
        EXPECT_NE(it->status().message().find(damaged.id + "/chunks"), std::string::npos) << it->status().ToString();
      }
    }
    EXPECT_GT(failed, 0) << "pass " << pass;
  }
  EXPECT_TRUE(Reported(1)) << registry_.Expose();
  EXPECT_EQ(log.Count({"\"level\":\"error\"", "block damaged", damaged.id + "/chunks"}), 1);
}

TEST_F(DBTest, FailedCompactionLeavesTheBlocksIntact) {
  testing::FaultInjectionEnv env(Env::Default());
  instrumentation::Registry registry;
  DBOptions o;
  o.head.fsync = FsyncPolicy::kNever;
  auto opened = DB::Open(&env, dir_.path(), o, &registry);
  ASSERT_TRUE(opened.ok());
  auto db = std::move(opened).value();
  Fill(db.get(), 0, 30);
  ASSERT_TRUE(db->CutBlocks().ok());
  const Dump before = DumpAll(db.get());
  for (int64_t budget : {0, 100, 1000}) {
    env.SetWriteBudget(budget);  // the disk fills up while the merged block is written
    auto compacted = db->Compact();
    ASSERT_FALSE(compacted.ok()) << "budget " << budget;
    EXPECT_EQ(compacted.status().code(), StatusCode::kNoSpace) << compacted.status().ToString();
    EXPECT_EQ(db->num_blocks(), 14u);
    EXPECT_EQ(DumpAll(db.get()), before);
  }
  env.SetWriteBudget(-1);
  env.FailSyncs(true);
  EXPECT_FALSE(db->Compact().ok());
  EXPECT_EQ(db->num_blocks(), 14u);
  env.FailSyncs(false);
  EXPECT_EQ(BlockDirs(), 14u);  // nothing half-written left behind
  ASSERT_EQ(*db->Compact(), 5);
  EXPECT_EQ(DumpAll(db.get()), before);
  EXPECT_NE(registry.Expose().find("tyto_tsdb_compaction_failures_total 4"), std::string::npos);
  EXPECT_NE(registry.Expose().find("tyto_tsdb_compactions_total 5"), std::string::npos);
}


// Twelve days of a counter (one per minute, reset at 10 h) and a gauge, every minute.
class RollupDBTest : public DBTest {
 protected:
  static constexpr int64_t kMinute = 60000;
  static constexpr int64_t kDay = 24 * kHour;
  static double Counter(int64_t t) { return static_cast<double>(t < 10 * kHour ? t / kMinute : (t - 10 * kHour) / kMinute); }
  static double Gauge(int64_t t) { return static_cast<double>((t / kMinute * 7) % 17); }

  void FillDays(DB* db, int days) {
    auto app = db->NewAppender();
    for (int64_t t = 0; t < days * kDay; t += kMinute) {
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "c_total"}), t, Counter(t)).ok());
      ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "g"}), t, Gauge(t)).ok());
      if (t % kHour == 0) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Commit().ok());
  }

  static std::vector<Sample> Query(DB* db, const std::string& name, int64_t mint, int64_t maxt, std::string func) {
    auto q = db->NewQuerier(mint, maxt);
    EXPECT_TRUE(q.ok());
    auto set = (*q)->SelectWithHints({Eq("__name__", name)}, SelectHints{.func = std::move(func)});
    std::vector<Sample> out;
    while (set->Next()) {
      EXPECT_EQ(set->labels(), Labels::Of({"__name__", name}));  // no __rollup__ label
      auto it = set->Iterator();
      while (it->Next()) out.push_back(it->At());
      EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    }
    EXPECT_TRUE(set->status().ok()) << set->status().ToString();
    return out;
  }

  // The gauge's maximum and mean per window of `res` over [from, to), from the raw values.
  static void ExpectGaugeWindows(DB* db, int64_t res, int64_t from, int64_t to) {
    auto max = Query(db, "g", from, to - 1, "max_over_time");
    auto avg = Query(db, "g", from, to - 1, "");
    ASSERT_EQ(static_cast<int64_t>(max.size()), (to - from) / res);
    ASSERT_EQ(avg.size(), max.size());
    for (size_t i = 0; i < max.size(); ++i) {
      int64_t w = from + static_cast<int64_t>(i) * res;
      double m = 0, sum = 0;
      for (int64_t t = w; t < w + res; t += kMinute) {
        m = std::max(m, Gauge(t));
        sum += Gauge(t);
      }
      EXPECT_EQ(max[i].t, w + res - kMinute);
      EXPECT_EQ(max[i].v, m) << "window " << w;
      EXPECT_EQ(avg[i].v, sum / static_cast<double>(res / kMinute)) << "window " << w;
    }
  }

  DBOptions Options() {
    DBOptions o;
    o.retention = std::chrono::hours(24 * 10);
    return o;
  }
};

TEST_F(RollupDBTest, RetentionRollsUpRawBlocksAndRollupsAnswerQueries) {
  auto db = Open(Options());
  FillDays(db.get(), 12);
  ASSERT_TRUE(db->CutBlocks().ok());
  ASSERT_TRUE(db->Compact().ok());
  const auto raw_counter = Query(db.get(), "c_total", 0, 2 * kDay, "rate");
  // Newest sample ~12 d: the first day's block ends more than 10 d before it.
  auto removed = db->ApplyRetention();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 1);
  std::map<int64_t, int> by_resolution;
  for (const auto& m : db->BlockMetas()) {
    ++by_resolution[m.resolution_ms];
    if (m.resolution_ms != 0) {
      EXPECT_EQ(m.min_time, 0);
      EXPECT_EQ(m.max_time, kDay - 1);
    }
  }
  EXPECT_EQ(by_resolution[rollup::k5m], 1);
  EXPECT_EQ(by_resolution[rollup::k1h], 1);

  ExpectGaugeWindows(db.get(), rollup::k5m, 0, kDay);
  // The counter over rollups, then raw samples: never decreasing except where the raw data
  // itself resets (none after the first day), and continuing exactly across the tier change.
  auto counter = Query(db.get(), "c_total", 0, 2 * kDay, "rate");
  ASSERT_FALSE(counter.empty());
  EXPECT_EQ(counter.front().t, 0);
  EXPECT_EQ(counter.front().v, 0);
  size_t first_raw = 0;
  while (counter[first_raw].t < kDay) ++first_raw;
  EXPECT_EQ(first_raw, 1 + 24 * 12u);  // the first sample, then one per window
  for (size_t i = 1; i < counter.size(); ++i) EXPECT_GE(counter[i].v, counter[i - 1].v) << counter[i].t;
  // At the end of the first day the adjusted counter is 600 (to the reset) + 839.
  EXPECT_EQ(counter[first_raw - 1].t, kDay - kMinute);
  EXPECT_EQ(counter[first_raw - 1].v, 599 + 839);
  EXPECT_EQ(counter[first_raw].v - counter[first_raw - 1].v, 1);
  EXPECT_EQ(counter.back().v - counter[first_raw].v, raw_counter.back().v - raw_counter[1440].v);
  // Raw data where it still exists; label names without the reserved label.
  auto q = db->NewQuerier(0, 2 * kDay);
  EXPECT_EQ(*(*q)->LabelNames({}), std::vector<std::string>{"__name__"});
  EXPECT_TRUE((*q)->LabelValues(std::string(rollup::kLabel), {})->empty());
  EXPECT_EQ(*(*q)->LabelValues("__name__", {}), (std::vector<std::string>{"c_total", "g"}));
  EXPECT_EQ(Query(db.get(), "g", kDay, kDay + kHour, "").size(), 61u);

  // Again: nothing more to roll up or remove.
  EXPECT_EQ(*db->ApplyRetention(), 0);
  ASSERT_TRUE(db->Close().ok());

  // When the 5 m rollups expire, the 1 h ones answer.
  DBOptions o = Options();
  o.retention_5m = std::chrono::hours(36);
  db = Open(o);
  EXPECT_EQ(*db->ApplyRetention(), 1);
  ExpectGaugeWindows(db.get(), rollup::k1h, 0, kDay);
  counter = Query(db.get(), "c_total", 0, kDay - 1, "increase");
  ASSERT_EQ(counter.size(), 25u);
  EXPECT_EQ(counter.back().v, 599 + 839);
  EXPECT_EQ(Query(db.get(), "c_total", 0, kDay - 1, "count_over_time").front().v, 60);
  EXPECT_EQ(Query(db.get(), "g", 0, kDay - 1, "sum_over_time").size(), 24u);
  EXPECT_EQ(Query(db.get(), "g", 0, kDay - 1, "min").front().v, 0);
}

TEST_F(RollupDBTest, RollupsOfBlocksCompactedLater) {
  // Rollup blocks merge into longer ones once their range is older than all raw data; the
  // counter stays continuous through the merge.
  DBOptions o = Options();
  o.retention = std::chrono::hours(24 * 3);  // raw blocks merge to 6 h at most (10%: 7.2 h)
  auto db = Open(o);
  FillDays(db.get(), 6);
  ASSERT_TRUE(db->CutBlocks().ok());
  ASSERT_TRUE(db->Compact().ok());
  const auto before = Query(db.get(), "c_total", 0, 2 * kDay, "rate");
  ASSERT_TRUE(db->ApplyRetention().ok());
  ASSERT_TRUE(db->Compact().ok());
  // 6 h rollup blocks merged into days where no raw block is left: the first two days; the
  // third day still has a raw block, so its rollups stay as they are.
  int merged_days = 0;
  for (const auto& m : db->BlockMetas()) {
    if (m.resolution_ms == rollup::k5m && m.level == 2) {
      ++merged_days;
      EXPECT_EQ(m.max_time - m.min_time, kDay - 1);
    }
  }
  EXPECT_EQ(merged_days, 2);
  ExpectGaugeWindows(db.get(), rollup::k5m, 0, 2 * kDay);
  auto counter = Query(db.get(), "c_total", 0, 2 * kDay, "rate");
  for (size_t i = 1; i < counter.size(); ++i) EXPECT_GE(counter[i].v, counter[i - 1].v) << counter[i].t;
  // The raw data before: 599 to the reset, then 2279 more by the end of the second day.
  EXPECT_EQ(before[2 * 1440 - 1].v, 2279);
  // The last sample in range is the third day's first, which its rollup block keeps raw: 2280
  // after the reset.
  EXPECT_EQ(counter.back().t, 2 * kDay);
  EXPECT_EQ(counter.back().v, 599 + 2280);
}

TEST_F(RollupDBTest, SizeRetentionRemovesTheOldestTimeFirst) {
  uint64_t total = 0;
  size_t raw_blocks = 0;
  {
    auto db = Open(Options());
    FillDays(db.get(), 12);
    ASSERT_TRUE(db->CutBlocks().ok());
    ASSERT_TRUE(db->Compact().ok());
    ASSERT_TRUE(db->ApplyRetention().ok());
    total = db->blocks_bytes();
    raw_blocks = db->num_blocks() - 2;
    ASSERT_TRUE(db->Close().ok());
  }
  // One byte too many: the oldest range's finest block (the first day's 5 m rollup) goes; its
  // 1 h rollup and every raw block stay.
  DBOptions o = Options();
  o.retention_bytes = total - 1;
  auto db = Open(o);
  EXPECT_EQ(*db->ApplyRetention(), 1);
  std::map<int64_t, int> by_resolution;
  for (const auto& m : db->BlockMetas()) ++by_resolution[m.resolution_ms];
  EXPECT_EQ(by_resolution[rollup::k5m], 0);
  EXPECT_EQ(by_resolution[rollup::k1h], 1);
  EXPECT_EQ(by_resolution[0], static_cast<int>(raw_blocks));
  ExpectGaugeWindows(db.get(), rollup::k1h, 0, kDay);
}

// Appenders, queriers, block cuts, compaction, rollups and retention at once (run under
// ThreadSanitizer by scripts/test.sh). Every loop is bounded; threads meet at barriers and
// atomics, never at sleeps.
TEST_F(DBTest, AppendersQueriersCompactionAndRetentionAtOnce) {
  constexpr int64_t kEvery = 5 * 60000;
  constexpr int64_t kSteps = 4 * 24 * 12;  // four days
  DBOptions o;
  o.retention = std::chrono::hours(24 * 3);  // blocks merge up to 6 h; the first day is rolled up
  auto db = Open(o);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::barrier step(2);
  auto appender = [&](int who) {
    auto app = db->NewAppender();
    for (int64_t k = 0; k < kSteps; ++k) {
      for (int s = 0; s < 3; ++s) {
        Labels l = Labels::Of({"__name__", "c_total", "who", std::to_string(who), "s", std::to_string(s)});
        if (!app->Append(0, l, k * kEvery, static_cast<double>(k)).ok()) ++failures;
      }
      if (!app->Commit().ok()) ++failures;
      step.arrive_and_wait();  // the two appenders keep to the same time
    }
  };
  auto querier = [&] {
    for (int i = 0; i < 100000 && !done; ++i) {
      SelectHints hints{.func = i % 2 ? "rate" : ""};
      auto q = db->NewQuerier(0, kSteps * kEvery);
      if (!q.ok()) {
        ++failures;
        continue;
      }
      auto set = (*q)->SelectWithHints({Eq("__name__", "c_total")}, hints);
      while (set->Next()) {
        auto it = set->Iterator();
        Sample prev{INT64_MIN, 0};
        while (it->Next()) {
          Sample cur = it->At();
          if (cur.t <= prev.t || (hints.func == "rate" && cur.v < prev.v)) ++failures;
          prev = cur;
        }
        if (!it->status().ok()) ++failures;
      }
      if (!set->status().ok()) ++failures;
    }
  };
  auto maintenance = [&] {
    for (int i = 0; i < 100000 && !done; ++i) {
      auto cut = db->CutBlocks();
      auto compacted = db->Compact();
      auto removed = db->ApplyRetention();
      if (!cut.ok() || !compacted.ok() || !removed.ok()) ++failures;
    }
  };
  std::thread a1(appender, 1), a2(appender, 2), q1(querier), q2(querier), m(maintenance);
  a1.join();
  a2.join();
  done = true;
  q1.join();
  q2.join();
  m.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(db->CutBlocks().ok());
  ASSERT_TRUE(db->Compact().ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  // Everything within the raw retention is there, sample for sample; older time is rolled up.
  const int64_t newest = (kSteps - 1) * kEvery;
  const int64_t raw_from = BlockStart(newest - 3 * 24 * kHour, 2 * kHour) + 2 * kHour;
  for (int who : {1, 2}) {
    for (int s : {0, 1, 2}) {
      auto got = Samples(db.get(), {Eq("who", std::to_string(who)), Eq("s", std::to_string(s))}, raw_from, newest);
      ASSERT_EQ(static_cast<int64_t>(got.size()), (newest - raw_from) / kEvery + 1);
      for (const Sample& x : got) ASSERT_EQ(x.v, static_cast<double>(x.t / kEvery));
    }
  }
  bool rolled_up = false;
  for (const auto& meta : db->BlockMetas()) rolled_up = rolled_up || meta.resolution_ms == rollup::k5m;
  EXPECT_TRUE(rolled_up);
  EXPECT_FALSE(Samples(db.get(), {Eq("who", "1"), Eq("s", "0")}, 0, kHour).empty());
}

}  // namespace
}  // namespace tyto::tsdb
