// CategoryCounts: how often each category of a text column occurred (a predicted label, a
// language, a tool name), bounded in memory, mergeable and serializable; the categorical side of
// drift.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::stats {

// Counts per category in a sorted map (names in byte order, so iteration, Serialize and the
// drift tests see one order everywhere). At most `max_categories` named categories are kept;
// once that many exist, a new name counts under kOther ("__other__"), which is one more entry
// of counts() and counts as a category of its own in the drift tests. A category literally named
// "__other__" is the same entry. Merge adds the other's counts category by category under the
// same rule, so a merge of capped counts depends on the order of merging (only in what lands in
// kOther). Not synchronised: one writer, or a lock outside.
class CategoryCounts {
 public:
  static constexpr std::string_view kOther = "__other__";
  static constexpr size_t kDefaultMaxCategories = 1000;

  explicit CategoryCounts(size_t max_categories = kDefaultMaxCategories) : max_categories_(max_categories) {}

  // n == 0 adds nothing (and creates no category).
  void Add(std::string_view category, uint64_t n = 1);
  void Merge(const CategoryCounts& other);

  uint64_t total() const { return total_; }
  size_t max_categories() const { return max_categories_; }
  // Every category with a count > 0, kOther included when it has one.
  const std::map<std::string, uint64_t, std::less<>>& counts() const { return counts_; }
  // 0 for a category never seen.
  uint64_t count(std::string_view category) const;
  // Categories by count, largest first (ties by name), at most `limit` of them.
  std::vector<std::pair<std::string, uint64_t>> Top(size_t limit) const;

  // Heap and inline bytes held (map nodes and string buffers estimated).
  size_t MemoryBytes() const;

  // Layout: docs/format/stats-sketches.md ("TYCC", version 1). Deserialize checks every field
  // and answers InvalidArgument naming the first that fails.
  std::string Serialize() const;
  static Result<CategoryCounts> Deserialize(std::string_view bytes);

 private:
  size_t max_categories_;
  size_t named_ = 0;  // entries other than kOther
  uint64_t total_ = 0;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

}  // namespace tyto::stats
