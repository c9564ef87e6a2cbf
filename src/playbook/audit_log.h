// The playbook audit log: an append-only file of JSON lines, one per decision or action (a
// playbook matched or skipped, approval asked, given or refused, each step with what it ran and
// what came back, each run's outcome). Every record carries the SHA-256 of the record before it
// and its own, so editing, removing or reordering records breaks the chain where it happened
// (VerifyAuditLog). docs/format/playbook-audit.md describes the bytes.
//
// Each Append writes one whole line with one write(2) on a descriptor opened with O_APPEND and
// fsyncs it before returning, so a record that was acknowledged survives a crash; a line torn by
// a crash (no newline at its end) is cut off when the log is opened again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
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

inline constexpr size_t kMaxAuditFieldBytes = 8 * 1024;
inline constexpr size_t kMaxAuditLineBytes = 256 * 1024;
inline constexpr size_t kMaxAuditReadLimit = 10000;

// Thread-safe.
class AuditLog {
 public:
  // Opens (creating) the log at `path`, cutting a torn last line, and reads the last record to
  // continue the chain. kCorruption when the last complete line is not a record.
  static Result<std::unique_ptr<AuditLog>> Open(Env* env, const std::string& path, Clock* clock);

  // Appends and fsyncs one record. On failure the record may be missing; the chain continues
  // from the last record written.
  Status Append(const AuditEntry& entry) EXCLUDES(mu_);

  Result<std::vector<AuditRecord>> Read(const AuditFilter& filter) const;
  const std::string& path() const { return path_; }

 private:
  AuditLog(Env* env, std::string path, Clock* clock) : env_(env), path_(std::move(path)), clock_(clock) {}

  Env* env_;
  std::string path_;
  Clock* clock_;
  Mutex mu_;
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);
  uint64_t last_seq_ GUARDED_BY(mu_) = 0;
  std::string last_hash_ GUARDED_BY(mu_);
};

// Reads the whole log and checks every record: its own hash, the previous record's hash, and
// sequence numbers rising by one. kCorruption naming "path:LINE" and what is wrong; OK with the
// number of records in *records.
Status VerifyAuditLog(Env* env, const std::string& path, uint64_t* records = nullptr);

// The records of the log at `path` that pass the filter (missing file: none).
Result<std::vector<AuditRecord>> ReadAuditLog(Env* env, const std::string& path, const AuditFilter& filter);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace tyto::playbook
