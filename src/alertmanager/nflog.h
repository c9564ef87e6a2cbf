// The notification log: what each integration of each receiver was last told about each
// aggregation group, so that a flush notifies only when something changed or repeat_interval
// passed (Alertmanager's nflog and DedupStage), and a record of recent deliveries for people
// (GET /api/v1/notifications, the incident timeline).
//
// Both are plain data; the dispatcher (dispatch.h) serializes access. Snapshots of the log are
// written by store.h (docs/format/alertmanager.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alertmanager/matchers.h"

namespace tyto::alertmanager {

// One entry: the last notification of a group to one integration.
struct NflogEntry {
  std::vector<uint64_t> firing;    // fingerprints, sorted
  std::vector<uint64_t> resolved;  // fingerprints, sorted
  int64_t timestamp_ms = 0;        // when it was sent
  int64_t expires_at_ms = 0;       // dropped from the log after this
};

// The key of an integration within a receiver: "receiver/kind/index", as Alertmanager writes it.
std::string IntegrationKey(const std::string& receiver, std::string_view kind, int index);

class NotificationLog {
 public:
  using Key = std::pair<std::string, std::string>;  // group key, integration key

  const NflogEntry* Find(const std::string& group_key, const std::string& integration_key) const;
  void Log(const std::string& group_key, const std::string& integration_key, NflogEntry entry);
  // Drops entries that expired before `now_ms`; returns how many.
  size_t GarbageCollect(int64_t now_ms);
  size_t size() const { return entries_.size(); }
  const std::map<Key, NflogEntry>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

 private:
  std::map<Key, NflogEntry> entries_;
};

// Whether a flush with these firing and resolved fingerprints (sorted) must notify, given the
// last entry (nullptr: never notified): Alertmanager 0.27's DedupStage.needsUpdate.
bool NeedsUpdate(const NflogEntry* entry, const std::vector<uint64_t>& firing, const std::vector<uint64_t>& resolved,
                 bool send_resolved, int64_t repeat_interval_ms, int64_t now_ms);

// One delivery to one integration, for people to read.
struct DeliveryRecord {
  int64_t time_ms = 0;        // when the delivery ended
  std::string receiver;
  std::string integration;    // kind, e.g. "webhook"
  int integration_index = 0;
  std::string group_key;
  std::string tenant;         // of the group's alerts (alert.h: AlertTenant)
  size_t alerts = 0;          // alerts in the notification
  size_t firing = 0;
  size_t resolved = 0;
  std::string state;          // "firing" or "resolved"
  int attempts = 0;
  std::string outcome;        // "success" or "failed"
  std::string error;          // the last attempt's error, when failed
  // The alerts notified, for DispatcherOptions::on_delivery only (empty in Deliveries()).
  std::vector<LabelSet> alert_labels;
};

// The last `capacity` records, oldest first.
class DeliveryRecords {
 public:
  explicit DeliveryRecords(size_t capacity = 1000) : capacity_(capacity == 0 ? 1 : capacity) {}
  void Add(DeliveryRecord r);
  // Newest first, at most `limit` (0: all).
  std::vector<DeliveryRecord> Newest(size_t limit) const;
  size_t size() const { return records_.size(); }

 private:
  size_t capacity_;
  std::deque<DeliveryRecord> records_;
};

}  // namespace tyto::alertmanager
