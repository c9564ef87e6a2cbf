// LabelStats: what makes a store's cardinality, as `tyto tsdb analyze` and /api/v1/status/tsdb
// show it: series per metric name, series per label pair, distinct values per label name.
//
// The caller adds each series once (the head walks its series; the analyze tool walks the
// series that a merged querier over blocks and head returns, so a series stored in many blocks
// counts once). Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tyto/labels.h"

namespace tyto::tsdb {

class LabelStats {
 public:
  // Name and count, largest count first, then by name.
  using Ranking = std::vector<std::pair<std::string, uint64_t>>;

  void Add(const Labels& labels);

  uint64_t series() const { return series_; }
  // The `top` largest entries of each ranking.
  Ranking SeriesByMetric(size_t top) const;
  Ranking SeriesByLabelPair(size_t top) const;  // "name=value"
  Ranking ValuesByLabelName(size_t top) const;

 private:
  uint64_t series_ = 0;
  std::unordered_map<std::string, uint64_t> by_metric_;
  std::unordered_map<std::string, uint64_t> by_pair_;
  std::unordered_map<std::string, std::unordered_set<std::string>> values_;
};

}  // namespace tyto::tsdb
