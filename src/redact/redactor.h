// The privacy redactor: finds personal data and secrets in free text (prompts and responses,
// log bodies, span attributes) and replaces each finding with "[REDACTED:<rule>]", so that none
// of it reaches the disk. The built-in rules (email, phone, card, ipv4, ipv6, api_key, secret) are
// hand-written scanners; custom rules are RE2 patterns. docs/redaction.md says what each rule
// matches and what it leaves alone.
//
//   TYTO_ASSIGN_OR_RETURN(redact::Redactor redactor, redact::Redactor::Create(config.redaction));
//   redact::Stats stats;
//   redactor.RedactInPlace(&event.prompt, &stats);
//   // export stats.findings[i] as tyto_redactions_total{rule="<redactor.rule_names()[i]>"}
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "redact/config.h"
#include "tyto/status.h"

namespace re2 {
class RE2;
}

namespace tyto::redact {

// One finding: bytes [begin, end) of the text, matched by rule_names()[rule].
struct Finding {
  size_t begin = 0;
  size_t end = 0;
  size_t rule = 0;
  friend bool operator==(const Finding&, const Finding&) = default;
};

// Findings counted per rule, for the caller's tyto_redactions_total{rule}: findings[i] counts
// rule_names()[i]. Redact adds to it (growing it to the number of rules first), so one Stats can
// gather many calls; it is not synchronised, so use one per thread or per call.
struct Stats {
  std::vector<uint64_t> findings;
  uint64_t Total() const;
};

// Built from a RedactionConfig and immutable afterwards: every method is const and may be called
// from any number of threads at once. Copies share the compiled patterns.
//
// How findings are chosen:
//   1. The enabled built-in rules find their spans. Of overlapping spans, the one starting first
//      wins; of those starting at the same byte, the longest; then api_key, card, email, ipv6,
//      ipv4, phone, secret, in that order.
//   2. Each custom rule, in the order configured, then searches the text between the findings so
//      far (RE2, leftmost-first; ^ and $ are the ends of the whole text).
//   3. Text that is already a replacement ("[REDACTED:<name>]", or a custom rule's replacement)
//      is never part of a finding, and a built-in rule does not decide on a span next to one
//      using bytes of it.
//
// Guarantees, for any bytes in:
//   - Linear time in the length of the text (scanners read each byte a bounded number of times;
//     RE2 never backtracks).
//   - Bytes outside findings are copied unchanged, invalid UTF-8 included. A finding starts and
//     ends on UTF-8 sequence boundaries, so valid UTF-8 stays valid.
//   - Idempotence: Redact(Redact(x)) == Redact(x) for the built-in rules. A custom rule keeps it
//     unless its pattern tests \b or \B next to another finding (\b\d{3} matches 123 in 123456;
//     after redaction, 456 follows a replacement and matches too): anchor both ends, or neither.
class Redactor {
 public:
  // A redactor with no rules: Redact returns its input.
  Redactor() = default;

  // Checks the configuration (CheckRedactionConfig: InvalidArgument naming the rule) and compiles
  // its patterns. `enabled: false` gives a redactor with no rules.
  static Result<Redactor> Create(const RedactionConfig& config);

  // `text` with each finding replaced by its rule's replacement.
  std::string Redact(std::string_view text, Stats* stats = nullptr) const;
  // Redacts *text in place; returns whether anything was found. Nothing is copied when nothing
  // is found, the common case.
  bool RedactInPlace(std::string* text, Stats* stats = nullptr) const;
  // The findings Redact replaces, in text order, not overlapping.
  std::vector<Finding> Find(std::string_view text) const;

  // The enabled built-in rules (in kBuiltinRuleNames order), then the custom rules in
  // configuration order. Finding::rule and Stats::findings index this.
  const std::vector<std::string>& rule_names() const { return names_; }
  // What replaces a finding of rule_names()[rule].
  const std::string& replacement(size_t rule) const { return replacements_[rule]; }

 private:
  void AddCustomFindings(std::string_view text, std::vector<Finding>* found) const;
  void Count(const std::vector<Finding>& found, Stats* stats) const;
  std::string Replace(std::string_view text, const std::vector<Finding>& found) const;

  std::vector<std::string> names_;
  std::vector<std::string> replacements_;                         // by rule index
  std::array<int, kBuiltinRuleCount> builtin_index_{-1, -1, -1, -1, -1, -1, -1};  // rule index; -1: off
  std::vector<std::shared_ptr<const re2::RE2>> patterns_;         // custom rules, in order
  std::vector<std::string> literals_;  // custom replacements not of the form [REDACTED:name]
};

}  // namespace tyto::redact
