#include "tenant/config.h"

#include <limits>

#include "auth/auth.h"
#include "config/schema.h"

namespace tyto::tenant {

using config::Diagnostics;
using config::Node;
using config::Section;

const config::Section<TenantLimits>& LimitsSchema() {
  static const auto* s = [] {
    auto* l = new Section<TenantLimits>("limits", "What one tenant may use; 0 means no limit. Refusals answer 429.");
    l->Number("ingest_rate", &TenantLimits::ingest_rate, "Samples per second (remote write, OTLP metrics).")
        .Number("ingest_burst", &TenantLimits::ingest_burst, "Samples taken at once above the rate; 0: one second's.")
        .Int("max_active_series", &TenantLimits::max_active_series,
             "Series with a sample in the last 20 minutes; a sample of a new series beyond it is refused.", 0,
             std::numeric_limits<int64_t>::max())
        .Int("max_query_concurrency", &TenantLimits::max_query_concurrency, "PromQL queries running at once.", 0,
             100000)
        .Int("max_query_samples", &TenantLimits::max_query_samples,
             "Samples one query may load (lower than query.max_samples to take effect).", 0,
             std::numeric_limits<int64_t>::max())
        .Number("event_rate", &TenantLimits::event_rate, "Inference events, spans and log records per second.")
        .Number("event_burst", &TenantLimits::event_burst, "Records taken at once above the rate; 0: one second's.")
        .ByteSize("max_storage_bytes", &TenantLimits::max_storage_bytes,
                  "Bytes of inference events, spans and log records kept (their values, without indexes; e.g. 50GiB); "
                  "new records are refused while the tenant is at it.");
    return l;
  }();
  return *s;
}

const config::Section<TenantConfig>& TenantSchema() {
  static const auto* s = [] {
    auto* t = new Section<TenantConfig>("tenants[]", "A tenant's limits, rule files and retention.");
    t->String("name", &TenantConfig::name, "The tenant ([A-Za-z0-9_-], 1 to 64 characters).")
        .Nested("limits", &TenantConfig::limits, LimitsSchema())
        .StringList("rule_files", &TenantConfig::rule_files,
                    "Prometheus rule files (globs) evaluated over this tenant's series only; relative paths are "
                    "from this file's folder.")
        .Duration("retention", &TenantConfig::retention,
                  "The tenant's inference events, spans and logs older than this are removed; 0s: the event "
                  "store's retention.")
        .Validate([](const TenantConfig& c, const Node& n, Diagnostics& d) {
          if (!auth::ValidTenant(c.name)) {
            d.Add(n.position(), "tenant name '" + c.name + "' is not [A-Za-z0-9_-], 1 to 64 characters");
          }
        });
    return t;
  }();
  return *s;
}

}  // namespace tyto::tenant
