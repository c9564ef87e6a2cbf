// Per-tenant limits, so one team cannot starve the others: ingest rate (samples per second),
// active series, query concurrency and samples per query, event rate (events, spans and log
// records per second), and the bytes of events, spans and logs stored. Every refusal is kResourceExhausted with a message that names the tenant
// and the limit and contains kLimitMarker; the HTTP API answers it with 429 (IsLimit).
//
// Rates are token buckets refilled continuously (burst: the bucket's size). Ingest is charged
// after a request was taken, so one request may overdraw the bucket; the next ones are refused
// until it refilled. Active series are those that received a sample within active_window (as
// Mimir counts them), tracked by label-set hash for tenants that have the limit only. Stored
// bytes come from the telemetry store (SetStorageUsage), read again when older than its refresh
// interval, so a tenant may pass its storage limit by what it writes in one interval.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::tenant {

inline constexpr std::string_view kLimitMarker = "tenant limit";

struct TenantLimits {
  double ingest_rate = 0;            // samples per second; 0: none
  double ingest_burst = 0;           // bucket size; 0: one second of ingest_rate
  uint64_t max_active_series = 0;    // 0: none
  int max_query_concurrency = 0;     // queries running at once; 0: none
  uint64_t max_query_samples = 0;    // samples one query may load; 0: the engine's limit
  double event_rate = 0;             // events, spans and log records per second; 0: none
  double event_burst = 0;            // 0: one second of event_rate
  uint64_t max_storage_bytes = 0;    // bytes of events, spans and logs kept (StoredBytes); 0: none
  bool operator==(const TenantLimits&) const = default;
  bool any() const {
    return ingest_rate > 0 || max_active_series > 0 || max_query_concurrency > 0 || max_query_samples > 0 ||
           event_rate > 0 || max_storage_bytes > 0;
  }
};

// Whether `s` is a tenant limit's refusal (answered 429).
bool IsLimit(const Status& s);

class Limiter {
 public:
  // Limits per tenant; tenants not named get `defaults`. `clock` must outlive the limiter.
  Limiter(std::map<std::string, TenantLimits> limits, TenantLimits defaults, Clock* clock,
          std::chrono::milliseconds active_window = std::chrono::minutes(20));
  ~Limiter();

  // Replaces the limits (a config reload). Buckets, active series and running queries are kept;
  // active series are tracked from the first sample after a tenant gains the limit.
  void SetLimits(std::map<std::string, TenantLimits> limits, TenantLimits defaults) EXCLUDES(table_mu_);
  // Whether any tenant has a limit; when none has, every check returns at once, taking no lock.
  bool any() const { return any_.load(std::memory_order_relaxed); }
  TenantLimits For(std::string_view tenant) const EXCLUDES(table_mu_);

  // The bytes of a tenant's events, spans and logs in the telemetry store
  // (eventstore::TelemetryStore::StoredBytes); asked at most once per `refresh` per tenant, and
  // only for tenants with max_storage_bytes. Set once, before requests arrive.
  using StorageUsageFn = std::function<Result<uint64_t>(std::string_view tenant)>;
  void SetStorageUsage(StorageUsageFn usage, std::chrono::milliseconds refresh) EXCLUDES(mu_);

  // Before a request of the tenant is decoded: refused while its bucket is overdrawn (and for
  // events, while its stored bytes are at max_storage_bytes or over).
  Status CheckIngest(std::string_view tenant) EXCLUDES(mu_);
  Status CheckEvents(std::string_view tenant) EXCLUDES(mu_);
  // After: what the request stored.
  void ChargeIngest(std::string_view tenant, uint64_t samples) EXCLUDES(mu_);
  void ChargeEvents(std::string_view tenant, uint64_t records) EXCLUDES(mu_);

  // A sample for `series` (as stored) at time t: refused when it would be a new active series
  // over the tenant's max_active_series.
  Status AdmitSeries(std::string_view tenant, const Labels& series, int64_t t) EXCLUDES(mu_);
  uint64_t ActiveSeries(std::string_view tenant) EXCLUDES(mu_);

  // A running query of the tenant; the slot is given back when the permit goes.
  class QueryPermit {
   public:
    QueryPermit() = default;
    QueryPermit(QueryPermit&& o) noexcept : limiter_(o.limiter_), tenant_(std::move(o.tenant_)) { o.limiter_ = nullptr; }
    QueryPermit& operator=(QueryPermit&& o) noexcept {
      if (this != &o) {
        Release();
        limiter_ = o.limiter_;
        tenant_ = std::move(o.tenant_);
        o.limiter_ = nullptr;
      }
      return *this;
    }
    ~QueryPermit() { Release(); }

   private:
    friend class Limiter;
    QueryPermit(Limiter* l, std::string t) : limiter_(l), tenant_(std::move(t)) {}
    void Release();
    Limiter* limiter_ = nullptr;
    std::string tenant_;
  };
  Result<QueryPermit> StartQuery(std::string_view tenant) EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t at_ms = 0;
    bool started = false;
  };
  struct State {
    Bucket ingest, events;
    uint64_t stored_bytes = 0;     // as last read through usage_
    int64_t stored_at_ms = 0;      // when; 0: never
    bool stored_reading = false;   // a thread is reading it now
    std::unordered_map<uint64_t, int64_t> series;  // label-set hash -> last sample's wall time
    int64_t last_purge_ms = 0;
    int queries = 0;
  };
  State& StateFor(std::string_view tenant) REQUIRES(mu_);
  Status CheckStorage(std::string_view tenant, uint64_t limit) EXCLUDES(mu_);
  static bool Overdrawn(Bucket* b, double rate, double burst, int64_t now_ms);
  static void Charge(Bucket* b, double rate, double burst, double n, int64_t now_ms);

  mutable Mutex table_mu_;
  std::map<std::string, TenantLimits, std::less<>> limits_ GUARDED_BY(table_mu_);
  TenantLimits defaults_ GUARDED_BY(table_mu_);
  std::atomic<bool> any_{false};
  Clock* const clock_;
  const int64_t active_window_ms_;
  Mutex mu_;
  std::map<std::string, State, std::less<>> states_ GUARDED_BY(mu_);
  StorageUsageFn usage_ GUARDED_BY(mu_);
  int64_t usage_refresh_ms_ GUARDED_BY(mu_) = 1000;
};

}  // namespace tyto::tenant
