#include "alertmanager/alert.h"

namespace tyto::alertmanager {

std::string_view AlertTenant(const LabelSet& labels) {
  auto it = labels.find(kTenantLabel);
  return it == labels.end() || it->second.empty() ? kDefaultTenant : std::string_view(it->second);
}

void SetAlertTenant(LabelSet* labels, std::string_view tenant) {
  if (tenant.empty() || tenant == kDefaultTenant) {
    labels->erase(kTenantLabel);
  } else {
    (*labels)[kTenantLabel] = std::string(tenant);
  }
}

LabelSet WithoutTenant(const LabelSet& labels) {
  LabelSet out = labels;
  out.erase(kTenantLabel);
  return out;
}

uint64_t Fingerprint(const LabelSet& labels) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  for (const auto& [name, value] : labels) {
    mix(name);
    mix(value);
  }
  return h;
}

}  // namespace tyto::alertmanager
