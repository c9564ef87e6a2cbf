// TelemetryStore: the contract between the ways spans, log records and inference, pipeline and
// deployment events come in (the inference hub, the quality monitor) and the ways they are read
// (the events HTTP API, the UI), and where they are kept. Two stores implement it: the embedded
// one (EventStore, store.h: SQLite files on local disk, the default) and ClickHouse
// (src/clickhouse/, when `storage.events: clickhouse`), so every API works the same on both.
//
// Thread safety: every method may be called from any thread, concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "events/model.h"
#include "tyto/status.h"

namespace tyto::eventstore {

// The tenant of records and queries whose org is empty (auth::kDefaultTenant): records written
// before tenants existed read as its.
inline constexpr std::string_view kDefaultOrg = "default";
inline std::string_view OrgOf(std::string_view org) { return org.empty() ? kDefaultOrg : org; }

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
  std::string org{};  // the tenant whose spans are searched (empty: "default"); every query takes one
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
  std::string org{};  // only this tenant's spans (empty: "default"): another's trace is not found
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
  std::string org{};  // the tenant whose records are searched (empty: "default")
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
  std::string org{};  // the tenant whose events are read (empty: "default"); not InferenceEvent::tenant
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


// What Erase removes (the GDPR right to be forgotten). Only records of `org`, never another
// tenant's. With neither `user` nor `request_id`: every span, log record and inference event of
// the org. Otherwise the inference events matching every field given (`user` their end user,
// `request_id` their request id), and the spans and log records that match every field given
// (`user`: attribute enduser.id or user.id; `request_id`: their trace id, when it is 32 hex
// digits) or that belong to a trace of an erased event.
struct EraseRequest {
  std::string org;
  std::string user{};
  std::string request_id{};
  // Only records older than this (Unix ms: an event's timestamp, a span's start, a log's time):
  // a tenant's retention (SetOrgRetention). Default: any age.
  int64_t before_ms = std::numeric_limits<int64_t>::max();
};

// Retention per tenant (config `tenants[].retention`): a tenant's spans, log records and
// inference events older than its retention are erased. Tenants not named keep the store's.
using OrgRetention = std::map<std::string, std::chrono::milliseconds, std::less<>>;

// How many records Erase removed, per kind.
struct EraseResult {
  uint64_t spans = 0;
  uint64_t logs = 0;
  uint64_t inference_events = 0;
  // The request ids of the inference events erased, when the request named a user or a request
  // id (not for a whole tenant or a retention sweep): what other stores keyed by request id (the
  // quality monitor's predictions and feedback) must forget too.
  std::vector<std::string> request_ids;
};

// Called after commits that stored log records, with the newest cursor, on the committing
// thread (an appending caller's). Must return quickly and must not call back into the store
// (post to an executor, then call LogsAfter from there).
using LogListener = std::function<void(uint64_t newest_cursor)>;

// Returned by SubscribeLogs; unsubscribes when destroyed (waiting for a call in progress).
class LogSubscription {
 public:
  virtual ~LogSubscription() = default;
};

// Where a batch came from, for stores that can store it once however often it is appended
// (ClickHouse: docs/format/clickhouse.md). The embedded store ignores it.
struct AppendOptions {
  // The batch's origin: a NATS message id, or a client's Idempotency-Key. Empty: none.
  std::string_view source{};
  // The batch may have been appended before (a redelivered message, a client's retry): a store
  // that keeps `source` looks for it first and, when found, stores nothing and answers as if it
  // had stored the rows. False: the first try, stored without looking.
  bool maybe_repeated = false;
};

class TelemetryStore {
 public:
  virtual ~TelemetryStore() = default;

