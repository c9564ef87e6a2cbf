#include "http/client.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <future>
#include <optional>
#include <tuple>

#include "common/log.h"
#include "common/mutex.h"

namespace tyto::http {
namespace {

const log::Logger kLog("http");

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

std::string Address(const ClientRequest& r) {
  const bool v6 = r.host.find(':') != std::string::npos;
  return std::string(r.https ? "https://" : "http://") + (v6 ? "[" + r.host + "]" : r.host) + ":" +
         std::to_string(r.port);
}

Status FromError(const beast::error_code& ec, const ClientRequest& r, std::string_view during) {
  const std::string where = std::string(during) + " " + Address(r) + ": ";
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
    return Status(StatusCode::kDeadlineExceeded, where + "timed out after " + std::to_string(r.timeout.count()) + " ms");
  }
  if (ec == bhttp::error::body_limit) {
    return ResourceExhausted(where + "body larger than " + std::to_string(r.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) return ResourceExhausted(where + "response headers too large");
  return Status(StatusCode::kUnavailable, where + ec.message());
}

// One request from resolve to response. Kept alive by the handlers' shared_ptr.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(asio::any_io_executor ex, std::shared_ptr<ssl::context> tls, ClientRequest req,
           std::function<void(Result<ClientResponse>)> done)
      : req_(std::move(req)),
        done_(std::move(done)),
        resolver_(ex),
        timer_(ex),
        tcp_(ex),
        tls_ctx_(std::move(tls)) {
    if (tls_ctx_) tls_.emplace(ex, *tls_ctx_);
  }

  void Start() {
    deadline_ = std::chrono::steady_clock::now() + req_.timeout;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resolver_.cancel();  // only the resolve runs without the stream's own deadline
    });
    resolver_.async_resolve(req_.host, std::to_string(req_.port),
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type results) {
                              self->OnResolve(ec, std::move(results));
                            });
  }

 private:
  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : tcp_; }

  void Finish(Result<ClientResponse> r) {
    timer_.cancel();
    if (auto done = std::exchange(done_, nullptr)) done(std::move(r));
  }

  void OnResolve(beast::error_code ec, tcp::resolver::results_type results) {
    timer_.cancel();
    if (ec) return Finish(FromError(ec, req_, "resolving"));
    Lowest().expires_at(deadline_);
    Lowest().async_connect(results, [self = shared_from_this()](beast::error_code e, const tcp::endpoint&) {
      self->OnConnect(e);
    });
  }

  void OnConnect(beast::error_code ec) {
    if (ec) return Finish(FromError(ec, req_, "connecting to"));
    if (!tls_) return Write(tcp_);
    const std::string& name = req_.tls.server_name.empty() ? req_.host : req_.tls.server_name;
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str())) {
      return Finish(Status(StatusCode::kUnavailable, "TLS server name for " + Address(req_) + " refused"));
    }
    if (!req_.tls.insecure_skip_verify) tls_->set_verify_callback(ssl::host_name_verification(name));
    Lowest().expires_at(deadline_);
    tls_->async_handshake(ssl::stream_base::client, [self = shared_from_this()](beast::error_code e) {
      if (e) return self->Finish(FromError(e, self->req_, "TLS handshake with"));
      self->Write(*self->tls_);
    });
  }

  template <typename Stream>
  void Write(Stream& stream) {
    if (const bhttp::verb verb = bhttp::string_to_verb(req_.method); verb != bhttp::verb::unknown) {
      request_.method(verb);
    } else {
      request_.method_string(req_.method);
    }
    request_.target(req_.target);
    request_.version(11);
    const bool default_port = req_.port == (req_.https ? 443 : 80);
    const bool v6 = req_.host.find(':') != std::string::npos;
    std::string host = v6 ? "[" + req_.host + "]" : req_.host;
    if (!default_port) host += ":" + std::to_string(req_.port);
    request_.set(bhttp::field::host, host);
    request_.set(bhttp::field::connection, "close");
    for (const auto& [k, v] : req_.headers) request_.set(k, v);
    request_.body() = std::move(req_.body);
    request_.prepare_payload();
    Lowest().expires_at(deadline_);
    bhttp::async_write(stream, request_, [self = shared_from_this(), &stream](beast::error_code ec, size_t) {
      if (ec) return self->Finish(FromError(ec, self->req_, "sending to"));
      self->Read(stream);
    });
  }

  template <typename Stream>
  void Read(Stream& stream) {
    parser_.header_limit(64 * 1024);
    // Boost 1.74's parser takes "no limit" (boost::none) as a limit every Content-Length body
    // exceeds, and skips the limit for Content-Length bodies read eagerly, as async_read does:
    // the largest value stands for no limit, and the declared length is checked below.
    parser_.body_limit(req_.max_body_bytes > 0 ? req_.max_body_bytes : UINT64_MAX);
    Lowest().expires_at(deadline_);
    bhttp::async_read_header(stream, buffer_, parser_, [self = shared_from_this(), &stream](beast::error_code ec, size_t) {
      if (ec) return self->Finish(FromError(ec, self->req_, "reading from"));
      const auto length = self->parser_.content_length();
      if (self->req_.max_body_bytes > 0 && length && *length > self->req_.max_body_bytes) {
        return self->Finish(FromError(bhttp::error::body_limit, self->req_, "reading from"));
      }
      bhttp::async_read(stream, self->buffer_, self->parser_, [self](beast::error_code e, size_t) {
        self->OnBody(e);
      });
    });
  }

  void OnBody(beast::error_code ec) {
    if (ec) return Finish(FromError(ec, req_, "reading from"));
    auto& res = parser_.get();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[bhttp::field::content_type]);
    out.content_encoding = std::string(res[bhttp::field::content_encoding]);
    out.retry_after = std::string(res[bhttp::field::retry_after]);
    out.body = std::move(res.body());
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Finish(std::move(out));
  }

  ClientRequest req_;
  std::function<void(Result<ClientResponse>)> done_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point deadline_;
  beast::tcp_stream tcp_;
  std::shared_ptr<ssl::context> tls_ctx_;
  std::optional<ssl::stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> request_;
  bhttp::response_parser<bhttp::string_body> parser_;
};

}  // namespace

