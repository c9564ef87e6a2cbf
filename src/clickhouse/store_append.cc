// ClickHouseStore: checking rows on the appending thread, encoding them as RowBinary, the
// group-commit queues (one per table), and inserts with retries that never store a batch twice.
#include <algorithm>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "clickhouse/row_binary.h"
#include "clickhouse/sql.h"
#include "clickhouse/store_impl.h"
#include "common/log.h"
#include "common/units.h"
#include "eventstore/checks.h"
#include "eventstore/codec.h"
#include "eventstore/encryption.h"

namespace tyto::clickhouse {

namespace {

const log::Logger kLog("clickhouse");

using eventstore::AppendResult;
using eventstore::DecodeSpanIds;
using eventstore::NanosToMillis;
using eventstore::OptionalHexId;
using eventstore::ShownId;

void Attributes(const std::vector<events::Attribute>& attrs, RowBinaryWriter* w) {
  w->VarUInt(attrs.size());
  for (const events::Attribute& a : attrs) w->String(a.key);
  w->VarUInt(attrs.size());
  for (const events::Attribute& a : attrs) w->String(a.value);
}

void Fields(const std::vector<events::Field>& fields, RowBinaryWriter* w) {
  w->VarUInt(fields.size());
  for (const events::Field& f : fields) w->String(f.name);
  w->VarUInt(fields.size());
  for (const events::Field& f : fields) w->UInt8(f.is_number ? 1 : 0);
  w->VarUInt(fields.size());
  for (const events::Field& f : fields) w->Float64(f.is_number ? f.number : events::kUnknown);
  w->VarUInt(fields.size());
  for (const events::Field& f : fields) w->String(f.is_number ? std::string() : f.text);
}

// Starts a row of `org`: records the previous row's end, writes the time column.
void BeginRow(Pending* p, std::string_view org, int64_t second, RowBinaryWriter* w) {
  p->orgs.emplace_back(eventstore::OrgOf(org));
  const int64_t s = ClampSecond(second);
  if (p->rows == 0 || s < p->min_second) p->min_second = s;
  if (p->rows == 0 || s > p->max_second) p->max_second = s;
  w->UInt32(static_cast<uint32_t>(s));
}
void EndRow(Pending* p) {
  p->ends.push_back(p->encoded.size());
  ++p->rows;
}

std::string_view TableLabel(TableId t) { return Spec(t).name; }

}  // namespace

const char* ClickHouseStore::Impl::CheckTime(int64_t time_ms, int64_t now_ms, std::string* why) const {
  return eventstore::CheckAppendTime(config_.retention, config_.max_future, now_ms, time_ms, why);
}

void ClickHouseStore::Impl::Reject(Pending* p, std::string_view reason, const std::string& description) {
  ++p->result.rejected;
  if (p->result.first_rejection.empty()) p->result.first_rejection = description;
  metrics_.rejected.WithLabels({TableLabel(p->table), reason}).Inc();
}

Result<AppendResult> ClickHouseStore::AppendSpans(std::span<const events::Span> spans,
                                                     const eventstore::AppendOptions& options) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  Pending p(TableId::kSpans, options);
  ArrivingAppend arriving(&m, &p);
  RowBinaryWriter w(&p.encoded);
  const int64_t now_ms = m.clock_->NowMillis();
  std::string trace_id;
  std::string span_id;
  std::string parent_id;
  for (size_t i = 0; i < spans.size(); ++i) {
    std::optional<events::Span> sealed;
    TYTO_RETURN_IF_ERROR(eventstore::SealSpan(m.encryption_.get(), spans[i], &sealed));
    const events::Span& s = sealed ? *sealed : spans[i];
    std::string why;
    const char* reason = DecodeSpanIds(s, &trace_id, &span_id, &parent_id, &why);
    if (reason == nullptr) {
      reason = m.CheckTime(NanosToMillis(s.start_unix_nano), now_ms, &why);
      if (reason != nullptr) why = "start " + why;
    }
    if (reason != nullptr) {
      m.Reject(&p, reason, "span " + std::to_string(i) + " (trace " + ShownId(s.trace_id) + "): " + why);
      continue;
    }
    BeginRow(&p, s.org, FloorDiv(s.start_unix_nano, 1'000'000'000), &w);
    w.Int64(s.start_unix_nano);
    w.Int64(s.end_unix_nano - s.start_unix_nano);
    w.FixedString(trace_id, 16);
    w.FixedString(span_id, 8);
    w.FixedString(parent_id, 8);
    w.String(s.service);
    w.String(s.name);
    w.UInt8(static_cast<uint8_t>(s.kind));
    w.UInt8(static_cast<uint8_t>(s.status));
    w.String(s.status_message);
    w.String(s.scope_name);
    w.String(eventstore::SpanModel(s));
    Attributes(s.attributes, &w);
    Attributes(s.resource, &w);
    w.VarUInt(s.events.size());
    for (const events::SpanEvent& e : s.events) w.Int64(e.time_unix_nano);
    w.VarUInt(s.events.size());
    for (const events::SpanEvent& e : s.events) w.String(e.name);
    w.VarUInt(s.events.size());
    for (const events::SpanEvent& e : s.events) {
      w.VarUInt(e.attributes.size());
      for (const events::Attribute& a : e.attributes) w.String(a.key);
    }
    w.VarUInt(s.events.size());
    for (const events::SpanEvent& e : s.events) {
      w.VarUInt(e.attributes.size());
      for (const events::Attribute& a : e.attributes) w.String(a.value);
    }
    EndRow(&p);
    p.trace_starts.emplace_back(trace_id + std::string(eventstore::OrgOf(s.org)), s.start_unix_nano);
  }
  return m.Submit(&p);
}

Result<AppendResult> ClickHouseStore::AppendLogs(std::span<const events::LogRecord> logs,
                                                     const eventstore::AppendOptions& options) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  Pending p(TableId::kLogs, options);
  ArrivingAppend arriving(&m, &p);
  RowBinaryWriter w(&p.encoded);
  const int64_t now_ms = m.clock_->NowMillis();
  for (size_t i = 0; i < logs.size(); ++i) {
    std::optional<events::LogRecord> sealed;
    TYTO_RETURN_IF_ERROR(eventstore::SealLog(m.encryption_.get(), logs[i], &sealed));
    const events::LogRecord& l = sealed ? *sealed : logs[i];
    std::string why;
    if (const char* reason = m.CheckTime(NanosToMillis(l.time_unix_nano), now_ms, &why)) {
      m.Reject(&p, reason, "log record " + std::to_string(i) + ": time " + why);
      continue;
    }
    const std::string trace_id = OptionalHexId(l.trace_id, 16);
    const std::string span_id = trace_id.empty() ? std::string() : OptionalHexId(l.span_id, 8);
    BeginRow(&p, l.org, FloorDiv(l.time_unix_nano, 1'000'000'000), &w);
    w.Int64(l.time_unix_nano);
    w.Int32(l.severity_number);
    w.String(l.severity_text);
    w.String(l.body);
    w.FixedString(trace_id, 16);
    w.FixedString(span_id, 8);
    w.String(l.service);
    Attributes(l.attributes, &w);
    Attributes(l.resource, &w);
    EndRow(&p);
  }
  return m.Submit(&p);
}

Result<AppendResult> ClickHouseStore::AppendInferenceEvents(std::span<const events::InferenceEvent> events,
                                                     const eventstore::AppendOptions& options) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  Pending p(TableId::kInferenceEvents, options);
  ArrivingAppend arriving(&m, &p);
  RowBinaryWriter w(&p.encoded);
  const int64_t now_ms = m.clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    std::optional<events::InferenceEvent> sealed;
    TYTO_RETURN_IF_ERROR(eventstore::SealInferenceEvent(m.encryption_.get(), events[i], &sealed));
    const events::InferenceEvent& e = sealed ? *sealed : events[i];
    std::string why;
    if (const char* reason = m.CheckTime(e.timestamp_ms, now_ms, &why)) {
      m.Reject(&p, reason, "inference event " + std::to_string(i) + ": timestamp " + why);
      continue;
    }
    const std::string trace_id = OptionalHexId(e.trace_id, 16);
    const std::string span_id = trace_id.empty() ? std::string() : OptionalHexId(e.span_id, 8);
    BeginRow(&p, e.org, FloorDiv(e.timestamp_ms, 1000), &w);
    w.Int64(e.timestamp_ms);
    for (const std::string* s : {&e.request_id, &e.model, &e.model_version, &e.endpoint, &e.tenant, &e.service,
                                 &e.provider, &e.operation, &e.node}) {
      w.String(*s);
    }
    w.UInt8(e.error ? 1 : 0);
    w.String(e.error_type);
    w.Float64(e.latency_s);
    w.Float64(e.queue_s);
    w.Float64(e.ttft_s);
    w.Int64(e.input_tokens);
    w.Int64(e.output_tokens);
    w.StringArray(e.finish_reasons);
    w.String(e.conversation_id);
    w.String(e.prompt);
    w.String(e.response);
    Fields(e.features, &w);
    Fields(e.prediction, &w);
    w.FixedString(trace_id, 16);
    w.FixedString(span_id, 8);
    w.String(e.user);
    EndRow(&p);
  }
  return m.Submit(&p);
}

Result<AppendResult> ClickHouseStore::AppendPipelineStageEvents(std::span<const events::PipelineStageEvent> events,
                                                     const eventstore::AppendOptions& options) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  Pending p(TableId::kPipelineStages, options);
  ArrivingAppend arriving(&m, &p);
  RowBinaryWriter w(&p.encoded);
  const int64_t now_ms = m.clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    const events::PipelineStageEvent& e = events[i];
    std::string why;
    if (const char* reason = m.CheckTime(e.start_ms, now_ms, &why)) {
      m.Reject(&p, reason, "pipeline stage event " + std::to_string(i) + ": start " + why);
      continue;
    }
    BeginRow(&p, "", FloorDiv(e.start_ms, 1000), &w);
    w.Int64(e.start_ms);
    w.Int64(e.end_ms);
    w.String(e.pipeline);
    w.String(e.stage);
    w.String(e.run_id);
    w.Int64(e.rows_in);
    w.Int64(e.rows_out);
    w.Int64(e.rows_rejected);
    w.String(e.schema_fingerprint);
    w.VarUInt(e.fields.size());
    for (const auto& f : e.fields) w.String(f.name);
    w.VarUInt(e.fields.size());
    for (const auto& f : e.fields) w.String(f.type);
    w.UInt8(e.failed ? 1 : 0);
    w.String(e.error);
    EndRow(&p);
  }
  return m.Submit(&p);
}

