#include "eventstore/sqlite.h"

#include <sqlite3.h>

#include <cmath>
#include <utility>

namespace tyto::eventstore::sqlite {

Status ErrorStatus(int rc, sqlite3* db, std::string_view context) {
  std::string msg(context);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    msg += ": ";
    msg += sqlite3_errmsg(db);
  }
  msg += " (";
  msg += sqlite3_errstr(rc);
  msg += ")";
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corruption(std::move(msg));
    case SQLITE_FULL:
      return Status(StatusCode::kNoSpace, std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return IOError(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(msg));
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return ResourceExhausted(std::move(msg));
    default:
      break;
  }
  if (db != nullptr && (rc & 0xff) == SQLITE_ERROR && std::string_view(sqlite3_errmsg(db)).starts_with("fts5:")) {
    return InvalidArgument(std::move(msg));
  }
  return Internal(std::move(msg));
}

std::string_view LibraryVersion() { return sqlite3_libversion(); }

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bound_(std::move(other.bound_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bound_ = std::move(other.bound_);
  }
  return *this;
}

void Statement::Note(int i, uint64_t bytes) {
  if (i < 1) return;
  if (bound_.size() < static_cast<size_t>(i)) bound_.resize(i, 0);
  bound_[i - 1] = bytes;
}

uint64_t Statement::BoundBytes(int from) const {
  uint64_t total = 0;
  for (size_t i = from > 1 ? from - 1 : 0; i < bound_.size(); ++i) total += bound_[i];
  return total;
}

void Statement::BindInt(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  Note(i, 8);
}
void Statement::BindDouble(int i, double v) {
  if (std::isnan(v)) {
    BindNull(i);
  } else {
    sqlite3_bind_double(stmt_, i, v);
    Note(i, 8);
  }
}
void Statement::BindText(int i, std::string_view v, bool copy) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
  Note(i, v.size());
}
void Statement::BindBlob(int i, std::string_view v, bool copy) {
  // A zero-length blob needs a non-null pointer, or SQLite binds NULL.
  sqlite3_bind_blob64(stmt_, i, v.empty() ? "" : v.data(), v.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
  Note(i, v.size());
}
void Statement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  Note(i, 0);
}
void Statement::BindTextOrNull(int i, std::string_view v, bool copy) {
  if (v.empty()) {
    BindNull(i);
  } else {
    BindText(i, v, copy);
  }
}
void Statement::BindBlobOrNull(int i, std::string_view v, bool copy) {
  if (v.empty()) {
    BindNull(i);
  } else {
    BindBlob(i, v, copy);
  }
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  std::string_view text = sql != nullptr ? sql : "";
  if (text.size() > 80) text = text.substr(0, 80);
  return ErrorStatus(rc, db_, "sqlite: " + std::string(text));
}

Status Statement::Run() {
  ScopedReset reset(this);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }
void Statement::ClearBindings() {
  sqlite3_clear_bindings(stmt_);
  bound_.clear();
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::Double(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nan("");
  return sqlite3_column_double(stmt_, col);
}
std::string_view Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}
std::string_view Statement::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  if (p == nullptr) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}
bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE;
  if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = ErrorStatus(rc, db, "sqlite: open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  // Only checkpoints and the recovery of a WAL left by a crash can make a connection wait for
  // another in this process; they take milliseconds.
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<Connection>(new Connection(db, path));
}

Connection::~Connection() {
  cache_.clear();  // finalizes
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return ErrorStatus(rc, db_, "sqlite: " + text.substr(0, 80) + " on " + path_);
  return Status::Ok();
}

Result<Statement*> Connection::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return ErrorStatus(rc, db_, "sqlite: prepare " + sql.substr(0, 80) + " on " + path_);
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, stmt)).first;
  } else {
    it->second->Reset();
    it->second->ClearBindings();
  }
  return it->second.get();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return ErrorStatus(rc, db_, "sqlite: prepare " + std::string(sql.substr(0, 80)) + " on " + path_);
  }
  return Statement(db_, stmt);
}

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  TYTO_ASSIGN_OR_RETURN(Statement * s, Cached(sql));
  ScopedReset reset(s);
  TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return Internal("sqlite: " + sql + " returned no row");
  return s->Int(0);
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int64_t Connection::Changes() const { return sqlite3_changes64(db_); }
bool Connection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

}  // namespace tyto::eventstore::sqlite
