// The Boost.Beast implementation of http::Server. One session object per connection, run on
// its own strand; the server keeps a weak reference to each so it can drain them at shutdown.
#include "http/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"
#include "http/gzip.h"

namespace tyto::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

const log::Logger kLog("http");
// A session reserves room for a request's declared body up to this much, and keeps at most
// kKeptBufferBytes between requests.
constexpr uint64_t kMaxBodyReserve = 1 << 20;
constexpr size_t kKeptBufferBytes = 64 * 1024;
constexpr size_t kGzipMinBytes = 1024;
constexpr size_t kLingerMaxBytes = 1 << 20;
// What a session reads while waiting for a request's first byte.
constexpr size_t kFirstReadBytes = 4096;

// An HTTP response written straight to a socket at accept, before any session exists.
std::string CannedResponse(int status, std::string_view message, std::string_view extra_headers) {
  std::string body = Response::Error(status, status == 429 ? "too_many_requests" : "unavailable", message).body;
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(StatusText(status)) +
         "\r\nContent-Type: application/json\r\nConnection: close\r\n" + std::string(extra_headers) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers a connection refused at accept and closes it.
void Refuse(tcp::socket& socket, const std::string& response) {
  beast::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(response.data(), response.size()), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

// Whether the peer closed its side of the connection or it broke (see Request::ClientGone).
bool PeerGone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

std::string EndpointString(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

}  // namespace

Result<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid listen address '" + std::string(text) + "': " + std::string(why) +
                           " (expected HOST:PORT, e.g. 127.0.0.1:9800, [::1]:9800 or :9800)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("missing port");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return bad("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 addresses must be in brackets");
  }
  if (port.empty()) return bad("missing port");
  unsigned long p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad("port is not a number");
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535) return bad("port out of range 0-65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(p)};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  return !ec && addr.is_loopback();
}

class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase();
  virtual void Run() = 0;
  // Closes the connection if it is between requests; otherwise lets the request finish.
  virtual void Drain() = 0;
  virtual void ForceClose() = 0;
  // The address the connection was counted under at accept (Impl::per_address).
  void set_address(std::string a) { address_ = std::move(a); }

 protected:
  explicit SessionBase(Server::Impl* server) : server_(server) {}
  Server::Impl* server_;
  std::string address_;  // the client's IP address, counted in Impl::per_address
};

struct Server::Impl {
  Impl(Handler h, instrumentation::Registry* registry, int n)
      : handler(std::move(h)),
        threads_wanted(n > 0 ? n : std::max(2u, std::thread::hardware_concurrency())),
        ioc(threads_wanted),
        requests(registry->AddCounter("tyto_http_requests_total", "HTTP requests answered, by handler and code.",
                                      {"handler", "code"})),
        latency(registry->AddHistogram("tyto_http_request_duration_seconds",
                                       "Time from a request read whole to its response ready, by handler.",
                                       {"handler"}, instrumentation::DefaultLatencyBuckets())),
        rejected(registry->AddCounter("tyto_http_connections_rejected_total",
                                      "Connections refused at accept, by reason.", {"reason"})),
        protocol_errors(registry->AddCounter("tyto_http_protocol_errors_total",
                                             "Requests refused before reaching a handler, by reason.",
                                             {"reason"})),
        refused(registry->AddCounter(
            "tyto_http_requests_refused_total",
            "Requests and connections refused unserved, by reason: body_too_large, decompressed_too_large, "
            "rate_limited, slow_client, too_many_connections.",
            {"reason"})) {
    registry->AddCallback("tyto_http_connections_open", "Connections currently open.",
                          instrumentation::Type::kGauge, [this] {
                            MutexLock lock(&mu);
                            return static_cast<double>(sessions.size());
                          });
    registry->AddCallback("tyto_http_streams_open", "Streaming responses (server-sent events) currently open.",
                          instrumentation::Type::kGauge, [this] { return static_cast<double>(open_streams.load()); });
  }

