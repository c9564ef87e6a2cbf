// EventStore::Impl: the store's state and its three concerns, split over files:
//   store.cc         opening, closing, retention and the size cap (Maintain), stats
//   store_append.cc  checking rows, the group-commit queue, routing rows to partitions
//   store_query.cc   fanning queries out over partitions and merging their answers
//
// Locks, in the order they may be taken:
//   queue_mu_   the group-commit queue (never held while writing)
//   commit_mu_  held by the one caller writing a group (the leader); log cursors
//   mu_         the map of partitions, the range already deleted
//   a Partition's own locks (its write connection, its reader pool, its caches)
// subs_mu_ (log listeners) and log_mu_ (WaitForLogs) are taken alone.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "eventstore/metrics.h"
#include "eventstore/partition.h"
#include "eventstore/store.h"

namespace tyto::eventstore {

class EventStore::Impl {
 public:
  Impl(Env* env, Clock* clock, std::string dir, EventStoreOptions options, instrumentation::Registry* registry);
  ~Impl();

  Status Init();
  Status Close() EXCLUDES(queue_mu_, commit_mu_, mu_, bg_mu_);

  Result<AppendResult> AppendSpans(std::span<const events::Span> spans);
  Result<AppendResult> AppendLogs(std::span<const events::LogRecord> logs);
  Result<AppendResult> AppendInferenceEvents(std::span<const events::InferenceEvent> events);
  Result<AppendResult> AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events);
  Result<AppendResult> AppendDeployments(std::span<const events::DeploymentEvent> events);

