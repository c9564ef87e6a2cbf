// EventStore: opening, closing, retention and the size cap, and the public face over Impl.
#include "eventstore/store.h"

#include <algorithm>

#include "common/log.h"
#include "common/units.h"
#include "eventstore/store_impl.h"

namespace tyto::eventstore {

namespace {

const log::Logger kLog("eventstore");

}  // namespace

Status ValidateOptions(const EventStoreOptions& o) {
  using std::chrono::milliseconds;
  if (o.partition < std::chrono::minutes(1) || o.partition > std::chrono::hours(24 * 31) ||
      o.partition.count() % 1000 != 0) {
    return InvalidArgument("event_store.partition must be a whole number of seconds from 1m to 31d, not " +
                           FormatDuration(o.partition));
  }
  if (o.retention < o.partition) {
    return InvalidArgument("event_store.retention (" + FormatDuration(o.retention) +
                           ") must be at least one partition (" + FormatDuration(o.partition) + ")");
  }
  if (o.max_future < milliseconds(0)) return InvalidArgument("event_store.max_future must not be negative");
  if (o.max_group_rows == 0) return InvalidArgument("event_store: max_group_rows must be at least 1");
  return Status::Ok();
}

EventStore::Impl::Impl(Env* env, Clock* clock, std::string dir, EventStoreOptions options,
                       instrumentation::Registry* registry)
    : env_(env),
      clock_(clock),
      dir_(WithoutTrailingSlashes(std::move(dir))),
      options_(options),
      own_registry_(registry == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      metrics_(registry != nullptr ? registry : own_registry_.get()),
      find_traces_duration_(metrics_.query_duration.WithLabels({"find_traces"})),
      get_trace_duration_(metrics_.query_duration.WithLabels({"get_trace"})),
      search_logs_duration_(metrics_.query_duration.WithLabels({"search_logs"})),
      logs_after_duration_(metrics_.query_duration.WithLabels({"logs_after"})),
      services_duration_(metrics_.query_duration.WithLabels({"services"})),
      operations_duration_(metrics_.query_duration.WithLabels({"operations"})),
      inference_duration_(metrics_.query_duration.WithLabels({"inference_events"})),
      deployments_duration_(metrics_.query_duration.WithLabels({"deployments"})),
      pipeline_duration_(metrics_.query_duration.WithLabels({"pipeline_runs"})),
      readers_(options.max_idle_readers) {}

EventStore::Impl::~Impl() { (void)Close(); }

Partition::Settings EventStore::Impl::PartitionSettings() {
  return {options_.sync, &readers_, static_cast<int64_t>(std::min<size_t>(options_.max_rows_by_terms, INT64_MAX)),
          options_.encryption};
}

void EventStore::Impl::PublishPartitionCount() { metrics_.partitions.Set(static_cast<double>(partitions_.size())); }

Status EventStore::Impl::Init() {
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  TYTO_ASSIGN_OR_RETURN(lock_, env_->LockFile(dir_ + "/lock"));
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  std::vector<std::pair<int64_t, std::string>> files;
  for (const std::string& name : names) {
    if (name.ends_with(".db.tmp") || name.ends_with(".db.tmp-journal")) {
      // A partition whose creation a crash interrupted; it held no rows.
      TYTO_RETURN_IF_ERROR(env_->RemoveFile(dir_ + "/" + name));
      continue;
    }
    int64_t start_ms = 0;
    if (ParsePartitionFileName(name, &start_ms)) files.emplace_back(start_ms, name);
  }
  std::sort(files.begin(), files.end());
  const int64_t partition_ms = options_.partition.count();
  uint64_t max_cursor = 0;
  std::map<int64_t, std::shared_ptr<Partition>> partitions;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [start_ms, name] = files[i];
    const std::string path = dir_ + "/" + name;
    const int64_t next_start = i + 1 < files.size() ? files[i + 1].first : std::numeric_limits<int64_t>::max();
    Result<std::shared_ptr<Partition>> p = Partition::OpenExisting(env_, path, PartitionSettings());
    Status problem = p.ok() ? Status::Ok() : p.status();
    if (p.ok()) {
      const Partition& part = **p;
      const int64_t prev_end =
          partitions.empty() ? std::numeric_limits<int64_t>::min() : partitions.rbegin()->second->end_ms();
      if (part.start_ms() != start_ms) {
        problem = Corruption(path + ": its name does not match the start in its meta");
      } else if (part.start_ms() < prev_end || part.end_ms() > next_start) {
        problem = Corruption(path + ": its time range overlaps another partition's");
      }
    }
    if (p.ok() && problem.ok()) {
      Result<uint64_t> cursor = (*p)->LastLogCursor();
      if (!cursor.ok()) problem = cursor.status();
      if (cursor.ok()) {
        (*p)->NoteLogCursor(*cursor);
        max_cursor = std::max(max_cursor, *cursor);
      }
    }
    if (!problem.ok()) {
      kLog.Error(
          "event store: a partition file cannot be read; it is kept, skipped by queries, and its time "
          "range refuses rows until retention deletes it",
          {{"path", path}, {"error", problem}});
      metrics_.partition_errors.WithLabels({"open"}).Inc();
      // Its range as the current options would make it, up to the next file.
      const int64_t end = std::max(std::min(next_start, start_ms + partition_ms), start_ms + 1);
      partitions[start_ms] = Partition::Unreadable(env_, path, start_ms, end, PartitionSettings());
      continue;
    }
    partitions[start_ms] = std::move(p).value();
  }
  {
    MutexLock commit(&commit_mu_);
    next_log_cursor_ = max_cursor + 1;
  }
  last_log_cursor_.store(max_cursor);
  uint64_t bytes = 0;
  for (const auto& [start, p] : partitions) bytes += p->FileBytes();
  metrics_.bytes.Set(static_cast<double>(bytes));
  const size_t count = partitions.size();
  {
    MutexLock lock(&mu_);
    partitions_ = std::move(partitions);
    bytes_ = bytes;
    PublishPartitionCount();
  }
  kLog.Info("event store opened",
            {{"dir", dir_}, {"partitions", count}, {"bytes", bytes}, {"sqlite", sqlite::LibraryVersion()}});
  return Status::Ok();
}

Status EventStore::Impl::Close() {
  {
    MutexLock lock(&queue_mu_);
    if (queue_closed_) return Status::Ok();
    queue_closed_ = true;
  }
  closed_.store(true);
  {
    MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  {
    MutexLock lock(&commit_mu_);  // waits for a group being written
    writes_closed_ = true;
  }
  std::map<int64_t, std::shared_ptr<Partition>> partitions;
  {
    MutexLock lock(&mu_);
    partitions.swap(partitions_);
  }
  partitions.clear();  // closes them (queries still running close theirs when they finish)
  {
    MutexLock lock(&log_mu_);
    log_cv_.notify_all();
  }
  lock_.reset();
  return Status::Ok();
}

Status EventStore::Impl::Maintain() {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  const int64_t now_ms = clock_->NowMillis();
  const int64_t cutoff = now_ms - options_.retention.count();
  std::vector<std::pair<std::shared_ptr<Partition>, const char*>> dropped;
  std::vector<std::pair<std::shared_ptr<Partition>, uint64_t>> kept;  // oldest first, with bytes
  std::vector<std::string> retry;
  {
    MutexLock lock(&mu_);
    retry.swap(undeleted_);
    for (auto it = partitions_.begin(); it != partitions_.end() && it->second->end_ms() <= cutoff;) {
      deleted_before_ms_ = std::max(deleted_before_ms_, it->second->end_ms());
      dropped.emplace_back(std::move(it->second), "retention");
      it = partitions_.erase(it);
    }
    for (const auto& [start, p] : partitions_) kept.emplace_back(p, 0);
  }
  uint64_t total = 0;
  for (auto& [p, bytes] : kept) {
    bytes = p->FileBytes();
    total += bytes;
  }
  if (options_.max_bytes > 0) {
    for (auto& [p, bytes] : kept) {
      if (total <= options_.max_bytes || p->end_ms() > now_ms) break;
      MutexLock lock(&mu_);
      auto it = partitions_.find(p->start_ms());
      if (it == partitions_.end() || it->second != p) continue;
      deleted_before_ms_ = std::max(deleted_before_ms_, p->end_ms());
      partitions_.erase(it);
      total -= bytes;
      dropped.emplace_back(std::move(p), "size");  // leaves a null in `kept`
    }
  }

  Status first_error;
  auto remove = [&](const std::string& path) {
    Status s = env_->RemoveFile(path);
    if (s.ok() || s.code() == StatusCode::kNotFound) return;
    kLog.Warn("event store: could not delete a partition file; trying again later", {{"error", s}});
    if (first_error.ok()) first_error = s;
    MutexLock lock(&mu_);
    undeleted_.push_back(path);
  };
  for (const std::string& path : retry) remove(path);
  for (auto& [p, reason] : dropped) {
    kLog.Info("event store: partition deleted", {{"path", p->path()},
                                                 {"reason", reason},
                                                 {"start", FormatTimestamp(p->start_ms())},
                                                 {"end", FormatTimestamp(p->end_ms())}});
    metrics_.dropped.WithLabels({reason}).Inc();
    const std::string path = p->path();
    // Only here can new references be taken (no longer in the map); the last holder closes it.
    if (p.use_count() > 1) {
      p->MarkDropped();  // a query still reads it: the last holder deletes the files
      p.reset();
      continue;
    }
    p.reset();  // closes its connections
    for (const char* suffix : {"", "-wal", "-shm"}) remove(path + suffix);
  }
  dropped.clear();

  const auto idle_since = clock_->MonotonicNow() - options_.writer_idle;
  for (auto& [p, bytes] : kept) {
    if (p != nullptr && p->readable()) p->CloseIdleWriter(idle_since);
  }
  {
    MutexLock lock(&mu_);
    bytes_ = total;
    PublishPartitionCount();
  }
  metrics_.bytes.Set(static_cast<double>(total));
  if (Status s = SweepOrgRetention(now_ms); !s.ok() && first_error.ok()) first_error = s;
  return first_error;
}

void EventStore::Impl::StartBackground(std::chrono::milliseconds every) {
  MutexLock lock(&bg_mu_);
  if (bg_.joinable() || bg_stop_) return;
  bg_ = std::thread([this, every] {
    while (true) {
      {
        MutexLock l(&bg_mu_);
        bg_cv_.wait_for(bg_mu_.native(), every, [this]() NO_THREAD_SAFETY_ANALYSIS { return bg_stop_; });
        if (bg_stop_) return;
      }
      if (Status s = Maintain(); !s.ok() && !closed_.load()) {
        kLog.Warn("event store maintenance failed", {{"error", s}});
      }
    }
  });
}

StoreStats EventStore::Impl::Stats() const {
  StoreStats s;
  MutexLock lock(&mu_);
  for (const auto& [start, p] : partitions_) {
    ++s.partitions;
    if (!p->readable()) ++s.unreadable_partitions;
  }
  s.bytes = bytes_;
  if (!partitions_.empty()) {
    s.oldest_ms = partitions_.begin()->second->start_ms();
    s.newest_ms = partitions_.rbegin()->second->end_ms();
  }
  s.last_log_cursor = LastLogCursor();
  return s;
}

Status EventStore::Impl::CheckOpen() const {
  if (closed_.load()) return FailedPrecondition("the event store is closed");
  return Status::Ok();
}

// ---- EventStore

Result<std::unique_ptr<EventStore>> EventStore::Open(Env* env, Clock* clock, std::string dir, EventStoreOptions options,
                                                     instrumentation::Registry* registry) {
  TYTO_RETURN_IF_ERROR(ValidateOptions(options));
  if (clock == nullptr) clock = Clock::Real();
  auto impl = std::make_unique<Impl>(env, clock, std::move(dir), options, registry);
  TYTO_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EventStore::~EventStore() {
  if (Status s = impl_->Close(); !s.ok()) kLog.Warn("event store: close failed", {{"error", s}});
}
Status EventStore::Close() { return impl_->Close(); }

Result<AppendResult> EventStore::AppendSpans(std::span<const events::Span> spans, const AppendOptions&) { return impl_->AppendSpans(spans); }
Result<AppendResult> EventStore::AppendLogs(std::span<const events::LogRecord> logs, const AppendOptions&) { return impl_->AppendLogs(logs); }
Result<AppendResult> EventStore::AppendInferenceEvents(std::span<const events::InferenceEvent> events, const AppendOptions&) {
  return impl_->AppendInferenceEvents(events);
}
Result<AppendResult> EventStore::AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events, const AppendOptions&) {
  return impl_->AppendPipelineStageEvents(events);
}
Result<AppendResult> EventStore::AppendDeployments(std::span<const events::DeploymentEvent> events, const AppendOptions&) {
  return impl_->AppendDeployments(events);
}

Result<std::vector<TraceSummary>> EventStore::FindTraces(const TraceQuery& query) const {
  return impl_->FindTraces(query);
}
Result<std::vector<events::Span>> EventStore::GetTrace(std::string_view trace_id, const TraceLookup& lookup) const {
  const std::string id(trace_id);
  TYTO_ASSIGN_OR_RETURN(auto traces, impl_->GetTraces(std::span<const std::string>(&id, 1), lookup));
  if (traces.empty()) return NotFound("no trace " + id + " is stored");
  return std::move(traces[0]);
}
Result<std::vector<std::vector<events::Span>>> EventStore::GetTraces(std::span<const std::string> trace_ids,
                                                                     const TraceLookup& lookup) const {
  return impl_->GetTraces(trace_ids, lookup);
}
Result<std::vector<std::string>> EventStore::Services(std::string_view org, int64_t start_unix_nano,
                                                     int64_t end_unix_nano) const {
  return impl_->Services(org, start_unix_nano, end_unix_nano);
}
Result<std::vector<Operation>> EventStore::Operations(std::string_view org, std::string_view service,
                                                     int64_t start_unix_nano,
                                                      int64_t end_unix_nano) const {
  return impl_->Operations(org, service, start_unix_nano, end_unix_nano);
}
Result<std::vector<LogEntry>> EventStore::SearchLogs(const LogQuery& query) const { return impl_->SearchLogs(query); }
uint64_t EventStore::LastLogCursor() const { return impl_->LastLogCursor(); }
Result<LogPage> EventStore::LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit) const {
  return impl_->LogsAfter(cursor, filter, limit);
}
bool EventStore::WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const {
  return impl_->WaitForLogs(cursor, timeout);
}
namespace {
class EmbeddedLogSubscription final : public LogSubscription {
 public:
  EmbeddedLogSubscription(EventStore::Impl* impl, uint64_t id) : impl_(impl), id_(id) {}
  ~EmbeddedLogSubscription() override { impl_->Unsubscribe(id_); }

