// EventStore: checking rows on the appending thread, the group-commit queue, and routing each
// row of a group to the partition of its timestamp.
#include <algorithm>

#include "common/log.h"
#include "common/units.h"
#include "eventstore/checks.h"
#include "eventstore/codec.h"
#include "eventstore/encryption.h"
#include "eventstore/store_impl.h"

namespace tyto::eventstore {

namespace {

const log::Logger kLog("eventstore");

// Write connections kept open at once: the current partition, the previous one (late spans),
// and a little more for senders with skewed clocks.
constexpr size_t kMaxOpenWriters = 4;

// Floor division (also for times before 1970).
int64_t FloorTo(int64_t t, int64_t d) {
  int64_t q = t / d;
  if (t % d != 0 && t < 0) --q;
  return q * d;
}

}  // namespace

const char* EventStore::Impl::CheckTime(int64_t time_ms, int64_t now_ms, std::string* why) const {
  return CheckAppendTime(options_.retention, options_.max_future, now_ms, time_ms, why);
}

void EventStore::Impl::Reject(Batch* b, std::string_view reason, const std::string& description) {
  ++b->result.rejected;
  if (b->result.first_rejection.empty()) b->result.first_rejection = description;
  metrics_.Rejected(b->table, reason).Inc();
}

Result<AppendResult> EventStore::Impl::AppendSpans(std::span<const events::Span> spans) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  Batch b;
  b.table = Table::kSpans;
  b.spans.reserve(spans.size());
  const int64_t now_ms = clock_->NowMillis();
  for (size_t i = 0; i < spans.size(); ++i) {
    const events::Span& s = spans[i];
    PreparedSpan p;
    p.span = &s;
    std::string why;
    const char* reason = DecodeSpanIds(s, &p.trace_id, &p.span_id, &p.parent_id, &why);
    if (reason == nullptr) {
      p.time_ms = NanosToMillis(s.start_unix_nano);
      reason = CheckTime(p.time_ms, now_ms, &why);
      if (reason != nullptr) why = "start " + why;
    }
    if (reason != nullptr) {
      Reject(&b, reason, "span " + std::to_string(i) + " (trace " + ShownId(s.trace_id) + "): " + why);
      continue;
    }
    AppendTraceTerm(&p.terms, p.trace_id);
    AppendAttributeTerms(options_.encryption.get(), s.attributes, &p.terms);
    TYTO_RETURN_IF_ERROR(SealSpan(options_.encryption.get(), s, &p.sealed));
    b.spans.push_back(std::move(p));
  }
  b.rows = b.spans.size();
  return Submit(&b);
}

Result<AppendResult> EventStore::Impl::AppendLogs(std::span<const events::LogRecord> logs) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  Batch b;
  b.table = Table::kLogs;
  b.logs.reserve(logs.size());
  const int64_t now_ms = clock_->NowMillis();
  for (size_t i = 0; i < logs.size(); ++i) {
    const events::LogRecord& l = logs[i];
    PreparedLog p;
    p.log = &l;
    p.time_ms = NanosToMillis(l.time_unix_nano);
    std::string why;
    if (const char* reason = CheckTime(p.time_ms, now_ms, &why)) {
      Reject(&b, reason, "log record " + std::to_string(i) + ": time " + why);
      continue;
    }
    p.trace_id = OptionalHexId(l.trace_id, 16);
    p.span_id = p.trace_id.empty() ? std::string() : OptionalHexId(l.span_id, 8);
    if (!p.trace_id.empty()) AppendTraceTerm(&p.terms, p.trace_id);
    AppendAttributeTerms(options_.encryption.get(), l.attributes, &p.terms);
    TYTO_RETURN_IF_ERROR(SealLog(options_.encryption.get(), l, &p.sealed));
    b.logs.push_back(std::move(p));
  }
  b.rows = b.logs.size();
  return Submit(&b);
}

Result<AppendResult> EventStore::Impl::AppendInferenceEvents(std::span<const events::InferenceEvent> events) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  Batch b;
  b.table = Table::kInferenceEvents;
  b.inference_events.reserve(events.size());
  const int64_t now_ms = clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    const events::InferenceEvent& e = events[i];
    std::string why;
    if (const char* reason = CheckTime(e.timestamp_ms, now_ms, &why)) {
      Reject(&b, reason, "inference event " + std::to_string(i) + ": timestamp " + why);
      continue;
    }
    PreparedInferenceEvent p;
    p.event = &e;
    p.trace_id = OptionalHexId(e.trace_id, 16);
    p.span_id = p.trace_id.empty() ? std::string() : OptionalHexId(e.span_id, 8);
    TYTO_RETURN_IF_ERROR(SealInferenceEvent(options_.encryption.get(), e, &p.sealed));
    b.inference_events.push_back(std::move(p));
  }
  b.rows = b.inference_events.size();
  return Submit(&b);
}

