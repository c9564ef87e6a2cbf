// Partition: the queries, each over this partition only (the store fans out and merges).
#include <unordered_map>

#include "eventstore/codec.h"
#include "eventstore/encryption.h"
#include "eventstore/partition.h"

namespace tyto::eventstore {

namespace {

constexpr const char* kSpanColumns =
    "SELECT trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, status, status_message, "
    "resource_id, attributes, events, org FROM spans";

constexpr const char* kLogColumns =
    "l.id, l.time_ns, l.severity_number, l.severity_text, l.body, l.trace_id, l.span_id, l.service, l.resource_id, "
    "l.attributes, l.org";

// At most this many trace ids in one FTS5 OR expression.
constexpr size_t kTraceIdsPerQuery = 64;

events::SpanKind KindFromInt(int64_t v) {
  return v >= 0 && v <= 5 ? static_cast<events::SpanKind>(v) : events::SpanKind::kUnspecified;
}
events::StatusCode StatusFromInt(int64_t v) {
  return v >= 0 && v <= 2 ? static_cast<events::StatusCode>(v) : events::StatusCode::kUnset;
}

// A SQL text and its parameters, built together so that their numbering cannot drift apart.
class Query {
 public:
  explicit Query(std::string sql) : sql_(std::move(sql)) {}
  Query& Sql(std::string_view s) {
    sql_ += s;
    return *this;
  }
  Query& Int(std::string_view s, int64_t v) {
    sql_ += s;
    params_.push_back({true, v, {}});
    return *this;
  }
  Query& Text(std::string_view s, std::string v) {
    sql_ += s;
    params_.push_back({false, 0, std::move(v)});
    return *this;
  }
  const std::string& sql() const { return sql_; }
  void Bind(sqlite::Statement* s) const {
    for (size_t i = 0; i < params_.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      if (params_[i].is_int) {
        s->BindInt(n, params_[i].i);
      } else {
        s->BindText(n, params_[i].s);
      }
    }
  }

 private:
  struct Param {
    bool is_int;
    int64_t i;
    std::string s;
  };
  std::string sql_;
  std::vector<Param> params_;
};

}  // namespace

Status Partition::FindTraceCandidates(const TraceQuery& q, size_t limit, const TraceCandidateFn& visit) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  const bool attrs = !q.attributes.empty();
  std::string match;
  for (const AttributeFilter& f : q.attributes) {
    TYTO_ASSIGN_OR_RETURN(std::string terms, FilterTerms(**c, f));
    if (!match.empty()) match += " AND ";
    match += terms;
  }
  if (attrs) {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * count,
                          (*c)->Cached("SELECT count(*) FROM span_terms WHERE span_terms MATCH ?"));
    sqlite::ScopedReset reset(count);
    count->BindText(1, match);
    TYTO_ASSIGN_OR_RETURN(bool row, count->Step());
    const int64_t n = row ? count->Int(0) : 0;
    if (n == 0) return Status::Ok();
    // Reading the n matches by rowid costs about n row reads; scanning newest first finds
    // `limit` traces after about limit * rows / n (when matches are spread evenly). Scanning also
    // stops early, so it wins once n * n passes limit * rows.
    TYTO_ASSIGN_OR_RETURN(int64_t rows, (*c)->QueryInt("SELECT coalesce(max(id), 0) FROM spans"));
    const double by_terms = static_cast<double>(n) * static_cast<double>(n);
    const double by_scan = static_cast<double>(limit) * static_cast<double>(rows);
    if (n > settings_.max_rows_by_terms || by_terms > by_scan) match.clear();  // MatchesAttributes decides
  }
  Query query(attrs ? "SELECT trace_id, start_ns, attributes, resource_id" : "SELECT trace_id, start_ns");
  query.Int(" FROM spans WHERE start_ns >= ?", q.start_unix_nano).Int(" AND start_ns <= ?", q.end_unix_nano);
  query.Text(" AND org = ?", std::string(OrgOf(q.org)));
  if (!q.service.empty()) query.Text(" AND service = ?", q.service);
  if (!q.operation.empty()) query.Text(" AND name = ?", q.operation);
  if (!q.model.empty()) query.Text(" AND model = ?", q.model);
  if (q.status) query.Int(" AND status = ?", static_cast<int64_t>(*q.status));
  if (q.min_duration_nano > 0) query.Int(" AND duration_ns >= ?", q.min_duration_nano);
  if (q.max_duration_nano < std::numeric_limits<int64_t>::max())
    query.Int(" AND duration_ns <= ?", q.max_duration_nano);
  if (!match.empty()) query.Text(" AND id IN (SELECT rowid FROM span_terms WHERE span_terms MATCH ?)", match);
  query.Sql(" ORDER BY start_ns DESC");

  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(query.sql()));
  sqlite::ScopedReset reset(s);
  query.Bind(s);
  std::shared_ptr<const KeyNames> keys = Keys();
  std::vector<events::Attribute> decoded;
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (attrs) {
      TYTO_RETURN_IF_ERROR(DecodeAttrs(**c, &keys, s->Blob(2), &decoded));
      TYTO_ASSIGN_OR_RETURN(bool ok, MatchesAttributes(**c, q.attributes, decoded, s->Int(3)));
      if (!ok) continue;
    }
    if (!visit(s->Blob(0), s->Int(1))) break;
  }
  return Status::Ok();
}

