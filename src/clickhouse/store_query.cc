// ClickHouseStore: the queries, as SELECT ... FORMAT RowBinary on any server (the Distributed
// tables see every shard), decoded with RowBinaryReader. Every value from the caller reaches
// the SQL through sql.h's quoting.
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "clickhouse/row_binary.h"
#include "clickhouse/sql.h"
#include "clickhouse/store_impl.h"
#include "eventstore/codec.h"
#include "eventstore/checks.h"
#include "eventstore/encryption.h"
#include "eventstore/trace_tree.h"

namespace tyto::clickhouse {

namespace {

using eventstore::CheckAttributes;
using eventstore::CheckRange;
using eventstore::DecodeHexId;
using eventstore::HexId;
using eventstore::LogEntry;
using eventstore::LogPage;
using eventstore::LogQuery;
using eventstore::QueryLimit;
using eventstore::QueryTimer;
using eventstore::SortAndDeduplicateSpans;
using eventstore::SummarizeTrace;
using eventstore::TraceSummary;

// Trace ids per query (the query text stays well under max_query_size, 256 KiB by default).
constexpr size_t kIdsPerQuery = 500;

std::string Int(int64_t v) { return std::to_string(v); }

// Conditions on the `time` column (DateTime seconds) covering [start, end] in `unit`s per
// second, so ClickHouse reads only the day partitions that may hold rows.
std::string TimeRange(int64_t start, int64_t end, int64_t per_second) {
  return " AND time >= toDateTime(" + Int(ClampSecond(FloorDiv(start, per_second))) + ") AND time <= toDateTime(" +
         Int(ClampSecond(FloorDiv(end, per_second))) + ")";
}

// A filter holds on a row when its key has the value on the record's own attributes, or else on
// its resource's (as the embedded store checks them).
std::string AttributeConditions(const std::vector<eventstore::AttributeFilter>& filters) {
  std::string sql;
  for (const auto& f : filters) {
    const std::string k = QuoteString(f.key);
    const std::string v = QuoteString(f.value);
    sql += " AND ((indexOf(attribute_keys, " + k + ") > 0 AND attribute_values[indexOf(attribute_keys, " + k +
           ")] = " + v + ") OR (indexOf(resource_keys, " + k + ") > 0 AND resource_values[indexOf(resource_keys, " +
           k + ")] = " + v + "))";
  }
  return sql;
}

// An id stored as FixedString: empty when all zero (none).
std::string IdHex(const std::string& bytes) {
  if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; })) return "";
  return HexId(bytes);
}

Result<std::vector<events::Attribute>> ReadAttributes(RowBinaryReader& in) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> keys, in.StringArray());
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> values, in.StringArray());
  if (keys.size() != values.size()) {
    return Corruption("ClickHouse returned " + std::to_string(keys.size()) + " attribute keys and " +
                      std::to_string(values.size()) + " values");
  }
  std::vector<events::Attribute> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) out.push_back({std::move(keys[i]), std::move(values[i])});
  return out;
}

Result<std::vector<events::Field>> ReadFields(RowBinaryReader& in) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, in.StringArray());
  TYTO_ASSIGN_OR_RETURN(uint64_t n_flags, in.ArraySize(1));
  std::vector<uint8_t> flags;
  for (uint64_t i = 0; i < n_flags; ++i) {
    TYTO_ASSIGN_OR_RETURN(uint8_t f, in.UInt8());
    flags.push_back(f);
  }
  TYTO_ASSIGN_OR_RETURN(uint64_t n_numbers, in.ArraySize(8));
  std::vector<double> numbers;
  for (uint64_t i = 0; i < n_numbers; ++i) {
    TYTO_ASSIGN_OR_RETURN(double d, in.Float64());
    numbers.push_back(d);
  }
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> texts, in.StringArray());
  if (flags.size() != names.size() || numbers.size() != names.size() || texts.size() != names.size()) {
    return Corruption("ClickHouse returned fields whose arrays differ in length");
  }
  std::vector<events::Field> out;
  for (size_t i = 0; i < names.size(); ++i) {
    events::Field f;
    f.name = std::move(names[i]);
    f.is_number = flags[i] != 0;
    f.number = numbers[i];
    if (!f.is_number) f.text = std::move(texts[i]);
    out.push_back(std::move(f));
  }
  return out;
}

