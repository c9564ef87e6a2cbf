// Manager: the schedule of groups, reloads, the evaluation threads and the metrics.
#include "rules/manager.h"

#include <algorithm>
#include <map>
#include <utility>

#include "instrumentation/metrics.h"
#include "promql/engine.h"
#include "rules/group.h"

namespace tyto::rules {
namespace {

using instrumentation::Registry;

// Removes one series of a family where the registry supports it (Family::Remove); a registry
// without it keeps the series of removed groups at their last values.
template <typename F>
void RemoveSeries(F& family, const std::string& value) {
  if constexpr (requires { family.Remove({std::string_view(value)}); }) family.Remove({std::string_view(value)});
}

// The longest a thread sleeps before it looks at the clock again (the clock may jump).
constexpr int64_t kMaxWaitMs = 1000;

}  // namespace

ManagerMetrics::ManagerMetrics(Registry* r)
    : evaluations(r->AddCounter("tyto_rule_evaluations_total", "Rule evaluations.", {"rule_group"})),
      failures(r->AddCounter("tyto_rule_evaluation_failures_total", "Rule evaluations that failed.", {"rule_group"})),
      iterations(r->AddCounter("tyto_rule_group_iterations_total",
                               "Scheduled iterations of rule groups, whether run or missed.", {"rule_group"})),
      missed(r->AddCounter("tyto_rule_group_iterations_missed_total",
                           "Iterations of rule groups missed because an evaluation was slow.", {"rule_group"})),
      interval(r->AddGauge("tyto_rule_group_interval_seconds", "The interval of a rule group.", {"rule_group"})),
      last_duration(r->AddGauge("tyto_rule_group_last_duration_seconds",
                                "How long the last evaluation of a rule group took.", {"rule_group"})),
      last_timestamp(r->AddGauge("tyto_rule_group_last_evaluation_timestamp_seconds",
                                 "When the last evaluation of a rule group started.", {"rule_group"})),
      last_samples(r->AddGauge("tyto_rule_group_last_evaluation_samples",
                               "Samples returned by the rules of a group at its last evaluation.", {"rule_group"})),
      rules(r->AddGauge("tyto_rule_group_rules", "Rules in a rule group.", {"rule_group"})),
      lag(r->AddGauge("tyto_rule_group_last_evaluation_lag_seconds",
                      "How late the last iteration of a rule group started against its schedule.", {"rule_group"})),
      rule_duration(r->AddHistogram("tyto_rule_evaluation_duration_seconds", "How long one rule evaluation takes.", {},
                                    instrumentation::DefaultLatencyBuckets())
                        .WithLabels({})),
      group_duration(r->AddHistogram("tyto_rule_group_duration_seconds",
                                     "How long one iteration of a rule group takes.", {},
                                     instrumentation::DefaultLatencyBuckets())
                         .WithLabels({})) {}

void ManagerMetrics::RemoveGroup(const std::string& key) {
  RemoveSeries(evaluations, key);
  RemoveSeries(failures, key);
  RemoveSeries(iterations, key);
  RemoveSeries(missed, key);
  RemoveSeries(interval, key);
  RemoveSeries(last_duration, key);
  RemoveSeries(last_timestamp, key);
  RemoveSeries(last_samples, key);
  RemoveSeries(rules, key);
  RemoveSeries(lag, key);
}

Manager::Manager(promql::Engine* engine, Storage* storage, Clock* clock, Registry* registry,
                 alertmanager::AlertReceiver* receiver, ManagerOptions options)
    : engine_(engine),
      storage_(storage),
      clock_(clock),
      receiver_(receiver),
      options_(std::move(options)),
      metrics_(std::make_unique<ManagerMetrics>(registry)) {}

Manager::~Manager() { Stop(); }

Status Manager::Update(std::vector<RuleFile> files) {
  MutexLock update(&update_mu_);
  std::vector<std::shared_ptr<Group>> fresh;
  std::map<std::string, Group*> fresh_by_key;
  for (const RuleFile& f : files) {
    GroupContext ctx;
    ctx.engine = engine_;
    ctx.storage = storage_;
    ctx.clock = clock_;
    ctx.receiver = receiver_;
    ctx.options = &options_;
    ctx.metrics = metrics_.get();
    ctx.cancelled = &stopping_;
    ctx.tenant = f.tenant.empty() ? std::string(alertmanager::kDefaultTenant) : f.tenant;
    if (options_.tenant_storage) {
      auto it = tenant_storages_.find(ctx.tenant);
      if (it == tenant_storages_.end()) {
        std::unique_ptr<Storage> view = options_.tenant_storage(ctx.tenant);
        if (view == nullptr) return InvalidArgument("no storage for the rules of tenant \"" + ctx.tenant + "\"");
        it = tenant_storages_.emplace(ctx.tenant, std::move(view)).first;
      }
      ctx.storage = ctx.query_storage = it->second.get();
    }
    int index = 0;
    for (const RuleGroup& g : f.groups) {
      if (fresh_by_key.count(GroupKey(ctx.tenant, f.filename, g.name)) != 0) continue;  // a file named twice
      TYTO_ASSIGN_OR_RETURN(std::shared_ptr<Group> group, Group::Make(f.filename, g, index++, ctx));
      fresh_by_key[group->key()] = group.get();
      fresh.push_back(std::move(group));
    }
  }

  std::vector<std::shared_ptr<Slot>> old;
  bool first = false;
  {
    MutexLock l(&mu_);
    old = slots_;
    first = !first_update_done_;
  }
  const int64_t now = clock_->NowMillis();
  std::map<std::string, std::shared_ptr<Slot>> kept;  // old slots by key, of groups kept
  std::vector<Retired> retired;
  for (const std::shared_ptr<Slot>& s : old) {
    auto it = fresh_by_key.find(s->group->key());
    if (it != fresh_by_key.end()) {
      it->second->TakeOver(s->group.get());
      kept[s->group->key()] = s;
      continue;
    }
    // Removed: its series end two intervals from now, unless Tyto stops first.
    Retired r;
    r.storage = s->group->storage();
    r.series = s->group->Retire();
    r.due_ms = now + 2 * s->group->interval_ms();
    r.stale_ms = now - s->group->query_offset_ms();
    if (!r.series.empty()) retired.push_back(std::move(r));
    metrics_->RemoveGroup(s->group->key());
  }
  for (const std::shared_ptr<Group>& g : fresh) {
    if (kept.count(g->key()) == 0) g->SetRestore(first);
    g->Activate();
  }

  MutexLock l(&mu_);
  std::vector<std::shared_ptr<Slot>> slots;
  for (std::shared_ptr<Group>& g : fresh) {
    auto s = std::make_shared<Slot>();
    auto k = kept.find(g->key());
    // A kept group with the same interval keeps its place in the schedule.
    if (k != kept.end() && k->second->group->interval_ms() == g->interval_ms()) s->next_ms = k->second->next_ms;
    s->group = std::move(g);
    slots.push_back(std::move(s));
  }
  slots_ = std::move(slots);
  for (Retired& r : retired) retired_.push_back(std::move(r));
  first_update_done_ = true;
  cv_.notify_all();
  return Status::Ok();
}

Manager::Work Manager::TakeDue(int64_t now_ms, int64_t* wait_ms) {
  Work w;
  *wait_ms = kMaxWaitMs;
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (it->due_ms <= now_ms) {
      w.retired.push_back(std::move(*it));
      it = retired_.erase(it);
    } else {
      *wait_ms = std::min(*wait_ms, it->due_ms - now_ms);
      ++it;
    }
  }
  std::shared_ptr<Slot> earliest;
  for (const std::shared_ptr<Slot>& s : slots_) {
    if (s->running) continue;
    if (s->next_ms == 0) s->next_ms = s->group->SlotAtOrBefore(now_ms) + s->group->interval_ms();
    if (earliest == nullptr || s->next_ms < earliest->next_ms) earliest = s;
  }
  if (earliest == nullptr) return w;
  if (earliest->next_ms > now_ms) {
    *wait_ms = std::min(*wait_ms, earliest->next_ms - now_ms);
    return w;
  }
  // Slots that went by while the group waited (its last evaluation ran long, or the process
  // was stopped) are missed: the group runs once, at the latest slot.
  const int64_t interval = earliest->group->interval_ms();
  w.missed = (now_ms - earliest->next_ms) / interval;
  w.eval_ms = earliest->next_ms + w.missed * interval;
  earliest->next_ms = w.eval_ms + interval;
  earliest->running = true;
  w.slot = earliest;
  *wait_ms = 0;
  return w;
}

