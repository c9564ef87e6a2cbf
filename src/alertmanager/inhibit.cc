#include "alertmanager/inhibit.h"

#include "alertmanager/alert.h"

namespace tyto::alertmanager {
namespace {

std::string_view ValueOf(const LabelSet& labels, const std::string& name) {
  auto it = labels.find(name);
  return it == labels.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

bool Inhibitor::Inhibited(const LabelSet& alert, size_t* by_rule) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    const InhibitRule& rule = rules_[i];
    if (!MatchesAll(rule.target_matchers, alert)) continue;
    // When the alert is itself a source, sources that are also targets cannot mute it.
    bool exclude_two_sided = MatchesAll(rule.source_matchers, alert);
    for (const LabelSet& source : firing_) {
      if (!MatchesAll(rule.source_matchers, source)) continue;
      // Only alerts of one tenant inhibit each other (alert.h), whatever `equal` names.
      bool equal = ValueOf(source, kTenantLabel) == ValueOf(alert, kTenantLabel);
      for (const auto& name : rule.equal) equal = equal && ValueOf(source, name) == ValueOf(alert, name);
      if (!equal) continue;
      if (exclude_two_sided && MatchesAll(rule.target_matchers, source)) continue;
      if (by_rule != nullptr) *by_rule = i;
      return true;
    }
  }
  return false;
}

}  // namespace tyto::alertmanager
