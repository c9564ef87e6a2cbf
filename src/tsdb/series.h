// MemSeries: one series in the head: its labels, its samples in compressed chunks (the last one
// open for appends), and a small sorted buffer of out-of-order samples merged on read.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/mutex.h"
#include "tsdb/chunk/chunk.h"
#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::tsdb {

// The start of the block range holding t (floor division, right for negative t as well).
inline int64_t BlockStart(int64_t t, int64_t range) {
  int64_t q = t / range;
  return (t % range < 0 ? q - 1 : q) * range;
}

// An immutable chunk shared by the series and the queries reading it.
struct ClosedChunk {
  std::shared_ptr<const chunk::Chunk> chunk;
  int64_t mint;
  int64_t maxt;
};

// What a query sees of a series: taken under the series lock, read without it.
struct SeriesSnapshot {
  std::vector<ClosedChunk> chunks;      // in time order, including a copy of the open chunk
  std::vector<Sample> out_of_order;     // sorted by time, no duplicates
};

enum class Verdict {
  kAppend,           // newer than every stored sample
  kInsertOutOfOrder, // older, within the window, no sample at that time
  kIgnore,           // same time and same value bits as a stored sample
  kTooOld,           // older than the window allows
  kDuplicate,        // same time as a stored sample, different value
};

class MemSeries {
 public:
  // Chunks hold at most `chunk_samples` samples and never span a multiple of `block_range_ms`,
  // so each belongs to exactly one future block.
  MemSeries(SeriesRef ref, Labels labels, int chunk_samples, int64_t block_range_ms)
      : ref_(ref), labels_(std::move(labels)), chunk_samples_(chunk_samples), block_range_ms_(block_range_ms) {}

  SeriesRef ref() const { return ref_; }
  const Labels& labels() const { return labels_; }
  Mutex& mu() const RETURN_CAPABILITY(mu_) { return mu_; }

  // Where a sample at t with value v would go.
  Verdict Check(int64_t t, double v, int64_t ooo_window_ms) const REQUIRES(mu_);
  // Precondition: Check returned kAppend or kInsertOutOfOrder.
  void Add(int64_t t, double v, Verdict verdict) REQUIRES(mu_);

  SeriesSnapshot Snapshot(int64_t mint, int64_t maxt) const REQUIRES(mu_);
  int64_t min_time() const REQUIRES(mu_) { return min_t_; }
  int64_t max_time() const REQUIRES(mu_) { return max_t_; }
  // max_time() (INT64_MIN when empty), read without the lock. It only grows, so a value read
  // late is never newer than the truth: t above it is above max_time() as of some moment
  // before, which is what an appender needs to know without taking the lock.
  int64_t max_time_unlocked() const { return max_t_published_.load(std::memory_order_relaxed); }
  bool empty() const REQUIRES(mu_) { return max_t_ == INT64_MIN; }
  // Whether any sample is in memory (after DropBefore a series may hold none, yet remember its
  // newest time).
  bool holds_samples() const REQUIRES(mu_) {
    return !closed_.empty() || (open_ && open_->num_samples() > 0) || !out_of_order_.empty();
  }
  // Samples held, and bytes of their encoded chunks (plus 16 per out-of-order sample).
  uint64_t num_samples() const REQUIRES(mu_);
  uint64_t chunk_bytes() const REQUIRES(mu_);

  // Every sample in [mint, maxt], in time order (chunks and out-of-order samples merged).
  std::vector<std::pair<int64_t, double>> SamplesIn(int64_t mint, int64_t maxt) const REQUIRES(mu_);
  // Forgets samples before `boundary` (they are persisted in a block); chunks that straddle it
  // are re-encoded with the samples at or after it.
  void DropBefore(int64_t boundary) REQUIRES(mu_);

  // Whether the series has been written to the WAL; guarded by the head's commit mutex.
  bool logged = false;
  // Samples appenders hold for the series but have not committed or rolled back; while it is
  // above 0 the head does not remove the series (it is taken and checked under the head's
  // series mutex).
  std::atomic<int> pending_appends{0};

 private:
  std::optional<uint64_t> ValueBitsAt(int64_t t) const REQUIRES(mu_);
  void CloseOpenChunk() REQUIRES(mu_);

  const SeriesRef ref_;
  const Labels labels_;
  const int chunk_samples_;
  const int64_t block_range_ms_;
  mutable Mutex mu_;
  std::vector<ClosedChunk> closed_ GUARDED_BY(mu_);
  std::unique_ptr<chunk::Chunk> open_ GUARDED_BY(mu_);
  std::unique_ptr<chunk::Appender> appender_ GUARDED_BY(mu_);
  int64_t open_mint_ GUARDED_BY(mu_) = INT64_MAX;
  int64_t min_t_ GUARDED_BY(mu_) = INT64_MAX;
  int64_t max_t_ GUARDED_BY(mu_) = INT64_MIN;
  std::atomic<int64_t> max_t_published_{INT64_MIN};  // max_t_, stored whenever it changes
  uint64_t last_bits_ GUARDED_BY(mu_) = 0;
  std::vector<Sample> out_of_order_ GUARDED_BY(mu_);
};

}  // namespace tyto::tsdb
