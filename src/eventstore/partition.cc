// Partition: creating and opening files, connections, and the reader-side caches.
#include "eventstore/partition.h"

#include "eventstore/encryption.h"

#include <time.h>

#include <cstdio>

#include "common/log.h"
#include "eventstore/codec.h"

namespace tyto::eventstore {

namespace {

const log::Logger kLog("eventstore");

// The schema of format version 3; docs/format/eventstore.md explains each table and index.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE org_bytes(org TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE attribute_keys(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE resources(id INTEGER PRIMARY KEY, scope TEXT NOT NULL, attributes BLOB NOT NULL);
CREATE TABLE trace_filter(id INTEGER PRIMARY KEY, spans_upto INTEGER NOT NULL, filter BLOB NOT NULL);
CREATE TABLE operations(org TEXT NOT NULL, service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
                        PRIMARY KEY(org, service, name, kind)) WITHOUT ROWID;
CREATE TABLE spans(
  id INTEGER PRIMARY KEY,
  trace_id BLOB NOT NULL,
  span_id BLOB NOT NULL,
  parent_span_id BLOB,
  service TEXT NOT NULL,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  duration_ns INTEGER NOT NULL,
  status INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  model TEXT,
  resource_id INTEGER NOT NULL,
  attributes BLOB NOT NULL,
  events BLOB,
  org TEXT NOT NULL DEFAULT 'default');
CREATE INDEX spans_by_start ON spans(start_ns, duration_ns, status);
CREATE INDEX spans_by_service ON spans(service, start_ns, duration_ns, status);
CREATE INDEX spans_by_model ON spans(model, start_ns, service, duration_ns, status) WHERE model IS NOT NULL;
CREATE VIRTUAL TABLE span_terms USING fts5(terms, content='', detail=none, columnsize=0, tokenize='ascii');
CREATE TABLE logs(
  id INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  severity_number INTEGER NOT NULL,
  severity_text TEXT NOT NULL,
  body TEXT NOT NULL,
  trace_id BLOB,
  span_id BLOB,
  service TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  attributes BLOB NOT NULL,
  org TEXT NOT NULL DEFAULT 'default');
CREATE INDEX logs_by_time ON logs(time_ns);
CREATE INDEX logs_by_service ON logs(service, time_ns);
CREATE VIRTUAL TABLE log_index USING fts5(body, terms, content='', columnsize=0,
                                          tokenize='unicode61 remove_diacritics 2');
CREATE TABLE inference_events(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  model TEXT NOT NULL,
  model_version TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  tenant TEXT NOT NULL,
  service TEXT NOT NULL,
  provider TEXT NOT NULL,
  operation TEXT NOT NULL,
  node TEXT NOT NULL,
  error INTEGER NOT NULL,
  error_type TEXT NOT NULL,
  latency_s REAL,
  queue_s REAL,
  ttft_s REAL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  finish_reasons BLOB NOT NULL,
  conversation_id TEXT NOT NULL,
  prompt TEXT NOT NULL,
  response TEXT NOT NULL,
  features BLOB NOT NULL,
  prediction BLOB NOT NULL,
  trace_id BLOB,
  span_id BLOB,
  org TEXT NOT NULL DEFAULT 'default',
  user TEXT NOT NULL DEFAULT '');
CREATE INDEX inference_events_by_time ON inference_events(time_ms);
CREATE INDEX inference_events_by_model ON inference_events(model, time_ms);
CREATE TABLE pipeline_stages(
  id INTEGER PRIMARY KEY,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  pipeline TEXT NOT NULL,
  stage TEXT NOT NULL,
  run_id TEXT NOT NULL,
  rows_in INTEGER NOT NULL,
  rows_out INTEGER NOT NULL,
  rows_rejected INTEGER NOT NULL,
  schema_fingerprint TEXT NOT NULL,
  fields BLOB NOT NULL,
  failed INTEGER NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX pipeline_stages_by_start ON pipeline_stages(start_ms);
CREATE INDEX pipeline_stages_by_stage ON pipeline_stages(pipeline, stage, start_ms);
CREATE TABLE deployments(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  model TEXT NOT NULL,
  version TEXT NOT NULL,
  previous_version TEXT NOT NULL,
  action TEXT NOT NULL,
  who TEXT NOT NULL,
  note TEXT NOT NULL);
CREATE INDEX deployments_by_time ON deployments(time_ms);
CREATE INDEX deployments_by_model ON deployments(model, time_ms);
)sql";

// Format version 1 to 2: the `org` columns (rows written before read as tenant "default") and
// inference events' `user`; operations keyed by org too. Only the schema changes (SQLite's ADD
// COLUMN does not rewrite rows); operations is small and copied.
constexpr const char* kUpgradeFrom1 = R"sql(
BEGIN;
ALTER TABLE spans ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE logs ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE inference_events ADD COLUMN org TEXT NOT NULL DEFAULT 'default';
ALTER TABLE inference_events ADD COLUMN user TEXT NOT NULL DEFAULT '';
CREATE TABLE operations_v2(org TEXT NOT NULL, service TEXT NOT NULL, name TEXT NOT NULL, kind INTEGER NOT NULL,
                           PRIMARY KEY(org, service, name, kind)) WITHOUT ROWID;
INSERT INTO operations_v2 SELECT 'default', service, name, kind FROM operations;
DROP TABLE operations;
ALTER TABLE operations_v2 RENAME TO operations;
PRAGMA user_version=2;
COMMIT;
)sql";

// Format version 2 to 3: org_bytes, filled from the rows there are (OrgBytesSql).
constexpr const char* kUpgradeFrom2 =
    "CREATE TABLE org_bytes(org TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID; "
    "INSERT INTO org_bytes(org, bytes) ";

// The bytes of a stored value as sqlite::Statement::BoundBytes counts a bound one.
std::string ValueBytesSql(std::string_view column) {
  const std::string c = "\"" + std::string(column) + "\"";
  return "CASE typeof(" + c + ") WHEN 'null' THEN 0 WHEN 'integer' THEN 8 WHEN 'real' THEN 8 ELSE length(CAST(" + c +
         " AS BLOB)) END";
}

// Read connections: never write; sorts and temporary b-trees in memory; SQLite's default page
// cache (2 MiB, filled only as pages are read).
constexpr const char* kReaderPragmas = "PRAGMA query_only=1; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-2048;";

Status RemoveIfExists(Env* env, const std::string& path) {
  Status s = env->RemoveFile(path);
  if (s.code() == StatusCode::kNotFound) return Status::Ok();
  return s;
}

}  // namespace

