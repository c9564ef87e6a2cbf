// SharedIncidents: what people do to incidents on one server (acknowledge, resolve by hand, add
// a note) is seen on every server. Each server's tracker (src/incident/tracker.h) builds its own
// incidents from the alerts it holds, with its own ids; an incident is recognised across
// servers by its first alert (the fingerprint of its labels and its start). Each action is a
// record at
//   incidents.<sha256 hex of "<fingerprint>:<starts_at_ms>">.<at_ms>-<counter>-<node>
// and every poll_interval each server applies the others' records it has not applied yet
// (Tracker::ApplyShared, idempotent across restarts). docs/cluster.md has the record.
//
//   SharedIncidents shared(&kv, clock, {node});
//   tracker->SetActionListener([&shared](auto& inc, auto& entry) { shared.Publish(inc, entry); });
//   shared.Start(tracker.get());  ...  shared.Stop();  // before the tracker is destroyed
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include "cluster/kv.h"
#include "common/mutex.h"
#include "incident/tracker.h"
#include "tyto/clock.h"

namespace tyto::cluster {

struct SharedIncidentsOptions {
  std::string node;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(1)};
  // Action records older than this are deleted (the tracker's max_resolved_age).
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
};

struct IncidentActionRecord {
  std::string incident;  // the identity (IncidentIdentity)
  std::string kind;      // "acknowledged", "resolved" or "note"
  std::string by;
  std::string text;      // notes only
  int64_t at_ms = 0;
  std::string node;
};
std::string EncodeIncidentAction(const IncidentActionRecord& r);
Result<IncidentActionRecord> DecodeIncidentAction(std::string_view value);

class SharedIncidents {
 public:
  // `kv` and `clock` must outlive this object.
  SharedIncidents(KeyValue* kv, Clock* clock, SharedIncidentsOptions options);
  ~SharedIncidents();  // Stop()
  SharedIncidents(const SharedIncidents&) = delete;
  SharedIncidents& operator=(const SharedIncidents&) = delete;

  // The incident's name across servers: sha256 hex of "<first alert fingerprint>:<its start>";
  // empty for an incident without alerts.
  static std::string IncidentIdentity(const incident::Incident& incident);

  // The tracker's action listener: records the action (acknowledged, resolved, note; other
  // kinds are ignored). An unreachable store is logged: the action stays on this server only.
  Status Publish(const incident::Incident& incident, const incident::TimelineEntry& entry);

  // One poll: applies the other servers' actions not applied yet, oldest first; an action
  // whose incident this server does not have (yet) is tried again at the next poll. Deletes
  // records older than the retention.
  Status Sync(incident::Tracker* tracker);

  void Start(incident::Tracker* tracker);
  void Stop();

 private:
  KeyValue* const kv_;
  Clock* const clock_;
  const SharedIncidentsOptions options_;
  Mutex mu_;
  uint64_t counter_ GUARDED_BY(mu_) = 0;
  std::set<std::string> applied_ GUARDED_BY(mu_);  // record keys applied (or this server's)
  bool stop_ GUARDED_BY(mu_) = false;
  std::condition_variable_any cv_;
  std::thread thread_;
};

}  // namespace tyto::cluster
