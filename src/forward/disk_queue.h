// DiskQueue: the agent's on-disk FIFO of committed batches of samples, between the producers
// (scrapes and collectors, through QueueStorage) and the Sender that forwards them.
//
// Design: records (length, sample count, CRC-32, payload) are appended to numbered segment files
// in one directory; a persisted cursor names the first record not yet acknowledged, so a restart
// resumes exactly after the last acknowledged record. The total size is bounded: to make room,
// whole oldest segments are dropped, sent or not, and their unsent samples counted. A torn or
// corrupt tail left by a crash fails its checksum and is cut off at Open. Byte layout:
// docs/format/agent-queue.md.
//
// Why not the metrics engine's WAL (src/tsdb/wal): the queue reads from a cursor in the middle of
// a segment while the writer is still appending to it, and needs each record's sample count for
// the accounting of drops; the WAL's reader starts at a segment's beginning and treats a record
// being written as a torn tail.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "forward/metrics.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::forward {

enum class FsyncMode {
  kAlways,    // fdatasync before Append returns: a record survives a power cut once appended
  kInterval,  // fdatasync at most every fsync_interval (from Append, Sync and Close): a record
              // survives kill -9 once appended, a power cut once synced
};

// "always" or "interval".
Result<FsyncMode> ParseFsyncMode(std::string_view text);

struct DiskQueueOptions {
  // Bound on the bytes of all segment files together (headers included). Appending a record
  // that would pass it first drops the oldest segments. At least 2 * segment_bytes.
  uint64_t max_bytes = 256ull << 20;
  // A new segment is started before a record that would take the current one past this size;
  // it is also the unit in which data is dropped when the queue is full. A record larger than
  // this gets a segment of its own. At least 4 KiB.
  uint64_t segment_bytes = 8ull << 20;
  FsyncMode fsync = FsyncMode::kInterval;
  std::chrono::milliseconds fsync_interval{1000};
};

// A place in the queue: a segment and a byte offset in its file.
struct QueuePosition {
  uint64_t segment = 0;
  uint64_t offset = 0;

  friend bool operator==(const QueuePosition&, const QueuePosition&) = default;
  friend auto operator<=>(const QueuePosition&, const QueuePosition&) = default;
};

// One record as Read returns it.
struct QueueRecord {
  std::string payload;
  uint32_t samples = 0;
  QueuePosition end;  // Ack(end) acknowledges this record and every one before it
};

struct DiskQueueStats {
  uint64_t bytes = 0;  // of the segment files
  uint64_t segments = 0;
  uint64_t unread_records = 0;  // appended and not yet returned by Read
  uint64_t unread_samples = 0;
  uint64_t dropped_records = 0;  // unread records dropped because the queue was full
  uint64_t dropped_samples = 0;
  uint64_t corrupt_samples = 0;  // unread samples in segments cut short by damage found by Read
  QueuePosition acked;           // the first record not acknowledged (what the cursor file holds)
  QueuePosition read;            // the next record Read returns
};

// Thread safety: Append, Sync, Stats and WaitForRecords may be called from any thread at any
// time. Read and Ack are meant for one consumer (the Sender); concurrent calls are serialised.
// Producers are never blocked by a Read's file I/O, only by each other's appends.
//
// Memory: a few dozen bytes per segment and one record being read; nothing grows with the data.
//
// What is lost, and when: a record is in the queue once Append returns OK (durability as the
// FsyncMode says). It leaves the queue only by an Ack that covers it, or unread by a drop when
// the queue is full (counted in dropped_samples) or by damage (corrupt_samples). Records read
// and not acknowledged are read again after a restart.
class DiskQueue {
 public:
  // Largest payload Append accepts.
  static constexpr uint64_t kMaxPayloadBytes = 64ull << 20;
  // From docs/format/agent-queue.md: a segment file's header, and a record's before its payload.
  static constexpr uint64_t kSegmentHeaderSize = 16;
  static constexpr uint64_t kRecordHeaderSize = 12;

