// Alert templates: the subset of Go's text/template that Prometheus uses for the labels and
// annotations of alerting rules, with Prometheus's functions (humanize, reReplaceAll, ...).
// docs/rules.md lists what is supported.
//
// As in Prometheus, every template sees $labels, $externalLabels, $externalURL and $value, and
// the same data as .Labels, .ExternalLabels, .ExternalURL and .Value.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::rules {

// One sample of a `query` result.
struct TemplateSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct TemplateData {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> external_labels;
  std::string external_url;
  double value = 0;
  // Runs an instant query for the `query` function; when empty, `query` fails with "query is
  // not supported yet".
  std::function<Result<std::vector<TemplateSample>>(std::string_view)> query;
};

namespace template_internal {
struct Node;
}

// A parsed template. Immutable after Parse; Execute may run on several threads at once.
class Template {
 public:
  // Bounds that keep a template from running away: output bytes, nesting of actions and
  // parenthesized pipelines, and the total of range iterations in one Execute.
  static constexpr size_t kMaxOutputBytes = 1 << 20;
  static constexpr int kMaxDepth = 100;
  static constexpr size_t kMaxRangeIterations = 100000;

  // Errors are kInvalidArgument naming the 1-based line and column in `text`:
  // "template: 1:12: unexpected \"}}\" in operand".
  static Result<Template> Parse(std::string_view text);

  // Expands the template. Errors name the position of the action that failed.
  Result<std::string> Execute(const TemplateData& data) const;

  const std::string& text() const { return *text_; }

 private:
  std::shared_ptr<const std::string> text_;
  std::shared_ptr<const template_internal::Node> root_;
};

}  // namespace tyto::rules
