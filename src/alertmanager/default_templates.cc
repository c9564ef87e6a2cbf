#include "alertmanager/default_templates.h"

#include <cctype>

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

namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<std::string> DefaultTemplate(std::string_view name, const Notification& n) {
  if (name == "__subject" || name == "slack.default.title" || name == "email.default.subject" ||
      name == "pagerduty.default.description") {
    return Subject(n);
  }
  if (name == "__alertmanagerURL" || name == "slack.default.titlelink" || name == "pagerduty.default.clientURL") {
    return AlertListUrl(n);
  }
  if (name == "__alertmanager" || name == "slack.default.username" || name == "pagerduty.default.client") {
    return std::string("Alertmanager");
  }
  if (name == "slack.default.fallback") return Subject(n) + " | " + AlertListUrl(n);
  if (name == "__description" || name == "slack.default.text" || name == "slack.default.pretext" ||
      name == "slack.default.footer" || name == "slack.default.iconemoji" || name == "slack.default.iconurl" ||
      name == "slack.default.callbackid") {
    return std::string();
  }
  return std::nullopt;
}

const LabelSet* Map(std::string_view name, const Notification& n) {
  if (name == ".GroupLabels") return &n.group_labels;
  if (name == ".CommonLabels") return &n.common_labels;
  if (name == ".CommonAnnotations") return &n.common_annotations;
  return nullptr;
}

std::optional<std::string> Unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  if (s.find_first_of("\\\"") != std::string_view::npos) return std::nullopt;
  return std::string(s);
}

// One operand: a field, a count of alerts, or a quoted string.
std::optional<std::string> Operand(std::string_view op, const Notification& n) {
  if (op == ".Status") return GroupState(n);
  if (op == ".Receiver") return QuoteMeta(n.receiver);
  if (op == ".ExternalURL") return n.external_url;
  if (op.starts_with("\"")) return Unquote(op);
  for (std::string_view map : {".GroupLabels.", ".CommonLabels.", ".CommonAnnotations."}) {
    if (op.starts_with(map)) {
      const LabelSet* labels = Map(map.substr(0, map.size() - 1), n);
      auto it = labels->find(std::string(op.substr(map.size())));
      return it == labels->end() ? std::string() : it->second;
    }
  }
  return std::nullopt;
}

std::optional<size_t> Count(std::string_view op, const Notification& n) {
  if (op == ".Alerts") return n.alerts.size();
  if (op == ".Alerts.Firing") return FiringAlerts(n).size();
  if (op == ".Alerts.Resolved") return ResolvedAlerts(n).size();
  return std::nullopt;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    s = TrimSpace(s);
    if (s.empty()) return out;
    size_t end = 0;
    if (s.front() == '"') {
      end = s.find('"', 1);
      end = end == std::string_view::npos ? s.size() : end + 1;
    } else {
      while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end]))) ++end;
    }
    out.push_back(s.substr(0, end));
    s.remove_prefix(end);
  }
}

std::optional<std::string> ApplyFunction(std::string_view f, const std::string& v) {
  std::string out = v;
  if (f == "toUpper") {
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  } else if (f == "toLower") {
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (f == "title") {
    bool start = true;
    for (char& c : out) {
      if (start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      start = std::isspace(static_cast<unsigned char>(c)) != 0;
    }
  } else {
    return std::nullopt;
  }
  return out;
}

// One command: "OPERAND", "len OPERAND", "FUNC OPERAND", "index MAP \"KEY\"", "template \"NAME\" .".
std::optional<std::string> Command(std::string_view command, const Notification& n) {
  const std::vector<std::string_view> w = Words(command);
  if (w.size() == 1) return Operand(w[0], n);
  if (w.size() == 2 && w[0] == "len") {
    if (auto c = Count(w[1], n)) return std::to_string(*c);
    return std::nullopt;
  }
  if (w.size() == 2) {
    auto v = Operand(w[1], n);
    if (!v) return std::nullopt;
    return ApplyFunction(w[0], *v);
  }
  if (w.size() == 3 && w[0] == "index") {
    const LabelSet* labels = Map(w[1], n);
    auto key = Unquote(w[2]);
    if (labels == nullptr || !key) return std::nullopt;
    auto it = labels->find(*key);
    return it == labels->end() ? std::string() : it->second;
  }
  if (w.size() == 3 && w[0] == "template" && w[2] == ".") {
    auto name = Unquote(w[1]);
    if (!name) return std::nullopt;
    return DefaultTemplate(*name, n);
  }
  return std::nullopt;
}

// An action's pipeline: commands joined by '|', each later one given the value before.
std::optional<std::string> Pipeline(std::string_view action, const Notification& n) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= action.size(); ++i) {
    if (i < action.size() && action[i] == '"') quoted = !quoted;
    if (i == action.size() || (action[i] == '|' && !quoted)) {
      parts.push_back(TrimSpace(action.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (parts.empty() || parts[0].empty()) return std::nullopt;
  std::optional<std::string> value;
  size_t next = 1;
  if (parts.size() >= 2 && parts[1] == "len") {
    auto c = Count(parts[0], n);
    if (!c) return std::nullopt;
    value = std::to_string(*c);
    next = 2;
  } else {
    value = Command(parts[0], n);
  }
  for (size_t i = next; value && i < parts.size(); ++i) value = ApplyFunction(parts[i], *value);
  return value;
}

}  // namespace

std::optional<std::string> RenderTemplate(std::string_view text, const Notification& n) {
  std::string out;
  while (true) {
    const size_t open = text.find("{{");
    if (open == std::string_view::npos) {
      out.append(text);
      return out;
    }
    std::string_view action = text.substr(open + 2);
    const size_t close = action.find("}}");
    if (close == std::string_view::npos) return std::nullopt;
    out.append(text.substr(0, open));
    text.remove_prefix(open + 2 + close + 2);
    action = action.substr(0, close);
    // "{{- " trims the white space before, " -}}" the white space after.
    if (action.starts_with("- ")) {
      while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
      action.remove_prefix(2);
    }
    if (action.ends_with(" -")) {
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
      action.remove_suffix(2);
    }
    action = TrimSpace(action);
    if (action.starts_with("/*") && action.ends_with("*/")) continue;
    std::optional<std::string> value = Pipeline(action, n);
    if (!value) return std::nullopt;
    out += *value;
  }
}

std::string Render(const std::string& configured, const std::string& fallback, const Notification& n) {
  if (configured.empty()) return fallback;
  return RenderTemplate(configured, n).value_or(fallback);
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
