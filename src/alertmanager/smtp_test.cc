// Tests of the SMTP client and the email integration against a fake SMTP server thread on
// 127.0.0.1: the conversation with and without STARTTLS, implicit TLS, AUTH PLAIN / LOGIN /
// CRAM-MD5, rejected recipients, timeouts, and the MIME message Alertmanager's way.
#include "alertmanager/smtp.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "alertmanager/fake_http_receiver.h"
#include "alertmanager/integrations.h"
#include "common/mutex.h"
#include "testing/temp_dir.h"

namespace tyto::alertmanager {
namespace {

using namespace std::chrono_literals;

std::string B64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  out.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                                 reinterpret_cast<const unsigned char*>(in.data()),
                                                 static_cast<int>(in.size()))));
  return out;
}

// A scripted SMTP server for one connection at a time, run on its own thread. Records the
// commands it received and the message data.
class FakeSmtpServer {
 public:
  struct Script {
    bool starttls = false;     // advertise STARTTLS
    bool implicit_tls = false;
    std::string auth;          // the AUTH extension's mechanisms, "" for none
    int rcpt_code = 250;       // answer to RCPT TO
    bool silent = false;       // never send the greeting
    std::string cert, key;     // for TLS
    const char* address = "127.0.0.1";
  };

  explicit FakeSmtpServer(Script s) : script_(std::move(s)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, script_.address, &addr.sin_addr);
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::abort();
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSmtpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  }

  uint16_t port() const { return port_; }
  std::vector<std::string> Commands() {
    MutexLock l(&mu_);
    return commands_;
  }
  std::string Data() {
    MutexLock l(&mu_);
    return data_;
  }
  bool TlsUsed() {
    MutexLock l(&mu_);
    return tls_used_;
  }

 private:
  void Serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    timeval tv{10, 0};  // a broken client cannot hang the test
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    conn_ = c;
    Conversation();
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    ::close(c);
  }

  bool StartTls() {
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx_, script_.cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, script_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return false;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, conn_);
    if (SSL_accept(ssl_) != 1) return false;
    MutexLock l(&mu_);
    tls_used_ = true;
    return true;
  }

  void Send(const std::string& s) {
    if (ssl_ != nullptr) {
      SSL_write(ssl_, s.data(), static_cast<int>(s.size()));
    } else {
      ::send(conn_, s.data(), s.size(), MSG_NOSIGNAL);
    }
  }

  bool ReadLine(std::string* line) {
    while (true) {
      const size_t nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        *line = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        return true;
      }
      char tmp[4096];
      const int n = ssl_ != nullptr ? SSL_read(ssl_, tmp, sizeof(tmp))
                                    : static_cast<int>(::recv(conn_, tmp, sizeof(tmp), 0));
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  void Record(const std::string& cmd) {
    MutexLock l(&mu_);
    commands_.push_back(cmd);
  }

  void Conversation() {
    if (script_.implicit_tls && !StartTls()) return;
    if (script_.silent) {
      std::string ignored;
      ReadLine(&ignored);  // until the client gives up
      return;
    }
    Send("220 fake.smtp ESMTP ready\r\n");
    std::string line;
    while (ReadLine(&line)) {
      Record(line);
      const std::string upper = line.substr(0, 4);
      if (upper == "EHLO") {
        std::string reply = "250-fake.smtp hello\r\n";
        if (script_.starttls && ssl_ == nullptr) reply += "250-STARTTLS\r\n";
        if (!script_.auth.empty()) reply += "250-AUTH " + script_.auth + "\r\n";
        reply += "250 8BITMIME\r\n";
        Send(reply);
      } else if (line == "STARTTLS") {
        Send("220 go ahead\r\n");
        if (!StartTls()) return;
      } else if (line.starts_with("AUTH PLAIN ")) {
        Send("235 ok\r\n");
      } else if (line == "AUTH LOGIN") {
        Send("334 VXNlcm5hbWU6\r\n");
        if (!ReadLine(&line)) return;
        Record(line);
        Send("334 UGFzc3dvcmQ6\r\n");
        if (!ReadLine(&line)) return;
        Record(line);
        Send("235 ok\r\n");
      } else if (line == "AUTH CRAM-MD5") {
        Send("334 " + B64("<1.2@fake>") + "\r\n");
        if (!ReadLine(&line)) return;
        Record(line);
        Send("235 ok\r\n");
      } else if (line.starts_with("MAIL FROM:")) {
        Send("250 ok\r\n");
      } else if (line.starts_with("RCPT TO:")) {
        Send(std::to_string(script_.rcpt_code) + " rcpt\r\n");
      } else if (line == "DATA") {
        Send("354 go\r\n");
        std::string data;
        while (ReadLine(&line) && line != ".") data += line + "\r\n";
        {
          MutexLock l(&mu_);
          data_ = data;
        }
        Send("250 queued\r\n");
      } else if (line == "QUIT") {
        Send("221 bye\r\n");
        return;
      } else {
        Send("500 unknown\r\n");
      }
    }
  }

  Script script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  int conn_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buf_;
  std::thread thread_;
  Mutex mu_;
  std::vector<std::string> commands_ GUARDED_BY(mu_);
  std::string data_ GUARDED_BY(mu_);
  bool tls_used_ GUARDED_BY(mu_) = false;
};

class SmtpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
        dir_->Path("key.pem") + " -out " + dir_->Path("cert.pem") + " >/dev/null 2>&1";
    have_cert_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() { delete dir_; }

  SmtpOptions Options(uint16_t port) {
    SmtpOptions o;
    o.host = "127.0.0.1";
    o.port = port;
    o.hello = "tyto.test";
    o.require_tls = false;
    o.timeout = 10s;
    return o;
  }
  SmtpMessage Message() {
    SmtpMessage m;
    m.from = "tyto@example.com";
    m.to = {"ops@example.com", "dev@example.com"};
    m.data = "Subject: hi\n\n.leading dot\nbody\n";
    return m;
  }
  FakeSmtpServer::Script TlsScript() {
    FakeSmtpServer::Script s;
    s.cert = dir_->Path("cert.pem");
    s.key = dir_->Path("key.pem");
    return s;
  }

  static testing::TempDir* dir_;
  static bool have_cert_;
};
testing::TempDir* SmtpTest::dir_ = nullptr;
bool SmtpTest::have_cert_ = false;

TEST_F(SmtpTest, PlainConversationWithAuthPlain) {
  FakeSmtpServer::Script s;
  s.auth = "PLAIN LOGIN";
  FakeSmtpServer server(s);
  SmtpOptions o = Options(server.port());
  o.username = "user";
  o.password = "pw";
  SmtpResult r = SmtpSend(o, Message());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(server.Commands(),
            (std::vector<std::string>{"EHLO tyto.test", "AUTH PLAIN " + B64(std::string("\0user\0pw", 8)),
                                      "MAIL FROM:<tyto@example.com>", "RCPT TO:<ops@example.com>",
                                      "RCPT TO:<dev@example.com>", "DATA", "QUIT"}));
  // Dot-stuffed on the wire: the fake server sees the doubled dot.
  EXPECT_EQ(server.Data(), "Subject: hi\r\n\r\n..leading dot\r\nbody\r\n");
  EXPECT_FALSE(server.TlsUsed());
}

TEST_F(SmtpTest, AuthLoginAndCramMd5) {
  {
    FakeSmtpServer::Script s;
    s.auth = "LOGIN";
    FakeSmtpServer server(s);
    SmtpOptions o = Options(server.port());
    o.username = "user";
    o.password = "pw";
    ASSERT_TRUE(SmtpSend(o, Message()).status.ok());
    const auto c = server.Commands();
    ASSERT_GE(c.size(), 4u);
    EXPECT_EQ(c[1], "AUTH LOGIN");
    EXPECT_EQ(c[2], B64("user"));
    EXPECT_EQ(c[3], B64("pw"));
  }
  {
    FakeSmtpServer::Script s;
    s.auth = "CRAM-MD5 PLAIN";
    FakeSmtpServer server(s);
    SmtpOptions o = Options(server.port());
    o.username = "user";
    o.secret = "sekrit";
    ASSERT_TRUE(SmtpSend(o, Message()).status.ok());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const std::string challenge = "<1.2@fake>";
    HMAC(EVP_md5(), "sekrit", 6, reinterpret_cast<const unsigned char*>(challenge.data()), challenge.size(), mac, &n);
    std::string hex;
    char b[3];
    for (unsigned i = 0; i < n; ++i) {
      std::snprintf(b, sizeof(b), "%02x", mac[i]);
      hex += b;
    }
    const auto c = server.Commands();
    ASSERT_GE(c.size(), 3u);
    EXPECT_EQ(c[1], "AUTH CRAM-MD5");
    EXPECT_EQ(c[2], B64("user " + hex));
  }
}

