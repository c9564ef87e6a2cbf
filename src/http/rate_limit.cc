#include "http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace tyto::http {

void RateLimiter::Set(RateLimit limit) {
  MutexLock lock(&mu_);
  limit_ = limit;
}

RateLimit RateLimiter::limit() const {
  MutexLock lock(&mu_);
  return limit_;
}

double RateLimiter::Level(const Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - b.at).count();
  return std::min(Burst(), b.tokens + std::max(0.0, elapsed) * limit_.per_second);
}

std::chrono::milliseconds RateLimiter::Wait(double level, double cost) const {
  const double need = std::min(cost, Burst()) - level;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(std::max(0.0, need) / limit_.per_second * 1000)));
}

bool RateLimiter::DropFull(std::chrono::steady_clock::time_point now) {
  const size_t before = buckets_.size();
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = Level(it->second, now) >= Burst() ? buckets_.erase(it) : std::next(it);
  }
  return buckets_.size() < before;
}

std::optional<std::chrono::milliseconds> RateLimiter::Take(std::string_view key, double cost) {
  MutexLock lock(&mu_);
  if (!limit_.enabled()) return std::nullopt;
  const auto now = clock_->MonotonicNow();
  auto it = buckets_.find(std::string(key));
  Bucket* b = nullptr;
  if (it != buckets_.end()) {
    b = &it->second;
  } else if (buckets_.size() < max_keys_ || DropFull(now)) {
    b = &buckets_.emplace(std::string(key), Bucket{Burst(), now}).first->second;
  } else {
    if (!overflow_used_) overflow_ = Bucket{Burst(), now};
    overflow_used_ = true;
    b = &overflow_;
  }
  const double level = Level(*b, now);
  // A cost above the burst could never be paid; it takes the whole bucket instead.
  const double take = std::min(cost, Burst());
  if (level < take) return Wait(level, cost);
  b->tokens = level - take;
  b->at = now;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> RateLimiter::Check(std::string_view key, double cost) const {
  MutexLock lock(&mu_);
  if (!limit_.enabled()) return std::nullopt;
  auto it = buckets_.find(std::string(key));
  const Bucket* b = nullptr;
  if (it != buckets_.end()) {
    b = &it->second;
  } else if (overflow_used_ && buckets_.size() >= max_keys_) {
    b = &overflow_;  // a key Take would put in the shared overflow bucket is checked against it
  } else {
    return std::nullopt;
  }
  const double level = Level(*b, clock_->MonotonicNow());
  if (level < std::min(cost, Burst())) return Wait(level, cost);
  return std::nullopt;
}

size_t RateLimiter::keys() const {
  MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace tyto::http