events::SpanKind KindFromInt(uint8_t v) {
  return v <= 5 ? static_cast<events::SpanKind>(v) : events::SpanKind::kUnspecified;
}
events::StatusCode StatusFromInt(uint8_t v) {
  return v <= 2 ? static_cast<events::StatusCode>(v) : events::StatusCode::kUnset;
}

constexpr const char* kSpanColumns =
    "trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status, status_message, "
    "scope_name, attribute_keys, attribute_values, resource_keys, resource_values, event_times, event_names, "
    "event_attribute_keys, event_attribute_values";

Result<events::Span> ReadSpan(RowBinaryReader& in) {
  events::Span s;
  TYTO_ASSIGN_OR_RETURN(std::string trace, in.FixedString(16));
  TYTO_ASSIGN_OR_RETURN(std::string span, in.FixedString(8));
  TYTO_ASSIGN_OR_RETURN(std::string parent, in.FixedString(8));
  s.trace_id = IdHex(trace);
  s.span_id = IdHex(span);
  s.parent_span_id = IdHex(parent);
  TYTO_ASSIGN_OR_RETURN(s.service, in.String());
  TYTO_ASSIGN_OR_RETURN(s.name, in.String());
  TYTO_ASSIGN_OR_RETURN(uint8_t kind, in.UInt8());
  s.kind = KindFromInt(kind);
  TYTO_ASSIGN_OR_RETURN(s.start_unix_nano, in.Int64());
  TYTO_ASSIGN_OR_RETURN(int64_t duration, in.Int64());
  s.end_unix_nano = s.start_unix_nano + duration;
  TYTO_ASSIGN_OR_RETURN(uint8_t status, in.UInt8());
  s.status = StatusFromInt(status);
  TYTO_ASSIGN_OR_RETURN(s.status_message, in.String());
  TYTO_ASSIGN_OR_RETURN(s.scope_name, in.String());
  TYTO_ASSIGN_OR_RETURN(s.attributes, ReadAttributes(in));
  TYTO_ASSIGN_OR_RETURN(s.resource, ReadAttributes(in));
  TYTO_ASSIGN_OR_RETURN(uint64_t n_times, in.ArraySize(8));
  std::vector<int64_t> times;
  for (uint64_t i = 0; i < n_times; ++i) {
    TYTO_ASSIGN_OR_RETURN(int64_t t, in.Int64());
    times.push_back(t);
  }
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, in.StringArray());
  TYTO_ASSIGN_OR_RETURN(uint64_t n_keys, in.ArraySize(1));
  std::vector<std::vector<std::string>> keys;
  for (uint64_t i = 0; i < n_keys; ++i) {
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> k, in.StringArray());
    keys.push_back(std::move(k));
  }
  TYTO_ASSIGN_OR_RETURN(uint64_t n_values, in.ArraySize(1));
  std::vector<std::vector<std::string>> values;
  for (uint64_t i = 0; i < n_values; ++i) {
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> v, in.StringArray());
    values.push_back(std::move(v));
  }
  if (names.size() != times.size() || keys.size() != times.size() || values.size() != times.size()) {
    return Corruption("ClickHouse returned span events whose arrays differ in length");
  }
  for (size_t i = 0; i < times.size(); ++i) {
    if (keys[i].size() != values[i].size()) return Corruption("ClickHouse returned a span event's attributes unpaired");
    events::SpanEvent e;
    e.time_unix_nano = times[i];
    e.name = std::move(names[i]);
    for (size_t k = 0; k < keys[i].size(); ++k) e.attributes.push_back({std::move(keys[i][k]), std::move(values[i][k])});
    s.events.push_back(std::move(e));
  }
  return s;
}

constexpr const char* kLogColumns =
    "cursor, time_ns, severity_number, severity_text, body, trace_id, span_id, service, attribute_keys, "
    "attribute_values, resource_keys, resource_values";

