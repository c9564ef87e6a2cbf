// Alertmanager's inhibition: a firing alert that matches a rule's source matchers mutes the
// alerts that match its target matchers and carry the same values for the rule's `equal`
// labels (an absent label counts as the empty value, so absent on both sides is equal).
//
// An alert that matches both the source and the target side of a rule is not inhibited by
// source alerts that also match both sides — otherwise two such alerts would mute each other
// (and one would mute itself). It can still be inhibited by a source alert that matches the
// source side only.
#pragma once

#include <vector>

#include "alertmanager/config.h"
#include "alertmanager/matchers.h"

namespace tyto::alertmanager {

// The rules of a configuration over a set of firing alerts. Holds copies; not thread-safe for
// concurrent SetFiring and Inhibited.
class Inhibitor {
 public:
  explicit Inhibitor(std::vector<InhibitRule> rules) : rules_(std::move(rules)) {}

  // Replaces the set of currently firing alerts (resolved alerts must not be passed: they
  // inhibit nothing).
  void SetFiring(std::vector<LabelSet> firing) { firing_ = std::move(firing); }

  // Whether `alert` is muted by some firing alert under some rule. When `by_rule` is given it
  // receives the index of the first rule that mutes the alert.
  bool Inhibited(const LabelSet& alert, size_t* by_rule = nullptr) const;

 private:
  std::vector<InhibitRule> rules_;
  std::vector<LabelSet> firing_;
};

}  // namespace tyto::alertmanager
