// What an API handler needs to serve a request for its tenant: the shared metrics storage, seen
// through the tenant's view (tenant_storage.h), and the tenants' limits (limits.h).
#pragma once

#include <string_view>

#include "tenant/limits.h"
#include "tenant/tenant_storage.h"

namespace tyto::tenant {

class Tenancy {
 public:
  // `metrics` must outlive this; `limiter` may be null (no limits) and must outlive this too.
  Tenancy(Storage* metrics, Limiter* limiter) : metrics_(metrics), limiter_(limiter) {}

  // The tenant's view of the metrics, for one request.
  TenantStorage View(std::string_view tenant) const { return TenantStorage(metrics_, std::string(tenant), limiter_); }
  Storage* metrics() const { return metrics_; }
  Limiter* limiter() const { return limiter_; }

 private:
  Storage* metrics_;
  Limiter* limiter_;
};

}  // namespace tyto::tenant