Result<LogEntry> ReadLog(RowBinaryReader& in) {
  LogEntry e;
  events::LogRecord& r = e.record;
  TYTO_ASSIGN_OR_RETURN(e.cursor, in.UInt64());
  TYTO_ASSIGN_OR_RETURN(r.time_unix_nano, in.Int64());
  TYTO_ASSIGN_OR_RETURN(r.severity_number, in.Int32());
  TYTO_ASSIGN_OR_RETURN(r.severity_text, in.String());
  TYTO_ASSIGN_OR_RETURN(r.body, in.String());
  TYTO_ASSIGN_OR_RETURN(std::string trace, in.FixedString(16));
  TYTO_ASSIGN_OR_RETURN(std::string span, in.FixedString(8));
  r.trace_id = IdHex(trace);
  r.span_id = IdHex(span);
  TYTO_ASSIGN_OR_RETURN(r.service, in.String());
  TYTO_ASSIGN_OR_RETURN(r.attributes, ReadAttributes(in));
  TYTO_ASSIGN_OR_RETURN(r.resource, ReadAttributes(in));
  return e;
}

// The SQL filter of a log query, without the time range; `text` checked and translated.
Result<std::string> LogConditions(const LogQuery& q) {
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_unix_nano, q.end_unix_nano, "ns"));
  TYTO_RETURN_IF_ERROR(CheckAttributes(q.attributes));
  std::string sql;
  if (!q.text.empty()) {
    TYTO_ASSIGN_OR_RETURN(std::string cond, SearchTextCondition("body", q.text));
    sql += " AND " + cond;
  }
  if (!q.trace_id.empty()) {
    std::string bytes;
    if (!DecodeHexId(q.trace_id, 16, &bytes)) {
      return InvalidArgument("trace id '" + q.trace_id.substr(0, 40) + "' is not 32 hex digits (or is all zero)");
    }
    sql += " AND trace_id = " + HexLiteral(bytes);
  }
  if (q.min_severity > 0) sql += " AND severity_number >= " + Int(q.min_severity);
  if (!q.service.empty()) sql += " AND service = " + QuoteString(q.service);
  sql += " AND org = " + QuoteString(eventstore::OrgOf(q.org));
  sql += AttributeConditions(q.attributes);
  return sql;
}

}  // namespace

Result<std::string> ClickHouseStore::Impl::Select(const std::string& sql, std::string_view what) const {
  TYTO_RETURN_IF_ERROR(CheckOpen());
  const size_t first = next_server_.fetch_add(1);
  Status last;
  for (size_t i = 0; i < conn_.servers(); ++i) {
    const size_t server = (first + i) % conn_.servers();
    CallError err;
    Result<std::string> r = conn_.Query(server, sql + " FORMAT RowBinary", config_.query_timeout, &err);
    if (r.ok()) return r;
    metrics_.errors.WithLabels({"query"}).Inc();
    last = r.status();
    if (last.code() != StatusCode::kUnavailable && last.code() != StatusCode::kDeadlineExceeded) break;
  }
  return last.WithContext(std::string(what));
}

