// The playbook audit log: an append-only file of JSON lines, one per decision or action (a
// playbook matched or skipped, approval asked, given or refused, each step with what it ran and
// what came back, each run's outcome), kept by the playbook engine beside its state. The chain
// itself (hashes, the head file, durability, torn-line repair, verification) is audit::ChainLog
// (src/audit/chain.h); this file adds the playbook members and their filter.
// docs/format/audit.md describes the bytes and the playbook record types.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/chain.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::playbook {

// What a caller records. Strings are cut to kMaxAuditFieldBytes and made valid UTF-8; secrets
// must be redacted by the caller.
struct AuditEntry {
  std::string type;  // "matched", "skipped", "step", "run_finished", ... (the format doc lists them)
  std::string run_id;
  std::string incident_id;
  std::string playbook;
  std::vector<std::pair<std::string, std::string>> strings;  // extra members, in order
  std::vector<std::pair<std::string, int64_t>> numbers;
};

// One record read back.
struct AuditRecord {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string type;
  std::string run_id;
  std::string incident_id;
  std::string playbook;
  std::string json;  // the whole line without its newline
};

struct AuditFilter {
  std::string run_id;       // empty: any
  std::string incident_id;  // empty: any
  size_t limit = 100;       // the newest `limit` matching records, oldest first
};

inline constexpr size_t kMaxAuditFieldBytes = audit::kMaxFieldBytes;
inline constexpr size_t kMaxAuditLineBytes = audit::kMaxLineBytes;
inline constexpr size_t kMaxAuditReadLimit = 10000;

// Thread-safe.
class AuditLog {
 public:
  // Opens (creating) the log at `path` (audit::ChainLog::Open: a torn last line is cut; a
  // removed or rewritten tail is kCorruption).
  static Result<std::unique_ptr<AuditLog>> Open(Env* env, const std::string& path, Clock* clock);

  // Appends and fsyncs one record. On failure the record may be missing; the chain continues
  // from the last record written.
  Status Append(const AuditEntry& entry);

  Result<std::vector<AuditRecord>> Read(const AuditFilter& filter) const;
  const std::string& path() const { return log_->path(); }

 private:
  AuditLog(Env* env, std::unique_ptr<audit::ChainLog> log) : env_(env), log_(std::move(log)) {}

  Env* env_;
  std::unique_ptr<audit::ChainLog> log_;
};

// Reads the whole log and its head file and checks every record (audit::Verify). kCorruption
// naming "path:LINE: seq N: problem: detail" at the first broken record; OK with the number of
// records in *records.
Status VerifyAuditLog(Env* env, const std::string& path, uint64_t* records = nullptr);

// The records of the log at `path` that pass the filter (missing file: none).
Result<std::vector<AuditRecord>> ReadAuditLog(Env* env, const std::string& path, const AuditFilter& filter);

}  // namespace tyto::playbook
