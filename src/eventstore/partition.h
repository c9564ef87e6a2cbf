// Partition: one SQLite file holding every record of the event store whose timestamp falls in
// [start_ms, end_ms). Schema and pragmas: docs/format/eventstore.md.
//
// Split by concern: partition.cc (creating, opening, connections, caches), partition_write.cc
// (one transaction of rows), partition_read.cc (the queries, one partition each; the store
// fans out and merges).
//
// Thread safety: Write and CloseIdleWriter are serialised by write_mu_ (the store calls Write
// from one group-commit leader at a time). Queries may run from any number of threads, each on
// a read connection of its own taken from a pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "crypto/field_encryption.h"
#include "eventstore/codec.h"
#include "eventstore/sqlite.h"
#include "eventstore/store.h"
#include "eventstore/trace_filter.h"
#include "tyto/env.h"

namespace tyto::eventstore {

// In the SQLite header of every partition file: PRAGMA application_id ("tyto") and
// PRAGMA user_version.
inline constexpr int32_t kApplicationId = 0x7479746f;
// Versions 1 (no org columns) and 2 (no org_bytes) are upgraded at open.
inline constexpr int32_t kFormatVersion = 3;
// Bytes per SQLite page. 8 KiB rather than SQLite's 4 KiB: 5-15% less CPU per appended span and
// shallower trees, within the noise of 16 KiB (bench/eventstore_bench.cc, docs/format/eventstore.md).
inline constexpr int kPageSize = 8192;

// A span checked and converted on the appending thread, ready for the writer.
struct PreparedSpan {
  const events::Span* span = nullptr;
  int64_t time_ms = 0;    // of its start: which partition
  std::string trace_id;   // 16 bytes
  std::string span_id;    // 8 bytes
  std::string parent_id;  // 8 bytes, or empty
  std::string terms;      // its trace and attribute index terms (the resource's is added later)
  std::optional<events::Span> sealed;  // the span with sensitive values encrypted (encryption.h), if any
};

struct PreparedLog {
  const events::LogRecord* log = nullptr;
  int64_t time_ms = 0;
  std::string trace_id;  // 16 bytes or empty
  std::string span_id;   // 8 bytes or empty
  std::string terms;
  std::optional<events::LogRecord> sealed;  // with sensitive values encrypted, if any
  uint64_t cursor = 0;  // assigned by the group-commit leader
};

struct PreparedInferenceEvent {
  const events::InferenceEvent* event = nullptr;
  std::optional<events::InferenceEvent> sealed;  // prompt and response encrypted, with a key file
  std::string trace_id;  // 16 bytes or empty
  std::string span_id;   // 8 bytes or empty
};

// The rows of one group commit that go to one partition.
struct PartitionRows {
  std::vector<const PreparedSpan*> spans;
  std::vector<const PreparedLog*> logs;
  std::vector<const PreparedInferenceEvent*> inference_events;
  std::vector<const events::PipelineStageEvent*> pipeline_stages;
  std::vector<const events::DeploymentEvent*> deployments;
  size_t size() const {
    return spans.size() + logs.size() + inference_events.size() + pipeline_stages.size() + deployments.size();
  }
};

// Hash and equality that let an unordered_map<std::string, ...> be searched with a
// string_view, without making a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Read connections kept idle, over all partitions of a store.
struct ReaderBudget {
  explicit ReaderBudget(size_t max) : max_idle(max) {}
  const size_t max_idle;
  std::atomic<size_t> idle{0};
};

// A log query made ready for partitions: the text translated, the trace id as bytes.
struct LogFilter {
  const LogQuery* query = nullptr;
  std::string text_expression;  // FTS5 expression over the body column, or empty
  std::string trace_id;         // 16 bytes, or empty
};

// Called with each candidate span of FindTraces, newest first; returns false to stop.
using TraceCandidateFn = std::function<bool(std::string_view trace_id, int64_t start_ns)>;

class Partition {
 public:
  struct Settings {
    SyncMode sync = SyncMode::kNormal;
    ReaderBudget* readers = nullptr;
    int64_t max_rows_by_terms = 20'000;  // EventStoreOptions::max_rows_by_terms
    std::shared_ptr<const crypto::FieldEncryption> encryption;  // EventStoreOptions::encryption
  };

