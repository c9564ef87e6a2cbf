// libFuzzer target for the dashboard validator (POST /api/v1/dashboards, ui.dashboards files):
// any bytes give a dashboard or an InvalidArgument, never a crash, a hang or a deep recursion;
// an accepted dashboard's stored JSON validates again to the same dashboard.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "ui/dashboard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tyto::Result<tyto::ui::ValidatedDashboard> v = tyto::ui::ValidateDashboard(text);
  if (!v.ok()) {
    if (v.status().code() != tyto::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  tyto::Result<tyto::ui::ValidatedDashboard> again = tyto::ui::ValidateDashboard(v->dashboard.json);
  if (!again.ok() || again->dashboard.json != v->dashboard.json || again->dashboard.uid != v->dashboard.uid ||
      again->dashboard.title != v->dashboard.title) {
    std::fprintf(stderr, "stored form does not validate the same: %s\n", v->dashboard.json.c_str());
    std::abort();
  }
  (void)tyto::ui::ReplaceGrafanaVariables(text);
  return 0;
}