TEST_F(SmtpTest, StartTlsWhenOffered) {
  if (!have_cert_) GTEST_SKIP() << "openssl could not make a test certificate";
  FakeSmtpServer::Script s = TlsScript();
  s.starttls = true;
  s.auth = "PLAIN";
  FakeSmtpServer server(s);
  SmtpOptions o = Options(server.port());
  o.require_tls = true;
  o.ca_file = dir_->Path("cert.pem");
  o.username = "user";
  o.password = "pw";
  SmtpResult r = SmtpSend(o, Message());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(server.TlsUsed());
  const auto c = server.Commands();
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[0], "EHLO tyto.test");
  EXPECT_EQ(c[1], "STARTTLS");
  EXPECT_EQ(c[2], "EHLO tyto.test");  // again, inside TLS
  EXPECT_EQ(server.Data(), "Subject: hi\r\n\r\n..leading dot\r\nbody\r\n");
}

TEST_F(SmtpTest, UntrustedCertificateFailsWithoutRetry) {
  if (!have_cert_) GTEST_SKIP() << "openssl could not make a test certificate";
  FakeSmtpServer::Script s = TlsScript();
  s.starttls = true;
  FakeSmtpServer server(s);
  SmtpResult r = SmtpSend(Options(server.port()), Message());  // no ca_file
  EXPECT_FALSE(r.status.ok());
  EXPECT_FALSE(r.retry);
  EXPECT_NE(r.status.message().find("STARTTLS"), std::string::npos) << r.status.ToString();
  EXPECT_NE(r.status.message().find("certificate"), std::string::npos) << r.status.ToString();
}

TEST_F(SmtpTest, ImplicitTls) {
  if (!have_cert_) GTEST_SKIP() << "openssl could not make a test certificate";
  FakeSmtpServer::Script s = TlsScript();
  s.implicit_tls = true;
  FakeSmtpServer server(s);
  SmtpOptions o = Options(server.port());
  o.implicit_tls = true;
  o.require_tls = true;
  o.ca_file = dir_->Path("cert.pem");
  SmtpResult r = SmtpSend(o, Message());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_TRUE(server.TlsUsed());
  EXPECT_EQ(server.Commands().front(), "EHLO tyto.test");
}

TEST_F(SmtpTest, RequireTlsWithoutStartTlsFails) {
  FakeSmtpServer server({});
  SmtpOptions o = Options(server.port());
  o.require_tls = true;
  SmtpResult r = SmtpSend(o, Message());
  EXPECT_FALSE(r.status.ok());
  EXPECT_FALSE(r.retry);
  EXPECT_NE(r.status.message().find("does not advertise the STARTTLS extension"), std::string::npos)
      << r.status.ToString();
}

TEST_F(SmtpTest, RejectedRecipientNamesStepAndCode) {
  {
    FakeSmtpServer::Script s;
    s.rcpt_code = 550;
    FakeSmtpServer server(s);
    SmtpResult r = SmtpSend(Options(server.port()), Message());
    EXPECT_FALSE(r.status.ok());
    EXPECT_FALSE(r.retry);
    EXPECT_EQ(r.reply_code, 550);
    EXPECT_NE(r.status.message().find("RCPT TO <ops@example.com>"), std::string::npos) << r.status.ToString();
    EXPECT_NE(r.status.message().find("550"), std::string::npos);
  }
  {
    FakeSmtpServer::Script s;
    s.rcpt_code = 451;
    FakeSmtpServer server(s);
    SmtpResult r = SmtpSend(Options(server.port()), Message());
    EXPECT_FALSE(r.status.ok());
    EXPECT_TRUE(r.retry);  // 4xx is transient in SMTP
  }
}

