#include "ingest/series_cache.h"

#include <functional>

namespace tyto::ingest {

SeriesCache::SeriesCache(size_t max_entries) : max_per_shard_(max_entries / kShards) {}

std::shared_ptr<SeriesCache::Entry> SeriesCache::Find(std::string_view label_bytes) const {
  const uint64_t hash = std::hash<std::string_view>{}(label_bytes);
  const Shard& shard = shards_[hash % kShards];
  MutexLock lock(&shard.mu);
  auto [it, end] = shard.entries.equal_range(hash);
  for (; it != end; ++it) {
    if (it->second->key == label_bytes) return it->second;
  }
  return nullptr;
}

void SeriesCache::Insert(std::string_view label_bytes, Labels labels, SeriesRef ref) {
  if (max_per_shard_ == 0) return;
  const uint64_t hash = std::hash<std::string_view>{}(label_bytes);
  auto entry = std::make_shared<Entry>(std::string(label_bytes), std::move(labels), ref);
  Shard& shard = shards_[hash % kShards];
  MutexLock lock(&shard.mu);
  auto [it, end] = shard.entries.equal_range(hash);
  for (; it != end; ++it) {
    if (it->second->key == label_bytes) return;  // another request inserted it meanwhile
  }
  if (shard.entries.size() >= max_per_shard_) {
    size_.fetch_sub(shard.entries.size(), std::memory_order_relaxed);
    shard.entries.clear();
  }
  shard.entries.emplace(hash, std::move(entry));
  size_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace tyto::ingest
