// Alertmanager's label matchers: `name="value"`, `name!="value"`, `name=~"regex"`,
// `name!~"regex"`, alone, in a comma-separated list, or in braces `{a="b", c=~"d.*"}`; and the
// older `match:` / `match_re:` maps of route and inhibit configuration. Regular expressions are
// RE2 and anchored at both ends, as Alertmanager anchors them ("^(?:" + regex + ")$"), so
// `=~"foo"` matches "foo" only, never "foobar".
//
// An alert's labels are a LabelSet (name -> value). A label that is absent reads as "", as in
// Alertmanager: `severity=""` matches an alert without a severity label.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"

namespace re2 {
class RE2;
}

namespace tyto::alertmanager {

using LabelSet = std::map<std::string, std::string>;

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~", "!~".
std::string_view MatchTypeString(MatchType type);

// One matcher. Immutable after construction; copies share the compiled regex. Thread-safe.
class Matcher {
 public:
  // Fails on an empty name or an invalid regex (for the regex types).
  static Result<Matcher> Make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether a label value (the empty string for an absent label) satisfies the matcher.
  bool MatchesValue(std::string_view label_value) const;
  bool Matches(const LabelSet& labels) const;

  // As Alertmanager writes a matcher: name, operator and the value in double quotes with
  // backslash escapes: `severity=~"crit.*"`.
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }
  // Alertmanager's order for a route's matchers: by name, then value, then type.
  friend bool operator<(const Matcher& a, const Matcher& b);

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;  // set for the regex types only
};

using Matchers = std::vector<Matcher>;

// True when every matcher matches (an empty list matches everything).
bool MatchesAll(const Matchers& matchers, const LabelSet& labels);
// `{a="b",c=~"d"}`, matchers in the given order.
std::string MatchersToString(const Matchers& matchers);

// Parses one matcher, `name op value`. The name is [A-Za-z0-9_:.]+ or a double-quoted string;
// the value is double-quoted (escapes \" \\ \n \t) or an unquoted run up to a comma, brace or
// end. Errors name the 1-based column of the problem: "column 7: expected an operator...".
Result<Matcher> ParseMatcher(std::string_view text);
// Parses a list: matchers separated by commas, optionally inside one pair of braces; a
// trailing comma and whitespace between tokens are allowed. "{}" and "" give an empty list.
Result<Matchers> ParseMatchers(std::string_view text);

// The label set of a series' Labels (an alerting rule's output alert).
LabelSet ToLabelSet(const Labels& labels);

// A label set as Alertmanager prints one: `{alertname="X", team="y"}`, names sorted.
std::string LabelSetToString(const LabelSet& labels);

}  // namespace tyto::alertmanager