Result<std::vector<std::vector<events::Span>>> ClickHouseStore::Impl::ReadTraces(
    const std::vector<std::string>& ids, const eventstore::TraceLookup& lookup) const {
  std::vector<std::vector<events::Span>> out(ids.size());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < ids.size(); ++i) index.emplace(ids[i], i);
  for (size_t from = 0; from < ids.size(); from += kIdsPerQuery) {
    const size_t to = std::min(ids.size(), from + kIdsPerQuery);
    std::string in_list;
    for (size_t i = from; i < to; ++i) {
      if (i > from) in_list += ", ";
      in_list += HexLiteral(ids[i]);
    }
    // Where each trace's spans start (trace_index, sorted by trace id), so the spans table is
    // read only around those times.
    TYTO_ASSIGN_OR_RETURN(
        std::string ranges,
        Select("SELECT trace_id, min(start_min_ns), max(start_max_ns) FROM " + layout_.Table(TableId::kTraceIndex) +
                   " WHERE trace_id IN (" + in_list + ") AND org = " + QuoteString(eventstore::OrgOf(lookup.org)) +
                   " AND start_max_ns >= " + Int(lookup.start_unix_nano) +
                   " AND start_min_ns <= " + Int(lookup.end_unix_nano) + " GROUP BY trace_id",
               "reading trace_index"));
    RowBinaryReader r(ranges);
    std::string found_ids;
    std::string range_sql;
    int64_t lo = 0;
    int64_t hi = 0;
    bool any = false;
    while (!r.done()) {
      TYTO_ASSIGN_OR_RETURN(std::string id, r.FixedString(16));
      TYTO_ASSIGN_OR_RETURN(int64_t a, r.Int64());
      TYTO_ASSIGN_OR_RETURN(int64_t b, r.Int64());
      a = std::max(a, lookup.start_unix_nano);
      b = std::min(b, lookup.end_unix_nano);
      if (any) {
        found_ids += ", ";
        range_sql += " OR ";
      }
      found_ids += HexLiteral(id);
      range_sql += "(start_ns >= " + Int(a) + " AND start_ns <= " + Int(b) + ")";
      lo = any ? std::min(lo, a) : a;
      hi = any ? std::max(hi, b) : b;
      any = true;
    }
    if (!any) continue;
    TYTO_ASSIGN_OR_RETURN(std::string rows,
                          Select(std::string("SELECT ") + kSpanColumns + " FROM " + layout_.Table(TableId::kSpans) +
                                     " WHERE trace_id IN (" + found_ids + ") AND org = " +
                                     QuoteString(eventstore::OrgOf(lookup.org)) + " AND (" + range_sql + ")" +
                                     TimeRange(lo, hi, 1'000'000'000),
                                 "reading spans"));
    RowBinaryReader s(rows);
    while (!s.done()) {
      TYTO_ASSIGN_OR_RETURN(events::Span span, ReadSpan(s));
      TYTO_RETURN_IF_ERROR(eventstore::OpenAttributes(encryption_.get(), &span.attributes));
      TYTO_RETURN_IF_ERROR(eventstore::OpenSpanEvents(encryption_.get(), &span.events));
      span.org = std::string(eventstore::OrgOf(lookup.org));
      std::string bytes;
      if (!DecodeHexId(span.trace_id, 16, &bytes)) continue;
      auto it = index.find(bytes);
      if (it != index.end()) out[it->second].push_back(std::move(span));
    }
  }
  return out;
}

Result<std::vector<TraceSummary>> ClickHouseStore::FindTraces(const eventstore::TraceQuery& q) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"find_traces"}));
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(q.limit, 20));
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_unix_nano, q.end_unix_nano, "ns"));
  TYTO_RETURN_IF_ERROR(CheckRange(q.min_duration_nano, q.max_duration_nano, "ns of duration"));
  TYTO_RETURN_IF_ERROR(CheckAttributes(q.attributes));
  TYTO_RETURN_IF_ERROR(eventstore::RefuseSensitiveFilters(m.encryption_.get(), q.attributes));
  std::string sql = "SELECT trace_id, max(start_ns) AS newest FROM " + m.layout_.Table(TableId::kSpans) +
                    " WHERE start_ns >= " + Int(q.start_unix_nano) + " AND start_ns <= " + Int(q.end_unix_nano) +
                    TimeRange(q.start_unix_nano, q.end_unix_nano, 1'000'000'000) +
                    " AND org = " + QuoteString(eventstore::OrgOf(q.org));
  if (!q.service.empty()) sql += " AND service = " + QuoteString(q.service);
  if (!q.operation.empty()) sql += " AND name = " + QuoteString(q.operation);
  if (!q.model.empty()) sql += " AND model = " + QuoteString(q.model);
  if (q.status) sql += " AND status = " + Int(static_cast<int64_t>(*q.status));
  if (q.min_duration_nano > 0) sql += " AND duration_ns >= " + Int(q.min_duration_nano);
  if (q.max_duration_nano < std::numeric_limits<int64_t>::max()) sql += " AND duration_ns <= " + Int(q.max_duration_nano);
  sql += AttributeConditions(q.attributes);
  sql += " GROUP BY trace_id ORDER BY newest DESC, trace_id LIMIT " + Int(static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select(sql, "finding traces"));
  std::vector<std::string> found;
  RowBinaryReader in(rows);
  while (!in.done()) {
    TYTO_ASSIGN_OR_RETURN(std::string id, in.FixedString(16));
    TYTO_ASSIGN_OR_RETURN(int64_t newest, in.Int64());
    (void)newest;
    found.push_back(std::move(id));
  }
  if (found.empty()) return std::vector<TraceSummary>();
  // Summaries count every stored span of each trace, whenever it started.
  TYTO_ASSIGN_OR_RETURN(std::vector<std::vector<events::Span>> spans, m.ReadTraces(found, {.org = q.org}));
  std::vector<TraceSummary> out;
  for (std::vector<events::Span>& trace : spans) {
    if (trace.empty()) continue;
    SortAndDeduplicateSpans(&trace);
    out.push_back(SummarizeTrace(trace));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TraceSummary& a, const TraceSummary& b) { return a.start_unix_nano > b.start_unix_nano; });
  return out;
}

