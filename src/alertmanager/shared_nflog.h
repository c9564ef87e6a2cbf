// SharedNotificationLog: the notification log that several servers share, so that a
// notification is sent by one of them only (src/cluster/shared_notification_log.h implements it
// over the cluster's key-value store; docs/cluster.md). The dispatcher (dispatch.h) asks it
// before each delivery to an integration, after its own log said the delivery is needed:
//
//   Claim   -> kSend: this server sends, holding the claim; kAlreadySent: another server sent
//              exactly this (or a superset) within repeat_interval, nothing to do;
//              kBusy: another server is sending it now, try at the next flush.
//   Renew   before each retry: false when another server took the claim over (stop).
//   Done    after the last attempt: delivered, or not (the claim is given up).
//
// An implementation that cannot reach its store answers kSend (a duplicate is better than a
// lost notification). Thread-safe: called from the dispatcher's delivery workers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alertmanager/nflog.h"

namespace tyto::alertmanager {

struct NotificationClaimRequest {
  std::string group_key;        // Route::GroupKey
  std::string integration_key;  // IntegrationKey: "receiver/kind/index"
  std::vector<uint64_t> firing;    // fingerprints, sorted
  std::vector<uint64_t> resolved;  // fingerprints, sorted
  bool send_resolved = true;
  int64_t repeat_interval_ms = 0;
  int64_t flush_ms = 0;    // the flush's time: what NeedsUpdate compares and the log records
  int64_t attempt_ms = 0;  // the longest one delivery attempt may take (the claim outlives it)
};

enum class ClaimOutcome { kSend, kAlreadySent, kBusy };

struct NotificationClaim {
  ClaimOutcome outcome = ClaimOutcome::kSend;
  NflogEntry sent;  // kAlreadySent: what was sent, for the local log
  // For the implementation: where the claim is and its revision (0: not recorded, e.g. the store
  // was unreachable) and what it wrote.
  std::string key;
  uint64_t revision = 0;
  std::string value;
};

class SharedNotificationLog {
 public:
  virtual ~SharedNotificationLog() = default;
  virtual NotificationClaim Claim(const NotificationClaimRequest& request) = 0;
  // Extends a kSend claim for another attempt of up to `attempt_ms`.
  virtual bool Renew(NotificationClaim* claim, int64_t attempt_ms) = 0;
  virtual void Done(const NotificationClaim& claim, const NotificationClaimRequest& request, bool delivered) = 0;
};

}  // namespace tyto::alertmanager
