#include "stats/quantile_sketch.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include "stats/byte_format.h"

namespace tyto::stats {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMinLevelCapacity = 8;
// Beyond this depth below the top, k * (2/3)^depth < 1 for every k <= kMaxK, so the capacity is
// the minimum; it also keeps k << depth and 3^depth inside 64 bits.
constexpr size_t kMaxCapacityDepth = 30;
// 2^h must fit the weights' u64 arithmetic, and no real stream needs more than 2^60 values.
constexpr size_t kMaxLevels = 61;

constexpr std::string_view kMagic = "TYKL";
constexpr uint8_t kVersion = 1;

// Shared by the sketches of a thread: the values a compaction promotes to the level above.
thread_local std::vector<double> tls_promoted;

}  // namespace

size_t KllLevelCapacity(uint32_t k, size_t num_levels, size_t h) {
  const size_t depth = num_levels - 1 - h;
  if (depth > kMaxCapacityDepth) return kMinLevelCapacity;
  uint64_t pow3 = 1;
  for (size_t i = 0; i < depth; ++i) pow3 *= 3;
  const uint64_t scaled = static_cast<uint64_t>(k) << depth;  // k * 2^depth
  const uint64_t cap = (scaled + pow3 - 1) / pow3;            // ceil(k * 2^depth / 3^depth)
  return std::max<size_t>(kMinLevelCapacity, static_cast<size_t>(cap));
}

QuantileSketch::QuantileSketch(uint32_t k, uint64_t seed) : k_(std::clamp(k, kMinK, kMaxK)), rng_(seed) {
  begin_.push_back(0);
  UpdateCapacity();
}

void QuantileSketch::UpdateCapacity() {
  size_t total = 0;
  for (size_t h = 0; h < begin_.size(); ++h) total += KllLevelCapacity(k_, begin_.size(), h);
  capacity_ = total;
}

void QuantileSketch::TrackDistinct(double v, uint64_t n) {
  auto it = small_.find(v);
  if (it != small_.end()) {
    it->second += n;
  } else if (small_.size() < kMaxTrackedDistinct) {
    small_.emplace(v, n);
  } else {
    capped_ = true;
    small_.clear();
  }
}

void QuantileSketch::Add(double v) {
  if (!std::isfinite(v)) return;
  moments_.Add(v);
  if (!capped_) TrackDistinct(v, 1);
  items_.push_back(v);
  if (items_.size() > capacity_) Compress();
}

void QuantileSketch::Compress() {
  while (items_.size() > capacity_) {
    // The lowest level at or over its capacity; one exists since the total is over the sum.
    size_t h = 0;
    while (h + 1 < begin_.size() && LevelEnd(h) - LevelBegin(h) < KllLevelCapacity(k_, begin_.size(), h)) ++h;
    CompactLevel(h);
  }
}

void QuantileSketch::AddTopLevel() {
  // The old top level begins at 0, so the new one is the empty range [0, 0).
  begin_.push_back(0);
  UpdateCapacity();
  items_.reserve(capacity_ + 1);
}

