// ClickHouseStore: opening (tables on every server), health, retention, and subscriptions.
#include <chrono>
#include <random>

#include "clickhouse/row_binary.h"
#include "clickhouse/sql.h"
#include "clickhouse/store_impl.h"
#include "common/log.h"

namespace tyto::clickhouse {

namespace {

const log::Logger kLog("clickhouse");

constexpr std::chrono::milliseconds kHealthTimeout{std::chrono::seconds(5)};

uint64_t WriterId(int64_t configured) {
  if (configured >= 0) return static_cast<uint64_t>(configured);
  std::random_device rd;
  return rd() & ((1u << kWriterBits) - 1);
}

// YYYYMMDD of a day number (days since 1970-01-01).
int64_t DayNumberToYyyymmdd(int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return static_cast<int64_t>(static_cast<int>(ymd.year())) * 10000 +
         static_cast<int64_t>(static_cast<unsigned>(ymd.month())) * 100 + static_cast<unsigned>(ymd.day());
}

}  // namespace

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

int64_t ClampSecond(int64_t s) { return std::clamp<int64_t>(s, 0, 4'294'967'295); }

uint64_t IdSource::NowMicros() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::Real()->Now().time_since_epoch()).count());
}

uint64_t IdSource::Reserve(uint64_t n) {
  MutexLock lock(&mu_);
  const uint64_t base = std::max(last_ + 1, NowMicros());
  last_ = base + std::max<uint64_t>(n, 1) - 1;
  return base;
}

Metrics::Metrics(instrumentation::Registry* r)
    : inserted(r->AddCounter("tyto_clickhouse_rows_inserted_total", "Rows committed into ClickHouse, per table.",
                             {"table"})),
      rejected(r->AddCounter("tyto_clickhouse_rows_rejected_total",
                             "Rows refused before reaching ClickHouse, per table and reason: too_old, too_new, "
                             "invalid_id, busy (the queue was full), insert_error (the insert failed).",
                             {"table", "reason"})),
      batches(r->AddCounter("tyto_clickhouse_insert_batches_total", "INSERT statements committed, per table.",
                            {"table"})),
      retries(r->AddCounter("tyto_clickhouse_insert_retries_total",
                            "Inserts tried again after a failure, per table.", {"table"})),
      found_after_retry(r->AddCounter(
          "tyto_clickhouse_insert_deduplicated_total",
          "Failed inserts whose rows were found stored when checked before a retry (not inserted again), per table.",
          {"table"})),
      repeated(r->AddCounter("tyto_clickhouse_repeated_batches_total",
                             "Appends found stored already by their source (a redelivered NATS message, a client's "
                             "retry with the same Idempotency-Key), not inserted again, per table.",
                             {"table"})),
      errors(r->AddCounter("tyto_clickhouse_errors_total",
                           "Failed calls to ClickHouse, per operation: insert, query, health, maintenance.", {"op"})),
      insert_duration(r->AddHistogram("tyto_clickhouse_insert_duration_seconds",
                                      "Time to commit one batch into ClickHouse (retries included), per table.",
                                      {"table"}, instrumentation::DefaultLatencyBuckets())),
      query_duration(r->AddHistogram("tyto_clickhouse_query_duration_seconds",
                                     "Time to answer one query from ClickHouse, per kind of query.", {"query"},
                                     instrumentation::DefaultLatencyBuckets())),
      dropped(r->AddCounter("tyto_clickhouse_partitions_dropped_total",
                            "Day partitions dropped by retention, per table (counted once per server).", {"table"})) {}