  // Opens (creating it if missing) the queue in `dir`, holding `dir`/lock (Env::LockFile) so
  // that two agents cannot share one queue. Reads every segment from the cursor's on to check
  // its records and count their samples (sequential reads of up to max_bytes); a torn or
  // corrupt record is logged and its segment truncated there (later segments are kept).
  // Segments wholly before the cursor are deleted. Appends go to a new segment, never to one a
  // previous run wrote. `metrics` may be null (then only Stats() counts); `clock` is used for
  // the fsync interval and may be null (the real clock). Errors: kInvalidArgument for bad
  // options, kFailedPrecondition when another process holds the lock, I/O errors.
  static Result<std::unique_ptr<DiskQueue>> Open(Env* env, Clock* clock, const std::string& dir,
                                                 DiskQueueOptions options, Metrics* metrics = nullptr);

  // Close(), errors only logged.
  ~DiskQueue();
  DiskQueue(const DiskQueue&) = delete;
  DiskQueue& operator=(const DiskQueue&) = delete;

  // Appends one record holding `samples` samples (any bytes; QueueStorage writes a
  // snappy-compressed remote-write WriteRequest). Drops the oldest segments first if the queue
  // would pass max_bytes (logged at warn, counted). Errors, with nothing appended:
  // kResourceExhausted for a payload over kMaxPayloadBytes or one that cannot fit in max_bytes;
  // the Env's error for a failed write or sync (the segment is then cut back to its last record
  // and the next Append starts a new one, so a full disk that frees up is recovered from);
  // kFailedPrecondition after Close.
  Status Append(std::string_view payload, uint32_t samples) EXCLUDES(mu_);

  // Makes every appended record durable (fdatasync of the current segment, fsync of the
  // directory when a segment was created since). Append calls it itself in kAlways mode, and
  // when fsync_interval has passed in kInterval mode; the agent may call it on a timer.
  Status Sync() EXCLUDES(mu_);

  // Sets *record to the oldest record not yet read and returns true, or returns false when
  // every record has been read. Damage (a checksum mismatch on a record verified at Open: the
  // disk changed under us) is logged, the rest of that segment skipped and its samples counted
  // in corrupt_samples, and reading goes on. Errors: the Env's read errors (the same record is
  // tried again by the next call).
  Result<bool> Read(QueueRecord* record) EXCLUDES(read_mu_, mu_);

  // Acknowledges every record up to `end` (a QueueRecord::end from Read): writes the cursor file
  // atomically (temporary file, fsync, rename, fsync of the directory), then deletes the segments
  // wholly before it. An `end` at or before the current cursor is ignored. kInvalidArgument for
  // an `end` beyond what Read returned. On a write error the acknowledgement holds in memory
  // (those records are not read again in this run) and the next Ack writes the file again;
  // after a restart before that, they are read (and sent) again.
  Status Ack(QueuePosition end) EXCLUDES(ack_mu_, mu_);

  // Blocks until a record is unread, `timeout` passes, or WakeReaders() is called while
  // `*cancel` is true. Returns whether a record is unread.
  bool WaitForRecords(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) EXCLUDES(mu_);
  // Wakes every WaitForRecords call (to notice its `cancel` flag).
  void WakeReaders() EXCLUDES(mu_);

  // Syncs and closes the current segment; Append fails afterwards. Idempotent.
  Status Close() EXCLUDES(mu_);

  DiskQueueStats Stats() const EXCLUDES(mu_);
  // Unread samples dropped because the queue was full (Stats().dropped_samples).
  uint64_t dropped_samples() const EXCLUDES(mu_) { return Stats().dropped_samples; }
  const std::string& dir() const { return dir_; }

 private:
  struct Segment {
    uint64_t number = 0;
    uint64_t bytes = 0;  // of valid data: header and whole records (the file may be longer only
                         // while a failed append's bytes are being cut off)
    uint64_t records = 0;
    uint64_t samples = 0;
  };