std::string PartitionFileName(int64_t start_ms) {
  time_t secs = static_cast<time_t>(start_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ.db", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool ParsePartitionFileName(std::string_view name, int64_t* start_ms) {
  // YYYYMMDDTHHMMSSZ.db
  if (name.size() != 19 || name[8] != 'T' || name.substr(15) != "Z.db") return false;
  auto digits = [&](size_t pos, size_t n, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (name[i] < '0' || name[i] > '9') return false;
      v = v * 10 + (name[i] - '0');
    }
    *out = v;
    return true;
  };
  struct tm tm {};
  int year = 0, month = 0;
  if (!digits(0, 4, &year) || !digits(4, 2, &month) || !digits(6, 2, &tm.tm_mday) || !digits(9, 2, &tm.tm_hour) ||
      !digits(11, 2, &tm.tm_min) || !digits(13, 2, &tm.tm_sec)) {
    return false;
  }
  if (year < 1970 || month < 1 || month > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 59) {
    return false;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  time_t secs = timegm(&tm);
  if (secs < 0) return false;
  *start_ms = static_cast<int64_t>(secs) * 1000;
  return PartitionFileName(*start_ms) == name;  // rejects 31 February and the like
}

Partition::Partition(Env* env, std::string path, int64_t start_ms, int64_t end_ms, bool readable,
                     const Settings& settings)
    : env_(env),
      path_(std::move(path)),
      start_ms_(start_ms),
      end_ms_(end_ms),
      readable_(readable),
      settings_(settings) {}

Result<std::shared_ptr<Partition>> Partition::Create(Env* env, const std::string& path, int64_t start_ms,
                                                     int64_t end_ms, const Settings& settings) {
  const std::string tmp = path + ".tmp";
  TYTO_RETURN_IF_ERROR(RemoveIfExists(env, tmp));
  TYTO_RETURN_IF_ERROR(RemoveIfExists(env, tmp + "-journal"));
  {
    TYTO_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> c,
                          sqlite::Connection::Open(tmp, sqlite::Connection::Mode::kCreate));
    std::string sql = "PRAGMA page_size=" + std::to_string(kPageSize) +
                      "; PRAGMA synchronous=FULL; BEGIN; PRAGMA application_id=" + std::to_string(kApplicationId) +
                      "; PRAGMA user_version=" + std::to_string(kFormatVersion) + ";" + kSchema;
    TYTO_RETURN_IF_ERROR(c->Exec(sql));
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * meta, c->Cached("INSERT INTO meta(key, value) VALUES(?, ?)"));
    auto put = [&](std::string_view key, int64_t v) {
      meta->Reset();
      meta->BindText(1, key);
      meta->BindInt(2, v);
      return meta->Run();
    };
    TYTO_RETURN_IF_ERROR(put("start_ms", start_ms));
    TYTO_RETURN_IF_ERROR(put("end_ms", end_ms));
    TYTO_RETURN_IF_ERROR(c->Exec("COMMIT; PRAGMA journal_mode=WAL;"));
  }  // closing removes the -wal and -shm files the mode switch made
  TYTO_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  TYTO_RETURN_IF_ERROR(env->SyncDir(ParentDir(path)));
  return std::shared_ptr<Partition>(new Partition(env, path, start_ms, end_ms, true, settings));
}

