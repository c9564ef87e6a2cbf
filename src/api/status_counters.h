// Counts an endpoint's answers by HTTP status code, on a counter family with one label, "code".
// The codes an endpoint gives are known in advance: their counters are resolved once (a
// family's WithLabels takes a lock), and any other code counts as `other`.
#pragma once

#include <array>
#include <string>
#include <utility>

#include "instrumentation/metrics.h"

namespace tyto::api {

template <size_t N>
class StatusCounters {
 public:
  StatusCounters(instrumentation::Family<instrumentation::Counter>& family, const std::array<int, N>& codes,
                 int other)
      : other_(&family.WithLabels({std::to_string(other)})) {
    for (size_t i = 0; i < N; ++i) counters_[i] = {codes[i], &family.WithLabels({std::to_string(codes[i])})};
  }

  void Count(int status) const {
    for (const auto& [code, counter] : counters_) {
      if (code == status) return counter->Inc();
    }
    other_->Inc();
  }

 private:
  std::array<std::pair<int, instrumentation::Counter*>, N> counters_{};
  instrumentation::Counter* other_;
};

}  // namespace tyto::api
