// RateLimiter: a token bucket per key (a client address, a token's name), for the request rate
// limits of http::Shield.
//
// A bucket holds at most `burst` tokens and refills at `per_second`; a request takes one (a
// failed authentication may take more). A key unseen for long starts full. Memory is bounded:
// at most `max_keys` buckets; when full, buckets that have refilled (idle keys, which behave
// exactly as absent ones) are dropped, and if none has, new keys share one overflow bucket,
// so a flood of distinct addresses is limited together rather than growing the map.
//
// Thread-safe. Time comes from the injected Clock's monotonic time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "tyto/clock.h"

namespace tyto::http {

struct RateLimit {
  double per_second = 0;  // 0: no limit
  double burst = 0;       // bucket size; below 1 counts as 1
  bool enabled() const { return per_second > 0; }
};

class RateLimiter {
 public:
  explicit RateLimiter(const Clock* clock, size_t max_keys = 65536) : clock_(clock), max_keys_(max_keys) {}

  // Replaces the limit; buckets keep their level (capped at the new burst).
  void Set(RateLimit limit) EXCLUDES(mu_);
  RateLimit limit() const EXCLUDES(mu_);

  // Takes `cost` tokens from `key`'s bucket. nullopt: allowed. Otherwise refused (nothing
  // taken), with how long until the bucket holds `cost` again (for Retry-After).
  std::optional<std::chrono::milliseconds> Take(std::string_view key, double cost = 1) EXCLUDES(mu_);

  // Like Take, without taking: whether `key` could pay `cost` now.
  std::optional<std::chrono::milliseconds> Check(std::string_view key, double cost = 1) const EXCLUDES(mu_);

  size_t keys() const EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;  // when `tokens` was computed
  };
  double Burst() const REQUIRES(mu_) { return limit_.burst < 1 ? 1 : limit_.burst; }
  // The bucket's level now, refilled since `at`.
  double Level(const Bucket& b, std::chrono::steady_clock::time_point now) const REQUIRES(mu_);
  std::chrono::milliseconds Wait(double level, double cost) const REQUIRES(mu_);
  // Drops buckets that have refilled; returns whether any was dropped.
  bool DropFull(std::chrono::steady_clock::time_point now) REQUIRES(mu_);

  const Clock* clock_;
  const size_t max_keys_;
  mutable Mutex mu_;
  RateLimit limit_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
  Bucket overflow_ GUARDED_BY(mu_);
  bool overflow_used_ GUARDED_BY(mu_) = false;
};

}  // namespace tyto::http