void QuantileSketch::CompactLevel(size_t h) {
  if (h + 1 == begin_.size()) AddTopLevel();
  const size_t b = LevelBegin(h);
  const size_t e = LevelEnd(h);
  const auto at = [this](size_t i) { return items_.begin() + static_cast<std::ptrdiff_t>(i); };
  if (h == 0) std::sort(at(b), at(e));
  // An odd level keeps its largest value, so that the compacted values are an even run.
  const size_t even = (e - b) & ~size_t{1};
  const size_t half = even / 2;
  const size_t offset = static_cast<size_t>(rng_.Next() >> 63);  // 0 or 1: which of each pair goes up
  std::vector<double>& promoted = tls_promoted;
  promoted.resize(half);
  for (size_t i = 0; i < half; ++i) promoted[i] = items_[b + offset + 2 * i];
  // Merge the level above, items_[above, b), with the promoted values into items_[above, b + half),
  // from the back: the writes stay at or above the next value of the level above still to read.
  const size_t above = LevelBegin(h + 1);
  size_t write = b + half;
  size_t i = b;
  size_t j = half;
  while (j > 0) {
    if (i > above && items_[i - 1] > promoted[j - 1]) {
      items_[--write] = items_[--i];
    } else {
      items_[--write] = promoted[--j];
    }
  }
  // Close the gap items_[b + half, b + even): an odd level's kept value and the levels below move down.
  items_.erase(at(b + half), at(b + even));
  begin_[h] = b + half;
  for (size_t l = 0; l < h; ++l) begin_[l] -= half;
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (&other == this) {
    const QuantileSketch copy = other;
    Merge(copy);
    return;
  }
  if (other.count() == 0) return;
  moments_.Merge(other.moments_);
  if (!capped_) {
    if (other.capped_) {
      capped_ = true;
      small_.clear();
    } else {
      for (const auto& [v, n] : other.small_) {
        TrackDistinct(v, n);
        if (capped_) break;
      }
    }
  }
  k_ = std::min(k_, other.k_);
  // Lay out the union level by level, top first: sorted levels merged, level 0 concatenated.
  const size_t levels = std::max(begin_.size(), other.begin_.size());
  std::vector<double> merged;
  merged.reserve(items_.size() + other.items_.size());
  std::vector<size_t> begins(levels, 0);
  const auto range = [](const QuantileSketch& s, size_t h) {
    if (h >= s.begin_.size()) return std::pair(s.items_.begin(), s.items_.begin());
    return std::pair(s.items_.begin() + static_cast<std::ptrdiff_t>(s.LevelBegin(h)),
                     s.items_.begin() + static_cast<std::ptrdiff_t>(s.LevelEnd(h)));
  };
  for (size_t h = levels; h-- > 1;) {
    begins[h] = merged.size();
    const auto [ours_begin, ours_end] = range(*this, h);
    const auto [theirs_begin, theirs_end] = range(other, h);
    std::merge(ours_begin, ours_end, theirs_begin, theirs_end, std::back_inserter(merged));
  }
  begins[0] = merged.size();
  const auto [ours_begin, ours_end] = range(*this, 0);
  const auto [theirs_begin, theirs_end] = range(other, 0);
  merged.insert(merged.end(), ours_begin, ours_end);
  merged.insert(merged.end(), theirs_begin, theirs_end);
  items_ = std::move(merged);
  begin_ = std::move(begins);
  UpdateCapacity();
  Compress();
  if (items_.capacity() > capacity_ + 1) {
    std::vector<double> tight;
    tight.reserve(capacity_ + 1);
    tight.insert(tight.end(), items_.begin(), items_.end());
    items_.swap(tight);
  }
}

std::vector<CdfPoint> QuantileSketch::CdfPoints() const {
  std::vector<std::pair<double, uint64_t>> weighted;
  weighted.reserve(items_.size());
  for (size_t h = 0; h < begin_.size(); ++h) {
    const uint64_t w = uint64_t{1} << h;
    for (size_t i = LevelBegin(h); i < LevelEnd(h); ++i) weighted.emplace_back(items_[i], w);
  }
  std::sort(
      weighted.begin(), weighted.end(),
      [](const std::pair<double, uint64_t>& a, const std::pair<double, uint64_t>& b) { return a.first < b.first; });
  std::vector<CdfPoint> points;
  points.reserve(weighted.size());
  uint64_t cumulative = 0;
  for (const auto& [v, w] : weighted) {
    cumulative += w;
    if (!points.empty() && points.back().value == v) {
      points.back().at_or_below = cumulative;
    } else {
      points.push_back({v, cumulative});
    }
  }
  return points;
}

double QuantileSketch::Quantile(double q) const {
  if (count() == 0 || std::isnan(q)) return kNaN;
  if (q <= 0) return min();
  if (q >= 1) return max();
  return QuantileOfCdf(CdfPoints(), q);
}

double QuantileOfCdf(const std::vector<CdfPoint>& points, double q) {
  if (points.empty() || std::isnan(q)) return kNaN;
  // q * n computed in floating point can land a hair above an integer rank (0.3 * 10 is
  // 3.0000000000000004); the relative slack keeps such a rank on its own value.
  const double target = q * static_cast<double>(points.back().at_or_below) * (1 - 1e-12);
  auto it = std::lower_bound(points.begin(), points.end(), target,
                             [](const CdfPoint& p, double t) { return static_cast<double>(p.at_or_below) < t; });
  if (it == points.end()) return points.back().value;
  return it->value;
}

uint64_t CountAtOrBelow(const std::vector<CdfPoint>& points, double v) {
  auto it = std::upper_bound(points.begin(), points.end(), v, [](double x, const CdfPoint& p) { return x < p.value; });
  return it == points.begin() ? 0 : std::prev(it)->at_or_below;
}

