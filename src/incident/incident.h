// Incident: firing alerts grouped under one record with a timeline (issue 9, docs/incidents.md).
// Plain values: the tracker (tracker.h) owns the live incidents and hands out copies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alertmanager/alert.h"
#include "alertmanager/matchers.h"

namespace tyto::incident {

// kOpen: at least one alert fires and nobody has acknowledged it. kAcknowledged: open, and a
// person said they are on it. kResolved: every alert resolved, or a person resolved it.
enum class State : uint8_t { kOpen = 0, kAcknowledged = 1, kResolved = 2 };

enum class EntryKind : uint8_t {
  kAlertFiring = 0,
  kAlertResolved = 1,
  kNotification = 2,
  kCorrelation = 3,
  kPlaybookStep = 4,
  kNote = 5,
  kAcknowledged = 6,
  kResolved = 7,
  kReopened = 8,
};
inline constexpr int kEntryKinds = 9;

// "open", "acknowledged", "resolved"; "alert_firing", "notification", ... (the API's words).
std::string_view StateName(State s);
std::optional<State> ParseState(std::string_view name);
std::string_view EntryKindName(EntryKind k);
std::optional<EntryKind> ParseEntryKind(std::string_view name);

// Structured fields of a timeline entry, in the order they were given (receiver, status, step,
// exit_code, ...).
using Fields = std::vector<std::pair<std::string, std::string>>;

struct TimelineEntry {
  int64_t time_ms = 0;
  EntryKind kind = EntryKind::kNote;
  std::string by;    // who: a person for notes and acknowledgement; empty for the system
  std::string text;  // one line for people
  Fields fields;
};

// One alert of an incident, as last heard of.
struct IncidentAlert {
  alertmanager::LabelSet labels;
  alertmanager::LabelSet annotations;
  int64_t starts_at_ms = 0;
  int64_t ends_at_ms = 0;  // 0: unknown; for a resolved alert, when it resolved
  std::string generator_url;
  bool firing = true;
};

// A series that changed around the incident's start (src/correlate ranks them).
struct Correlation {
  alertmanager::LabelSet labels;  // with __name__
  std::string kind;               // gpu, host, kv_cache, queue, inference, quality, drift, deploy, other
  double score = 0;
  double before = 0;              // median before the start
  double after = 0;               // median around and after it
  std::string direction;          // up, down, event
};

struct Incident {
  uint64_t id = 0;
  // The tenant of the alert that opened it (alertmanager::AlertTenant); only alerts of that
  // tenant join it, and only that tenant's requests see or change it.
  std::string tenant = std::string(alertmanager::kDefaultTenant);
  std::string title;  // the first alert's alertname
  State state = State::kOpen;
  std::string severity;  // the highest `severity` label among its alerts ("" when none has one)
  int64_t opened_ms = 0;
  int64_t updated_ms = 0;        // last change of any kind
  int64_t last_firing_ms = 0;    // last time a firing alert joined or was re-sent
  int64_t acknowledged_ms = 0;   // 0: not acknowledged
  std::string acknowledged_by;
  int64_t resolved_ms = 0;       // 0: not resolved
  std::string resolved_by;       // empty when it resolved because its alerts did
  std::vector<IncidentAlert> alerts;
  std::vector<Correlation> correlations;
  std::vector<TimelineEntry> timeline;  // oldest first; the oldest are dropped past a bound

  size_t FiringAlerts() const;
};

// The rank of a `severity` label value: critical/page 4, error/high 3, warning/warn/medium 2,
// info/low 1, anything else 0. Case-insensitive.
int SeverityRank(std::string_view severity);

}  // namespace tyto::incident