Status Partition::ReadTraces(std::string_view org, const std::vector<std::string>& trace_ids,
                             std::vector<std::vector<events::Span>>* out) {
  std::vector<size_t> wanted;  // indexes of the ids this partition may hold
  for (size_t i = 0; i < trace_ids.size(); ++i) {
    if (MayHoldTrace(trace_ids[i])) wanted.push_back(i);
  }
  if (wanted.empty()) return Status::Ok();
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  std::shared_ptr<const KeyNames> keys = Keys();
  const std::string sql =
      std::string(kSpanColumns) + " WHERE id IN (SELECT rowid FROM span_terms WHERE span_terms MATCH ?) AND org = ?";
  for (size_t from = 0; from < wanted.size(); from += kTraceIdsPerQuery) {
    const size_t to = std::min(wanted.size(), from + kTraceIdsPerQuery);
    std::unordered_map<std::string_view, size_t> index;
    std::string match;
    for (size_t k = from; k < to; ++k) {
      const size_t i = wanted[k];
      index.emplace(trace_ids[i], i);
      if (!match.empty()) match += " OR ";
      AppendTraceTerm(&match, trace_ids[i]);
    }
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(sql));
    sqlite::ScopedReset reset(s);
    s->BindText(1, match);
    s->BindText(2, OrgOf(org));
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto it = index.find(s->Blob(0));
      if (it == index.end()) continue;  // cannot happen unless the index disagrees with the rows
      events::Span span;
      span.org = std::string(s->Text(13));
      span.trace_id = HexId(s->Blob(0));
      span.span_id = HexId(s->Blob(1));
      span.parent_span_id = HexId(s->Blob(2));
      span.service = std::string(s->Text(3));
      span.name = std::string(s->Text(4));
      span.kind = KindFromInt(s->Int(5));
      span.start_unix_nano = s->Int(6);
      span.end_unix_nano = span.start_unix_nano + s->Int(7);
      span.status = StatusFromInt(s->Int(8));
      span.status_message = std::string(s->Text(9));
      TYTO_ASSIGN_OR_RETURN(std::shared_ptr<const Resource> r, GetResource(**c, s->Int(10)));
      span.scope_name = r->scope;
      span.resource = r->attributes;
      TYTO_RETURN_IF_ERROR(DecodeAttrs(**c, &keys, s->Blob(11), &span.attributes));
      TYTO_RETURN_IF_ERROR(DecodeEvents(**c, &keys, s->Blob(12), &span.events));
      (*out)[it->second].push_back(std::move(span));
    }
  }
  return Status::Ok();
}