double QuantileSketch::Cdf(double v) const {
  if (count() == 0 || std::isnan(v)) return kNaN;
  if (v >= max()) return 1.0;
  if (v < min()) return 0.0;
  uint64_t weight = 0;
  for (size_t i = LevelBegin(0); i < LevelEnd(0); ++i) weight += items_[i] <= v ? 1 : 0;
  for (size_t h = 1; h < begin_.size(); ++h) {
    const auto first = items_.begin() + static_cast<std::ptrdiff_t>(LevelBegin(h));
    const auto last = items_.begin() + static_cast<std::ptrdiff_t>(LevelEnd(h));
    weight += static_cast<uint64_t>(std::upper_bound(first, last, v) - first) << h;
  }
  return static_cast<double>(weight) / static_cast<double>(count());
}

double QuantileSketch::NormalizedRankError(uint32_t k) { return 2.296 / std::pow(static_cast<double>(k), 0.9723); }

double QuantileSketch::RankErrorBound() const { return exact() ? 0.0 : NormalizedRankError(k_); }

size_t QuantileSketch::MemoryBytes() const {
  // A red-black tree node: three pointers and a colour, then the key and the count.
  constexpr size_t kMapNodeBytes = 4 * sizeof(void*) + sizeof(double) + sizeof(uint64_t);
  return sizeof(*this) + items_.capacity() * sizeof(double) + begin_.capacity() * sizeof(size_t) +
         small_.size() * kMapNodeBytes;
}

// Layout (docs/format/stats-sketches.md), after the magic and version:
//   u32 k, u64 count, f64 min, f64 max, f64 mean, f64 m2, u64 generator state,
//   u8 flags (bit 0: distinct capped), u8 d, d x (f64 value, u64 count),
//   u8 levels L, L x u32 size, then every level's values as f64, level 0 first.
std::string QuantileSketch::Serialize() const {
  std::string out;
  out.reserve(64 + 16 * small_.size() + 4 * begin_.size() + 8 * items_.size());
  internal::BeginFrame(&out, kMagic, kVersion);
  internal::PutU32(&out, k_);
  internal::PutU64(&out, count());
  const bool empty = count() == 0;
  internal::PutF64(&out, empty ? 0.0 : moments_.min());
  internal::PutF64(&out, empty ? 0.0 : moments_.max());
  internal::PutF64(&out, empty ? 0.0 : moments_.mean());
  internal::PutF64(&out, moments_.m2());
  internal::PutU64(&out, rng_.state());
  internal::PutU8(&out, capped_ ? 1 : 0);
  internal::PutU8(&out, static_cast<uint8_t>(small_.size()));
  for (const auto& [v, n] : small_) {
    internal::PutF64(&out, v);
    internal::PutU64(&out, n);
  }
  internal::PutU8(&out, static_cast<uint8_t>(begin_.size()));
  for (size_t h = 0; h < begin_.size(); ++h) internal::PutU32(&out, static_cast<uint32_t>(LevelEnd(h) - LevelBegin(h)));
  for (size_t h = 0; h < begin_.size(); ++h) {
    for (size_t i = LevelBegin(h); i < LevelEnd(h); ++i) internal::PutF64(&out, items_[i]);
  }
  internal::EndFrame(&out);
  return out;
}

