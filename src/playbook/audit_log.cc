#include "playbook/audit_log.h"

#include <deque>

namespace tyto::playbook {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(Env* env, const std::string& path, Clock* clock) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<audit::ChainLog> log, audit::ChainLog::Open(env, path, clock));
  return std::unique_ptr<AuditLog>(new AuditLog(env, std::move(log)));
}

Status AuditLog::Append(const AuditEntry& entry) {
  // Member order as in docs/format/audit.md: type, run, incident, playbook, then the type's own.
  audit::Entry e;
  e.strings.reserve(entry.strings.size() + 4);
  e.strings.emplace_back("type", entry.type);
  if (!entry.run_id.empty()) e.strings.emplace_back("run", entry.run_id);
  if (!entry.incident_id.empty()) e.strings.emplace_back("incident", entry.incident_id);
  if (!entry.playbook.empty()) e.strings.emplace_back("playbook", entry.playbook);
  e.strings.insert(e.strings.end(), entry.strings.begin(), entry.strings.end());
  e.numbers = entry.numbers;
  return log_->Append(e);
}

Result<std::vector<AuditRecord>> AuditLog::Read(const AuditFilter& filter) const {
  return ReadAuditLog(env_, log_->path(), filter);
}

Result<std::vector<AuditRecord>> ReadAuditLog(Env* env, const std::string& path, const AuditFilter& filter) {
  std::deque<AuditRecord> kept;
  const size_t limit = std::min(filter.limit, kMaxAuditReadLimit);
  if (limit == 0) return std::vector<AuditRecord>{};
  TYTO_RETURN_IF_ERROR(audit::ForEachRecord(env, path, [&](audit::Record&& r) {
    if (!filter.run_id.empty() && r.Get("run") != filter.run_id) return true;
    if (!filter.incident_id.empty() && r.Get("incident") != filter.incident_id) return true;
    AuditRecord out;
    out.seq = r.seq;
    out.time_ms = r.time_ms;
    out.type = r.Get("type");
    out.run_id = r.Get("run");
    out.incident_id = r.Get("incident");
    out.playbook = r.Get("playbook");
    out.json = std::move(r.json);
    kept.push_back(std::move(out));
    if (kept.size() > limit) kept.pop_front();
    return true;
  }));
  return std::vector<AuditRecord>(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
}

Status VerifyAuditLog(Env* env, const std::string& path, uint64_t* records) {
  TYTO_ASSIGN_OR_RETURN(audit::Verdict v, audit::Verify(env, path));
  if (!v.intact()) return Corruption(v.ToString(path));
  if (records != nullptr) *records = v.records;
  return Status::Ok();
}

}  // namespace tyto::playbook