Result<std::vector<events::Span>> ClickHouseStore::GetTrace(std::string_view trace_id,
                                                            const eventstore::TraceLookup& lookup) const {
  const std::string id(trace_id);
  TYTO_ASSIGN_OR_RETURN(std::vector<std::vector<events::Span>> traces, GetTraces(std::span(&id, 1), lookup));
  if (traces.empty()) return NotFound("trace " + id + " has no stored span");
  return std::move(traces.front());
}

Result<std::vector<std::vector<events::Span>>> ClickHouseStore::GetTraces(std::span<const std::string> trace_ids,
                                                                          const eventstore::TraceLookup& lookup) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"get_trace"}));
  TYTO_RETURN_IF_ERROR(CheckRange(lookup.start_unix_nano, lookup.end_unix_nano, "ns"));
  std::vector<std::string> ids;
  for (const std::string& hex : trace_ids) {
    std::string bytes;
    if (!DecodeHexId(hex, 16, &bytes)) {
      return InvalidArgument("trace id '" + hex.substr(0, 40) + "' is not 32 hex digits (or is all zero)");
    }
    ids.push_back(std::move(bytes));
  }
  TYTO_ASSIGN_OR_RETURN(std::vector<std::vector<events::Span>> spans, m.ReadTraces(ids, lookup));
  std::vector<std::vector<events::Span>> out;
  std::unordered_set<std::string_view> done;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (spans[i].empty() || !done.insert(ids[i]).second) continue;
    SortAndDeduplicateSpans(&spans[i]);
    out.push_back(std::move(spans[i]));
  }
  return out;
}

Result<std::vector<std::string>> ClickHouseStore::Services(std::string_view org, int64_t start_ns,
                                                           int64_t end_ns) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"services"}));
  TYTO_RETURN_IF_ERROR(CheckRange(start_ns, end_ns, "ns"));
  TYTO_ASSIGN_OR_RETURN(std::string rows,
                        m.Select("SELECT DISTINCT service FROM " + m.layout_.Table(TableId::kSpans) +
                                     " WHERE org = " + QuoteString(eventstore::OrgOf(org)) + " AND start_ns >= " +
                                     Int(start_ns) + " AND start_ns <= " + Int(end_ns) +
                                     TimeRange(start_ns, end_ns, 1'000'000'000) + " ORDER BY service",
                                 "listing services"));
  std::vector<std::string> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    TYTO_ASSIGN_OR_RETURN(std::string s, in.String());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<eventstore::Operation>> ClickHouseStore::Operations(std::string_view org, std::string_view service,
                                                                       int64_t start_ns, int64_t end_ns) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"operations"}));
  TYTO_RETURN_IF_ERROR(CheckRange(start_ns, end_ns, "ns"));
  TYTO_ASSIGN_OR_RETURN(std::string rows,
                        m.Select("SELECT DISTINCT name, kind FROM " + m.layout_.Table(TableId::kSpans) +
                                     " WHERE org = " + QuoteString(eventstore::OrgOf(org)) +
                                     " AND service = " + QuoteString(service) + " AND start_ns >= " + Int(start_ns) +
                                     " AND start_ns <= " + Int(end_ns) + TimeRange(start_ns, end_ns, 1'000'000'000) +
                                     " ORDER BY name, kind",
                                 "listing operations"));
  std::vector<eventstore::Operation> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    eventstore::Operation op;
    TYTO_ASSIGN_OR_RETURN(op.name, in.String());
    TYTO_ASSIGN_OR_RETURN(uint8_t kind, in.UInt8());
    op.kind = KindFromInt(kind);
    out.push_back(std::move(op));
  }
  return out;
}

