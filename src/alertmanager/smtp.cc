#include "alertmanager/smtp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "common/log.h"
#include "http/encoding.h"

namespace tyto::alertmanager {

namespace {

using Clock = std::chrono::steady_clock;

// RFC 5321 limits a reply line to 512 bytes; servers' multi-line EHLO answers stay short too.
const log::Logger kLog("alertmanager");

// insecure_skip_verify is logged once a process, at its first use.
void WarnSkipVerifyOnce(const std::string& host) {
  static std::atomic<bool> warned{false};
  if (warned.exchange(true)) return;
  kLog.Warn("TLS certificate verification is off (email tls_config insecure_skip_verify: true): the SMTP "
            "server's identity is not checked", {{"host", host}});
}

constexpr size_t kMaxReplyLine = 4096;
constexpr int kMaxReplyLines = 128;

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // the text after "ddd-" / "ddd "
  std::string Text() const {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : " ") + l;
    return out;
  }
};

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

bool IsLoopback(const std::string& host) { return host == "localhost" || host == "127.0.0.1" || host == "::1"; }

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

class Connection {
 public:
  explicit Connection(const SmtpOptions& o) : o_(o), deadline_(Clock::now() + o.timeout) {}
  ~Connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool tls() const { return ssl_ != nullptr; }

