#include "rules/rule_file.h"

#include <charconv>
#include <set>
#include <system_error>

#include "common/units.h"
#include "promql/parser.h"
#include "scrape/text_lexing.h"

namespace tyto::rules {
namespace {

using config::Node;

// Collects every problem in a file, each prefixed by its position.
class Errors {
 public:
  void Add(const Node& at, std::string_view what) {
    lines_.push_back(at.position().ToString() + ": " + std::string(what));
  }
  bool empty() const { return lines_.empty(); }
  size_t count() const { return lines_.size(); }
  std::string Joined() const {
    std::string out;
    for (const std::string& line : lines_) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    return out;
  }

 private:
  std::vector<std::string> lines_;
};

bool ValidUtf8(std::string_view s) { return scrape::FindInvalidUtf8(s) == s.size(); }

// Prometheus 3 validates names with its UTF-8 scheme: any non-empty valid UTF-8.
bool ValidName(std::string_view s) { return !s.empty() && ValidUtf8(s); }

bool ExpectScalar(const Node& n, std::string_view key, Errors* errors) {
  if (n.IsScalar()) return true;
  errors->Add(n, "'" + std::string(key) + "' must be a string, got " + std::string(n.KindName()));
  return false;
}

std::optional<std::chrono::milliseconds> ReadDuration(const Node& n, std::string_view key, Errors* errors) {
  if (!ExpectScalar(n, key, errors)) return std::nullopt;
  Result<std::chrono::milliseconds> d = ParseDuration(n.scalar());
  if (!d.ok()) {
    errors->Add(n, "'" + std::string(key) + "': " + d.status().message());
    return std::nullopt;
  }
  return *d;
}

// A mapping of label names to values. `what` is "label" or "annotation".
LabelList ReadLabels(const Node& n, std::string_view what, Errors* errors) {
  LabelList out;
  if (n.IsNull()) return out;
  if (!n.IsMap()) {
    errors->Add(n, std::string(what) + "s must be a mapping, got " + std::string(n.KindName()));
    return out;
  }
  std::set<std::string> seen;
  for (const auto& [key, value] : n.entries()) {
    const std::string& name = key.scalar();
    if (!key.IsScalar() || !ValidName(name) || (what == "label" && name == "__name__")) {
      errors->Add(key, "invalid " + std::string(what) + " name: " + name);
      continue;
    }
    if (!seen.insert(name).second) {
      errors->Add(key, std::string(what) + " '" + name + "' is repeated");
      continue;
    }
    if (!value.IsScalar() && !value.IsNull()) {
      errors->Add(value, std::string(what) + " '" + name + "' must be a string, got " +
                             std::string(value.KindName()));
      continue;
    }
    if (!ValidUtf8(value.scalar())) {
      errors->Add(value, "invalid " + std::string(what) + " value for '" + name + "': not valid UTF-8");
      continue;
    }
    out.emplace_back(name, value.scalar());
  }
  return out;
}

// Parses each value of `list` as a template; `values` are the nodes the values came from.
std::vector<Template> ReadTemplates(const LabelList& list, const Node& mapping, std::string_view what,
                                    Errors* errors) {
  std::vector<Template> out;
  for (const auto& [name, text] : list) {
    Result<Template> t = Template::Parse(text);
    if (t.ok()) {
      out.push_back(std::move(*t));
      continue;
    }
    Node at = mapping;
    for (const auto& [key, value] : mapping.entries()) {
      if (key.scalar() == name) at = value;
    }
    errors->Add(at, "invalid template in " + std::string(what) + " '" + name + "': " + t.status().message());
  }
  return out;
}

std::optional<Rule> ReadRule(const Node& n, Errors* errors) {
  if (!n.IsMap()) {
    errors->Add(n, "a rule must be a mapping, got " + std::string(n.KindName()));
    return std::nullopt;
  }
  size_t before = errors->count();
  Rule rule;
  rule.position = n.position();
  std::optional<Node> record, alert, expr, for_node, keep, labels, annotations;
  std::set<std::string> seen;
  for (const auto& [key, value] : n.entries()) {
    const std::string& k = key.scalar();
    if (!seen.insert(k).second) {
      errors->Add(key, "field '" + k + "' is repeated");
      continue;
    }
    if (k == "record") record = value;
    else if (k == "alert") alert = value;
    else if (k == "expr") expr = value;
    else if (k == "for") for_node = value;
    else if (k == "keep_firing_for") keep = value;
    else if (k == "labels") labels = value;
    else if (k == "annotations") annotations = value;
    else errors->Add(key, "unknown field '" + k + "' in rule");
  }
  if (record && alert) {
    errors->Add(n, "only one of 'record' and 'alert' must be set");
  } else if (!record && !alert) {
    errors->Add(n, "one of 'record' or 'alert' must be set");
  }
  if (record) {
    rule.kind = Rule::Kind::kRecording;
    if (ExpectScalar(*record, "record", errors)) {
      rule.name = record->scalar();
      if (!ValidName(rule.name)) errors->Add(*record, "invalid recording rule name: " + rule.name);
    }
    // As in Prometheus, zero durations and empty annotations are allowed on recording rules.
    if (for_node) {
      auto d = ReadDuration(*for_node, "for", errors);
      if (d && d->count() != 0) errors->Add(*for_node, "invalid field 'for' in recording rule");
    }
    if (keep) {
      auto d = ReadDuration(*keep, "keep_firing_for", errors);
      if (d && d->count() != 0) errors->Add(*keep, "invalid field 'keep_firing_for' in recording rule");
    }
    if (annotations && !(annotations->IsNull() || (annotations->IsMap() && annotations->entries().empty()))) {
      errors->Add(*annotations, "invalid field 'annotations' in recording rule");
    }
  } else if (alert) {
    rule.kind = Rule::Kind::kAlerting;
    if (ExpectScalar(*alert, "alert", errors)) {
      rule.name = alert->scalar();
      if (!ValidName(rule.name)) errors->Add(*alert, "invalid alerting rule name: " + rule.name);
    }
  }
  if (!expr) {
    errors->Add(n, "field 'expr' must be set in rule");
  } else if (ExpectScalar(*expr, "expr", errors)) {
    rule.expr = expr->scalar();
    if (rule.expr.empty()) {
      errors->Add(*expr, "field 'expr' must be set in rule");
    } else {
      Result<promql::ExprPtr> parsed = promql::Parse(rule.expr);
      if (parsed.ok()) {
        rule.parsed_expr = std::shared_ptr<const promql::Expr>(std::move(*parsed));
      } else {
        errors->Add(*expr, "could not parse expression: " + parsed.status().message());
      }
    }
  }
  if (rule.kind == Rule::Kind::kAlerting) {
    if (for_node) {
      if (auto d = ReadDuration(*for_node, "for", errors)) rule.for_duration = *d;
    }
    if (keep) {
      if (auto d = ReadDuration(*keep, "keep_firing_for", errors)) rule.keep_firing_for = *d;
    }
  }
  if (labels) rule.labels = ReadLabels(*labels, "label", errors);
  if (annotations && rule.kind == Rule::Kind::kAlerting) {
    rule.annotations = ReadLabels(*annotations, "annotation", errors);
  }
  if (rule.kind == Rule::Kind::kAlerting) {
    if (labels) rule.label_templates = ReadTemplates(rule.labels, *labels, "label", errors);
    if (annotations) rule.annotation_templates = ReadTemplates(rule.annotations, *annotations, "annotation", errors);
  }
  if (errors->count() != before) return std::nullopt;
  return rule;
}

std::optional<RuleGroup> ReadGroup(const Node& n, Errors* errors) {
  if (!n.IsMap()) {
    errors->Add(n, "a rule group must be a mapping, got " + std::string(n.KindName()));
    return std::nullopt;
  }
  RuleGroup group;
  group.position = n.position();
  std::set<std::string> seen;
  for (const auto& [key, value] : n.entries()) {
    const std::string& k = key.scalar();
    if (!seen.insert(k).second) {
      errors->Add(key, "field '" + k + "' is repeated");
      continue;
    }
    if (k == "name") {
      if (ExpectScalar(value, "name", errors)) {
        group.name = value.scalar();
        if (group.name.empty()) errors->Add(value, "group name must not be empty");
      }
    } else if (k == "interval") {
      group.interval = ReadDuration(value, "interval", errors);
    } else if (k == "query_offset") {
      group.query_offset = ReadDuration(value, "query_offset", errors);
    } else if (k == "limit") {
      if (!ExpectScalar(value, "limit", errors)) continue;
      const std::string& s = value.scalar();
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || end != s.data() + s.size() || v < 0) {
        errors->Add(value, "'limit' must be a non-negative integer, got '" + s + "'");
      } else {
        group.limit = v;
      }
    } else if (k == "labels") {
      group.labels = ReadLabels(value, "label", errors);
      // They are added to alerting rules' labels, which are templates: checked here so that a
      // bad one is refused with its place before anything runs (not at evaluation).
      (void)ReadTemplates(group.labels, value, "group label", errors);
    } else if (k == "rules") {
      if (value.IsNull()) continue;
      if (!value.IsSequence()) {
        errors->Add(value, "'rules' must be a list, got " + std::string(value.KindName()));
        continue;
      }
      for (const Node& item : value.items()) {
        if (std::optional<Rule> rule = ReadRule(item, errors)) group.rules.push_back(std::move(*rule));
      }
    } else {
      errors->Add(key, "unknown field '" + k + "' in rule group");
    }
  }
  if (!seen.count("name")) errors->Add(n, "group name must not be empty");
  return group;
}

}  // namespace

