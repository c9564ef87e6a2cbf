// Group: iterations, recording rules, appending with staleness markers, reload hand-over.
#include "rules/group.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "common/log.h"
#include "http/url.h"

namespace tyto::rules {
namespace {

const log::Logger kLog("rules");

int64_t Millis(std::chrono::milliseconds d) { return d.count(); }

// FNV-1a over the group's key: its offset within the interval, stable across restarts.
uint64_t KeyHash(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The rule's identity across reloads: its name and labels (as Prometheus matches them).
std::string MatchKey(const Rule& r) {
  std::string k = r.name;
  for (const auto& [name, value] : r.labels) {
    k += '\xff';
    k += name;
    k += '\xfe';
    k += value;
  }
  return k;
}

// The group's labels, then the rule's over them.
LabelList MergeLabels(const LabelList& group, const LabelList& rule) {
  LabelList out = rule;
  for (const auto& g : group) {
    const bool overridden = std::any_of(rule.begin(), rule.end(), [&](const auto& p) { return p.first == g.first; });
    if (!overridden) out.push_back(g);
  }
  return out;
}

}  // namespace

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive: return "inactive";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
  }
  return "inactive";
}

std::string GroupKey(std::string_view tenant, std::string_view file, std::string_view name) {
  std::string key = tenant == alertmanager::kDefaultTenant ? "" : std::string(tenant) + "/";
  return key.append(file).append(";").append(name);
}

Group::Group(const std::string& file, const RuleGroup& group, int index, const GroupContext& ctx)
    : file_(file),
      name_(group.name),
      key_(GroupKey(ctx.tenant, file, group.name)),
      index_(index),
      // At least 1 ms: a zero global interval (a configuration bug) must not divide by zero.
      interval_ms_(std::max<int64_t>(1, group.interval && group.interval->count() > 0
                                            ? group.interval->count()
                                            : Millis(ctx.options->evaluation_interval))),
      query_offset_ms_(group.query_offset ? group.query_offset->count() : Millis(ctx.options->query_offset)),
      limit_(group.limit),
      ctx_(ctx),
      num_rules_(group.rules.size()) {}

void Group::Activate() {
  ManagerMetrics& m = *ctx_.metrics;
  metrics_ = {&m.evaluations.WithLabels({key_}),   &m.failures.WithLabels({key_}),
              &m.iterations.WithLabels({key_}),    &m.missed.WithLabels({key_}),
              &m.last_duration.WithLabels({key_}), &m.last_timestamp.WithLabels({key_}),
              &m.last_samples.WithLabels({key_}),  &m.lag.WithLabels({key_})};
  m.interval.WithLabels({key_}).Set(static_cast<double>(interval_ms_) / 1000);
  m.rules.WithLabels({key_}).Set(static_cast<double>(num_rules_));
}

Result<std::shared_ptr<Group>> Group::Make(const std::string& file, const RuleGroup& group, int index,
                                           const GroupContext& ctx) {
  std::vector<RuleDef> defs;
  defs.reserve(group.rules.size());
  for (const Rule& r : group.rules) {
    RuleDef d;
    d.rule = r;
    d.labels = MergeLabels(group.labels, r.labels);
    d.query = r.parsed_expr->String();
    d.match_key = MatchKey(r);
    if (r.kind == Rule::Kind::kAlerting) {
      // The rule's label templates are parsed already; a group label is parsed here.
      for (const auto& label : d.labels) {
        const std::string& name = label.first;
        auto own = std::find_if(r.labels.begin(), r.labels.end(), [&](const auto& p) { return p.first == name; });
        if (own != r.labels.end()) {
          d.templates.push_back(r.label_templates[static_cast<size_t>(own - r.labels.begin())]);
          continue;
        }
        Result<Template> t = Template::Parse(label.second);
        if (!t.ok()) {
          return InvalidArgument(file + ": group \"" + group.name + "\": label \"" + name + "\": " + t.status().message());
        }
        d.templates.push_back(std::move(t).value());
      }
      d.generator_url = ctx.options->external_url + "/graph?g0.expr=";
      http::AppendQueryEscaped(&d.generator_url, d.query);
      d.generator_url += "&g0.tab=1";
    }
    defs.push_back(std::move(d));
  }
  std::shared_ptr<Group> g(new Group(file, group, index, ctx));
  g->defs_ = std::move(defs);
  {
    MutexLock e(&g->eval_mu_);
    g->previous_.resize(g->defs_.size());
  }
  MutexLock l(&g->mu_);
  g->status_.resize(g->defs_.size());
  return g;
}

