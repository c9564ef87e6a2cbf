#include "tenant/limits.h"

#include <algorithm>
#include <utility>

namespace tyto::tenant {
namespace {

Status Refuse(std::string_view tenant, const std::string& what) {
  return Status(StatusCode::kResourceExhausted,
                std::string(kLimitMarker) + ": tenant '" + std::string(tenant) + "': " + what);
}

Status StorageRefusal(std::string_view tenant, uint64_t limit, uint64_t stored) {
  return Refuse(tenant, "storage limit of " + std::to_string(limit) + " bytes reached (" + std::to_string(stored) +
                            " bytes of events, spans and logs stored); new records are refused until retention or "
                            "erasure frees space");
}

std::string Number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v))) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(v);
}

}  // namespace

bool IsLimit(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted && s.message().find(kLimitMarker) != std::string::npos;
}

Limiter::Limiter(std::map<std::string, TenantLimits> limits, TenantLimits defaults, Clock* clock,
                 std::chrono::milliseconds active_window)
    : clock_(clock), active_window_ms_(active_window.count()) {
  SetLimits(std::move(limits), defaults);
}

Limiter::~Limiter() = default;

void Limiter::SetLimits(std::map<std::string, TenantLimits> limits, TenantLimits defaults) {
  bool any = defaults.any();
  for (const auto& [name, l] : limits) any = any || l.any();
  MutexLock lock(&table_mu_);
  limits_ = std::map<std::string, TenantLimits, std::less<>>(limits.begin(), limits.end());
  defaults_ = defaults;
  any_.store(any, std::memory_order_relaxed);
}

TenantLimits Limiter::For(std::string_view tenant) const {
  MutexLock lock(&table_mu_);
  auto it = limits_.find(tenant);
  return it != limits_.end() ? it->second : defaults_;
}

Limiter::State& Limiter::StateFor(std::string_view tenant) {
  auto it = states_.find(tenant);
  if (it == states_.end()) it = states_.emplace(std::string(tenant), State{}).first;
  return it->second;
}

namespace {

// A bucket holds up to `burst` tokens (one second of `rate` when burst is 0), refilled at `rate`
// per second; it starts full.
void Refill(double rate, double burst, double* tokens, int64_t* at_ms, bool* started, int64_t now_ms) {
  const double size = burst > 0 ? burst : rate;
  if (!*started) {
    *tokens = size;
    *at_ms = now_ms;
    *started = true;
    return;
  }
  if (now_ms > *at_ms) {
    *tokens = std::min(size, *tokens + rate * static_cast<double>(now_ms - *at_ms) / 1000.0);
    *at_ms = now_ms;
  }
}

}  // namespace

bool Limiter::Overdrawn(Bucket* b, double rate, double burst, int64_t now_ms) {
  Refill(rate, burst, &b->tokens, &b->at_ms, &b->started, now_ms);
  return b->tokens <= 0;
}

void Limiter::Charge(Bucket* b, double rate, double burst, double n, int64_t now_ms) {
  Refill(rate, burst, &b->tokens, &b->at_ms, &b->started, now_ms);
  b->tokens -= n;
}

Status Limiter::CheckIngest(std::string_view tenant) {
  if (!any()) return Status::Ok();

  const TenantLimits& l = For(tenant);
  if (l.ingest_rate <= 0) return Status::Ok();
  MutexLock lock(&mu_);
  if (Overdrawn(&StateFor(tenant).ingest, l.ingest_rate, l.ingest_burst, clock_->NowMillis())) {
    return Refuse(tenant, "ingest rate limit of " + Number(l.ingest_rate) + " samples/s (burst " +
                              Number(l.ingest_burst > 0 ? l.ingest_burst : l.ingest_rate) + ") reached; retry later");
  }
  return Status::Ok();
}

void Limiter::SetStorageUsage(StorageUsageFn usage, std::chrono::milliseconds refresh) {
  MutexLock lock(&mu_);
  usage_ = std::move(usage);
  usage_refresh_ms_ = std::max<int64_t>(1, refresh.count());
}

