#include "alertmanager/route.h"

#include <algorithm>

#include "alertmanager/alert.h"

namespace tyto::alertmanager {

std::unique_ptr<Route> Route::Build(const RouteConfig& root) { return BuildChild(root, nullptr, 0); }

std::unique_ptr<Route> Route::BuildChild(const RouteConfig& config, const Route* parent, size_t index) {
  std::unique_ptr<Route> r(new Route());
  r->parent_ = parent;
  r->index_ = index;
  RouteOptions o = parent != nullptr ? parent->options_ : RouteOptions{};
  if (config.receiver && !config.receiver->name.empty()) o.receiver = config.receiver->name;
  if (config.group_by) {
    o.group_by.clear();
    o.group_by_all = false;
    for (const auto& label : *config.group_by) {
      if (label == "...") {
        o.group_by_all = true;
      } else {
        o.group_by.push_back(label);
      }
    }
    std::sort(o.group_by.begin(), o.group_by.end());
  }
  if (config.group_wait) o.group_wait = *config.group_wait;
  if (config.group_interval) o.group_interval = *config.group_interval;
  if (config.repeat_interval) o.repeat_interval = *config.repeat_interval;
  o.mute_time_intervals.clear();
  o.active_time_intervals.clear();
  for (const auto& ref : config.mute_time_intervals) o.mute_time_intervals.push_back(ref.name);
  for (const auto& ref : config.active_time_intervals) o.active_time_intervals.push_back(ref.name);
  r->options_ = std::move(o);
  r->matchers_ = config.matchers;
  std::sort(r->matchers_.begin(), r->matchers_.end());
  r->continue_ = config.continue_matching;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    r->routes_.push_back(BuildChild(config.routes[i], r.get(), i));
  }
  return r;
}

std::vector<const Route*> Route::Match(const LabelSet& alert) const {
  if (!MatchesAll(matchers_, alert)) return {};
  std::vector<const Route*> all;
  for (const auto& child : routes_) {
    std::vector<const Route*> matches = child->Match(alert);
    all.insert(all.end(), matches.begin(), matches.end());
    if (!matches.empty() && !child->continue_) break;
  }
  if (all.empty()) all.push_back(this);
  return all;
}

std::string Route::Key() const {
  std::string key = parent_ != nullptr ? parent_->Key() + "/" : "";
  return key + MatchersToString(matchers_);
}

std::string Route::Id() const {
  std::string id = parent_ != nullptr ? parent_->Id() + "/" : "";
  id += MatchersToString(matchers_);
  if (parent_ != nullptr) id += "/" + std::to_string(index_);
  return id;
}

LabelSet Route::GroupLabels(const LabelSet& alert) const {
  if (options_.group_by_all) return alert;
  LabelSet out;
  for (const auto& name : options_.group_by) {
    auto it = alert.find(name);
    if (it != alert.end()) out.insert(*it);
  }
  if (auto it = alert.find(kTenantLabel); it != alert.end()) out.insert(*it);
  return out;
}

std::string Route::GroupKey(const LabelSet& alert) const {
  return Key() + ":" + LabelSetToString(GroupLabels(alert));
}

bool MutedAt(const RouteOptions& options, const Config& config, int64_t now) {
  for (const auto& name : options.mute_time_intervals) {
    const NamedTimeInterval* t = config.FindTimeInterval(name);
    if (t != nullptr && t->Contains(now)) return true;
  }
  if (options.active_time_intervals.empty()) return false;
  for (const auto& name : options.active_time_intervals) {
    const NamedTimeInterval* t = config.FindTimeInterval(name);
    if (t != nullptr && t->Contains(now)) return false;
  }
  return true;
}

}  // namespace tyto::alertmanager
