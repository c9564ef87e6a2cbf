// Shield: the gate in front of every route, against abuse, and the attack signals it measures.
//
// Limits (token buckets, http::RateLimiter; each answered 429 with Retry-After and a JSON error
// naming the limit, and counted as tyto_http_requests_refused_total{reason="rate_limited"}):
//   per_address     requests a second from one client IP address, before any handler runs
//   per_token       requests a second by one API token, once the guard knows the token
//   auth_failures   wrong credentials (invalid_credentials) from one address (per second, with
//                   a burst); once spent, that address's further attempts on guarded routes are
//                   refused before their credentials are checked, so guessing secrets is slowed
//                   to this rate. Missing credentials and denied tenants or scopes are counted
//                   (below) but spend nothing: they reveal no secret
// Signals (metrics, bounded cardinality; see docs/security.md for the stock rules on them):
//   tyto_http_auth_failures_total{reason}           missing_credentials, invalid_credentials,
//                                                   tenant_denied, bad_tenant, missing_scope
//   tyto_http_requests_by_token_total{token}        the token's name, never its secret; at most
//                                                   kMaxTokenLabels names, then "(other)"
//   tyto_http_requests_by_address_total{class,bucket}  class: loopback, private, public; bucket:
//                                                   a hash of the address into 16 ("00".."15"),
//                                                   so one noisy address shows as one hot bucket
//                                                   while the series stay at 48 at most
//   tyto_http_unknown_path_requests_total           404s for paths no route matches (scanners)
//
// The auth guard (auth::Guard) calls AdmitAuthAttempt, AuthFailed and AdmitToken; Serve wraps
// the router. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/mutex.h"
#include "http/rate_limit.h"
#include "http/router.h"
#include "instrumentation/metrics.h"
#include "tyto/clock.h"

namespace tyto::http {

struct ShieldOptions {
  RateLimit per_address{1000, 2000};
  RateLimit per_token{0, 0};  // off unless configured
  RateLimit auth_failures{0.5, 10};
};

// The IP address of a Request::remote ("10.0.0.1:5000", "[::1]:5000" -> "10.0.0.1", "::1").
std::string_view AddressOf(std::string_view remote);
// What the per-address limits count by: an IPv4 address itself (an IPv4-mapped IPv6 one as its
// IPv4 form), an IPv6 address by its /64 ("2001:db8:1:2::/64"): one host usually holds a whole
// /64 and could otherwise take a fresh allowance with each of its addresses.
std::string AddressKey(std::string_view address);
// "loopback", "private" (RFC 1918, RFC 4193, link-local) or "public"; "unknown" when unparsable.
std::string_view AddressClass(std::string_view address);
// A hash of the address into 16 buckets, "00".."15" (FNV-1a): a label that shows one noisy
// address as one hot bucket while keeping the series few.
std::string AddressBucket(std::string_view address);

class Shield {
 public:
  static constexpr size_t kMaxTokenLabels = 1000;
  // The AuthFailed reason that spends the address's allowance.
  static constexpr std::string_view kInvalidCredentials = "invalid_credentials";

  // Metrics are registered on `registry`; both must outlive the shield.
  Shield(instrumentation::Registry* registry, const Clock* clock);

  void SetOptions(const ShieldOptions& options);

  // Counts the request by address, refuses it when its address is over its limit, else runs
  // `next` (the router); counts a 404 from no route as an unknown path.
  Response Serve(Request& req, const Handler& next);

  // Before a guarded route checks credentials: a 429 when the request's address has spent its
  // failed-authentication allowance.
  std::optional<Response> AdmitAuthAttempt(const Request& req) const;
  // A failed authentication or authorisation on a guarded route, by reason (see above); only
  // kInvalidCredentials spends the allowance.
  void AuthFailed(const Request& req, std::string_view reason);
  // Once the guard knows the token: counts the request by token and applies its limit.
  std::optional<Response> AdmitToken(std::string_view token);

 private:
  std::string TokenLabel(std::string_view token) EXCLUDES(mu_);

  RateLimiter per_address_;
  RateLimiter per_token_;
  RateLimiter auth_failures_;
  instrumentation::Family<instrumentation::Counter>& auth_failure_counts_;
  instrumentation::Family<instrumentation::Counter>& by_token_;
  instrumentation::Family<instrumentation::Counter>& by_address_;
  instrumentation::Counter& unknown_paths_;
  Mutex mu_;
  std::unordered_set<std::string> token_labels_ GUARDED_BY(mu_);
};

}  // namespace tyto::http
