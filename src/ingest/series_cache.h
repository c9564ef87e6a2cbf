// SeriesCache: for the encoded label fields of a series, exactly as a sender wrote them, the
// Labels they decode to and the SeriesRef the storage returned for them. Senders send the same
// series with the same bytes in every request, so a hit skips, for that series, decoding and
// checking its labels, building the Labels (an allocation per label) and the storage's lookup
// by labels (hashing and comparing every label): the ref goes to Appender::Append, which falls
// back to the labels when the storage no longer knows the ref (a series dropped since); the
// caller then stores the new ref in the entry.
//
// Correct because decoding is a function of the bytes: equal bytes give equal labels, which
// passed the checks when they were first seen; and a SeriesRef names one series for the life of
// the storage (include/tyto/storage.h). Keys are compared byte for byte, so two keys with the
// same hash are two entries. Two different encodings of one label set (labels written in
// another order of fields, a length varint padded) are two entries holding equal Labels: the
// storage maps both to the same series.
//
// Layout: 16 shards, each an open-addressing table (linear probing, at most half full) of
// (hash, entry) slots under its own mutex; an entry holds its key bytes inline, so a lookup
// reads one slot and one entry. The hash is seeded per cache at random, so that a sender
// cannot choose keys that collide.
//
// Bounded: at most `max_entries` series (about 0.6 KiB each: the entry, its key and its
// Labels). A full shard evicts one entry per insertion, chosen by the clock algorithm (an
// entry found since the hand last passed it is spared once), so a sender with more series than
// fit still works, at the uncached speed for the rest.
//
// Thread-safe. An entry found stays valid while a Handle to it is held, even after eviction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "tyto/labels.h"
#include "tyto/storage.h"

namespace tyto::ingest {

class SeriesCache {
 public:
  class Entry {
   public:
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size_}; }
    const Labels& labels() const { return labels_; }
    SeriesRef ref() const { return ref_.load(std::memory_order_relaxed); }
    // When the storage has handed out a new ref for the labels (it dropped the old series).
    void set_ref(SeriesRef ref) { ref_.store(ref, std::memory_order_relaxed); }

   private:
    friend class SeriesCache;
    Entry(uint64_t hash, uint32_t key_size, Labels labels, SeriesRef ref)
        : key_size_(key_size), hash_(hash), ref_(ref), labels_(std::move(labels)) {}
    // One allocation: the entry, then its key bytes.
    static Entry* New(uint64_t hash, std::string_view key, Labels labels, SeriesRef ref);
    void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
    void Unref();

    std::atomic<uint32_t> refs_{1};  // the table's, while it holds the entry, plus each Handle
    const uint32_t key_size_;
    const uint64_t hash_;
    std::atomic<SeriesRef> ref_;
    const Labels labels_;
    bool recently_found_ = false;  // the clock's bit; guarded by the holding shard's mutex
  };

  // A counted reference to an entry, or none. Move-only.
  class Handle {
   public:
    Handle() = default;
    Handle(Handle&& o) noexcept : entry_(o.entry_) { o.entry_ = nullptr; }
    Handle& operator=(Handle&& o) noexcept {
      if (this != &o) {
        Reset();
        entry_ = o.entry_;
        o.entry_ = nullptr;
      }
      return *this;
    }
    ~Handle() { Reset(); }
    Entry* get() const { return entry_; }
    Entry* operator->() const { return entry_; }
    explicit operator bool() const { return entry_ != nullptr; }
    void Reset() {
      if (entry_ != nullptr) entry_->Unref();
      entry_ = nullptr;
    }

   private:
    friend class SeriesCache;
    explicit Handle(Entry* e) : entry_(e) {}  // takes a reference already counted
    Entry* entry_ = nullptr;
  };

  using HashFunction = uint64_t (*)(std::string_view);
  // `hash_for_tests` replaces the seeded hash (a constant one makes every key collide).
  explicit SeriesCache(size_t max_entries, HashFunction hash_for_tests = nullptr);
  ~SeriesCache();
  SeriesCache(const SeriesCache&) = delete;
  SeriesCache& operator=(const SeriesCache&) = delete;

  // The entry for these label bytes, or none.
  Handle Find(std::string_view label_bytes) const;
  // Finds every key at once, locking each shard once: (*found)[i] is the entry for keys[i] or
  // none. Replaces what *found held.
  void FindAll(std::span<const std::string_view> keys, std::vector<Handle>* found) const;
  // Adds the entry, unless these bytes have one already (another request added it meanwhile).
  void Insert(std::string_view label_bytes, Labels labels, SeriesRef ref);

  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;  // null: empty
  };
  struct alignas(64) Shard {
    mutable Mutex mu;
    // Empty, or a power of two of slots with at least half of them empty.
    std::vector<Slot> slots GUARDED_BY(mu);
    size_t count GUARDED_BY(mu) = 0;
    size_t hand GUARDED_BY(mu) = 0;  // the clock's position in `slots`
  };

  uint64_t Hash(std::string_view key) const;
  static size_t ShardOf(uint64_t hash) { return static_cast<size_t>(hash >> 60); }
  // The entry for `key`, marked as found, or null.
  static Entry* FindLocked(const Shard& shard, uint64_t hash, std::string_view key) REQUIRES(shard.mu);
  static void PlaceLocked(Shard& shard, Entry* entry) REQUIRES(shard.mu);
  static void GrowLocked(Shard& shard) REQUIRES(shard.mu);
  static void EraseLocked(Shard& shard, size_t i) REQUIRES(shard.mu);
  void EvictOneLocked(Shard& shard) REQUIRES(shard.mu);

  const uint64_t seed_;
  const HashFunction hash_for_tests_;
  const size_t max_per_shard_;
  Shard shards_[kShards];
  std::atomic<size_t> size_{0};
};

}  // namespace tyto::ingest