  Status Connect() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(o_.port);
    const int rc = ::getaddrinfo(o_.host.c_str(), port.c_str(), &hints, &res);
    if (rc != 0) return Unavailable("resolving " + o_.host + ": " + gai_strerror(rc));
    Status last = Unavailable("no address for " + o_.host);
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      last = ConnectTo(a);
      if (last.ok()) break;
    }
    ::freeaddrinfo(res);
    return last;
  }

  Status StartTls() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return Internal("TLS: " + OpenSslError());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    const std::string name = o_.server_name.empty() ? o_.host : o_.server_name;
    if (o_.insecure_skip_verify) WarnSkipVerifyOnce(o_.host);
    if (!o_.insecure_skip_verify) {
      SSL_CTX_set_default_verify_paths(ctx_);
      if (!o_.ca_file.empty() && SSL_CTX_load_verify_locations(ctx_, o_.ca_file.c_str(), nullptr) != 1) {
        return InvalidArgument("TLS: reading CA file " + o_.ca_file + ": " + OpenSslError());
      }
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    if (ssl_ == nullptr) return Internal("TLS: " + OpenSslError());
    SSL_set_fd(ssl_, fd_);
    if (IsIpLiteral(name)) {
      if (!o_.insecure_skip_verify) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, name.c_str());
      if (!o_.insecure_skip_verify) SSL_set1_host(ssl_, name.c_str());
    }
    while (true) {
      const int r = SSL_connect(ssl_);
      if (r == 1) return Status::Ok();
      const int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        TYTO_RETURN_IF_ERROR(Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, "TLS handshake"));
        continue;
      }
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        return FailedPrecondition(std::string("TLS handshake: certificate verification failed: ") +
                                  X509_verify_cert_error_string(verify));
      }
      return Unavailable("TLS handshake: " + OpenSslError());
    }
  }

  Status Write(std::string_view data) {
    while (!data.empty()) {
      if (ssl_ != nullptr) {
        const int r = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
        if (r > 0) {
          data.remove_prefix(static_cast<size_t>(r));
          continue;
        }
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          TYTO_RETURN_IF_ERROR(Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, "writing"));
          continue;
        }
        return Unavailable("writing: " + OpenSslError());
      }
      const ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r > 0) {
        data.remove_prefix(static_cast<size_t>(r));
      } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        TYTO_RETURN_IF_ERROR(Wait(POLLOUT, "writing"));
      } else {
        return Unavailable(std::string("writing: ") + std::strerror(errno));
      }
    }
    return Status::Ok();
  }

  Result<Reply> ReadReply() {
    Reply reply;
    for (int n = 0; n < kMaxReplyLines; ++n) {
      TYTO_ASSIGN_OR_RETURN(std::string line, ReadLine());
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
          !std::isdigit(static_cast<unsigned char>(line[1])) || !std::isdigit(static_cast<unsigned char>(line[2])) ||
          (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        return Unavailable("malformed reply line \"" + line.substr(0, 80) + "\"");
      }
      const int code = std::stoi(line.substr(0, 3));
      if (n > 0 && code != reply.code) return Unavailable("reply code changed within a multi-line reply");
      reply.code = code;
      reply.lines.push_back(line.size() > 4 ? line.substr(4) : "");
      if (line.size() == 3 || line[3] == ' ') return reply;
    }
    return Unavailable("reply longer than " + std::to_string(kMaxReplyLines) + " lines");
  }

  // Whether bytes arrived that were not asked for (read ahead of a STARTTLS reply: they must
  // not be taken as part of the encrypted session).
  bool HasBufferedInput() const { return !buffer_.empty(); }

 private:
  Status ConnectTo(const addrinfo* a) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd_ < 0) return Unavailable(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0) return Status::Ok();
    if (errno != EINPROGRESS) return Unavailable(std::string("connecting: ") + std::strerror(errno));
    TYTO_RETURN_IF_ERROR(Wait(POLLOUT, "connecting"));
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable(std::string("connecting: ") + std::strerror(err));
    return Status::Ok();
  }

  Status Wait(short events, std::string_view during) {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) {
        return DeadlineExceeded(std::string(during) + ": timed out after " + std::to_string(o_.timeout.count()) + " ms");
      }
      pollfd p{fd_, events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
      if (r > 0) return Status::Ok();
      if (r < 0 && errno != EINTR) return Unavailable(std::string("poll: ") + std::strerror(errno));
    }
  }

  // Reads more bytes into buffer_; fails when the connection ends.
  Status Fill() {
    char buf[4096];
    while (true) {
      if (ssl_ != nullptr) {
        const int r = SSL_read(ssl_, buf, sizeof(buf));
        if (r > 0) {
          buffer_.append(buf, static_cast<size_t>(r));
          return Status::Ok();
        }
        const int err = SSL_get_error(ssl_, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          TYTO_RETURN_IF_ERROR(Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, "reading the reply"));
          continue;
        }
        if (err == SSL_ERROR_ZERO_RETURN) return Unavailable("the server closed the connection");
        return Unavailable("reading: " + OpenSslError());
      }
      const ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
      if (r > 0) {
        buffer_.append(buf, static_cast<size_t>(r));
        return Status::Ok();
      }
      if (r == 0) return Unavailable("the server closed the connection");
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        TYTO_RETURN_IF_ERROR(Wait(POLLIN, "reading the reply"));
        continue;
      }
      return Unavailable(std::string("reading: ") + std::strerror(errno));
    }
  }

  Result<std::string> ReadLine() {
    while (true) {
      const size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (buffer_.size() > kMaxReplyLine) return Unavailable("reply line longer than " + std::to_string(kMaxReplyLine) + " bytes");
      TYTO_RETURN_IF_ERROR(Fill());
    }
  }

  const SmtpOptions& o_;
  const Clock::time_point deadline_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

// The conversation, one step at a time; each failure names its step.
class Session {
 public:
  explicit Session(const SmtpOptions& o) : o_(o), c_(o) {}

