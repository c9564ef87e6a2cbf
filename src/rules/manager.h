// The rule manager: evaluates the groups of Prometheus rule files on their schedules, as
// Prometheus 3's rule manager does. Recording rules write their results to the storage;
// alerting rules keep their alerts (inactive, pending, firing), write ALERTS and
// ALERTS_FOR_STATE, and hand alerts to an AlertReceiver with Prometheus's notifier timing.
// docs/rules.md describes the semantics in full.
//
//   rules::Manager manager(&engine, &db, clock, &registry, &dispatcher, options);
//   TYTO_ASSIGN_OR_RETURN(auto files, rules::LoadRuleFiles(config.rule_files, env));
//   TYTO_RETURN_IF_ERROR(manager.Update(std::move(files)));
//   manager.Start();
//   ...
//   manager.Stop();
//
// Tenants: each rule file belongs to a tenant (RuleFile::tenant); its groups evaluate through
// that tenant's storage (ManagerOptions::tenant_storage), their alerts carry it, and Groups()
// says whose each group is.
//
// Thread-safety: every method may be called from any thread. Update runs one at a time and
// waits for an evaluation of a replaced group that is under way (bounded by the engine's query
// timeout). Groups() and ActiveAlerts() never wait for an evaluation's queries.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alertmanager/alert.h"
#include "api/rules_source.h"
#include "common/mutex.h"
#include "rules/rule_file.h"
#include "tyto/clock.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::instrumentation {
class Registry;
}
namespace tyto::promql {
class Engine;
}

namespace tyto::rules {

struct ManagerOptions {
  // A group without `interval` is evaluated this often (prometheus.yml's evaluation_interval).
  std::chrono::milliseconds evaluation_interval{std::chrono::minutes(1)};
  // A group without `query_offset` queries this far in the past (rule_query_offset).
  std::chrono::milliseconds query_offset{0};
  // A firing alert is sent again after this long (--rules.alert.resend-delay).
  std::chrono::milliseconds resend_delay{std::chrono::minutes(1)};
  // How long Tyto may have been down for alert state to be restored
  // (--rules.alert.for-outage-tolerance).
  std::chrono::milliseconds outage_tolerance{std::chrono::hours(1)};
  // After a restart an alert waits at least this long before firing again, unless its `for`
  // is shorter (--rules.alert.for-grace-period).
  std::chrono::milliseconds for_grace_period{std::chrono::minutes(10)};
  // Given to templates ($externalLabels) and added to sent alerts that lack them.
  alertmanager::LabelSet external_labels;
  // Given to templates ($externalURL) and the prefix of every alert's generator URL.
  std::string external_url;
  // Called once when an alert turns firing, before it is first sent, on the evaluating thread,
  // with the alert's labels and its group's tenant (alertmanager::SetAlertTenant); what it adds
  // to `annotations` stays on the alert (the rule's own annotations win a clash).
  std::function<void(const alertmanager::LabelSet& labels, int64_t active_at_ms, alertmanager::LabelSet* annotations)>
      enrich;
  // Threads that evaluate groups (Start); a group is evaluated by one thread at a time.
  int evaluation_threads = 4;
  // Asked before each scheduled evaluation of a group (file, group name), on the evaluating
  // thread: false skips the slot. Several servers sharing the rule files evaluate each group on
  // one server only (src/cluster/group_leases.h). A skipped group forgets its alerts (nothing
  // stale is shown or sent) and, when it is evaluated again, restores them from
  // ALERTS_FOR_STATE as after a restart. Null: every group is always evaluated.
  std::function<bool(const std::string& file, const std::string& group)> may_evaluate;
  // Tenants (RuleFile::tenant): the storage a tenant's groups query and write, its view of the
  // shared storage (tenant::TenantStorage, which adds and matches the tenant's label), so that a
  // tenant's rules see only its series and write only into its series, and its alerts carry it
  // (alertmanager/alert.h). Called once per tenant, at the Update that first names it; the
  // manager keeps the result for its life. Null: every group queries the engine's storage and
  // writes `storage` as they are (single-tenant tools and tests).
  std::function<std::unique_ptr<Storage>(const std::string& tenant)> tenant_storage;
};

class Group;
struct ManagerMetrics;

class Manager final : public api::RulesSource {
 public:
  // Every pointer must outlive the manager; `receiver` may be null (alerts are then kept and
  // shown but sent nowhere). Registers the tyto_rule_* metrics on `registry`.
  Manager(promql::Engine* engine, Storage* storage, Clock* clock, instrumentation::Registry* registry,
          alertmanager::AlertReceiver* receiver, ManagerOptions options = {});
  ~Manager() override;  // Stop()
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Replaces every group with those of `files` at once (a configuration reload). A group with
  // the same file and name as a current one keeps its state: alerts, the series written last
  // time (so the next evaluation marks vanished ones stale), health and times; rules are
  // matched by name and labels. The series of removed rules and groups are marked stale (those
  // of removed groups two intervals later, so that a rule moved to another group writes first).
  // Groups of the first Update restore their alerts from ALERTS_FOR_STATE; later ones start
  // afresh, as in Prometheus. Fails, changing nothing, on a group label that is not a valid
  // template.
  Status Update(std::vector<RuleFile> files);