bool Manager::RunWork(Work work, int64_t now_ms) {
  for (const Retired& r : work.retired) WriteStale(r);
  if (work.slot == nullptr) return false;
  Group& group = *work.slot->group;
  const bool allowed = !options_.may_evaluate || options_.may_evaluate(group.file(), group.name());
  const bool ran = allowed ? group.Iterate(work.eval_ms, work.missed, now_ms - work.eval_ms) : group.Suspend();
  MutexLock l(&mu_);
  work.slot->running = false;
  // Replaced by an Update meanwhile: the slot was not used, so its successor may still take it.
  if (!ran) work.slot->next_ms = work.eval_ms;
  cv_.notify_all();
  return allowed && ran;
}

void Manager::WriteStale(const Retired& r) {
  std::unique_ptr<Appender> app = (r.storage != nullptr ? r.storage : storage_)->NewAppender();
  for (const Labels& l : r.series) (void)app->Append(0, l, r.stale_ms, StaleMarker());
  (void)app->Commit();
}

int Manager::RunDueGroups() {
  int evaluated = 0;
  const int64_t now = clock_->NowMillis();
  while (true) {
    Work w;
    {
      MutexLock l(&mu_);
      int64_t wait = 0;
      w = TakeDue(now, &wait);
    }
    if (w.slot == nullptr && w.retired.empty()) break;
    if (RunWork(std::move(w), now)) ++evaluated;
  }
  return evaluated;
}

