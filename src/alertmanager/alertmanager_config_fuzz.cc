// libFuzzer target: any bytes through ParseConfig (alertmanager.yml) and ParseMatchers. Neither
// may crash, hang or read out of bounds (the sanitizers watch), every error must be an
// InvalidArgument (never an internal error), and what the parser accepts must be usable:
//   - a parsed configuration builds a routing tree that routes a few alerts to receivers the
//     configuration defines, with group keys, and its inhibit rules and time intervals run;
//   - parsed matchers print in a form that parses back to the same matchers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "alertmanager/config.h"
#include "alertmanager/inhibit.h"
#include "alertmanager/matchers.h"
#include "alertmanager/route.h"
#include "alertmanager/silence.h"

namespace {

using namespace tyto::alertmanager;

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzConfig(std::string_view text) {
  auto c = ParseConfig(text);
  if (!c.ok()) {
    Check(c.status().code() == tyto::StatusCode::kInvalidArgument);
    return;
  }
  auto root = Route::Build(c->route);
  const LabelSet alerts[] = {{},
                             {{"alertname", "A"}, {"severity", "critical"}, {"service", "db"}},
                             {{"alertname", "B"}, {"severity", "warning"}, {"team", "frontend"}}};
  Inhibitor inhibitor(c->inhibit_rules);
  inhibitor.SetFiring({alerts[1], alerts[2]});
  for (const LabelSet& alert : alerts) {
    auto routes = root->Match(alert);
    Check(!routes.empty());
    for (const Route* r : routes) {
      Check(c->FindReceiver(r->options().receiver) != nullptr);
      (void)r->GroupKey(alert);
      (void)r->Id();
      for (const auto& name : r->options().mute_time_intervals) {
        const NamedTimeInterval* ti = c->FindTimeInterval(name);
        Check(ti != nullptr);
        (void)ti->Contains(1'800'000'000'000);
        (void)ti->Contains(-86'400'000);
      }
    }
    (void)inhibitor.Inhibited(alert);
  }
}

void FuzzMatchers(std::string_view text) {
  auto ms = ParseMatchers(text);
  if (!ms.ok()) {
    Check(ms.status().code() == tyto::StatusCode::kInvalidArgument);
    return;
  }
  std::string printed = MatchersToString(*ms);
  auto again = ParseMatchers(printed);
  Check(again.ok() && *again == *ms);
  LabelSet labels{{"a", "b"}, {"severity", "critical"}};
  (void)MatchesAll(*ms, labels);
  Silence s;
  s.id = "x";
  s.matchers = *ms;
  s.starts_at = 1;
  s.ends_at = 2;
  (void)ValidateSilence(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Inputs starting with "matchers:" go to the matcher parser alone (their seeds start so).
  if (text.starts_with("matchers:")) {
    FuzzMatchers(text.substr(9));
  } else {
    FuzzConfig(text);
  }
  return 0;
}
