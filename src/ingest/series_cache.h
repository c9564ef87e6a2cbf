// SeriesCache: for the encoded label fields of a series, exactly as a sender wrote them, the
// Labels they decode to and the SeriesRef the storage returned for them. Senders send the same
// series with the same bytes in every request, so a hit skips, for that series, the label
// checks, building the Labels (an allocation per label) and the storage's lookup by labels
// (hashing and comparing every label): the ref goes to Appender::Append, which falls back to
// the labels when the storage no longer knows the ref (a series dropped since).
//
// Correct because decoding is a function of the bytes: equal bytes give equal labels, which
// passed the checks when they were first seen; and a SeriesRef names one series for the life of
// the storage (include/tyto/storage.h).
//
// Bounded: at most `max_entries` series (about 1 KiB each: the key bytes and the Labels).
// A shard that fills up is emptied and refilled by the traffic, so a sender with more series
// than fit still works, at the uncached speed. Thread-safe (16 shards, each with its lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::ingest {

class SeriesCache {
 public:
  struct Entry {
    Entry(std::string k, Labels l, SeriesRef r) : key(std::move(k)), labels(std::move(l)), ref(r) {}
    const std::string key;
    const Labels labels;
    std::atomic<SeriesRef> ref;  // updated when the storage hands out a new one
  };

  explicit SeriesCache(size_t max_entries);

  // The entry for these label bytes, or null. Held entries stay valid after eviction.
  std::shared_ptr<Entry> Find(std::string_view label_bytes) const;
  void Insert(std::string_view label_bytes, Labels labels, SeriesRef ref);

  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable Mutex mu;
    // By hash of the key; collisions are told apart by comparing the key.
    std::unordered_multimap<uint64_t, std::shared_ptr<Entry>> entries GUARDED_BY(mu);
  };

  size_t max_per_shard_;
  Shard shards_[kShards];
  std::atomic<size_t> size_{0};
};

}  // namespace tyto::ingest