  SmtpResult Run(const SmtpMessage& m) {
    if (Status s = c_.Connect(); !s.ok()) return Fail("connect", s);
    if (o_.implicit_tls) {
      if (Status s = c_.StartTls(); !s.ok()) return Fail("TLS", s);
    }
    if (!Expect("greeting", 220)) return result_;
    if (!Hello()) return result_;
    if (!c_.tls() && extensions_.count("STARTTLS") > 0) {
      if (!Command("STARTTLS", "STARTTLS", 220)) return result_;
      if (c_.HasBufferedInput()) {
        return Fail("STARTTLS", FailedPrecondition("the server sent data before the TLS handshake"), false);
      }
      if (Status s = c_.StartTls(); !s.ok()) return Fail("STARTTLS", s);
      if (!Hello()) return result_;
    }
    if (!c_.tls() && o_.require_tls) {
      return Fail("STARTTLS",
                  FailedPrecondition("require_tls is true but " + o_.host + ":" + std::to_string(o_.port) +
                                     " does not advertise the STARTTLS extension"),
                  false);
    }
    if (!o_.username.empty() && extensions_.count("AUTH") > 0 && !Auth(extensions_["AUTH"])) return result_;
    if (!Command("MAIL FROM", "MAIL FROM:<" + m.from + ">", 250)) return result_;
    for (const std::string& to : m.to) {
      if (!Command("RCPT TO <" + to + ">", "RCPT TO:<" + to + ">", 250, 251)) return result_;
    }
    if (!Command("DATA", "DATA", 354)) return result_;
    if (Status s = c_.Write(DotStuff(m.data)); !s.ok()) return Fail("DATA", s);
    if (!Expect("end of DATA", 250)) return result_;
    // The message is accepted; a failing QUIT changes nothing.
    if (c_.Write("QUIT\r\n").ok()) (void)c_.ReadReply();
    return {Status::Ok(), false, 0};
  }

 private:
  SmtpResult Fail(std::string_view step, const Status& s, std::optional<bool> retry = std::nullopt) {
    const bool transient = s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded;
    result_ = {Status(s.code(), "SMTP " + std::string(step) + ": " + s.message()), retry.value_or(transient), 0};
    return result_;
  }

  // Reads a reply; false (with result_ set) unless its code is one of the expected.
  bool Expect(std::string_view step, int want, int also = 0) {
    Result<Reply> r = c_.ReadReply();
    if (!r.ok()) {
      Fail(step, r.status());
      return false;
    }
    last_ = *r;
    if (r->code == want || (also != 0 && r->code == also)) return true;
    const bool transient = r->code >= 400 && r->code < 500;
    result_ = {Status(transient ? StatusCode::kUnavailable : StatusCode::kFailedPrecondition,
                      "SMTP " + std::string(step) + ": the server answered " + std::to_string(r->code) + " " +
                          r->Text().substr(0, 300)),
               transient, r->code};
    return false;
  }

  bool Command(std::string_view step, const std::string& line, int want, int also = 0) {
    if (Status s = c_.Write(line + "\r\n"); !s.ok()) {
      Fail(step, s);
      return false;
    }
    return Expect(step, want, also);
  }

  bool Hello() {
    if (!Command("EHLO", "EHLO " + o_.hello, 250)) {
      if (result_.reply_code < 500) return false;
      if (!Command("HELO", "HELO " + o_.hello, 250)) return false;
      extensions_.clear();
      return true;
    }
    extensions_.clear();
    for (size_t i = 1; i < last_.lines.size(); ++i) {
      const std::string& l = last_.lines[i];
      const size_t sp = l.find(' ');
      std::string key = l.substr(0, sp);
      for (char& ch : key) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      extensions_[key] = sp == std::string::npos ? "" : l.substr(sp + 1);
    }
    return true;
  }

  bool Auth(const std::string& mechanisms) {
    std::string missing;
    size_t pos = 0;
    while (pos <= mechanisms.size()) {
      size_t sp = mechanisms.find(' ', pos);
      if (sp == std::string::npos) sp = mechanisms.size();
      const std::string mech = mechanisms.substr(pos, sp - pos);
      pos = sp + 1;
      if (mech == "CRAM-MD5") {
        if (o_.secret.empty()) {
          missing += " missing secret for CRAM-MD5;";
          continue;
        }
        return CramMd5();
      }
      if (mech == "PLAIN" || mech == "LOGIN") {
        if (o_.password.empty()) {
          missing += " missing password for " + mech + ";";
          continue;
        }
        if (!c_.tls() && !IsLoopback(o_.host)) {
          Fail("AUTH " + mech,
               FailedPrecondition("refusing to send the password over an unencrypted connection to " + o_.host),
               false);
          return false;
        }
        if (mech == "PLAIN") {
          return Command("AUTH PLAIN", "AUTH PLAIN " + http::Base64(o_.identity + '\0' + o_.username + '\0' + o_.password),
                         235);
        }
        return Command("AUTH LOGIN", "AUTH LOGIN", 334) && Command("AUTH LOGIN username", http::Base64(o_.username), 334) &&
               Command("AUTH LOGIN password", http::Base64(o_.password), 235);
      }
    }
    if (missing.empty()) missing = " unknown auth mechanism: " + mechanisms;
    Fail("AUTH", FailedPrecondition(missing.substr(1)), false);
    return false;
  }

