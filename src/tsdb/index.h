// Index: the head's inverted index, label name -> value -> series refs (postings), so a
// selector finds its series without scanning them all. Refs are handed out in increasing order,
// so each postings list stays sorted by appending.
//
// Thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "tyto/labels.h"
#include "tyto/matcher.h"
#include "tyto/storage.h"

namespace tyto::tsdb {

class Index {
 public:
  // Precondition: ref is larger than every ref added before.
  void Add(SeriesRef ref, const Labels& labels) EXCLUDES(mu_);

  // Removes series (refs with their labels, as added), and label names and values no series
  // has any more.
  void Remove(const std::vector<std::pair<SeriesRef, Labels>>& series) EXCLUDES(mu_);

  // Sorted refs of series matching every matcher. Matchers that match "" also select series
  // without the label. With no matcher that excludes "", starts from every series.
  std::vector<SeriesRef> Select(const std::vector<Matcher>& matchers) const EXCLUDES(mu_);

  std::vector<std::string> LabelNames() const EXCLUDES(mu_);
  std::vector<std::string> LabelValues(const std::string& name) const EXCLUDES(mu_);

 private:
  using Values = std::map<std::string, std::vector<SeriesRef>, std::less<>>;
  // Union of the postings of `values` entries accepted by m.
  std::vector<SeriesRef> Matching(const Values& values, const Matcher& m, bool want) const REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, Values, std::less<>> postings_ GUARDED_BY(mu_);
  std::vector<SeriesRef> all_ GUARDED_BY(mu_);
};

}  // namespace tyto::tsdb
