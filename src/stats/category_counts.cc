#include "stats/category_counts.h"

#include <algorithm>
#include <limits>

#include "stats/byte_format.h"

namespace tyto::stats {

namespace {
constexpr std::string_view kMagic = "TYCC";
constexpr uint8_t kVersion = 1;
// Counts saturate rather than wrap: 2^64 events are beyond any stream, but Merge of adversarial
// deserialized counts must not wrap to small numbers.
uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}
}  // namespace

void CategoryCounts::Add(std::string_view category, uint64_t n) {
  if (n == 0) return;
  total_ = SaturatingAdd(total_, n);
  auto it = counts_.find(category);
  if (it != counts_.end()) {
    it->second = SaturatingAdd(it->second, n);
    return;
  }
  if (category == kOther) {
    counts_.emplace(std::string(kOther), n);
    return;
  }
  if (named_ < max_categories_) {
    counts_.emplace(std::string(category), n);
    ++named_;
    return;
  }
  auto other = counts_.try_emplace(std::string(kOther), 0).first;
  other->second = SaturatingAdd(other->second, n);
}

void CategoryCounts::Merge(const CategoryCounts& other) {
  if (&other == this) {
    const CategoryCounts copy = other;
    Merge(copy);
    return;
  }
  for (const auto& [name, n] : other.counts_) Add(name, n);
}

uint64_t CategoryCounts::count(std::string_view category) const {
  auto it = counts_.find(category);
  return it == counts_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, uint64_t>> CategoryCounts::Top(size_t limit) const {
  std::vector<std::pair<std::string, uint64_t>> all(counts_.begin(), counts_.end());
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (all.size() > limit) all.resize(limit);
  return all;
}

size_t CategoryCounts::MemoryBytes() const {
  // A red-black tree node: three pointers and a colour, then the std::string and the count; a
  // name longer than the string's inline buffer (15 bytes in libstdc++) has a heap buffer too.
  constexpr size_t kNodeBytes = 4 * sizeof(void*) + sizeof(std::string) + sizeof(uint64_t);
  size_t bytes = sizeof(*this) + counts_.size() * kNodeBytes;
  for (const auto& [name, n] : counts_) {
    if (name.capacity() > 15) bytes += name.capacity() + 1;
  }
  return bytes;
}

// Layout, after the magic and version: u64 max_categories, u32 entries, then per entry (names
// strictly ascending) u32 name length, the name's bytes, u64 count (> 0).
std::string CategoryCounts::Serialize() const {
  std::string out;
  internal::BeginFrame(&out, kMagic, kVersion);
  internal::PutU64(&out, max_categories_);
  internal::PutU32(&out, static_cast<uint32_t>(counts_.size()));
  for (const auto& [name, n] : counts_) {
    internal::PutU32(&out, static_cast<uint32_t>(name.size()));
    out.append(name);
    internal::PutU64(&out, n);
  }
  internal::EndFrame(&out);
  return out;
}

Result<CategoryCounts> CategoryCounts::Deserialize(std::string_view bytes) {
  TYTO_ASSIGN_OR_RETURN(internal::Reader r, internal::Reader::Open(bytes, kMagic, kVersion, "category counts"));
  uint64_t max_categories = 0;
  uint32_t entries = 0;
  if (!r.U64(&max_categories)) return r.Truncated("max_categories");
  if (max_categories > std::numeric_limits<size_t>::max()) return r.Error("max_categories too large");
  if (!r.U32(&entries)) return r.Truncated("entry count");
  // An entry takes at least 12 bytes (length and count).
  if (entries > r.remaining() / 12) return r.Error("entry count larger than the bytes that follow");
  CategoryCounts counts(static_cast<size_t>(max_categories));
  for (uint32_t i = 0; i < entries; ++i) {
    uint32_t length = 0;
    std::string_view name;
    uint64_t n = 0;
    if (!r.U32(&length)) return r.Truncated("name length");
    if (!r.Bytes(length, &name)) return r.Truncated("name");
    if (!r.U64(&n)) return r.Truncated("count");
    if (n == 0) return r.Error("category with a zero count");
    if (!counts.counts_.empty() && !(counts.counts_.rbegin()->first < name)) {
      return r.Error("category names not strictly ascending");
    }
    if (name != kOther) {
      if (counts.named_ == counts.max_categories_) return r.Error("more named categories than max_categories");
      ++counts.named_;
    }
    if (n > std::numeric_limits<uint64_t>::max() - counts.total_) return r.Error("counts overflow 64 bits");
    counts.total_ += n;
    counts.counts_.emplace_hint(counts.counts_.end(), std::string(name), n);
  }
  TYTO_RETURN_IF_ERROR(r.Finish());
  return counts;
}

}  // namespace tyto::stats
