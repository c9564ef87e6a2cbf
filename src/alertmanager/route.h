// Alertmanager's routing tree: which routes an alert goes to, with what options, and the key
// of the aggregation group it joins there.
//
// Matching is depth-first: a route matches an alert when its matchers do; then its children
// are tried in order, and the alert stops at the first matching child unless that child has
// `continue: true`. A matching route whose children match nothing is itself the result. The
// root matches every alert (it has no matchers).
//
// Options are inherited from the parent when a route leaves them out: receiver, group_by (and
// `...`), group_wait, group_interval and repeat_interval; the root's defaults are 30s, 5m and 4h.
// mute_time_intervals and active_time_intervals are not inherited, as in Alertmanager.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "alertmanager/config.h"
#include "alertmanager/matchers.h"

namespace tyto::alertmanager {

struct RouteOptions {
  std::string receiver;
  std::vector<std::string> group_by;  // sorted, without "..."
  bool group_by_all = false;          // group_by: ['...']
  Duration group_wait = std::chrono::seconds(30);
  Duration group_interval = std::chrono::minutes(5);
  Duration repeat_interval = std::chrono::hours(4);
  std::vector<std::string> mute_time_intervals;
  std::vector<std::string> active_time_intervals;
};

// One node of the built tree. Immutable once built; thread-safe for reading.
class Route {
 public:
  // Builds the tree of a parsed Config (its `route`). Never fails: ParseConfig validated it.
  static std::unique_ptr<Route> Build(const RouteConfig& root);

  const Route* parent() const { return parent_; }
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // Sorted by name, value, type, as Alertmanager sorts them for the key.
  const Matchers& matchers() const { return matchers_; }
  bool continue_matching() const { return continue_; }
  const RouteOptions& options() const { return options_; }

  // The matching routes for an alert, in order; empty when this route does not match.
  std::vector<const Route*> Match(const LabelSet& alert) const;

  // The route's path of matcher sets: `{}/{service="files"}` (Alertmanager's Route.Key). Two
  // sibling routes with equal matchers share a key.
  std::string Key() const;
  // Key with each route's index among its siblings: `{}/{service="files"}/1` (Route.ID).
  std::string Id() const;

  // The labels an alert is grouped by here: those named in group_by that the alert has, or
  // all of them under `...`; and always the tenant label (alert.h), so that one notification
  // never mixes two tenants' alerts.
  LabelSet GroupLabels(const LabelSet& alert) const;
  // The aggregation group's key: Key() + ":" + the group labels as {a="b", c="d"}.
  std::string GroupKey(const LabelSet& alert) const;

 private:
  Route() = default;
  static std::unique_ptr<Route> BuildChild(const RouteConfig& config, const Route* parent, size_t index);

  const Route* parent_ = nullptr;
  size_t index_ = 0;
  Matchers matchers_;
  bool continue_ = false;
  RouteOptions options_;
  std::vector<std::unique_ptr<Route>> routes_;
};

// Whether a route's notifications are held back at `now` (Unix ms): inside any of its mute
// time intervals, or outside all of its active time intervals when it names some. Names are
// looked up in `config`; ParseConfig has checked that they exist (an unknown one is skipped).
bool MutedAt(const RouteOptions& options, const Config& config, int64_t now);

}  // namespace tyto::alertmanager
