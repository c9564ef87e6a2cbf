// `${...}` references in playbook step values: the alert's `${labels.NAME}` and
// `${annotations.NAME}`, and variables of the run (`${incident}`, `${run}`, `${playbook}`;
// rollback adds `${model}`, `${current}`, `${previous}`). `$$` is a literal '$'; a '$' before
// anything else is kept as it is. An absent label or annotation expands to "".
//
// Expansion is plain substitution, never evaluation: a value is inserted once and its own `$`
// and `{` are not looked at again. Where the result is interpreted, values are escaped for
// that place (a URL, a PromQL string); command arguments are passed as single argv entries, so
// shell metacharacters in a label mean nothing.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "alertmanager/matchers.h"

namespace tyto::playbook {

struct ExpandContext {
  alertmanager::LabelSet labels;
  alertmanager::LabelSet annotations;
  std::map<std::string, std::string> vars;  // incident, run, playbook, model, ...
};

enum class Escape {
  kNone,
  kUrl,     // every byte but A-Z a-z 0-9 - _ . ~ as %XX
  kPromQL,  // backslash before '\' and '"', newline as \n: safe inside a "..." string
};

std::string Expand(std::string_view text, const ExpandContext& ctx, Escape escape = Escape::kNone);

// Checks every reference in `text`: labels.NAME, annotations.NAME or one of `vars`. Returns ""
// when all are valid, else why the first one is not ("unknown reference ${foo}; ...").
std::string CheckReferences(std::string_view text, const std::vector<std::string>& vars);

}  // namespace tyto::playbook