Result<std::vector<LogEntry>> ClickHouseStore::SearchLogs(const LogQuery& q) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"search_logs"}));
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(q.limit, 100));
  TYTO_RETURN_IF_ERROR(eventstore::RefuseSensitiveFilters(m.encryption_.get(), q.attributes));
  TYTO_ASSIGN_OR_RETURN(std::string conditions, LogConditions(q));
  TYTO_ASSIGN_OR_RETURN(
      std::string rows,
      m.Select(std::string("SELECT ") + kLogColumns + " FROM " + m.layout_.Table(TableId::kLogs) +
                   " WHERE time_ns >= " + Int(q.start_unix_nano) + " AND time_ns <= " + Int(q.end_unix_nano) +
                   TimeRange(q.start_unix_nano, q.end_unix_nano, 1'000'000'000) + conditions +
                   " ORDER BY time_ns DESC, cursor DESC LIMIT " + Int(static_cast<int64_t>(limit)),
               "searching logs"));
  std::vector<LogEntry> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    TYTO_ASSIGN_OR_RETURN(LogEntry e, ReadLog(in));
    TYTO_RETURN_IF_ERROR(eventstore::OpenAttributes(m.encryption_.get(), &e.record.attributes));
    e.record.org = std::string(eventstore::OrgOf(q.org));
    out.push_back(std::move(e));
  }
  return out;
}

uint64_t ClickHouseStore::Impl::TailBound() const {
  const uint64_t now = IdSource::NowMicros();
  const auto settle = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(config_.tail_settle).count());
  uint64_t bound = MakeId(now > settle ? now - settle : 0, (1u << kWriterBits) - 1);
  // This server's ids may run ahead of the clock under heavy load.
  bound = std::max(bound, own_committed_.load());
  if (const uint64_t in_flight = logs_in_flight_.load(); in_flight != 0) bound = std::min(bound, in_flight - 1);
  return bound;
}

void ClickHouseStore::Impl::RefreshKnownCursor(bool force) const {
  {
    MutexLock lock(&tail_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (polling_ || (!force && now - last_poll_ < config_.tail_poll_interval)) return;
    polling_ = true;
    last_poll_ = now;
  }
  const uint64_t bound = TailBound();
  const int64_t lookback_ns =
      clock_->NowMillis() * 1'000'000 - std::chrono::duration_cast<std::chrono::nanoseconds>(config_.tail_lookback).count();
  Result<std::string> r =
      Select("SELECT max(cursor) FROM " + layout_.Table(TableId::kLogs) + " WHERE cursor > " +
                 std::to_string(polled_.load()) + " AND cursor <= " + std::to_string(bound) + " AND time_ns >= " +
                 Int(lookback_ns) + TimeRange(lookback_ns, std::numeric_limits<int64_t>::max(), 1'000'000'000),
             "polling for new logs");
  if (r.ok()) {
    RowBinaryReader in(*r);
    Result<uint64_t> v = in.UInt64();
    if (v.ok() && *v > polled_.load()) polled_.store(*v);
  }
  {
    MutexLock lock(&tail_mu_);
    polling_ = false;
  }
  tail_cv_.notify_all();
}

uint64_t ClickHouseStore::LastLogCursor() const {
  const Impl& m = *impl_;
  if (m.closed_.load()) return 0;
  m.RefreshKnownCursor(false);
  return std::min(std::max(m.own_committed_.load(), m.polled_.load()), m.TailBound());
}

Result<LogPage> ClickHouseStore::LogsAfter(uint64_t cursor, const LogQuery& filter, size_t limit) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"logs_after"}));
  TYTO_ASSIGN_OR_RETURN(limit, QueryLimit(limit, 100));
  TYTO_RETURN_IF_ERROR(eventstore::RefuseSensitiveFilters(m.encryption_.get(), filter.attributes));
  TYTO_ASSIGN_OR_RETURN(std::string conditions, LogConditions(filter));
  LogPage page;
  const uint64_t upto = m.TailBound();
  if (cursor >= upto) {
    page.next_cursor = cursor;
    return page;
  }
  const int64_t lookback_ns = m.clock_->NowMillis() * 1'000'000 -
                              std::chrono::duration_cast<std::chrono::nanoseconds>(m.config_.tail_lookback).count();
  const int64_t start = std::max(filter.start_unix_nano, lookback_ns);
  if (start > filter.end_unix_nano) {
    page.next_cursor = upto;
    return page;
  }
  TYTO_ASSIGN_OR_RETURN(
      std::string rows,
      m.Select(std::string("SELECT ") + kLogColumns + " FROM " + m.layout_.Table(TableId::kLogs) + " WHERE cursor > " +
                   std::to_string(cursor) + " AND cursor <= " + std::to_string(upto) + " AND time_ns >= " +
                   Int(start) + " AND time_ns <= " + Int(filter.end_unix_nano) +
                   TimeRange(start, filter.end_unix_nano, 1'000'000'000) + conditions + " ORDER BY cursor LIMIT " +
                   Int(static_cast<int64_t>(limit)),
               "reading new logs"));
  RowBinaryReader in(rows);
  while (!in.done()) {
    TYTO_ASSIGN_OR_RETURN(LogEntry e, ReadLog(in));
    TYTO_RETURN_IF_ERROR(eventstore::OpenAttributes(m.encryption_.get(), &e.record.attributes));
    e.record.org = std::string(eventstore::OrgOf(filter.org));
    page.logs.push_back(std::move(e));
  }
  page.next_cursor = page.logs.size() >= limit ? page.logs.back().cursor : upto;
  return page;
}