  bool CramMd5() {
    if (!Command("AUTH CRAM-MD5", "AUTH CRAM-MD5", 334)) return false;
    std::optional<std::string> challenge = http::Base64Decode(last_.lines.empty() ? "" : last_.lines[0]);
    if (!challenge) {
      Fail("AUTH CRAM-MD5", Unavailable("the challenge is not base64"));
      return false;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_md5(), o_.secret.data(), static_cast<int>(o_.secret.size()),
         reinterpret_cast<const unsigned char*>(challenge->data()), challenge->size(), mac, &n);
    const std::string digest = http::HexLower(std::string_view(reinterpret_cast<const char*>(mac), n));
    return Command("AUTH CRAM-MD5 response", http::Base64(o_.username + " " + digest), 235);
  }

  const SmtpOptions& o_;
  Connection c_;
  Reply last_;
  std::map<std::string, std::string> extensions_;
  SmtpResult result_;
};

}  // namespace

SmtpResult SmtpSend(const SmtpOptions& options, const SmtpMessage& message) {
  if (message.to.empty()) return {InvalidArgument("SMTP: no recipients"), false, 0};
  for (const std::string& a : message.to) {
    if (a.find_first_of("\r\n<>") != std::string::npos) return {InvalidArgument("SMTP: bad recipient address"), false, 0};
  }
  if (message.from.find_first_of("\r\n<>") != std::string::npos) {
    return {InvalidArgument("SMTP: bad sender address"), false, 0};
  }
  Session session(options);
  return session.Run(message);
}

Result<std::vector<std::string>> ParseAddressList(std::string_view list) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  int angle = 0;
  const auto finish = [&]() -> Status {
    std::string_view item = current;
    const size_t lt = item.rfind('<');
    if (lt != std::string_view::npos) {
      const size_t gt = item.find('>', lt);
      if (gt == std::string_view::npos) return InvalidArgument("unclosed '<' in address \"" + current + "\"");
      item = item.substr(lt + 1, gt - lt - 1);
    }
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty() && current.find_first_not_of(" \t") == std::string::npos) return Status::Ok();
    if (item.find('@') == std::string_view::npos || item.find_first_of(" \t\r\n") != std::string_view::npos) {
      return InvalidArgument("\"" + current + "\" is not an email address");
    }
    out.emplace_back(item);
    current.clear();
    return Status::Ok();
  };
  for (char c : list) {
    if (c == '"' && angle == 0) quoted = !quoted;
    if (!quoted && c == '<') ++angle;
    if (!quoted && c == '>' && angle > 0) --angle;
    if (c == ',' && !quoted && angle == 0) {
      TYTO_RETURN_IF_ERROR(finish());
      current.clear();
      continue;
    }
    current += c;
  }
  TYTO_RETURN_IF_ERROR(finish());
  if (out.empty()) return InvalidArgument("no email address in \"" + std::string(list) + "\"");
  return out;
}

std::string DotStuff(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 50 + 8);
  bool line_start = true;
  for (size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (line_start && c == '.') out += '.';
    if (c == '\n') {
      if (out.empty() || out.back() != '\r') out += '\r';
      out += '\n';
      line_start = true;
      continue;
    }
    if (c == '\r' && i + 1 < data.size() && data[i + 1] == '\n') {
      out += '\r';
      continue;
    }
    out += c;
    line_start = false;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

}  // namespace tyto::alertmanager