int64_t Group::SlotAtOrBefore(int64_t now_ms) const {
  const int64_t offset = static_cast<int64_t>(KeyHash(key_) % static_cast<uint64_t>(interval_ms_));
  int64_t adjusted = now_ms - offset;
  int64_t rem = adjusted % interval_ms_;
  if (rem < 0) rem += interval_ms_;
  return adjusted - rem + offset;
}

void Group::SetRestore(bool restore) {
  MutexLock l(&mu_);
  for (size_t i = 0; i < status_.size(); ++i) {
    status_[i].restored = !(restore && defs_[i].rule.kind == Rule::Kind::kAlerting);
  }
}

bool Group::Suspend() {
  MutexLock e(&eval_mu_);
  if (stopped_) return false;
  if (suspended_) return true;
  suspended_ = true;
  // Another server evaluates the group now: its alerts here would go stale. The series this
  // server wrote last (previous_) are kept, so a vanished one is still marked stale later.
  MutexLock l(&mu_);
  for (size_t i = 0; i < status_.size(); ++i) {
    status_[i].alerts.clear();
    if (defs_[i].rule.kind == Rule::Kind::kAlerting) status_[i].restored = false;
  }
  return true;
}

bool Group::Iterate(int64_t eval_ms, int64_t missed, int64_t lag_ms) {
  MutexLock e(&eval_mu_);
  if (stopped_) return false;
  suspended_ = false;
  metrics_.iterations->Inc(static_cast<double>(missed + 1));
  if (missed > 0) metrics_.missed->Inc(static_cast<double>(missed));
  metrics_.lag->Set(static_cast<double>(std::max<int64_t>(lag_ms, 0)) / 1000);
  const int64_t started_ms = ctx_.clock->NowMillis();
  const auto mono = ctx_.clock->MonotonicNow();

  int64_t samples = 0;
  for (size_t i = 0; i < defs_.size(); ++i) EvalRule(i, eval_ms, &samples);
  if (!pending_stale_.empty()) {
    MarkStale(pending_stale_, eval_ms - query_offset_ms_);
    pending_stale_.clear();
  }

  const double seconds = std::chrono::duration<double>(ctx_.clock->MonotonicNow() - mono).count();
  ctx_.metrics->group_duration.Observe(seconds);
  metrics_.last_duration->Set(seconds);
  metrics_.last_timestamp->Set(static_cast<double>(started_ms) / 1000);
  metrics_.last_samples->Set(static_cast<double>(samples));
  MutexLock l(&mu_);
  eval_seconds_ = seconds;
  last_eval_ms_ = started_ms;
  return true;
}

Result<Group::Vector> Group::Query(const RuleDef& def, int64_t t_ms) const {
  promql::QueryContext qctx;
  if (ctx_.cancelled != nullptr) {
    const std::atomic<bool>* c = ctx_.cancelled;
    qctx.cancelled = [c] { return c->load(std::memory_order_relaxed); };
  }
  qctx.storage = ctx_.query_storage;
  TYTO_ASSIGN_OR_RETURN(promql::QueryResult r, ctx_.engine->Exec(*def.rule.parsed_expr, t_ms, t_ms, 1, true, qctx));
  if (r.type == promql::ValueType::kVector) return std::move(r.vector);
  if (r.type == promql::ValueType::kScalar) return Vector{promql::Element{Labels(), r.scalar}};
  return InvalidArgument("rule result is not a vector or scalar");
}

Result<Group::Vector> Group::EvalRecording(const RuleDef& def, int64_t eval_ms) const {
  TYTO_ASSIGN_OR_RETURN(Vector v, Query(def, eval_ms - query_offset_ms_));
  LabelsBuilder b;
  LabelsSet seen;
  seen.reserve(v.size());
  for (promql::Element& e : v) {
    b.Reset(e.metric);
    b.Set(kMetricNameLabel, def.rule.name);
    for (const auto& [name, value] : def.labels) b.Set(name, value);
    e.metric = b.Build();
    if (!seen.insert(e.metric).second) {
      return InvalidArgument("vector contains metrics with the same labelset after applying rule labels");
    }
  }
  if (limit_ > 0 && static_cast<int64_t>(v.size()) > limit_) {
    return InvalidArgument("exceeded limit of " + std::to_string(limit_) + " with " + std::to_string(v.size()) +
                           " series");
  }
  return v;
}

