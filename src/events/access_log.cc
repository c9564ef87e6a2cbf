#include "events/access_log.h"

#include <charconv>

#include "http/shield.h"

namespace tyto::events {
namespace {

std::optional<int> Status(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 100 || v > 599) return std::nullopt;
  return v;
}

const std::string* First(const std::vector<Attribute>& attrs, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (const std::string* v = FindAttribute(attrs, k)) return v;
  }
  return nullptr;
}

// Cuts the next space-separated token from *s.
std::string_view Token(std::string_view* s) {
  const size_t start = s->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *s = {};
    return {};
  }
  s->remove_prefix(start);
  const size_t end = s->find(' ');
  std::string_view t = s->substr(0, end);
  s->remove_prefix(end == std::string_view::npos ? s->size() : end);
  return t;
}

}  // namespace

std::optional<AccessLogEntry> ParseCommonLogFormat(std::string_view line) {
  // host ident authuser [date] "request" status bytes ...
  std::string_view s = line;
  AccessLogEntry e;
  const std::string_view host = Token(&s);
  if (host.empty() || host.size() > 64) return std::nullopt;
  if (Token(&s).empty() || Token(&s).empty()) return std::nullopt;  // ident, authuser
  const size_t open = s.find_first_not_of(' ');
  if (open == std::string_view::npos || s[open] != '[') return std::nullopt;
  const size_t close = s.find(']', open);
  if (close == std::string_view::npos || close - open > 64) return std::nullopt;
  s.remove_prefix(close + 1);
  const size_t q1 = s.find_first_not_of(' ');
  if (q1 == std::string_view::npos || s[q1] != '"') return std::nullopt;
  // The request ends at the next quote not escaped with a backslash.
  size_t q2 = q1 + 1;
  while (q2 < s.size() && s[q2] != '"') q2 += s[q2] == '\\' ? 2 : 1;
  if (q2 >= s.size()) return std::nullopt;
  std::string_view request = s.substr(q1 + 1, q2 - q1 - 1);
  s.remove_prefix(q2 + 1);
  const std::optional<int> status = Status(Token(&s));
  if (!status) return std::nullopt;
  const std::string_view bytes = Token(&s);
  if (bytes.empty()) return std::nullopt;
  e.status = *status;
  e.client = std::string(host);
  const std::string_view method = Token(&request);
  const std::string_view target = Token(&request);
  if (method.size() <= 16) e.method = std::string(method);
  e.path = std::string(target.substr(0, target.find('?')));
  return e;
}

std::optional<AccessLogEntry> ParseAccessLog(const LogRecord& r) {
  if (const std::string* code = First(r.attributes, {"http.response.status_code", "http.status_code"})) {
    const std::optional<int> status = Status(*code);
    if (!status) return std::nullopt;
    AccessLogEntry e;
    e.status = *status;
    if (const std::string* v = First(r.attributes, {"http.request.method", "http.method"})) e.method = *v;
    if (const std::string* v = First(r.attributes, {"http.route", "url.path", "http.target"})) {
      e.path = v->substr(0, v->find('?'));
    }
    if (const std::string* v = First(r.attributes, {"client.address", "net.peer.ip", "net.sock.peer.addr"})) {
      e.client = *v;
    }
    return e;
  }
  return ParseCommonLogFormat(r.body);
}

AccessLogSignals::AccessLogSignals(instrumentation::Registry* registry)
    : requests_(registry->AddCounter("tyto_access_log_requests_total",
                                     "HTTP access logs sent in (OTLP logs, /api/v1/logs), by service and status class.",
                                     {"service", "code"})),
      auth_failures_(registry->AddCounter("tyto_access_log_auth_failures_total",
                                          "Access logs of requests answered 401 or 403, by service.", {"service"})),
      unknown_paths_(registry->AddCounter("tyto_access_log_unknown_path_total",
                                          "Access logs of requests answered 404, by service.", {"service"})),
      refused_(registry->AddCounter("tyto_access_log_refused_total",
                                    "Access logs of requests refused for size (413, body_too_large) or rate (429, "
                                    "rate_limited), by service and reason.",
                                    {"service", "reason"})),
      by_address_(registry->AddCounter("tyto_access_log_requests_by_address_total",
                                       "Access logs by client address: its class (loopback, private, public, "
                                       "unknown) and a hash of the address into 16 buckets.",
                                       {"class", "bucket"})) {}

size_t AccessLogSignals::Observe(const std::vector<LogRecord>& logs) {
  size_t n = 0;
  for (const LogRecord& r : logs) {
    const std::optional<AccessLogEntry> e = ParseAccessLog(r);
    if (!e) continue;
    ++n;
    const std::string service = ServiceLabel(r.service);
    const std::string code = std::string(1, static_cast<char>('0' + e->status / 100)) + "xx";
    requests_.WithLabels({service, code}).Inc();
    if (e->status == 401 || e->status == 403) auth_failures_.WithLabels({service}).Inc();
    if (e->status == 404) unknown_paths_.WithLabels({service}).Inc();
    if (e->status == 413) refused_.WithLabels({service, "body_too_large"}).Inc();
    if (e->status == 429) refused_.WithLabels({service, "rate_limited"}).Inc();
    if (!e->client.empty()) {
      const std::string_view address = http::AddressOf(e->client);
      by_address_.WithLabels({std::string(http::AddressClass(address)), http::AddressBucket(address)}).Inc();
    }
  }
  return n;
}

std::string AccessLogSignals::ServiceLabel(const std::string& service) {
  MutexLock lock(&mu_);
  if (services_.count(service) > 0) return service;
  if (services_.size() >= kMaxServices) return "(other)";
  services_.insert(service);
  return service;
}

}  // namespace tyto::events
