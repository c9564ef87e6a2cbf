// The head through the Storage interface: appends, reads, out-of-order and duplicate rules,
// limits, WAL replay, repair of a damaged log, disk faults, and concurrent use.
#include "tsdb/head.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <thread>

#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"
#include "tsdb/wal/wal.h"

namespace tyto::tsdb {
namespace {

using testing::TempDir;

Matcher Eq(std::string name, std::string value) { return *Matcher::Make(MatchType::kEqual, std::move(name), std::move(value)); }
Matcher Re(std::string name, std::string value) { return *Matcher::Make(MatchType::kRegexMatch, std::move(name), std::move(value)); }
Matcher Neq(std::string name, std::string value) { return *Matcher::Make(MatchType::kNotEqual, std::move(name), std::move(value)); }
Matcher Nre(std::string name, std::string value) { return *Matcher::Make(MatchType::kRegexNoMatch, std::move(name), std::move(value)); }

struct Series {
  Labels labels;
  std::vector<Sample> samples;
};

std::vector<Series> Query(Storage* s, std::vector<Matcher> m, int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
  auto q = s->NewQuerier(mint, maxt);
  EXPECT_TRUE(q.ok());
  auto set = (*q)->Select(m);
  std::vector<Series> out;
  while (set->Next()) {
    Series series{set->labels(), {}};
    auto it = set->Iterator();
    while (it->Next()) series.samples.push_back(it->At());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    out.push_back(std::move(series));
  }
  return out;
}

class HeadTest : public ::testing::Test {
 protected:
  std::unique_ptr<Head> Open(HeadOptions o = {}, Env* env = Env::Default()) {
    auto h = Head::Open(env, dir_.Path("wal"), o, nullptr);
    EXPECT_TRUE(h.ok()) << h.status().ToString();
    return h.ok() ? std::move(h).value() : nullptr;
  }
  TempDir dir_;
};

const Labels kUp = Labels::Of({"__name__", "up", "job", "node", "instance", "a"});
const Labels kUpB = Labels::Of({"__name__", "up", "job", "node", "instance", "b"});
const Labels kTemp = Labels::Of({"__name__", "gpu_temp", "gpu", "0"});

TEST_F(HeadTest, AppendsAndReadsBack) {
  auto head = Open();
  auto app = head->NewAppender();
  for (int64_t t = 0; t < 1000; ++t) {
    ASSERT_TRUE(app->Append(0, kUp, t * 15000, static_cast<double>(t)).ok());
    ASSERT_TRUE(app->Append(0, kTemp, t * 15000, 40.5 + t % 7).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(head.get(), {Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, kUp);
  ASSERT_EQ(got[0].samples.size(), 1000u);
  for (int64_t t = 0; t < 1000; ++t) {
    EXPECT_EQ(got[0].samples[t].t, t * 15000);
    EXPECT_EQ(got[0].samples[t].v, static_cast<double>(t));
  }
  // [mint, maxt] is inclusive at both ends.
  got = Query(head.get(), {Eq("__name__", "gpu_temp")}, 15000, 45000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 3u);
  EXPECT_EQ(got[0].samples.front().t, 15000);
  EXPECT_EQ(got[0].samples.back().t, 45000);
  EXPECT_EQ(head->num_series(), 2u);
  EXPECT_EQ(head->min_time(), 0);
  EXPECT_EQ(head->max_time(), 999 * 15000);
}

TEST_F(HeadTest, NothingIsVisibleBeforeCommitAndRollbackDiscards) {
  auto head = Open();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1, 1).ok());
  EXPECT_TRUE(Query(head.get(), {Eq("__name__", "up")}).empty());
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_TRUE(Query(head.get(), {Eq("__name__", "up")}).empty());
}

TEST_F(HeadTest, RefFastPathReturnsTheSameSeries) {
  auto head = Open();
  auto app = head->NewAppender();
  auto ref = app->Append(0, kUp, 1, 1);
  ASSERT_TRUE(ref.ok());
  auto again = app->Append(*ref, kUp, 2, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*ref, *again);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Query(head.get(), {Eq("instance", "a")})[0].samples.size(), 2u);
}

TEST_F(HeadTest, OutOfOrderWithinTheWindowIsMergedAndOlderIsRejected) {
  HeadOptions o;
  o.out_of_order_window = std::chrono::minutes(10);
  auto head = Open(o);
  auto app = head->NewAppender();
  for (int64_t t : {600000, 660000, 720000}) ASSERT_TRUE(app->Append(0, kUp, t, static_cast<double>(t)).ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(app->Append(0, kUp, 630000, 630000).ok());  // 90 s late: inside the window
  ASSERT_TRUE(app->Commit().ok());
  auto late = app->Append(0, kUp, 100000, 1);  // 620 s older than the newest: outside
  EXPECT_EQ(late.status().code(), StatusCode::kOutOfOrderSample);
  auto got = Query(head.get(), {Eq("instance", "a")});
  ASSERT_EQ(got[0].samples.size(), 4u);
  EXPECT_EQ(got[0].samples[1].t, 630000);
  EXPECT_EQ(got[0].samples[1].v, 630000);
}

TEST_F(HeadTest, WindowZeroRejectsAnythingOlder) {
  HeadOptions o;
  o.out_of_order_window = std::chrono::milliseconds(0);
  auto head = Open(o);
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(app->Append(0, kUp, 999, 1).status().code(), StatusCode::kOutOfOrderSample);
}

TEST_F(HeadTest, SameTimestampDifferentValueIsRejectedSameValueIgnored) {
  auto head = Open();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  ASSERT_TRUE(app->Append(0, kUp, 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(app->Append(0, kUp, 2000, 3).status().code(), StatusCode::kDuplicateSample);
  EXPECT_EQ(app->Append(0, kUp, 1000, 5).status().code(), StatusCode::kDuplicateSample);  // an older one too
  EXPECT_TRUE(app->Append(0, kUp, 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Query(head.get(), {Eq("instance", "a")})[0].samples.size(), 2u);
}

TEST_F(HeadTest, ASampleSentAgainIsCountedAsIgnored) {
  instrumentation::Registry registry;
  auto h = Head::Open(Env::Default(), dir_.Path("wal"), {}, &registry);
  ASSERT_TRUE(h.ok());
  auto app = (*h)->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  ASSERT_TRUE(app->Append(0, kUp, 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_NE(registry.Expose().find("tyto_tsdb_head_samples_ignored_total 0\n"), std::string::npos);
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());  // a sender's resend of both
  ASSERT_TRUE(app->Append(0, kUp, 2000, 2).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_NE(registry.Expose().find("tyto_tsdb_head_samples_ignored_total 2\n"), std::string::npos) << registry.Expose();
}

// Append checks a sample against what is stored, not against its own batch: conflicts inside
// one batch are dropped at Commit (which succeeds) and counted, as Prometheus does.
TEST_F(HeadTest, ConflictsWithinOneBatchAreDroppedAtCommitAndCounted) {
  instrumentation::Registry registry;
  HeadOptions o;
  o.out_of_order_window = std::chrono::milliseconds(0);
  auto h = Head::Open(Env::Default(), dir_.Path("wal"), o, &registry);
  ASSERT_TRUE(h.ok());
  auto app = (*h)->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 2000, 1).ok());
  ASSERT_TRUE(app->Append(0, kUp, 2000, 2).ok());  // same time, another value
  ASSERT_TRUE(app->Append(0, kUp, 1000, 3).ok());  // older than the batch's newest, window 0
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(h->get(), {Eq("instance", "a")});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 1u);
  EXPECT_EQ(got[0].samples[0].t, 2000);
  EXPECT_EQ(got[0].samples[0].v, 1);
  const std::string m = registry.Expose();
  EXPECT_NE(m.find("tyto_tsdb_head_samples_rejected_total{reason=\"duplicate\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_tsdb_head_samples_rejected_total{reason=\"out_of_order\"} 1\n"), std::string::npos) << m;
}

TEST_F(HeadTest, HugeCommitIsSplitIntoRecordsTheWalAccepts) {
  auto head = Open();
  auto app = head->NewAppender();
  // About 120 MB of series labels in one commit: more than one WAL record may hold.
  std::string pad(4000, 'x');
  for (int i = 0; i < 30000; ++i) {
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "big", "i", std::to_string(i), "pad", pad}), 1, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  head.reset();
  head = Open();
  EXPECT_EQ(head->num_series(), 30000u);
  EXPECT_EQ(head->replay_stats().samples, 30000u);
}

TEST_F(HeadTest, StalenessMarkerIsKeptApartFromNaN) {
  auto head = Open();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1, std::nan("")).ok());
  ASSERT_TRUE(app->Append(0, kUp, 2, StaleMarker()).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto s = Query(head.get(), {Eq("instance", "a")})[0].samples;
  EXPECT_TRUE(std::isnan(s[0].v));
  EXPECT_FALSE(IsStaleMarker(s[0].v));
  EXPECT_TRUE(IsStaleMarker(s[1].v));
}

TEST_F(HeadTest, MatchersFollowPrometheusSemantics) {
  auto head = Open();
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, kUpB, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, kTemp, 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "up", "job", "api", "env", "dev"}), 1, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "up")}).size(), 3u);
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "up"), Neq("instance", "a")}).size(), 2u);  // b, and the one without instance
  EXPECT_EQ(Query(head.get(), {Re("instance", "a|b")}).size(), 2u);
  EXPECT_EQ(Query(head.get(), {Re("__name__", "u.*")}).size(), 3u);
  EXPECT_EQ(Query(head.get(), {Re("__name__", ".+"), Nre("env", "dev")}).size(), 3u);
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "up"), Eq("env", "")}).size(), 2u);  // lacks env
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "nope")}).size(), 0u);
  EXPECT_EQ(Query(head.get(), {Re("instance", "")}).size(), 2u);  // temp and the api one
  auto q = head->NewQuerier(0, 10);
  EXPECT_EQ(*(*q)->LabelValues("instance", {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*(*q)->LabelNames({Eq("__name__", "gpu_temp")}), (std::vector<std::string>{"__name__", "gpu"}));
  auto later = head->NewQuerier(100, 200);
  EXPECT_TRUE((*later)->LabelNames({})->empty());
}

TEST_F(HeadTest, ResultsAreSortedByLabels) {
  auto head = Open();
  auto app = head->NewAppender();
  for (std::string i : {"c", "a", "b"}) {
    ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "x", "i", i}), 1, 1).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(head.get(), {Eq("__name__", "x")});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].labels.Get("i"), "a");
  EXPECT_EQ(got[2].labels.Get("i"), "c");
}