  // Takes a stream slot; false when max_streams are open already.
  bool AcquireStream(uint64_t max) {
    uint64_t n = open_streams.load();
    while (n < max) {
      if (open_streams.compare_exchange_weak(n, n + 1)) return true;
    }
    return false;
  }

  std::shared_ptr<const ServerOptions> Options() {
    MutexLock lock(&mu);
    return options;
  }

  // A listening socket and the handler its requests go to: Listen()'s uses `handler`, each
  // AddListener() call adds one with its own.
  // A listening socket and what serves its connections. Its acceptor runs on a strand of its
  // own: the accept loop and the close at shutdown never touch it at once from two threads.
  struct Listener {
    Listener(asio::io_context& ioc, const Handler* h) : acceptor(asio::make_strand(ioc)), handler(h) {}
    tcp::acceptor acceptor;
    const Handler* handler;
  };
  // Runs `f(listener)` for each listener, on the listener's strand.
  template <typename F>
  void OnEachListener(F f) {
    auto one = [f](Listener* l) { asio::post(l->acceptor.get_executor(), [f, l] { f(l); }); };
    one(&primary);
    for (auto& l : extra_listeners) one(l.get());
  }

  void DoAccept(Listener* l);
  void OnAccept(Listener* l, beast::error_code ec, tcp::socket socket);
  void Register(SessionBase* s, std::weak_ptr<SessionBase> w) {
    MutexLock lock(&mu);
    sessions.emplace(s, std::move(w));
  }
  void Unregister(SessionBase* s, const std::string& address) {
    MutexLock lock(&mu);
    sessions.erase(s);
    if (auto it = per_address.find(address); it != per_address.end() && --it->second == 0) per_address.erase(it);
  }
  std::vector<std::shared_ptr<SessionBase>> Live() {
    MutexLock lock(&mu);
    std::vector<std::shared_ptr<SessionBase>> out;
    for (auto& [p, w] : sessions) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  Handler handler;
  int threads_wanted;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  Listener primary{ioc, &handler};
  tcp::acceptor& acceptor = primary.acceptor;
  // Added before Start(), never removed while running; their handlers live here.
  std::vector<std::unique_ptr<Handler>> extra_handlers;
  std::vector<std::unique_ptr<Listener>> extra_listeners;
  std::vector<std::thread> threads;
  std::atomic<bool> draining{false};
  std::atomic<bool> started{false};
  std::atomic<uint64_t> open_streams{0};

  instrumentation::Family<instrumentation::Counter>& requests;
  instrumentation::Family<instrumentation::Histogram>& latency;
  instrumentation::Family<instrumentation::Counter>& rejected;
  instrumentation::Family<instrumentation::Counter>& protocol_errors;
  instrumentation::Family<instrumentation::Counter>& refused;

  mutable Mutex mu;
  std::shared_ptr<const ServerOptions> options GUARDED_BY(mu) = std::make_shared<ServerOptions>();
  std::shared_ptr<ssl::context> tls GUARDED_BY(mu);
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions GUARDED_BY(mu);
  // Open connections per client IP address (entries removed at zero).
  std::unordered_map<std::string, uint64_t> per_address GUARDED_BY(mu);
};

SessionBase::~SessionBase() { server_->Unregister(this, address_); }

template <bool kTls>
class Session final : public SessionBase {
  using Stream = std::conditional_t<kTls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(Server::Impl* server, const Handler* handler, tcp::socket&& socket, std::shared_ptr<ssl::context> tls)
      : SessionBase(server),
        tls_(std::move(tls)),
        handler_(handler),
        stream_(MakeStream(std::move(socket), tls_.get())),
        poll_timer_(stream_.get_executor()) {
    beast::error_code ec;
    auto ep = Tcp().socket().remote_endpoint(ec);
    if (!ec) remote_ = EndpointString(ep);
    fd_ = Tcp().socket().native_handle();
  }