  Result<std::vector<TraceSummary>> FindTraces(const TraceQuery& query);
  Result<std::vector<std::vector<events::Span>>> GetTraces(std::span<const std::string> trace_ids,
                                                           const TraceLookup& lookup);
  Result<std::vector<std::string>> Services(std::string_view org, int64_t start_ns, int64_t end_ns);
  Result<std::vector<Operation>> Operations(std::string_view org, std::string_view service, int64_t start_ns,
                                            int64_t end_ns);
  Result<std::vector<LogEntry>> SearchLogs(const LogQuery& query);
  uint64_t LastLogCursor() const { return last_log_cursor_.load(std::memory_order_acquire); }
  Result<LogPage> LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit);
  bool WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) EXCLUDES(log_mu_);
  uint64_t Subscribe(LogListener listener) EXCLUDES(subs_mu_);
  void Unsubscribe(uint64_t id) EXCLUDES(subs_mu_);
  Result<std::vector<events::InferenceEvent>> QueryInferenceEvents(const InferenceEventQuery& query);
  Result<std::vector<events::DeploymentEvent>> Deployments(const DeploymentQuery& query);
  Result<std::vector<events::PipelineStageEvent>> PipelineRuns(const PipelineRunQuery& query);

  Result<EraseResult> Erase(const EraseRequest& request) EXCLUDES(commit_mu_, mu_);
  void SetOrgRetention(OrgRetention retention) EXCLUDES(retention_mu_);
  // Erases each tenant's rows older than its retention (Maintain's last step).
  Status SweepOrgRetention(int64_t now_ms) EXCLUDES(retention_mu_, commit_mu_, mu_);

  Status Maintain() EXCLUDES(mu_);
  void StartBackground(std::chrono::milliseconds every) EXCLUDES(bg_mu_);
  StoreStats Stats() const EXCLUDES(mu_);
  uint64_t StoredBytes(std::string_view org) const EXCLUDES(mu_);
  const std::string& dir() const { return dir_; }
  bool closed() const { return closed_.load(); }

 private:
  // One Append call's rows, checked, waiting in the queue to be written.
  struct Batch {
    Table table = Table::kSpans;
    std::vector<PreparedSpan> spans;
    std::vector<PreparedLog> logs;
    std::vector<PreparedInferenceEvent> inference_events;
    std::vector<const events::PipelineStageEvent*> pipeline_stages;
    std::vector<const events::DeploymentEvent*> deployments;
    size_t rows = 0;  // rows to write (those not refused while checking)
    AppendResult result;
    Status status;      // set by the leader that wrote it
    bool done = false;  // guarded by queue_mu_
  };

  // Why a row is refused, or null.
  const char* CheckTime(int64_t time_ms, int64_t now_ms, std::string* why) const;
  void Reject(Batch* b, std::string_view reason, const std::string& description);
  // Queues `b` and returns once it is written (by this thread or another).
  Result<AppendResult> Submit(Batch* b) EXCLUDES(queue_mu_, commit_mu_, mu_);
  void WriteGroup(const std::vector<Batch*>& group) REQUIRES(commit_mu_) EXCLUDES(mu_);
  // The partition for a row at `time_ms`, created when missing. Null with *reason set when the
  // row is refused; an error when the partition could not be created.
  Result<std::shared_ptr<Partition>> PartitionFor(int64_t time_ms, const char** reason) REQUIRES(commit_mu_)
      EXCLUDES(mu_);
  void NotifyLogs(uint64_t newest) EXCLUDES(log_mu_, subs_mu_);

  // Readable and unreadable partitions overlapping [start_ms, end_ms], newest first.
  std::vector<std::shared_ptr<Partition>> Overlapping(int64_t start_ms, int64_t end_ms) const EXCLUDES(mu_);
  // A query's failure in one partition: damage and I/O errors skip the partition (logged once,
  // counted); other errors (a bad query) end the query.
  Status Skip(Partition* p, const Status& s);
  Status CheckOpen() const;
  Partition::Settings PartitionSettings();
  void PublishPartitionCount() REQUIRES(mu_);

  Env* const env_;
  Clock* const clock_;
  const std::string dir_;
  const EventStoreOptions options_;
  std::unique_ptr<instrumentation::Registry> own_registry_;
  Metrics metrics_;
  instrumentation::Histogram& find_traces_duration_;
  instrumentation::Histogram& get_trace_duration_;
  instrumentation::Histogram& search_logs_duration_;
  instrumentation::Histogram& logs_after_duration_;
  instrumentation::Histogram& services_duration_;
  instrumentation::Histogram& operations_duration_;
  instrumentation::Histogram& inference_duration_;
  instrumentation::Histogram& deployments_duration_;
  instrumentation::Histogram& pipeline_duration_;
  ReaderBudget readers_;
  std::unique_ptr<FileLock> lock_;
  std::atomic<bool> closed_{false};

  Mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::deque<Batch*> queue_ GUARDED_BY(queue_mu_);
  size_t queued_rows_ GUARDED_BY(queue_mu_) = 0;
  bool queue_closed_ GUARDED_BY(queue_mu_) = false;

  Mutex commit_mu_;
  bool writes_closed_ GUARDED_BY(commit_mu_) = false;
  uint64_t next_log_cursor_ GUARDED_BY(commit_mu_) = 1;
  // Partitions whose write connection is open, most recently written first; beyond
  // kMaxOpenWriters the least recent is closed (each holds up to 32 MiB of page cache).
  std::deque<std::weak_ptr<Partition>> open_writers_ GUARDED_BY(commit_mu_);
  std::atomic<uint64_t> last_log_cursor_{0};

  mutable Mutex mu_;
  std::map<int64_t, std::shared_ptr<Partition>> partitions_ GUARDED_BY(mu_);  // by start_ms
  // Rows before this were in partitions deleted in this run: refused (too_old).
  int64_t deleted_before_ms_ GUARDED_BY(mu_) = std::numeric_limits<int64_t>::min();
  std::vector<std::string> undeleted_ GUARDED_BY(mu_);  // files a Maintain failed to delete
  uint64_t bytes_ GUARDED_BY(mu_) = 0;

  Mutex log_mu_;
  std::condition_variable_any log_cv_;

  Mutex subs_mu_;
  std::map<uint64_t, LogListener> listeners_ GUARDED_BY(subs_mu_);
  uint64_t next_listener_ GUARDED_BY(subs_mu_) = 1;

  Mutex retention_mu_;
  OrgRetention org_retention_ GUARDED_BY(retention_mu_);

  Mutex bg_mu_;
  std::condition_variable_any bg_cv_;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  std::thread bg_;
};

}  // namespace tyto::eventstore
