// When the judge tries a request again, and how long it waits first.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace tyto::judge {

// Whether a response status is worth another attempt: 429 (rate limited) and 5xx (the server's
// trouble, often passing). Other statuses would get the same answer again.
bool IsRetryableStatus(int http_status);

// The wait before retry number `retry` (1 for the first): backoff * 2^(retry - 1), at most
// `cap`, times a jitter factor from 0.5 to 1 that `unit` (in [0, 1)) picks, so that callers
// who failed together do not retry together. A server's Retry-After, when given, is used as is
// instead, also at most `cap`.
std::chrono::milliseconds RetryWait(int retry, std::chrono::milliseconds backoff, std::chrono::milliseconds cap,
                                    std::optional<std::chrono::seconds> retry_after, double unit);

// A Retry-After header's delay-seconds form ("120"); nullopt for the HTTP-date form or anything
// else (then the backoff applies).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

}  // namespace tyto::judge
