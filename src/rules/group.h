// Group: one rule group's evaluation and state, the part of rules::Manager that runs rules
// (private to src/rules). group.cc holds the iteration, recording rules, appending and
// reload hand-over; alerting.cc the alerting rules: alert states, templates, restore and
// sending. docs/rules.md describes the semantics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "alertmanager/alert.h"
#include "api/rules_source.h"
#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "promql/engine.h"
#include "rules/manager.h"
#include "rules/rule_file.h"
#include "tyto/clock.h"
#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::rules {

// The tyto_rule_* families, registered once per Manager. Per-group series are labelled
// rule_group="<file>;<group name>", as Prometheus labels them.
struct ManagerMetrics {
  explicit ManagerMetrics(instrumentation::Registry* registry);

  instrumentation::Family<instrumentation::Counter>& evaluations;
  instrumentation::Family<instrumentation::Counter>& failures;
  instrumentation::Family<instrumentation::Counter>& iterations;
  instrumentation::Family<instrumentation::Counter>& missed;
  instrumentation::Family<instrumentation::Gauge>& interval;
  instrumentation::Family<instrumentation::Gauge>& last_duration;
  instrumentation::Family<instrumentation::Gauge>& last_timestamp;
  instrumentation::Family<instrumentation::Gauge>& last_samples;
  instrumentation::Family<instrumentation::Gauge>& rules;
  instrumentation::Family<instrumentation::Gauge>& lag;
  instrumentation::Histogram& rule_duration;
  instrumentation::Histogram& group_duration;

  // Drops the series of one group (a group removed by Update) where the registry can.
  void RemoveGroup(const std::string& group_key);
};

// What a group evaluates against; every pointer outlives the group.
struct GroupContext {
  promql::Engine* engine = nullptr;
  Storage* storage = nullptr;  // written (and ALERTS_FOR_STATE read) here
  // Queries read this storage (the tenant's view); null: the engine's own.
  Storage* query_storage = nullptr;
  std::string tenant = "default";  // whose group: its alerts carry it
  Clock* clock = nullptr;
  alertmanager::AlertReceiver* receiver = nullptr;  // may be null
  const ManagerOptions* options = nullptr;
  ManagerMetrics* metrics = nullptr;
  const std::atomic<bool>* cancelled = nullptr;  // true: stop queries (shutdown)
};

enum class AlertState { kInactive, kPending, kFiring };
std::string_view AlertStateName(AlertState s);  // "inactive", "pending", "firing"

// One alert of an alerting rule, as Prometheus's rules.Alert. Times are ms since the epoch,
// 0 meaning unset.
struct RuleAlert {
  Labels labels;  // the sample's labels without __name__, the rule's labels, alertname
  alertmanager::LabelSet annotations;  // the rule's, expanded at the last evaluation
  alertmanager::LabelSet enrichment;   // added by ManagerOptions::enrich when it fired
  AlertState state = AlertState::kPending;
  double value = 0;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;
  int64_t last_sent_ms = 0;
  int64_t valid_until_ms = 0;
  int64_t keep_firing_since_ms = 0;
};

// A group's identity (Group::key).
std::string GroupKey(std::string_view tenant, std::string_view file, std::string_view name);

// A resolved alert is kept (and re-sent) this long, as Prometheus keeps it.
inline constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

class Group {
 public:
  // `index` orders groups of one file. Fails on a group label that is not a valid template.
  static Result<std::shared_ptr<Group>> Make(const std::string& file, const RuleGroup& group, int index,
                                             const GroupContext& ctx);

  const std::string& file() const { return file_; }
  const std::string& name() const { return name_; }
  const std::string& tenant() const { return ctx_.tenant; }
  Storage* storage() const { return ctx_.storage; }  // where its series are written
  // "<file>;<name>" ("<tenant>/<file>;<name>" for a tenant other than "default"): the
  // rule_group label and the identity across reloads.
  const std::string& key() const { return key_; }
  int index() const { return index_; }
  int64_t interval_ms() const { return interval_ms_; }
  int64_t query_offset_ms() const { return query_offset_ms_; }

  // The evaluation time of the latest slot at or before `now_ms`: slots are `interval` apart,
  // at an offset within the interval fixed by a hash of the group's key, so that groups spread
  // over the interval and a group keeps its slots across restarts.
  int64_t SlotAtOrBefore(int64_t now_ms) const;

  // Creates the group's metric series; called once, when the group is put in place.
  void Activate();

  // Whether this group restores alert state from ALERTS_FOR_STATE at its first evaluation.
  void SetRestore(bool restore);

