// EventStore: the embedded store of issue 7's telemetry: spans, log records, inference events,
// data-pipeline stage events and model deployment events (src/events/model.h), kept on local
// disk, queried by the events HTTP API (Jaeger-style trace search, log search and live tail).
//
// Design (byte layout: docs/format/eventstore.md):
//   - One SQLite file per time partition (`<dir>/20260122T130000Z.db`, one hour by default), in
//     WAL mode. A row goes to the partition of its own timestamp (a span's start, a log's time, an
//     inference event's timestamp, a pipeline stage's start, a deployment's timestamp), so
//     retention and the size cap delete whole files, oldest first, and a query reads only the
//     partitions its time range overlaps.
//   - Appends from many threads are combined (group commit): callers queue their batches; the
//     first in the queue writes every queued batch in one transaction per partition touched and
//     wakes the others. SQLite has one writer per file; this keeps it busy without a thread of
//     its own. Queries use their own connections (WAL readers never wait for the writer).
//   - Rows are clustered by arrival (rowid); B-tree indexes only on keys that grow with time
//     (start time; service, model and time), whose inserts append at a few places. Random keys
//     (trace ids, attribute key=value pairs, log words) go to SQLite FTS5 indexes, whose inserts
//     are buffered per transaction and written as sorted segments (an LSM), not as one random
//     B-tree page write per row: measured 3x faster for trace ids (see the format doc). Each
//     partition keeps a Bloom filter of its trace ids in memory, so a trace lookup asks only the
//     partitions that may hold the trace.
//
// Durability (EventStoreOptions::sync): an append that returned OK is in the partition's WAL.
//   kNormal (SQLite's synchronous=NORMAL): it survives the process being killed (kill -9, a
//     crash); a power cut or kernel crash can lose the transactions committed since the last
//     WAL checkpoint (at most wal_autocheckpoint pages, a few seconds at full load), never
//     leaving a damaged file.
//   kFull (synchronous=FULL): every commit is fsynced before Append returns; nothing
//     acknowledged is lost to a power cut. Costs one fdatasync per group commit.
//
// Thread safety: every method may be called from any thread, concurrently. Close() waits for a
// commit in progress; queries running while it closes finish on the partitions they hold.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/telemetry_store.h"
#include "events/model.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::instrumentation {
class Registry;
}
namespace tyto::crypto {
class FieldEncryption;
}

