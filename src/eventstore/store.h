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

#include "events/model.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::instrumentation {
class Registry;
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
};

// kInvalidArgument naming the option when one is out of range (EventStore::Open checks it).
Status ValidateOptions(const EventStoreOptions& options);

// What one Append call did. Rows are refused one by one (the others are stored); a non-OK
// Status from Append means nothing of the batch was stored (or, for an I/O error in a batch
// that spans partitions, possibly part of it: see Append*).
struct AppendResult {
  uint64_t stored = 0;
  uint64_t rejected = 0;
  // Why the first refused row was refused, naming it ("span 3 (trace 5b8a...): start
  // 2023-11-14T22:13:20.000Z is older than the retention (7d)"); empty when none was.
  std::string first_rejection;
};

// An attribute that must be present with exactly this value, on the record itself or on its
// resource (service.name, host.name, k8s.pod.name, ...).
struct AttributeFilter {
  std::string key{};
  std::string value{};
};

// Spans for FindTraces. A trace matches when one of its spans meets every condition. Times are
// Unix nanoseconds; both bounds are inclusive and apply to the span's start.
struct TraceQuery {
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = std::numeric_limits<int64_t>::max();
  std::string service{};    // the span's service; empty: any
  std::string operation{};  // the span's name; empty: any
  // gen_ai.request.model (gen_ai.response.model when the request model is absent); empty: any
  std::string model{};
  std::optional<events::StatusCode> status{};  // none: any
  int64_t min_duration_nano = 0;               // the span's end - start, inclusive
  int64_t max_duration_nano = std::numeric_limits<int64_t>::max();
  std::vector<AttributeFilter> attributes{};  // all must match (on the span or its resource)
  // Most traces returned; 0 means 20. At most 10,000.
  size_t limit = 20;
};

// One trace as FindTraces lists it, from all of its stored spans (in every partition).
struct TraceSummary {
  std::string trace_id;  // 32 lowercase hex digits
  // The root span's (the span without a parent; when several or none, the earliest of them or of
  // all spans).
  std::string root_service;
  std::string root_name;
  int64_t start_unix_nano = 0;  // the earliest start of its spans
  int64_t end_unix_nano = 0;    // the latest end
  uint32_t span_count = 0;
  uint32_t error_count = 0;           // spans with status error
  std::vector<std::string> services;  // distinct, sorted
  std::vector<std::string> models;    // distinct, sorted (the model column of its spans)
};

// Limits where GetTrace looks: only partitions overlapping [start, end] (Unix nanoseconds,
// inclusive). A trace's spans outside it are not returned. The default looks everywhere.
struct TraceLookup {
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = std::numeric_limits<int64_t>::max();
};

// A span name of a service, for Jaeger's operations list.
struct Operation {
  std::string name;
  events::SpanKind kind = events::SpanKind::kUnspecified;
  friend bool operator==(const Operation&, const Operation&) = default;
};

// Log records for SearchLogs and LogsAfter. Times are Unix nanoseconds, inclusive.
struct LogQuery {
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = std::numeric_limits<int64_t>::max();
  // Words to find in the body (full-text, SQLite FTS5 with the unicode61 tokenizer: case and
  // diacritics ignored). Syntax (text_query.h): words (all must occur), "a phrase", prefix*,
  // a OR b, -excluded. Malformed text fails the query with kInvalidArgument. Empty: any.
  std::string text{};
  int32_t min_severity = 0;  // severity_number at least this (9 INFO, 13 WARN, 17 ERROR); 0: any
  std::string trace_id{};    // 32 hex digits; empty: any
  std::string service{};     // empty: any
  std::vector<AttributeFilter> attributes{};
  // Most records returned; 0 means 100. At most 10,000.
  size_t limit = 100;
};

// A stored log record and its place in the store's commit order (for live tail).
struct LogEntry {
  uint64_t cursor = 0;
  events::LogRecord record;
};

struct LogPage {
  std::vector<LogEntry> logs;  // in commit order
  // Pass to the next LogsAfter: every record committed up to it has been looked at.
  uint64_t next_cursor = 0;
};

// Events for QueryInferenceEvents, Deployments and PipelineRuns. Times are Unix milliseconds,
// inclusive, of the event's timestamp (a pipeline stage's start). Newest first.
struct InferenceEventQuery {
  int64_t start_ms = 0;
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  std::string model{};  // empty: any
  size_t limit = 100;   // 0 means 100; at most 10,000
};

struct DeploymentQuery {
  int64_t start_ms = 0;
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  std::string model{};  // empty: any
  size_t limit = 100;
};

struct PipelineRunQuery {
  int64_t start_ms = 0;
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  std::string pipeline{};  // empty: any
  std::string stage{};     // empty: any
  size_t limit = 100;
};

