// RulesSource: what the API reads of recording and alerting rules (/api/v1/rules,
// /api/v1/alerts). The rules engine (src/rules, issue 9) implements it; until then the server
// uses NullRulesSource, so the endpoints answer with no groups and no alerts in Prometheus's
// shapes, and Grafana's alerting views work unchanged.
//
// Times are milliseconds since the Unix epoch, 0 meaning never; durations are seconds, as
// Prometheus reports them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tyto/labels.h"

namespace tyto::api {

// An alert of an alerting rule that is pending or firing.
struct ActiveAlert {
  Labels labels;
  Labels annotations;
  std::string state;  // "pending" or "firing"
  int64_t active_at_ms = 0;
  int64_t keep_firing_since_ms = 0;  // 0 unless kept firing by keep_firing_for
  double value = 0;
};

struct Rule {
  enum class Kind { kAlerting, kRecording };
  Kind kind = Kind::kRecording;
  std::string name;   // the alert's name, or the recorded series' name
  std::string query;  // the PromQL expression, canonical text
  Labels labels;
  // Alerting rules only.
  Labels annotations;
  std::string state = "inactive";  // "inactive", "pending" or "firing"
  double duration_seconds = 0;     // `for`
  double keep_firing_for_seconds = 0;
  std::vector<ActiveAlert> alerts;
  // Both kinds.
  std::string health = "unknown";  // "ok", "err" or "unknown" (not evaluated yet)
  std::string last_error;
  double evaluation_seconds = 0;  // how long the last evaluation took
  int64_t last_evaluation_ms = 0;
};

struct RuleGroup {
  std::string name;
  std::string file;
  std::vector<Rule> rules;  // in evaluation order
  double interval_seconds = 0;
  int64_t limit = 0;  // alerts or series per evaluation at most; 0: no limit
  double evaluation_seconds = 0;
  int64_t last_evaluation_ms = 0;
  std::string tenant = "default";  // whose group it is: the API shows each tenant its own
};

class RulesSource {
 public:
  virtual ~RulesSource() = default;
  // Every group, in evaluation order (by file, then as written), as of now. Thread-safe.
  virtual std::vector<RuleGroup> Groups() const = 0;
};

// No rules at all.
class NullRulesSource final : public RulesSource {
 public:
  std::vector<RuleGroup> Groups() const override { return {}; }
};

}  // namespace tyto::api
