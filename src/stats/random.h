// The seeded pseudo-random generator behind every random choice in src/stats (the KLL sketch's
// compaction offsets, reservoir sampling, MMD permutations), so that a given seed and input give
// the same sketch, sample and p-value on every run and platform. SplitMix64 (Steele, Lea and
// Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014): a 64-bit state, one
// add and two multiply-xorshift rounds per draw; statistically good enough for sampling, not
// for cryptography. The state is a plain u64 so that serialized sketches carry it. Private to
// src/stats.
#pragma once

#include <cstdint>

namespace tyto::stats {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state = 0) : state_(state) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0. The modulo's bias is below n / 2^64: nothing a sample of at most
  // billions of items can show.
  uint64_t Below(uint64_t n) { return Next() % n; }

  // Uniform in [0, 1), 53 random bits.
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

}  // namespace tyto::stats
