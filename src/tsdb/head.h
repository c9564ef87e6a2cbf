// Head: the in-memory part of the metrics engine. It holds every active series with its recent
// samples in compressed chunks, an inverted index from label pairs to series, and logs every
// committed sample to the write-ahead log before acknowledging it.
//
// Durability: Appender::Commit returns OK only after the batch is in the WAL (handed to the
// operating system), so kill -9 loses no acknowledged sample. Power cuts lose at most what the
// fsync policy allows (Options::fsync): with kInterval a thread of the head's own syncs the WAL
// once fsync_interval has passed since the first commit it has not synced, whether or not more
// commits follow. On open, the WAL is replayed; a damaged tail is cut off (reported, counted)
// and the rest is kept.
//
// Ordering: commits are serialised, and each commit writes the WAL and then applies the batch,
// so the order samples are applied in memory equals their order in the WAL, and a replay
// rebuilds the same state.
//
// Thread-safety: every public method is thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "tsdb/index.h"
#include "tsdb/records.h"
#include "tsdb/series.h"
#include "tyto/env.h"
#include "tyto/storage.h"

namespace tyto::tsdb {

namespace wal {
class Writer;
struct Position;
}

enum class FsyncPolicy {
  kAlways,    // fdatasync before every commit returns: a power cut loses nothing acknowledged
  kInterval,  // fdatasync fsync_interval after the first unsynced commit (a thread of the head's
              // own, so an idle tail is synced too): a power cut loses at most that much
  kNever,     // leave it to the OS (about 30 s on Linux): fastest, a power cut may lose more
};

// A series and its samples in time order: what a block is written from.
using SeriesSamples = std::pair<Labels, std::vector<std::pair<int64_t, double>>>;

struct HeadOptions {
  // Samples up to this much older than a series' newest sample are accepted (and merged on
  // read); older ones are rejected with kOutOfOrderSample. 0 accepts only newer samples.
  std::chrono::milliseconds out_of_order_window{std::chrono::minutes(10)};
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{std::chrono::seconds(1)};
  // Limits; 0 means unlimited. What exceeds them is rejected with kResourceExhausted, a message
  // naming the limit as the configuration does (storage.max_series=...) and its own reason in
  // tyto_tsdb_head_samples_rejected_total.
  uint64_t max_series = 2'000'000;
  uint64_t max_series_per_metric = 0;
  uint32_t max_label_count = 64;
  uint32_t max_label_name_bytes = 256;
  uint32_t max_label_value_bytes = 4096;
  // A chunk is closed after this many samples, or when it would cross a multiple of
  // block_range (blocks are cut on those boundaries).
  int chunk_samples = 120;
  std::chrono::milliseconds block_range{std::chrono::hours(2)};
  // For tools: replay without repairing damage and without opening the WAL for writing;
  // commits fail with kFailedPrecondition.
  bool read_only = false;
  // Samples before this time are already in blocks: skipped at replay, refused on append.
  int64_t persisted_before = INT64_MIN;
};

// What `tyto tsdb analyze` reports.
struct HeadStats {
  uint64_t series = 0;
  uint64_t samples = 0;
  uint64_t chunk_bytes = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  std::vector<std::pair<std::string, uint64_t>> series_by_metric;      // largest first
  std::vector<std::pair<std::string, uint64_t>> series_by_label_pair;  // "name=value", largest first
  std::vector<std::pair<std::string, uint64_t>> values_by_label_name;  // distinct values, largest first
};

class Head final : public Storage {
 public:
  // Opens the head over the WAL in `wal_dir`: replays it (repairing a damaged tail), then
  // starts a new WAL segment. Metrics are registered on `registry` (may be null in tests).
  static Result<std::unique_ptr<Head>> Open(Env* env, const std::string& wal_dir, HeadOptions options,
                                           instrumentation::Registry* registry);
  ~Head() override;

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // Flushes and syncs the WAL, whatever the fsync policy. Called at shutdown.
  Status Sync();

  // For cutting a block: every series with samples in [mint, maxt], sorted by labels, with
  // those samples in time order. Series without samples there are left out.
  std::vector<SeriesSamples> CollectRange(int64_t mint, int64_t maxt) const;

  // After samples before `boundary` are safely in a block: drops them from memory, removes the
  // series left without samples (their data is in blocks; an append recreates them, under a
  // new ref), refuses samples older than `boundary` from now on (kOutOfOrderSample), and writes
  // a WAL checkpoint so the segments holding them can be deleted. Boundaries only move forward.
  Status Truncate(int64_t boundary);

  // Samples older than this are in blocks and no longer accepted.
  int64_t persisted_before() const { return persisted_before_.load(); }

  uint64_t num_series() const { return num_series_.load(); }
  // Walks every series; `top` entries per ranking.
  HeadStats Stats(size_t top) const;
  int64_t min_time() const { return min_time_.load(); }
  int64_t max_time() const { return max_time_.load(); }

  // What replay found at open: records read, samples applied, and the damage repaired if any.
  struct ReplayStats {
    uint64_t records = 0;
    uint64_t series = 0;
    uint64_t samples = 0;
    uint64_t unknown_series_samples = 0;
    std::string repaired;  // empty when the log was intact
  };
  const ReplayStats& replay_stats() const { return replay_; }

 private:
  friend class HeadAppender;
  friend class HeadQuerier;

  struct PendingSample {
    MemSeries* series;
    int64_t t;
    double v;
  };