  // Writes a new partition file at `path` (which must not exist): schema and meta are written
  // under `path`.tmp with a rollback journal, synced, and renamed into place, so a crash never
  // leaves a half-made partition under its real name.
  static Result<std::shared_ptr<Partition>> Create(Env* env, const std::string& path, int64_t start_ms, int64_t end_ms,
                                                   const Settings& settings);
  // Opens an existing file and reads its meta. kCorruption when it is not a partition (damaged,
  // another file, or a format version this build cannot read).
  static Result<std::shared_ptr<Partition>> OpenExisting(Env* env, const std::string& path, const Settings& settings);
  // A file that could not be opened, kept for its range (from its name) so that retention and the
  // size cap can delete it and no new partition is made over it.
  static std::shared_ptr<Partition> Unreadable(Env* env, const std::string& path, int64_t start_ms, int64_t end_ms,
                                               const Settings& settings);

  // Closes the connections (a write connection checkpoints its WAL into the file); deletes the
  // files when MarkDropped was called.
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  int64_t start_ms() const { return start_ms_; }
  int64_t end_ms() const { return end_ms_; }
  const std::string& path() const { return path_; }
  bool readable() const { return readable_; }
  bool Overlaps(int64_t start_ms, int64_t end_ms) const { return start_ms_ <= end_ms && end_ms_ > start_ms; }

  // The files are deleted when the last reference goes.
  void MarkDropped() { dropped_.store(true); }
  // Bytes of the database, WAL and shared-memory files.
  uint64_t FileBytes() const;
  // Logs `status` (a query's failure here) once per partition.
  void ReportQueryFailure(const Status& status);
  // The bytes of the org's spans, log records and inference events here (their values, as
  // sqlite::Statement::BoundBytes counts them; empty org: "default").
  uint64_t OrgBytes(std::string_view org) const EXCLUDES(usage_mu_);
  // Whether the partition may hold spans of the trace (16-byte id): false means it holds none.
  bool MayHoldTrace(std::string_view trace_id) EXCLUDES(filter_mu_);

  // ---- writing (partition_write.cc)
  // Writes every row in one transaction. On failure nothing is written and the writer's
  // dictionaries are reloaded from the file at the next write. `now` (steady time) is noted for
  // CloseIdleWriter.
  Status Write(const PartitionRows& rows, std::chrono::steady_clock::time_point now) EXCLUDES(write_mu_);
  // Closes the write connection when nothing was written since `idle_since` (steady time;
  // time_point::max() closes it in any case), checkpointing its WAL into the file first.
  void CloseIdleWriter(std::chrono::steady_clock::time_point idle_since) EXCLUDES(write_mu_);

  // ---- erasure (partition_erase.cc)
  // Removes the inference events `request` names (EraseRequest in telemetry_store.h), adding
  // their trace ids (16 bytes) to *traces, then the spans and log records it names or that
  // belong to one of *traces; rebuilds the full-text indexes without them, VACUUMs the file and
  // truncates its WAL, so no byte of them is left in the partition's files. Counts into *out.
  Status Erase(const EraseRequest& request, std::set<std::string>* traces, bool events, EraseResult* out)
      EXCLUDES(write_mu_);