namespace tyto::eventstore {

enum class SyncMode {
  kNormal,  // committed data survives a crash of the process; see the file comment
  kFull,    // committed data survives a power cut
};

struct EventStoreOptions {
  // Length of a partition (one file). Between 1 minute and 31 days, a whole number of seconds.
  // New partitions start at multiples of it since the Unix epoch (clipped so as not to overlap
  // partitions a run with another length made). Changing it keeps existing files as they are.
  std::chrono::milliseconds partition{std::chrono::hours(1)};
  // Partitions wholly older than this (their end before now - retention) are deleted. Rows older
  // than now - retention are refused (counted as too_old). At least `partition`.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  // Bound on the bytes of all partition files (database, WAL and shared-memory files); when it
  // is passed, the oldest partitions are deleted until the rest fit. A partition whose end is
  // still in the future (the current one) is never deleted, so the store can exceed the cap by
  // the current partition. 0: no cap.
  uint64_t max_bytes = 10ull << 30;
  // Rows stamped more than this after now are refused (counted as too_new): a wrong clock on a
  // sender must not create partitions that retention would keep for years.
  std::chrono::milliseconds max_future{std::chrono::hours(1)};
  SyncMode sync = SyncMode::kNormal;
  // At most this many rows wait in the group-commit queue; an Append that would pass it fails
  // at once with kUnavailable (the HTTP layer answers 503; clients retry) rather than blocking.
  size_t max_queued_rows = 500'000;
  // At most this many rows (from as many queued batches as fit, and at least one batch) go into
  // one group commit.
  size_t max_group_rows = 50'000;
  // Read connections kept open between queries, over all partitions (each holds two file
  // descriptors and a page cache of at most 2 MiB, filled as it reads). With the write
  // connections (at most 4 open, 32 MiB of cache each), this bounds the store's SQLite memory:
  // 256 * 2 + 4 * 32 MiB = 640 MiB at worst; a few MiB per partition read recently in practice.
  size_t max_idle_readers = 256;
  // FindTraces with attribute filters reads the spans their index terms match, by rowid, when a
  // partition has few of them (at most this many, and few against the partition's rows and the
  // query's limit); with more, it scans spans newest first and checks each span's attributes
  // (matches are then common, so the newest are found sooner that way).
  size_t max_rows_by_terms = 20'000;
  // A partition's write connection is closed (and its WAL checkpointed into the database file
  // and removed) when nothing was written to it for this long, by Maintain().
  std::chrono::milliseconds writer_idle{std::chrono::minutes(5)};
  // With a key file (security.encryption_key_file): prompts, responses and sensitive attribute
  // values are stored encrypted and decrypted on read (src/eventstore/encryption.h). Null: as given.
  std::shared_ptr<const crypto::FieldEncryption> encryption;
};

// kInvalidArgument naming the option when one is out of range (EventStore::Open checks it).
Status ValidateOptions(const EventStoreOptions& options);

struct StoreStats {
  uint64_t partitions = 0;
  uint64_t unreadable_partitions = 0;  // kept on disk, skipped by queries and appends
  uint64_t bytes = 0;                  // as of the last Maintain (or Open)
  int64_t oldest_ms = 0;               // start of the oldest partition; 0 when none
  int64_t newest_ms = 0;               // end of the newest partition; 0 when none
  uint64_t last_log_cursor = 0;
};

class EventStore final : public TelemetryStore {
 public:
  // Opens (creating it if missing) the store in `dir`, holding `dir`/lock (Env::LockFile), and
  // opens each partition file found there; a file that cannot be read as a partition is logged,
  // counted (tyto_eventstore_partition_errors_total{op="open"}) and left in place, and its time
  // range refuses rows (unreadable_partition) until retention deletes it. `clock` gives the
  // time for retention, max_future and idle writers (null: the real clock). Metrics are registered on
  // `registry` (one store per registry); null: a private registry. Errors: kInvalidArgument
  // for bad options, kFailedPrecondition when another process holds the lock, I/O errors.
  static Result<std::unique_ptr<EventStore>> Open(Env* env, Clock* clock, std::string dir, EventStoreOptions options,
                                                  instrumentation::Registry* registry = nullptr);

  // Close(), errors only logged.
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Stops the background maintenance, waits for a commit in progress, checkpoints and closes
  // every partition. Appends and queries fail with kFailedPrecondition afterwards. Idempotent.
  Status Close();

