// Lease: a named lease in the shared KeyValue (kv.h) that at most one server holds at a time,
// for a TTL that the holder renews. Rule groups are evaluated by the holder of their lease
// (group_leases.h); docs/cluster.md has the rules and the failure cases.
//
// The value at the lease's key is JSON (docs/cluster.md):
//   {"node":"tyto-1","url":"http://tyto-1:9090","expires_at_ms":1700000015000,"acquired_at_ms":1700000000000}
// Times are wall-clock ms since the epoch from the Clock given; servers' clocks must agree to
// well within the TTL. A released lease has expires_at_ms 0.
//
// Rules (every write is a compare-and-set on the revision last read, so one writer wins):
//  - free (no key, released, expired, or a value that does not decode): anyone may take it;
//  - held by this node (its name in the value): this node renews it, every TTL/3;
//  - held by another node and not expired: nobody else writes it.
// A holder whose write loses a race learns it at once that it no longer holds the lease.
// Node names must be unique in the cluster: two servers with one name would both hold it.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cluster/kv.h"
#include "common/mutex.h"
#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::cluster {

struct LeaseOptions {
  std::string key;            // the lease's key in the bucket; see docs/cluster.md
  std::string node;           // this server's cluster.node
  std::string advertise_url;  // how other servers and people reach it (shown, not used)
  std::chrono::milliseconds ttl{std::chrono::seconds(15)};
};

// What the value at a lease's key says.
struct LeaseRecord {
  std::string node;
  std::string url;
  int64_t expires_at_ms = 0;
  int64_t acquired_at_ms = 0;
};
std::string EncodeLeaseRecord(const LeaseRecord& r);
// kInvalidArgument naming what is wrong when `value` is not a lease record.
Result<LeaseRecord> DecodeLeaseRecord(std::string_view value);

class Lease {
 public:
  // `kv` and `clock` must outlive the lease.
  Lease(KeyValue* kv, Clock* clock, LeaseOptions options);

  // Takes the lease when it is free, renews it when this node holds it and TTL/3 passed since
  // the last write; does nothing more otherwise. Returns whether this node holds it now. An
  // unreachable store is an error; the lease is then still held until the expiry last written.
  Result<bool> Acquire();
  // Whether this node holds the lease now, from what it last wrote (no call to the store):
  // true until the expiry it wrote unless a write of its own lost a race since.
  bool Held() const;
  // Gives the lease up when this node holds it (a compare-and-set to a released record, so a
  // lease another node took meanwhile is left alone); others may take it at once.
  Status Release();
  // The record last seen at the key (this node's or another's); nullopt before any read.
  std::optional<LeaseRecord> LastSeen() const;

  const std::string& key() const { return options_.key; }

 private:
  LeaseRecord Mine(int64_t now_ms) const;
  // Writes `record` over revision `revision` (0: Create); updates the state from the outcome.
  Result<bool> Write(const LeaseRecord& record, uint64_t revision) REQUIRES(mu_);

  KeyValue* const kv_;
  Clock* const clock_;
  const LeaseOptions options_;

  mutable Mutex mu_;
  bool held_ GUARDED_BY(mu_) = false;
  uint64_t revision_ GUARDED_BY(mu_) = 0;       // of this node's last write, while held
  int64_t expires_at_ms_ GUARDED_BY(mu_) = 0;   // written by this node, while held
  int64_t written_at_ms_ GUARDED_BY(mu_) = 0;   // when it was written
  int64_t acquired_at_ms_ GUARDED_BY(mu_) = 0;  // when this node took it
  std::optional<LeaseRecord> last_seen_ GUARDED_BY(mu_);
};

}  // namespace tyto::cluster
