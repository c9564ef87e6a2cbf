// One tenant's view of a shared metrics storage. Every series of tenant X carries the internal
// label __tenant__="X" (series of the default tenant carry none, so single-tenant data and data
// from before tenants need no rewrite). Through a TenantStorage:
//   appends   lose any __tenant__ label the sender put (no one writes into another tenant) and
//             get the tenant's
//   queries   get the matcher __tenant__="X" (__tenant__="" for the default tenant, which matches
//             series without the label), and the label is taken out of every series returned;
//             label names and values never show it
// so PromQL, the series and label APIs, rules and the UI, given the request's TenantStorage, see
// only the tenant's series. The wrapper is small and made per request; the storage it wraps must
// outlive it. Limits (limits.h) are checked by the appender when the tenant has them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/storage.h"

namespace tyto::tenant {

class Limiter;

inline constexpr std::string_view kTenantLabel = "__tenant__";

class TenantStorage final : public Storage {
 public:
  // `limiter` may be null (no limits).
  TenantStorage(Storage* base, std::string tenant, Limiter* limiter = nullptr);

  const std::string& tenant() const { return tenant_; }
  std::unique_ptr<Appender> NewAppender() override;
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // The label set as stored for this tenant: `labels` without any __tenant__, plus the tenant's.
  Labels Stored(const Labels& labels) const;

 private:
  Storage* const base_;
  const std::string tenant_;
  const std::string label_value_;  // "" for the default tenant
  Limiter* const limiter_;
};

// The labels without __tenant__ (what a tenant is shown).
Labels WithoutTenant(const Labels& labels);

// The matchers a selection of `tenant` runs with over series stored with __tenant__ (as a
// TenantStorage's queries, for stores beside the metrics one that key by the same labels, such
// as exemplars): the caller's matchers on __tenant__ are taken as the tenant sees its series,
// without the label (one that "" satisfies is dropped, any other selects nothing), and the
// tenant's matcher is added.
Result<std::vector<Matcher>> ScopeMatchers(std::string_view tenant, const std::vector<Matcher>& matchers);

}  // namespace tyto::tenant