  // Appends a batch, waiting until it is committed (durable as the store's options say). Rows
  // are refused one by one (the others are stored) and reported in AppendResult: too old for
  // the retention, too far in the future, malformed ids (a span's trace id not 32 hex digits or
  // its span id not 16). A log, inference event or span event whose trace or span id is
  // malformed keeps the rest with the id left empty. Errors (nothing of the batch stored):
  // kUnavailable when the store cannot take more now (the HTTP layer answers 503; clients
  // retry), the store's own errors, kFailedPrecondition after Close. Spans sent twice (an
  // exporter's retry) may be stored twice; queries return each span id of a trace once.
  virtual Result<AppendResult> AppendSpans(std::span<const events::Span> spans,
                                           const AppendOptions& options = {}) = 0;
  virtual Result<AppendResult> AppendLogs(std::span<const events::LogRecord> logs,
                                          const AppendOptions& options = {}) = 0;
  // Prompt and response are stored as given: the caller redacts them first (src/redact/).
  virtual Result<AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> events,
                                                     const AppendOptions& options = {}) = 0;
  virtual Result<AppendResult> AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events,
                                                         const AppendOptions& options = {}) = 0;
  virtual Result<AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> events,
                                                 const AppendOptions& options = {}) = 0;

  // Traces with a span meeting every condition of `query`, chosen by that span's start, newest
  // first, and returned sorted by the trace's start, newest first. kInvalidArgument for a bad
  // query.
  virtual Result<std::vector<TraceSummary>> FindTraces(const TraceQuery& query) const = 0;
  // Every stored span of the trace (32 hex digits, either case), each span id once, sorted by
  // start time (then span id). BuildTraceTree (trace_tree.h) makes the tree. kNotFound when no
  // span is stored; kInvalidArgument for a malformed id.
  virtual Result<std::vector<events::Span>> GetTrace(std::string_view trace_id, const TraceLookup& lookup = {}) const = 0;
  // GetTrace for several traces at once; traces with no stored span are absent from the result,
  // which is in the order of `trace_ids`.
  virtual Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> trace_ids,
                                                                   const TraceLookup& lookup = {}) const = 0;
  // Services of the org's spans (empty: "default") in [start, end] (Unix nanoseconds; a store may
  // widen the range to its partitions), sorted.
  virtual Result<std::vector<std::string>> Services(
      std::string_view org, int64_t start_unix_nano = 0,
      int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const = 0;
  // The span names (with kinds) of a service of the org in [start, end], sorted.
  virtual Result<std::vector<Operation>> Operations(
      std::string_view org, std::string_view service, int64_t start_unix_nano = 0,
      int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const = 0;

  // Log records meeting every condition of `query`, newest first (by their time).
  virtual Result<std::vector<LogEntry>> SearchLogs(const LogQuery& query) const = 0;

  // Live tail. LastLogCursor() is the cursor of the newest committed record (0 when none): a
  // tail that starts now passes it to LogsAfter. LogsAfter returns up to `limit` records
  // committed after `cursor` that meet `filter` (its limit is ignored), in commit order, and
  // the cursor to continue from. A streaming handler loops: LogsAfter, send, and when nothing
  // came, WaitForLogs (or a LogListener's wake-up).
  virtual uint64_t LastLogCursor() const = 0;
  virtual Result<LogPage> LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit) const = 0;
  // Blocks until a record newer than `cursor` is committed, `timeout` passes (real time) or the
  // store closes. Returns whether one is.
  virtual bool WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const = 0;
  // Calls `listener` after each commit that stored log records (through this process), until
  // the returned object is destroyed. The store must outlive it.
  virtual std::unique_ptr<LogSubscription> SubscribeLogs(LogListener listener) = 0;

  virtual Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(const InferenceEventQuery& query) const = 0;
  virtual Result<std::vector<events::DeploymentEvent>> Deployments(const DeploymentQuery& query) const = 0;
  virtual Result<std::vector<events::PipelineStageEvent>> PipelineRuns(const PipelineRunQuery& query) const = 0;

  // Removes what `request` names from every place the store keeps it, so that its bytes are gone
  // (not marked deleted), and returns the counts. kInvalidArgument without an org.
  virtual Result<EraseResult> Erase(const EraseRequest& request) = 0;
  // Replaces the retention per tenant, applied by the store's maintenance (its next run; a
  // retention longer than the store's own changes nothing).
  virtual void SetOrgRetention(OrgRetention retention) = 0;
  // The bytes of the org's spans, log records and inference events the store keeps: their
  // values (a text's or blob's length, 8 per number), without indexes or the store's overhead.
  // What a tenant's storage limit counts (tenant::TenantLimits::max_storage_bytes).
  virtual Result<uint64_t> StoredBytes(std::string_view org) const = 0;

  // Whether the store can be reached and written now, for /-/ready: OK, or why not (naming the
  // server it could not reach). The embedded store is healthy while it is open.
  virtual Status Health() const = 0;
};

}  // namespace tyto::eventstore
