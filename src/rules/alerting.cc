// Group: alerting rules. Alert states (inactive, pending, firing) with `for` and
// `keep_firing_for`, label and annotation templates, ALERTS and ALERTS_FOR_STATE, restoring
// active_at after a restart, and sending with Prometheus's notifier timing.
#include <cmath>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/log.h"
#include "rules/group.h"

namespace tyto::rules {
namespace {

const log::Logger kLog("rules");

constexpr std::string_view kAlertsMetric = "ALERTS";
constexpr std::string_view kForStateMetric = "ALERTS_FOR_STATE";
constexpr std::string_view kAlertNameLabel = "alertname";
constexpr std::string_view kAlertStateLabel = "alertstate";

std::map<std::string, std::string> ToMap(const Labels& labels) {
  std::map<std::string, std::string> m;
  for (const Label& l : labels) m.emplace(l.name, l.value);
  return m;
}

// Whole seconds since the epoch of a time in ms, as Prometheus's time.Unix() truncates.
int64_t Seconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace

std::string Group::Expand(const RuleDef& def, const Template& t, const std::map<std::string, std::string>& labels,
                          double value, int64_t eval_ms) const {
  TemplateData data;
  data.labels = labels;
  data.external_labels = ctx_.options->external_labels;
  data.external_url = ctx_.options->external_url;
  data.value = value;
  promql::Engine* engine = ctx_.engine;
  Storage* storage = ctx_.query_storage;
  data.query = [engine, storage, eval_ms](std::string_view q) -> Result<std::vector<TemplateSample>> {
    promql::QueryContext qctx;
    qctx.storage = storage;  // the group's tenant's series only
    TYTO_ASSIGN_OR_RETURN(promql::QueryResult r, engine->Instant(q, eval_ms, qctx));
    std::vector<TemplateSample> out;
    if (r.type == promql::ValueType::kScalar) {
      out.push_back({{}, r.scalar});
    } else if (r.type == promql::ValueType::kVector) {
      out.reserve(r.vector.size());
      for (const promql::Element& e : r.vector) out.push_back({ToMap(e.metric), e.v});
    } else {
      return InvalidArgument("rule result is not a vector or scalar");
    }
    return out;
  };
  Result<std::string> s = t.Execute(data);
  if (s.ok()) return std::move(s).value();
  kLog.Warn("Expanding alert template failed", {{"rule", def.rule.name}, {"error", s.status().message()}});
  return "<error expanding template: " + s.status().message() + ">";
}

Result<Group::Vector> Group::EvalAlerting(size_t i, int64_t eval_ms) {
  const RuleDef& def = defs_[i];
  bool restore = false;
  {
    MutexLock l(&mu_);
    restore = !status_[i].restored;
  }
  // Restoring matters only for a `for` at least as long as the grace period: a shorter one
  // simply waits its `for` again.
  std::map<Labels, Sample> for_state;
  if (restore && def.rule.for_duration >= ctx_.options->for_grace_period) for_state = ReadForState(def, eval_ms);

  TYTO_ASSIGN_OR_RETURN(Vector result, Query(def, eval_ms - query_offset_ms_));

  struct Fresh {
    Labels labels;
    alertmanager::LabelSet annotations;
    double value;
  };
  std::vector<Fresh> fresh;
  fresh.reserve(result.size());
  LabelsSet seen;
  LabelsBuilder b;
  const size_t num_labels = def.templates.size();
  for (const promql::Element& e : result) {
    const std::map<std::string, std::string> sample_labels = ToMap(e.metric);
    b.Reset(e.metric);
    b.Del(kMetricNameLabel);
    for (size_t j = 0; j < num_labels; ++j) {
      b.Set(def.labels[j].first, Expand(def, def.templates[j], sample_labels, e.v, eval_ms));
    }
    b.Set(kAlertNameLabel, def.rule.name);
    Fresh f{b.Build(), {}, e.v};
    for (size_t j = 0; j < def.rule.annotations.size(); ++j) {
      f.annotations[def.rule.annotations[j].first] =
          Expand(def, def.rule.annotation_templates[j], sample_labels, e.v, eval_ms);
    }
    if (!seen.insert(f.labels).second) {
      return InvalidArgument("vector contains metrics with the same labelset after applying alert labels");
    }
    fresh.push_back(std::move(f));
  }

  const int64_t hold_ms = def.rule.for_duration.count();
  const int64_t keep_firing_ms = def.rule.keep_firing_for.count();
  Vector out;
  std::vector<std::pair<Labels, int64_t>> now_firing;  // labels and active_at
  {
    MutexLock l(&mu_);
    RuleStatus& s = status_[i];
    for (Fresh& f : fresh) {
      auto it = s.alerts.find(f.labels);
      if (it != s.alerts.end() && it->second.state != AlertState::kInactive) {
        it->second.value = f.value;
        it->second.annotations = std::move(f.annotations);
        continue;
      }
      RuleAlert a;
      a.labels = f.labels;
      a.annotations = std::move(f.annotations);
      a.value = f.value;
      a.active_at_ms = eval_ms;
      if (restore) Restore(def, for_state, eval_ms, &a);
      s.alerts[f.labels] = std::move(a);
    }

    int64_t active = 0;
    for (auto it = s.alerts.begin(); it != s.alerts.end();) {
      RuleAlert& a = it->second;
      if (seen.count(a.labels) == 0) {
        // Gone from the result: a firing alert may be kept firing for keep_firing_for.
        bool keep_firing = false;
        if (a.state == AlertState::kFiring && keep_firing_ms > 0) {
          if (a.keep_firing_since_ms == 0) a.keep_firing_since_ms = eval_ms;
          keep_firing = eval_ms - a.keep_firing_since_ms < keep_firing_ms;
        }
        // A pending alert is forgotten; a resolved one is kept (and re-sent) for a while.
        if (a.state == AlertState::kPending ||
            (a.resolved_at_ms != 0 && eval_ms - a.resolved_at_ms > kResolvedRetentionMs)) {
          it = s.alerts.erase(it);
          continue;
        }
        if (a.state != AlertState::kInactive && !keep_firing) {
          a.state = AlertState::kInactive;
          a.resolved_at_ms = eval_ms;
        }
        if (!keep_firing) {
          ++it;
          continue;
        }
      } else {
        a.keep_firing_since_ms = 0;
      }
      ++active;
      if (a.state == AlertState::kPending && eval_ms - a.active_at_ms >= hold_ms) {
        a.state = AlertState::kFiring;
        a.fired_at_ms = eval_ms;
        now_firing.emplace_back(a.labels, a.active_at_ms);
      }
      LabelsBuilder alerts(a.labels);
      alerts.Set(kMetricNameLabel, kAlertsMetric);
      alerts.Set(kAlertStateLabel, AlertStateName(a.state));
      out.push_back({alerts.Build(), 1});
      LabelsBuilder for_state_labels(a.labels);
      for_state_labels.Set(kMetricNameLabel, kForStateMetric);
      out.push_back({for_state_labels.Build(), static_cast<double>(Seconds(a.active_at_ms))});
      ++it;
    }
    if (limit_ > 0 && active > limit_) {
      s.alerts.clear();
      return InvalidArgument("exceeded limit of " + std::to_string(limit_) + " with " + std::to_string(active) +
                             " alerts");
    }
    s.restored = true;
  }

  if (ctx_.options->enrich && !now_firing.empty()) {
    for (const auto& [labels, active_at] : now_firing) {
      alertmanager::LabelSet extra;
      alertmanager::LabelSet with_tenant = alertmanager::ToLabelSet(labels);
      alertmanager::SetAlertTenant(&with_tenant, ctx_.tenant);
      ctx_.options->enrich(with_tenant, active_at, &extra);
      if (extra.empty()) continue;
      MutexLock l(&mu_);
      auto it = status_[i].alerts.find(labels);
      if (it != status_[i].alerts.end()) it->second.enrichment = std::move(extra);
    }
  }
  return out;
}

std::map<Labels, Sample> Group::ReadForState(const RuleDef& def, int64_t eval_ms) const {
  std::map<Labels, Sample> out;
  const int64_t mint = eval_ms - ctx_.options->outage_tolerance.count();
  Result<std::unique_ptr<Querier>> q = ctx_.storage->NewQuerier(mint, eval_ms);
  if (!q.ok()) {
    kLog.Warn("Reading ALERTS_FOR_STATE failed; alerts not restored", {{"rule", def.rule.name}, {"error", q.status().message()}});
    return out;
  }
  std::vector<Matcher> matchers;
  for (auto [name, value] : {std::pair<std::string_view, std::string_view>{kMetricNameLabel, kForStateMetric},
                             {kAlertNameLabel, def.rule.name}}) {
    Result<Matcher> m = Matcher::Make(MatchType::kEqual, std::string(name), std::string(value));
    if (!m.ok()) return out;
    matchers.push_back(std::move(m).value());
  }
  std::unique_ptr<SeriesSet> set = (*q)->Select(matchers);
  LabelsBuilder b;
  while (set->Next()) {
    std::unique_ptr<SeriesIterator> it = set->Iterator();
    bool any = false;
    Sample last;
    while (it->Next()) {
      last = it->At();
      any = true;
    }
    if (!it->status().ok() || !any) continue;
    b.Reset(set->labels());
    b.Del(kMetricNameLabel);
    out[b.Build()] = last;
  }
  if (!set->status().ok()) {
    kLog.Warn("Reading ALERTS_FOR_STATE failed; alerts not restored", {{"rule", def.rule.name}, {"error", set->status().message()}});
    out.clear();
  }
  return out;
}

void Group::Restore(const RuleDef& def, const std::map<Labels, Sample>& for_state, int64_t eval_ms,
                    RuleAlert* a) const {
  auto it = for_state.find(a->labels);
  if (it == for_state.end()) return;
  const Sample s = it->second;
  // A staleness marker: the alert had ended before the restart.
  if (IsStaleMarker(s.v) || !std::isfinite(s.v) || std::fabs(s.v) > 1e15) return;
  const int64_t hold_ms = def.rule.for_duration.count();
  const int64_t grace_ms = ctx_.options->for_grace_period.count();
  const int64_t down_at_ms = Seconds(s.t) * 1000;
  int64_t active_at_ms = static_cast<int64_t>(s.v) * 1000;
  const int64_t remaining_ms = hold_ms - (down_at_ms - active_at_ms);
  if (remaining_ms <= 0) {
    // It was firing when Tyto stopped: it fires again at once if its condition still holds.
  } else if (remaining_ms < grace_ms) {
    // It was about to fire: it now fires after the grace period.
    active_at_ms = eval_ms + grace_ms - hold_ms;
  } else {
    // The pending time before the restart counts; the time Tyto was down does not.
    active_at_ms += eval_ms - down_at_ms;
  }
  a->active_at_ms = active_at_ms;
}

alertmanager::Alert Group::ToSent(const RuleDef& def, const RuleAlert& a) const {
  alertmanager::Alert out;
  out.labels = alertmanager::ToLabelSet(a.labels);
  for (const auto& [name, value] : ctx_.options->external_labels) out.labels.emplace(name, value);
  alertmanager::SetAlertTenant(&out.labels, ctx_.tenant);  // the group's, whatever the rule's labels say
  out.annotations = a.enrichment;
  for (const auto& [name, value] : a.annotations) out.annotations[name] = value;
  out.starts_at_ms = a.fired_at_ms;
  out.ends_at_ms = a.resolved_at_ms != 0 ? a.resolved_at_ms : a.valid_until_ms;
  out.generator_url = def.generator_url;
  return out;
}

void Group::SendAlerts(size_t i, int64_t eval_ms) {
  if (ctx_.receiver == nullptr) return;
  const int64_t resend_ms = ctx_.options->resend_delay.count();
  // Valid for four resend delays or intervals, so a receiver that hears nothing for that long
  // (two lost evaluations or sends) resolves the alert itself.
  const int64_t valid_ms = 4 * std::max(resend_ms, interval_ms_);
  std::vector<alertmanager::Alert> send;
  {
    MutexLock l(&mu_);
    for (auto& [labels, a] : status_[i].alerts) {
      if (a.state == AlertState::kPending) continue;
      const bool needs = a.resolved_at_ms > a.last_sent_ms || a.last_sent_ms + resend_ms < eval_ms;
      if (!needs) continue;
      a.last_sent_ms = eval_ms;
      a.valid_until_ms = eval_ms + valid_ms;
      send.push_back(ToSent(defs_[i], a));
    }
  }
  if (!send.empty()) ctx_.receiver->Put(send);
}

}  // namespace tyto::rules