Result<RuleFile> ParseRuleFile(std::string_view yaml, const std::string& filename) {
  TYTO_ASSIGN_OR_RETURN(Node root, config::ParseYaml(yaml, filename));
  RuleFile file;
  file.filename = filename;
  if (root.IsNull()) return file;
  Errors errors;
  if (!root.IsMap()) {
    errors.Add(root, "a rule file must be a mapping with 'groups', got " + std::string(root.KindName()));
    return InvalidArgument(errors.Joined());
  }
  std::set<std::string> names;
  std::set<std::string> seen;
  for (const auto& [key, value] : root.entries()) {
    const std::string& k = key.scalar();
    if (!seen.insert(k).second) {
      errors.Add(key, "field '" + k + "' is repeated");
      continue;
    }
    if (k != "groups") {
      errors.Add(key, "unknown field '" + k + "' in rule file");
      continue;
    }
    if (value.IsNull()) continue;
    if (!value.IsSequence()) {
      errors.Add(value, "'groups' must be a list, got " + std::string(value.KindName()));
      continue;
    }
    for (const Node& item : value.items()) {
      std::optional<RuleGroup> group = ReadGroup(item, &errors);
      if (!group) continue;
      if (!group->name.empty() && !names.insert(group->name).second) {
        errors.Add(item, "group name '" + group->name + "' is repeated in the same file");
      }
      file.groups.push_back(std::move(*group));
    }
  }
  if (!errors.empty()) return InvalidArgument(errors.Joined());
  return file;
}

}  // namespace tyto::rules
