#include "cluster/memory_kv.h"

#include <utility>

namespace tyto::cluster {

Status MemoryKeyValue::CheckAvailable() const {
  if (unavailable_) return Unavailable("the in-memory key-value store is marked unavailable");
  return Status::Ok();
}

Result<uint64_t> MemoryKeyValue::WriteLocked(std::string_view key, std::string_view value) {
  if (key.empty()) return InvalidArgument("empty key");
  Entry& e = entries_[std::string(key)];
  e.key = std::string(key);
  e.value = std::string(value);
  e.revision = ++revision_;
  ++writes_;
  return e.revision;
}

Result<std::optional<Entry>> MemoryKeyValue::Get(std::string_view key) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::optional<Entry>();
  return std::optional<Entry>(it->second);
}

Result<uint64_t> MemoryKeyValue::Create(std::string_view key, std::string_view value) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  if (entries_.find(key) != entries_.end()) return Status(StatusCode::kAlreadyExists, "key " + std::string(key) + " exists");
  return WriteLocked(key, value);
}

Result<uint64_t> MemoryKeyValue::Update(std::string_view key, std::string_view value, uint64_t revision) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.revision != revision) {
    return Status(StatusCode::kAlreadyExists, "key " + std::string(key) + " is not at revision " + std::to_string(revision));
  }
  return WriteLocked(key, value);
}

Result<uint64_t> MemoryKeyValue::Put(std::string_view key, std::string_view value) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  return WriteLocked(key, value);
}

Status MemoryKeyValue::Delete(std::string_view key) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  auto it = entries_.find(key);
  if (it == entries_.end()) return Status::Ok();
  entries_.erase(it);
  ++revision_;  // a delete is a write to the bucket, as JetStream's tombstone is
  ++writes_;
  return Status::Ok();
}

Result<std::vector<Entry>> MemoryKeyValue::List(std::string_view prefix) {
  MutexLock l(&mu_);
  TYTO_RETURN_IF_ERROR(CheckAvailable());
  std::vector<Entry> out;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    out.push_back(it->second);
  }
  return out;
}

Status MemoryKeyValue::Health() {
  MutexLock l(&mu_);
  return CheckAvailable();
}

void MemoryKeyValue::SetUnavailable(bool unavailable) {
  MutexLock l(&mu_);
  unavailable_ = unavailable;
}

uint64_t MemoryKeyValue::writes() const {
  MutexLock l(&mu_);
  return writes_;
}

}  // namespace tyto::cluster
