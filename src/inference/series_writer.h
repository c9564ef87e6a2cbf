// SeriesWriter: writes a generation of derived series into the metrics engine the way a scrape
// does. Each Flush the producer writes every series it has now; a series written in the last
// generation but not in this one gets a staleness marker, as a target's vanished series do, so
// queries stop showing it at once. Refs are remembered so that later generations skip the lookup.
//
// Not thread-safe: one flusher.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::inference {

// A bucket's upper bound as the `le` label writes it: the shortest decimal, "+Inf".
std::string FormatLe(double bound);

class SeriesWriter {
 public:
  // Starts a generation at `t_ms`, appending to `app`.
  void Begin(Appender* app, int64_t t_ms);
  // Writes one sample; the first error is kept for End.
  void Write(const Labels& labels, double value);
  // Marks the series of the last generation not written in this one stale, and returns the first
  // error of the generation (the caller commits or rolls back `app`).
  Status End();
  size_t series() const { return refs_.size(); }

 private:
  struct Entry {
    SeriesRef ref = 0;
    uint64_t generation = 0;
  };
  Appender* app_ = nullptr;
  int64_t t_ms_ = 0;
  uint64_t generation_ = 0;
  Status first_error_;
  std::unordered_map<Labels, Entry, LabelsHash> refs_;
};

// Fixed-boundary histogram state: counts per bucket (not cumulative), sum and count.
struct HistogramState {
  std::vector<uint64_t> counts;  // one per bound, plus +Inf
  double sum = 0;
  uint64_t count = 0;

  // The bucket index of `v` (the first bound >= v; bounds.size() for +Inf).
  static size_t Bucket(const std::vector<double>& bounds, double v);
  void Observe(const std::vector<double>& bounds, double v);
  // Writes name_bucket{le} (cumulative), name_sum and name_count with `base` labels.
  void Write(SeriesWriter& w, std::string_view name, const std::vector<double>& bounds, const Labels& base) const;
};

}  // namespace tyto::inference