Result<AppendResult> EventStore::Impl::AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  Batch b;
  b.table = Table::kPipelineStages;
  const int64_t now_ms = clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    std::string why;
    if (const char* reason = CheckTime(events[i].start_ms, now_ms, &why)) {
      Reject(&b, reason, "pipeline stage event " + std::to_string(i) + ": start " + why);
      continue;
    }
    b.pipeline_stages.push_back(&events[i]);
  }
  b.rows = b.pipeline_stages.size();
  return Submit(&b);
}

Result<AppendResult> EventStore::Impl::AppendDeployments(std::span<const events::DeploymentEvent> events) {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  Batch b;
  b.table = Table::kDeployments;
  const int64_t now_ms = clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    std::string why;
    if (const char* reason = CheckTime(events[i].timestamp_ms, now_ms, &why)) {
      Reject(&b, reason, "deployment event " + std::to_string(i) + ": timestamp " + why);
      continue;
    }
    b.deployments.push_back(&events[i]);
  }
  b.rows = b.deployments.size();
  return Submit(&b);
}

// The queue works as LevelDB's writers_ queue: the batch at the front writes every batch queued
// behind it (up to max_group_rows) while the others wait, then wakes them; the next front batch
// leads the next group. No thread of its own, and under load many callers share one commit.
Result<AppendResult> EventStore::Impl::Submit(Batch* b) {
  if (b->rows == 0) return b->result;
  queue_mu_.Lock();
  if (queue_closed_) {
    queue_mu_.Unlock();
    return FailedPrecondition("the event store is closed");
  }
  if (!queue_.empty() && queued_rows_ + b->rows > options_.max_queued_rows) {
    const size_t waiting = queued_rows_;
    queue_mu_.Unlock();
    metrics_.Rejected(b->table, "busy").Inc(static_cast<double>(b->rows));
    return Unavailable("the event store is behind: " + std::to_string(waiting) +
                       " rows are waiting to be written; try again");
  }
  queued_rows_ += b->rows;
  queue_.push_back(b);
  while (!b->done && b != queue_.front()) queue_cv_.wait(queue_mu_.native());
  if (b->done) {
    queue_mu_.Unlock();
    if (!b->status.ok()) return b->status;
    return b->result;
  }
  std::vector<Batch*> group;
  size_t rows = 0;
  for (Batch* x : queue_) {
    if (!group.empty() && rows + x->rows > options_.max_group_rows) break;
    group.push_back(x);
    rows += x->rows;
  }
  queue_mu_.Unlock();

  bool wrote_logs = false;
  {
    MutexLock lock(&commit_mu_);
    WriteGroup(group);
    for (const Batch* x : group) wrote_logs |= !x->logs.empty();
  }

  queue_mu_.Lock();
  for (Batch* x : group) {
    queue_.pop_front();
    queued_rows_ -= x->rows;
    x->done = true;
  }
  queue_mu_.Unlock();
  queue_cv_.notify_all();
  if (wrote_logs) NotifyLogs(LastLogCursor());
  if (!b->status.ok()) return b->status;
  return b->result;
}

Result<std::shared_ptr<Partition>> EventStore::Impl::PartitionFor(int64_t time_ms, const char** reason) {
  int64_t start = 0;
  int64_t end = 0;
  {
    MutexLock lock(&mu_);
    if (time_ms < deleted_before_ms_) {
      *reason = "too_old";
      return std::shared_ptr<Partition>();
    }
    auto it = partitions_.upper_bound(time_ms);
    const int64_t next_start = it == partitions_.end() ? std::numeric_limits<int64_t>::max() : it->first;
    int64_t prev_end = std::numeric_limits<int64_t>::min();
    if (it != partitions_.begin()) {
      const std::shared_ptr<Partition>& prev = std::prev(it)->second;
      if (time_ms < prev->end_ms()) {
        if (!prev->readable()) {
          *reason = "unreadable_partition";
          return std::shared_ptr<Partition>();
        }
        return prev;
      }
      prev_end = prev->end_ms();
    }
    const int64_t d = options_.partition.count();
    start = std::max(FloorTo(time_ms, d), prev_end);
    end = std::min(FloorTo(time_ms, d) + d, next_start);
  }
  // Only the leader creates partitions, so none can appear in this range meanwhile.
  const std::string path = dir_ + "/" + PartitionFileName(start);
  if (env_->FileExists(path)) {
    return FailedPrecondition(path + " exists but is not a partition this store has open");
  }
  TYTO_ASSIGN_OR_RETURN(std::shared_ptr<Partition> p, Partition::Create(env_, path, start, end, PartitionSettings()));
  kLog.Debug("event store: new partition", {{"path", path}, {"end", FormatTimestamp(end)}});
  MutexLock lock(&mu_);
  partitions_[start] = p;
  PublishPartitionCount();
  return p;
}

