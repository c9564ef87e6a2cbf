// KeyValue: the shared state several Tyto servers coordinate through (rule-group leases, the
// notification log, silences, incidents, playbook runs). Keys and values are opaque strings; every
// write returns the key's new revision, and Update succeeds only when the key is still at the
// revision the caller read (compare-and-set), so two servers never both win a race.
//
// Two implementations: NATS JetStream's key-value store (src/nats/, what a deployment uses) and
// MemoryKeyValue (memory_kv.h: one process, for tests and a single server).
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::cluster {

struct Entry {
  std::string key;
  std::string value;
  uint64_t revision = 0;  // > 0; grows with every write to the bucket
};

class KeyValue {
 public:
  virtual ~KeyValue() = default;

  // The key's value and revision; nullopt when it was never written or is deleted.
  // Errors: kUnavailable when the store cannot be reached (naming it).
  virtual Result<std::optional<Entry>> Get(std::string_view key) = 0;
  // Writes the key only when it does not exist (or was deleted): kAlreadyExists otherwise.
  virtual Result<uint64_t> Create(std::string_view key, std::string_view value) = 0;
  // Writes the key only when its revision is still `revision`: kAlreadyExists when another
  // write came first (the caller reads again and decides).
  virtual Result<uint64_t> Update(std::string_view key, std::string_view value, uint64_t revision) = 0;
  // Writes the key whatever it holds.
  virtual Result<uint64_t> Put(std::string_view key, std::string_view value) = 0;
  // Deletes the key (no error when absent).
  virtual Status Delete(std::string_view key) = 0;
  // Every live key starting with `prefix`, with its value, sorted by key.
  virtual Result<std::vector<Entry>> List(std::string_view prefix) = 0;
  // Whether the store can be reached now, for /-/ready.
  virtual Status Health() = 0;
};

}  // namespace tyto::cluster