Result<QuantileSketch> QuantileSketch::Deserialize(std::string_view bytes) {
  TYTO_ASSIGN_OR_RETURN(internal::Reader r, internal::Reader::Open(bytes, kMagic, kVersion, "quantile sketch"));
  uint32_t k = 0;
  uint64_t count = 0, state = 0;
  double min = 0, max = 0, mean = 0, m2 = 0;
  if (!r.U32(&k)) return r.Truncated("k");
  if (k < kMinK || k > kMaxK) {
    return r.Error("k " + std::to_string(k) + " outside [" + std::to_string(kMinK) + ", " + std::to_string(kMaxK) +
                   "]");
  }
  if (!r.U64(&count)) return r.Truncated("count");
  if (!r.F64(&min)) return r.Truncated("min");
  if (!r.F64(&max)) return r.Truncated("max");
  if (!r.F64(&mean)) return r.Truncated("mean");
  if (!r.F64(&m2)) return r.Truncated("m2");
  if (count == 0) {
    if (std::bit_cast<uint64_t>(min) != 0 || std::bit_cast<uint64_t>(max) != 0 || std::bit_cast<uint64_t>(mean) != 0 ||
        std::bit_cast<uint64_t>(m2) != 0) {
      return r.Error("an empty sketch must store 0 for min, max, mean and m2");
    }
  } else {
    if (!std::isfinite(min) || !std::isfinite(max) || !(min <= max))
      return r.Error("min and max not finite and ordered");
    if (!std::isfinite(mean)) return r.Error("mean not finite");
    if (!std::isfinite(m2) || m2 < 0) return r.Error("m2 (sum of squared deviations) negative or not finite");
  }
  if (!r.U64(&state)) return r.Truncated("generator state");
  QuantileSketch sketch(k, state);
  sketch.moments_ = RunningMoments::FromParts(count, mean, m2, min, max);

  uint8_t flags = 0, distinct = 0;
  if (!r.U8(&flags)) return r.Truncated("flags");
  if ((flags & ~1u) != 0) return r.Error("unknown flag bits");
  sketch.capped_ = (flags & 1u) != 0;
  if (!r.U8(&distinct)) return r.Truncated("distinct count");
  if (distinct > kMaxTrackedDistinct) return r.Error("more than 16 distinct values listed");
  if (sketch.capped_ && distinct != 0) return r.Error("distinct values listed although capped");
  uint64_t distinct_total = 0;
  for (uint8_t i = 0; i < distinct; ++i) {
    double v = 0;
    uint64_t n = 0;
    if (!r.F64(&v)) return r.Truncated("distinct value");
    if (!r.U64(&n)) return r.Truncated("distinct value count");
    if (!std::isfinite(v) || v < min || v > max) return r.Error("distinct value not finite or outside [min, max]");
    if (!sketch.small_.empty() && !(sketch.small_.rbegin()->first < v)) {
      return r.Error("distinct values not strictly ascending");
    }
    if (n == 0 || n > count - distinct_total) return r.Error("distinct value counts zero or above the count");
    distinct_total += n;
    sketch.small_.emplace_hint(sketch.small_.end(), v, n);
  }
  if (!sketch.capped_ && distinct_total != count) return r.Error("distinct value counts do not add up to the count");

  uint8_t num_levels = 0;
  if (!r.U8(&num_levels)) return r.Truncated("level count");
  if (num_levels < 1 || num_levels > kMaxLevels) return r.Error("level count outside [1, 61]");
  std::vector<uint32_t> sizes(num_levels);
  uint64_t retained = 0;
  for (uint32_t& size : sizes) {
    if (!r.U32(&size)) return r.Truncated("level size");
    retained += size;
  }
  // Each retained value takes 8 bytes; checking before allocating bounds memory by the input.
  if (retained > r.remaining() / 8) return r.Error("level sizes larger than the bytes that follow");
  sketch.begin_.assign(num_levels, 0);
  sketch.UpdateCapacity();
  if (retained > sketch.capacity_) return r.Error("more values retained than the levels' capacity");
  // The top level first in memory: level h begins after the sizes of the levels above it.
  for (size_t h = num_levels - 1; h-- > 0;) sketch.begin_[h] = sketch.begin_[h + 1] + sizes[h + 1];
  sketch.items_.resize(static_cast<size_t>(retained));
  uint64_t weight = 0;
  for (size_t h = 0; h < num_levels; ++h) {
    for (size_t i = sketch.begin_[h]; i < sketch.begin_[h] + sizes[h]; ++i) {
      double v = 0;
      if (!r.F64(&v)) return r.Truncated("retained value");
      if (!std::isfinite(v) || v < min || v > max) return r.Error("retained value not finite or outside [min, max]");
      if (h > 0 && i > sketch.begin_[h] && v < sketch.items_[i - 1])
        return r.Error("level values not sorted ascending");
      sketch.items_[i] = v;
    }
    const uint64_t level_weight = static_cast<uint64_t>(sizes[h]) << h;
    if ((level_weight >> h) != sizes[h] || level_weight > count - weight) {
      return r.Error("retained values' weights exceed the count");
    }
    weight += level_weight;
  }
  if (weight != count) return r.Error("retained values' weights do not add up to the count");
  TYTO_RETURN_IF_ERROR(r.Finish());
  if (!sketch.exact()) sketch.items_.reserve(sketch.capacity_ + 1);
  return sketch;
}

}  // namespace tyto::stats
