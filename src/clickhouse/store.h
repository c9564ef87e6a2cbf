// ClickHouseStore: the TelemetryStore (eventstore/telemetry_store.h) kept in ClickHouse, for
// `storage.events: clickhouse`, so that several Tyto servers share spans, logs and inference,
// pipeline and deployment events, and the store grows with ClickHouse shards. Every events API
// works on it as on the embedded store. Schema, batch ids and cursors:
// docs/format/clickhouse.md.
//
// Writing:
//   - Appends from many threads to one table are combined (group commit, as the embedded store
//     does): the first caller in a table's queue inserts every queued row (up to batch_rows) in
//     one `INSERT ... FORMAT RowBinary` while the others wait; Append returns once ClickHouse
//     committed its rows. Before inserting it waits, never past flush_interval and not once
//     batch_rows are queued, for appends still encoding their rows and for the threads whose
//     rows were in the table's last insert (busy callers come straight back), and otherwise
//     until flush_interval after the table's previous insert began: at light load at most one
//     insert per flush_interval per table; under load, no idle wait. Rows per insert, not
//     inserts, set ClickHouse's cost (one part per insert): see docs/format/clickhouse.md.
//   - Each insert carries a batch id, written in every row's batch_id column and in the query id.
//     When an insert fails without a clear answer (timeout, connection lost, server restarting),
//     the store stops that query (KILL QUERY ... SYNC on the server that took it), counts the
//     batch's rows (SELECT count() ... WHERE batch_id = X: one insert of one block is one part,
//     all or nothing) and inserts again only when none are there. So a retried batch is stored
//     exactly once. Retries go on for retry_for, then Append fails with kUnavailable (503: the
//     sender retries).
//   - Batch ids grow with time: (microseconds since the epoch, or the last id + the rows of the
//     last batch when that is larger) << 10 | writer_id. A log record's cursor is its batch id
//     plus its place in the batch << 10, so cursors grow in commit order on one server.
//
// Live tail: LogsAfter returns records by cursor. Records whose cursor time is less than
// tail_settle ago are held back (another server's batch with an older id may still be in
// flight), as are this server's batches still being inserted. A batch committed more than
// tail_settle after its id was taken (after long retries) is missed by tails already past it;
// searches still find it. SubscribeLogs hears this server's commits; WaitForLogs also asks
// ClickHouse every tail_poll_interval for other servers' records.
//
// Thread safety: every method may be called from any thread, concurrently. Close() waits for
// inserts in progress (their retries stop).
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse/config.h"
#include "eventstore/telemetry_store.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::instrumentation {
class Registry;
}

namespace tyto::crypto {
class FieldEncryption;
}

namespace tyto::clickhouse {

class ClickHouseStore final : public eventstore::TelemetryStore {
 public:
  // Checks `config`, reads the password, and creates the database and tables (IF NOT EXISTS) on
  // every server in config.urls. `clock` gives the time for retention and max_future (null: the
  // real clock); batch ids and cursors always use the real clock, so they keep growing across
  // restarts. Metrics (tyto_clickhouse_*) are registered on `registry` (null: a private one).
  // Errors: kInvalidArgument for a bad config, the password file's error, kUnavailable naming
  // the server that could not be reached, kInternal for a statement ClickHouse refused.
  // `encryption` (null: none): prompts, responses and sensitive attribute values are inserted
  // as envelopes and decrypted on read (docs/security.md, "Encryption at rest").
  static Result<std::unique_ptr<ClickHouseStore>> Open(
      const ClickHouseConfig& config, Env* env, Clock* clock, instrumentation::Registry* registry = nullptr,
      std::shared_ptr<const crypto::FieldEncryption> encryption = nullptr);
  ~ClickHouseStore() override;
  ClickHouseStore(const ClickHouseStore&) = delete;
  ClickHouseStore& operator=(const ClickHouseStore&) = delete;

  // Stops the maintenance thread and waits for inserts in progress; appends and queries fail
  // with kFailedPrecondition afterwards. Idempotent.
  void Close();