Status Partition::Services(std::string_view org, std::set<std::string>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached("SELECT DISTINCT service FROM operations WHERE org = ?"));
  sqlite::ScopedReset reset(s);
  s->BindText(1, OrgOf(org));
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Ok();
    out->emplace(s->Text(0));
  }
}

Status Partition::Operations(std::string_view org, std::string_view service,
                             std::set<std::pair<std::string, int>>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                        (*c)->Cached("SELECT name, kind FROM operations WHERE org = ? AND service = ?"));
  sqlite::ScopedReset reset(s);
  s->BindText(1, OrgOf(org));
  s->BindText(2, service);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Ok();
    out->emplace(std::string(s->Text(0)), static_cast<int>(KindFromInt(s->Int(1))));
  }
}

namespace {

// The FTS5 expression over log_index for a filter: the text over the body column, the trace
// and attribute terms over the terms column. Empty when the filter needs no full-text index.
template <typename TermsFn>
Result<std::string> LogMatch(const LogFilter& f, TermsFn filter_terms) {
  std::string match;
  auto add = [&match](std::string_view part) {
    if (!match.empty()) match += " AND ";
    match += part;
  };
  if (!f.text_expression.empty()) add("body : (" + f.text_expression + ")");
  if (!f.trace_id.empty()) {
    std::string t;
    AppendTraceTerm(&t, f.trace_id);
    add("terms : " + t);
  }
  for (const AttributeFilter& a : f.query->attributes) {
    TYTO_ASSIGN_OR_RETURN(std::string t, filter_terms(a));
    add("terms : " + t);
  }
  return match;
}

// The conditions on logs' own columns.
void LogConditions(const LogFilter& f, Query* q) {
  q->Int(" AND l.time_ns >= ?", f.query->start_unix_nano).Int(" AND l.time_ns <= ?", f.query->end_unix_nano);
  if (f.query->min_severity > 0) q->Int(" AND l.severity_number >= ?", f.query->min_severity);
  if (!f.query->service.empty()) q->Text(" AND l.service = ?", f.query->service);
  q->Text(" AND l.org = ?", std::string(OrgOf(f.query->org)));
}

}  // namespace

Status Partition::ReadLogRows(sqlite::Connection& c, sqlite::Statement* s, const LogFilter& filter, size_t limit,
                              std::vector<LogEntry>* out) {
  std::shared_ptr<const KeyNames> keys = Keys();
  size_t added = 0;
  while (added < limit) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (!filter.trace_id.empty() && s->Blob(5) != filter.trace_id) continue;
    LogEntry e;
    e.cursor = static_cast<uint64_t>(s->Int(0));
    events::LogRecord& r = e.record;
    TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(9), &r.attributes));
    const int64_t resource_id = s->Int(8);
    if (!filter.query->attributes.empty()) {
      TYTO_ASSIGN_OR_RETURN(bool ok, MatchesAttributes(c, filter.query->attributes, r.attributes, resource_id));
      if (!ok) continue;
    }
    r.time_unix_nano = s->Int(1);
    r.severity_number = static_cast<int32_t>(s->Int(2));
    r.severity_text = std::string(s->Text(3));
    r.body = std::string(s->Text(4));
    r.trace_id = HexId(s->Blob(5));
    r.span_id = HexId(s->Blob(6));
    r.service = std::string(s->Text(7));
    r.org = std::string(s->Text(10));
    TYTO_ASSIGN_OR_RETURN(std::shared_ptr<const Resource> res, GetResource(c, resource_id));
    r.resource = res->attributes;
    out->push_back(std::move(e));
    ++added;
  }
  return Status::Ok();
}