  // One iteration at `eval_ms`, counted with `missed` skipped slots, started `lag_ms` late.
  // Returns false, doing nothing, once the group has been stopped (replaced or removed).
  bool Iterate(int64_t eval_ms, int64_t missed, int64_t lag_ms);
  // A slot skipped because this server may not evaluate the group now (ManagerOptions::
  // may_evaluate): the first skip forgets the group's alerts and marks its alerting rules to
  // restore from ALERTS_FOR_STATE at the next Iterate. Returns false once the group is stopped.
  bool Suspend();

  // Takes over the state of `old` (same key, about to be replaced) and stops it: waits for an
  // evaluation of `old` under way. Rules are matched by name and labels, in order.
  void TakeOver(Group* old);
  // Stops the group and returns every series it wrote at its last evaluation (and those
  // waiting to be marked stale), for the caller to mark stale.
  std::vector<Labels> Retire();

  api::RuleGroup Snapshot() const;
  // Appends the firing alerts, in rule order, as they are sent.
  void AppendFiring(std::vector<alertmanager::Alert>* out) const;

 private:
  // What does not change after Make.
  struct RuleDef {
    Rule rule;
    // The group's labels overridden by the rule's: values for recording rules, template
    // texts for alerting rules (with their parsed templates in `templates`).
    LabelList labels;
    std::vector<Template> templates;
    std::string query;  // canonical text
    std::string match_key;  // name and labels, to match rules across reloads
    std::string generator_url;
  };
  // What the API reads, guarded by mu_.
  struct RuleStatus {
    std::string health = "unknown";
    std::string last_error;
    double eval_seconds = 0;
    int64_t last_eval_ms = 0;
    std::map<Labels, RuleAlert> alerts;  // alerting rules
    bool restored = true;                // false: restore at the next evaluation
  };
  using LabelsSet = std::unordered_set<Labels, LabelsHash>;
  // The samples one rule produced at one evaluation.
  using Vector = std::vector<promql::Element>;

  Group(const std::string& file, const RuleGroup& group, int index, const GroupContext& ctx);

  // Runs the rule's query at `t_ms`: a vector, or a scalar as one sample without labels.
  Result<Vector> Query(const RuleDef& def, int64_t t_ms) const;
  Result<Vector> EvalRecording(const RuleDef& def, int64_t eval_ms) const;
  Result<Vector> EvalAlerting(size_t i, int64_t eval_ms);
  void EvalRule(size_t i, int64_t eval_ms, int64_t* samples) REQUIRES(eval_mu_);
  // Appends `v` at `t_ms`, marks stale what rule i wrote last time and not now.
  Status Append(size_t i, const Vector& v, int64_t t_ms) REQUIRES(eval_mu_);
  void SetStatus(size_t i, const Status& st, int64_t started_ms, double seconds);
  void MarkStale(const std::vector<Labels>& series, int64_t t_ms);

  // alerting.cc
  std::string Expand(const RuleDef& def, const Template& t, const std::map<std::string, std::string>& labels,
                     double value, int64_t eval_ms) const;
  // The last ALERTS_FOR_STATE sample of each alert of the rule over the outage tolerance.
  std::map<Labels, Sample> ReadForState(const RuleDef& def, int64_t eval_ms) const;
  void Restore(const RuleDef& def, const std::map<Labels, Sample>& for_state, int64_t eval_ms, RuleAlert* a) const;
  void SendAlerts(size_t i, int64_t eval_ms);
  alertmanager::Alert ToSent(const RuleDef& def, const RuleAlert& a) const;

  const std::string file_;
  const std::string name_;
  const std::string key_;
  const int index_;
  const int64_t interval_ms_;
  const int64_t query_offset_ms_;
  const int64_t limit_;
  const GroupContext ctx_;
  const size_t num_rules_;
  std::vector<RuleDef> defs_;
  struct Series {
    instrumentation::Counter* evaluations;
    instrumentation::Counter* failures;
    instrumentation::Counter* iterations;
    instrumentation::Counter* missed;
    instrumentation::Gauge* last_duration;
    instrumentation::Gauge* last_timestamp;
    instrumentation::Gauge* last_samples;
    instrumentation::Gauge* lag;
  } metrics_{};

  // Held for a whole evaluation; guards what only an evaluation reads and writes.
  Mutex eval_mu_;
  bool stopped_ GUARDED_BY(eval_mu_) = false;
  bool suspended_ GUARDED_BY(eval_mu_) = false;  // skipped since its last Iterate
  std::vector<LabelsSet> previous_ GUARDED_BY(eval_mu_);    // per rule: series written last time
  std::vector<Labels> pending_stale_ GUARDED_BY(eval_mu_);  // of rules removed by a reload

  mutable Mutex mu_;
  std::vector<RuleStatus> status_ GUARDED_BY(mu_);
  double eval_seconds_ GUARDED_BY(mu_) = 0;
  int64_t last_eval_ms_ GUARDED_BY(mu_) = 0;
};

}  // namespace tyto::rules