struct StoreStats {
  uint64_t partitions = 0;
  uint64_t unreadable_partitions = 0;  // kept on disk, skipped by queries and appends
  uint64_t bytes = 0;                  // as of the last Maintain (or Open)
  int64_t oldest_ms = 0;               // start of the oldest partition; 0 when none
  int64_t newest_ms = 0;               // end of the newest partition; 0 when none
  uint64_t last_log_cursor = 0;
};

// Called after commits that stored log records, with the newest cursor, on the committing
// thread (an appending caller's). Must return quickly and must not call back into the store
// (post to an executor, then call LogsAfter from there).
using LogListener = std::function<void(uint64_t newest_cursor)>;

class LogSubscription;

class EventStore {
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
  // trace once.
  Result<AppendResult> AppendSpans(std::span<const events::Span> spans);
  Result<AppendResult> AppendLogs(std::span<const events::LogRecord> logs);
  // Prompt and response are stored as given: the caller redacts them first (src/redact/).
  Result<AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> events);
  Result<AppendResult> AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events);
  Result<AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> events);

  // Traces with a span meeting every condition of `query`, chosen by that span's start, newest
  // first, and returned sorted by the trace's start, newest first. Partitions that cannot be
  // read are skipped (logged, counted). kInvalidArgument for a bad query.
  Result<std::vector<TraceSummary>> FindTraces(const TraceQuery& query) const;
  // Every stored span of the trace (32 hex digits, either case), each span id once, sorted by
  // start time (then span id). BuildTraceTree (trace_tree.h) makes the tree. kNotFound when no
  // span is stored; kInvalidArgument for a malformed id.
  Result<std::vector<events::Span>> GetTrace(std::string_view trace_id, const TraceLookup& lookup = {}) const;
  // GetTrace for several traces at once (one index lookup per partition for all of them);
  // traces with no stored span are absent from the result, which is in the order of `trace_ids`.
  Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> trace_ids,
                                                           const TraceLookup& lookup = {}) const;
  // Services with spans in partitions overlapping [start, end] (Unix nanoseconds), sorted.
  Result<std::vector<std::string>> Services(int64_t start_unix_nano = 0,
                                            int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const;
  // The span names (with kinds) of a service in partitions overlapping [start, end], sorted.
  Result<std::vector<Operation>> Operations(std::string_view service, int64_t start_unix_nano = 0,
                                            int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const;

  // Log records meeting every condition of `query`, newest first (by their time).
  Result<std::vector<LogEntry>> SearchLogs(const LogQuery& query) const;

  // Live tail. LastLogCursor() is the cursor of the newest committed record (0 when none): a
  // tail that starts now passes it to LogsAfter. LogsAfter returns up to `limit` records
  // committed after `cursor` that meet `filter` (its limit is ignored), in commit order, and
  // the cursor to continue from. A streaming handler loops: LogsAfter, send, and when nothing
  // came, WaitForLogs (or a LogListener's wake-up). Records committed into a partition that
  // retention then deleted are skipped.
  uint64_t LastLogCursor() const;
  Result<LogPage> LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit) const;
  // Blocks until a record newer than `cursor` is committed, `timeout` passes (real time) or the
  // store closes. Returns whether one is.
  bool WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const;
  // Calls `listener` after each commit that stored log records, until the returned object is
  // destroyed (which waits for a call in progress to return). The store must outlive it.
  std::unique_ptr<LogSubscription> SubscribeLogs(LogListener listener);

  Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(const InferenceEventQuery& query) const;
  Result<std::vector<events::DeploymentEvent>> Deployments(const DeploymentQuery& query) const;
  Result<std::vector<events::PipelineStageEvent>> PipelineRuns(const PipelineRunQuery& query) const;

  // Deletes partitions wholly older than the retention, then the oldest partitions while the
  // files total more than max_bytes (never one whose end is after now), closes write
  // connections idle for writer_idle, and updates tyto_eventstore_bytes and _partitions.
  // Rows for a deleted range are refused from then on (too_old). Errors: the first failure to
  // delete a file (the others are still tried; the files are tried again by the next call).
  Status Maintain();
  // Runs Maintain every `every` (real time) on a thread of its own until Close.
  void StartBackground(std::chrono::milliseconds every);

  StoreStats Stats() const;
  const std::string& dir() const;

 private:
  friend class LogSubscription;
  class Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Unsubscribes when destroyed.
class LogSubscription {
 public:
  ~LogSubscription();
  LogSubscription(const LogSubscription&) = delete;
  LogSubscription& operator=(const LogSubscription&) = delete;

 private:
  friend class EventStore;
  LogSubscription(EventStore::Impl* impl, uint64_t id) : impl_(impl), id_(id) {}
  EventStore::Impl* impl_;
  uint64_t id_;
};

}  // namespace tyto::eventstore
