// DB: the metrics engine as the rest of Tyto sees it. The head keeps recent samples in memory
// (and in the WAL); every completed block range (2 h) is written to an immutable block on disk
// and dropped from the head; compaction merges adjacent blocks into longer ones (2 h -> 6 h ->
// 24 h); queries merge the blocks they overlap with the head. Retention removes raw blocks that
// are too old, after rolling them up into 5-minute and 1-hour aggregates (rollup.h), which
// have retentions of their own and answer queries where raw samples are gone.
//
// Layout of the directory:  <dir>/wal/ (see head.h)   <dir>/blocks/<id>/ (docs/format/block.md,
// rollup blocks: docs/format/rollups.md)
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "tsdb/head.h"
#include "tyto/env.h"
#include "tyto/storage.h"

namespace tyto::tsdb {

namespace block {
class Reader;
struct Meta;
}

struct DBOptions {
  HeadOptions head;
  // Blocks older than this, counted back from the newest sample (as Prometheus counts), are
  // removed. 0 keeps everything.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 15)};
  // Rollups of raw blocks removed by `retention` are kept this long (same counting); 0 keeps
  // them forever.
  std::chrono::milliseconds retention_5m{std::chrono::hours(24 * 90)};
  std::chrono::milliseconds retention_1h{std::chrono::hours(24 * 365 * 2)};
  // When blocks (raw and rollups) take more than this many bytes, those holding the oldest time
  // ranges are removed (raw before its rollups, with no rollup made). The WAL is not counted.
  // 0: no size limit.
  uint64_t retention_bytes = 0;
};

class DB final : public Storage {
 public:
  static Result<std::unique_ptr<DB>> Open(Env* env, const std::string& dir, DBOptions options,
                                         instrumentation::Registry* registry);
  ~DB() override;

  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // Writes every completed block range that the head has held long enough (the head spans
  // more than 1.5 ranges) to a block, then truncates the head. Returns the blocks written.
  Result<int> CutBlocks();
  // Writes everything in the head up to its newest sample's block range to blocks, whether
  // or not the range is complete (for shutdown and benchmarks that measure disk use).
  Result<int> Flush();
  // Merges blocks of each tier (raw, 5 m, 1 h) that lie in one aligned compaction range no
  // new data can reach (compact.h), until no such group is left. Crash-safe: the new block is
  // durable before it replaces its sources in queries, and sources a crash left behind are
  // removed at Open. Returns the blocks written. `progress`, if set, is called after each merge
  // with the merges done so far.
  Result<int> Compact(const std::function<void(int merged)>& progress = {});
  // Rolls up raw blocks past the time retention (if their rollups would be kept), then removes
  // blocks past their tier's time retention or the size retention. Returns the blocks removed.
  Result<int> ApplyRetention();

  // Backfill: writes `series` (sorted samples per series; any time) as blocks, one per block
  // range they touch. Refuses, before writing anything, data that overlaps an existing block
  // or the head's samples, so nothing already stored is shadowed. Returns the blocks written.
  // `progress`, if set, is called after each block range with the ranges done and their total.
  Result<int> Import(std::vector<SeriesSamples> series, const std::function<void(size_t done, size_t total)>& progress = {});

  // Runs CutBlocks, Compact and ApplyRetention every `every` on a thread of its own, until Close.
  void StartBackground(std::chrono::milliseconds every);
  // Stops the background thread and syncs the WAL.
  Status Close();

  Head* head() const { return head_.get(); }
  size_t num_blocks() const;
  // Metadata and sizes of the blocks, oldest first (for tools).
  std::vector<block::Meta> BlockMetas() const;
  std::vector<uint64_t> BlockSizes() const;
  uint64_t blocks_bytes() const;

 private:
  DB(Env* env, std::string dir, DBOptions options);
  // Opens the block in `block_dir` with its damage reported to ReportDamage.
  Result<std::shared_ptr<block::Reader>> OpenBlock(const std::string& block_dir);
  // Logs and counts a damaged block, once per block: one that could not be opened (its data is
  // not served) or whose reads fail a check (queries reading the damaged part fail).
  void ReportDamage(const std::string& block_dir, const Status& error);
  Result<int> PersistRange(int64_t mint, int64_t maxt);
  // Persists the head's oldest block range while the head spans more than `keep_span` ms.
  Result<int> PersistOldestRanges(int64_t keep_span);
  // Encodes and writes one block of [mint, maxt] from series sorted by labels; 0 if empty.
  Result<int> WriteBlock(int64_t mint, int64_t maxt, const std::vector<SeriesSamples>& series);
  // Opens the block written as `written` and, in one step for queries, puts it in place of
  // the blocks named in its sources; then removes those from disk.
  Status SwapIn(const block::Meta& written) REQUIRES(cut_mu_);
  // Blocks of one resolution, by min_time.
  std::vector<std::shared_ptr<block::Reader>> BlocksOf(int64_t resolution_ms) const;
  // Merges one planned group of a tier; false when none is left.
  Result<bool> CompactOnce(int64_t resolution_ms) REQUIRES(cut_mu_);
  // Writes the rollup of `raw` at `resolution_ms` unless a rollup block already covers it.
  Status EnsureRollup(const block::Reader& raw, int64_t resolution_ms) REQUIRES(cut_mu_);
  // The time before which no new data can reach the tier (compact.h's horizon).
  int64_t Horizon(int64_t resolution_ms) const;

  Env* env_;
  std::string dir_;
  std::string blocks_dir_;
  DBOptions options_;
  std::unique_ptr<Head> head_;

  mutable Mutex blocks_mu_;
  std::vector<std::shared_ptr<block::Reader>> blocks_ GUARDED_BY(blocks_mu_);  // by min_time
  Mutex cut_mu_;  // one cut, compaction, import or retention pass at a time

  Mutex bg_mu_;
  std::condition_variable_any bg_cv_;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  std::thread bg_;

  Mutex damage_mu_;
  std::set<std::string> damaged_ GUARDED_BY(damage_mu_);  // block directories reported

  instrumentation::Counter* blocks_written_ = nullptr;
  instrumentation::Counter* blocks_corrupted_ = nullptr;
  instrumentation::Counter* blocks_removed_ = nullptr;
  instrumentation::Counter* maintenance_failures_ = nullptr;
  instrumentation::Counter* compactions_ = nullptr;
  instrumentation::Counter* compaction_failures_ = nullptr;
  instrumentation::Counter* rollups_written_ = nullptr;
  instrumentation::Counter* rollup_series_skipped_ = nullptr;
  std::unique_ptr<instrumentation::Registry> own_registry_;
};

}  // namespace tyto::tsdb
