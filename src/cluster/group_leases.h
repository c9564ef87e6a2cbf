// GroupLeases: one Lease (lease.h) per rule group, so that exactly one server of a cluster
// evaluates each group at a time. rules::ManagerOptions::may_evaluate calls MayEvaluate before
// every evaluation of a group; a background thread renews the leases this server holds and
// takes those that are free or expired, so a group moves to a survivor within about
// TTL + TTL/3 of its holder's last renewal (docs/cluster.md).
//
// Keys: "rules.<sha256 hex of file \0 group>" (NATS keys allow no arbitrary names).
//
// A lease is kept while the rule manager asks about its group; one not asked about for
// max(2 x the gap between its last two asks, 2 x TTL) is released (the group left the
// configuration). Stop() releases every lease held, so a clean shutdown hands groups over at once.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/kv.h"
#include "cluster/lease.h"
#include "common/mutex.h"
#include "tyto/clock.h"

namespace tyto::cluster {

struct GroupLeasesOptions {
  std::string node;
  std::string advertise_url;
  std::chrono::milliseconds ttl{std::chrono::seconds(15)};
};

// A group's lease as /-/cluster or a test shows it.
struct GroupLeaseStatus {
  std::string file;
  std::string group;
  std::string key;
  bool held = false;
  std::string holder;  // the node last seen holding it ("" when unknown)
};

class GroupLeases {
 public:
  // `kv` and `clock` must outlive this object.
  GroupLeases(KeyValue* kv, Clock* clock, GroupLeasesOptions options);
  ~GroupLeases();  // Stop()
  GroupLeases(const GroupLeases&) = delete;
  GroupLeases& operator=(const GroupLeases&) = delete;

  // The key of a group's lease.
  static std::string Key(const std::string& file, const std::string& group);

  // Whether this server may evaluate the group now: true when it holds (or just took) the
  // group's lease. An unreachable store answers from the lease's last known expiry.
  bool MayEvaluate(const std::string& file, const std::string& group);

  // One round of the background thread, for tests: renews what is held, takes what is free,
  // releases leases of groups no longer asked about.
  void Tick();

  // Starts the thread that calls Tick every TTL/3. Stop joins it and releases every lease held.
  void Start();
  void Stop();

  std::vector<GroupLeaseStatus> Leases() const;

 private:
  struct Tracked {
    std::string file, group;
    std::unique_ptr<Lease> lease;
    int64_t last_asked_ms = 0;
    int64_t gap_ms = 0;  // between the last two asks
  };
  Tracked* Find(const std::string& file, const std::string& group) EXCLUDES(mu_);
  void Loop();

  KeyValue* const kv_;
  Clock* const clock_;
  const GroupLeasesOptions options_;

  mutable Mutex mu_;
  // By key; entries are never removed while the object lives (a group's Tracked pointer stays
  // valid), only their leases released.
  std::map<std::string, std::unique_ptr<Tracked>> tracked_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::condition_variable_any cv_;
  std::thread thread_;
  Mutex thread_mu_;  // Start and Stop
};

}  // namespace tyto::cluster