Status Manager::EvaluateGroup(std::string_view file, std::string_view name, int64_t eval_ms, std::string_view tenant) {
  std::shared_ptr<Group> group;
  {
    MutexLock l(&mu_);
    for (const std::shared_ptr<Slot>& s : slots_) {
      if (s->group->file() == file && s->group->name() == name && s->group->tenant() == tenant) group = s->group;
    }
  }
  if (group == nullptr) return NotFound("no rule group \"" + std::string(name) + "\" in file \"" + std::string(file) + "\"");
  group->Iterate(eval_ms, 0, clock_->NowMillis() - eval_ms);
  return Status::Ok();
}

void Manager::Worker() {
  while (true) {
    Work w;
    int64_t now = 0;
    {
      MutexLock l(&mu_);
      while (true) {
        if (stop_) return;
        now = clock_->NowMillis();
        int64_t wait = 0;
        w = TakeDue(now, &wait);
        if (w.slot != nullptr || !w.retired.empty()) break;
        cv_.wait_for(mu_.native(), std::chrono::milliseconds(std::clamp<int64_t>(wait, 1, kMaxWaitMs)));
      }
    }
    RunWork(std::move(w), now);
  }
}

void Manager::Start() {
  MutexLock l(&mu_);
  if (!threads_.empty()) return;
  stop_ = false;
  stopping_.store(false);
  const int n = std::max(1, options_.evaluation_threads);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Worker(); });
}

void Manager::Stop() {
  std::vector<std::thread> threads;
  {
    MutexLock l(&mu_);
    stop_ = true;
    stopping_.store(true);
    threads.swap(threads_);
    // Removed groups' series are not marked stale at shutdown, as in Prometheus.
    retired_.clear();
    cv_.notify_all();
  }
  for (std::thread& t : threads) t.join();
}

std::vector<api::RuleGroup> Manager::Groups() const {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    MutexLock l(&mu_);
    slots = slots_;
  }
  std::stable_sort(slots.begin(), slots.end(), [](const auto& a, const auto& b) {
    if (a->group->file() != b->group->file()) return a->group->file() < b->group->file();
    return a->group->index() < b->group->index();
  });
  std::vector<api::RuleGroup> out;
  out.reserve(slots.size());
  for (const auto& s : slots) out.push_back(s->group->Snapshot());
  return out;
}

std::vector<alertmanager::Alert> Manager::ActiveAlerts() const {
  std::vector<std::shared_ptr<Slot>> slots;
  {
    MutexLock l(&mu_);
    slots = slots_;
  }
  std::vector<alertmanager::Alert> out;
  for (const auto& s : slots) s->group->AppendFiring(&out);
  return out;
}

}  // namespace tyto::rules