Status Limiter::CheckStorage(std::string_view tenant, uint64_t limit) {
  const int64_t now = clock_->NowMillis();
  StorageUsageFn usage;
  {
    MutexLock lock(&mu_);
    State& s = StateFor(tenant);
    const bool fresh = s.stored_at_ms != 0 && now - s.stored_at_ms < usage_refresh_ms_;
    if (!usage_ || fresh || s.stored_reading) {
      if (s.stored_at_ms == 0 || s.stored_bytes < limit) return Status::Ok();
      return StorageRefusal(tenant, limit, s.stored_bytes);
    }
    s.stored_reading = true;
    usage = usage_;
  }
  // Read outside the lock: a remote store's answer may take a while, and other tenants go on.
  Result<uint64_t> stored = usage(tenant);
  MutexLock lock(&mu_);
  State& s = StateFor(tenant);
  s.stored_reading = false;
  s.stored_at_ms = now;  // a failed read is tried again after the refresh interval, not at once
  if (stored.ok()) s.stored_bytes = *stored;
  if (s.stored_bytes < limit) return Status::Ok();  // a store never read answers 0: let writes fail there
  return StorageRefusal(tenant, limit, s.stored_bytes);
}

Status Limiter::CheckEvents(std::string_view tenant) {
  if (!any()) return Status::Ok();

  const TenantLimits& l = For(tenant);
  if (l.max_storage_bytes > 0) TYTO_RETURN_IF_ERROR(CheckStorage(tenant, l.max_storage_bytes));
  if (l.event_rate <= 0) return Status::Ok();
  MutexLock lock(&mu_);
  if (Overdrawn(&StateFor(tenant).events, l.event_rate, l.event_burst, clock_->NowMillis())) {
    return Refuse(tenant, "event rate limit of " + Number(l.event_rate) + " records/s (burst " +
                              Number(l.event_burst > 0 ? l.event_burst : l.event_rate) + ") reached; retry later");
  }
  return Status::Ok();
}

void Limiter::ChargeIngest(std::string_view tenant, uint64_t samples) {
  if (!any()) return;

  const TenantLimits& l = For(tenant);
  if (l.ingest_rate <= 0 || samples == 0) return;
  MutexLock lock(&mu_);
  Charge(&StateFor(tenant).ingest, l.ingest_rate, l.ingest_burst, static_cast<double>(samples), clock_->NowMillis());
}

void Limiter::ChargeEvents(std::string_view tenant, uint64_t records) {
  if (!any()) return;

  const TenantLimits& l = For(tenant);
  if (l.event_rate <= 0 || records == 0) return;
  MutexLock lock(&mu_);
  Charge(&StateFor(tenant).events, l.event_rate, l.event_burst, static_cast<double>(records), clock_->NowMillis());
}

Status Limiter::AdmitSeries(std::string_view tenant, const Labels& series, int64_t /*t*/) {
  if (!any()) return Status::Ok();

  const TenantLimits& l = For(tenant);
  if (l.max_active_series == 0) return Status::Ok();
  const uint64_t h = series.Hash();
  const int64_t now = clock_->NowMillis();
  MutexLock lock(&mu_);
  State& s = StateFor(tenant);
  auto it = s.series.find(h);
  if (it != s.series.end()) {
    it->second = now;
    return Status::Ok();
  }
  if (s.series.size() >= l.max_active_series && now - s.last_purge_ms >= 1000) {
    std::erase_if(s.series, [&](const auto& kv) { return now - kv.second > active_window_ms_; });
    s.last_purge_ms = now;
  }
  if (s.series.size() >= l.max_active_series) {
    return Refuse(tenant, "active series limit of " + std::to_string(l.max_active_series) +
                              " reached (series with a sample in the last " +
                              std::to_string(active_window_ms_ / 60000) + " minutes); new series are refused");
  }
  s.series.emplace(h, now);
  return Status::Ok();
}

uint64_t Limiter::ActiveSeries(std::string_view tenant) {
  MutexLock lock(&mu_);
  return StateFor(tenant).series.size();
}

Result<Limiter::QueryPermit> Limiter::StartQuery(std::string_view tenant) {
  if (!any()) return QueryPermit();

  const TenantLimits& l = For(tenant);
  if (l.max_query_concurrency <= 0) return QueryPermit();
  MutexLock lock(&mu_);
  State& s = StateFor(tenant);
  if (s.queries >= l.max_query_concurrency) {
    return Refuse(tenant, "query concurrency limit of " + std::to_string(l.max_query_concurrency) +
                              " running queries reached; retry when one has finished");
  }
  ++s.queries;
  return QueryPermit(this, std::string(tenant));
}

void Limiter::QueryPermit::Release() {
  if (limiter_ == nullptr) return;
  MutexLock lock(&limiter_->mu_);
  --limiter_->StateFor(tenant_).queries;
  limiter_ = nullptr;
}

}  // namespace tyto::tenant
