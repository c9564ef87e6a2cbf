// VectorReservoir: a uniform random sample of the embedding vectors a model saw (prompts,
// responses, retrieved documents), of bounded size, mergeable and serializable; the input of the
// MMD drift test (mmd.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stats/random.h"
#include "tyto/status.h"

namespace tyto::stats {

// A reservoir sample (Vitter's Algorithm R) of at most capacity() vectors, all of one dimension:
// after seen() accepted vectors, each of them is in vectors() with probability
// min(1, capacity / seen), independently of arrival order. The first accepted vector fixes dim();
// later vectors of another dimension, empty ones and ones with a NaN or ±Inf component are
// refused (Add returns false, refused() counts them; they do not count in seen()). The seeded
// generator makes the sample reproducible. Not synchronised: one writer, or a lock outside.
class VectorReservoir {
 public:
  static constexpr size_t kDefaultCapacity = 256;
  static constexpr size_t kMaxCapacity = 1 << 16;                  // a larger capacity is lowered to this
  static constexpr size_t kMaxDimension = 1 << 16;                 // longer vectors are refused
  static constexpr uint64_t kDefaultSeed = 0x7479746f72737631ULL;  // "tytorsv1"

  // capacity 0 is raised to 1.
  explicit VectorReservoir(size_t capacity = kDefaultCapacity, uint64_t seed = kDefaultSeed);

  bool Add(std::span<const float> v);
  // Afterwards this is a uniform sample of both streams together: each slot is drawn from one
  // side or the other in proportion to the vectors that side has seen and not yet contributed
  // (the hypergeometric draw of a sample from the union). Refused if the dimensions differ
  // (returns false, nothing changes); an empty side merges as nothing. The capacity stays this
  // reservoir's; the result is exactly uniform when the other's capacity is at least this one's
  // (otherwise the other's sample can run out, and the rest comes from this side).
  bool Merge(const VectorReservoir& other);

  uint64_t seen() const { return seen_; }
  uint64_t refused() const { return refused_; }
  size_t capacity() const { return capacity_; }
  // 0 until the first vector is accepted.
  size_t dim() const { return dim_; }
  // The sample, in no meaningful order.
  const std::vector<std::vector<float>>& vectors() const { return vectors_; }

  size_t MemoryBytes() const;

  // Layout: docs/format/stats-sketches.md ("TYVR", version 1).
  std::string Serialize() const;
  static Result<VectorReservoir> Deserialize(std::string_view bytes);

 private:
  size_t capacity_;
  size_t dim_ = 0;
  uint64_t seen_ = 0;
  uint64_t refused_ = 0;
  SplitMix64 rng_;
  std::vector<std::vector<float>> vectors_;
};

}  // namespace tyto::stats
