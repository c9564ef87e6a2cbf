// Client: asynchronous HTTP/1.1 requests for scrapes, `tyto query` (and later webhooks), many
// at once on a few threads: thousands of targets need no thread each.
//
// One connection per request (closed after the response), a deadline over the whole exchange
// (resolve, connect, TLS handshake, write, read), a cap on the body read, and TLS with a CA
// file, a client certificate, a server name and an opt-out of verification, as Prometheus's
// tls_config offers. The body is returned as received (the caller decides about gzip).
//
// Thread-safe. The network library (Boost.Beast) stays inside client.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tyto/status.h"

namespace tyto::http {

struct TlsClientOptions {
  std::string ca_file;      // PEM; empty: the system's trust store
  std::string cert_file;    // client certificate (PEM), with key_file
  std::string key_file;
  std::string server_name;  // SNI and the name verified; empty: the URL's host
  bool insecure_skip_verify = false;

  friend bool operator==(const TlsClientOptions&, const TlsClientOptions&) = default;
};

struct ClientRequest {
  std::string method = "GET";
  bool https = false;
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  uint16_t port = 80;
  std::string target = "/";  // path and query, already escaped
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type among them, for a body
  std::string body;  // sent with its Content-Length (also 0 for a POST or PUT without one)
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  uint64_t max_body_bytes = 0;  // 0: no limit
  TlsClientOptions tls;
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string content_encoding;
  std::string retry_after;  // the Retry-After header as sent (429 and 503 answers), or empty
  std::string body;
};

class Client {
 public:
  // `threads` network threads run the exchanges (and the callbacks: keep them short).
  explicit Client(int threads = 1);
  // Abandons what is in flight: callbacks not yet called are never called. Stop issuing
  // requests first.
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts the request; `done` is called exactly once, on a network thread, with the response
  // (any status code) or an error: kDeadlineExceeded after the timeout, kResourceExhausted for
  // a body over the cap, kUnavailable for connection failures, kInvalidArgument for bad TLS
  // files, each naming the address.
  void Send(ClientRequest request, std::function<void(Result<ClientResponse>)> done);

  // Send, blocking the calling thread until the answer (or the request's timeout): for callers
  // that have a thread of their own to wait on (a sender, a store's insert, a query). Never call
  // it from a callback of this client.
  Result<ClientResponse> SendAndWait(ClientRequest request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tyto::http