bool ClickHouseStore::WaitForLogs(uint64_t cursor, std::chrono::milliseconds timeout) const {
  const Impl& m = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m.closed_.load()) {
    if (LastLogCursor() > cursor) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    const auto wake = std::min(deadline, now + m.config_.tail_poll_interval);
    m.tail_mu_.Lock();
    if (!m.closed_.load()) m.tail_cv_.wait_until(m.tail_mu_.native(), wake);
    m.tail_mu_.Unlock();
  }
  return false;
}

Result<std::vector<events::InferenceEvent>> ClickHouseStore::QueryInferenceEvents(
    const eventstore::InferenceEventQuery& q) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"inference_events"}));
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(q.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_ms, q.end_ms, "ms"));
  std::string sql =
      "SELECT timestamp_ms, request_id, model, model_version, endpoint, tenant, service, provider, operation, node, "
      "error, error_type, latency_s, queue_s, ttft_s, input_tokens, output_tokens, finish_reasons, conversation_id, "
      "prompt, response, feature_names, feature_is_number, feature_numbers, feature_texts, prediction_names, "
      "prediction_is_number, prediction_numbers, prediction_texts, trace_id, span_id, user FROM " +
      m.layout_.Table(TableId::kInferenceEvents) + " WHERE timestamp_ms >= " + Int(q.start_ms) +
      " AND timestamp_ms <= " + Int(q.end_ms) + TimeRange(q.start_ms, q.end_ms, 1000) +
      " AND org = " + QuoteString(eventstore::OrgOf(q.org));
  if (!q.model.empty()) sql += " AND model = " + QuoteString(q.model);
  sql += " ORDER BY timestamp_ms DESC, batch_id DESC, seq DESC LIMIT " + Int(static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select(sql, "querying inference events"));
  std::vector<events::InferenceEvent> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    events::InferenceEvent e;
    TYTO_ASSIGN_OR_RETURN(e.timestamp_ms, in.Int64());
    for (std::string* s : {&e.request_id, &e.model, &e.model_version, &e.endpoint, &e.tenant, &e.service, &e.provider,
                           &e.operation, &e.node}) {
      TYTO_ASSIGN_OR_RETURN(*s, in.String());
    }
    TYTO_ASSIGN_OR_RETURN(uint8_t error, in.UInt8());
    e.error = error != 0;
    TYTO_ASSIGN_OR_RETURN(e.error_type, in.String());
    TYTO_ASSIGN_OR_RETURN(e.latency_s, in.Float64());
    TYTO_ASSIGN_OR_RETURN(e.queue_s, in.Float64());
    TYTO_ASSIGN_OR_RETURN(e.ttft_s, in.Float64());
    TYTO_ASSIGN_OR_RETURN(e.input_tokens, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.output_tokens, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.finish_reasons, in.StringArray());
    TYTO_ASSIGN_OR_RETURN(e.conversation_id, in.String());
    TYTO_ASSIGN_OR_RETURN(const std::string prompt, in.String());
    TYTO_ASSIGN_OR_RETURN(e.prompt, crypto::OpenStored(m.encryption_.get(), prompt, eventstore::kPromptContext));
    TYTO_ASSIGN_OR_RETURN(const std::string response, in.String());
    TYTO_ASSIGN_OR_RETURN(e.response, crypto::OpenStored(m.encryption_.get(), response, eventstore::kResponseContext));
    TYTO_ASSIGN_OR_RETURN(e.features, ReadFields(in));
    TYTO_ASSIGN_OR_RETURN(e.prediction, ReadFields(in));
    TYTO_ASSIGN_OR_RETURN(std::string trace, in.FixedString(16));
    TYTO_ASSIGN_OR_RETURN(std::string span, in.FixedString(8));
    e.trace_id = IdHex(trace);
    e.span_id = IdHex(span);
    TYTO_ASSIGN_OR_RETURN(e.user, in.String());
    e.org = std::string(eventstore::OrgOf(q.org));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<events::DeploymentEvent>> ClickHouseStore::Deployments(const eventstore::DeploymentQuery& q) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"deployments"}));
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(q.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_ms, q.end_ms, "ms"));
  std::string sql = "SELECT timestamp_ms, model, version, previous_version, action, who, note FROM " +
                    m.layout_.Table(TableId::kDeployments) + " WHERE timestamp_ms >= " + Int(q.start_ms) +
                    " AND timestamp_ms <= " + Int(q.end_ms) + TimeRange(q.start_ms, q.end_ms, 1000);
  if (!q.model.empty()) sql += " AND model = " + QuoteString(q.model);
  sql += " ORDER BY timestamp_ms DESC, batch_id DESC, seq DESC LIMIT " + Int(static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select(sql, "querying deployments"));
  std::vector<events::DeploymentEvent> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    events::DeploymentEvent e;
    TYTO_ASSIGN_OR_RETURN(e.timestamp_ms, in.Int64());
    for (std::string* s : {&e.model, &e.version, &e.previous_version, &e.action, &e.who, &e.note}) {
      TYTO_ASSIGN_OR_RETURN(*s, in.String());
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<events::PipelineStageEvent>> ClickHouseStore::PipelineRuns(
    const eventstore::PipelineRunQuery& q) const {
  const Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  QueryTimer timer(m.metrics_.query_duration.WithLabels({"pipeline_runs"}));
  TYTO_ASSIGN_OR_RETURN(const size_t limit, QueryLimit(q.limit, 100));
  TYTO_RETURN_IF_ERROR(CheckRange(q.start_ms, q.end_ms, "ms"));
  std::string sql =
      "SELECT start_ms, end_ms, pipeline, stage, run_id, rows_in, rows_out, rows_rejected, schema_fingerprint, "
      "field_names, field_types, failed, error FROM " +
      m.layout_.Table(TableId::kPipelineStages) + " WHERE start_ms >= " + Int(q.start_ms) +
      " AND start_ms <= " + Int(q.end_ms) + TimeRange(q.start_ms, q.end_ms, 1000);
  if (!q.pipeline.empty()) sql += " AND pipeline = " + QuoteString(q.pipeline);
  if (!q.stage.empty()) sql += " AND stage = " + QuoteString(q.stage);
  sql += " ORDER BY start_ms DESC, batch_id DESC, seq DESC LIMIT " + Int(static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(std::string rows, m.Select(sql, "querying pipeline runs"));
  std::vector<events::PipelineStageEvent> out;
  RowBinaryReader in(rows);
  while (!in.done()) {
    events::PipelineStageEvent e;
    TYTO_ASSIGN_OR_RETURN(e.start_ms, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.end_ms, in.Int64());
    for (std::string* s : {&e.pipeline, &e.stage, &e.run_id}) {
      TYTO_ASSIGN_OR_RETURN(*s, in.String());
    }
    TYTO_ASSIGN_OR_RETURN(e.rows_in, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.rows_out, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.rows_rejected, in.Int64());
    TYTO_ASSIGN_OR_RETURN(e.schema_fingerprint, in.String());
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, in.StringArray());
    TYTO_ASSIGN_OR_RETURN(std::vector<std::string> types, in.StringArray());
    if (names.size() != types.size()) return Corruption("ClickHouse returned field names and types unpaired");
    for (size_t i = 0; i < names.size(); ++i) e.fields.push_back({std::move(names[i]), std::move(types[i])});
    TYTO_ASSIGN_OR_RETURN(uint8_t failed, in.UInt8());
    e.failed = failed != 0;
    TYTO_ASSIGN_OR_RETURN(e.error, in.String());
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace tyto::clickhouse
