#include "incident/incident.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace tyto::incident {
namespace {

constexpr std::array<std::string_view, 3> kStateNames = {"open", "acknowledged", "resolved"};
constexpr std::array<std::string_view, kEntryKinds> kEntryKindNames = {
    "alert_firing", "alert_resolved", "notification", "correlation", "playbook_step",
    "note",         "acknowledged",   "resolved",     "reopened"};

}  // namespace

std::string_view StateName(State s) { return kStateNames[static_cast<size_t>(s)]; }

std::optional<State> ParseState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) return static_cast<State>(i);
  }
  return std::nullopt;
}

std::string_view EntryKindName(EntryKind k) { return kEntryKindNames[static_cast<size_t>(k)]; }

std::optional<EntryKind> ParseEntryKind(std::string_view name) {
  for (size_t i = 0; i < kEntryKindNames.size(); ++i) {
    if (kEntryKindNames[i] == name) return static_cast<EntryKind>(i);
  }
  return std::nullopt;
}

size_t Incident::FiringAlerts() const {
  return static_cast<size_t>(std::count_if(alerts.begin(), alerts.end(), [](const IncidentAlert& a) { return a.firing; }));
}

int SeverityRank(std::string_view severity) {
  std::string s(severity);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "critical" || s == "page") return 4;
  if (s == "error" || s == "high") return 3;
  if (s == "warning" || s == "warn" || s == "medium") return 2;
  if (s == "info" || s == "low") return 1;
  return 0;
}

}  // namespace tyto::incident
