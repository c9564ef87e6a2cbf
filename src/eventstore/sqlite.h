// A thin C++ face on the SQLite C API for the event store: connections, prepared statements
// (cached per connection) and SQLite's result codes as Tyto Statuses. sqlite3.h stays in
// sqlite.cc.
//
// A Connection and its statements belong to one thread at a time (opened with
// SQLITE_OPEN_NOMUTEX); the event store hands them from thread to thread under its own locks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tyto::eventstore::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are numbered from 1. Text and blobs are copied only when `copy` (else they must
  // stay valid until the statement is reset).
  void BindInt(int i, int64_t v);
  void BindDouble(int i, double v);  // NaN is stored as NULL (SQLite's rule)
  void BindText(int i, std::string_view v, bool copy = false);
  void BindBlob(int i, std::string_view v, bool copy = false);
  void BindNull(int i);
  // Binds NULL when `v` is empty.
  void BindTextOrNull(int i, std::string_view v, bool copy = false);
  void BindBlobOrNull(int i, std::string_view v, bool copy = false);
  // The bytes of the values bound now to parameters `from` and after: a text's or blob's
  // length, 8 for a number, 0 for NULL. The stored row's values count the same way
  // (ValueBytesSql in partition.cc), so a tenant's stored bytes can be kept as rows are written.
  uint64_t BoundBytes(int from = 1) const;

  // Advances: true when a row is ready, false when done. The statement's SQL names where an
  // error happened.
  Result<bool> Step();
  // Steps to the end (for statements that return no rows), then resets.
  Status Run();
  // Ready to run again; bindings are kept until ClearBindings.
  void Reset();
  void ClearBindings();

  // Columns are numbered from 0. Views are valid until the next Step or Reset.
  int64_t Int(int col) const;
  double Double(int col) const;  // NULL reads as NaN
  std::string_view Text(int col) const;
  std::string_view Blob(int col) const;
  bool IsNull(int col) const;

 private:
  void Note(int i, uint64_t bytes);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::vector<uint64_t> bound_;  // by parameter - 1: BoundBytes
};

// Resets a statement when leaving a scope, so a cached statement never holds a read
// transaction open.
class ScopedReset {
 public:
  explicit ScopedReset(Statement* s) : s_(s) {}
  ~ScopedReset() { s_->Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement* s_;
};

class Connection {
 public:
  enum class Mode {
    kCreate,     // read-write, creating the file if missing
    kReadWrite,  // read-write, the file must exist
  };
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();  // finalizes the cached statements, then closes
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows we need (DDL, PRAGMA, BEGIN, COMMIT).
  Status Exec(std::string_view sql);
  // A statement prepared once and kept for the connection's life (by its SQL text); reset and
  // with its bindings cleared. Valid until the connection closes.
  Result<Statement*> Cached(const std::string& sql);
  // A statement for one use.
  Result<Statement> Prepare(std::string_view sql);
  // Result of a single-value query ("PRAGMA page_count").
  Result<int64_t> QueryInt(const std::string& sql);

  int64_t LastInsertRowid() const;
  // Rows the last INSERT, UPDATE or DELETE changed.
  int64_t Changes() const;
  bool InTransaction() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>> cache_;
};

// A non-OK Status for SQLite result code `rc` (extended codes too): kCorruption for damaged or
// foreign files (SQLITE_CORRUPT, SQLITE_NOTADB), kNoSpace for a full disk (SQLITE_FULL),
// kIOError for I/O and permission failures, kUnavailable for SQLITE_BUSY/LOCKED,
// kResourceExhausted for SQLITE_NOMEM, kInvalidArgument for FTS5 query syntax errors, kInternal
// otherwise (SQL we wrote wrong). The message has `context`, SQLite's message and the code's name.
Status ErrorStatus(int rc, sqlite3* db, std::string_view context);

// The version of the SQLite library in use ("3.40.1").
std::string_view LibraryVersion();

}  // namespace tyto::eventstore::sqlite
