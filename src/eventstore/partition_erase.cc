// Partition: erasure (issue 12's right to be forgotten). Rows are deleted with secure_delete on
// (their pages are zeroed), the contentless full-text indexes, which cannot forget one row's
// words without them, are rebuilt from the rows that stay, and the file is VACUUMed and its WAL
// truncated: nothing of an erased row is left in the partition's files.
#include <limits>

#include "common/log.h"
#include "eventstore/codec.h"
#include "eventstore/encryption.h"
#include "eventstore/partition.h"

namespace tyto::eventstore {

namespace {

const log::Logger kLog("eventstore");

// The attributes erasure by user looks at on spans and log records.
constexpr const char* kUserKeys[] = {"enduser.id", "user.id"};

bool HasUser(const std::vector<events::Attribute>& attrs, std::string_view user) {
  for (const char* k : kUserKeys) {
    if (const std::string* v = events::FindAttribute(attrs, k); v != nullptr && *v == user) return true;
  }
  return false;
}

}  // namespace

Status Partition::Erase(const EraseRequest& request, std::set<std::string>* traces, bool events, EraseResult* out) {
  MutexLock lock(&write_mu_);
  if (!readable_ || start_ms_ >= request.before_ms) return Status::Ok();
  // A retention sweep (a whole org, older than before_ms) that this partition already had.
  const bool sweep = request.user.empty() && request.request_id.empty() && request.before_ms < end_ms_;
  const std::string swept_key = std::string(OrgOf(request.org)) + (events ? "\1" : "\2");
  if (sweep) {
    auto it = swept_.find(swept_key);
    if (it != swept_.end() && it->second >= request.before_ms) return Status::Ok();
  }
  if (writer_.conn == nullptr) TYTO_RETURN_IF_ERROR(OpenWriter());
  TYTO_RETURN_IF_ERROR(writer_.conn->Exec("PRAGMA secure_delete=ON"));
  TYTO_RETURN_IF_ERROR(writer_.conn->Exec("BEGIN IMMEDIATE"));
  EraseResult here;
  Status s = EraseRows(request, traces, events, &here);
  if (s.ok() && here.spans + here.logs + here.inference_events > 0) s = RecountOrgBytes(OrgOf(request.org));
  if (s.ok()) s = writer_.conn->Exec("COMMIT");
  if (!s.ok()) {
    if (writer_.conn->InTransaction()) (void)writer_.conn->Exec("ROLLBACK");
    writer_.conn.reset();
    writer_.loaded = false;
    return s.WithContext("erasing from " + path_);
  }
  writer_.loaded = false;  // the resources and operations it knew may be gone
  if (sweep) swept_[swept_key] = request.before_ms;
  if (here.spans + here.logs + here.inference_events == 0) return Status::Ok();
  TYTO_RETURN_IF_ERROR(LoadOrgBytes(*writer_.conn).WithContext("erasing from " + path_));
  // Rewrites the file without free pages, then copies the WAL (which holds the old pages) into
  // it and truncates it to nothing.
  TYTO_RETURN_IF_ERROR(writer_.conn->Exec("VACUUM").WithContext("erasing from " + path_));
  TYTO_ASSIGN_OR_RETURN(int64_t busy, writer_.conn->QueryInt("PRAGMA wal_checkpoint(TRUNCATE)"));
  if (busy != 0) {
    return Unavailable("erasing from " + path_ + ": a query held the WAL; the rows are gone, the WAL is "
                       "truncated at the next checkpoint");
  }
  out->spans += here.spans;
  out->logs += here.logs;
  out->inference_events += here.inference_events;
  out->request_ids.insert(out->request_ids.end(), here.request_ids.begin(), here.request_ids.end());
  kLog.Info("event store: erased rows",
            {{"path", path_}, {"spans", here.spans}, {"logs", here.logs}, {"inference_events", here.inference_events}});
  return Status::Ok();
}

Status Partition::RecountOrgBytes(std::string_view org) {
  sqlite::Connection& c = *writer_.conn;
  TYTO_ASSIGN_OR_RETURN(std::string sum, OrgBytesSql(c, true));
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * del, c.Cached("DELETE FROM org_bytes WHERE org = ?"));
  del->BindText(1, org);
  TYTO_RETURN_IF_ERROR(del->Run());
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins, c.Cached("INSERT INTO org_bytes(org, bytes) " + sum));
  ins->BindText(1, org);
  return ins->Run();
}

