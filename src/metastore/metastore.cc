#include "metastore/metastore.h"

#include <algorithm>
#include <bit>

namespace tyto::metastore {

void MetadataStore::Update(const std::string& family, const Metadata& m) {
  MutexLock lock(&mu_);
  auto it = families_.find(family);
  if (it == families_.end()) {
    if (families_.size() >= max_families_) {
      ++dropped_;
      return;
    }
    it = families_.emplace(family, std::set<Metadata>()).first;
  }
  if (it->second.count(m)) return;
  if (it->second.size() >= max_per_family_) {
    ++dropped_;
    return;
  }
  it->second.insert(m);
}

std::map<std::string, std::vector<Metadata>> MetadataStore::Get(const std::string& metric, size_t limit,
                                                                size_t limit_per_metric) const {
  MutexLock lock(&mu_);
  std::map<std::string, std::vector<Metadata>> out;
  for (const auto& [name, set] : families_) {
    if (!metric.empty() && name != metric) continue;
    if (limit > 0 && out.size() >= limit) break;
    auto& v = out[name];
    for (const Metadata& m : set) {
      if (limit_per_metric > 0 && v.size() >= limit_per_metric) break;
      v.push_back(m);
    }
  }
  return out;
}

uint64_t MetadataStore::dropped() const {
  MutexLock lock(&mu_);
  return dropped_;
}

bool ExemplarStore::Same(const Exemplar& a, const Exemplar& b) {
  return a.labels == b.labels && a.timestamp_ms == b.timestamp_ms &&
         std::bit_cast<uint64_t>(a.value) == std::bit_cast<uint64_t>(b.value);
}

std::unordered_multimap<uint64_t, ExemplarStore::Entry>::iterator ExemplarStore::FindLast(uint64_t hash,
                                                                                         const Labels& series) {
  auto [begin, end] = last_.equal_range(hash);
  auto it = std::find_if(begin, end, [&](const auto& kv) { return kv.second.series == series; });
  return it == end ? last_.end() : it;
}

void ExemplarStore::Add(const Labels& series, Exemplar e) {
  if (capacity_ == 0) return;
  const uint64_t hash = series.Hash();
  MutexLock lock(&mu_);
  auto last = FindLast(hash, series);
  // A scrape repeats a bucket's exemplar until a new one replaces it: keep it once.
  if (last != last_.end() && Same(last->second.exemplar, e)) return;
  if (ring_.size() >= capacity_) {
    const Entry& oldest = ring_.front();
    auto newest_of_oldest = FindLast(oldest.series.Hash(), oldest.series);
    if (newest_of_oldest != last_.end() && Same(newest_of_oldest->second.exemplar, oldest.exemplar)) {
      last_.erase(newest_of_oldest);  // its series has no exemplar left in the ring
    }
    ring_.pop_front();
    last = FindLast(hash, series);
  }
  ring_.push_back({series, e});
  if (last != last_.end()) {
    last->second.exemplar = std::move(e);
  } else {
    last_.emplace(hash, Entry{series, std::move(e)});
  }
}

std::vector<ExemplarSeries> ExemplarStore::Query(const std::vector<Matcher>& matchers, int64_t mint,
                                                 int64_t maxt) const {
  std::map<Labels, std::vector<Exemplar>, std::less<>> by_series;
  {
    MutexLock lock(&mu_);
    for (const Entry& e : ring_) {
      if (e.exemplar.timestamp_ms < mint || e.exemplar.timestamp_ms > maxt) continue;
      bool match = true;
      for (const Matcher& m : matchers) {
        if (!m.Matches(e.series.Get(m.name()))) {
          match = false;
          break;
        }
      }
      if (match) by_series[e.series].push_back(e.exemplar);
    }
  }
  std::vector<ExemplarSeries> out;
  for (auto& [series, exemplars] : by_series) out.push_back({series, std::move(exemplars)});
  return out;
}

size_t ExemplarStore::size() const {
  MutexLock lock(&mu_);
  return ring_.size();
}

}  // namespace tyto::metastore
