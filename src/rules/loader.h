// Loading rule files named as prometheus.yml's `rule_files` names them: paths or globs whose
// last path element may hold the wildcards * ? and [...] (Go's filepath.Match syntax).
#pragma once

#include <string>
#include <vector>

#include "rules/rule_file.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::rules {

// The files `patterns` name, each once, in pattern order and sorted within a pattern. As in
// Prometheus, a pattern that matches nothing (a missing file included) adds nothing. Fails with
// kInvalidArgument on a wildcard before the last path element ("invalid rule file path").
Result<std::vector<std::string>> ExpandRuleFiles(const std::vector<std::string>& patterns, Env* env);

// Expands `patterns`, then reads and parses every file. Fails with kInvalidArgument listing
// every problem of every file, one a line ("file:line:column: what is wrong", or the file and
// why it could not be read).
Result<std::vector<RuleFile>> LoadRuleFiles(const std::vector<std::string>& patterns, Env* env);

}  // namespace tyto::rules