  Head(Env* env, std::string wal_dir, HeadOptions options, instrumentation::Registry* registry);

  Status Replay();
  // Replays one WAL directory's segments from `from_segment` on. On damage sets *damage and
  // where it starts; other errors are returned.
  Status ReplayDir(const std::string& dir, uint64_t from_segment, Status* damage, wal::Position* damage_at)
      REQUIRES(commit_mu_);
  // Adds a new series under `ref` to every lookup structure.
  MemSeries* InsertLocked(SeriesRef ref, uint64_t hash, const Labels& labels) REQUIRES(series_mu_);
  Status WriteCheckpoint() REQUIRES(commit_mu_);
  // Finds the series or creates it (unlogged), pinned for an appender (pending_appends raised;
  // the appender lowers it). Errors: bad labels, limits, each counted under its reason.
  Result<MemSeries*> GetOrCreate(const Labels& labels);
  // The series with `ref` pinned for an appender, or null.
  MemSeries* Pin(SeriesRef ref) const;
  // The series with `ref`, or null; the pointer keeps it alive after the head removes it.
  std::shared_ptr<MemSeries> Get(SeriesRef ref) const;
  // Every series; pointers that keep them alive.
  std::vector<std::shared_ptr<MemSeries>> AllSeries() const;
  // Removes series without samples and without pending appends from every lookup structure.
  void RemoveEmptySeries() REQUIRES(commit_mu_);
  // Checks a new series' labels; a refusal is counted under its reason.
  Status CheckLabels(const Labels& labels) const;
  // Writes the batch to the WAL and applies it. Serialised by commit_mu_.
  Status CommitBatch(std::vector<PendingSample>& batch);
  // Applies a sample that is in the WAL; false when it is dropped (counted under its reason).
  bool ApplyLocked(MemSeries* s, int64_t t, double v) REQUIRES(commit_mu_);
  void ReleaseCommitBuffersIfLarge() REQUIRES(commit_mu_);
  // With FsyncPolicy::kInterval: the thread that syncs the WAL fsync_interval after the first
  // commit not yet synced, until StopSyncThread.
  void SyncLoop();
  void StopSyncThread();
  // Syncs the WAL if a commit since the last sync left it unsynced.
  Status SyncIfUnsynced();
  void NoteTime(int64_t t);

  Env* env_;
  std::string wal_dir_;
  HeadOptions options_;

  // Series by ref (dense, starting at 1) and by label hash.
  mutable Mutex series_mu_;
  // Null where a series was removed; refs are never reused.
  std::vector<std::shared_ptr<MemSeries>> by_ref_ GUARDED_BY(series_mu_);
  std::unordered_map<uint64_t, std::vector<MemSeries*>> by_hash_ GUARDED_BY(series_mu_);
  std::unordered_map<std::string, uint64_t> per_metric_ GUARDED_BY(series_mu_);
  std::atomic<uint64_t> num_series_{0};
  Index index_;

  Mutex commit_mu_;
  std::unique_ptr<wal::Writer> wal_ GUARDED_BY(commit_mu_);
  Status wal_error_ GUARDED_BY(commit_mu_);
  // Set by a commit that was not synced (kInterval); cleared by a sync.
  bool unsynced_ GUARDED_BY(commit_mu_) = false;
  // CommitBatch's buffers, kept between commits so that a steady stream of them allocates
  // nothing.
  std::vector<records::SeriesRecord> commit_series_ GUARDED_BY(commit_mu_);
  std::vector<records::SampleRecord> commit_samples_ GUARDED_BY(commit_mu_);
  std::vector<MemSeries*> commit_marked_ GUARDED_BY(commit_mu_);
  std::vector<std::string> commit_records_ GUARDED_BY(commit_mu_);

  // The sync thread (kInterval). Lock order: commit_mu_, then sync_mu_.
  Mutex sync_mu_;
  std::condition_variable_any sync_cv_;
  bool sync_stop_ GUARDED_BY(sync_mu_) = false;
  // When the WAL must next be synced; max() while nothing is unsynced.
  std::chrono::steady_clock::time_point sync_due_ GUARDED_BY(sync_mu_) = std::chrono::steady_clock::time_point::max();
  std::thread sync_thread_;

  std::atomic<int64_t> persisted_before_{INT64_MIN};
  std::atomic<int64_t> min_time_{INT64_MAX};
  std::atomic<int64_t> max_time_{INT64_MIN};
  ReplayStats replay_;

  // Metrics (never null: a private registry is used when none is given).
  std::unique_ptr<instrumentation::Registry> own_registry_;
  instrumentation::Counter* samples_appended_;
  instrumentation::Counter* series_created_;
  instrumentation::Counter* series_removed_;
  instrumentation::Counter* rejected_out_of_order_;
  instrumentation::Counter* rejected_duplicate_;
  instrumentation::Counter* ignored_equal_;
  // tyto_tsdb_head_samples_rejected_total by the limit (or the label check) that refused a series.
  struct LimitCounters {
    instrumentation::Counter* max_series;
    instrumentation::Counter* max_series_per_metric;
    instrumentation::Counter* max_label_count;
    instrumentation::Counter* max_label_name_bytes;
    instrumentation::Counter* max_label_value_bytes;
    instrumentation::Counter* invalid_labels;
  };
  LimitCounters rejected_limit_;
  instrumentation::Counter* commits_failed_;
};

}  // namespace tyto::tsdb