void Group::EvalRule(size_t i, int64_t eval_ms, int64_t* samples) {
  const RuleDef& def = defs_[i];
  metrics_.evaluations->Inc();
  const int64_t started_ms = ctx_.clock->NowMillis();
  const auto mono = ctx_.clock->MonotonicNow();
  auto seconds = [&] { return std::chrono::duration<double>(ctx_.clock->MonotonicNow() - mono).count(); };

  Result<Vector> v = def.rule.kind == Rule::Kind::kRecording ? EvalRecording(def, eval_ms) : EvalAlerting(i, eval_ms);
  if (!v.ok()) {
    metrics_.failures->Inc();
    if (v.status().code() != StatusCode::kCancelled) {
      kLog.Warn("Evaluating rule failed", {{"group", key_}, {"rule", def.rule.name}, {"error", v.status().message()}});
    }
    const double s = seconds();
    ctx_.metrics->rule_duration.Observe(s);
    SetStatus(i, v.status(), started_ms, s);
    return;
  }
  *samples += static_cast<int64_t>(v->size());
  if (def.rule.kind == Rule::Kind::kAlerting) SendAlerts(i, eval_ms);
  Status st = Append(i, *v, eval_ms - query_offset_ms_);
  if (!st.ok()) kLog.Warn("Rule evaluation result discarded", {{"group", key_}, {"rule", def.rule.name}, {"error", st.message()}});
  const double s = seconds();
  ctx_.metrics->rule_duration.Observe(s);
  SetStatus(i, st, started_ms, s);
}

Status Group::Append(size_t i, const Vector& v, int64_t t_ms) {
  std::unique_ptr<Appender> app = ctx_.storage->NewAppender();
  LabelsSet written;
  written.reserve(v.size());
  Status first_error;
  for (const promql::Element& e : v) {
    Result<SeriesRef> r = app->Append(0, e.metric, t_ms, e.v);
    if (r.ok()) {
      written.insert(e.metric);
    } else if (first_error.ok()) {
      first_error = r.status();
    }
  }
  // Series of the last evaluation missing from this one have ended: a staleness marker each.
  // Errors are ignored: a series written again at this time by another rule keeps its value.
  for (const Labels& l : previous_[i]) {
    if (written.count(l) == 0) (void)app->Append(0, l, t_ms, StaleMarker());
  }
  previous_[i] = std::move(written);
  if (Status c = app->Commit(); !c.ok()) {
    metrics_.failures->Inc();
    return c;
  }
  return first_error;
}

void Group::MarkStale(const std::vector<Labels>& series, int64_t t_ms) {
  if (series.empty()) return;
  std::unique_ptr<Appender> app = ctx_.storage->NewAppender();
  for (const Labels& l : series) (void)app->Append(0, l, t_ms, StaleMarker());
  if (Status c = app->Commit(); !c.ok()) kLog.Warn("Writing staleness markers failed", {{"group", key_}, {"error", c.message()}});
}

void Group::SetStatus(size_t i, const Status& st, int64_t started_ms, double seconds) {
  MutexLock l(&mu_);
  RuleStatus& s = status_[i];
  s.health = st.ok() ? "ok" : "err";
  s.last_error = st.ok() ? "" : st.message();
  s.last_eval_ms = started_ms;
  s.eval_seconds = seconds;
}

void Group::TakeOver(Group* old) {
  MutexLock old_eval(&old->eval_mu_);
  MutexLock old_state(&old->mu_);
  MutexLock eval(&eval_mu_);
  MutexLock state(&mu_);
  old->stopped_ = true;
  eval_seconds_ = old->eval_seconds_;
  last_eval_ms_ = old->last_eval_ms_;
  pending_stale_ = old->pending_stale_;
  // Old rules by match key, in order; each is taken by the first new rule with its key.
  std::map<std::string, std::vector<size_t>> by_key;
  for (size_t j = 0; j < old->defs_.size(); ++j) by_key[old->defs_[j].match_key].push_back(j);
  std::vector<bool> taken(old->defs_.size(), false);
  for (size_t i = 0; i < defs_.size(); ++i) {
    auto it = by_key.find(defs_[i].match_key);
    if (it == by_key.end() || it->second.empty()) continue;
    const size_t j = it->second.front();
    it->second.erase(it->second.begin());
    taken[j] = true;
    previous_[i] = std::move(old->previous_[j]);
    const bool alerting = defs_[i].rule.kind == Rule::Kind::kAlerting;
    if (alerting != (old->defs_[j].rule.kind == Rule::Kind::kAlerting)) continue;
    RuleStatus& s = status_[i];
    const RuleStatus& o = old->status_[j];
    s.health = o.health;
    s.last_error = o.last_error;
    s.eval_seconds = o.eval_seconds;
    s.last_eval_ms = o.last_eval_ms;
    s.alerts = o.alerts;
    s.restored = o.restored;
  }
  for (size_t j = 0; j < old->defs_.size(); ++j) {
    if (taken[j]) continue;
    pending_stale_.insert(pending_stale_.end(), old->previous_[j].begin(), old->previous_[j].end());
  }
}