  // Starts the evaluation threads; each group is evaluated at its aligned slots (docs/rules.md).
  // Stop joins them promptly (queries under way are cancelled). Both are idempotent.
  void Start();
  void Stop();

  std::vector<api::RuleGroup> Groups() const override;
  // Every firing alert, as it is sent (external labels added, starts_at = when it fired,
  // ends_at = 0), in group and rule order.
  std::vector<alertmanager::Alert> ActiveAlerts() const;

  // For tests and tools, with no thread started. EvaluateGroup runs one iteration of the group
  // `file`, `name` at `eval_ms` (counted in the metrics like a scheduled one); NotFound if there
  // is no such group. RunDueGroups does what the evaluation threads do once at the clock's now:
  // evaluates every group whose slot has come (counting the slots missed) and writes the stale
  // markers of removed groups that are due; returns the groups evaluated.
  Status EvaluateGroup(std::string_view file, std::string_view name, int64_t eval_ms,
                       std::string_view tenant = "default");
  int RunDueGroups();

 private:
  // A group in the schedule. `next_ms` is the evaluation time of its next slot (0: not
  // scheduled yet); `running` while a thread evaluates it.
  struct Slot {
    std::shared_ptr<Group> group;
    int64_t next_ms = 0;
    bool running = false;
  };
  // The series of a removed group, marked stale at `stale_ms` once `due_ms` has come.
  struct Retired {
    Storage* storage = nullptr;  // the group's (its tenant's view)
    int64_t due_ms = 0;
    int64_t stale_ms = 0;
    std::vector<Labels> series;
  };
  struct Work {
    std::shared_ptr<Slot> slot;
    int64_t eval_ms = 0;
    int64_t missed = 0;
    std::vector<Retired> retired;
  };

  // Takes what is due at `now_ms`: the group whose slot came first (marked running, its next
  // slot set) and retired series; sets *wait_ms to how long nothing more will be due.
  Work TakeDue(int64_t now_ms, int64_t* wait_ms) REQUIRES(mu_);
  // Runs `work`; returns whether a group was evaluated (not skipped by may_evaluate).
  bool RunWork(Work work, int64_t now_ms);
  void WriteStale(const Retired& r);
  void Worker();

  promql::Engine* engine_;
  Storage* storage_;
  Clock* clock_;
  alertmanager::AlertReceiver* receiver_;
  const ManagerOptions options_;
  std::unique_ptr<ManagerMetrics> metrics_;
  std::atomic<bool> stopping_{false};

  Mutex update_mu_;  // one Update at a time
  // The tenants' storages (ManagerOptions::tenant_storage), kept while groups may use them.
  std::map<std::string, std::unique_ptr<Storage>, std::less<>> tenant_storages_ GUARDED_BY(update_mu_);
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::vector<std::shared_ptr<Slot>> slots_ GUARDED_BY(mu_);
  std::vector<Retired> retired_ GUARDED_BY(mu_);
  bool first_update_done_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
};

}  // namespace tyto::rules
