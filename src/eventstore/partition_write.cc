// Partition: writing one transaction of rows through the partition's write connection.
#include "common/log.h"
#include "eventstore/codec.h"
#include "eventstore/partition.h"

namespace tyto::eventstore {

namespace {

const log::Logger kLog("eventstore");

// The dictionary of resources the writer keeps to reuse ids; beyond this many it starts over
// (a resource met again then gets a second row, which costs a few hundred bytes, nothing more).
constexpr size_t kMaxCachedResources = 10'000;

// WAL size after which a commit checkpoints (copies the WAL into the database file): 64 MiB.
// SQLite's default (1,000 pages) cost 15-25% more CPU per span than this in
// bench/eventstore_bench.cc's fill; checkpoints write each page again and fsync twice.
constexpr int kWalAutocheckpointPages = (64 << 20) / kPageSize;

bool SameAttributes(const std::vector<events::Attribute>& a, const std::vector<events::Attribute>& b) {
  if (&a == &b) return true;
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
  }
  return true;
}

}  // namespace

Status Partition::OpenWriter() {
  TYTO_ASSIGN_OR_RETURN(writer_.conn, sqlite::Connection::Open(path_, sqlite::Connection::Mode::kReadWrite));
  std::string pragmas = settings_.sync == SyncMode::kFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  pragmas += " PRAGMA journal_mode=WAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768;";
  pragmas += " PRAGMA wal_autocheckpoint=" + std::to_string(kWalAutocheckpointPages) + ";";
  pragmas += " PRAGMA journal_size_limit=" + std::to_string(64 << 20) + ";";
  Status s = writer_.conn->Exec(pragmas);
  if (!s.ok()) writer_.conn.reset();
  return s;
}

Status Partition::LoadWriterState() {
  sqlite::Connection& c = *writer_.conn;
  writer_.key_ids.clear();
  writer_.resource_ids.clear();
  writer_.operations.clear();
  writer_.next_key_id = 1;
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT id, key FROM attribute_keys"));
    sqlite::ScopedReset reset(s);
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto id = static_cast<uint64_t>(s->Int(0));
      writer_.key_ids.emplace(std::string(s->Text(1)), id);
      writer_.next_key_id = std::max(writer_.next_key_id, id + 1);
    }
  }
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT id, scope, attributes FROM resources"));
    sqlite::ScopedReset reset(s);
    while (writer_.resource_ids.size() < kMaxCachedResources) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      std::string key(s->Text(1));
      key.push_back('\0');
      key.append(s->Blob(2));
      writer_.resource_ids.emplace(std::move(key), s->Int(0));
    }
  }
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT org, service, name, kind FROM operations"));
    sqlite::ScopedReset reset(s);
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      std::string key(s->Text(0));
      key.push_back('\0');
      key.append(s->Text(1));
      key.push_back('\0');
      key.append(s->Text(2));
      key.push_back('\0');
      key.append(std::to_string(s->Int(3)));
      writer_.operations.emplace(std::move(key), true);
    }
  }
  writer_.loaded = true;
  return Status::Ok();
}

uint64_t Partition::KeyId(std::string_view key, Status* error) {
  if (auto it = writer_.key_ids.find(key); it != writer_.key_ids.end()) return it->second;
  const uint64_t id = writer_.next_key_id++;
  if (error->ok()) {
    Result<sqlite::Statement*> s = writer_.conn->Cached("INSERT INTO attribute_keys(id, key) VALUES(?, ?)");
    if (!s.ok()) {
      *error = s.status();
    } else {
      (*s)->BindInt(1, static_cast<int64_t>(id));
      (*s)->BindText(2, key);
      *error = (*s)->Run();
    }
  }
  writer_.key_ids.emplace(std::string(key), id);
  return id;
}

Result<int64_t> Partition::ResourceId(std::string_view scope, const std::vector<events::Attribute>& attrs,
                                      Status* key_error) {
  std::string encoded;
  EncodeAttributes(
      attrs, [&](std::string_view k) NO_THREAD_SAFETY_ANALYSIS { return KeyId(k, key_error); }, &encoded);
  TYTO_RETURN_IF_ERROR(*key_error);
  std::string key(scope);
  key.push_back('\0');
  key.append(encoded);
  if (auto it = writer_.resource_ids.find(key); it != writer_.resource_ids.end()) return it->second;
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                        writer_.conn->Cached("INSERT INTO resources(scope, attributes) VALUES(?, ?)"));
  s->BindText(1, scope);
  s->BindBlob(2, encoded);
  TYTO_RETURN_IF_ERROR(s->Run());
  const int64_t id = writer_.conn->LastInsertRowid();
  if (writer_.resource_ids.size() >= kMaxCachedResources) writer_.resource_ids.clear();
  writer_.resource_ids.emplace(std::move(key), id);
  return id;
}