  // Rows are refused as the embedded store refuses them (too_old, too_new, invalid_id); errors:
  // kUnavailable when max_queued_rows are waiting or ClickHouse could not take the batch within
  // retry_for, kInternal when ClickHouse refused the insert, kFailedPrecondition after Close.
  Result<eventstore::AppendResult> AppendSpans(std::span<const events::Span> spans,
      const eventstore::AppendOptions& options = {}) override;
  Result<eventstore::AppendResult> AppendLogs(std::span<const events::LogRecord> logs,
      const eventstore::AppendOptions& options = {}) override;
  Result<eventstore::AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> events,
      const eventstore::AppendOptions& options = {}) override;
  Result<eventstore::AppendResult> AppendPipelineStageEvents(
      std::span<const events::PipelineStageEvent> events,
      const eventstore::AppendOptions& options = {}) override;
  Result<eventstore::AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> events,
      const eventstore::AppendOptions& options = {}) override;

  Result<std::vector<eventstore::TraceSummary>> FindTraces(const eventstore::TraceQuery& query) const override;
  Result<std::vector<events::Span>> GetTrace(std::string_view trace_id,
                                             const eventstore::TraceLookup& lookup = {}) const override;
  Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> trace_ids,
                                                           const eventstore::TraceLookup& lookup = {}) const override;
  Result<std::vector<std::string>> Services(std::string_view org, int64_t start_unix_nano = 0,
                                            int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const override;
  Result<std::vector<eventstore::Operation>> Operations(
      std::string_view org, std::string_view service, int64_t start_unix_nano = 0,
      int64_t end_unix_nano = std::numeric_limits<int64_t>::max()) const override;
  Result<std::vector<eventstore::LogEntry>> SearchLogs(const eventstore::LogQuery& query) const override;

  // The newest cursor a tail may read up to now (see the file comment): this server's newest
  // committed record, or another server's found by the last poll, whichever is newer, held back
  // by tail_settle. Polls ClickHouse at most every tail_poll_interval.
  uint64_t LastLogCursor() const override;
  Result<eventstore::LogPage> LogsAfter(uint64_t cursor, const eventstore::LogQuery& filter,
                                        size_t limit) const override;
  bool WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const override;
  std::unique_ptr<eventstore::LogSubscription> SubscribeLogs(eventstore::LogListener listener) override;

  Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(
      const eventstore::InferenceEventQuery& query) const override;
  Result<std::vector<events::DeploymentEvent>> Deployments(const eventstore::DeploymentQuery& query) const override;
  Result<std::vector<events::PipelineStageEvent>> PipelineRuns(
      const eventstore::PipelineRunQuery& query) const override;

  // SELECT 1 on every server: OK, or kUnavailable naming the first that did not answer.
  Status Health() const override;

  // Erasure by ALTER TABLE ... DELETE on every server's local tables (ClickHouse rewrites the
  // parts without the rows), waiting until the mutations are done (at most 5 minutes:
  // kDeadlineExceeded, and they complete in the background). Counts are read before.
  Result<eventstore::EraseResult> Erase(const eventstore::EraseRequest& request) override;
  // Applied by DropExpired (SweepOrgRetention): a tenant's rows older than its retention are
  // erased as above (counted first: no mutation when none is).
  void SetOrgRetention(eventstore::OrgRetention retention) override;
  // Sums the values of the org's rows in ClickHouse (Layout::StoredBytesQuery): a scan of the
  // three tables' columns for the org, so callers cache it (tenant::Limiter does, 30 s). Rows
  // still queued here are not counted yet.
  Result<uint64_t> StoredBytes(std::string_view org) const override;
  Status SweepOrgRetention();

  // Drops the days (partitions) wholly older than now - retention from every table on every
  // server. Errors: the first failure (the other servers and tables are still tried).
  Status DropExpired();
  // Runs DropExpired every maintenance_interval (real time) on a thread of its own until Close.
  void StartBackground();

  class Impl;  // opaque (store_impl.h)

 private:
  explicit ClickHouseStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tyto::clickhouse