Result<std::shared_ptr<Partition>> Partition::OpenExisting(Env* env, const std::string& path,
                                                           const Settings& settings) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> c,
                        sqlite::Connection::Open(path, sqlite::Connection::Mode::kReadWrite));
  TYTO_ASSIGN_OR_RETURN(int64_t app, c->QueryInt("PRAGMA application_id"));
  if (app != kApplicationId)
    return Corruption(path + " is not an event store partition (application_id " + std::to_string(app) + ")");
  TYTO_ASSIGN_OR_RETURN(int64_t version, c->QueryInt("PRAGMA user_version"));
  if (version == 1) {
    if (Status s = c->Exec(kUpgradeFrom1); !s.ok()) {
      (void)c->Exec("ROLLBACK");
      return Status(s.code(), path + ": upgrading from format version 1: " + s.message());
    }
    version = 2;
  }
  if (version == 2) {
    Result<std::string> fill = OrgBytesSql(*c, false);
    Status s = fill.ok() ? c->Exec("BEGIN; " + std::string(kUpgradeFrom2) + *fill + "; PRAGMA user_version=3; COMMIT;")
                         : fill.status();
    if (!s.ok()) {
      if (c->InTransaction()) (void)c->Exec("ROLLBACK");
      return Status(s.code(), path + ": upgrading from format version 2: " + s.message());
    }
    version = kFormatVersion;
  }
  if (version != kFormatVersion) {
    return Corruption(path + " has format version " + std::to_string(version) + "; this Tyto reads version " +
                      std::to_string(kFormatVersion));
  }
  TYTO_ASSIGN_OR_RETURN(int64_t start_ms, c->QueryInt("SELECT value FROM meta WHERE key = 'start_ms'"));
  TYTO_ASSIGN_OR_RETURN(int64_t end_ms, c->QueryInt("SELECT value FROM meta WHERE key = 'end_ms'"));
  if (end_ms <= start_ms) return Corruption(path + ": meta has an empty time range");
  auto p = std::shared_ptr<Partition>(new Partition(env, path, start_ms, end_ms, true, settings));
  TYTO_RETURN_IF_ERROR(p->LoadTraceFilter(*c));
  TYTO_RETURN_IF_ERROR(p->LoadOrgBytes(*c));
  TYTO_RETURN_IF_ERROR(c->Exec(kReaderPragmas));
  p->ReleaseReader(std::move(c));  // the first idle reader
  return p;
}