  // ---- reading (partition_read.cc); every call uses a pooled read connection
  // Spans starting in [start_ns, end_ns] meeting every condition of `query`, newest first.
  // `limit`: how many more traces the caller wants (it chooses how attribute filters are read).
  Status FindTraceCandidates(const TraceQuery& query, size_t limit, const TraceCandidateFn& visit);
  // Full spans of the traces (16-byte ids), appended to out[i] for trace_ids[i].
  // Only the org's spans (as every query here: empty org is "default").
  Status ReadTraces(std::string_view org, const std::vector<std::string>& trace_ids,
                    std::vector<std::vector<events::Span>>* out);
  Status Services(std::string_view org, std::set<std::string>* out);
  Status Operations(std::string_view org, std::string_view service, std::set<std::pair<std::string, int>>* out);
  // Up to `limit` records meeting the filter, newest first.
  Status SearchLogs(const LogFilter& filter, size_t limit, std::vector<LogEntry>* out);
  // Up to `limit` records with cursor in (after, upto] meeting the filter, in cursor order.
  Status LogsAfter(const LogFilter& filter, uint64_t after, uint64_t upto, size_t limit, std::vector<LogEntry>* out);
  Result<uint64_t> LastLogCursor();
  Status QueryInferenceEvents(const InferenceEventQuery& query, size_t limit, std::vector<events::InferenceEvent>* out);
  Status QueryDeployments(const DeploymentQuery& query, size_t limit, std::vector<events::DeploymentEvent>* out);
  Status QueryPipelineRuns(const PipelineRunQuery& query, size_t limit, std::vector<events::PipelineStageEvent>* out);

  // Highest log cursor written in this run (0 when none): LogsAfter skips partitions below it.
  uint64_t max_log_cursor() const { return max_log_cursor_.load(std::memory_order_acquire); }
  void NoteLogCursor(uint64_t cursor);

 private:
  struct Resource {
    std::string scope;
    std::vector<events::Attribute> attributes;
  };
  using KeyNames = std::vector<std::string>;  // index: key id (0 unused)
  using Resources = std::unordered_map<int64_t, std::shared_ptr<const Resource>>;

  // A read connection borrowed from the pool, returned when destroyed.
  class ReadConnection {
   public:
    ReadConnection(Partition* p, std::unique_ptr<sqlite::Connection> c) : p_(p), c_(std::move(c)) {}
    ~ReadConnection() { p_->ReleaseReader(std::move(c_)); }
    ReadConnection(const ReadConnection&) = delete;
    ReadConnection& operator=(const ReadConnection&) = delete;
    sqlite::Connection* operator->() const { return c_.get(); }
    sqlite::Connection& operator*() const { return *c_; }

   private:
    Partition* p_;
    std::unique_ptr<sqlite::Connection> c_;
  };

  // What the write connection keeps between transactions, loaded from the file when it opens.
  struct WriterState {
    std::unique_ptr<sqlite::Connection> conn;
    StringMap<uint64_t> key_ids;
    uint64_t next_key_id = 1;
    StringMap<int64_t> resource_ids;  // scope, 0x00, encoded attributes
    StringMap<bool> operations;       // service, 0x00, name, 0x00, kind
    bool loaded = false;
  };

  Partition(Env* env, std::string path, int64_t start_ms, int64_t end_ms, bool readable, const Settings& settings);

  Result<std::unique_ptr<ReadConnection>> AcquireReader() EXCLUDES(pool_mu_);
  void ReleaseReader(std::unique_ptr<sqlite::Connection> c) EXCLUDES(pool_mu_);

  // Reads the stored trace filter and adds the trace ids of spans written after it was stored
  // (all of them when there is none, as after a crash); stores it again when it had to add any.
  Status LoadTraceFilter(sqlite::Connection& c) EXCLUDES(filter_mu_);
  // Stores the trace filter through the write connection (before it closes).
  Status StoreTraceFilter() REQUIRES(write_mu_) EXCLUDES(filter_mu_);
  void CloseWriter() REQUIRES(write_mu_);
  Status OpenWriter() REQUIRES(write_mu_);
  Status LoadWriterState() REQUIRES(write_mu_);
  // Adds to *added the bytes of each org's rows written.
  Status WriteRows(const PartitionRows& rows, std::map<std::string, uint64_t, std::less<>>* added)
      REQUIRES(write_mu_);
  // Reads org_bytes into org_bytes_.
  Status LoadOrgBytes(sqlite::Connection& c) EXCLUDES(usage_mu_);
  Result<int64_t> ResourceId(std::string_view scope, const std::vector<events::Attribute>& attrs, Status* key_error)
      REQUIRES(write_mu_);
  uint64_t KeyId(std::string_view key, Status* error) REQUIRES(write_mu_);