Result<AppendResult> ClickHouseStore::AppendDeployments(std::span<const events::DeploymentEvent> events,
                                                     const eventstore::AppendOptions& options) {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  Pending p(TableId::kDeployments, options);
  ArrivingAppend arriving(&m, &p);
  RowBinaryWriter w(&p.encoded);
  const int64_t now_ms = m.clock_->NowMillis();
  for (size_t i = 0; i < events.size(); ++i) {
    const events::DeploymentEvent& e = events[i];
    std::string why;
    if (const char* reason = m.CheckTime(e.timestamp_ms, now_ms, &why)) {
      m.Reject(&p, reason, "deployment event " + std::to_string(i) + ": timestamp " + why);
      continue;
    }
    BeginRow(&p, "", FloorDiv(e.timestamp_ms, 1000), &w);
    w.Int64(e.timestamp_ms);
    for (const std::string* s : {&e.model, &e.version, &e.previous_version, &e.action, &e.who, &e.note}) w.String(*s);
    EndRow(&p);
  }
  return m.Submit(&p);
}

void ClickHouseStore::Impl::Arrive(Pending* p) {
  p->caller = std::this_thread::get_id();
  MutexLock lock(&queue_mu_);
  const size_t t = static_cast<size_t>(p->table);
  ++arriving_[t];
  p->arriving = true;
  std::vector<std::thread::id>& r = returning_[t];
  if (auto it = std::find(r.begin(), r.end(), p->caller); it != r.end()) {
    *it = r.back();
    r.pop_back();
  }
}

