#include "alertmanager/default_templates.h"

#include "common/units.h"

namespace tyto::alertmanager {

namespace {

// Labels equal in every alert (Alertmanager's template.Data CommonLabels / CommonAnnotations).
LabelSet Common(const std::vector<Alert>& alerts, LabelSet Alert::*field) {
  if (alerts.empty()) return {};
  LabelSet common = alerts[0].*field;
  for (size_t i = 1; i < alerts.size() && !common.empty(); ++i) {
    const LabelSet& other = alerts[i].*field;
    for (auto it = common.begin(); it != common.end();) {
      auto o = other.find(it->first);
      it = (o == other.end() || o->second != it->second) ? common.erase(it) : std::next(it);
    }
  }
  return common;
}

std::string JoinValues(const LabelSet& labels) {
  std::string out;
  for (const auto& [name, value] : labels) {
    if (!out.empty()) out += ' ';
    out += value;
  }
  return out;
}

}  // namespace

Notification Prepare(const Notification& n, bool send_resolved, uint64_t max_alerts, uint64_t* truncated) {
  Notification out = n;
  bool changed = false;
  if (!send_resolved) {
    out.alerts.clear();
    for (const Alert& a : n.alerts) {
      if (!a.ResolvedAt(n.now_ms)) out.alerts.push_back(a);
    }
    changed = out.alerts.size() != n.alerts.size();
  }
  uint64_t cut = 0;
  if (max_alerts != 0 && out.alerts.size() > max_alerts) {
    cut = out.alerts.size() - max_alerts;
    out.alerts.resize(max_alerts);
    changed = true;
  }
  if (changed) {
    out.common_labels = Common(out.alerts, &Alert::labels);
    out.common_annotations = Common(out.alerts, &Alert::annotations);
  }
  if (truncated != nullptr) *truncated = cut;
  return out;
}

std::string QuoteMeta(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (std::string_view(R"(\.+*?()|[]{}^$)").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string GoJsonTime(int64_t unix_millis) {
  if (unix_millis == 0) return "0001-01-01T00:00:00Z";
  std::string s = FormatTimestamp(unix_millis);  // "...:SS.mmmZ"
  const size_t dot = s.rfind('.');
  if (dot == std::string::npos) return s;
  size_t end = s.size() - 1;  // the 'Z'
  while (end > dot + 1 && s[end - 1] == '0') --end;
  if (end == dot + 1) end = dot;
  return s.substr(0, end) + "Z";
}

std::string GroupState(const Notification& n) {
  for (const Alert& a : n.alerts) {
    if (!a.ResolvedAt(n.now_ms)) return "firing";
  }
  return "resolved";
}

std::vector<const Alert*> FiringAlerts(const Notification& n) {
  std::vector<const Alert*> out;
  for (const Alert& a : n.alerts) {
    if (!a.ResolvedAt(n.now_ms)) out.push_back(&a);
  }
  return out;
}

std::vector<const Alert*> ResolvedAlerts(const Notification& n) {
  std::vector<const Alert*> out;
  for (const Alert& a : n.alerts) {
    if (a.ResolvedAt(n.now_ms)) out.push_back(&a);
  }
  return out;
}

std::string Subject(const Notification& n) {
  const bool firing = GroupState(n) == "firing";
  std::string out = firing ? "[FIRING:" + std::to_string(FiringAlerts(n).size()) + "]" : "[RESOLVED]";
  out += ' ';
  out += JoinValues(n.group_labels);
  out += ' ';
  if (n.common_labels.size() > n.group_labels.size()) {
    LabelSet rest = n.common_labels;
    for (const auto& [name, value] : n.group_labels) rest.erase(name);
    out += "(" + JoinValues(rest) + ")";
  }
  return out;
}

std::string AlertListUrl(const Notification& n) {
  return n.external_url + "/#/alerts?receiver=" + QueryEscape(QuoteMeta(n.receiver));
}

std::string TextAlertList(const std::vector<const Alert*>& alerts) {
  std::string out;
  for (const Alert* a : alerts) {
    out += "Labels:\n";
    for (const auto& [name, value] : a->labels) out += " - " + name + " = " + value + "\n";
    out += "Annotations:\n";
    for (const auto& [name, value] : a->annotations) out += " - " + name + " = " + value + "\n";
    out += "Source: " + a->generator_url + "\n";
  }
  return out;
}

std::string UseOrDefault(const std::string& configured, const std::string& fallback) {
  if (configured.empty() || configured.find("{{") != std::string::npos) return fallback;
  return configured;
}

std::string TruncateInRunes(std::string_view s, size_t max_runes, bool* truncated) {
  // Byte offsets where each rune starts (continuation bytes are 10xxxxxx).
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (truncated != nullptr) *truncated = starts.size() > max_runes;
  if (starts.size() <= max_runes) return std::string(s);
  if (max_runes <= 3) return std::string(s.substr(0, starts[max_runes]));
  return std::string(s.substr(0, starts[max_runes - 1])) + "\u2026";
}

}  // namespace tyto::alertmanager