  // Reader-side caches, reloaded from the file (through `c`) when a row names an id they lack.
  std::shared_ptr<const KeyNames> Keys() EXCLUDES(cache_mu_);
  Result<std::shared_ptr<const KeyNames>> ReloadKeys(sqlite::Connection& c) EXCLUDES(cache_mu_);
  // Decodes an attribute blob, reloading the key dictionary once if needed.
  // Runs `decode` with the key names of *keys, reloading them once if a key id is unknown.
  Status DecodeWithKeys(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys,
                        const std::function<Status(const KeyNameFn&)>& decode) EXCLUDES(cache_mu_);
  Status DecodeAttrs(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys, std::string_view blob,
                     std::vector<events::Attribute>* out);
  Status DecodeEvents(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys, std::string_view blob,
                      std::vector<events::SpanEvent>* out);
  Result<std::shared_ptr<const Resource>> GetResource(sqlite::Connection& c, int64_t id) EXCLUDES(cache_mu_);
  // The FTS5 expression that stands for `filter` in this partition: its attribute term, or the
  // term of any resource having it.
  Result<std::string> FilterTerms(sqlite::Connection& c, const AttributeFilter& filter);
  // Whether the record (its attributes, or its resource's) has every filter's key and value.
  Result<bool> MatchesAttributes(sqlite::Connection& c, const std::vector<AttributeFilter>& filters,
                                 const std::vector<events::Attribute>& attrs, int64_t resource_id);
  // Retention sweeps done here: org and table kind -> the before_ms they were done to.
  std::map<std::string, int64_t> swept_ GUARDED_BY(write_mu_);
  Status EraseRows(const EraseRequest& request, std::set<std::string>* traces, bool events, EraseResult* out)
      REQUIRES(write_mu_);
  // Sets the org's row of org_bytes from the rows that are left (in the erasing transaction).
  Status RecountOrgBytes(std::string_view org) REQUIRES(write_mu_);
  Status ReadLogRows(sqlite::Connection& c, sqlite::Statement* s, const LogFilter& filter, size_t limit,
                     std::vector<LogEntry>* out);

  Env* const env_;
  const std::string path_;
  const int64_t start_ms_;
  const int64_t end_ms_;
  const bool readable_;
  const Settings settings_;
  std::atomic<bool> dropped_{false};
  std::atomic<bool> failure_reported_{false};
  std::atomic<uint64_t> max_log_cursor_{0};

  mutable Mutex write_mu_;
  WriterState writer_ GUARDED_BY(write_mu_);
  std::chrono::steady_clock::time_point last_write_ GUARDED_BY(write_mu_);

  Mutex pool_mu_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_ GUARDED_BY(pool_mu_);

  Mutex filter_mu_;
  TraceFilter filter_ GUARDED_BY(filter_mu_);

  mutable Mutex usage_mu_;
  std::map<std::string, uint64_t, std::less<>> org_bytes_ GUARDED_BY(usage_mu_);  // as the org_bytes table

  Mutex cache_mu_;
  std::shared_ptr<const KeyNames> keys_ GUARDED_BY(cache_mu_);
  Resources resources_ GUARDED_BY(cache_mu_);
  // The resources read from the file, all of them up to this id (for FilterTerms).
  int64_t resources_loaded_upto_ GUARDED_BY(cache_mu_) = 0;
};

// SELECT org, bytes: the bytes of each org's spans, log records and inference events in the
// partition `c` has open (every value but the row id, as sqlite::Statement::BoundBytes counts
// them), grouped by org; with `one_org`, of the org bound to ?1 only.
Result<std::string> OrgBytesSql(sqlite::Connection& c, bool one_org);

// "20260122T130000Z.db" for a partition starting at `start_ms` (a whole second), and back.
std::string PartitionFileName(int64_t start_ms);
bool ParsePartitionFileName(std::string_view name, int64_t* start_ms);

}  // namespace tyto::eventstore