void ClickHouseStore::Impl::Leave(Pending* p) {
  if (!p->arriving) return;  // only this append's thread changes the flag
  {
    MutexLock lock(&queue_mu_);
    if (!p->arriving) return;
    --arriving_[static_cast<size_t>(p->table)];
    p->arriving = false;
  }
  queue_cv_.notify_all();  // a leader waiting for it
}

// The queue works as the embedded store's: the batch at the front inserts every batch queued
// behind it (up to batch_rows) while the others wait, then wakes them; the next front batch
// leads the next insert. One insert per table at a time per server.
//
// How long the leader waits for more rows (never more than flush_interval, never once
// batch_rows are queued): while another append to the table is still encoding its rows, or a
// thread whose rows were in the table's last insert has not appended again (busy callers come
// straight back: concurrent appends then share one insert instead of taking turns), and
// otherwise until flush_interval after the table's previous insert began. So at light load a
// table gets at most one insert per flush_interval, and under load, when an insert takes longer
// than flush_interval and its callers are back, the rows go at once in one insert.
Result<AppendResult> ClickHouseStore::Impl::Submit(Pending* p) {
  if (p->rows == 0) return p->result;
  if (p->maybe_repeated && !p->source.empty()) {
    // Stored before? One insert is one part, and a body cut short stores the rows before the cut:
    // an earlier copy holds all of the batch's rows, none, or its first ones. Only the rest is
    // inserted. An earlier copy's insert still running (its server died meanwhile) ends first.
    AwaitRunningInserts(p->table);
    TYTO_ASSIGN_OR_RETURN(uint64_t found, CountSource(p->table, p->source, p->min_second, p->max_second));
    if (found > 0) metrics_.repeated.WithLabels({TableLabel(p->table)}).Inc();
    if (found >= p->rows) {
      if (p->arriving) Leave(p);
      p->result.stored = p->rows;
      return p->result;
    }
    if (found > 0) {
      const size_t k = static_cast<size_t>(found);
      const size_t cut = p->ends[k - 1];
      p->encoded.erase(0, cut);
      p->ends.erase(p->ends.begin(), p->ends.begin() + static_cast<std::ptrdiff_t>(k));
      for (size_t& end : p->ends) end -= cut;
      p->orgs.erase(p->orgs.begin(), p->orgs.begin() + static_cast<std::ptrdiff_t>(k));
      p->rows -= k;
      p->stored_before = k;
    }
  }
  const size_t t = static_cast<size_t>(p->table);
  queue_mu_.Lock();
  if (p->arriving) {
    --arriving_[t];
    p->arriving = false;
  }
  if (closed_.load()) {
    queue_mu_.Unlock();
    return FailedPrecondition("the ClickHouse store is closed");
  }
  std::deque<Pending*>& q = queues_[t];
  if (!q.empty() && queued_rows_[t] + p->rows > config_.max_queued_rows) {
    const size_t waiting = queued_rows_[t];
    queue_mu_.Unlock();
    metrics_.rejected.WithLabels({TableLabel(p->table), "busy"}).Inc(static_cast<double>(p->rows));
    return Unavailable("the ClickHouse store is behind: " + std::to_string(waiting) +
                       " rows are waiting to be inserted; try again");
  }
  queued_rows_[t] += p->rows;
  q.push_back(p);
  queue_cv_.notify_all();  // a leader waiting for more rows
  while (!p->done && p != q.front()) queue_cv_.wait(queue_mu_.native());
  if (p->done) {
    queue_mu_.Unlock();
    if (!p->status.ok()) return p->status;
    return p->result;
  }
  // The leader: wait for more rows to join (see above), then take what is queued.
  if (config_.flush_interval.count() > 0) {
    const auto until = std::chrono::steady_clock::now() + config_.flush_interval;
    while (queued_rows_[t] < config_.batch_rows && !closed_.load()) {
      const auto now = std::chrono::steady_clock::now();
      const auto paced = last_insert_[t] + config_.flush_interval;
      const bool coming = arriving_[t] > 0 || !returning_[t].empty();
      if (now >= until || (!coming && now >= paced)) break;
      queue_cv_.wait_until(queue_mu_.native(), coming ? until : std::min(until, paced));
    }
  }
  last_insert_[t] = std::chrono::steady_clock::now();
  std::vector<Pending*> group;
  size_t rows = 0;
  for (Pending* x : q) {
    if (!group.empty() && rows + x->rows > config_.batch_rows) break;
    group.push_back(x);
    rows += x->rows;
  }
  ++inserting_;
  queue_mu_.Unlock();

  Status s = closed_.load() ? FailedPrecondition("the ClickHouse store is closed") : WriteGroup(p->table, group);

  queue_mu_.Lock();
  returning_[t].clear();
  for (Pending* x : group) {
    if (std::find(returning_[t].begin(), returning_[t].end(), x->caller) == returning_[t].end()) {
      returning_[t].push_back(x->caller);
    }
    q.pop_front();
    queued_rows_[t] -= x->rows;
    x->done = true;
    if (!s.ok()) {
      x->status = s;
    } else {
      x->result.stored = x->stored_before + x->rows;
    }
  }
  --inserting_;
  queue_mu_.Unlock();
  queue_cv_.notify_all();
  if (s.ok() && p->table == TableId::kLogs) {
    {
      MutexLock lock(&tail_mu_);
    }
    tail_cv_.notify_all();
    const uint64_t newest = own_committed_.load();
    MutexLock lock(&subs_mu_);
    for (const auto& [id, listener] : listeners_) listener(newest);
  }
  if (!p->status.ok()) return p->status;
  return p->result;
}