Status Partition::SearchLogs(const LogFilter& filter, size_t limit, std::vector<LogEntry>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  TYTO_ASSIGN_OR_RETURN(std::string match,
                        LogMatch(filter, [&](const AttributeFilter& a) { return FilterTerms(**c, a); }));
  Query q(std::string("SELECT ") + kLogColumns);
  if (match.empty()) {
    q.Sql(" FROM logs l WHERE 1");
  } else {
    // CROSS JOIN keeps the full-text index as the outer loop.
    q.Text(" FROM log_index CROSS JOIN logs l ON l.id = log_index.rowid WHERE log_index MATCH ?", match);
  }
  LogConditions(filter, &q);
  q.Int(" ORDER BY l.time_ns DESC, l.id DESC LIMIT ?", static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(q.sql()));
  sqlite::ScopedReset reset(s);
  q.Bind(s);
  return ReadLogRows(**c, s, filter, limit, out);
}

Status Partition::LogsAfter(const LogFilter& filter, uint64_t after, uint64_t upto, size_t limit,
                            std::vector<LogEntry>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  TYTO_ASSIGN_OR_RETURN(std::string match,
                        LogMatch(filter, [&](const AttributeFilter& a) { return FilterTerms(**c, a); }));
  Query q(std::string("SELECT ") + kLogColumns);
  const char* id = "l.id";
  if (match.empty()) {
    q.Sql(" FROM logs l WHERE 1");
  } else {
    q.Text(" FROM log_index CROSS JOIN logs l ON l.id = log_index.rowid WHERE log_index MATCH ?", match);
    id = "log_index.rowid";  // lets FTS5 read only the new part of its index
  }
  q.Int(std::string(" AND ") + id + " > ?", static_cast<int64_t>(after));
  q.Int(std::string(" AND ") + id + " <= ?", static_cast<int64_t>(upto));
  LogConditions(filter, &q);
  q.Int(std::string(" ORDER BY ") + id + " LIMIT ?", static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(q.sql()));
  sqlite::ScopedReset reset(s);
  q.Bind(s);
  return ReadLogRows(**c, s, filter, limit, out);
}

Result<uint64_t> Partition::LastLogCursor() {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  TYTO_ASSIGN_OR_RETURN(int64_t v, (*c)->QueryInt("SELECT coalesce(max(id), 0) FROM logs"));
  return static_cast<uint64_t>(v);
}

Status Partition::QueryInferenceEvents(const InferenceEventQuery& query, size_t limit,
                                       std::vector<events::InferenceEvent>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  Query q(
      "SELECT time_ms, request_id, model, model_version, endpoint, tenant, service, provider, operation, node, error, "
      "error_type, latency_s, queue_s, ttft_s, input_tokens, output_tokens, finish_reasons, conversation_id, prompt, "
      "response, features, prediction, trace_id, span_id, org, user FROM inference_events");
  q.Int(" WHERE time_ms >= ?", query.start_ms).Int(" AND time_ms <= ?", query.end_ms);
  q.Text(" AND org = ?", std::string(OrgOf(query.org)));
  if (!query.model.empty()) q.Text(" AND model = ?", query.model);
  q.Int(" ORDER BY time_ms DESC, id DESC LIMIT ?", static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(q.sql()));
  sqlite::ScopedReset reset(s);
  q.Bind(s);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Ok();
    events::InferenceEvent e;
    e.timestamp_ms = s->Int(0);
    e.request_id = std::string(s->Text(1));
    e.model = std::string(s->Text(2));
    e.model_version = std::string(s->Text(3));
    e.endpoint = std::string(s->Text(4));
    e.tenant = std::string(s->Text(5));
    e.service = std::string(s->Text(6));
    e.provider = std::string(s->Text(7));
    e.operation = std::string(s->Text(8));
    e.node = std::string(s->Text(9));
    e.error = s->Int(10) != 0;
    e.error_type = std::string(s->Text(11));
    e.latency_s = s->Double(12);
    e.queue_s = s->Double(13);
    e.ttft_s = s->Double(14);
    e.input_tokens = s->Int(15);
    e.output_tokens = s->Int(16);
    TYTO_RETURN_IF_ERROR(DecodeStrings(s->Blob(17), &e.finish_reasons).WithContext(path_));
    e.conversation_id = std::string(s->Text(18));
    TYTO_ASSIGN_OR_RETURN(e.prompt, crypto::OpenStored(settings_.encryption.get(), s->Blob(19), kPromptContext));
    TYTO_ASSIGN_OR_RETURN(e.response, crypto::OpenStored(settings_.encryption.get(), s->Blob(20), kResponseContext));
    TYTO_RETURN_IF_ERROR(DecodeFields(s->Blob(21), &e.features).WithContext(path_));
    TYTO_RETURN_IF_ERROR(DecodeFields(s->Blob(22), &e.prediction).WithContext(path_));
    e.trace_id = HexId(s->Blob(23));
    e.span_id = HexId(s->Blob(24));
    e.org = std::string(s->Text(25));
    e.user = std::string(s->Text(26));
    out->push_back(std::move(e));
  }
}

