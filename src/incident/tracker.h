// Tracker: groups firing alerts into incidents, keeps each incident's timeline, and persists
// both in an append-only journal (journal.h, docs/format/incidents.md) so a restart keeps them.
//
// Tenants: an incident is the tenant's of the alert that opened it (Incident::tenant), and
// only alerts of that tenant join it; callers that answer for a tenant check it (List filters).
//
// Grouping (docs/incidents.md): a firing alert joins the open (or acknowledged) incident that
// already holds it, else one that shares any value of the grouping labels (`group_by`, default
// model, Hostname, instance, pod: "Hostname=gpu-node-3" is one key) and had a firing alert
// within `group_window`; an alert with none of those labels groups by its alertname alone.
// Otherwise it opens a new incident. An incident resolves when all its alerts have resolved, or
// when a person resolves it; a resolved incident stays readable until pruned (the oldest
// resolved first past `max_incidents`, and any resolved longer than `max_resolved_age`). An
// alert that fires again (a new start) within `group_window` of its incident's resolution
// reopens that incident. As Alertmanager does, an alert not re-sent before its ends_at resolves.
//
// Hooks: the listener runs, outside the tracker's lock, on the thread that called Put when an
// incident opens, reopens or gets a new firing alert. The correlate hook runs on the tracker's
// own worker thread when an incident opens; its result becomes the incident's correlations and
// a `correlation` timeline entry; setting it also queues the unresolved incidents that were
// never correlated (opened before a restart or before the hook). Set hooks before alerts arrive.
//
// Thread-safe. Put, AddEntry and the rest write the journal (a write(2) per call, fdatasync
// when `sync` is set) under the tracker's lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "alertmanager/alert.h"
#include "common/mutex.h"
#include "incident/incident.h"
#include "incident/journal.h"
#include "instrumentation/metrics.h"
#include "tyto/clock.h"
#include "tyto/env.h"

namespace tyto::incident {

struct TrackerOptions {
  // Where the journal lives (<data_dir>/incidents.journal). Empty: memory only.
  std::string data_dir;
  std::vector<std::string> group_by = {"model", "Hostname", "instance", "pod"};
  std::chrono::milliseconds group_window{std::chrono::hours(1)};
  size_t max_incidents = 10'000;
  std::chrono::milliseconds max_resolved_age{std::chrono::hours(24 * 30)};  // 0: no age limit
  size_t max_alerts_per_incident = 1'000;   // a full incident takes no more: they open another
  size_t max_timeline_entries = 1'000;      // per incident; the oldest go first
  size_t max_text_bytes = 16 * 1024;        // of a note or entry text
  // A firing alert without an end resolves this long after it was last heard of; after a
  // restart, firing alerts get this long for their rule to re-send them.
  std::chrono::milliseconds resolve_timeout{std::chrono::minutes(5)};
  bool sync = false;  // fdatasync after every frame (power-cut safe); off: process-crash safe
  // The journal is rewritten when larger than compact_min_bytes and compact_ratio times its
  // size after the last rewrite.
  uint64_t compact_min_bytes = 1 << 20;
  double compact_ratio = 4;
  // How often the worker resolves timed-out alerts and prunes (real time).
  std::chrono::milliseconds sweep_interval{std::chrono::seconds(10)};
};

class Tracker final : public alertmanager::AlertReceiver {
 public:
  using Listener = std::function<void(const Incident&)>;
  using CorrelateHook = std::function<std::vector<Correlation>(const alertmanager::LabelSet& alert_labels, int64_t start_ms)>;
  // Several servers (src/cluster/shared_incidents.h): called, outside the lock, after a person
  // acknowledged, resolved or noted an incident through this tracker, with the incident as it
  // is now and the entry added. Not called for ApplyShared.
  using ActionListener = std::function<void(const Incident& incident, const TimelineEntry& entry)>;

  // Replays the journal (truncating a torn or corrupt tail, with a warning) and starts the
  // worker. `registry` may be null (no metrics).
  static Result<std::unique_ptr<Tracker>> Open(Env* env, Clock* clock, TrackerOptions options,
                                               instrumentation::Registry* registry);
  ~Tracker() override;  // stops the worker; a running correlate hook is waited for

  void SetListener(Listener listener) EXCLUDES(mu_);
  void SetCorrelateHook(CorrelateHook hook) EXCLUDES(mu_);
  void SetActionListener(ActionListener listener) EXCLUDES(mu_);

  void Put(const std::vector<alertmanager::Alert>& alerts) override EXCLUDES(mu_);

  // Appends a timeline entry (notification, playbook_step, ...). kNotFound for an unknown id,
  // kInvalidArgument for a text over max_text_bytes or a state kind (use the calls below).
  Status AddEntry(uint64_t id, EntryKind kind, std::string by, std::string text, Fields fields = {}) EXCLUDES(mu_);
  // kFailedPrecondition when already acknowledged or resolved.
  Status Acknowledge(uint64_t id, std::string by) EXCLUDES(mu_);
  Status AddNote(uint64_t id, std::string by, std::string text) EXCLUDES(mu_);
  // kFailedPrecondition when already resolved.
  Status Resolve(uint64_t id, std::string by) EXCLUDES(mu_);

