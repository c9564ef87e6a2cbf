// SharedNotificationLog over the cluster's key-value store: before a server sends an
// aggregation group's notification to an integration it claims it at
//   nflog.<sha256 hex of integration key \0 group key>
// with a compare-and-set, so that one server sends and the others learn it was sent
// (Alertmanager's needsUpdate rule applied to the shared record). docs/cluster.md has the
// record's JSON, the rules and what happens when a server dies mid-send.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alertmanager/shared_nflog.h"
#include "cluster/kv.h"
#include "common/mutex.h"
#include "tyto/clock.h"

namespace tyto::cluster {

struct SharedNotificationLogOptions {
  std::string node;
  // A claim lasts one delivery attempt plus this; a claim not renewed or finished by then (its
  // server died mid-send) may be taken over.
  std::chrono::milliseconds claim_grace{std::chrono::seconds(15)};
  // Records whose last send is older than this are deleted (Alertmanager's --data.retention).
  std::chrono::milliseconds retention{std::chrono::hours(120)};
  // How often Claim looks for such records (at most once per this).
  std::chrono::milliseconds gc_interval{std::chrono::hours(1)};
};

// The record at an nflog key (docs/cluster.md).
struct NotificationRecord {
  std::string state;  // "sending", "sent" or "released" (a claim given up, nothing sent before)
  std::string node;   // who sent or is sending
  int64_t expires_at_ms = 0;  // "sending": the claim's end
  // What is being sent ("sending") or was sent last ("sent").
  std::vector<uint64_t> firing, resolved;
  int64_t sent_at_ms = 0;  // the flush time of that notification
  // "sending" and "released": the last notification sent before, if any.
  bool has_previous = false;
  std::vector<uint64_t> previous_firing, previous_resolved;
  int64_t previous_sent_at_ms = 0;
};
std::string EncodeNotificationRecord(const NotificationRecord& r);
Result<NotificationRecord> DecodeNotificationRecord(std::string_view value);

class SharedNotificationLog final : public alertmanager::SharedNotificationLog {
 public:
  // `kv` and `clock` must outlive this object.
  SharedNotificationLog(KeyValue* kv, Clock* clock, SharedNotificationLogOptions options);

  static std::string Key(const std::string& integration_key, const std::string& group_key);

  alertmanager::NotificationClaim Claim(const alertmanager::NotificationClaimRequest& request) override;
  bool Renew(alertmanager::NotificationClaim* claim, int64_t attempt_ms) override;
  void Done(const alertmanager::NotificationClaim& claim, const alertmanager::NotificationClaimRequest& request,
            bool delivered) override;

  // Deletes records whose last send is older than the retention (Claim calls it at most once
  // per gc_interval). Returns how many.
  size_t GarbageCollect();

 private:
  KeyValue* const kv_;
  Clock* const clock_;
  const SharedNotificationLogOptions options_;
  Mutex mu_;
  int64_t next_gc_ms_ GUARDED_BY(mu_) = 0;
};

}  // namespace tyto::cluster
