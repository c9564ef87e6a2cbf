#include "tsdb/label_stats.h"

#include <algorithm>

namespace tyto::tsdb {
namespace {

template <typename Map>
LabelStats::Ranking Ranked(const Map& m, size_t top) {
  LabelStats::Ranking v(m.begin(), m.end());
  std::sort(v.begin(), v.end(),
            [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (v.size() > top) v.resize(top);
  return v;
}

}  // namespace

void LabelStats::Add(const Labels& labels) {
  ++series_;
  ++by_metric_[std::string(labels.MetricName())];
  for (const Label& l : labels) {
    ++by_pair_[l.name + "=" + l.value];
    values_[l.name].insert(l.value);
  }
}

LabelStats::Ranking LabelStats::SeriesByMetric(size_t top) const { return Ranked(by_metric_, top); }

LabelStats::Ranking LabelStats::SeriesByLabelPair(size_t top) const { return Ranked(by_pair_, top); }

LabelStats::Ranking LabelStats::ValuesByLabelName(size_t top) const {
  std::unordered_map<std::string, uint64_t> counts;
  for (const auto& [name, set] : values_) counts[name] = set.size();
  return Ranked(counts, top);
}

}  // namespace tyto::tsdb
