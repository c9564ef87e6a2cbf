// `tyto check rules FILE...`: promtool check rules, with its output and exit status.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "tyto/env.h"

namespace tyto::rules {

// Checks each file as `promtool check rules` does. For each file, on `out`:
//   Checking FILE
//     SUCCESS: N rules found
//   (a blank line)
// or, on `err`, "  FAILED:" and then every problem, one a line ("file:line:column: what is
// wrong", or why the file could not be read). Rules with the same name and labels (the group's
// included) are reported on `err` as promtool's "duplicate-rules" lint, which does not fail.
// Returns 0 when every file is valid, 1 otherwise.
int CheckRules(const std::vector<std::string>& files, Env* env, std::ostream& out, std::ostream& err);

}  // namespace tyto::rules