Status Partition::Write(const PartitionRows& rows, std::chrono::steady_clock::time_point now) {
  MutexLock lock(&write_mu_);
  if (!readable_) return FailedPrecondition(path_ + " cannot be read");
  if (writer_.conn == nullptr) TYTO_RETURN_IF_ERROR(OpenWriter());
  if (!writer_.loaded) {
    if (Status s = LoadWriterState(); !s.ok()) {
      writer_.loaded = false;
      return s;
    }
  }
  last_write_ = now;
  if (!rows.spans.empty()) {
    // Before the commit, so that a reader who sees the spans finds their traces in the filter
    // (ids of a transaction that then fails stay in it: a false positive, which is allowed).
    MutexLock filter_lock(&filter_mu_);
    for (const PreparedSpan* p : rows.spans) filter_.Add(p->trace_id);
  }
  TYTO_RETURN_IF_ERROR(writer_.conn->Exec("BEGIN IMMEDIATE"));
  std::map<std::string, uint64_t, std::less<>> added;
  Status s = WriteRows(rows, &added);
  if (s.ok()) s = writer_.conn->Exec("COMMIT");
  if (!s.ok()) {
    if (writer_.conn->InTransaction()) {
      if (Status r = writer_.conn->Exec("ROLLBACK"); !r.ok()) {
        kLog.Error("event store: rollback failed; reopening the partition's write connection",
                   {{"path", path_}, {"error", r}});
        writer_.conn.reset();
      }
    }
    // The dictionaries may name ids the rollback took back.
    writer_.loaded = false;
    return s;
  }
  for (const PreparedLog* l : rows.logs) NoteLogCursor(l->cursor);
  MutexLock usage_lock(&usage_mu_);
  for (const auto& [org, bytes] : added) org_bytes_[org] += bytes;
  return Status::Ok();
}

