#include "testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tyto::testing {

std::optional<std::string> TestResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return std::nullopt;
}

Result<std::unique_ptr<TestConnection>> TestConnection::Connect(uint16_t port, bool tls,
                                                                std::chrono::milliseconds timeout) {
  std::unique_ptr<TestConnection> c(new TestConnection());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) return IOError(std::string("socket: ") + std::strerror(errno));
  struct timeval tv;
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(c->fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return IOError(std::string("connect: ") + std::strerror(errno));
  }
  if (tls) {
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
    c->ssl_ = SSL_new(c->ctx_);
    SSL_set_fd(c->ssl_, c->fd_);
    SSL_set_tlsext_host_name(c->ssl_, "localhost");
    if (SSL_connect(c->ssl_) != 1) {
      char err[256];
      ERR_error_string_n(ERR_get_error(), err, sizeof(err));
      return IOError(std::string("TLS handshake: ") + err);
    }
  }
  return c;
}

TestConnection::~TestConnection() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

Status TestConnection::SendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                     : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (!ssl_ && errno == EINTR) continue;
      return IOError(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status TestConnection::Send(std::string_view method, std::string_view target,
                            const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body) {
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  return SendRaw(req);
}

Result<size_t> TestConnection::ReadSome(char* buf, size_t n) {
  ssize_t r = ssl_ ? SSL_read(ssl_, buf, static_cast<int>(n)) : ::recv(fd_, buf, n, 0);
  if (r < 0) return IOError(std::string("recv: ") + std::strerror(errno));
  return static_cast<size_t>(r < 0 ? 0 : r);
}

Result<TestResponse> TestConnection::Read() {
  char buf[16384];
  size_t header_end;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    auto n = ReadSome(buf, sizeof(buf));
    if (!n.ok() || *n == 0) {
      std::string why = n.ok() ? "connection closed" : n.status().message();
      if (pending_.empty()) return Status(StatusCode::kUnavailable, "no response: " + why);
      return IOError("response cut short in its headers: " + why);
    }
    pending_.append(buf, *n);
  }
  TestResponse resp;
  std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return InvalidArgument("bad status line: " + status_line);
  resp.status = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      resp.headers.emplace_back(line.substr(0, colon), line.substr(v));
    }
    pos = e + 2;
  }
  auto te = resp.Header("Transfer-Encoding");
  if (te && te->find("chunked") != std::string::npos) {
    // Chunks: "<hex size>[;ext]\r\n<data>\r\n", ended by a zero-size chunk and a blank line (as
    // Go's servers, Prometheus among them, send bodies of unknown length).
    auto need = [&](size_t n) -> Status {
      while (pending_.size() < n) {
        auto r = ReadSome(buf, sizeof(buf));
        if (!r.ok()) return r.status();
        if (*r == 0) return IOError("connection closed in the middle of a chunked body");
        pending_.append(buf, *r);
      }
      return Status::Ok();
    };
    while (true) {
      size_t eol;
      while ((eol = pending_.find("\r\n")) == std::string::npos) TYTO_RETURN_IF_ERROR(need(pending_.size() + 1));
      const size_t size = std::stoul(pending_.substr(0, eol), nullptr, 16);
      pending_.erase(0, eol + 2);
      TYTO_RETURN_IF_ERROR(need(size + 2));
      resp.body.append(pending_, 0, size);
      pending_.erase(0, size + 2);
      if (size == 0) return resp;  // (trailers are not expected)
    }
  }
  size_t length = 0;
  if (auto cl = resp.Header("Content-Length")) length = std::stoul(*cl);
  while (pending_.size() < length) {
    auto n = ReadSome(buf, sizeof(buf));
    if (!n.ok()) return n.status();
    if (*n == 0) return IOError("connection closed in the middle of a body");
    pending_.append(buf, *n);
  }
  resp.body = pending_.substr(0, length);
  pending_.erase(0, length);
  return resp;
}

bool TestConnection::ClosedByPeer(std::chrono::milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char c;
  ssize_t r = ssl_ ? SSL_read(ssl_, &c, 1) : ::recv(fd_, &c, 1, MSG_PEEK);
  return r <= 0;
}

std::string TestConnection::PeerCertificateSha256() const {
  if (!ssl_) return "";
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (!cert) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  X509_free(cert);
  std::string hex;
  char b[3];
  for (unsigned int i = 0; i < len; ++i) {
    snprintf(b, sizeof(b), "%02x", md[i]);
    hex += b;
  }
  return hex;
}

Result<TestResponse> HttpRequest(uint16_t port, std::string_view method, std::string_view target,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view body) {
  auto c = TestConnection::Connect(port);
  if (!c.ok()) return c.status();
  auto h = headers;
  h.emplace_back("Connection", "close");
  TYTO_RETURN_IF_ERROR((*c)->Send(method, target, h, body));
  return (*c)->Read();
}

Result<TestResponse> HttpGet(uint16_t port, std::string_view target,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  return HttpRequest(port, "GET", target, headers);
}

}  // namespace tyto::testing