Status ClickHouseStore::Impl::WriteGroup(TableId table, const std::vector<Pending*>& group) {
  size_t rows = 0;
  int64_t min_second = group.front()->min_second;
  int64_t max_second = group.front()->max_second;
  for (const Pending* x : group) {
    rows += x->rows;
    min_second = std::min(min_second, x->min_second);
    max_second = std::max(max_second, x->max_second);
  }
  const uint64_t base = ids_.Reserve(rows);
  const uint64_t writer = ids_.writer_id();
  const uint64_t batch_id = MakeId(base, writer);
  const bool logs = table == TableId::kLogs;
  std::string body;
  size_t bytes = 0;
  for (const Pending* x : group) bytes += x->encoded.size() + x->rows * 20;
  body.reserve(bytes);
  RowBinaryWriter w(&body);
  std::vector<size_t> row_ends;
  row_ends.reserve(rows);
  uint32_t seq = 0;
  for (const Pending* x : group) {
    size_t begin = 0;
    for (size_t r = 0; r < x->ends.size(); ++r) {
      const size_t end = x->ends[r];
      w.UInt64(batch_id);
      w.UInt32(seq);
      w.String(x->source);
      w.String(x->orgs[r]);
      if (logs) w.UInt64(MakeId(base + seq, writer));
      body.append(x->encoded, begin, end - begin);
      row_ends.push_back(body.size());
      begin = end;
      ++seq;
    }
  }
  Status s;
  if (table == TableId::kSpans) {
    // trace_index first: one row per trace of the batch, with the range of its spans' starts.
    // Before the spans, so spans are never stored without their index rows (a server dying in
    // between, whose batch is then found by its source and not inserted again, would leave them
    // unfindable by trace id); an index row whose spans never came, or one written twice, only
    // widens a lookup's range (GetTrace takes min and max over a trace's rows).
    std::unordered_map<std::string, std::pair<int64_t, int64_t>> traces;
    for (const Pending* x : group) {
      for (const auto& [trace, start] : x->trace_starts) {
        auto [it, fresh] = traces.try_emplace(trace, start, start);
        if (!fresh) {
          it->second.first = std::min(it->second.first, start);
          it->second.second = std::max(it->second.second, start);
        }
      }
    }
    std::string index;
    std::vector<size_t> index_ends;
    RowBinaryWriter iw(&index);
    uint32_t n = 0;
    int64_t lo = 0;
    int64_t hi = 0;
    for (const auto& [trace, range] : traces) {
      const int64_t second = ClampSecond(FloorDiv(range.first, 1'000'000'000));
      lo = n == 0 ? second : std::min(lo, second);
      hi = n == 0 ? second : std::max(hi, second);
      iw.UInt64(batch_id);
      iw.UInt32(n++);
      iw.String("");
      iw.String(std::string_view(trace).substr(16));  // org
      iw.UInt32(static_cast<uint32_t>(second));
      iw.FixedString(std::string_view(trace).substr(0, 16), 16);
      iw.Int64(range.first);
      iw.Int64(range.second);
      index_ends.push_back(index.size());
    }
    if (n > 0) s = InsertBatch(TableId::kTraceIndex, batch_id, index, index_ends, lo, hi);
  }
  if (s.ok()) {
    if (logs) logs_in_flight_.store(batch_id);
    s = InsertBatch(table, batch_id, body, row_ends, min_second, max_second);
    if (logs) {
      if (s.ok()) {
        const uint64_t last = MakeId(base + rows - 1, writer);
        uint64_t prev = own_committed_.load();
        while (prev < last && !own_committed_.compare_exchange_weak(prev, last)) {
        }
      }
      logs_in_flight_.store(0);
    }
  }
  if (s.ok()) {
    metrics_.inserted.WithLabels({TableLabel(table)}).Inc(static_cast<double>(rows));
  } else {
    metrics_.rejected.WithLabels({TableLabel(table), "insert_error"}).Inc(static_cast<double>(rows));
  }
  return s;
}

Result<uint64_t> ClickHouseStore::Impl::CountSource(TableId table, const std::string& source, int64_t min_second,
                                                    int64_t max_second) {
  const std::string sql = "SELECT count() FROM " + layout_.Table(table) + " WHERE source = " + QuoteString(source) +
                          " AND time >= toDateTime(" + std::to_string(min_second) + ") AND time <= toDateTime(" +
                          std::to_string(max_second) + ") FORMAT RowBinary";
  const size_t server = next_server_.fetch_add(1) % conn_.servers();
  Result<std::string> counted = conn_.Query(server, sql, config_.query_timeout);
  if (!counted.ok()) {
    metrics_.errors.WithLabels({"query"}).Inc();
    return Unavailable("looking for an earlier copy of the batch: " + counted.status().message());
  }
  RowBinaryReader in(*counted);
  return in.UInt64();
}

void ClickHouseStore::Impl::AwaitRunningInserts(TableId table) {
  const std::string prefix = "tyto-" + std::string(TableLabel(table)) + "-";
  const std::string sql = "SELECT query_id FROM system.processes WHERE query_id LIKE " + QuoteString(prefix + "%") +
                          " FORMAT TabSeparated";
  // The running inserts into the table, per server: other writers', and this one's own (a server
  // restarted with the same writer_id is its dead predecessor's writer too; waiting for an own
  // insert only waits for one insert).
  auto running = [&](size_t server) {
    std::set<std::string> ids;
    Result<std::string> r = conn_.Query(server, sql, config_.query_timeout);
    if (!r.ok()) {
      metrics_.errors.WithLabels({"query"}).Inc();
      return ids;  // the count that follows fails the same way, or the server went away
    }
    std::string_view rest = *r;
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      const std::string_view id = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!id.empty()) ids.emplace(id);
    }
    return ids;
  };
  const auto deadline = std::chrono::steady_clock::now() + config_.insert_timeout;
  for (size_t server = 0; server < conn_.servers(); ++server) {
    std::set<std::string> waiting = running(server);
    while (!waiting.empty() && !closed_.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::set<std::string> now = running(server);
      std::erase_if(waiting, [&](const std::string& id) { return now.count(id) == 0; });
    }
    for (const std::string& id : waiting) {
      // Still running after an insert's whole timeout: its writer (alive) would have stopped it.
      (void)conn_.Query(server, "KILL QUERY WHERE query_id = " + QuoteString(id) + " SYNC", config_.query_timeout);
    }
  }
}