TEST_F(HeadTest, LimitsRejectWithTheirNames) {
  HeadOptions o;
  o.max_series = 3;
  o.max_series_per_metric = 2;
  o.max_label_count = 4;
  o.max_label_name_bytes = 8;
  o.max_label_value_bytes = 10;
  instrumentation::Registry registry;
  auto opened = Head::Open(Env::Default(), dir_.Path("wal"), o, &registry);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto head = std::move(opened).value();
  auto rejected = [&](const std::string& reason) {
    const std::string metrics = registry.Expose();
    const std::string key = "tyto_tsdb_head_samples_rejected_total{reason=\"" + reason + "\"} ";
    const size_t at = metrics.find(key);
    EXPECT_NE(at, std::string::npos) << key << " missing in\n" << metrics;
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + key.size()));
  };
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "m", "i", "1"}), 1, 1).ok());
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "m", "i", "2"}), 1, 1).ok());
  auto per_metric = app->Append(0, Labels::Of({"__name__", "m", "i", "3"}), 1, 1);
  EXPECT_EQ(per_metric.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(per_metric.status().message().find("storage.max_series_per_metric=2"), std::string::npos)
      << per_metric.status().ToString();
  ASSERT_TRUE(app->Append(0, Labels::Of({"__name__", "n"}), 1, 1).ok());
  for (int i = 0; i < 2; ++i) {
    auto total = app->Append(0, Labels::Of({"__name__", "o"}), 1, 1);
    EXPECT_EQ(total.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(total.status().message().find("series limit storage.max_series=3 reached"), std::string::npos)
        << total.status().ToString();
  }
  auto many = app->Append(0, Labels::Of({"__name__", "m", "a", "1", "b", "1", "c", "1", "d", "1"}), 1, 1);
  EXPECT_EQ(many.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(many.status().message().find("storage.max_label_count=4"), std::string::npos) << many.status().ToString();
  auto longn = app->Append(0, Labels::Of({"__name__", "m", "long_label_name", "x"}), 1, 1);
  EXPECT_EQ(longn.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(longn.status().message().find("storage.max_label_name_bytes=8"), std::string::npos)
      << longn.status().ToString();
  auto longv = app->Append(0, Labels::Of({"__name__", "m", "a", "0123456789abc"}), 1, 1);
  EXPECT_EQ(longv.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(longv.status().message().find("storage.max_label_value_bytes=10"), std::string::npos)
      << longv.status().ToString();
  EXPECT_EQ(app->Append(0, Labels::Of({"job", "x"}), 1, 1).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->num_series(), 3u);
  // Each refusal is counted under its own limit.
  EXPECT_EQ(rejected("max_series_per_metric"), 1);
  EXPECT_EQ(rejected("max_series"), 2);
  EXPECT_EQ(rejected("max_label_count"), 1);
  EXPECT_EQ(rejected("max_label_name_bytes"), 1);
  EXPECT_EQ(rejected("max_label_value_bytes"), 1);
  EXPECT_EQ(rejected("invalid_labels"), 1);
  EXPECT_EQ(registry.Expose().find("limit_or_labels"), std::string::npos);
}

TEST_F(HeadTest, ReplayRestoresEverythingAndRefsContinue) {
  std::vector<Series> before;
  {
    auto head = Open();
    auto app = head->NewAppender();
    for (int64_t t = 0; t < 500; ++t) {
      ASSERT_TRUE(app->Append(0, kUp, t * 1000, static_cast<double>(t)).ok());
      ASSERT_TRUE(app->Append(0, kUpB, t * 1000, -static_cast<double>(t)).ok());
      if (t % 50 == 49) {
        ASSERT_TRUE(app->Commit().ok());
      }
    }
    ASSERT_TRUE(app->Append(0, kTemp, 5, StaleMarker()).ok());
    ASSERT_TRUE(app->Commit().ok());
    before = Query(head.get(), {Re("__name__", ".+")});
  }
  auto head = Open();
  EXPECT_TRUE(head->replay_stats().repaired.empty()) << head->replay_stats().repaired;
  EXPECT_EQ(head->replay_stats().samples, 1001u);
  auto after = Query(head.get(), {Re("__name__", ".+")});
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].labels, before[i].labels);
    ASSERT_EQ(after[i].samples.size(), before[i].samples.size());
    for (size_t j = 0; j < after[i].samples.size(); ++j) {
      EXPECT_EQ(after[i].samples[j].t, before[i].samples[j].t);
      EXPECT_EQ(std::bit_cast<uint64_t>(after[i].samples[j].v), std::bit_cast<uint64_t>(before[i].samples[j].v));
    }
  }
  // A new series gets a fresh ref, and everything survives a second reopen.
  auto app = head->NewAppender();
  auto ref = app->Append(0, Labels::Of({"__name__", "new"}), 1, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*ref, 4u);
  ASSERT_TRUE(app->Commit().ok());
  head.reset();
  head = Open();
  EXPECT_EQ(Query(head.get(), {Re("__name__", ".+")}).size(), 4u);
}

TEST_F(HeadTest, DamagedWalTailIsCutAndTheRestKept) {
  {
    auto head = Open();
    auto app = head->NewAppender();
    for (int64_t t = 0; t < 100; ++t) {
      ASSERT_TRUE(app->Append(0, kUp, t, static_cast<double>(t)).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
  }
  // Cut the last segment in the middle of its last record, as a crash during a write would.
  auto segments = wal::ListSegments(Env::Default(), dir_.Path("wal"));
  ASSERT_TRUE(segments.ok());
  std::string last;
  for (uint64_t s : *segments) {
    std::string path = wal::SegmentPath(dir_.Path("wal"), s);
    if (*Env::Default()->FileSize(path) > 0) last = path;
  }
  ASSERT_FALSE(last.empty());
  ASSERT_TRUE(Env::Default()->TruncateFile(last, *Env::Default()->FileSize(last) - 5).ok());
  auto head = Open();
  EXPECT_FALSE(head->replay_stats().repaired.empty());
  auto got = Query(head.get(), {Eq("instance", "a")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 99u);  // the torn last commit is gone, every earlier one is there
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  head.reset();
  head = Open();
  EXPECT_TRUE(head->replay_stats().repaired.empty());
  EXPECT_EQ(Query(head.get(), {Eq("instance", "a")})[0].samples.size(), 100u);
}

TEST_F(HeadTest, DiskFullFailsTheCommitAndKeepsWhatWasAcknowledged) {
  testing::FaultInjectionEnv env(Env::Default());
  {
    auto head = Open({}, &env);
    auto app = head->NewAppender();
    int64_t t = 0;
    for (; t < 50; ++t) {
      ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
    env.SetWriteBudget(10);
    Status st;
    for (; t < 100000 && st.ok(); ++t) {
      ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
      st = app->Commit();
    }
    EXPECT_EQ(st.code(), StatusCode::kNoSpace) << st.ToString();
    int64_t acknowledged = t - 1;  // the last commit failed
    // A failed commit is not visible, and the head refuses further writes.
    EXPECT_EQ(static_cast<int64_t>(Query(head.get(), {Eq("instance", "a")})[0].samples.size()), acknowledged);
    ASSERT_TRUE(app->Append(0, kUp, t + 1, 1).ok());
    EXPECT_FALSE(app->Commit().ok());
    env.SetWriteBudget(-1);
    head.reset();
    head = Open({}, &env);
    EXPECT_EQ(static_cast<int64_t>(Query(head.get(), {Eq("instance", "a")})[0].samples.size()), acknowledged);
  }
}

// Counts fdatasyncs of the files it opens for writing; otherwise FaultInjectionEnv (syncs
// skipped, so the loops below stay fast).
class SyncCountingEnv final : public testing::FaultInjectionEnv {
 public:
  SyncCountingEnv() : FaultInjectionEnv(Env::Default()) { SkipSyncs(true); }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Wrap(FaultInjectionEnv::NewWritableFile(path));
  }
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return Wrap(FaultInjectionEnv::NewAppendableFile(path));
  }
  uint64_t syncs() const { return syncs_.load(); }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> base, std::atomic<uint64_t>* syncs) : base_(std::move(base)), syncs_(syncs) {}
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Flush() override { return base_->Flush(); }
    Status Sync() override {
      ++*syncs_;
      return base_->Sync();
    }
    Status Close() override { return base_->Close(); }

   private:
    std::unique_ptr<WritableFile> base_;
    std::atomic<uint64_t>* syncs_;
  };
  Result<std::unique_ptr<WritableFile>> Wrap(Result<std::unique_ptr<WritableFile>> f) {
    if (!f.ok()) return f.status();
    return std::unique_ptr<WritableFile>(new File(std::move(f).value(), &syncs_));
  }
  std::atomic<uint64_t> syncs_{0};
};

TEST_F(HeadTest, FsyncAlwaysSyncsEveryCommit) {
  SyncCountingEnv env;
  HeadOptions o;
  o.fsync = FsyncPolicy::kAlways;
  auto head = Open(o, &env);
  auto app = head->NewAppender();
  for (int64_t t = 0; t < 20; ++t) {
    const uint64_t before = env.syncs();
    ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
    EXPECT_EQ(env.syncs(), before + 1) << "commit " << t;
  }
}

TEST_F(HeadTest, FsyncNeverLeavesCommitsToTheOperatingSystem) {
  SyncCountingEnv env;
  HeadOptions o;
  o.fsync = FsyncPolicy::kNever;
  auto head = Open(o, &env);
  auto app = head->NewAppender();
  for (int64_t t = 0; t < 20; ++t) {
    ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ(env.syncs(), 0u);
}

// With kInterval a commit returns without syncing, and the WAL is synced once the interval has
// passed even if no commit follows: an idle tail is not left unsynced.
TEST_F(HeadTest, FsyncIntervalSyncsAnIdleTail) {
  SyncCountingEnv env;
  HeadOptions o;
  o.fsync = FsyncPolicy::kInterval;
  o.fsync_interval = std::chrono::milliseconds(20);
  auto head = Open(o, &env);
  auto app = head->NewAppender();
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(app->Append(0, kUp, round, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
    const uint64_t after_commit = env.syncs();
    // Polled, not timed: up to 60 s, far beyond the interval, for a loaded machine.
    for (int i = 0; i < 60000 && env.syncs() == after_commit; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_GT(env.syncs(), after_commit) << "round " << round << ": the committed tail was never synced";
  }
}

// A failed background fdatasync leaves the WAL writer unusable: the head refuses later commits,
// as after a failed write, and keeps what it acknowledged before.
TEST_F(HeadTest, FsyncIntervalFailureRefusesLaterCommits) {
  testing::FaultInjectionEnv env(Env::Default());
  HeadOptions o;
  o.fsync = FsyncPolicy::kInterval;
  o.fsync_interval = std::chrono::milliseconds(5);
  int64_t acknowledged = 0;
  {
    auto head = Open(o, &env);
    env.FailSyncs(true);
    auto app = head->NewAppender();
    Status st;
    // Polled, not timed: commits go on until the sync thread's failure reaches them.
    for (int i = 0; i < 60000 && st.ok(); ++i) {
      ASSERT_TRUE(app->Append(0, kUp, i, 1).ok());
      st = app->Commit();
      if (st.ok()) ++acknowledged;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(st.code(), StatusCode::kIOError) << st.ToString();
    EXPECT_NE(st.message().find("fsync"), std::string::npos) << st.ToString();
    EXPECT_GT(acknowledged, 0);
  }
  env.FailSyncs(false);
  auto head = Open(o, &env);
  EXPECT_EQ(static_cast<int64_t>(Query(head.get(), {Eq("instance", "a")})[0].samples.size()), acknowledged);
}

// A commit with the interval far away returns without an fdatasync of its own.
TEST_F(HeadTest, FsyncIntervalCommitsDoNotSyncThemselves) {
  SyncCountingEnv env;
  HeadOptions o;
  o.fsync = FsyncPolicy::kInterval;
  o.fsync_interval = std::chrono::hours(1);
  auto head = Open(o, &env);
  auto app = head->NewAppender();
  for (int64_t t = 0; t < 20; ++t) {
    ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  EXPECT_EQ(env.syncs(), 0u);
  ASSERT_TRUE(head->Sync().ok());  // shutdown syncs whatever the policy
  EXPECT_EQ(env.syncs(), 1u);
}

TEST_F(HeadTest, ChunksNeverSpanABlockBoundary) {
  HeadOptions o;
  o.block_range = std::chrono::milliseconds(1000);
  auto head = Open(o);
  auto app = head->NewAppender();
  for (int64_t t = 0; t < 3000; t += 100) ASSERT_TRUE(app->Append(0, kUp, t, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  auto range = head->CollectRange(1000, 1999);
  ASSERT_EQ(range.size(), 1u);
  EXPECT_EQ(range[0].second.size(), 10u);
  EXPECT_EQ(range[0].second.front().first, 1000);
  EXPECT_EQ(range[0].second.back().first, 1900);
}

TEST_F(HeadTest, TruncateDropsOldSamplesRefusesThemAndCheckpointsTheWal) {
  HeadOptions o;
  o.block_range = std::chrono::milliseconds(1000);
  o.out_of_order_window = std::chrono::hours(1);
  {
    auto head = Open(o);
    auto app = head->NewAppender();
    for (int64_t t = 0; t < 3000; t += 10) {
      ASSERT_TRUE(app->Append(0, kUp, t, static_cast<double>(t)).ok());
      ASSERT_TRUE(app->Append(0, kTemp, t, 40).ok());
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(head->Truncate(2000).ok());
    EXPECT_EQ(head->persisted_before(), 2000);
    EXPECT_EQ(head->min_time(), 2000);
    auto got = Query(head.get(), {Eq("instance", "a")});
    ASSERT_EQ(got[0].samples.size(), 100u);
    EXPECT_EQ(got[0].samples.front().t, 2000);
    // Within the out-of-order window, but behind what was persisted.
    EXPECT_EQ(app->Append(0, kUp, 1995, 1).status().code(), StatusCode::kOutOfOrderSample);
    ASSERT_TRUE(app->Append(0, kUp, 3000, 3000).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  // The old segments are gone; the checkpoint and the newer segment rebuild the same head.
  auto names = *Env::Default()->ListDir(dir_.Path("wal"));
  EXPECT_EQ(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("checkpoint.", 0) == 0; }), 1);
  auto head = Open(o);
  auto got = Query(head.get(), {Eq("instance", "a")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 101u);
  EXPECT_EQ(got[0].samples.front().t, 2000);
  EXPECT_EQ(got[0].samples.back().v, 3000);
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "gpu_temp")})[0].samples.size(), 100u);
  // A second truncation replaces the checkpoint.
  ASSERT_TRUE(head->Truncate(2500).ok());
  head.reset();
  head = Open(o);
  EXPECT_EQ(Query(head.get(), {Eq("instance", "a")})[0].samples.size(), 51u);
  names = *Env::Default()->ListDir(dir_.Path("wal"));
  EXPECT_EQ(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.rfind("checkpoint.", 0) == 0; }), 1);
}

TEST_F(HeadTest, SeriesWhoseSamplesAreAllPersistedAreRemoved) {
  HeadOptions o;
  o.block_range = std::chrono::milliseconds(1000);
  o.max_series = 2;
  auto head = Open(o);
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 100, 1).ok());
  auto temp_ref = app->Append(0, kTemp, 100, 40);
  ASSERT_TRUE(temp_ref.ok());
  ASSERT_TRUE(app->Commit().ok());
  ASSERT_TRUE(app->Append(0, kUp, 1500, 2).ok());  // kUp keeps a sample after the boundary
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(head->num_series(), 2u);
  // The limit counts series in memory.
  EXPECT_EQ(app->Append(0, kUpB, 1500, 1).status().code(), StatusCode::kResourceExhausted);

  ASSERT_TRUE(head->Truncate(1000).ok());
  EXPECT_EQ(head->num_series(), 1u);
  EXPECT_TRUE(Query(head.get(), {Eq("__name__", "gpu_temp")}).empty());
  auto q = head->NewQuerier(INT64_MIN, INT64_MAX);
  EXPECT_EQ(*(*q)->LabelValues("__name__", {}), std::vector<std::string>{"up"});
  EXPECT_EQ(*(*q)->LabelNames({}), (std::vector<std::string>{"__name__", "instance", "job"}));

  // The removed series comes back, under a new ref, when its stale ref is used again; the limit
  // of 2 has room for it now.
  auto again = app->Append(*temp_ref, kTemp, 1600, 41);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_NE(*again, *temp_ref);
  EXPECT_EQ(head->num_series(), 2u);
  ASSERT_TRUE(app->Commit().ok());
  auto temp = Query(head.get(), {Eq("__name__", "gpu_temp")});
  ASSERT_EQ(temp.size(), 1u);
  EXPECT_EQ(temp[0].samples.size(), 1u);

  // A restart replays the checkpoint (without the removed series) and the newer segments.
  head.reset();
  head = Open(o);
  EXPECT_EQ(head->num_series(), 2u);
  EXPECT_EQ(Query(head.get(), {Eq("__name__", "gpu_temp")})[0].samples[0].v, 41);
}

TEST_F(HeadTest, ASeriesHeldByAnUncommittedBatchIsNotRemoved) {
  HeadOptions o;
  o.block_range = std::chrono::milliseconds(1000);
  o.out_of_order_window = std::chrono::milliseconds(0);
  auto head = Open(o);
  auto app = head->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 100, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  // Pending: a sample for kUp that is not committed yet.
  auto pending = head->NewAppender();
  ASSERT_TRUE(pending->Append(0, kUp, 1200, 2).ok());
  ASSERT_TRUE(head->Truncate(1000).ok());
  EXPECT_EQ(head->num_series(), 1u);  // kept: the batch holds it
  ASSERT_TRUE(pending->Commit().ok());
  auto got = Query(head.get(), {Eq("__name__", "up")});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 1u);
  // Rolled back batches release their series too.
  auto rolled = head->NewAppender();
  ASSERT_TRUE(rolled->Append(0, kTemp, 1300, 1).ok());
  rolled->Rollback();
  ASSERT_TRUE(head->Truncate(2000).ok());
  EXPECT_EQ(head->num_series(), 0u);
}

// Truncations (which remove series) while appenders and queriers run: nothing is lost that was
// committed after the boundary, and nothing crashes (run under ThreadSanitizer in CI).
TEST_F(HeadTest, TruncationRacesAppendersAndQueriers) {
  HeadOptions o;
  o.block_range = std::chrono::milliseconds(100);
  o.out_of_order_window = std::chrono::milliseconds(0);
  auto head = Open(o);
  constexpr int kWriters = 3, kSteps = 3000;
  std::atomic<bool> done{false};
  // Each writer publishes the timestamp it last committed; the truncator stays behind the
  // slowest of them, however the threads are scheduled, so every sample a writer appends is
  // ahead of every boundary.
  std::vector<std::atomic<int64_t>> progress(kWriters);
  for (auto& p : progress) p = 0;
  std::atomic<int64_t> boundary{0};
  std::thread truncator([&] {
    while (!done) {
      int64_t slowest = progress[0];
      for (const auto& p : progress) slowest = std::min<int64_t>(slowest, p);
      const int64_t b = std::max<int64_t>(boundary, slowest - 500);
      ASSERT_TRUE(head->Truncate(b).ok());
      boundary = b;
    }
  });
  std::thread reader([&] {
    while (!done) {
      for (const Series& s : Query(head.get(), {Re("__name__", "w.*")})) {
        for (size_t i = 1; i < s.samples.size(); ++i) ASSERT_LT(s.samples[i - 1].t, s.samples[i].t);
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto app = head->NewAppender();
      SeriesRef ref = 0;
      const Labels own = Labels::Of({"__name__", "w" + std::to_string(w)});
      for (int i = 1; i <= kSteps; ++i) {
        const int64_t t = int64_t{i} * 10;
        auto r = app->Append(ref, own, t, i);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ref = *r;
        ASSERT_TRUE(app->Commit().ok());
        progress[w] = t;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  truncator.join();
  reader.join();
  // One more truncation, now that every writer is done, whatever the scheduling was.
  const int64_t b = int64_t{kSteps} * 10 - 500;
  ASSERT_TRUE(head->Truncate(b).ok());
  for (int w = 0; w < kWriters; ++w) {
    auto got = Query(head.get(), {Eq("__name__", "w" + std::to_string(w))});
    ASSERT_EQ(got.size(), 1u) << w;
    // Everything committed at or after the last boundary is still there, in order.
    size_t expect = 0;
    for (int i = 1; i <= kSteps; ++i) expect += int64_t{i} * 10 >= b;
    EXPECT_GE(got[0].samples.size(), expect) << w;
    EXPECT_EQ(got[0].samples.back().t, int64_t{kSteps} * 10) << w;
  }
}

TEST_F(HeadTest, ConcurrentAppendersAndQueriers) {
  auto head = Open();
  constexpr int kThreads = 4, kSamples = 2000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      for (const Series& s : Query(head.get(), {Re("__name__", "m.*")})) {
        for (size_t i = 1; i < s.samples.size(); ++i) {
          ASSERT_LT(s.samples[i - 1].t, s.samples[i].t);
        }
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      auto app = head->NewAppender();
      Labels own = Labels::Of({"__name__", "m_own", "w", std::to_string(w)});
      Labels shared = Labels::Of({"__name__", "m_shared"});
      for (int i = 0; i < kSamples; ++i) {
        ASSERT_TRUE(app->Append(0, own, i, i).ok());
        (void)app->Append(0, shared, static_cast<int64_t>(i) * kThreads + w, w);  // may race: out of order
        if (i % 10 == 9) {
          ASSERT_TRUE(app->Commit().ok());
        }
      }
      ASSERT_TRUE(app->Commit().ok());
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  auto own = Query(head.get(), {Eq("__name__", "m_own")});
  ASSERT_EQ(own.size(), static_cast<size_t>(kThreads));
  for (const Series& s : own) EXPECT_EQ(s.samples.size(), static_cast<size_t>(kSamples));
  // Replay reaches the same state as the live head, races included.
  auto live = Query(head.get(), {Eq("__name__", "m_shared")});
  head.reset();
  head = Open();
  auto replayed = Query(head.get(), {Eq("__name__", "m_shared")});
  ASSERT_EQ(live.size(), 1u);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(live[0].samples.size(), replayed[0].samples.size());
}

}  // namespace
}  // namespace tyto::tsdb