Status Partition::QueryDeployments(const DeploymentQuery& query, size_t limit,
                                   std::vector<events::DeploymentEvent>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  Query q("SELECT time_ms, model, version, previous_version, action, who, note FROM deployments");
  q.Int(" WHERE time_ms >= ?", query.start_ms).Int(" AND time_ms <= ?", query.end_ms);
  if (!query.model.empty()) q.Text(" AND model = ?", query.model);
  q.Int(" ORDER BY time_ms DESC, id DESC LIMIT ?", static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(q.sql()));
  sqlite::ScopedReset reset(s);
  q.Bind(s);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Ok();
    events::DeploymentEvent e;
    e.timestamp_ms = s->Int(0);
    e.model = std::string(s->Text(1));
    e.version = std::string(s->Text(2));
    e.previous_version = std::string(s->Text(3));
    e.action = std::string(s->Text(4));
    e.who = std::string(s->Text(5));
    e.note = std::string(s->Text(6));
    out->push_back(std::move(e));
  }
}

Status Partition::QueryPipelineRuns(const PipelineRunQuery& query, size_t limit,
                                    std::vector<events::PipelineStageEvent>* out) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<ReadConnection> c, AcquireReader());
  Query q(
      "SELECT start_ms, end_ms, pipeline, stage, run_id, rows_in, rows_out, rows_rejected, schema_fingerprint, "
      "fields, failed, error FROM pipeline_stages");
  q.Int(" WHERE start_ms >= ?", query.start_ms).Int(" AND start_ms <= ?", query.end_ms);
  if (!query.pipeline.empty()) q.Text(" AND pipeline = ?", query.pipeline);
  if (!query.stage.empty()) q.Text(" AND stage = ?", query.stage);
  q.Int(" ORDER BY start_ms DESC, id DESC LIMIT ?", static_cast<int64_t>(limit));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, (*c)->Cached(q.sql()));
  sqlite::ScopedReset reset(s);
  q.Bind(s);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Ok();
    events::PipelineStageEvent e;
    e.start_ms = s->Int(0);
    e.end_ms = s->Int(1);
    e.pipeline = std::string(s->Text(2));
    e.stage = std::string(s->Text(3));
    e.run_id = std::string(s->Text(4));
    e.rows_in = s->Int(5);
    e.rows_out = s->Int(6);
    e.rows_rejected = s->Int(7);
    e.schema_fingerprint = std::string(s->Text(8));
    TYTO_RETURN_IF_ERROR(DecodeFieldTypes(s->Blob(9), &e.fields).WithContext(path_));
    e.failed = s->Int(10) != 0;
    e.error = std::string(s->Text(11));
    out->push_back(std::move(e));
  }
}

}  // namespace tyto::eventstore