TEST_F(SmtpTest, PasswordIsNotSentInClearToARemoteHost) {
  // "localhost" is exempt (as in Go's net/smtp); a name that is not gets refused before AUTH.
  FakeSmtpServer::Script s;
  s.auth = "PLAIN";
  s.address = "127.0.0.2";  // loopback too, but not a name the exemption knows
  FakeSmtpServer server(s);
  SmtpOptions o = Options(server.port());
  o.host = "127.0.0.2";
  o.username = "user";
  o.password = "pw";
  SmtpResult r = SmtpSend(o, Message());
  EXPECT_FALSE(r.status.ok());
  EXPECT_FALSE(r.retry);
  EXPECT_NE(r.status.message().find("unencrypted"), std::string::npos) << r.status.ToString();
  for (const std::string& c : server.Commands()) EXPECT_FALSE(c.starts_with("AUTH")) << c;
}

TEST_F(SmtpTest, ConnectionRefusedAndTimeoutAreRetried) {
  SmtpResult refused = SmtpSend(Options(ClosedPort()), Message());
  EXPECT_FALSE(refused.status.ok());
  EXPECT_TRUE(refused.retry);
  EXPECT_NE(refused.status.message().find("connect"), std::string::npos) << refused.status.ToString();

  FakeSmtpServer::Script s;
  s.silent = true;
  FakeSmtpServer server(s);
  SmtpOptions o = Options(server.port());
  o.timeout = 200ms;
  SmtpResult late = SmtpSend(o, Message());
  EXPECT_EQ(late.status.code(), StatusCode::kDeadlineExceeded) << late.status.ToString();
  EXPECT_TRUE(late.retry);
  EXPECT_NE(late.status.message().find("greeting"), std::string::npos);
}

TEST(SmtpHelpersTest, DotStuffAndAddressLists) {
  EXPECT_EQ(DotStuff("a\n.b\r\n..c"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(DotStuff(""), ".\r\n");
  auto list = ParseAddressList("\"Ops, Team\" <ops@example.com>, dev@example.com");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (std::vector<std::string>{"ops@example.com", "dev@example.com"}));
  EXPECT_FALSE(ParseAddressList("nobody").ok());
  EXPECT_FALSE(ParseAddressList("").ok());
}

// Outbound TLS (issue 12): email_configs' tls_config reaches the SMTP client: the certificate
// is verified (chain and host name) unless insecure_skip_verify; ca_file trusts a CA.
TEST_F(SmtpTest, EmailTlsConfigVerifiesChainAndHostName) {
  if (!have_cert_) GTEST_SKIP() << "openssl could not make a test certificate";
  auto deliver = [&](EmailConfig e) {
    FakeSmtpServer::Script s = TlsScript();
    s.starttls = true;
    FakeSmtpServer server(s);
    Receiver r;
    r.name = "team-x";
    e.to = "ops@example.com";
    e.from = "tyto@example.com";
    e.smarthost = "127.0.0.1:" + std::to_string(server.port());
    r.email_configs.push_back(e);
    IntegrationOptions options;
    options.hostname = "tyto.test";
    auto list = BuildIntegrations(r, GlobalConfig{}, nullptr, options);
    EXPECT_EQ(list.size(), 1u);
    Notification n;
    n.receiver = "team-x";
    n.group_labels = {{"alertname", "GpuHot"}};
    n.now_ms = 1700000000000;
    Alert a;
    a.labels = {{"alertname", "GpuHot"}};
    a.starts_at_ms = n.now_ms - 1000;
    n.alerts = {a};
    return list[0]->Deliver(n, 10000).status;
  };
  Status untrusted = deliver({});
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.message().find("certificate verification failed"), std::string::npos)
      << untrusted.ToString();

  EmailConfig trusted;
  trusted.tls_ca_file = dir_->Path("cert.pem");
  Status ok = deliver(trusted);
  EXPECT_TRUE(ok.ok()) << ok.ToString();

  EmailConfig wrong_name = trusted;
  wrong_name.tls_server_name = "mail.example";
  Status refused = deliver(wrong_name);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("certificate verification failed: hostname mismatch"), std::string::npos)
      << refused.ToString();

  EmailConfig skip;
  skip.tls_insecure_skip_verify = true;
  Status skipped = deliver(skip);
  EXPECT_TRUE(skipped.ok()) << skipped.ToString();
}

