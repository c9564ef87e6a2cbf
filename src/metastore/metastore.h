// What Tyto keeps about series besides their samples, in memory and bounded:
//   MetadataStore   each metric family's TYPE, HELP and UNIT as targets expose them
//                   (/api/v1/metadata)
//   ExemplarStore   the latest exemplars (e.g. a trace id on a latency bucket), in a ring of
//                   fixed capacity, oldest dropped first (/api/v1/query_exemplars)
// Both are filled by scrapes (and later by receivers) and read by the API. Neither is written to
// disk: like Prometheus's default, they start empty after a restart.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "tyto/labels.h"
#include "tyto/matcher.h"

namespace tyto::metastore {

struct Metadata {
  std::string type;  // "counter", "gauge", "histogram", "summary", "unknown", ...
  std::string help;
  std::string unit;
  friend auto operator<=>(const Metadata&, const Metadata&) = default;
};

class MetadataStore {
 public:
  // At most `max_families` families and `max_per_family` distinct descriptions of each are
  // kept; more are ignored (and counted in dropped()).
  explicit MetadataStore(size_t max_families = 100000, size_t max_per_family = 16)
      : max_families_(max_families), max_per_family_(max_per_family) {}

  void Update(const std::string& family, const Metadata& m) EXCLUDES(mu_);
  // Families (all, or only `metric` when not empty) with their distinct descriptions, sorted;
  // `limit` families and `limit_per_metric` descriptions each at most (0: no limit).
  std::map<std::string, std::vector<Metadata>> Get(const std::string& metric, size_t limit,
                                                   size_t limit_per_metric) const EXCLUDES(mu_);
  uint64_t dropped() const EXCLUDES(mu_);

 private:
  const size_t max_families_;
  const size_t max_per_family_;
  mutable Mutex mu_;
  std::map<std::string, std::set<Metadata>> families_ GUARDED_BY(mu_);
  uint64_t dropped_ GUARDED_BY(mu_) = 0;
};

struct Exemplar {
  Labels labels;  // e.g. {trace_id="..."}
  double value = 0;
  int64_t timestamp_ms = 0;
};

struct ExemplarSeries {
  Labels series;
  std::vector<Exemplar> exemplars;  // oldest first
};

class ExemplarStore {
 public:
  // Prometheus's default capacity (storage.exemplars.max_exemplars) is 100,000.
  explicit ExemplarStore(size_t capacity = 100000) : capacity_(capacity) {}

  // Adds an exemplar of `series`; the same exemplar (labels, value, time) as the series' last
  // one is ignored, as a scrape repeats it until the bucket changes. Drops the oldest exemplar
  // of all when full.
  void Add(const Labels& series, Exemplar e) EXCLUDES(mu_);
  // Exemplars of series matching every matcher, with timestamps in [mint, maxt], by series.
  std::vector<ExemplarSeries> Query(const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) const
      EXCLUDES(mu_);
  size_t size() const EXCLUDES(mu_);

 private:
  struct Entry {
    Labels series;
    Exemplar exemplar;
  };
  static bool Same(const Exemplar& a, const Exemplar& b);
  // The newest exemplar of `series` in the ring, or last_.end().
  std::unordered_multimap<uint64_t, Entry>::iterator FindLast(uint64_t hash, const Labels& series) REQUIRES(mu_);

  const size_t capacity_;
  mutable Mutex mu_;
  std::deque<Entry> ring_ GUARDED_BY(mu_);  // oldest at the front
  // Each series' newest exemplar in the ring, by series hash.
  std::unordered_multimap<uint64_t, Entry> last_ GUARDED_BY(mu_);
};

}  // namespace tyto::metastore