  // An action a person took on another server, `key` naming it uniquely. kAcknowledged and
  // kResolved change the state as Acknowledge and Resolve do, unless the incident is already in
  // it (or resolved), or the action happened (`at_ms`) before the incident last opened or
  // reopened; kNote adds the note with fields {"shared": key} unless the timeline holds that key.
  // Other kinds are kInvalidArgument. The action listener is not called.
  Status ApplyShared(uint64_t id, EntryKind kind, std::string by, std::string text, int64_t at_ms,
                     const std::string& key) EXCLUDES(mu_);

  Result<Incident> Get(uint64_t id) const EXCLUDES(mu_);
  // Newest first; `state` and `tenant` filter; at most `limit` (0: all).
  std::vector<Incident> List(std::optional<State> state, size_t limit,
                             std::optional<std::string_view> tenant = std::nullopt) const EXCLUDES(mu_);
  // The incident that holds the alert with these labels (the newest), if any: for adding
  // notification and playbook entries.
  std::optional<uint64_t> IncidentOf(const alertmanager::LabelSet& alert_labels) const EXCLUDES(mu_);

  // Resolves alerts past their ends_at and prunes old resolved incidents. The worker calls it
  // every sweep_interval; tests call it after moving a fake clock.
  void Sweep() EXCLUDES(mu_);

  // Bytes in the journal file (0 in memory-only mode).
  uint64_t JournalBytes() const EXCLUDES(mu_);

 private:
  struct Metrics;
  struct Pending {  // what to do once the lock is released
    std::vector<Incident> notify;
  };

  Tracker(Env* env, Clock* clock, TrackerOptions options, instrumentation::Registry* registry);
  Status Replay() EXCLUDES(mu_);

  // Writes the ops as one frame, then applies them. A failed write leaves memory unchanged.
  Status Commit(std::vector<journal::Op> ops) REQUIRES(mu_);
  void Apply(const journal::Op& op) REQUIRES(mu_);
  Status MaybeCompact() REQUIRES(mu_);
  // After a failed write: cuts the file back to journal_bytes_ and reopens it.
  Status Repair() REQUIRES(mu_);
  std::vector<journal::Op> Snapshot() const REQUIRES(mu_);

  void PutOne(const alertmanager::Alert& alert, int64_t now, Pending* pending) REQUIRES(mu_);
  void ResolveAlert(Incident& inc, size_t alert_index, int64_t at, int64_t now) REQUIRES(mu_);
  std::optional<uint64_t> FindGroup(const alertmanager::LabelSet& labels, int64_t now) const REQUIRES(mu_);
  std::vector<std::string> GroupKeys(const alertmanager::LabelSet& labels) const;
  void IndexIncident(const Incident& inc) REQUIRES(mu_);
  // Forgets resolved incidents past max_resolved_age, then the oldest resolved until `room` more
  // fit under max_incidents.
  void Prune(int64_t now, size_t room) REQUIRES(mu_);
  journal::Op StateOp(const Incident& inc) const;
  // `shared_key` non-empty: applying another server's action (ApplyShared); no action listener.
  Status Transition(uint64_t id, EntryKind kind, std::string by, std::string text,
                    const std::string& shared_key = "") EXCLUDES(mu_);
  // Calls the action listener with the incident and its newest timeline entry of `kind`.
  void NotifyAction(uint64_t id, EntryKind kind) EXCLUDES(mu_);
  void UpdateGauges() REQUIRES(mu_);
  void WorkerLoop() EXCLUDES(mu_);

  Env* const env_;
  Clock* const clock_;
  const TrackerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  const std::string path_;

  mutable Mutex mu_;
  std::map<uint64_t, Incident> incidents_ GUARDED_BY(mu_);
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  // Alert fingerprint -> the newest incident holding that alert.
  std::unordered_map<uint64_t, uint64_t> by_alert_ GUARDED_BY(mu_);
  // Grouping key ("Hostname=h") -> the newest incident with an alert carrying it.
  std::unordered_map<std::string, uint64_t> by_key_ GUARDED_BY(mu_);
  std::unique_ptr<WritableFile> file_ GUARDED_BY(mu_);
  uint64_t journal_bytes_ GUARDED_BY(mu_) = 0;
  uint64_t compacted_bytes_ GUARDED_BY(mu_) = 0;
  bool write_failed_logged_ GUARDED_BY(mu_) = false;
  bool repair_ GUARDED_BY(mu_) = false;  // the file may end in a partial frame
  Listener listener_ GUARDED_BY(mu_);
  ActionListener action_listener_ GUARDED_BY(mu_);
  CorrelateHook correlate_ GUARDED_BY(mu_);
  std::deque<uint64_t> correlate_queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::condition_variable_any cv_;
  std::thread worker_;
};

}  // namespace tyto::incident
