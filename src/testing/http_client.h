// TestConnection: a small blocking HTTP/1.1 client over one TCP (optionally TLS) connection,
// for tests that need to control exactly what is sent and when (partial requests, pipelining,
// idle connections). Not for production use: no chunked decoding, one response at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tyto/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace tyto::testing {

struct TestResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(std::string_view name) const;
};

class TestConnection {
 public:
  // Connects to 127.0.0.1:port. With `tls`, performs a TLS handshake without verifying the
  // certificate (tests use self-signed ones).
  static Result<std::unique_ptr<TestConnection>> Connect(uint16_t port, bool tls = false,
                                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~TestConnection();

  Status SendRaw(std::string_view bytes);
  // Sends "METHOD target HTTP/1.1" with Host and the given headers and body.
  Status Send(std::string_view method, std::string_view target, const std::vector<std::pair<std::string, std::string>>& headers = {},
              std::string_view body = {});
  // Reads one response (needs Content-Length, which Tyto always sends). When the connection
  // ends (closed or reset) before any byte of the response arrives, fails with kUnavailable:
  // the server did not take the request. Any other failure is kIOError.
  Result<TestResponse> Read();
  // Whether the server has closed the connection (reads EOF or an error within `wait`).
  bool ClosedByPeer(std::chrono::milliseconds wait);
  // SHA-256 of the server certificate (TLS only), hex.
  std::string PeerCertificateSha256() const;

 private:
  TestConnection() = default;
  Result<size_t> ReadSome(char* buf, size_t n);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

// One request on a fresh connection.
Result<TestResponse> HttpRequest(uint16_t port, std::string_view method, std::string_view target,
                                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                                 std::string_view body = {});
Result<TestResponse> HttpGet(uint16_t port, std::string_view target,
                             const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace tyto::testing