std::shared_ptr<Partition> Partition::Unreadable(Env* env, const std::string& path, int64_t start_ms, int64_t end_ms,
                                                 const Settings& settings) {
  return std::shared_ptr<Partition>(new Partition(env, path, start_ms, end_ms, false, settings));
}

Partition::~Partition() {
  {
    MutexLock lock(&write_mu_);
    if (!dropped_.load()) CloseWriter();
    writer_ = WriterState{};
  }
  {
    MutexLock lock(&pool_mu_);
    if (settings_.readers != nullptr) settings_.readers->idle -= idle_readers_.size();
    idle_readers_.clear();
  }
  if (dropped_.load()) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      if (Status s = RemoveIfExists(env_, path_ + suffix); !s.ok()) {
        kLog.Warn("event store: could not delete a dropped partition's file", {{"error", s}});
      }
    }
  }
}

uint64_t Partition::FileBytes() const {
  uint64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (Result<uint64_t> n = env_->FileSize(path_ + suffix); n.ok()) total += *n;
  }
  return total;
}

void Partition::ReportQueryFailure(const Status& status) {
  if (!failure_reported_.exchange(true)) {
    kLog.Error("event store: a partition could not be read; queries skip it", {{"path", path_}, {"error", status}});
  }
}

Result<std::string> OrgBytesSql(sqlite::Connection& c, bool one_org) {
  std::string rows;
  for (const char* table : {"spans", "logs", "inference_events"}) {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement info, c.Prepare(std::string("PRAGMA table_info(") + table + ")"));
    std::string sum;
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, info.Step());
      if (!row) break;
      if (info.Text(1) == "id") continue;
      if (!sum.empty()) sum += " + ";
      sum += ValueBytesSql(info.Text(1));
    }
    if (sum.empty()) return Internal(std::string("event store: table ") + table + " has no columns");
    if (!rows.empty()) rows += " UNION ALL ";
    rows += "SELECT org, " + sum + " AS b FROM " + table + (one_org ? " WHERE org = ?1" : "");
  }
  return "SELECT org, sum(b) FROM (" + rows + ") GROUP BY org";
}

uint64_t Partition::OrgBytes(std::string_view org) const {
  MutexLock lock(&usage_mu_);
  auto it = org_bytes_.find(OrgOf(org));
  return it != org_bytes_.end() ? it->second : 0;
}

Status Partition::LoadOrgBytes(sqlite::Connection& c) {
  std::map<std::string, uint64_t, std::less<>> loaded;
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT org, bytes FROM org_bytes"));
  sqlite::ScopedReset reset(s);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    loaded[std::string(s->Text(0))] = static_cast<uint64_t>(std::max<int64_t>(0, s->Int(1)));
  }
  MutexLock lock(&usage_mu_);
  org_bytes_ = std::move(loaded);
  return Status::Ok();
}

bool Partition::MayHoldTrace(std::string_view trace_id) {
  MutexLock lock(&filter_mu_);
  return filter_.MayContain(trace_id);
}

Status Partition::LoadTraceFilter(sqlite::Connection& c) {
  int64_t upto = 0;
  TraceFilter filter;
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT spans_upto, filter FROM trace_filter WHERE id = 1"));
    sqlite::ScopedReset reset(s);
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (row) {
      Result<TraceFilter> f = TraceFilter::Decode(s->Blob(1));
      if (f.ok()) {
        upto = s->Int(0);
        filter = std::move(f).value();
      } else {
        kLog.Warn("event store: a partition's trace filter is damaged; rebuilding it", {{"path", path_}});
      }
    }
  }
  uint64_t added = 0;
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT trace_id FROM spans WHERE id > ?"));
    sqlite::ScopedReset reset(s);
    s->BindInt(1, upto);
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      filter.Add(s->Blob(0));
      ++added;
    }
  }
  if (added > 0) {
    // Stored now, so that the next start need not read these rows again.
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("INSERT OR REPLACE INTO trace_filter(id, spans_upto, filter) "
                                                          "VALUES(1, (SELECT coalesce(max(id), 0) FROM spans), ?)"));
    const std::string blob = filter.Encode();
    s->BindBlob(1, blob);
    TYTO_RETURN_IF_ERROR(s->Run());
  }
  MutexLock lock(&filter_mu_);
  filter_ = std::move(filter);
  return Status::Ok();
}

