// FakeAuditRecorder: an audit::Recorder that keeps what it is given, for tests of code that
// records actions.
#pragma once

#include <string>
#include <vector>

#include "audit/recorder.h"
#include "common/mutex.h"

namespace tyto::testing {

class FakeAuditRecorder final : public audit::Recorder {
 public:
  void Record(const audit::Event& event) override EXCLUDES(mu_) {
    MutexLock l(&mu_);
    events_.push_back(event);
  }

  std::vector<audit::Event> events() const EXCLUDES(mu_) {
    MutexLock l(&mu_);
    return events_;
  }

 private:
  mutable Mutex mu_;
  std::vector<audit::Event> events_ GUARDED_BY(mu_);
};

}  // namespace tyto::testing
