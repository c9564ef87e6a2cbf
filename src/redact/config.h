// The `redaction:` section of tyto.yml: which built-in rules scrub prompts, responses, log bodies
// and span attributes before they are stored, and any rules of the operator's own (an RE2 pattern
// each). docs/redaction.md says what each built-in rule matches.
//
//   redaction:
//     enabled: true
//     builtin: [email, phone, card, ipv4, ipv6, api_key, secret]   # the default: all of them
//     rules:
//       - name: employee_id
//         regex: 'EMP-\d{6}'
//         replacement: '[REDACTED:employee]'   # optional; the default is [REDACTED:<name>]
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::redact {

// The built-in rules, in the order they are documented and listed by Redactor::rule_names().
enum class BuiltinRule : uint8_t { kEmail, kPhone, kCard, kIpv4, kIpv6, kApiKey, kSecret };
inline constexpr size_t kBuiltinRuleCount = 7;
inline constexpr std::array<std::string_view, kBuiltinRuleCount> kBuiltinRuleNames = {
    "email", "phone", "card", "ipv4", "ipv6", "api_key", "secret"};

inline std::string_view BuiltinRuleName(BuiltinRule r) { return kBuiltinRuleNames[static_cast<size_t>(r)]; }

// One entry of `rules`.
struct CustomRuleConfig {
  std::string name;         // [a-z][a-z0-9_]*, at most 64 bytes; not a built-in rule's name
  std::string regex;        // RE2 syntax, unanchored; must not match the empty string
  std::string replacement;  // written instead of a match; empty: "[REDACTED:<name>]"
  friend bool operator==(const CustomRuleConfig&, const CustomRuleConfig&) = default;
};

struct RedactionConfig {
  bool enabled = true;
  std::vector<std::string> builtin{kBuiltinRuleNames.begin(), kBuiltinRuleNames.end()};
  std::vector<CustomRuleConfig> rules;
  friend bool operator==(const RedactionConfig&, const RedactionConfig&) = default;
};

// Checks built-in rule names (known, listed once), and each custom rule: its name (well formed,
// unique, not a built-in's), its regex (compiles, cannot match the empty string) and its
// replacement (valid UTF-8, at most 256 bytes). Errors name file:line:column and the rule.
const config::Section<RedactionConfig>& RedactionSchema();

// The same checks as the schema, for a configuration built in code; the message names the rule.
// Redactor::Create calls it.
Status CheckRedactionConfig(const RedactionConfig& config);

}  // namespace tyto::redact
