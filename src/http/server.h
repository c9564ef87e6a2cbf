// Server: the HTTP/1.1 server every Tyto endpoint runs on.
//
// Keep-alive connections, limits on header and body size, read/write/idle timeouts, gzip
// responses when the client asks, TLS when configured, a cap on open connections, and graceful
// shutdown. Handlers run on the network threads; a handler that blocks ties up one of them.
// A response with a BodyStream (server-sent events) holds no thread: the server polls the
// stream on a timer, and at most max_streams are open at once.
//
// Timeouts, as Go's net/http (and so Prometheus) define them:
//   idle_timeout   waiting for the first byte of the next request on a kept-alive connection
//   read_timeout   from the first byte of a request until it is read whole, body included
//   write_timeout  writing one response
// and, against slow clients (slowloris) that hold a connection by trickling bytes:
//   header_timeout from the first byte of a request until its blank line (the headers whole)
//   min_body_rate  after the headers, the body must arrive at this many bytes a second on
//                  average, counted from the end of the headers plus header_timeout of grace
// A connection that times out is closed; one cut for slowness counts as
// tyto_http_requests_refused_total{reason="slow_client"}.
//
// Connection slots: max_connections in all, and max_connections_per_address from one client
// address, so one client cannot take every slot; connections past either cap are answered 503
// (the per-address one with Retry-After) and closed.
//
// Thread-safe. The network library (Boost.Beast) stays inside server.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/router.h"
#include "instrumentation/metrics.h"
#include "tyto/status.h"

namespace tyto::http {

struct ServerOptions {
  std::chrono::milliseconds read_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds write_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(2)};
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  // Bytes a second a body must average (see above); 0: no minimum.
  uint64_t min_body_rate = 1024;
  uint64_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 32 * 1024 * 1024;
  uint64_t max_connections = 10000;
  // Open connections from one client IP address at most; 0: no cap.
  uint64_t max_connections_per_address = 1024;
  // Streaming responses (Response::stream) open at once; one more is answered 503.
  uint64_t max_streams = 64;
  // How often an open stream is polled for more bytes.
  std::chrono::milliseconds stream_poll_interval{250};
  bool gzip = true;
  // TLS is on when both are set (PEM files; the certificate file may hold the chain).
  std::string tls_cert_file;
  std::string tls_key_file;
};

struct HostPort {
  std::string host;  // empty: every interface
  uint16_t port = 0;
};

// Parses "127.0.0.1:9800", "[::1]:9800", "localhost:9800" or ":9800".
Result<HostPort> ParseHostPort(std::string_view text);

// Whether the host can only be reached from this machine (127.0.0.0/8, ::1, localhost).
bool IsLoopbackHost(std::string_view host);

class Server {
 public:
  // `handler` answers every well-formed request. `threads` network threads (0: one per core,
  // at least two). Metrics are registered on `registry`, which must outlive the server.
  Server(Handler handler, instrumentation::Registry* registry, int threads = 0);
  ~Server();  // shuts down with no grace period if still running

  // Applies options to connections accepted and requests read from now on. Loads the TLS
  // certificate and key when set; on failure keeps the previous options and returns why.
  Status SetOptions(const ServerOptions& options);

  // Binds and listens. Port 0 picks a free port (see port()).
  Status Listen(const HostPort& address);
  uint16_t port() const;

  // Binds and listens on another address whose requests go to `handler` instead of the
  // server's; returns the port bound (port 0 picks a free one). The listeners share the network
  // threads, options, connection cap and metrics, so one process can serve many ports (the
  // fleet simulator, src/simulate, serves one per simulated exporter) without a thread each.
  // Call before Start(); a server may have only such listeners and never call Listen().
  Result<uint16_t> AddListener(const HostPort& address, Handler handler);

  // Starts the network threads. Call once, after Listen.
  void Start();

  // Stops accepting, closes idle connections, lets requests that have started arriving finish
  // (answered with "Connection: close"), and after `grace` closes whatever remains. Returns
  // true when every connection closed and the network threads stopped. Returns false, about
  // two seconds after `grace`, when a handler is still running: handlers cannot be
  // interrupted, so its thread is left behind (with the state it uses) for the process to exit
  // without waiting; the caller should then exit promptly.
  bool Shutdown(std::chrono::milliseconds grace);

  size_t open_connections() const;
  size_t open_streams() const;

  struct Impl;  // opaque: the network state, defined in server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tyto::http