ClickHouseStore::Impl::Impl(const ClickHouseConfig& config, std::string password, Clock* clock,
                            instrumentation::Registry* registry)
    : config_(config),
      layout_{config.database, config.cluster, config.replicated},
      clock_(clock != nullptr ? clock : Clock::Real()),
      own_registry_(registry == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      metrics_(registry != nullptr ? registry : own_registry_.get()),
      conn_(config, std::move(password)),
      ids_(WriterId(config.writer_id)) {}

ClickHouseStore::Impl::~Impl() { Close(); }

Status ClickHouseStore::Impl::CheckOpen() const {
  if (closed_.load()) return FailedPrecondition("the ClickHouse store is closed");
  return Status::Ok();
}

Status ClickHouseStore::Impl::CreateTables() {
  for (size_t server = 0; server < conn_.servers(); ++server) {
    for (const std::string& sql : layout_.CreateStatements()) {
      Result<std::string> r = conn_.Query(server, sql, config_.query_timeout);
      if (!r.ok()) return r.status().WithContext("creating Tyto's tables");
    }
    // Tables an older Tyto made lack newer columns (org, inference_events.user): added in place.
    for (const TableSpec& t : AllTables()) {
      std::vector<std::pair<std::string, std::string>> tables = {{layout_.LocalName(t.id), layout_.LocalTable(t.id)}};
      if (!layout_.cluster.empty()) tables.emplace_back(t.name, layout_.Table(t.id));
      for (const auto& [name, qualified] : tables) {
        Result<std::string> cols =
            conn_.Query(server,
                        "SELECT name FROM system.columns WHERE database = " + QuoteString(layout_.database) +
                            " AND table = " + QuoteString(name) + " FORMAT TabSeparated",
                        config_.query_timeout);
        if (!cols.ok()) return cols.status().WithContext("reading the columns of " + qualified);
        std::vector<std::string> existing;
        for (std::string_view rest = *cols; !rest.empty();) {
          const size_t nl = rest.find('\n');
          existing.emplace_back(rest.substr(0, nl));
          rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        }
        for (const std::string& sql : layout_.AddMissingColumns(t.id, qualified, existing)) {
          Result<std::string> r = conn_.Query(server, sql, config_.query_timeout);
          if (!r.ok()) return r.status().WithContext("adding a column to " + qualified);
        }
      }
    }
  }
  return Status::Ok();
}

void ClickHouseStore::Impl::Close() {
  if (closed_.exchange(true)) return;
  {
    MutexLock lock(&bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
  // Wake queued appends (they fail) and wait for inserts in progress (their retries stop).
  queue_mu_.Lock();
  queue_cv_.notify_all();
  while (inserting_ > 0) queue_cv_.wait(queue_mu_.native());
  queue_mu_.Unlock();
  {
    MutexLock lock(&tail_mu_);
  }
  tail_cv_.notify_all();
}

Result<std::unique_ptr<ClickHouseStore>> ClickHouseStore::Open(const ClickHouseConfig& config, Env* env, Clock* clock,
                                                               instrumentation::Registry* registry,
                                                               std::shared_ptr<const crypto::FieldEncryption> encryption) {
  TYTO_RETURN_IF_ERROR(Validate(config));
  TYTO_ASSIGN_OR_RETURN(std::string password, ReadPassword(env != nullptr ? env : Env::Default(), config));
  auto impl = std::make_unique<Impl>(config, std::move(password), clock, registry);
  impl->encryption_ = std::move(encryption);
  TYTO_RETURN_IF_ERROR(impl->CreateTables());
  kLog.Info("clickhouse: store open", {{"servers", std::to_string(config.urls.size())},
                                       {"database", config.database},
                                       {"cluster", config.cluster.empty() ? "(none)" : config.cluster},
                                       {"writer_id", std::to_string(impl->ids_.writer_id())}});
  return std::unique_ptr<ClickHouseStore>(new ClickHouseStore(std::move(impl)));
}

ClickHouseStore::ClickHouseStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClickHouseStore::~ClickHouseStore() { Close(); }
void ClickHouseStore::Close() { impl_->Close(); }

Status ClickHouseStore::Health() const {
  for (size_t server = 0; server < impl_->conn_.servers(); ++server) {
    Result<std::string> r = impl_->conn_.Query(server, "SELECT 1", kHealthTimeout);
    if (!r.ok()) {
      impl_->metrics_.errors.WithLabels({"health"}).Inc();
      return Unavailable(r.status().message());
    }
  }
  return Status::Ok();
}

Status ClickHouseStore::DropExpired() {
  Impl& m = *impl_;
  TYTO_RETURN_IF_ERROR(m.CheckOpen());
  const int64_t cutoff_ms = m.clock_->NowMillis() - m.config_.retention.count();
  // A day is dropped once its end is at or before the cutoff.
  const int64_t last_day = FloorDiv(cutoff_ms, 86'400'000) - 1;
  const int64_t last_partition = DayNumberToYyyymmdd(last_day);
  std::map<std::string, TableId> local;
  for (const TableSpec& t : AllTables()) local.emplace(m.layout_.LocalName(t.id), t.id);
  Status first;
  for (size_t server = 0; server < m.conn_.servers(); ++server) {
    Result<std::string> parts = m.conn_.Query(
        server,
        "SELECT DISTINCT table, partition FROM system.parts WHERE active AND database = " +
            QuoteString(m.config_.database) + " FORMAT RowBinary",
        m.config_.query_timeout);
    if (!parts.ok()) {
      m.metrics_.errors.WithLabels({"maintenance"}).Inc();
      if (first.ok()) first = parts.status();
      continue;
    }
    RowBinaryReader in(*parts);
    while (!in.done()) {
      Result<std::string> table = in.String();
      Result<std::string> partition = table.ok() ? in.String() : Result<std::string>(table.status());
      if (!partition.ok()) {
        if (first.ok()) first = partition.status();
        break;
      }
      auto it = local.find(*table);
      if (it == local.end()) continue;
      int64_t day = 0;
      if (partition->size() != 8 || !std::all_of(partition->begin(), partition->end(), ::isdigit)) continue;
      day = std::stoll(*partition);
      if (day > last_partition) continue;
      Result<std::string> r = m.conn_.Query(
          server, "ALTER TABLE " + m.layout_.LocalTable(it->second) + " DROP PARTITION " + std::to_string(day),
          m.config_.query_timeout);
      if (!r.ok()) {
        m.metrics_.errors.WithLabels({"maintenance"}).Inc();
        if (first.ok()) first = r.status();
        continue;
      }
      m.metrics_.dropped.WithLabels({*table}).Inc();
      kLog.Info("clickhouse: dropped an expired day",
                {{"server", m.conn_.url(server)}, {"table", *table}, {"partition", *partition}});
    }
  }
  if (Status s = SweepOrgRetention(); !s.ok() && first.ok()) first = s;
  return first;
}

void ClickHouseStore::StartBackground() {
  Impl& m = *impl_;
  MutexLock lock(&m.bg_mu_);
  if (m.bg_.joinable() || m.bg_stop_) return;
  m.bg_ = std::thread([this, &m] {
    while (true) {
      {
        m.bg_mu_.Lock();
        const auto until = std::chrono::steady_clock::now() + m.config_.maintenance_interval;
        while (!m.bg_stop_ && std::chrono::steady_clock::now() < until) m.bg_cv_.wait_until(m.bg_mu_.native(), until);
        const bool stop = m.bg_stop_;
        m.bg_mu_.Unlock();
        if (stop) return;
      }
      if (Status s = DropExpired(); !s.ok()) kLog.Warn("clickhouse: retention failed", {{"error", s}});
    }
  });
}

namespace {

class Subscription final : public eventstore::LogSubscription {
 public:
  Subscription(ClickHouseStore::Impl* impl, uint64_t id) : impl_(impl), id_(id) {}
  ~Subscription() override {
    MutexLock lock(&impl_->subs_mu_);
    impl_->listeners_.erase(id_);
  }

 private:
  ClickHouseStore::Impl* impl_;
  uint64_t id_;
};

}  // namespace

std::unique_ptr<eventstore::LogSubscription> ClickHouseStore::SubscribeLogs(eventstore::LogListener listener) {
  MutexLock lock(&impl_->subs_mu_);
  const uint64_t id = impl_->next_listener_++;
  impl_->listeners_.emplace(id, std::move(listener));
  return std::make_unique<Subscription>(impl_.get(), id);
}

}  // namespace tyto::clickhouse