  ~Session() override { ReleaseStream(); }

  void Run() override {
    server_->Register(this, weak_from_this());
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void Drain() override {
    asio::post(stream_.get_executor(), [self = Self()] {
      // A stream ends at its next poll, which the cancelled timer runs now.
      if (self->state_ == State::kStreaming) {
        self->poll_timer_.cancel();
        return;
      }
      // Between requests: cancel the pending read; its handler then closes the connection.
      // Bytes the client already sent (in our buffer, or still in the kernel's) make the
      // connection busy, not idle: that request is answered first.
      if (self->state_ != State::kIdle || (self->parser_ && self->parser_->got_some()) || self->buffer_.size() > 0) {
        return;
      }
      beast::error_code ec;
      if (self->Tcp().socket().available(ec) > 0 && !ec) return;
      self->Tcp().cancel();
    });
  }

  // Called from the shutdown thread while this session's strand may be stuck in a handler, so
  // it acts on the descriptor with shutdown(2) rather than through the socket object; the
  // mutex guarantees the descriptor is still ours (not closed and reused).
  void ForceClose() override {
    {
      MutexLock lock(&fd_mu_);
      if (!fd_closed_) ::shutdown(fd_, SHUT_RDWR);
    }
    asio::post(stream_.get_executor(), [self = Self()] { self->CloseSocket(); });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kBusy, kStreaming, kClosing };

  static Stream MakeStream(tcp::socket&& socket, ssl::context* ctx) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ctx);
    } else {
      (void)ctx;
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    options_ = server_->Options();
    if constexpr (kTls) {
      state_ = State::kHandshake;
      Tcp().expires_after(options_->read_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = Self()](beast::error_code ec) {
        if (ec) {
          kLog.Debug("TLS handshake failed", {{"remote", self->remote_}, {"error", ec.message()}});
          self->server_->protocol_errors.WithLabels({"tls_handshake"}).Inc();
          return self->Close();
        }
        self->StartRead();
      });
    } else {
      StartRead();
    }
  }

  void StartRead() {
    if (server_->draining) return Close();
    options_ = server_->Options();
    parser_.emplace();
    if (buffer_.capacity() > kKeptBufferBytes) buffer_.shrink_to_fit();  // after a large body
    parser_->header_limit(static_cast<uint32_t>(std::min<uint64_t>(options_->max_header_bytes, UINT32_MAX)));
    parser_->body_limit(options_->max_body_bytes);
    state_ = State::kIdle;
    sent_continue_ = false;
    body_started_ = false;
    if (buffer_.size() > 0) return BeginRequest();  // a pipelined request has begun already
    Tcp().expires_after(options_->idle_timeout);
    WaitFirstByte();
  }

  // Reads what arrives into buffer_ (where the parser looks first), so that the header
  // deadline starts at a request's first byte: the parser reports nothing until the headers
  // are whole, and a slow client could otherwise trickle them for the whole idle_timeout.
  void WaitFirstByte() {
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes), [self = Self()](beast::error_code ec, size_t n) {
      self->buffer_.commit(n);
      if (ec) return self->OnReadError(ec);
      if (n == 0) return self->WaitFirstByte();
      self->BeginRequest();
    });
  }

  void BeginRequest() {
    state_ = State::kReading;
    request_start_ = std::chrono::steady_clock::now();
    Tcp().expires_after(std::min(options_->header_timeout, options_->read_timeout));
    ReadSome();
  }

  // The deadline once the headers are in: header_timeout of grace, plus the time the body bytes
  // received so far may take at min_body_rate; never past read_timeout from the first byte.
  void ExtendBodyDeadline() {
    auto deadline = request_start_ + options_->read_timeout;
    slow_deadline_ = false;
    if (options_->min_body_rate > 0) {
      const uint64_t got = parser_->get().body().size();
      auto allowed = body_start_ + options_->header_timeout +
                     std::chrono::milliseconds(got * 1000 / options_->min_body_rate);
      if (allowed < deadline) {
        deadline = allowed;
        slow_deadline_ = true;
      }
    }
    Tcp().expires_at(deadline);
  }

  void ReadSome() {
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = Self()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    if (parser_->is_done()) return Handle();
    if (parser_->is_header_done()) {
      if (!body_started_) {
        body_started_ = true;
        body_start_ = std::chrono::steady_clock::now();
      }
      ExtendBodyDeadline();
    }
    if (parser_->is_header_done() && !sent_continue_) {
      sent_continue_ = true;
      // Room for the declared body (up to 1 MiB) in one go: the buffer otherwise stays at its
      // first size and Beast reads a large body 512 bytes (one system call and one timer re-arm)
      // at a time. StartRead gives the room back after the request.
      if (auto cl = parser_->content_length(); cl && *cl > buffer_.capacity() - buffer_.size()) {
        buffer_.reserve(buffer_.size() + static_cast<size_t>(std::min<uint64_t>(*cl, kMaxBodyReserve)));
      }
      auto expect = parser_->get()[bhttp::field::expect];
      if (beast::iequals(expect, "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                          [self = Self()](beast::error_code wec, size_t) {
                            if (wec) return self->Close();
                            self->ReadSome();
                          });
        return;
      }
    }
    ReadSome();
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == beast::error::timeout) {
      if (ec == beast::error::timeout && state_ == State::kReading) {
        // Which deadline passed: the headers' or the body's rate (a slow client), or read_timeout.
        const bool headers = !parser_->is_header_done();
        const bool slow = headers ? options_->header_timeout <= options_->read_timeout : slow_deadline_;
        server_->protocol_errors.WithLabels({!slow ? "read_timeout" : headers ? "header_timeout" : "body_too_slow"})
            .Inc();
        if (slow) {
          server_->refused.WithLabels({"slow_client"}).Inc();
          kLog.Info("slow client cut off", {{"remote", remote_}, {"phase", headers ? "headers" : "body"}});
        }
      }
      return Close();
    }
    if (ec == bhttp::error::header_limit) {
      server_->protocol_errors.WithLabels({"header_too_large"}).Inc();
      return SendProtocolError(431, "request headers exceed the limit of " +
                                        std::to_string(options_->max_header_bytes) + " bytes (http.max_header_bytes)");
    }
    if (ec == bhttp::error::body_limit) {
      server_->protocol_errors.WithLabels({"body_too_large"}).Inc();
      server_->refused.WithLabels({"body_too_large"}).Inc();
      return SendProtocolError(413, "request body exceeds the limit of " + std::to_string(options_->max_body_bytes) +
                                        " bytes (http.max_body_bytes)");
    }
    if (IsHttpParseError(ec)) {
      server_->protocol_errors.WithLabels({"malformed"}).Inc();
      return SendProtocolError(400, "malformed HTTP request: " + ec.message());
    }
    kLog.Debug("connection error", {{"remote", remote_}, {"error", ec.message()}});
    Close();
  }

  void SendProtocolError(int status, const std::string& message) {
    Response r = Response::Error(status, "bad_data", message);
    r.handler = "(protocol)";
    server_->requests.WithLabels({r.handler, std::to_string(status)}).Inc();
    Write(std::move(r), /*keep_alive=*/false, /*head=*/false, /*gzip=*/false);
  }

  void Handle() {
    state_ = State::kBusy;
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    req.remote = remote_;
    req.connection_fd = fd_;
    const bool keep_alive = msg.keep_alive();
    const bool head = msg.method() == bhttp::verb::head;
    const bool http11 = msg.version() >= 11;
    const auto ae = msg[bhttp::field::accept_encoding];
    const bool gzip = options_->gzip && AcceptsGzip(std::string_view(ae.data(), ae.size()));

    auto start = std::chrono::steady_clock::now();
    Response resp;
    if (auto err = ParseTarget(&req)) {
      resp = Response::Error(400, "bad_data", *err);
      resp.handler = "(protocol)";
    } else {
      try {
        resp = (*handler_)(req);
      } catch (const std::exception& e) {
        // A handler bug must not take the server down; it is logged and answered with a 500.
        kLog.Error("handler threw", {{"path", req.path}, {"error", e.what()}});
        resp = Response::Error(500, "internal", "internal error");
        resp.handler = "(exception)";
      }
    }
    if (resp.stream) {
      if (head) {
        resp.stream.reset();  // the headers only
      } else if (!server_->AcquireStream(options_->max_streams)) {
        std::string name = std::move(resp.handler);
        resp = Response::Error(503, "unavailable",
                               "too many open streams (" + std::to_string(options_->max_streams) +
                                   ", http.max_streams); retry later");
        resp.headers.emplace_back("Retry-After", "5");
        resp.handler = std::move(name);
      } else {
        holds_stream_ = true;
      }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!resp.refused.empty()) server_->refused.WithLabels({resp.refused}).Inc();
    server_->requests.WithLabels({resp.handler, std::to_string(resp.status)}).Inc();
    server_->latency.WithLabels({resp.handler}).Observe(seconds);
    kLog.Debug("request", {{"method", req.method}, {"path", req.path}, {"status", resp.status},
                           {"seconds", seconds}, {"remote", remote_}});
    if (resp.stream) return StartStream(std::move(resp), http11);
    Write(std::move(resp), keep_alive, head, gzip);
  }

  // Streaming (Response::stream): the headers, then whatever each poll of the stream returns,
  // as chunks (HTTP/1.1) or raw bytes until the connection closes (HTTP/1.0). The connection
  // closes when the stream ends.
  void StartStream(Response resp, bool chunked) {
    state_ = State::kStreaming;
    body_stream_ = std::move(resp.stream);
    chunked_ = chunked;
    auto res = std::make_shared<bhttp::response<bhttp::empty_body>>();
    res->version(chunked ? 11 : 10);
    res->result(static_cast<unsigned>(resp.status));
    res->set(bhttp::field::server, "tyto");
    res->set(bhttp::field::content_type, resp.content_type);
    res->set(bhttp::field::cache_control, "no-cache");
    res->set("X-Accel-Buffering", "no");
    for (auto& [k, v] : resp.headers) {
      if (!beast::iequals(k, "Content-Encoding") && !beast::iequals(k, "Content-Length")) res->insert(k, v);
    }
    res->keep_alive(false);
    if (chunked) res->chunked(true);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    Tcp().expires_after(options_->write_timeout);
    bhttp::async_write_header(stream_, *sr, [self = Self(), res, sr](beast::error_code ec, size_t) {
      self->Tcp().expires_never();
      if (ec) return self->EndStream(/*send_last=*/false);
      self->PollStream();
    });
  }

  void SchedulePoll() {
    if (server_->draining) return EndStream(/*send_last=*/true);
    poll_timer_.expires_after(options_->stream_poll_interval);
    poll_timer_.async_wait([self = Self()](beast::error_code) { self->PollStream(); });
  }

  void PollStream() {
    if (state_ != State::kStreaming) return;
    if (server_->draining) return EndStream(/*send_last=*/true);
    if (PeerGone(fd_)) return EndStream(/*send_last=*/false);
    BodyStream::Chunk chunk;
    try {
      chunk = body_stream_->Poll();
    } catch (const std::exception& e) {
      kLog.Error("stream threw", {{"remote", remote_}, {"error", e.what()}});
      return EndStream(/*send_last=*/true);
    }
    if (chunk.data.empty() && !chunk.done) return SchedulePoll();
    auto out = std::make_shared<std::string>();
    if (chunked_) {
      if (!chunk.data.empty()) {
        char size[20];
        int n = std::snprintf(size, sizeof(size), "%zx\r\n", chunk.data.size());
        out->reserve(chunk.data.size() + static_cast<size_t>(n) + 8);
        out->append(size, static_cast<size_t>(n)).append(chunk.data).append("\r\n");
      }
      if (chunk.done) out->append("0\r\n\r\n");
    } else {
      *out = std::move(chunk.data);
    }
    const bool done = chunk.done;
    Tcp().expires_after(options_->write_timeout);
    asio::async_write(stream_, asio::buffer(*out), [self = Self(), out, done](beast::error_code ec, size_t) {
      self->Tcp().expires_never();
      if (ec || done) return self->EndStream(/*send_last=*/false);
      self->SchedulePoll();
    });
  }

  // Ends a stream: frees its slot, sends the last chunk when asked (a clean end the client can
  // tell from a broken connection), then closes.
  void EndStream(bool send_last) {
    if (state_ != State::kStreaming) return;
    ReleaseStream();
    if (!send_last || !chunked_) return Close();
    state_ = State::kBusy;
    static constexpr std::string_view kLast = "0\r\n\r\n";
    Tcp().expires_after(std::chrono::seconds(1));
    asio::async_write(stream_, asio::buffer(kLast.data(), kLast.size()),
                      [self = Self()](beast::error_code, size_t) { self->Close(); });
  }

  void ReleaseStream() {
    body_stream_.reset();
    if (holds_stream_) {
      holds_stream_ = false;
      server_->open_streams.fetch_sub(1);
    }
  }

  void Write(Response resp, bool keep_alive, bool head, bool gzip) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(resp.status));
    res->set(bhttp::field::server, "tyto");
    res->set(bhttp::field::content_type, resp.content_type);
    bool encoded = false;
    for (auto& [k, v] : resp.headers) {
      if (beast::iequals(k, "Content-Encoding")) encoded = true;
      res->insert(k, v);
    }
    if (gzip && !encoded && resp.body.size() >= kGzipMinBytes) {
      resp.body = GzipCompress(resp.body);
      res->set(bhttp::field::content_encoding, "gzip");
      res->set(bhttp::field::vary, "Accept-Encoding");
    }
    const bool keep = keep_alive && !server_->draining;
    res->keep_alive(keep);
    if (head) {
      res->content_length(resp.body.size());
    } else {
      res->body() = std::move(resp.body);
      res->prepare_payload();
    }
    Tcp().expires_after(options_->write_timeout);
    bhttp::async_write(stream_, *res, [self = Self(), res, keep](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      if (!keep) return self->Close();
      self->StartRead();
    });
  }

  // Closes gracefully: sends FIN, then reads and discards what the client still sends for a
  // moment, so a reset does not destroy the response it has not read yet.
  void Close() {
    if (state_ == State::kClosing) return;
    state_ = State::kClosing;
    if constexpr (kTls) {
      Tcp().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = Self()](beast::error_code) { self->CloseSocket(); });
    } else {
      beast::error_code ec;
      Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) return CloseSocket();
      Tcp().expires_after(std::chrono::seconds(1));
      Linger();
    }
  }

  void Linger() {
    Tcp().async_read_some(asio::buffer(linger_buf_), [self = Self()](beast::error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerMaxBytes) return self->CloseSocket();
      self->Linger();
    });
  }

  // The only place the socket is closed, so ForceClose never acts on a reused descriptor.
  void CloseSocket() {
    state_ = State::kClosing;
    poll_timer_.cancel();
    MutexLock lock(&fd_mu_);
    if (fd_closed_) return;
    fd_closed_ = true;
    beast::error_code ignored;
    Tcp().socket().close(ignored);
  }

  std::shared_ptr<ssl::context> tls_;  // keeps the context alive: declared before stream_
  const Handler* handler_;
  Stream stream_;
  asio::steady_timer poll_timer_;  // a streaming response's next poll
  std::shared_ptr<BodyStream> body_stream_;
  bool holds_stream_ = false;  // counted in open_streams
  bool chunked_ = true;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<const ServerOptions> options_;
  std::string remote_;
  State state_ = State::kHandshake;
  bool sent_continue_ = false;
  std::chrono::steady_clock::time_point request_start_;  // the request's first byte
  std::chrono::steady_clock::time_point body_start_;     // its headers whole
  bool body_started_ = false;
  bool slow_deadline_ = false;  // the deadline set is min_body_rate's, not read_timeout's
  std::array<char, 4096> linger_buf_{};
  size_t lingered_ = 0;
  int fd_ = -1;
  Mutex fd_mu_;
  bool fd_closed_ GUARDED_BY(fd_mu_) = false;
};