 private:
  EventStore::Impl* impl_;
  uint64_t id_;
};
}  // namespace

std::unique_ptr<LogSubscription> EventStore::SubscribeLogs(LogListener listener) {
  return std::make_unique<EmbeddedLogSubscription>(impl_.get(), impl_->Subscribe(std::move(listener)));
}

Result<std::vector<events::InferenceEvent>> EventStore::QueryInferenceEvents(const InferenceEventQuery& query) const {
  return impl_->QueryInferenceEvents(query);
}
Result<std::vector<events::DeploymentEvent>> EventStore::Deployments(const DeploymentQuery& query) const {
  return impl_->Deployments(query);
}
Result<std::vector<events::PipelineStageEvent>> EventStore::PipelineRuns(const PipelineRunQuery& query) const {
  return impl_->PipelineRuns(query);
}

Status EventStore::Maintain() { return impl_->Maintain(); }
void EventStore::StartBackground(std::chrono::milliseconds every) { impl_->StartBackground(every); }
Result<uint64_t> EventStore::StoredBytes(std::string_view org) const {
  if (impl_->closed()) return FailedPrecondition("the event store is closed");
  return impl_->StoredBytes(org);
}

uint64_t EventStore::Impl::StoredBytes(std::string_view org) const {
  uint64_t total = 0;
  MutexLock lock(&mu_);
  for (const auto& [start, p] : partitions_) total += p->OrgBytes(org);
  return total;
}

Status EventStore::Health() const {
  if (impl_->closed()) return FailedPrecondition("the event store is closed");
  return Status::Ok();
}

StoreStats EventStore::Stats() const { return impl_->Stats(); }
const std::string& EventStore::dir() const { return impl_->dir(); }

}  // namespace tyto::eventstore
