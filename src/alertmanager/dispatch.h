// The dispatcher: Alertmanager 0.27's alert provider, dispatcher and notification pipeline in
// one object.
//
// Alerts put here are kept by fingerprint (an update of a known alert is merged as
// Alertmanager's provider merges it; an alert without an end gets now + resolve_timeout, and
// resolved alerts are dropped by the periodic garbage collection). Each alert goes through the
// routing tree into the aggregation groups of its matching routes (Route::GroupKey). A new group
// flushes after group_wait (at once when its alert started more than group_wait ago), then every
// group_interval. A flush, per receiver integration: drops silenced and inhibited alerts; does
// nothing inside the route's mute time intervals or outside its active ones; asks the
// notification log (nflog.h) whether anything changed or repeat_interval passed; leaves resolved
// alerts out for integrations without send_resolved; delivers with retries (exponential backoff
// with jitter) until the flush deadline (now + group_interval), stopping at once on a result
// with retry=false; and logs what was sent. Resolved alerts leave a group after a flush that
// delivered everywhere.
//
// Threads: one scheduler thread, and a small pool of delivery workers so that a slow receiver
// does not hold the others back. Without Start() nothing runs on its own: tests drive it with
// RunDueForTest() and a FakeClock.
//
// State in `data_dir` (store.h): silences are written on every change; the notification log
// every snapshot_interval and at Stop(). Open() reads both; a damaged snapshot is logged and
// ignored (the dispatcher starts empty).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "alertmanager/alert.h"
#include "alertmanager/config.h"
#include "alertmanager/inhibit.h"
#include "alertmanager/nflog.h"
#include "alertmanager/notify.h"
#include "alertmanager/route.h"
#include "alertmanager/shared_nflog.h"
#include "alertmanager/silence.h"
#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::instrumentation {
class Registry;
}

namespace tyto::alertmanager {

// Makes the integrations of one receiver (integrations.h has the real one).
using IntegrationFactory = std::function<std::vector<std::unique_ptr<Integration>>(const Receiver&)>;

struct DispatcherOptions {
  Clock* clock = nullptr;  // nullptr: Clock::Real()
  Env* env = nullptr;      // nullptr: Env::Default()
  std::string data_dir;    // empty: nothing persisted
  std::string external_url;
  instrumentation::Registry* metrics = nullptr;  // nullptr: no metrics
  size_t max_records = 1000;                      // delivery records kept
  size_t delivery_workers = 4;                    // threads after Start()
  int64_t nflog_retention_ms = 120LL * 3600 * 1000;    // Alertmanager's --data.retention
  int64_t silence_retention_ms = 120LL * 3600 * 1000;  // expired silences kept this long
  int64_t snapshot_interval_ms = 60 * 1000;
  int64_t gc_interval_ms = 30 * 60 * 1000;  // resolved alerts dropped this often
  // Retry backoff: the first wait, growth factor, cap, and random spread (0.5: +-50%).
  int64_t retry_initial_ms = 500;
  double retry_multiplier = 2;
  int64_t retry_max_ms = 60 * 1000;
  double retry_jitter = 0.5;
  // Timeout of one delivery attempt, capped by the time left until the flush deadline.
  int64_t attempt_timeout_ms = 30 * 1000;
  // Waits between retries; returns false when the wait was cut short by Stop(). Tests set it to
  // advance their FakeClock. nullptr: wait on the real clock.
  std::function<bool(int64_t ms)> sleep;
  // Called after every delivery (outside the dispatcher's lock), e.g. by the incident tracker.
  std::function<void(const DeliveryRecord&)> on_delivery;
  // Several servers: the log they share (shared_nflog.h), asked before each delivery, so that
  // one of them sends. Must outlive the dispatcher. nullptr: this server's own log decides.
  SharedNotificationLog* shared_nflog = nullptr;
  // Several servers: called after a silence is created or expired here (outside the lock, with
  // the silence as stored), so that the others learn of it (src/cluster/shared_silences.h).
  std::function<void(const Silence&)> on_silence;
};

// An alert as the API shows it.
struct AlertStatus {
  Alert alert;
  uint64_t fingerprint = 0;
  int64_t updated_at_ms = 0;
  std::vector<std::string> silenced_by;  // ids of active silences muting it
  bool inhibited = false;
  std::vector<std::string> receivers;  // of its matching routes
  // "active", "suppressed" (silenced or inhibited), or "unprocessed".
  std::string state;
};

struct AlertGroupStatus {
  LabelSet labels;  // group labels
  std::string receiver;
  std::string group_key;
  std::vector<AlertStatus> alerts;
};

class Dispatcher final : public AlertReceiver {
 public:
  Dispatcher(Config config, IntegrationFactory factory, DispatcherOptions options);
  ~Dispatcher() override;  // Stop()

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Reads silences and the notification log from data_dir. A damaged snapshot is logged and
  // skipped (the dispatcher starts without it). Nothing is written to data_dir before Open(),
  // so a dispatcher that was never opened cannot overwrite good snapshots.
  Status Open();
  // Starts the scheduler and the delivery workers.
  void Start();
  // Stops them promptly (retry waits are cut short), then writes the snapshots.
  void Stop();

  // AlertReceiver: normalizes (start, end from resolve_timeout), merges and routes the alerts.
  void Put(const std::vector<Alert>& alerts) override;