void Server::Impl::DoAccept(Listener* l) {
  l->acceptor.async_accept(asio::make_strand(ioc), [this, l](beast::error_code ec, tcp::socket socket) {
    OnAccept(l, ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(Listener* l, beast::error_code ec, tcp::socket socket) {
  if (draining || !l->acceptor.is_open()) return;
  if (ec) {
    kLog.Warn("accept failed", {{"error", ec.message()}});
    if (ec == asio::error::no_descriptors) {
      rejected.WithLabels({"no_file_descriptors"}).Inc();
      // Out of file descriptors: wait a little for some to close instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(100));
      timer->async_wait([this, l, timer](beast::error_code) { DoAccept(l); });
      return;
    }
    return DoAccept(l);
  }
  std::shared_ptr<const ServerOptions> opts;
  std::shared_ptr<ssl::context> ctx;
  beast::error_code ep_ec;
  const std::string address = socket.remote_endpoint(ep_ec).address().to_string();
  size_t open;
  bool address_full = false;
  {
    MutexLock lock(&mu);
    opts = options;
    ctx = tls;
    open = sessions.size();
    if (open < opts->max_connections) {
      uint64_t& n = per_address[address];
      if (opts->max_connections_per_address > 0 && n >= opts->max_connections_per_address) {
        address_full = true;
        if (n == 0) per_address.erase(address);
      } else {
        ++n;  // the session's destructor gives it back (Unregister)
      }
    }
  }
  if (open >= opts->max_connections) {
    rejected.WithLabels({"limit"}).Inc();
    refused.WithLabels({"too_many_connections"}).Inc();
    static const std::string kBusy = CannedResponse(503, "too many open connections, retry later", "");
    Refuse(socket, kBusy);
    return DoAccept(l);
  }
  if (address_full) {
    rejected.WithLabels({"per_address_limit"}).Inc();
    refused.WithLabels({"too_many_connections"}).Inc();
    kLog.Info("connection refused: too many from one address", {{"address", address}});
    Refuse(socket, CannedResponse(429,
                                  "too many open connections from " + address + " (" +
                                      std::to_string(opts->max_connections_per_address) +
                                      ", http.max_connections_per_address); retry later",
                                  "Retry-After: 5\r\n"));
    return DoAccept(l);
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<SessionBase> s;
  if (ctx) {
    s = std::make_shared<Session<true>>(this, l->handler, std::move(socket), ctx);
  } else {
    s = std::make_shared<Session<false>>(this, l->handler, std::move(socket), nullptr);
  }
  s->set_address(address);
  s->Run();
  DoAccept(l);
}

Server::Server(Handler handler, instrumentation::Registry* registry, int threads)
    : impl_(std::make_unique<Impl>(std::move(handler), registry, threads)) {}

Server::~Server() {
  if (impl_ && impl_->started) Shutdown(std::chrono::milliseconds(0));
}

Status Server::SetOptions(const ServerOptions& options) {
  std::shared_ptr<ssl::context> ctx;
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return InvalidArgument("TLS needs both a certificate file and a key file");
    }
    try {
      ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
      ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    } catch (const boost::system::system_error& e) {
      return Internal(std::string("cannot create TLS context: ") + e.what());
    }
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) return InvalidArgument("cannot load TLS certificate " + options.tls_cert_file + ": " + ec.message());
    ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument("cannot load TLS key " + options.tls_key_file + " for certificate " +
                             options.tls_cert_file + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return InvalidArgument("TLS key " + options.tls_key_file + " does not match certificate " +
                             options.tls_cert_file);
    }
  }
  MutexLock lock(&impl_->mu);
  impl_->options = std::make_shared<const ServerOptions>(options);
  impl_->tls = std::move(ctx);
  return Status::Ok();
}

namespace {

Status OpenAcceptor(asio::io_context& ioc, tcp::acceptor& acceptor, const HostPort& address) {
  boost::system::error_code ec;
  tcp::endpoint ep;
  if (address.host.empty()) {
    ep = tcp::endpoint(tcp::v6(), address.port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(address.host, std::to_string(address.port),
                                    tcp::resolver::numeric_service | tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen host '" + address.host + "': " + ec.message());
    }
    ep = results.begin()->endpoint();
  }
  std::string where = EndpointString(ep);
  acceptor.open(ep.protocol(), ec);
  if (!ec && address.host.empty()) acceptor.set_option(boost::asio::ip::v6_only(false), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return IOError("cannot listen on " + where + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace

Status Server::Listen(const HostPort& address) { return OpenAcceptor(impl_->ioc, impl_->acceptor, address); }

Result<uint16_t> Server::AddListener(const HostPort& address, Handler handler) {
  auto h = std::make_unique<Handler>(std::move(handler));
  auto l = std::make_unique<Impl::Listener>(impl_->ioc, h.get());
  if (Status s = OpenAcceptor(impl_->ioc, l->acceptor, address); !s.ok()) return s;
  boost::system::error_code ec;
  uint16_t port = l->acceptor.local_endpoint(ec).port();
  impl_->extra_handlers.push_back(std::move(h));
  impl_->extra_listeners.push_back(std::move(l));
  return port;
}

uint16_t Server::port() const {
  if (!impl_) return 0;
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

size_t Server::open_streams() const { return impl_ ? static_cast<size_t>(impl_->open_streams.load()) : 0; }

size_t Server::open_connections() const {
  if (!impl_) return 0;
  MutexLock lock(&impl_->mu);
  return impl_->sessions.size();
}

void Server::Start() {
  impl_->started = true;
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->OnEachListener([impl = impl_.get()](Impl::Listener* l) {
    if (l->acceptor.is_open()) impl->DoAccept(l);
  });
  for (int i = 0; i < impl_->threads_wanted; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
  }
}

bool Server::Shutdown(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->started.exchange(false)) return true;
  impl_->draining = true;
  impl_->OnEachListener([](Impl::Listener* l) {
    beast::error_code ignored;
    l->acceptor.close(ignored);
  });
  for (auto& s : impl_->Live()) s->Drain();
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (size_t left = open_connections(); left > 0) {
    kLog.Warn("shutdown grace period over, closing connections", {{"connections", left}});
    for (auto& s : impl_->Live()) s->ForceClose();
    auto hard = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (open_connections() > 0 && std::chrono::steady_clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  impl_->work.reset();
  impl_->ioc.stop();
  if (size_t left = open_connections(); left > 0) {
    kLog.Error("handlers still running after the shutdown deadline; not waiting for them",
               {{"connections", left}});
    for (auto& t : impl_->threads) t.detach();
    // The detached threads still use the state; keep it alive and reachable until exit.
    static Mutex abandoned_mu;
    static std::vector<std::unique_ptr<Impl>>* abandoned = new std::vector<std::unique_ptr<Impl>>();
    MutexLock lock(&abandoned_mu);
    abandoned->push_back(std::move(impl_));
    return false;
  }
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // The close posted above may not have run before stop(); with the threads gone, close here so
  // the ports refuse connections once Shutdown returns.
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
  for (auto& l : impl_->extra_listeners) l->acceptor.close(ignored);
  return true;
}

}  // namespace tyto::http