void Partition::NoteLogCursor(uint64_t cursor) {
  uint64_t cur = max_log_cursor_.load(std::memory_order_relaxed);
  while (cursor > cur && !max_log_cursor_.compare_exchange_weak(cur, cursor, std::memory_order_acq_rel)) {
  }
}

Result<std::unique_ptr<Partition::ReadConnection>> Partition::AcquireReader() {
  {
    MutexLock lock(&pool_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<sqlite::Connection> c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      if (settings_.readers != nullptr) settings_.readers->idle--;
      return std::make_unique<ReadConnection>(this, std::move(c));
    }
  }
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> c,
                        sqlite::Connection::Open(path_, sqlite::Connection::Mode::kReadWrite));
  TYTO_RETURN_IF_ERROR(c->Exec(kReaderPragmas));
  return std::make_unique<ReadConnection>(this, std::move(c));
}

void Partition::ReleaseReader(std::unique_ptr<sqlite::Connection> c) {
  if (c == nullptr) return;
  {
    MutexLock lock(&pool_mu_);
    ReaderBudget* budget = settings_.readers;
    if (budget == nullptr || budget->idle.load() < budget->max_idle) {
      idle_readers_.push_back(std::move(c));
      if (budget != nullptr) budget->idle++;
      return;
    }
  }
  c.reset();  // over the budget: closed, outside the lock
}

std::shared_ptr<const Partition::KeyNames> Partition::Keys() {
  MutexLock lock(&cache_mu_);
  if (keys_ == nullptr) keys_ = std::make_shared<const KeyNames>(1);
  return keys_;
}

Result<std::shared_ptr<const Partition::KeyNames>> Partition::ReloadKeys(sqlite::Connection& c) {
  auto names = std::make_shared<KeyNames>(1);
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT id, key FROM attribute_keys ORDER BY id"));
  sqlite::ScopedReset reset(s);
  while (true) {
    TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    int64_t id = s->Int(0);
    // Ids are dense from 1 (the writer numbers them); a huge one is damage, not a reason to
    // allocate.
    if (id < 1 || id > static_cast<int64_t>(names->size()) + 1'000'000) {
      return Corruption(path_ + ": attribute key id " + std::to_string(id) + " out of range");
    }
    if (static_cast<size_t>(id) >= names->size()) names->resize(static_cast<size_t>(id) + 1);
    (*names)[static_cast<size_t>(id)] = std::string(s->Text(1));
  }
  MutexLock lock(&cache_mu_);
  if (keys_ == nullptr || keys_->size() <= names->size()) keys_ = names;
  return keys_;
}

Status Partition::DecodeWithKeys(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys,
                                 const std::function<Status(const KeyNameFn&)>& decode) {
  for (int attempt = 0;; ++attempt) {
    bool missing = false;
    const KeyNames& names = **keys;
    Status s = decode([&](uint64_t id) -> const std::string* {
      if (id == 0 || id >= names.size() || names[id].empty()) {
        missing = true;
        return nullptr;
      }
      return &names[id];
    });
    // A key another connection added since the names were read: read them again, once.
    if (s.ok() || !missing || attempt > 0) return s.ok() ? s : s.WithContext(path_);
    TYTO_ASSIGN_OR_RETURN(*keys, ReloadKeys(c));
  }
}

Status Partition::DecodeAttrs(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys, std::string_view blob,
                              std::vector<events::Attribute>* out) {
  TYTO_RETURN_IF_ERROR(
      DecodeWithKeys(c, keys, [&](const KeyNameFn& name) { return DecodeAttributes(blob, name, out); }));
  return OpenAttributes(settings_.encryption.get(), out);
}