  // Swaps routes, receivers, inhibit rules and time intervals; keeps alerts, silences and the
  // notification log. Groups are rebuilt (the log keeps them from notifying twice).
  void Update(Config config);
  std::shared_ptr<const Config> config() const;

  // Runs everything due at the clock's now (flushes, garbage collection, snapshots) and the
  // deliveries they start, on the calling thread. For tests without Start().
  void RunDueForTest();

  // Silences. Create or update: a silence with an id replaces that silence (which is expired;
  // the new one gets a new id, as Alertmanager does when the matchers change). Returns the id.
  // A silence belongs to silence.tenant: replacing, expiring or getting one of another tenant
  // is kNotFound (nullopt), as for an unknown id.
  Result<std::string> SetSilence(Silence silence);
  Status ExpireSilence(const std::string& id, std::string_view tenant);
  // A silence created or changed on another server, as it stored it (same id): stored here when
  // it is new or its updated_at is later than the one held; on_silence is not called. A
  // silence that fails validation is refused.
  Status ApplySilence(const Silence& silence);
  std::optional<Silence> GetSilence(const std::string& id, std::string_view tenant) const;
  // Every tenant's silences (the cluster shares them all), or one tenant's.
  std::vector<Silence> Silences() const;
  std::vector<Silence> Silences(std::string_view tenant) const;

  // Alerts known now (resolved ones included until garbage collected), in fingerprint order, of
  // every tenant (alert.h: AlertTenant says whose).
  std::vector<AlertStatus> Alerts() const;
  std::vector<AlertGroupStatus> Groups() const;
  // The newest delivery records, newest first; 0: all kept.
  std::vector<DeliveryRecord> Deliveries(size_t limit = 0) const;
  size_t NflogSize() const;

  int64_t started_at_ms() const { return started_at_ms_; }
  Clock* clock() const { return clock_; }

  // Writes both snapshots now.
  Status Snapshot();

 private:
  struct Group;
  struct Job;
  struct Metrics;
  struct Receivers;
  struct StoredAlert {
    Alert alert;
    int64_t updated_at_ms = 0;
    bool timeout = false;  // ends_at came from resolve_timeout
  };

  std::shared_ptr<Receivers> MakeReceivers(const Config& config) const;
  void RouteAlertLocked(const StoredAlert& a, int64_t now) REQUIRES(mu_);
  void RebuildLocked(int64_t now) REQUIRES(mu_);
  // Collects the flushes due at `now`; returns the time of the next due event.
  int64_t CollectDueLocked(int64_t now, std::vector<std::shared_ptr<Job>>* jobs) REQUIRES(mu_);
  std::shared_ptr<Job> FlushLocked(const std::shared_ptr<Group>& g, const Inhibitor& inhibitor, int64_t now)
      REQUIRES(mu_);
  void MaintainLocked(int64_t now) REQUIRES(mu_);
  void UpdateGaugesLocked(int64_t now) REQUIRES(mu_);
  std::vector<LabelSet> FiringLocked(int64_t now) const REQUIRES(mu_);
  // An alert as the API shows it (silenced by, inhibited, state), receivers left to the caller.
  // Serves Alerts and Groups.
  AlertStatus StatusLocked(uint64_t fp, const StoredAlert& a, const Inhibitor& inhibitor, int64_t now) const
      REQUIRES(mu_);
  void RunJob(Job& job);
  void FinishJob(Job& job);
  bool Sleep(int64_t ms);
  Status SaveSilences();
  Status SaveNflog();

  void SchedulerLoop();
  void WorkerLoop();

  Clock* const clock_;
  Env* const env_;
  const DispatcherOptions options_;
  const IntegrationFactory factory_;
  const int64_t started_at_ms_;
  std::unique_ptr<Metrics> metrics_;

  mutable Mutex mu_;
  std::shared_ptr<const Config> config_ GUARDED_BY(mu_);
  std::unique_ptr<Route> route_ GUARDED_BY(mu_);
  std::shared_ptr<Receivers> receivers_ GUARDED_BY(mu_);
  std::map<uint64_t, StoredAlert> alerts_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Group>> groups_ GUARDED_BY(mu_);  // by group key + receiver
  SilenceStore silences_ GUARDED_BY(mu_);
  NotificationLog nflog_ GUARDED_BY(mu_);
  DeliveryRecords records_ GUARDED_BY(mu_);
  bool nflog_dirty_ GUARDED_BY(mu_) = false;
  int64_t next_gc_ms_ GUARDED_BY(mu_) = 0;
  int64_t next_snapshot_ms_ GUARDED_BY(mu_) = 0;
  int64_t next_gauges_ms_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool started_ GUARDED_BY(mu_) = false;
  std::deque<std::shared_ptr<Job>> queue_ GUARDED_BY(mu_);
  std::condition_variable_any wake_;   // the scheduler: new alerts, stop
  std::condition_variable_any work_;   // the workers: new jobs, stop
  std::condition_variable_any stop_;   // retry waits: stop

  std::atomic<bool> opened_{false};  // Open() ran: snapshots may be written (never before)
  Mutex save_mu_;  // one snapshot write at a time
  std::thread scheduler_;
  std::vector<std::thread> workers_;
};

}  // namespace tyto::alertmanager