Status Partition::EraseRows(const EraseRequest& request, std::set<std::string>* traces, bool events,
                            EraseResult* out) {
  sqlite::Connection& c = *writer_.conn;
  const std::string org(OrgOf(request.org));
  if (events) {
    std::string where = " WHERE org = ? AND time_ms < ?";
    if (!request.user.empty()) where += " AND user = ?";
    if (!request.request_id.empty()) where += " AND request_id = ?";
    auto bind = [&](sqlite::Statement* s) {
      int n = 1;
      s->BindText(n++, org);
      s->BindInt(n++, request.before_ms);
      if (!request.user.empty()) s->BindText(n++, request.user);
      if (!request.request_id.empty()) s->BindText(n++, request.request_id);
    };
    const bool named = !request.user.empty() || !request.request_id.empty();
    {
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                            c.Cached("SELECT trace_id, request_id FROM inference_events" + where));
      sqlite::ScopedReset reset(s);
      bind(s);
      while (true) {
        TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        if (s->Blob(0).size() == 16) traces->emplace(s->Blob(0));
        if (named && !s->Text(1).empty()) out->request_ids.emplace_back(s->Text(1));
        ++out->inference_events;
      }
    }
    if (out->inference_events == 0) return Status::Ok();
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * del, c.Cached("DELETE FROM inference_events" + where));
    bind(del);
    return del->Run();
  }

  std::string request_trace;
  if (!request.request_id.empty()) (void)DecodeHexId(request.request_id, 16, &request_trace);
  const bool everything = request.user.empty() && request.request_id.empty();
  // Whether a span or log record of the org goes: everything, or a trace of an erased event, or
  // every given field matching.
  auto goes = [&](std::string_view trace_id, const std::vector<events::Attribute>& attrs) {
    if (everything || (!trace_id.empty() && traces->contains(std::string(trace_id)))) return true;
    if (!request.user.empty() && !HasUser(attrs, request.user)) return false;
    if (!request.request_id.empty() && (request_trace.empty() || trace_id != request_trace)) return false;
    return true;
  };
  std::shared_ptr<const KeyNames> keys = Keys();
  std::vector<events::Attribute> attrs;

  for (const bool spans : {true, false}) {
    const char* table = spans ? "spans" : "logs";
    std::vector<int64_t> doomed;
    {
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                            c.Cached(std::string("SELECT id, trace_id, attributes FROM ") + table + " WHERE org = ? AND " +
                                     (spans ? "start_ns" : "time_ns") + " < ?"));
      sqlite::ScopedReset reset(s);
      s->BindText(1, org);
      // Milliseconds to nanoseconds, saturating.
      s->BindInt(2, request.before_ms >= std::numeric_limits<int64_t>::max() / 1'000'000
                        ? std::numeric_limits<int64_t>::max()
                        : request.before_ms * 1'000'000);
      while (true) {
        TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        if (!everything) TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(2), &attrs));
        if (goes(s->Blob(1), attrs)) doomed.push_back(s->Int(0));
      }
    }
    if (doomed.empty()) continue;
    {
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * del,
                            c.Cached(std::string("DELETE FROM ") + table + " WHERE id = ?"));
      for (int64_t id : doomed) {
        del->Reset();
        del->BindInt(1, id);
        TYTO_RETURN_IF_ERROR(del->Run());
      }
    }
    (spans ? out->spans : out->logs) += doomed.size();

    // The index of the rows that stay, rebuilt: a contentless FTS5 table forgets a row only when
    // told its exact terms, and keeps the old segments until they merge.
    std::string terms;
    if (spans) {
      TYTO_RETURN_IF_ERROR(c.Exec("INSERT INTO span_terms(span_terms) VALUES('delete-all')"));
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins, c.Cached("INSERT INTO span_terms(rowid, terms) VALUES(?, ?)"));
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                            c.Cached("SELECT id, trace_id, attributes, resource_id FROM spans ORDER BY id"));
      sqlite::ScopedReset reset(s);
      while (true) {
        TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(2), &attrs));
        terms.clear();
        AppendTraceTerm(&terms, s->Blob(1));
        AppendAttributeTerms(settings_.encryption.get(), attrs, &terms);
        AppendResourceTerm(&terms, s->Int(3));
        ins->Reset();
        ins->BindInt(1, s->Int(0));
        ins->BindText(2, terms);
        TYTO_RETURN_IF_ERROR(ins->Run());
      }
      // Operations no span of their org has any more.
      TYTO_RETURN_IF_ERROR(
          c.Exec("DELETE FROM operations WHERE NOT EXISTS (SELECT 1 FROM spans s WHERE s.org = operations.org AND "
                 "s.service = operations.service AND s.name = operations.name AND s.kind = operations.kind)"));
    } else {
      TYTO_RETURN_IF_ERROR(c.Exec("INSERT INTO log_index(log_index) VALUES('delete-all')"));
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * ins,
                            c.Cached("INSERT INTO log_index(rowid, body, terms) VALUES(?, ?, ?)"));
      TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                            c.Cached("SELECT id, trace_id, attributes, resource_id, body FROM logs ORDER BY id"));
      sqlite::ScopedReset reset(s);
      while (true) {
        TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(2), &attrs));
        terms.clear();
        if (!s->Blob(1).empty()) AppendTraceTerm(&terms, s->Blob(1));
        AppendAttributeTerms(settings_.encryption.get(), attrs, &terms);
        AppendResourceTerm(&terms, s->Int(3));
        ins->Reset();
        ins->BindInt(1, s->Int(0));
        ins->BindText(2, s->Text(4));
        ins->BindText(3, terms);
        TYTO_RETURN_IF_ERROR(ins->Run());
      }
    }
  }
  // Resources no row uses any more (a resource may carry the user: k8s labels, host names).
  return c.Exec(
      "DELETE FROM resources WHERE id NOT IN (SELECT resource_id FROM spans UNION SELECT resource_id FROM logs)");
}

}  // namespace tyto::eventstore