Status Partition::DecodeEvents(sqlite::Connection& c, std::shared_ptr<const KeyNames>* keys, std::string_view blob,
                               std::vector<events::SpanEvent>* out) {
  TYTO_RETURN_IF_ERROR(
      DecodeWithKeys(c, keys, [&](const KeyNameFn& name) { return DecodeSpanEvents(blob, name, out); }));
  return OpenSpanEvents(settings_.encryption.get(), out);
}

Result<std::shared_ptr<const Partition::Resource>> Partition::GetResource(sqlite::Connection& c, int64_t id) {
  {
    MutexLock lock(&cache_mu_);
    if (auto it = resources_.find(id); it != resources_.end()) return it->second;
  }
  TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s, c.Cached("SELECT scope, attributes FROM resources WHERE id = ?"));
  sqlite::ScopedReset reset(s);
  s->BindInt(1, id);
  TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return Corruption(path_ + ": resource " + std::to_string(id) + " is missing");
  auto r = std::make_shared<Resource>();
  r->scope = std::string(s->Text(0));
  std::shared_ptr<const KeyNames> keys = Keys();
  TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(1), &r->attributes));
  MutexLock lock(&cache_mu_);
  return resources_.emplace(id, std::move(r)).first->second;
}

Result<std::string> Partition::FilterTerms(sqlite::Connection& c, const AttributeFilter& filter) {
  // Load every resource not cached yet (a partition has one per process or pod, not per row).
  int64_t upto = 0;
  {
    MutexLock lock(&cache_mu_);
    upto = resources_loaded_upto_;
  }
  {
    TYTO_ASSIGN_OR_RETURN(sqlite::Statement * s,
                          c.Cached("SELECT id, scope, attributes FROM resources WHERE id > ? ORDER BY id"));
    sqlite::ScopedReset reset(s);
    s->BindInt(1, upto);
    std::shared_ptr<const KeyNames> keys = Keys();
    std::vector<std::pair<int64_t, std::shared_ptr<const Resource>>> loaded;
    while (true) {
      TYTO_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) break;
      auto r = std::make_shared<Resource>();
      r->scope = std::string(s->Text(1));
      TYTO_RETURN_IF_ERROR(DecodeAttrs(c, &keys, s->Blob(2), &r->attributes));
      loaded.emplace_back(s->Int(0), std::move(r));
    }
    MutexLock lock(&cache_mu_);
    for (auto& [id, r] : loaded) {
      resources_.emplace(id, std::move(r));
      resources_loaded_upto_ = std::max(resources_loaded_upto_, id);
    }
  }
  std::string terms;
  size_t alternatives = AppendFilterAttributeTerms(settings_.encryption.get(), filter.key, filter.value, &terms);
  MutexLock lock(&cache_mu_);
  for (const auto& [id, r] : resources_) {
    const std::string* v = events::FindAttribute(r->attributes, filter.key);
    if (v != nullptr && *v == filter.value) {
      terms.append(" OR ");
      terms.push_back('r');
      terms.append(std::to_string(id));
      ++alternatives;
    }
  }
  return alternatives == 1 ? terms : "(" + terms + ")";
}

Result<bool> Partition::MatchesAttributes(sqlite::Connection& c, const std::vector<AttributeFilter>& filters,
                                          const std::vector<events::Attribute>& attrs, int64_t resource_id) {
  std::shared_ptr<const Resource> resource;
  for (const AttributeFilter& f : filters) {
    const std::string* v = events::FindAttribute(attrs, f.key);
    if (v != nullptr && *v == f.value) continue;
    if (resource == nullptr) {
      TYTO_ASSIGN_OR_RETURN(resource, GetResource(c, resource_id));
    }
    v = events::FindAttribute(resource->attributes, f.key);
    if (v == nullptr || *v != f.value) return false;
  }
  return true;
}

}  // namespace tyto::eventstore
