#include "tsdb/index.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "tsdb/postings.h"

namespace tyto::tsdb {

using postings::Intersect;
using postings::Subtract;
using postings::Union;

void Index::Add(SeriesRef ref, const Labels& labels) {
  MutexLock lock(&mu_);
  for (const Label& l : labels) {
    auto name = postings_.find(l.name);
    if (name == postings_.end()) name = postings_.emplace(l.name, Values()).first;
    auto value = name->second.find(l.value);
    if (value == name->second.end()) value = name->second.emplace(l.value, std::vector<SeriesRef>()).first;
    value->second.push_back(ref);
  }
  all_.push_back(ref);
}

void Index::Remove(const std::vector<std::pair<SeriesRef, Labels>>& series) {
  std::vector<SeriesRef> refs;
  refs.reserve(series.size());
  for (const auto& [ref, labels] : series) refs.push_back(ref);
  std::sort(refs.begin(), refs.end());
  auto gone = [&](SeriesRef r) { return std::binary_search(refs.begin(), refs.end(), r); };
  // Each affected postings list is filtered once, however many of its series go.
  std::set<std::pair<std::string_view, std::string_view>> pairs;
  for (const auto& [ref, labels] : series) {
    for (const Label& l : labels) pairs.emplace(l.name, l.value);
  }
  MutexLock lock(&mu_);
  for (const auto& [n, v] : pairs) {
    auto name = postings_.find(n);
    if (name == postings_.end()) continue;
    auto value = name->second.find(v);
    if (value == name->second.end()) continue;
    std::vector<SeriesRef>& list = value->second;
    list.erase(std::remove_if(list.begin(), list.end(), gone), list.end());
    if (list.empty()) name->second.erase(value);
    if (name->second.empty()) postings_.erase(name);
  }
  all_.erase(std::remove_if(all_.begin(), all_.end(), gone), all_.end());
}

std::vector<SeriesRef> Index::Matching(const Values& values, const Matcher& m, bool want) const {
  // The values wanted are those where m.Matches(v) == want. When that is the same as "v equals
  // the matcher's value" or "v matches its regex", the fast paths name the values directly.
  const bool literal = (m.type() == MatchType::kEqual && want) || (m.type() == MatchType::kNotEqual && !want);
  const bool regex = (m.type() == MatchType::kRegexMatch && want) || (m.type() == MatchType::kRegexNoMatch && !want);
  std::vector<const std::vector<SeriesRef>*> lists;
  if (literal) {
    if (auto it = values.find(m.value()); it != values.end()) lists.push_back(&it->second);
  } else if (regex && !m.set_values().empty()) {
    for (const std::string& v : m.set_values()) {
      if (auto it = values.find(v); it != values.end()) lists.push_back(&it->second);
    }
  } else {
    const std::string& prefix = regex ? m.literal_prefix() : std::string();
    for (auto it = prefix.empty() ? values.begin() : values.lower_bound(prefix); it != values.end(); ++it) {
      if (!prefix.empty() && it->first.compare(0, prefix.size(), prefix) != 0) break;
      if (m.Matches(it->first) == want) lists.push_back(&it->second);
    }
  }
  if (lists.empty()) return {};
  return Union(std::move(lists));
}

std::vector<SeriesRef> Index::Select(const std::vector<Matcher>& matchers) const {
  MutexLock lock(&mu_);
  static const Values kNoValues;
  std::vector<SeriesRef> result;
  bool started = false;
  // Matchers that exclude "" narrow the set directly; start with them.
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    auto it = postings_.find(m.name());
    std::vector<SeriesRef> refs = Matching(it == postings_.end() ? kNoValues : it->second, m, true);
    result = started ? Intersect(result, refs) : std::move(refs);
    started = true;
    if (result.empty()) return result;
  }
  if (!started) result = all_;
  // Matchers that accept "": remove the series whose value for the label is rejected.
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) continue;
    auto it = postings_.find(m.name());
    if (it == postings_.end()) continue;  // no series has the label: all match
    result = Subtract(result, Matching(it->second, m, false));
  }
  return result;
}

std::vector<std::string> Index::LabelNames() const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, values] : postings_) out.push_back(name);
  return out;
}

std::vector<std::string> Index::LabelValues(const std::string& name) const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  if (auto it = postings_.find(name); it != postings_.end()) {
    for (const auto& [value, refs] : it->second) out.push_back(value);
  }
  return out;
}

}  // namespace tyto::tsdb
