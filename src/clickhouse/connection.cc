#include "clickhouse/connection.h"

#include <charconv>
#include <future>

#include "http/client.h"
#include "http/url.h"

namespace tyto::clickhouse {

namespace {

// Answers of queries are bounded by their LIMITs; this caps a damaged or hostile one.
constexpr uint64_t kMaxReplyBytes = 512ull << 20;

// The first line of an error answer, at most 300 bytes (enough for ClickHouse's message).
std::string Excerpt(std::string_view body) {
  const size_t nl = body.find('\n');
  std::string_view s = body.substr(0, std::min<size_t>(nl == std::string_view::npos ? body.size() : nl, 300));
  return std::string(s);
}

}  // namespace

int ExceptionCode(std::string_view body) {
  const size_t at = body.find("Code: ");
  if (at == std::string_view::npos || at > 64) return 0;
  int code = 0;
  const char* begin = body.data() + at + 6;
  auto [ptr, ec] = std::from_chars(begin, body.data() + body.size(), code);
  return ec == std::errc() && ptr != begin ? code : 0;
}

bool IsTransient(int code) {
  switch (code) {
    case 159:  // TIMEOUT_EXCEEDED
    case 164:  // READONLY (a replica without ZooKeeper)
    case 202:  // TOO_MANY_SIMULTANEOUS_QUERIES
    case 209:  // SOCKET_TIMEOUT
    case 210:  // NETWORK_ERROR
    case 216:  // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING
    case 225:  // NO_ZOOKEEPER
    case 242:  // TABLE_IS_READ_ONLY
    case 252:  // TOO_MANY_PARTS
    case 279:  // ALL_CONNECTION_TRIES_FAILED
    case 319:  // UNKNOWN_STATUS_OF_INSERT
    case 999:  // KEEPER_EXCEPTION
      return true;
    default:
      return false;
  }
}

Connection::Connection(const ClickHouseConfig& config, std::string password)
    : user_(config.user),
      password_(std::move(password)),
      tls_(config.tls),
      client_(std::make_unique<http::Client>(2)) {
  for (const std::string& u : config.urls) {
    Result<http::Url> url = http::ParseUrl(u);
    Server s;
    s.text = u;
    if (url.ok()) {
      s.https = url->https;
      s.host = url->host;
      s.port = url->port;
      s.path = url->path;
    }
    urls_.push_back(std::move(s));
  }
}

Connection::~Connection() = default;

Result<std::string> Connection::Call(size_t server, const std::string& statement, std::string body,
                                     std::chrono::milliseconds timeout, CallError* error,
                                     const std::vector<std::pair<std::string, std::string>>& params) {
  const Server& s = urls_[server];
  // No `database` parameter: every statement names its tables in full (and CREATE DATABASE
  // runs before the database exists).
  std::vector<std::pair<std::string, std::string>> query;
  if (!statement.empty()) query.emplace_back("query", statement);
  // The server stops a query that runs past the client's deadline instead of finishing it
  // unseen (whole seconds; at least one).
  query.emplace_back("max_execution_time", std::to_string(std::max<int64_t>(1, timeout.count() / 1000)));
  for (const auto& p : params) query.push_back(p);
  http::ClientRequest req;
  req.method = "POST";
  req.https = s.https;
  req.host = s.host;
  req.port = s.port;
  req.target = s.path + "?" + http::EncodeQueryString(query);
  req.headers = {{"X-ClickHouse-User", user_}, {"Content-Type", "application/octet-stream"}};
  if (!password_.empty()) req.headers.emplace_back("X-ClickHouse-Key", password_);
  req.body = std::move(body);
  req.timeout = timeout;
  req.max_body_bytes = kMaxReplyBytes;
  req.tls = {tls_.ca_file, tls_.cert_file, tls_.key_file, tls_.server_name, tls_.insecure_skip_verify};
  auto done = std::make_shared<std::promise<Result<http::ClientResponse>>>();
  auto answer = done->get_future();
  client_->Send(std::move(req), [done](Result<http::ClientResponse> r) { done->set_value(std::move(r)); });
  Result<http::ClientResponse> r = answer.get();
  CallError local;
  CallError& e = error != nullptr ? *error : local;
  e = {};
  if (!r.ok()) {
    e.status = r.status().WithContext("ClickHouse at " + s.text);
    return e.status;
  }
  if (r->status == 200) return std::move(r->body);
  e.http_status = r->status;
  e.exception_code = ExceptionCode(r->body);
  std::string what = "ClickHouse at " + s.text + " answered " + std::to_string(r->status) + ": " + Excerpt(r->body);
  const bool transient = IsTransient(e.exception_code) || r->status == 502 || r->status == 503 || r->status == 504;
  e.status = transient ? Unavailable(std::move(what)) : Internal(std::move(what));
  return e.status;
}

Result<std::string> Connection::Query(size_t server, const std::string& sql, std::chrono::milliseconds timeout,
                                      CallError* error,
                                      const std::vector<std::pair<std::string, std::string>>& params) {
  return Call(server, "", sql, timeout, error, params);
}

Status Connection::Insert(size_t server, const std::string& statement, std::string rows, const std::string& query_id,
                          std::chrono::milliseconds timeout, CallError* error,
                          const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> p = params;
  p.emplace_back("query_id", query_id);
  Result<std::string> r = Call(server, statement, std::move(rows), timeout, error, p);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace tyto::clickhouse
