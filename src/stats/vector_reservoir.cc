#include "stats/vector_reservoir.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "stats/byte_format.h"

namespace tyto::stats {

namespace {
constexpr std::string_view kMagic = "TYVR";
constexpr uint8_t kVersion = 1;
}  // namespace

VectorReservoir::VectorReservoir(size_t capacity, uint64_t seed)
    : capacity_(std::clamp<size_t>(capacity, 1, kMaxCapacity)), rng_(seed) {}

bool VectorReservoir::Add(std::span<const float> v) {
  const bool fits = !v.empty() && v.size() <= kMaxDimension && (dim_ == 0 || v.size() == dim_) &&
                    std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  if (!fits) {
    ++refused_;
    return false;
  }
  dim_ = v.size();
  ++seen_;
  if (vectors_.size() < capacity_) {
    vectors_.emplace_back(v.begin(), v.end());
    return true;
  }
  const uint64_t slot = rng_.Below(seen_);
  if (slot < capacity_) vectors_[slot].assign(v.begin(), v.end());
  return true;
}

bool VectorReservoir::Merge(const VectorReservoir& other) {
  if (&other == this) {
    const VectorReservoir copy = other;
    return Merge(copy);
  }
  if (other.seen_ == 0) {
    refused_ += other.refused_;
    return true;
  }
  if (seen_ != 0 && other.dim_ != dim_) return false;
  // Draw min(capacity, both samples) slots; each comes from a side with probability proportional
  // to what that side has seen and not yet given, and is a random one of that side's sample.
  std::vector<std::vector<float>> mine = std::move(vectors_);
  std::vector<std::vector<float>> theirs = other.vectors_;
  uint64_t mine_left = seen_;
  uint64_t theirs_left = other.seen_;
  const size_t want = std::min(capacity_, mine.size() + theirs.size());
  std::vector<std::vector<float>> out;
  out.reserve(want);
  while (out.size() < want) {
    const bool take_mine = theirs.empty() || (!mine.empty() && rng_.Below(mine_left + theirs_left) < mine_left);
    std::vector<std::vector<float>>& side = take_mine ? mine : theirs;
    const size_t pick = static_cast<size_t>(rng_.Below(side.size()));
    std::swap(side[pick], side.back());
    out.push_back(std::move(side.back()));
    side.pop_back();
    (take_mine ? mine_left : theirs_left) -= 1;
  }
  vectors_ = std::move(out);
  dim_ = other.dim_;
  seen_ += other.seen_;
  refused_ += other.refused_;
  return true;
}

size_t VectorReservoir::MemoryBytes() const {
  size_t bytes = sizeof(*this) + vectors_.capacity() * sizeof(std::vector<float>);
  for (const std::vector<float>& v : vectors_) bytes += v.capacity() * sizeof(float);
  return bytes;
}

// Layout, after the magic and version: u32 capacity, u32 dim, u64 seen, u64 refused,
// u64 generator state, u32 n, then n x dim f32 (vector by vector).
std::string VectorReservoir::Serialize() const {
  std::string out;
  out.reserve(48 + vectors_.size() * dim_ * 4);
  internal::BeginFrame(&out, kMagic, kVersion);
  internal::PutU32(&out, static_cast<uint32_t>(capacity_));
  internal::PutU32(&out, static_cast<uint32_t>(dim_));
  internal::PutU64(&out, seen_);
  internal::PutU64(&out, refused_);
  internal::PutU64(&out, rng_.state());
  internal::PutU32(&out, static_cast<uint32_t>(vectors_.size()));
  for (const std::vector<float>& v : vectors_) {
    for (float x : v) internal::PutF32(&out, x);
  }
  internal::EndFrame(&out);
  return out;
}

Result<VectorReservoir> VectorReservoir::Deserialize(std::string_view bytes) {
  TYTO_ASSIGN_OR_RETURN(internal::Reader r, internal::Reader::Open(bytes, kMagic, kVersion, "vector reservoir"));
  uint32_t capacity = 0, dim = 0, n = 0;
  uint64_t seen = 0, refused = 0, state = 0;
  if (!r.U32(&capacity)) return r.Truncated("capacity");
  if (capacity < 1 || capacity > kMaxCapacity) return r.Error("capacity outside [1, 65536]");
  if (!r.U32(&dim)) return r.Truncated("dim");
  if (dim > kMaxDimension) return r.Error("dim above 65536");
  if (!r.U64(&seen)) return r.Truncated("seen");
  if (!r.U64(&refused)) return r.Truncated("refused");
  if (!r.U64(&state)) return r.Truncated("generator state");
  if (!r.U32(&n)) return r.Truncated("vector count");
  if (n != std::min<uint64_t>(seen, capacity)) return r.Error("vector count is not min(seen, capacity)");
  if ((seen == 0) != (dim == 0)) return r.Error("dim must be 0 exactly when nothing was seen");
  if (static_cast<uint64_t>(n) * dim > r.remaining() / 4) return r.Error("vectors larger than the bytes that follow");
  VectorReservoir reservoir(capacity, state);
  reservoir.dim_ = dim;
  reservoir.seen_ = seen;
  reservoir.refused_ = refused;
  reservoir.vectors_.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    std::vector<float> v(dim);
    for (float& x : v) {
      if (!r.F32(&x)) return r.Truncated("vector component");
      if (!std::isfinite(x)) return r.Error("vector component not finite");
    }
    reservoir.vectors_.push_back(std::move(v));
  }
  TYTO_RETURN_IF_ERROR(r.Finish());
  return reservoir;
}

}  // namespace tyto::stats