TEST_F(SmtpTest, EmailIntegrationSendsAMimeMessage) {
  FakeSmtpServer server({});
  Receiver r;
  r.name = "team-x";
  EmailConfig e;
  e.to = "Ops <ops@example.com>";
  e.from = "tyto@example.com";
  e.smarthost = "127.0.0.1:" + std::to_string(server.port());
  e.require_tls = false;
  e.headers = {{"x-team", "ml"}};
  r.email_configs.push_back(e);
  IntegrationOptions options;
  options.hostname = "tyto.test";
  auto list = BuildIntegrations(r, GlobalConfig{}, nullptr, options);
  ASSERT_EQ(list.size(), 1u);
  Notification n;
  n.receiver = "team-x";
  n.group_key = "{}:{}";
  n.group_labels = {{"alertname", "GpuHot"}};
  n.external_url = "http://tyto:9800";
  n.now_ms = 1700000000000;
  Alert a;
  a.labels = {{"alertname", "GpuHot"}, {"gpu", "0"}};
  a.annotations = {{"summary", "GPU 0 at 95 \xC2\xB0""C = too hot"}};
  a.starts_at_ms = n.now_ms - 1000;
  n.alerts = {a};
  n.common_labels = a.labels;
  DeliveryResult res = list[0]->Deliver(n, 10000);
  ASSERT_TRUE(res.status.ok()) << res.status.ToString();
  const std::string data = server.Data();
  EXPECT_NE(data.find("Subject: [FIRING:1] GpuHot (0)\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("To: Ops <ops@example.com>\r\n"), std::string::npos);
  EXPECT_NE(data.find("From: tyto@example.com\r\n"), std::string::npos);
  EXPECT_NE(data.find("X-Team: ml\r\n"), std::string::npos);
  EXPECT_NE(data.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos);
  EXPECT_NE(data.find("@tyto.test>\r\n"), std::string::npos);
  EXPECT_NE(data.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(data.find("Content-Type: multipart/alternative;  boundary="), std::string::npos);
  const size_t text = data.find("Content-Type: text/plain; charset=UTF-8");
  const size_t html = data.find("Content-Type: text/html; charset=UTF-8");
  ASSERT_NE(text, std::string::npos);
  ASSERT_NE(html, std::string::npos);
  EXPECT_LT(text, html);  // the preferred alternative last
  // Quoted-printable: '=' and the non-ASCII degree sign encoded.
  EXPECT_NE(data.find("95 =C2=B0C =3D too hot"), std::string::npos) << data;
  EXPECT_NE(data.find("View in Alertmanager"), std::string::npos);
  const auto c = server.Commands();
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[1], "MAIL FROM:<tyto@example.com>");
  EXPECT_EQ(c[2], "RCPT TO:<ops@example.com>");

  // Nothing listening: a retryable failure naming the smarthost.
  Receiver down = r;
  down.email_configs[0].smarthost = "127.0.0.1:" + std::to_string(ClosedPort());
  auto broken = BuildIntegrations(down, GlobalConfig{}, nullptr, options);
  DeliveryResult failed = broken[0]->Deliver(n, 5000);
  EXPECT_FALSE(failed.status.ok());
  EXPECT_TRUE(failed.retry);
  EXPECT_NE(failed.status.message().find("email_configs[0]"), std::string::npos) << failed.status.ToString();
}

}  // namespace
}  // namespace tyto::alertmanager