  DiskQueue(Env* env, Clock* clock, std::string dir, DiskQueueOptions options, Metrics* metrics);

  Status Recover() EXCLUDES(mu_);
  // Checks segment `number`'s records, truncating a damaged tail; fills *seg. Records that start
  // before `cursor_offset` (in the cursor's segment) are counted in *acked_records/samples, and
  // *resume is set to the end of the last of them.
  Status ScanSegment(uint64_t number, uint64_t cursor_offset, Segment* seg, uint64_t* acked_records,
                     uint64_t* acked_samples, uint64_t* resume);

  Status StartSegment() REQUIRES(mu_);
  Status FinishSegment() REQUIRES(mu_);
  Status SyncLocked() REQUIRES(mu_);
  // After a failed write or sync: cuts the segment file back to its valid bytes and closes it,
  // so that the next Append starts a new segment.
  void AbandonSegment() REQUIRES(mu_);
  void DropOldest() REQUIRES(mu_);
  // Moves read_ past ended segments. Returns false when nothing is unread.
  bool NormalizeRead() REQUIRES(mu_);
  // Skips the rest of read_'s segment after damage, counting its unread samples.
  void SkipDamagedSegment(const std::string& why) REQUIRES(mu_);
  // The first segment numbered `number` or above.
  std::deque<Segment>::iterator LowerBound(uint64_t number) REQUIRES(mu_);
  Segment* Find(uint64_t number) REQUIRES(mu_);
  void Publish() REQUIRES(mu_);  // gauges
  std::string SegmentPath(uint64_t number) const;
  std::string CursorPath() const { return dir_ + "/cursor"; }

  Env* const env_;
  Clock* const clock_;
  const std::string dir_;
  const DiskQueueOptions options_;
  std::unique_ptr<instrumentation::Registry> own_registry_;  // when no Metrics were given
  std::unique_ptr<Metrics> own_metrics_;
  Metrics* const metrics_;
  std::unique_ptr<FileLock> lock_;

  // Lock order: read_mu_ or ack_mu_, then mu_.
  // Serialises Read calls; guards the reader's open file.
  Mutex read_mu_;
  std::unique_ptr<RandomAccessFile> read_file_ GUARDED_BY(read_mu_);
  uint64_t read_file_segment_ GUARDED_BY(read_mu_) = 0;

  // Serialises Ack calls (the cursor file is written outside mu_).
  Mutex ack_mu_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;                      // records appended, or WakeReaders
  std::deque<Segment> segments_ GUARDED_BY(mu_);        // ascending; back() is the one appended to
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);  // back()'s, or null: next Append starts one
  uint64_t next_segment_ GUARDED_BY(mu_) = 0;
  uint64_t total_bytes_ GUARDED_BY(mu_) = 0;
  bool closed_ GUARDED_BY(mu_) = false;
  bool needs_sync_ GUARDED_BY(mu_) = false;         // appended since the last fdatasync
  bool dir_needs_sync_ GUARDED_BY(mu_) = false;     // a segment was created since the last Sync
  bool parent_needs_sync_ GUARDED_BY(mu_) = false;  // Open created the directory
  std::chrono::steady_clock::time_point last_sync_ GUARDED_BY(mu_);
  QueuePosition acked_ GUARDED_BY(mu_);
  QueuePosition read_ GUARDED_BY(mu_);
  uint64_t read_records_in_segment_ GUARDED_BY(mu_) = 0;  // of read_.segment, before read_.offset
  uint64_t read_samples_in_segment_ GUARDED_BY(mu_) = 0;
  uint64_t unread_records_ GUARDED_BY(mu_) = 0;
  uint64_t unread_samples_ GUARDED_BY(mu_) = 0;
  uint64_t dropped_records_ GUARDED_BY(mu_) = 0;
  uint64_t dropped_samples_ GUARDED_BY(mu_) = 0;
  uint64_t corrupt_samples_ GUARDED_BY(mu_) = 0;
};

}  // namespace tyto::forward