std::vector<Labels> Group::Retire() {
  MutexLock e(&eval_mu_);
  stopped_ = true;
  std::vector<Labels> out = std::move(pending_stale_);
  for (LabelsSet& s : previous_) {
    out.insert(out.end(), s.begin(), s.end());
    s.clear();
  }
  return out;
}

api::RuleGroup Group::Snapshot() const {
  api::RuleGroup g;
  g.name = name_;
  g.file = file_;
  g.tenant = ctx_.tenant;
  g.interval_seconds = static_cast<double>(interval_ms_) / 1000;
  g.limit = limit_;
  auto to_labels = [](const LabelList& list) {
    std::vector<Label> pairs;
    for (const auto& [n, v] : list) pairs.push_back({n, v});
    Result<Labels> l = Labels::FromPairs(std::move(pairs));
    return l.ok() ? std::move(l).value() : Labels();
  };
  auto set_to_labels = [](const alertmanager::LabelSet& set) {
    std::vector<Label> pairs;
    for (const auto& [n, v] : set) pairs.push_back({n, v});
    Result<Labels> l = Labels::FromPairs(std::move(pairs));
    return l.ok() ? std::move(l).value() : Labels();
  };
  MutexLock l(&mu_);
  g.evaluation_seconds = eval_seconds_;
  g.last_evaluation_ms = last_eval_ms_;
  g.rules.reserve(defs_.size());
  for (size_t i = 0; i < defs_.size(); ++i) {
    const RuleDef& d = defs_[i];
    const RuleStatus& s = status_[i];
    api::Rule r;
    r.kind = d.rule.kind == Rule::Kind::kAlerting ? api::Rule::Kind::kAlerting : api::Rule::Kind::kRecording;
    r.name = d.rule.name;
    r.query = d.query;
    r.labels = to_labels(d.labels);
    r.health = s.health;
    r.last_error = s.last_error;
    r.evaluation_seconds = s.eval_seconds;
    r.last_evaluation_ms = s.last_eval_ms;
    if (r.kind == api::Rule::Kind::kAlerting) {
      r.annotations = to_labels(d.rule.annotations);
      r.duration_seconds = static_cast<double>(d.rule.for_duration.count()) / 1000;
      r.keep_firing_for_seconds = static_cast<double>(d.rule.keep_firing_for.count()) / 1000;
      AlertState max = AlertState::kInactive;
      for (const auto& [labels, a] : s.alerts) {
        if (a.state == AlertState::kInactive) continue;
        if (static_cast<int>(a.state) > static_cast<int>(max)) max = a.state;
        api::ActiveAlert out;
        out.labels = a.labels;
        alertmanager::LabelSet annotations = a.enrichment;
        for (const auto& [n, v] : a.annotations) annotations[n] = v;
        out.annotations = set_to_labels(annotations);
        out.state = std::string(AlertStateName(a.state));
        out.active_at_ms = a.active_at_ms;
        out.keep_firing_since_ms = a.keep_firing_since_ms;
        out.value = a.value;
        r.alerts.push_back(std::move(out));
      }
      r.state = std::string(AlertStateName(max));
    }
    g.rules.push_back(std::move(r));
  }
  return g;
}

void Group::AppendFiring(std::vector<alertmanager::Alert>* out) const {
  MutexLock l(&mu_);
  for (size_t i = 0; i < defs_.size(); ++i) {
    for (const auto& [labels, a] : status_[i].alerts) {
      if (a.state != AlertState::kFiring) continue;
      alertmanager::Alert sent = ToSent(defs_[i], a);
      sent.ends_at_ms = 0;
      out->push_back(std::move(sent));
    }
  }
}

}  // namespace tyto::rules
