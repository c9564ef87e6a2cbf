// RecordingAppender: an Appender that keeps every appended sample by series (Labels::ToString),
// for tests of code that writes series (derived inference and quality series). Commit is not
// needed to read them.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tyto/storage.h"

namespace tyto::testing {

class RecordingAppender : public Appender {
 public:
  Result<SeriesRef> Append(SeriesRef, const Labels& l, int64_t t, double v) override {
    samples[l.ToString()].push_back({t, v});
    return SeriesRef{1};
  }
  Status Commit() override { return Status(); }
  void Rollback() override {}

  // The last value of the series written as `text` (Labels::ToString), or NaN.
  double Last(const std::string& text) const {
    auto it = samples.find(text);
    return it == samples.end() ? std::nan("") : it->second.back().v;
  }
  bool IsStale(const std::string& text) const {
    auto it = samples.find(text);
    return it != samples.end() && std::bit_cast<uint64_t>(it->second.back().v) == kStaleNaNBits;
  }
  std::map<std::string, std::vector<Sample>> samples;
};

}  // namespace tyto::testing
