#include "rules/check.h"

#include <algorithm>
#include <map>
#include <utility>

#include "rules/rule_file.h"

namespace tyto::rules {
namespace {

// A rule's identity for the duplicate lint: its name, then its labels (the group's overridden
// by the rule's) sorted by name.
using RuleIdentity = std::pair<std::string, std::map<std::string, std::string>>;

std::vector<RuleIdentity> Duplicates(const RuleFile& file) {
  std::vector<RuleIdentity> all;
  for (const RuleGroup& g : file.groups) {
    for (const Rule& r : g.rules) {
      RuleIdentity id{r.name, {}};
      for (const auto& [name, value] : g.labels) id.second[name] = value;
      for (const auto& [name, value] : r.labels) id.second[name] = value;
      all.push_back(std::move(id));
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<RuleIdentity> dups;
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i] == all[i - 1]) dups.push_back(all[i]);
  }
  return dups;
}

}  // namespace

int CheckRules(const std::vector<std::string>& files, Env* env, std::ostream& out, std::ostream& err) {
  bool failed = false;
  for (const std::string& path : files) {
    out << "Checking " << path << "\n";
    Result<std::string> text = env->ReadFile(path);
    Result<RuleFile> file = text.ok() ? ParseRuleFile(*text, path) : Result<RuleFile>(text.status());
    if (!file.ok()) {
      failed = true;
      err << "  FAILED:\n" << file.status().message() << "\n";
      continue;
    }
    const std::vector<RuleIdentity> dups = Duplicates(*file);
    if (!dups.empty()) {
      err << "  FAILED:\n" << "lint error " << dups.size() << " duplicate rule(s) found.\n";
      for (const auto& [name, labels] : dups) {
        err << "Metric: " << name << "\nLabel(s):\n";
        for (const auto& [n, v] : labels) err << "\t" << n << ": " << v << "\n";
      }
      err << "Might cause inconsistency while recording expressions\n";
    } else {
      size_t n = 0;
      for (const RuleGroup& g : file->groups) n += g.rules.size();
      out << "  SUCCESS: " << n << " rules found\n";
    }
    out << "\n";
  }
  return failed ? 1 : 0;
}

}  // namespace tyto::rules
