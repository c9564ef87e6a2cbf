// HTTP access logs among the logs users send in (OTLP logs, /api/v1/logs): recognising them,
// and counting the same attack signals Tyto counts for its own requests (http/shield.h) as
// tyto_access_log_* metrics, so the stock security rules (rules/security.yml) watch the user's
// services too: failed authentications (brute force), 404s (scanning), refused payloads.
//
// A record is an access log when it has
//   - OpenTelemetry's HTTP semantic attributes: http.response.status_code (or the older
//     http.status_code), with client.address (or net.peer.ip / net.sock.peer.addr) and
//     http.route / url.path / http.target / http.request.method optional; or
//   - a body in the Common or Combined Log Format (Apache, nginx):
//       127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 ...
// Anything else is not counted. The parsing reads untrusted text: it is fuzzed
// (access_log_fuzz.cc) and never allocates more than the fields it returns.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"
#include "events/model.h"
#include "instrumentation/metrics.h"

namespace tyto::events {

struct AccessLogEntry {
  int status = 0;        // the HTTP response status, 100 to 599
  std::string method;    // "GET"; empty when not known
  std::string path;      // the route or path; empty when not known
  std::string client;    // the client's IP address; empty when not known
};

// The access-log fields of `r`, from its attributes or its body; nullopt when it is not one.
std::optional<AccessLogEntry> ParseAccessLog(const LogRecord& r);

// One line of the Common (or Combined) Log Format; nullopt when `line` is not one.
std::optional<AccessLogEntry> ParseCommonLogFormat(std::string_view line);

// Counts access logs' signals. Metrics (label values bounded):
//   tyto_access_log_requests_total{service,code}        code: "2xx".."5xx"
//   tyto_access_log_auth_failures_total{service}        401 and 403 answers
//   tyto_access_log_unknown_path_total{service}         404 answers
//   tyto_access_log_refused_total{service,reason}       413 body_too_large, 429 rate_limited
//   tyto_access_log_requests_by_address_total{class,bucket}  as tyto_http_requests_by_address_total
// service: the record's service; at most kMaxServices names, then "(other)". Thread-safe.
class AccessLogSignals {
 public:
  static constexpr size_t kMaxServices = 200;

  explicit AccessLogSignals(instrumentation::Registry* registry);

  // Counts the access logs among `logs`; returns how many there were.
  size_t Observe(const std::vector<LogRecord>& logs);

 private:
  std::string ServiceLabel(const std::string& service) EXCLUDES(mu_);

  instrumentation::Family<instrumentation::Counter>& requests_;
  instrumentation::Family<instrumentation::Counter>& auth_failures_;
  instrumentation::Family<instrumentation::Counter>& unknown_paths_;
  instrumentation::Family<instrumentation::Counter>& refused_;
  instrumentation::Family<instrumentation::Counter>& by_address_;
  Mutex mu_;
  std::unordered_set<std::string> services_ GUARDED_BY(mu_);
};

}  // namespace tyto::events