void EventStore::Impl::WriteGroup(const std::vector<Batch*>& group) {
  if (writes_closed_) {
    for (Batch* b : group) b->status = FailedPrecondition("the event store is closed");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  for (Batch* b : group) {
    for (PreparedLog& l : b->logs) l.cursor = next_log_cursor_++;
  }

  struct Target {
    std::shared_ptr<Partition> partition;
    PartitionRows rows;
    std::vector<std::pair<Batch*, size_t>> counts;  // rows of each batch
  };
  std::map<int64_t, Target> targets;
  std::shared_ptr<Partition> last;
  auto route = [&](Batch* b, int64_t time_ms) NO_THREAD_SAFETY_ANALYSIS -> PartitionRows* {
    if (last == nullptr || time_ms < last->start_ms() || time_ms >= last->end_ms()) {
      const char* reason = nullptr;
      Result<std::shared_ptr<Partition>> p = PartitionFor(time_ms, &reason);
      if (!p.ok()) {
        kLog.Error("event store: could not create a partition", {{"error", p.status()}});
        if (b->status.ok()) b->status = p.status();
        metrics_.Rejected(b->table, "write_error").Inc();
        return nullptr;
      }
      if (*p == nullptr) {
        Reject(b, reason,
               "a row at " + FormatTimestamp(time_ms) + " falls in " +
                   (std::string_view(reason) == "too_old" ? "a deleted range" : "an unreadable partition"));
        return nullptr;
      }
      last = std::move(p).value();
    }
    Target& t = targets[last->start_ms()];
    if (t.partition == nullptr) t.partition = last;
    if (t.counts.empty() || t.counts.back().first != b) t.counts.emplace_back(b, 0);
    ++t.counts.back().second;
    return &t.rows;
  };
  for (Batch* b : group) {
    for (const PreparedSpan& r : b->spans) {
      if (PartitionRows* rows = route(b, r.time_ms)) rows->spans.push_back(&r);
    }
    for (const PreparedLog& r : b->logs) {
      if (PartitionRows* rows = route(b, r.time_ms)) rows->logs.push_back(&r);
    }
    for (const PreparedInferenceEvent& r : b->inference_events) {
      if (PartitionRows* rows = route(b, r.event->timestamp_ms)) rows->inference_events.push_back(&r);
    }
    for (const events::PipelineStageEvent* r : b->pipeline_stages) {
      if (PartitionRows* rows = route(b, r->start_ms)) rows->pipeline_stages.push_back(r);
    }
    for (const events::DeploymentEvent* r : b->deployments) {
      if (PartitionRows* rows = route(b, r->timestamp_ms)) rows->deployments.push_back(r);
    }
  }
  last.reset();

  for (auto& [start, t] : targets) {
    const std::shared_ptr<Partition>& written = t.partition;
    std::erase_if(open_writers_, [&written](const std::weak_ptr<Partition>& w) {
      std::shared_ptr<Partition> p = w.lock();
      return p == nullptr || p == written;
    });
    open_writers_.push_front(t.partition);
    while (open_writers_.size() > kMaxOpenWriters) {
      if (std::shared_ptr<Partition> p = open_writers_.back().lock()) {
        p->CloseIdleWriter(std::chrono::steady_clock::time_point::max());
      }
      open_writers_.pop_back();
    }
    Status s = t.partition->Write(t.rows, clock_->MonotonicNow());
    if (s.ok()) {
      for (auto& [b, n] : t.counts) {
        b->result.stored += n;
        metrics_.Appended(b->table).Inc(static_cast<double>(n));
      }
      continue;
    }
    kLog.Error("event store: a commit failed", {{"path", t.partition->path()}, {"error", s}});
    for (auto& [b, n] : t.counts) {
      if (b->status.ok()) b->status = s;
      metrics_.Rejected(b->table, "write_error").Inc(static_cast<double>(n));
    }
  }
  last_log_cursor_.store(next_log_cursor_ - 1, std::memory_order_release);
  metrics_.commit_duration.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  metrics_.commit_batches.Observe(static_cast<double>(group.size()));
}

void EventStore::Impl::NotifyLogs(uint64_t newest) {
  {
    MutexLock lock(&log_mu_);  // a waiter between its check and its wait cannot miss this
  }
  log_cv_.notify_all();
  MutexLock lock(&subs_mu_);
  for (const auto& [id, listener] : listeners_) listener(newest);
}

bool EventStore::Impl::WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) {
  // Real time: the wait is for other threads, not for something the clock schedules.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&log_mu_);
  while (LastLogCursor() <= cursor && !closed_.load()) {
    if (log_cv_.wait_until(log_mu_.native(), deadline) == std::cv_status::timeout) break;
  }
  return LastLogCursor() > cursor;
}

uint64_t EventStore::Impl::Subscribe(LogListener listener) {
  MutexLock lock(&subs_mu_);
  const uint64_t id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void EventStore::Impl::Unsubscribe(uint64_t id) {
  MutexLock lock(&subs_mu_);
  listeners_.erase(id);
}

}  // namespace tyto::eventstore
