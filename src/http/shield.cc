#include "http/shield.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tyto::http {
namespace {

// A 429 naming the limit (`limit`: its configuration key) in the message and in a "limit" field.
Response TooMany(std::string_view limit, const std::string& message, std::chrono::milliseconds wait) {
  Response r = Response::Error(429, "too_many_requests", message);
  // {"status":"error",...} gains "limit":"<key>" before its closing brace.
  r.body.insert(r.body.size() - 1, ",\"limit\":\"" + std::string(limit) + "\"");
  const auto seconds = std::max<int64_t>(1, (wait.count() + 999) / 1000);
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  r.refused = "rate_limited";
  return r;
}

std::string Rate(const RateLimit& l) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g a second (burst %g)", l.per_second, l.burst < 1 ? 1.0 : l.burst);
  return buf;
}

}  // namespace

std::string AddressBucket(std::string_view address) {
  uint32_t h = 2166136261u;
  for (char c : address) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  char buf[4];
  std::snprintf(buf, sizeof(buf), "%02u", h % 16);
  return buf;
}

std::string_view AddressOf(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    const size_t close = remote.find(']');
    return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
  }
  const size_t colon = remote.rfind(':');
  if (colon != std::string_view::npos && remote.find(':') == colon) return remote.substr(0, colon);
  return remote;
}

std::string AddressKey(std::string_view address) {
  const std::string a(address);
  unsigned char b[16];
  if (inet_pton(AF_INET6, a.c_str(), b) != 1) return a;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char text[INET6_ADDRSTRLEN];
  if (std::equal(b, b + 12, kMapped)) {
    return inet_ntop(AF_INET, b + 12, text, sizeof(text)) != nullptr ? std::string(text) : a;
  }
  std::fill(b + 8, b + 16, 0);
  if (inet_ntop(AF_INET6, b, text, sizeof(text)) == nullptr) return a;
  return std::string(text) + "/64";
}

std::string_view AddressClass(std::string_view address) {
  const std::string a(address);
  unsigned char b[16];
  if (inet_pton(AF_INET, a.c_str(), b) == 1) {
    if (b[0] == 127) return "loopback";
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
        (b[0] == 169 && b[1] == 254)) {
      return "private";
    }
    return "public";
  }
  if (inet_pton(AF_INET6, a.c_str(), b) == 1) {
    static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::equal(b, b + 16, kLoopback)) return "loopback";
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(b, b + 12, kMapped)) {
      char v4[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, b + 12, v4, sizeof(v4)) != nullptr) return AddressClass(v4);
    }
    if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)) return "private";
    return "public";
  }
  return "unknown";
}

Shield::Shield(instrumentation::Registry* registry, const Clock* clock)
    : per_address_(clock),
      per_token_(clock),
      auth_failures_(clock),
      auth_failure_counts_(registry->AddCounter(
          "tyto_http_auth_failures_total",
          "Requests to guarded routes refused by the auth guard, by reason: missing_credentials, "
          "invalid_credentials, tenant_denied, bad_tenant, missing_scope.",
          {"reason"})),
      by_token_(registry->AddCounter("tyto_http_requests_by_token_total",
                                     "Requests to guarded routes by the API token's name (never its secret).",
                                     {"token"})),
      by_address_(registry->AddCounter("tyto_http_requests_by_address_total",
                                       "Requests by client address: its class (loopback, private, public) and a "
                                       "hash of the address into 16 buckets.",
                                       {"class", "bucket"})),
      unknown_paths_(registry
                         ->AddCounter("tyto_http_unknown_path_requests_total",
                                      "Requests for paths no route matches (answered 404).")
                         .WithLabels({})) {
  SetOptions(ShieldOptions{});
}

void Shield::SetOptions(const ShieldOptions& options) {
  per_address_.Set(options.per_address);
  per_token_.Set(options.per_token);
  auth_failures_.Set(options.auth_failures);
}

Response Shield::Serve(Request& req, const Handler& next) {
  const std::string_view address = AddressOf(req.remote);
  by_address_.WithLabels({std::string(AddressClass(address)), AddressBucket(address)}).Inc();
  if (auto wait = per_address_.Take(AddressKey(address))) {
    Response r = TooMany("rate_limit_per_address",
                         "too many requests from " + std::string(address) + ": at most " +
                             Rate(per_address_.limit()) + " (http.rate_limit_per_address)",
                         *wait);
    r.handler = "(rate_limited)";
    return r;
  }
  Response resp = next(req);
  if (resp.status == 404 && resp.handler == "(unmatched)") unknown_paths_.Inc();
  return resp;
}

std::optional<Response> Shield::AdmitAuthAttempt(const Request& req) const {
  const std::string_view address = AddressOf(req.remote);
  auto wait = auth_failures_.Check(AddressKey(address));
  if (!wait) return std::nullopt;
  return TooMany("auth_failures_per_address",
                 "too many failed authentications from " + std::string(address) + ": at most " +
                     Rate(auth_failures_.limit()) + " (http.auth_failures_per_address)",
                 *wait);
}

void Shield::AuthFailed(const Request& req, std::string_view reason) {
  auth_failure_counts_.WithLabels({std::string(reason)}).Inc();
  // Only a wrong secret is guessing; a request without credentials, or a valid token refused a
  // tenant or a scope, reveals nothing and does not spend the address's allowance. An allowance
  // spent already stays spent (Take refuses then and takes nothing).
  if (reason == kInvalidCredentials) (void)auth_failures_.Take(AddressKey(AddressOf(req.remote)));
}

std::optional<Response> Shield::AdmitToken(std::string_view token) {
  by_token_.WithLabels({TokenLabel(token)}).Inc();
  auto wait = per_token_.Take(token);
  if (!wait) return std::nullopt;
  return TooMany("rate_limit_per_token",
                 "too many requests by token '" + std::string(token) + "': at most " + Rate(per_token_.limit()) +
                     " (http.rate_limit_per_token)",
                 *wait);
}

std::string Shield::TokenLabel(std::string_view token) {
  MutexLock lock(&mu_);
  std::string name(token);
  if (token_labels_.count(name) > 0) return name;
  if (token_labels_.size() >= kMaxTokenLabels) return "(other)";
  token_labels_.insert(name);
  return name;
}

}  // namespace tyto::http