Status ClickHouseStore::Impl::InsertBatch(TableId table, uint64_t batch_id, const std::string& body,
                                          const std::vector<size_t>& row_ends, int64_t min_second,
                                          int64_t max_second) {
  const size_t rows = row_ends.size();
  size_t stored = 0;  // leading rows known to be in (a failed insert stored a prefix)
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + config_.retry_for;
  const std::string statement = layout_.InsertStatement(table);
  const std::string query_id = "tyto-" + std::string(TableLabel(table)) + "-" + std::to_string(batch_id);
  std::vector<std::pair<std::string, std::string>> params;
  if (!layout_.cluster.empty()) params.emplace_back("insert_distributed_sync", "1");
  const std::string count_sql = "SELECT count() FROM " + layout_.Table(table) +
                                " WHERE batch_id = " + std::to_string(batch_id) + " AND time >= toDateTime(" +
                                std::to_string(min_second) + ") AND time <= toDateTime(" +
                                std::to_string(max_second) + ") FORMAT RowBinary";
  const std::string kill_sql = "KILL QUERY WHERE query_id = " + QuoteString(query_id) + " SYNC";
  size_t server = next_server_.fetch_add(1) % conn_.servers();
  auto finish = [&](Status s) {
    if (s.ok()) {
      metrics_.batches.WithLabels({TableLabel(table)}).Inc();
      metrics_.insert_duration.WithLabels({TableLabel(table)})
          .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    return s;
  };
  int attempt = 0;
  while (true) {
    CallError err;
    Status s = conn_.Insert(server, statement, stored == 0 ? body : body.substr(row_ends[stored - 1]), query_id,
                            config_.insert_timeout, &err, params);
    if (s.ok()) return finish(Status::Ok());
    metrics_.errors.WithLabels({"insert"}).Inc();
    if (err.http_status != 0 && !IsTransient(err.exception_code) && err.http_status != 502 &&
        err.http_status != 503 && err.http_status != 504) {
      // ClickHouse answered and refused the rows: nothing was stored, and trying again would not help.
      kLog.Error("clickhouse: an insert was refused", {{"table", std::string(TableLabel(table))}, {"error", s}});
      return s;
    }
    kLog.Warn("clickhouse: an insert failed; checking before trying again",
              {{"table", std::string(TableLabel(table))}, {"batch_id", std::to_string(batch_id)}, {"error", s}});
    // Until the batch's fate is known: stop the query if it still runs, then count its rows.
    while (true) {
      if (closed_.load()) return Unavailable("the ClickHouse store closed while retrying: " + s.message());
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        return Unavailable("ClickHouse did not take the batch within " + FormatDuration(config_.retry_for) + ": " +
                           s.message());
      }
      const auto wait = std::chrono::milliseconds(std::min<int64_t>(100LL << std::min(attempt, 5), 2000));
      const auto wake = std::min(deadline, now + wait);
      while (std::chrono::steady_clock::now() < wake && !closed_.load()) {
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            wake - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
      }
      ++attempt;
      metrics_.retries.WithLabels({TableLabel(table)}).Inc();
      // The query ran (or runs) on `server`: only that server can stop it.
      if (Result<std::string> k = conn_.Query(server, kill_sql, config_.query_timeout); !k.ok()) {
        s = k.status();
        continue;
      }
      Result<std::string> counted = conn_.Query(server, count_sql, config_.query_timeout);
      if (!counted.ok()) {
        s = counted.status();
        continue;
      }
      RowBinaryReader in(*counted);
      Result<uint64_t> n = in.UInt64();
      if (!n.ok()) return n.status().WithContext("counting batch " + std::to_string(batch_id));
      if (*n == rows) {
        metrics_.found_after_retry.WithLabels({TableLabel(table)}).Inc();
        return finish(Status::Ok());
      }
      if (*n < stored || *n > rows) {
        return Internal("batch " + std::to_string(batch_id) + " of " + std::string(TableLabel(table)) + ": " +
                        std::to_string(*n) + " of " + std::to_string(rows) + " rows found after a failed insert (" +
                        std::to_string(stored) + " known stored)");
      }
      stored = static_cast<size_t>(*n);  // none, or the rows before where the body was cut: the rest again
      break;
    }
  }
}

}  // namespace tyto::clickhouse