  // Appends a batch, waiting until it is committed (durable as options.sync says). Every row
  // of the batch that goes to one partition is written in one transaction, together with rows
  // of other callers' batches queued at the same time (group commit); a batch whose rows fall
  // in two partitions is two transactions. Rows are refused, counted in
  // tyto_eventstore_rows_rejected_total{table,reason} and reported in AppendResult, when:
  //   too_old               older than now - retention, or in a range already deleted
  //   too_new               more than max_future after now
  //   invalid_id            a span's trace id is not 32 hex digits or its span id not 16 (or
  //                         all zero), or its parent id is neither empty nor 16 hex digits
  //   unreadable_partition  its partition file exists but cannot be read
  // A log, inference event or span event whose trace or span id is malformed keeps the rest
  // with the id left empty. Errors (nothing of the batch stored, unless the batch spans
  // partitions and only one of them failed): kUnavailable when max_queued_rows rows are already
  // waiting, the disk's error (kIOError, kNoSpace, kCorruption), kFailedPrecondition after Close.
  // Spans sent twice (an exporter's retry) are stored twice; queries return each span id of a
  // trace once. AppendOptions are ignored: one process writes here, and a batch appended twice
  // is stored twice.
  Result<AppendResult> AppendSpans(std::span<const events::Span> spans,
                              const AppendOptions& options = {}) override;
  Result<AppendResult> AppendLogs(std::span<const events::LogRecord> logs,
                              const AppendOptions& options = {}) override;
  // Prompt and response are stored as given: the caller redacts them first (src/redact/).
  Result<AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> events,
                              const AppendOptions& options = {}) override;
  Result<AppendResult> AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events,
                              const AppendOptions& options = {}) override;
  Result<AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> events,
                              const AppendOptions& options = {}) override;

  // Traces with a span meeting every condition of `query`, chosen by that span's start, newest
  // first, and returned sorted by the trace's start, newest first. Partitions that cannot be
  // read are skipped (logged, counted). kInvalidArgument for a bad query.
  Result<std::vector<TraceSummary>> FindTraces(const TraceQuery& query) const override;
  // Every stored span of the trace (32 hex digits, either case), each span id once, sorted by
  // start time (then span id). BuildTraceTree (trace_tree.h) makes the tree. kNotFound when no
  // span is stored; kInvalidArgument for a malformed id.
  Result<std::vector<events::Span>> GetTrace(std::string_view trace_id, const TraceLookup& lookup = {}) const override;
  // GetTrace for several traces at once (one index lookup per partition for all of them);
  // traces with no stored span are absent from the result, which is in the order of `trace_ids`.
  Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> trace_ids,
                                                           const TraceLookup& lookup = {}) const override;
  // Services of the org's spans in partitions overlapping [start, end] (Unix nanoseconds), sorted.
  Result<std::vector<std::string>> Services(std::string_view org, int64_t start_unix_nano = 0,
                                            int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const override;
  // The span names (with kinds) of the org's service in partitions overlapping [start, end], sorted.
  Result<std::vector<Operation>> Operations(std::string_view org, std::string_view service,
                                            int64_t start_unix_nano = 0,
                                            int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const override;

  // Log records meeting every condition of `query`, newest first (by their time).
  Result<std::vector<LogEntry>> SearchLogs(const LogQuery& query) const override;

  // Live tail. LastLogCursor() is the cursor of the newest committed record (0 when none): a
  // tail that starts now passes it to LogsAfter. LogsAfter returns up to `limit` records
  // committed after `cursor` that meet `filter` (its limit is ignored), in commit order, and
  // the cursor to continue from. A streaming handler loops: LogsAfter, send, and when nothing
  // came, WaitForLogs (or a LogListener's wake-up). Records committed into a partition that
  // retention then deleted are skipped.
  uint64_t LastLogCursor() const override;
  Result<LogPage> LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit) const override;
  // Blocks until a record newer than `cursor` is committed, `timeout` passes (real time) or the
  // store closes. Returns whether one is.
  bool WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const override;
  // Calls `listener` after each commit that stored log records, until the returned object is
  // destroyed (which waits for a call in progress to return). The store must outlive it.
  std::unique_ptr<LogSubscription> SubscribeLogs(LogListener listener) override;

  Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(const InferenceEventQuery& query) const override;
  Result<std::vector<events::DeploymentEvent>> Deployments(const DeploymentQuery& query) const override;
  Result<std::vector<events::PipelineStageEvent>> PipelineRuns(const PipelineRunQuery& query) const override;

  // Erasure: the rows go from every partition (see Partition::Erase: rows deleted with
  // secure_delete, full-text indexes rebuilt, the file VACUUMed and its WAL truncated). Appends
  // wait while it runs.
  Result<EraseResult> Erase(const EraseRequest& request) override;
  // Applied by Maintain: a tenant's rows older than its retention are erased as above.
  void SetOrgRetention(OrgRetention retention) override;
  // Kept per partition as rows are written (the org_bytes table), so this costs one lookup per
  // partition.
  Result<uint64_t> StoredBytes(std::string_view org) const override;

  // Deletes partitions wholly older than the retention, then the oldest partitions while the
  // files total more than max_bytes (never one whose end is after now), closes write
  // connections idle for writer_idle, and updates tyto_eventstore_bytes and _partitions.
  // Rows for a deleted range are refused from then on (too_old). Errors: the first failure to
  // delete a file (the others are still tried; the files are tried again by the next call).
  Status Maintain();
  // Runs Maintain every `every` (real time) on a thread of its own until Close.
  void StartBackground(std::chrono::milliseconds every);

  Status Health() const override;

  StoreStats Stats() const;
  const std::string& dir() const;

 class Impl;  // opaque (store_impl.h)

 private:
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};


}  // namespace tyto::eventstore
