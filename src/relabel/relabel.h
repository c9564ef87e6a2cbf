// Relabelling as Prometheus does it: `relabel_configs` (targets before a scrape) and
// `metric_relabel_configs` (scraped series before they are stored) are lists of rules applied
// in order to a label set, each of which may rewrite labels or drop the whole set.
//
// Semantics follow Prometheus 3: regexes are RE2, fully anchored, with `.` matching a newline
// (`^(?s:<regex>)$`); `$1`, `${1}`, `$name` and `${name}` in replacement and target_label are
// expanded as Go's regexp.Expand does (`$1x` names group "1x", which does not exist, so it
// expands to nothing; write `${1}x`); `$$` is a literal `$`. Label names may be any non-empty
// UTF-8.
//
//   action       what it does with val = the source_labels' values joined by separator
//   replace      if regex matches val: target_label := replacement expanded (deleted if empty)
//   keep, drop   drop the set unless / if regex matches val
//   keepequal    drop the set unless val equals the value of target_label
//   dropequal    drop the set if val equals the value of target_label
//   hashmod      target_label := (the last 8 bytes of MD5(val), big-endian) mod modulus
//   labelmap     every label whose name matches regex is copied to replacement expanded
//                against the name
//   labeldrop    remove every label whose name matches regex
//   labelkeep    remove every label whose name does not match regex
//   lowercase, uppercase   target_label := val in lower / upper case, as Go's strings.ToLower /
//                          ToUpper for Latin, Greek and Cyrillic letters (case_fold.h)
//
// Thread-safety: a compiled Relabeler is immutable and safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::config {
template <typename T>
class Section;
}

namespace tyto::relabel {

// One rule as written in YAML (Prometheus's field names and defaults).
struct Config {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string target_label;
  std::string regex = "(.*)";
  uint64_t modulus = 0;
  std::string replacement = "$1";
  std::string action = "replace";

  friend bool operator==(const Config&, const Config&) = default;
};

// The option table for one rule (for `relabel_configs`, `metric_relabel_configs` and other
// lists of rules): strict decoding with positions, and the checks Prometheus makes (the regex
// compiles; the fields each action needs are there; the ones it ignores are left at their
// defaults).
const config::Section<Config>& ConfigSchema();

class Rule;

// A compiled list of rules.
class Relabeler {
 public:
  Relabeler();  // no rules: keeps everything unchanged
  ~Relabeler();
  Relabeler(Relabeler&&) noexcept;
  Relabeler& operator=(Relabeler&&) noexcept;

  // kInvalidArgument naming the rule (its index) and what is wrong; ConfigSchema() reports the
  // same problems with file positions, so a decoded configuration compiles.
  static Result<Relabeler> Compile(const std::vector<Config>& rules);

  bool empty() const { return rules_.empty(); }

  // Applies the rules in order. Returns false when a rule dropped the set (*labels is then
  // unspecified).
  bool Process(LabelsBuilder* labels) const;

 private:
  std::vector<std::shared_ptr<const Rule>> rules_;
};

// Go's regexp.Expand of `tmpl` against the groups of the match (`groups[0]` is the whole match,
// then one per capturing group; `names[i]` is group i's name or ""). Exposed for tests.
std::string Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
                   const std::vector<std::string>& names);

}  // namespace tyto::relabel
