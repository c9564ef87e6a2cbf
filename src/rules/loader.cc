#include "rules/loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <utility>

namespace tyto::rules {
namespace {

bool HasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

}  // namespace

Result<std::vector<std::string>> ExpandRuleFiles(const std::vector<std::string>& patterns, Env* env) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](std::string path) {
    if (seen.insert(path).second) out.push_back(std::move(path));
  };
  for (const std::string& pattern : patterns) {
    const size_t slash = pattern.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : pattern.substr(0, slash);
    const std::string base = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
    if (dir.find('*') != std::string::npos) {
      return InvalidArgument("invalid rule file path \"" + pattern + "\": a wildcard is allowed in the last path element only");
    }
    if (!HasWildcard(base)) {
      if (env->FileExists(pattern)) add(pattern);
      continue;
    }
    Result<std::vector<std::string>> names = env->ListDir(dir.empty() ? "." : (slash == 0 ? "/" : dir));
    if (!names.ok()) continue;  // no such directory: no match, as Go's filepath.Glob
    std::vector<std::string> matched;
    for (const std::string& name : *names) {
      if (::fnmatch(base.c_str(), name.c_str(), 0) == 0) matched.push_back(name);
    }
    std::sort(matched.begin(), matched.end());
    for (const std::string& name : matched) add(slash == std::string::npos ? name : pattern.substr(0, slash + 1) + name);
  }
  return out;
}

Result<std::vector<RuleFile>> LoadRuleFiles(const std::vector<std::string>& patterns, Env* env) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandRuleFiles(patterns, env));
  std::vector<RuleFile> files;
  std::string errors;
  for (const std::string& path : paths) {
    Result<std::string> text = env->ReadFile(path);
    if (!text.ok()) {
      errors += (errors.empty() ? "" : "\n") + text.status().message();  // names the path
      continue;
    }
    Result<RuleFile> file = ParseRuleFile(*text, path);
    if (!file.ok()) {
      errors += (errors.empty() ? "" : "\n") + file.status().message();
      continue;
    }
    files.push_back(std::move(file).value());
  }
  if (!errors.empty()) return InvalidArgument(errors);
  return files;
}

}  // namespace tyto::rules
