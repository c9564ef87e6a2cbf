#include "eventstore/trace_filter.h"

#include "common/coding.h"

namespace tyto::eventstore {

namespace {

// splitmix64's finalizer: trace ids are not always random (64-bit ids padded with zeros, ids
// that start with a timestamp), so both halves are mixed.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Two hashes of a 16-byte id for double hashing (Kirsch and Mitzenmacher): bit i is
// (h1 + i * h2) mod bits.
void Hashes(std::string_view id, uint64_t* h1, uint64_t* h2) {
  uint64_t hi = 0;
  uint64_t lo = 0;
  if (id.size() >= 16) {
    hi = coding::DecodeFixed64(id.data());
    lo = coding::DecodeFixed64(id.data() + 8);
  } else {
    for (char c : id) hi = hi * 131 + static_cast<uint8_t>(c);
  }
  *h1 = Mix(hi ^ Mix(lo));
  *h2 = Mix(*h1 ^ 0x9e3779b97f4a7c15ull) | 1;
}

}  // namespace

void TraceFilter::Add(std::string_view trace_id) {
  if (levels_.empty() || levels_.back().ids >= levels_.back().capacity) {
    Level l;
    l.capacity = levels_.empty() ? kFirstCapacity : levels_.back().capacity * 2;
    l.words.assign((l.capacity * kBitsPerId + 63) / 64, 0);
    levels_.push_back(std::move(l));
  }
  Level& l = levels_.back();
  const uint64_t bits = l.words.size() * 64;
  uint64_t h1 = 0;
  uint64_t h2 = 0;
  Hashes(trace_id, &h1, &h2);
  for (uint32_t i = 0; i < kHashes; ++i) {
    const uint64_t b = (h1 + i * h2) % bits;
    l.words[b / 64] |= uint64_t{1} << (b % 64);
  }
  ++l.ids;
}

bool TraceFilter::MayContain(std::string_view trace_id) const {
  uint64_t h1 = 0;
  uint64_t h2 = 0;
  Hashes(trace_id, &h1, &h2);
  for (const Level& l : levels_) {
    const uint64_t bits = l.words.size() * 64;
    bool all = true;
    for (uint32_t i = 0; i < kHashes && all; ++i) {
      const uint64_t b = (h1 + i * h2) % bits;
      all = (l.words[b / 64] >> (b % 64)) & 1;
    }
    if (all) return true;
  }
  return false;
}

uint64_t TraceFilter::ids() const {
  uint64_t n = 0;
  for (const Level& l : levels_) n += l.ids;
  return n;
}

size_t TraceFilter::bytes() const {
  size_t n = 0;
  for (const Level& l : levels_) n += l.words.size() * 8;
  return n;
}

std::string TraceFilter::Encode() const {
  std::string out;
  coding::PutVarint64(&out, levels_.size());
  for (const Level& l : levels_) {
    coding::PutVarint64(&out, l.capacity);
    coding::PutVarint64(&out, l.ids);
    coding::PutVarint64(&out, l.words.size());
    for (uint64_t w : l.words) coding::PutFixed64(&out, w);
  }
  return out;
}

Result<TraceFilter> TraceFilter::Decode(std::string_view blob) {
  const Status damaged = Corruption("event store: damaged trace filter");
  const char* p = blob.data();
  const char* end = blob.data() + blob.size();
  uint64_t levels = 0;
  p = coding::GetVarint64(p, end, &levels);
  if (p == nullptr || levels > 64) return damaged;
  TraceFilter f;
  uint64_t capacity = kFirstCapacity;
  for (uint64_t i = 0; i < levels; ++i) {
    Level l;
    uint64_t words = 0;
    if ((p = coding::GetVarint64(p, end, &l.capacity)) == nullptr ||
        (p = coding::GetVarint64(p, end, &l.ids)) == nullptr || (p = coding::GetVarint64(p, end, &words)) == nullptr) {
      return damaged;
    }
    // Only the shapes Add makes: capacities double from kFirstCapacity.
    if (l.capacity != capacity || words != (capacity * kBitsPerId + 63) / 64 ||
        words > static_cast<uint64_t>(end - p) / 8) {
      return damaged;
    }
    l.words.resize(words);
    for (uint64_t w = 0; w < words; ++w, p += 8) l.words[w] = coding::DecodeFixed64(p);
    f.levels_.push_back(std::move(l));
    capacity *= 2;
  }
  if (p != end) return damaged;
  return f;
}

}  // namespace tyto::eventstore
