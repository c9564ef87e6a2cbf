// LogCapture: the log lines written while it lives (from any thread), for tests that check
// what was logged. Replaces the log sink; one at a time.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"

namespace tyto::testing {

class LogCapture {
 public:
  LogCapture() {
    log::SetSinkForTesting([this](std::string_view line) {
      MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { log::SetSinkForTesting(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Lines containing every one of `parts`.
  int Count(const std::vector<std::string>& parts) EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    return static_cast<int>(std::count_if(lines_.begin(), lines_.end(), [&](const std::string& l) {
      return std::all_of(parts.begin(), parts.end(), [&](const std::string& p) { return l.find(p) != std::string::npos; });
    }));
  }
  bool Contains(std::string_view text) { return Count({std::string(text)}) > 0; }

 private:
  Mutex mu_;
  std::vector<std::string> lines_ GUARDED_BY(mu_);
};

}  // namespace tyto::testing
