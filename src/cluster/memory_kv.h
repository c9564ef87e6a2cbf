// MemoryKeyValue: the KeyValue contract (kv.h) in one process's memory, for tests and for a
// single server that runs the cluster code paths without NATS. Same semantics as the JetStream
// bucket: one revision counter for the whole bucket that every write (deletes included) moves
// on; Create succeeds on a key never written or deleted; Update compares the revision.
//
// Tests can make the store unreachable (SetUnavailable): every call then fails with
// kUnavailable, as a NATS outage does.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "cluster/kv.h"
#include "common/mutex.h"

namespace tyto::cluster {

class MemoryKeyValue final : public KeyValue {
 public:
  MemoryKeyValue() = default;

  Result<std::optional<Entry>> Get(std::string_view key) override;
  Result<uint64_t> Create(std::string_view key, std::string_view value) override;
  Result<uint64_t> Update(std::string_view key, std::string_view value, uint64_t revision) override;
  Result<uint64_t> Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Result<std::vector<Entry>> List(std::string_view prefix) override;
  Status Health() override;

  // While true, every call fails with kUnavailable.
  void SetUnavailable(bool unavailable);
  // Writes so far (Create, Update, Put and Delete that succeeded), for tests.
  uint64_t writes() const;

 private:
  Status CheckAvailable() const REQUIRES(mu_);
  Result<uint64_t> WriteLocked(std::string_view key, std::string_view value) REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_ GUARDED_BY(mu_);
  uint64_t revision_ GUARDED_BY(mu_) = 0;
  uint64_t writes_ GUARDED_BY(mu_) = 0;
  bool unavailable_ GUARDED_BY(mu_) = false;
};

}  // namespace tyto::cluster
