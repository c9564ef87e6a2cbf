#include "judge/retry.h"

#include <algorithm>
#include <cstdint>

namespace tyto::judge {

bool IsRetryableStatus(int http_status) { return http_status == 429 || (http_status >= 500 && http_status <= 599); }

std::chrono::milliseconds RetryWait(int retry, std::chrono::milliseconds backoff, std::chrono::milliseconds cap,
                                    std::optional<std::chrono::seconds> retry_after, double unit) {
  using std::chrono::milliseconds;
  if (retry_after) return std::min<milliseconds>(*retry_after, cap);
  // Doubling stops at the cap, so the product never overflows.
  milliseconds wait = std::min(backoff, cap);
  for (int i = 1; i < retry && wait < cap; ++i) wait = std::min(wait * 2, cap);
  const double factor = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return milliseconds(static_cast<int64_t>(static_cast<double>(wait.count()) * factor));
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return std::nullopt;  // a day is 5 digits; 9 cannot overflow
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

}  // namespace tyto::judge
