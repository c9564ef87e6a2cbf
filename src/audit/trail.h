// The server-wide audit trail (<data-dir>/audit/audit.log): every administrative and
// security-relevant action, on a ChainLog (chain.h), queryable by GET /api/v1/audit.
//
// Failed authentications (auth.failed, auth.denied) are limited so a brute-force flood cannot
// fill the disk, nor hold request threads on fsync: per client address (without its port) and
// clock minute, the first `auth_failures_per_minute` are written one by one, and at most
// `auth_failures_per_minute_total` over all addresses; the rest are counted and written as one
// "auth.failed_summary" record per address when the minute is over (at the next record, or at
// Flush). Beyond `max_tracked_addresses` in a minute, addresses share the summary of "other".
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit/chain.h"
#include "audit/recorder.h"
#include "common/mutex.h"
#include "instrumentation/metrics.h"
#include "tyto/clock.h"
#include "tyto/env.h"
#include "tyto/status.h"

namespace tyto::audit {

// Which records a query returns. Bounds are inclusive, in Unix milliseconds.
struct Query {
  int64_t start_ms = std::numeric_limits<int64_t>::min();
  int64_t end_ms = std::numeric_limits<int64_t>::max();
  std::string action = {};  // empty: any; "silence" matches "silence.create" and "silence.expire"
  std::string principal = {};  // empty: any
  std::string tenant = {};     // empty: any
  size_t limit = 100;     // the newest `limit` matching records, oldest first
};

inline constexpr size_t kMaxQueryLimit = 10000;

struct TrailOptions {
  size_t auth_failures_per_minute = 10;         // written one by one per address and minute
  size_t auth_failures_per_minute_total = 300;  // written one by one a minute, all addresses together
  size_t max_tracked_addresses = 256;           // beyond this, further addresses share one summary ("other")
};

// Thread-safe.
class Trail : public Recorder {
 public:
  // The trail's file under `dir` (created when missing).
  static std::string PathIn(const std::string& dir) { return dir + "/audit.log"; }

  static Result<std::unique_ptr<Trail>> Open(Env* env, const std::string& dir, Clock* clock,
                                             instrumentation::Registry* registry, TrailOptions options = {});
  ~Trail() override;

  void Record(const Event& event) override EXCLUDES(mu_);
  // Writes the summaries of failed authentications counted but not yet written.
  void Flush() EXCLUDES(mu_);

  Result<std::vector<audit::Record>> Find(const Query& query) const;
  const std::string& path() const { return log_->path(); }

 private:
  Trail(Env* env, std::unique_ptr<ChainLog> log, Clock* clock, instrumentation::Registry* registry, TrailOptions options);
  void Write(const Event& event);
  void FlushBefore(int64_t minute) REQUIRES(mu_);

  struct Failures {
    size_t count = 0;    // in the minute
    size_t written = 0;  // of them, written one by one
    std::string last_principal;
    std::string last_why;
  };

  Env* env_;
  std::unique_ptr<ChainLog> log_;
  Clock* clock_;
  const TrailOptions options_;
  instrumentation::Counter* records_;
  instrumentation::Counter* errors_;
  instrumentation::Counter* suppressed_;
  Mutex mu_;
  int64_t minute_ GUARDED_BY(mu_) = 0;  // clock minute of failures_
  std::map<std::string, Failures> failures_ GUARDED_BY(mu_);  // by address without port
  size_t failures_written_ GUARDED_BY(mu_) = 0;  // one by one in the minute, all addresses
};

// Whether `record` passes `query`.
bool Matches(const audit::Record& record, const Query& query);

// The records of the trail file at `path` that pass `query` (missing file: none).
Result<std::vector<audit::Record>> FindIn(Env* env, const std::string& path, const Query& query);

}  // namespace tyto::audit
