#include "redact/config.h"

#include <algorithm>
#include <functional>

#include "config/schema.h"
#include "redact/pattern.h"
#include "scrape/text_lexing.h"

namespace tyto::redact {

using config::Diagnostics;
using config::Node;
using config::Section;

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxReplacementBytes = 256;

std::vector<std::string> BuiltinNames() { return {kBuiltinRuleNames.begin(), kBuiltinRuleNames.end()}; }

bool IsBuiltinName(std::string_view name) {
  return std::find(kBuiltinRuleNames.begin(), kBuiltinRuleNames.end(), name) != kBuiltinRuleNames.end();
}

bool IsRuleName(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameBytes || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

// Where a problem lies: the i-th item of `builtin` or of `rules`.
enum class Part { kBuiltin, kRules };
using Report = std::function<void(Part part, size_t item, const std::string& message)>;

// Every check of the section, reported item by item, so that the schema can position each
// message and CheckRedactionConfig can collect them.
void CheckAll(const RedactionConfig& c, const Report& report) {
  for (size_t i = 0; i < c.builtin.size(); ++i) {
    const std::string& name = c.builtin[i];
    if (!IsBuiltinName(name)) {
      std::string msg = "redaction.builtin: unknown rule '" + name + "'";
      std::string guess = config::DidYouMean(name, BuiltinNames());
      if (!guess.empty()) msg += ", did you mean '" + guess + "'?";
      msg += " (built-in rules: email, phone, card, ipv4, ipv6, api_key, secret)";
      report(Part::kBuiltin, i, msg);
    } else if (std::find(c.builtin.begin(), c.builtin.begin() + static_cast<ptrdiff_t>(i), name) !=
               c.builtin.begin() + static_cast<ptrdiff_t>(i)) {
      report(Part::kBuiltin, i, "redaction.builtin: '" + name + "' is listed twice");
    }
  }
  for (size_t i = 0; i < c.rules.size(); ++i) {
    const CustomRuleConfig& r = c.rules[i];
    const std::string prefix = "redaction.rules: rule '" + r.name + "'";
    if (r.name.empty()) {
      report(Part::kRules, i, "redaction.rules: a rule needs a name");
      continue;
    }
    if (!IsRuleName(r.name)) {
      report(Part::kRules, i,
             prefix + ": a name is lowercase letters, digits and '_', starting with a letter, at most 64 bytes");
      continue;
    }
    if (IsBuiltinName(r.name)) {
      report(Part::kRules, i, prefix + ": the name of a built-in rule (list built-in rules under `builtin`)");
      continue;
    }
    bool repeated = false;
    for (size_t j = 0; j < i; ++j) repeated = repeated || c.rules[j].name == r.name;
    if (repeated) {
      report(Part::kRules, i, prefix + " is defined twice");
      continue;
    }
    if (r.regex.empty()) {
      report(Part::kRules, i, prefix + " needs a regex");
      continue;
    }
    std::string error;
    if (CompilePattern(r.regex, &error) == nullptr) {
      report(Part::kRules, i, prefix + ": invalid regex '" + r.regex + "': " + error);
      continue;
    }
    if (r.replacement.size() > kMaxReplacementBytes) {
      report(Part::kRules, i, prefix + ": replacement is longer than 256 bytes");
    } else if (scrape::FindInvalidUtf8(r.replacement) != r.replacement.size()) {
      report(Part::kRules, i, prefix + ": replacement is not valid UTF-8");
    }
  }
}

// The node of key `key` in mapping `map`, or a null node.
Node ValueOf(const Node& map, std::string_view key) {
  for (const auto& [k, v] : map.entries()) {
    if (k.scalar() == key) return v;
  }
  return Node();
}

}  // namespace

const Section<RedactionConfig>& RedactionSchema() {
  static const auto* s = [] {
    Section<CustomRuleConfig> rule("rules", "Rules of your own, applied after the built-in ones, in the order listed.");
    rule.String("name", &CustomRuleConfig::name,
                "The rule's name: lowercase letters, digits and '_'. It labels tyto_redactions_total and the "
                "default replacement.")
        .String("regex", &CustomRuleConfig::regex,
                "An RE2 pattern, unanchored (it may match anywhere in a text); (?i) makes it case-insensitive. "
                "A pattern that can match the empty string is refused.")
        .String("replacement", &CustomRuleConfig::replacement,
                "What is written instead of a match (empty: [REDACTED:<name>]). It is never itself redacted.");

    auto* sec = new Section<RedactionConfig>(
        "redaction",
        "Scrubs personal data and secrets from prompts, responses, log bodies and span attributes before "
        "anything is stored (docs/redaction.md).");
    sec->Bool("enabled", &RedactionConfig::enabled,
              "Redact before storing. When false, sampled prompts and responses are stored as sent.")
        .StringList("builtin", &RedactionConfig::builtin,
                    "The built-in rules to apply: email, phone, card, ipv4, ipv6, api_key, secret.")
        .List("rules", &RedactionConfig::rules, rule)
        .Validate([](const RedactionConfig& c, const Node& n, Diagnostics& d) {
          const std::vector<Node> builtin_items = ValueOf(n, "builtin").items();
          const std::vector<Node> rule_items = ValueOf(n, "rules").items();
          CheckAll(c, [&](Part part, size_t item, const std::string& message) {
            const std::vector<Node>& items = part == Part::kBuiltin ? builtin_items : rule_items;
            Node at = item < items.size() ? items[item] : n;
            // A regex problem points at the regex itself.
            if (part == Part::kRules && message.find("regex") != std::string::npos) {
              Node regex = ValueOf(at, "regex");
              if (!regex.IsNull()) at = regex;
            }
            d.Add(at.position(), message);
          });
        });
    return sec;
  }();
  return *s;
}

Status CheckRedactionConfig(const RedactionConfig& config) {
  std::string messages;
  CheckAll(config, [&](Part, size_t, const std::string& message) {
    if (!messages.empty()) messages += "\n";
    messages += message;
  });
  if (messages.empty()) return Status::Ok();
  return InvalidArgument(messages);
}

}  // namespace tyto::redact
