// Prometheus rule files (recording and alerting rules), read unchanged from Prometheus: the
// format of https://prometheus.io/docs/prometheus/latest/configuration/recording_rules/ and
// the checks of `promtool check rules`. Parsing only: nothing here evaluates a rule.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/yaml.h"
#include "promql/ast.h"
#include "rules/template.h"
#include "tyto/status.h"

namespace tyto::rules {

// Label or annotation pairs in file order; names are unique within one list.
using LabelList = std::vector<std::pair<std::string, std::string>>;

struct Rule {
  enum class Kind { kRecording, kAlerting };
  Kind kind = Kind::kRecording;
  std::string name;  // `record` (a metric name) or `alert`
  std::string expr;  // the PromQL text as written
  std::shared_ptr<const promql::Expr> parsed_expr;  // never null in a parsed file
  std::chrono::milliseconds for_duration{0};     // alerting only; 0 when absent
  std::chrono::milliseconds keep_firing_for{0};  // alerting only; 0 when absent
  LabelList labels;                              // values may be templates (alerting)
  LabelList annotations;                         // alerting only; values are templates
  // Parsed templates of `labels` then `annotations` values, in that order (alerting only).
  std::vector<Template> label_templates;
  std::vector<Template> annotation_templates;
  config::Position position;  // of the rule's mapping
};

struct RuleGroup {
  std::string name;
  std::optional<std::chrono::milliseconds> interval;      // absent: the global interval
  int64_t limit = 0;                                      // 0: no limit
  std::optional<std::chrono::milliseconds> query_offset;  // absent: the global offset
  LabelList labels;                                       // added to every rule's results
  std::vector<Rule> rules;
  config::Position position;
};

struct RuleFile {
  std::string filename;
  std::vector<RuleGroup> groups;
  // The tenant whose groups these are: "default" for the configuration's rule_files, the
  // tenant's name for its own (tenants[].rule_files). Rule files themselves never say: they are
  // Prometheus's, read unchanged.
  std::string tenant = "default";
};

// Parses and validates one rule file. On failure the Status is kInvalidArgument and its message
// lists every problem found, one a line, each "file:line:column: what is wrong". An empty file
// is a valid file with no groups. Never throws.
Result<RuleFile> ParseRuleFile(std::string_view yaml, const std::string& filename);

}  // namespace tyto::rules
