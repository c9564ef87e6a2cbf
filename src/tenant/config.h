// The server config's `tenants:` list: per tenant, its limits (limits.h), its own Prometheus rule
// files and its event retention; and `tenant_defaults:`, the limits of tenants not listed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tenant/limits.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::tenant {

struct TenantConfig {
  std::string name;
  TenantLimits limits;
  // Prometheus rule files (globs) whose groups belong to this tenant; relative to tyto.yml's folder.
  std::vector<std::string> rule_files;
  // Events, spans and logs of this tenant older than this are removed; 0s: the store's retention.
  std::chrono::milliseconds retention{0};
};

const config::Section<TenantConfig>& TenantSchema();
const config::Section<TenantLimits>& LimitsSchema();

}  // namespace tyto::tenant
