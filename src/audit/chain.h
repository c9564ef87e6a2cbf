// A tamper-evident log: an append-only file of JSON lines in which every record carries the
// SHA-256 of the record before it and its own, so editing, removing, inserting or reordering
// records breaks the chain where it happened. A small head file beside it (`<log>.head`) holds
// the last record's seq and hash, written after each append, so a removed tail shows too.
// docs/format/audit.md describes the bytes and what verification can and cannot detect.
//
// Used by the server-wide audit trail (trail.h) and the playbook engine's log
// (src/playbook/audit_log.h).
//
// Each Append writes one whole line with one write(2) on a descriptor opened with O_APPEND and
// fsyncs it before returning, so a record that was acknowledged survives a crash; a line torn by
// a crash (no newline at its end) is cut off when the log is opened again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::audit {

// What a caller records: members written after `seq`, `time` and `time_ms` and before `prev`
// and `hash`, strings first, then numbers, each in the order given. Strings are cut to
// kMaxFieldBytes and made valid UTF-8; the keys seq, time, time_ms, prev and hash are reserved
// and skipped. Secrets must be redacted by the caller.
struct Entry {
  std::vector<std::pair<std::string, std::string>> strings;
  std::vector<std::pair<std::string, int64_t>> numbers;
};

// One record read back.
struct Record {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  uint64_t line = 0;  // 1-based line number in the file
  std::string hash;
  std::string json;   // the whole line without its newline
  std::vector<std::pair<std::string, std::string>> strings;  // top-level string members, in order

  // The string member `key`; empty when absent.
  std::string_view Get(std::string_view key) const;
};

inline constexpr size_t kMaxFieldBytes = 8 * 1024;
inline constexpr size_t kMaxLineBytes = 256 * 1024;
inline constexpr std::string_view kZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";

// What is wrong with a log, at the first place it is wrong.
enum class Problem {
  kNone,
  kNotARecord,    // a line that is not a record (not JSON, no seq/prev/hash)
  kHashMismatch,  // a record's hash does not match its bytes: the record was edited
  kPrevMismatch,  // a record's prev is not the hash of the record before: one was replaced
  kSequenceGap,   // seq jumps forward: records were removed
  kReordered,     // seq goes back or repeats: records were moved or copied
  kBadStart,      // the first record is not seq 1 with a zero prev: the start was removed
  kTorn,          // the last line has no newline (a crash mid-write; opening the log cuts it)
  kTooLong,       // a line longer than kMaxLineBytes
  kTruncated,     // the head file names a later record than the file holds: the tail was removed
  kHeadMismatch,  // the record the head file names has another hash: the tail was rewritten
  kBadHead,       // the head file cannot be read
};

// "hash_mismatch", "sequence_gap", ...
std::string_view ProblemName(Problem p);

// The result of checking a log.
struct Verdict {
  Problem problem = Problem::kNone;
  uint64_t line = 0;       // the line of the first broken record (0: none, or the file's end)
  uint64_t seq = 0;        // its seq, or the seq expected there when the line has none
  std::string detail;      // what is wrong, in words
  uint64_t records = 0;    // records checked before the first problem (all of them when intact)
  uint64_t last_seq = 0;   // of the last good record
  std::string last_hash;   // of the last good record (kZeroHash when none)
  bool head_checked = false;    // a head file was present and compared
  uint64_t head_seq = 0;
  uint64_t after_head = 0;      // records past the head's seq (written while verifying, or a crash
                                // between the log's fsync and the head's)

  bool intact() const { return problem == Problem::kNone; }
  // "path:LINE: seq N: hash_mismatch: detail", or a one-line summary when intact.
  std::string ToString(std::string_view path) const;
};

// Checks lines one at a time, in file order; the first problem sticks. Used by Verify and by
// the fuzzer; holds no file.
class LineVerifier {
 public:
  // The head file's seq and hash, when there is one; before the first Add.
  void SetHead(uint64_t seq, std::string hash);
  // Checks the next complete line (without its newline). Returns false once a problem is found.
  bool Add(std::string_view line, uint64_t line_no);
  // Marks the end of the file; `torn_tail` when bytes follow the last newline (on line_no).
  void Finish(bool torn_tail, uint64_t line_no);
  const Verdict& verdict() const { return verdict_; }

 private:
  void Fail(Problem p, uint64_t line, uint64_t seq, std::string detail);

  Verdict verdict_;
  std::string head_hash_;
  bool head_seen_ = false;  // the record the head names was found, with its hash
};

// Parses one line into *out; an explanation when it is not a record. Does not check the hash.
std::string ParseRecord(std::string_view line, Record* out);

// The head file of the log at `path`.
std::string HeadPath(const std::string& path);

// Reads the head file: false (and OK) when there is none; kCorruption when it is not one.
Result<bool> ReadHead(Env* env, const std::string& path, uint64_t* seq, std::string* hash);

// Checks the whole log at `path` and its head file. I/O errors (a missing file included) as a
// Status; tampering in the Verdict.
Result<Verdict> Verify(Env* env, const std::string& path);

// Calls fn for each record of the log in order, stopping when it returns false. Lines that are
// not records are skipped (Verify reports them); a torn last line ends the read. A missing file
// has no records.
Status ForEachRecord(Env* env, const std::string& path, const std::function<bool(Record&&)>& fn);

// The log, open for appending. Thread-safe.
class ChainLog {
 public:
  // Opens (creating) the log at `path`, cutting a torn last line, and reads the last record to
  // continue the chain. kCorruption when the last complete line is not a record, or when the
  // head file shows the tail was removed or rewritten (the message says which; move the log and
  // its head aside to start a new one).
  static Result<std::unique_ptr<ChainLog>> Open(Env* env, const std::string& path, Clock* clock);

  // Appends and fsyncs one record, then rewrites the head file. On failure the record is not
  // in the log: what was written of it is cut off, and the chain continues from the last record
  // written (if even the cut fails, the log is closed and Append answers kFailedPrecondition
  // until it is reopened). A head file that cannot be written is logged, not returned: the
  // record itself is durable.
  Status Append(const Entry& entry, uint64_t* seq = nullptr) EXCLUDES(mu_);

  const std::string& path() const { return path_; }
  uint64_t last_seq() const EXCLUDES(mu_);

 private:
  ChainLog(Env* env, std::string path, Clock* clock) : env_(env), path_(std::move(path)), clock_(clock) {}

  Env* env_;
  const std::string path_;
  Clock* clock_;
  mutable Mutex mu_;
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);
  uint64_t last_seq_ GUARDED_BY(mu_) = 0;
  uint64_t size_ GUARDED_BY(mu_) = 0;  // bytes of the file up to the end of the last record
  std::string last_hash_ GUARDED_BY(mu_);
};

}  // namespace tyto::audit