Status Partition::WriteRows(const PartitionRows& rows, std::map<std::string, uint64_t, std::less<>>* added) {
  // The bytes of each org's rows (its spans, log records and inference events), kept in
  // org_bytes in the same transaction: a tenant's stored bytes for its storage limit.
  auto count = [&](std::string_view org, uint64_t bytes) {
    auto it = added->find(org);
    if (it == added->end()) it = added->emplace(std::string(org), 0).first;
    it->second += bytes;
  };
  sqlite::Connection& c = *writer_.conn;
  Status key_error;
  const KeyIdFn key_id = [&](std::string_view k) NO_THREAD_SAFETY_ANALYSIS { return KeyId(k, &key_error); };
  std::string attrs;
  std::string extra;
  std::string terms;

  if (!rows.spans.empty()) {
    TYTO_ASSIGN_OR_RETURN(
        sqlite::Statement * ins,
        c.Cached("INSERT INTO spans(trace_id, span_id, parent_span_id, service, name, kind, start_ns, duration_ns, "
                 "status, status_message, model, resource_id, attributes, events, org) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins_terms, c.Cached("INSERT INTO span_terms(rowid, terms) VALUES(?, ?)"));
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins_op,
                          c.Cached("INSERT OR IGNORE INTO operations(org, service, name, kind) VALUES(?, ?, ?, ?)"));
    std::string op_key;
    // Spans of one export request share their resource: compare with the previous span's
    // before encoding and looking it up.
    const events::Span* previous = nullptr;
    int64_t resource_id = 0;
    for (const PreparedSpan* p : rows.spans) {
      const events::Span& span = p->sealed ? *p->sealed : *p->span;
      if (previous == nullptr || span.scope_name != previous->scope_name ||
          !SameAttributes(span.resource, previous->resource)) {
        TYTO_ASSIGN_OR_RETURN(resource_id, ResourceId(span.scope_name, span.resource, &key_error));
        previous = &span;
      }
      EncodeAttributes(span.attributes, key_id, &attrs);
      if (span.events.empty()) {
        extra.clear();
      } else {
        EncodeSpanEvents(span.events, key_id, &extra);
      }
      TYTO_RETURN_IF_ERROR(key_error);
      ins->Reset();
      ins->BindBlob(1, p->trace_id);
      ins->BindBlob(2, p->span_id);
      ins->BindBlobOrNull(3, p->parent_id);
      ins->BindText(4, span.service);
      ins->BindText(5, span.name);
      ins->BindInt(6, static_cast<int64_t>(span.kind));
      ins->BindInt(7, span.start_unix_nano);
      ins->BindInt(8, span.end_unix_nano > span.start_unix_nano ? span.end_unix_nano - span.start_unix_nano : 0);
      ins->BindInt(9, static_cast<int64_t>(span.status));
      ins->BindText(10, span.status_message);
      ins->BindTextOrNull(11, SpanModel(span));
      ins->BindInt(12, resource_id);
      ins->BindBlob(13, attrs);
      ins->BindBlobOrNull(14, extra);
      ins->BindText(15, OrgOf(span.org));
      count(OrgOf(span.org), ins->BoundBytes());
      TYTO_RETURN_IF_ERROR(ins->Run());
      terms = p->terms;
      AppendResourceTerm(&terms, resource_id);
      ins_terms->Reset();
      ins_terms->BindInt(1, c.LastInsertRowid());
      ins_terms->BindText(2, terms);
      TYTO_RETURN_IF_ERROR(ins_terms->Run());

      op_key = OrgOf(span.org);
      op_key.push_back('\0');
      op_key.append(span.service);
      op_key.push_back('\0');
      op_key.append(span.name);
      op_key.push_back('\0');
      op_key.append(std::to_string(static_cast<int>(span.kind)));
      if (!writer_.operations.contains(op_key)) {
        ins_op->Reset();
        ins_op->BindText(1, OrgOf(span.org));
        ins_op->BindText(2, span.service);
        ins_op->BindText(3, span.name);
        ins_op->BindInt(4, static_cast<int64_t>(span.kind));
        TYTO_RETURN_IF_ERROR(ins_op->Run());
        writer_.operations.emplace(op_key, true);
      }
    }
  }

  if (!rows.logs.empty()) {
    TYTO_ASSIGN_OR_RETURN(
        sqlite::Statement * ins,
        c.Cached("INSERT INTO logs(id, time_ns, severity_number, severity_text, body, trace_id, span_id, service, "
                 "resource_id, attributes, org) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins_index,
                          c.Cached("INSERT INTO log_index(rowid, body, terms) VALUES(?, ?, ?)"));
    const events::LogRecord* previous = nullptr;
    int64_t resource_id = 0;
    for (const PreparedLog* p : rows.logs) {
      const events::LogRecord& log = p->sealed ? *p->sealed : *p->log;
      if (previous == nullptr || !SameAttributes(log.resource, previous->resource)) {
        TYTO_ASSIGN_OR_RETURN(resource_id, ResourceId("", log.resource, &key_error));
        previous = &log;
      }
      EncodeAttributes(log.attributes, key_id, &attrs);
      TYTO_RETURN_IF_ERROR(key_error);
      ins->Reset();
      ins->BindInt(1, static_cast<int64_t>(p->cursor));
      ins->BindInt(2, log.time_unix_nano);
      ins->BindInt(3, log.severity_number);
      ins->BindText(4, log.severity_text);
      ins->BindText(5, log.body);
      ins->BindBlobOrNull(6, p->trace_id);
      ins->BindBlobOrNull(7, p->span_id);
      ins->BindText(8, log.service);
      ins->BindInt(9, resource_id);
      ins->BindBlob(10, attrs);
      ins->BindText(11, OrgOf(log.org));
      count(OrgOf(log.org), ins->BoundBytes(2));  // not the id, as ValueBytesSql
      TYTO_RETURN_IF_ERROR(ins->Run());
      terms = p->terms;
      AppendResourceTerm(&terms, resource_id);
      ins_index->Reset();
      ins_index->BindInt(1, static_cast<int64_t>(p->cursor));
      ins_index->BindText(2, log.body);
      ins_index->BindText(3, terms);
      TYTO_RETURN_IF_ERROR(ins_index->Run());
    }
  }

  if (!rows.inference_events.empty()) {
    TYTO_ASSIGN_OR_RETURN(
        sqlite::Statement * ins,
        c.Cached("INSERT INTO inference_events(time_ms, request_id, model, model_version, endpoint, tenant, service, "
                 "provider, operation, node, error, error_type, latency_s, queue_s, ttft_s, input_tokens, "
                 "output_tokens, finish_reasons, conversation_id, prompt, response, features, prediction, trace_id, "
                 "span_id, org, user) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                 "?, ?)"));
    std::string reasons;
    std::string features;
    std::string prediction;
    for (const PreparedInferenceEvent* p : rows.inference_events) {
      const events::InferenceEvent& e = p->sealed ? *p->sealed : *p->event;
      EncodeStrings(e.finish_reasons, &reasons);
      EncodeFields(e.features, &features);
      EncodeFields(e.prediction, &prediction);
      ins->Reset();
      ins->BindInt(1, e.timestamp_ms);
      ins->BindText(2, e.request_id);
      ins->BindText(3, e.model);
      ins->BindText(4, e.model_version);
      ins->BindText(5, e.endpoint);
      ins->BindText(6, e.tenant);
      ins->BindText(7, e.service);
      ins->BindText(8, e.provider);
      ins->BindText(9, e.operation);
      ins->BindText(10, e.node);
      ins->BindInt(11, e.error ? 1 : 0);
      ins->BindText(12, e.error_type);
      ins->BindDouble(13, e.latency_s);
      ins->BindDouble(14, e.queue_s);
      ins->BindDouble(15, e.ttft_s);
      ins->BindInt(16, e.input_tokens);
      ins->BindInt(17, e.output_tokens);
      ins->BindBlob(18, reasons);
      ins->BindText(19, e.conversation_id);
      // Envelopes as BLOBs (docs/format/eventstore.md, "Encrypted values").
      p->sealed && !e.prompt.empty() ? ins->BindBlob(20, e.prompt) : ins->BindText(20, e.prompt);
      p->sealed && !e.response.empty() ? ins->BindBlob(21, e.response) : ins->BindText(21, e.response);
      ins->BindBlob(22, features);
      ins->BindBlob(23, prediction);
      ins->BindBlobOrNull(24, p->trace_id);
      ins->BindBlobOrNull(25, p->span_id);
      ins->BindText(26, OrgOf(e.org));
      ins->BindText(27, e.user);
      count(OrgOf(e.org), ins->BoundBytes());
      TYTO_RETURN_IF_ERROR(ins->Run());
    }
  }

  if (!rows.pipeline_stages.empty()) {
    TYTO_ASSIGN_OR_RETURN(
        sqlite::Statement * ins,
        c.Cached("INSERT INTO pipeline_stages(start_ms, end_ms, pipeline, stage, run_id, rows_in, rows_out, "
                 "rows_rejected, schema_fingerprint, fields, failed, error) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (const events::PipelineStageEvent* e : rows.pipeline_stages) {
      EncodeFieldTypes(e->fields, &extra);
      ins->Reset();
      ins->BindInt(1, e->start_ms);
      ins->BindInt(2, e->end_ms);
      ins->BindText(3, e->pipeline);
      ins->BindText(4, e->stage);
      ins->BindText(5, e->run_id);
      ins->BindInt(6, e->rows_in);
      ins->BindInt(7, e->rows_out);
      ins->BindInt(8, e->rows_rejected);
      ins->BindText(9, e->schema_fingerprint);
      ins->BindBlob(10, extra);
      ins->BindInt(11, e->failed ? 1 : 0);
      ins->BindText(12, e->error);
      TYTO_RETURN_IF_ERROR(ins->Run());
    }
  }

  if (!rows.deployments.empty()) {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins,
                          c.Cached("INSERT INTO deployments(time_ms, model, version, previous_version, action, who, "
                                   "note) VALUES(?, ?, ?, ?, ?, ?, ?)"));
    for (const events::DeploymentEvent* e : rows.deployments) {
      ins->Reset();
      ins->BindInt(1, e->timestamp_ms);
      ins->BindText(2, e->model);
      ins->BindText(3, e->version);
      ins->BindText(4, e->previous_version);
      ins->BindText(5, e->action);
      ins->BindText(6, e->who);
      ins->BindText(7, e->note);
      TYTO_RETURN_IF_ERROR(ins->Run());
    }
  }
  TYTO_RETURN_IF_ERROR(key_error);
  if (!added->empty()) {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * up,
                          c.Cached("INSERT INTO org_bytes(org, bytes) VALUES(?, ?) "
                                   "ON CONFLICT(org) DO UPDATE SET bytes = bytes + excluded.bytes"));
    for (const auto& [org, bytes] : *added) {
      up->Reset();
      up->BindText(1, org);
      up->BindInt(2, static_cast<int64_t>(bytes));
      TYTO_RETURN_IF_ERROR(up->Run());
    }
  }
  return Status::Ok();
}

Status Partition::StoreTraceFilter() {
  std::string blob;
  {
    MutexLock lock(&filter_mu_);
    blob = filter_.Encode();
  }
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                        writer_.conn->Cached("INSERT OR REPLACE INTO trace_filter(id, spans_upto, filter) "
                                             "VALUES(1, (SELECT coalesce(max(id), 0) FROM spans), ?)"));
  s->BindBlob(1, blob);
  return s->Run();
}

void Partition::CloseWriter() {
  if (writer_.conn == nullptr) return;
  if (Status s = StoreTraceFilter(); !s.ok()) {
    // The next open rebuilds it from the spans.
    kLog.Warn("event store: could not store a partition's trace filter", {{"path", path_}, {"error", s}});
  }
  // Copies the WAL into the database file and empties it, even while readers are open.
  if (Status s = writer_.conn->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok()) {
    kLog.Warn("event store: checkpoint of a partition failed", {{"path", path_}, {"error", s}});
  }
  writer_ = WriterState{};
}

void Partition::CloseIdleWriter(std::chrono::steady_clock::time_point idle_since) {
  MutexLock lock(&write_mu_);
  if (writer_.conn == nullptr || last_write_ > idle_since) return;
  CloseWriter();
}

}  // namespace tyto::eventstore
