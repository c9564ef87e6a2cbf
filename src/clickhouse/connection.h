// Connection: synchronous calls to the HTTP interfaces of the configured ClickHouse servers,
// over the project's one HTTP client (src/http/client.h: TLS, a deadline over the whole
// exchange, a cap on the reply). A statement goes in the URL's `query` parameter and the rows
// of an INSERT (or the text of a SELECT) in the body; the user and password travel in the
// X-ClickHouse-User and X-ClickHouse-Key headers, never in the URL.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clickhouse/config.h"
#include "tyto/status.h"

namespace tyto::http {
class Client;
}

namespace tyto::clickhouse {

// A failed call: the Status (naming the server), and what ClickHouse said when it answered.
struct CallError {
  Status status;
  int http_status = 0;     // 0: no answer (connection error, timeout)
  int exception_code = 0;  // ClickHouse's "Code: N" in the answer, 0 when none
};

class Connection {
 public:
  // `urls` parsed already (Validate).
  Connection(const ClickHouseConfig& config, std::string password);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  size_t servers() const { return urls_.size(); }
  const std::string& url(size_t server) const { return urls_[server].text; }

  // Runs `sql` on `server` (its text in the body) and returns the answer's body. `params` are
  // more URL parameters (settings such as insert_distributed_sync, query_id). Errors: the
  // transport's (kUnavailable, kDeadlineExceeded), kUnavailable for a ClickHouse error that
  // may pass (see IsTransient), kInternal for others; each names the server.
  Result<std::string> Query(size_t server, const std::string& sql, std::chrono::milliseconds timeout,
                            CallError* error = nullptr,
                            const std::vector<std::pair<std::string, std::string>>& params = {});
  // Runs `statement` (an INSERT ... FORMAT RowBinary) with `rows` as the body.
  Status Insert(size_t server, const std::string& statement, std::string rows, const std::string& query_id,
                std::chrono::milliseconds timeout, CallError* error,
                const std::vector<std::pair<std::string, std::string>>& params = {});

 private:
  struct Server {
    std::string text;
    bool https = false;
    std::string host;
    uint16_t port = 0;
    std::string path;
  };
  Result<std::string> Call(size_t server, const std::string& statement, std::string body,
                           std::chrono::milliseconds timeout, CallError* error,
                           const std::vector<std::pair<std::string, std::string>>& params);

  std::vector<Server> urls_;
  std::string user_;
  std::string password_;
  ClickHouseTls tls_;
  std::unique_ptr<http::Client> client_;
};

// Whether ClickHouse's exception code names a condition that may pass (a timeout, a network
// error between servers, too many parts, a replica without ZooKeeper, a query id still running).
bool IsTransient(int exception_code);

// ClickHouse's "Code: N" in an error answer; 0 when absent.
int ExceptionCode(std::string_view body);

}  // namespace tyto::clickhouse