class Client::Impl {
 public:
  explicit Impl(int threads) : pool_(static_cast<size_t>(std::max(1, threads))) {}
  ~Impl() {
    pool_.stop();
    pool_.join();
  }

  void Send(ClientRequest req, std::function<void(Result<ClientResponse>)> done) {
    std::shared_ptr<ssl::context> ctx;
    if (req.https) {
      auto c = TlsContext(req.tls, req);
      if (!c.ok()) {
        asio::post(pool_, [done = std::move(done), st = c.status()] { done(st); });
        return;
      }
      ctx = *c;
    }
    auto strand = asio::make_strand(pool_);
    auto ex = std::make_shared<Exchange>(strand, std::move(ctx), std::move(req), std::move(done));
    asio::dispatch(strand, [ex] { ex->Start(); });
  }

 private:
  // One context per distinct tls_config: loading CA files per scrape would be wasteful.
  // The first request of a tls_config with insecure_skip_verify logs a warning (once per
  // distinct tls_config: contexts are made once each).
  Result<std::shared_ptr<ssl::context>> TlsContext(const TlsClientOptions& o, const ClientRequest& first)
      EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    auto key = std::tie(o.ca_file, o.cert_file, o.key_file, o.server_name, o.insecure_skip_verify);
    for (const auto& [opts, ctx] : contexts_) {
      if (std::tie(opts.ca_file, opts.cert_file, opts.key_file, opts.server_name, opts.insecure_skip_verify) == key) {
        return ctx;
      }
    }
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    beast::error_code ec;
    if (o.insecure_skip_verify) {
      kLog.Warn("TLS certificate verification is off (tls_config insecure_skip_verify: true): the server's "
                "identity is not checked for this and every other connection with the same tls_config",
                {{"address", Address(first)}});
      ctx->set_verify_mode(ssl::verify_none);
    } else {
      ctx->set_verify_mode(ssl::verify_peer);
      if (o.ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
      } else {
        ctx->load_verify_file(o.ca_file, ec);
        if (ec) return InvalidArgument("tls_config ca_file " + o.ca_file + ": " + ec.message());
      }
    }
    if (!o.cert_file.empty()) {
      ctx->use_certificate_chain_file(o.cert_file, ec);
      if (ec) return InvalidArgument("tls_config cert_file " + o.cert_file + ": " + ec.message());
      ctx->use_private_key_file(o.key_file, ssl::context::pem, ec);
      if (ec) return InvalidArgument("tls_config key_file " + o.key_file + ": " + ec.message());
    }
    contexts_.emplace_back(o, ctx);
    return ctx;
  }

  asio::thread_pool pool_;
  Mutex mu_;
  std::vector<std::pair<TlsClientOptions, std::shared_ptr<ssl::context>>> contexts_ GUARDED_BY(mu_);
};

Client::Client(int threads) : impl_(std::make_unique<Impl>(threads)) {}
Client::~Client() = default;

void Client::Send(ClientRequest request, std::function<void(Result<ClientResponse>)> done) {
  impl_->Send(std::move(request), std::move(done));
}

Result<ClientResponse> Client::SendAndWait(ClientRequest request) {
  // Shared: the client owns the callback until it runs.
  auto done = std::make_shared<std::promise<Result<ClientResponse>>>();
  std::future<Result<ClientResponse>> answer = done->get_future();
  impl_->Send(std::move(request), [done](Result<ClientResponse> r) { done->set_value(std::move(r)); });
  return answer.get();
}

}  // namespace tyto::http
