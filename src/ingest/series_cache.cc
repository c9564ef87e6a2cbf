#include "ingest/series_cache.h"

#include <cstring>
#include <new>
#include <random>

namespace tyto::ingest {
namespace {

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The 128-bit product of a and b, folded to 64 bits: every input bit reaches many output bits.
__extension__ typedef unsigned __int128 Uint128;  // g++ and clang on 64-bit targets

uint64_t FoldedMultiply(uint64_t a, uint64_t b) {
  const Uint128 p = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

constexpr uint64_t kMix1 = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMix2 = 0xbf58476d1ce4e5b9ull;
constexpr uint64_t kMix3 = 0x94d049bb133111ebull;

uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

SeriesCache::Entry* SeriesCache::Entry::New(uint64_t hash, std::string_view key, Labels labels, SeriesRef ref) {
  void* mem = ::operator new(sizeof(Entry) + key.size());
  auto* e = new (mem) Entry(hash, static_cast<uint32_t>(key.size()), std::move(labels), ref);
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(e + 1), key.data(), key.size());
  return e;
}

void SeriesCache::Entry::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~Entry();
    ::operator delete(this);
  }
}

SeriesCache::SeriesCache(size_t max_entries, HashFunction hash_for_tests)
    : seed_(RandomSeed()), hash_for_tests_(hash_for_tests), max_per_shard_(max_entries / kShards) {}

SeriesCache::~SeriesCache() {
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (Slot& s : shard.slots) {
      if (s.entry != nullptr) s.entry->Unref();
    }
  }
}

// 16 bytes per step through a folded multiply, seeded; the length goes into the last step.
uint64_t SeriesCache::Hash(std::string_view key) const {
  if (hash_for_tests_ != nullptr) return hash_for_tests_(key);
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = seed_ ^ kMix1;
  for (; n > 16; n -= 16, p += 16) h = FoldedMultiply(Load64(p) ^ kMix2, Load64(p + 8) ^ h);
  uint64_t a = 0, b = 0;
  if (n > 8) {
    a = Load64(p);
    std::memcpy(&b, p + 8, n - 8);
  } else {
    std::memcpy(&a, p, n);
  }
  h = FoldedMultiply(a ^ kMix2, b ^ h);
  return FoldedMultiply(h ^ kMix3, key.size() ^ kMix1);
}

SeriesCache::Entry* SeriesCache::FindLocked(const Shard& shard, uint64_t hash, std::string_view key) {
  if (shard.slots.empty()) return nullptr;
  const size_t mask = shard.slots.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = shard.slots[i];
    if (s.entry == nullptr) return nullptr;
    if (s.hash == hash && s.entry->key() == key) {
      s.entry->recently_found_ = true;
      return s.entry;
    }
  }
}

SeriesCache::Handle SeriesCache::Find(std::string_view label_bytes) const {
  const uint64_t hash = Hash(label_bytes);
  const Shard& shard = shards_[ShardOf(hash)];
  MutexLock lock(&shard.mu);
  Entry* e = FindLocked(shard, hash, label_bytes);
  if (e == nullptr) return Handle();
  e->Ref();
  return Handle(e);
}

void SeriesCache::FindAll(std::span<const std::string_view> keys, std::vector<Handle>* found) const {
  found->clear();
  found->resize(keys.size());
  // Keys grouped by shard (a counting sort of their indices), so each shard is locked once.
  std::vector<uint64_t> hashes(keys.size());
  std::vector<uint32_t> order(keys.size());
  size_t starts[kShards + 1] = {};
  for (size_t i = 0; i < keys.size(); ++i) {
    hashes[i] = Hash(keys[i]);
    ++starts[ShardOf(hashes[i]) + 1];
  }
  for (size_t s = 0; s < kShards; ++s) starts[s + 1] += starts[s];
  size_t next[kShards];
  std::memcpy(next, starts, sizeof next);
  for (size_t i = 0; i < keys.size(); ++i) order[next[ShardOf(hashes[i])]++] = static_cast<uint32_t>(i);
  for (size_t s = 0; s < kShards; ++s) {
    if (starts[s] == starts[s + 1]) continue;
    const Shard& shard = shards_[s];
    MutexLock lock(&shard.mu);
    for (size_t k = starts[s]; k < starts[s + 1]; ++k) {
      const uint32_t i = order[k];
      if (Entry* e = FindLocked(shard, hashes[i], keys[i])) {
        e->Ref();
        (*found)[i] = Handle(e);
      }
    }
  }
}

void SeriesCache::PlaceLocked(Shard& shard, Entry* entry) {
  const size_t mask = shard.slots.size() - 1;
  size_t i = entry->hash_ & mask;
  while (shard.slots[i].entry != nullptr) i = (i + 1) & mask;
  shard.slots[i] = {entry->hash_, entry};
}

void SeriesCache::GrowLocked(Shard& shard) {
  std::vector<Slot> old = std::move(shard.slots);
  shard.slots.assign(old.empty() ? 16 : old.size() * 2, Slot{});
  for (const Slot& s : old) {
    if (s.entry != nullptr) PlaceLocked(shard, s.entry);
  }
  shard.hand = 0;
}

// Linear probing's deletion without tombstones: the entries after slot i in its run move back
// when slot i lies between their home slot and where they are.
void SeriesCache::EraseLocked(Shard& shard, size_t i) {
  const size_t mask = shard.slots.size() - 1;
  size_t j = i;
  while (true) {
    j = (j + 1) & mask;
    const Slot& s = shard.slots[j];
    if (s.entry == nullptr) break;
    const size_t home = s.hash & mask;
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    shard.slots[i] = s;
    i = j;
  }
  shard.slots[i] = Slot{};
}

void SeriesCache::EvictOneLocked(Shard& shard) {
  const size_t mask = shard.slots.size() - 1;
  // Ends within two turns of the clock: the first clears every bit it passes.
  while (true) {
    shard.hand &= mask;
    Slot& s = shard.slots[shard.hand];
    if (s.entry != nullptr && !s.entry->recently_found_) {
      Entry* victim = s.entry;
      EraseLocked(shard, shard.hand);  // the hand now points at what moved into the slot
      --shard.count;
      size_.fetch_sub(1, std::memory_order_relaxed);
      victim->Unref();
      return;
    }
    if (s.entry != nullptr) s.entry->recently_found_ = false;
    ++shard.hand;
  }
}

void SeriesCache::Insert(std::string_view label_bytes, Labels labels, SeriesRef ref) {
  if (max_per_shard_ == 0) return;
  const uint64_t hash = Hash(label_bytes);
  Entry* entry = Entry::New(hash, label_bytes, std::move(labels), ref);
  Shard& shard = shards_[ShardOf(hash)];
  MutexLock lock(&shard.mu);
  if (FindLocked(shard, hash, label_bytes) != nullptr) {
    entry->Unref();
    return;
  }
  if (shard.count >= max_per_shard_) EvictOneLocked(shard);
  if (2 * (shard.count + 1) > shard.slots.size()) GrowLocked(shard);
  PlaceLocked(shard, entry);
  ++shard.count;
  size_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace tyto::ingest
