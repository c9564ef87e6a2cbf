// Tests of http::Client against http::Server over loopback sockets (port 0).
#include "http/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "http/server.h"
#include "testing/temp_dir.h"

namespace tyto::http {
namespace {

using namespace std::chrono_literals;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add({"GET"}, "/metrics", "metrics", [](Request& r) {
      Response res = Response::Text(200, "up 1\n" + std::string(r.Header("accept").value_or("")));
      return res;
    });
    router_.Add({"GET"}, "/big", "big", [](Request&) { return Response::Text(200, std::string(100000, 'x')); });
    router_.Add({"GET"}, "/slow", "slow", [](Request&) {
      std::this_thread::sleep_for(500ms);
      return Response::Text(200, "late");
    });
    router_.Add({"GET"}, "/missing", "missing", [](Request&) { return Response::Text(404, "no"); });
    router_.Add({"POST", "DELETE"}, "/echo", "echo", [](Request& r) {
      return Response::Text(200, r.method + " " + std::string(r.Header("content-length").value_or("-")) + " " +
                                     std::string(r.Param("q").value_or("")) + "|" + r.body);
    });
    server_ = std::make_unique<Server>([this](Request& r) { return router_.Dispatch(r); }, &registry_, 2);
    ASSERT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    server_->Start();
  }
  void TearDown() override { server_->Shutdown(1s); }

  Result<ClientResponse> Get(std::string target, std::chrono::milliseconds timeout = 5s, uint64_t max_body = 0,
                             uint16_t port = 0) {
    ClientRequest req;
    req.host = "127.0.0.1";
    req.port = port != 0 ? port : server_->port();
    req.target = std::move(target);
    req.timeout = timeout;
    req.max_body_bytes = max_body;
    req.headers = {{"Accept", "text/plain"}};
    std::promise<Result<ClientResponse>> p;
    client_.Send(req, [&p](Result<ClientResponse> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  instrumentation::Registry registry_;
  Router router_;
  std::unique_ptr<Server> server_;
  Client client_{2};
};

TEST_F(ClientTest, GetsStatusHeadersAndBody) {
  auto r = Get("/metrics");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "up 1\ntext/plain");
  EXPECT_NE(r->content_type.find("text/plain"), std::string::npos);
  auto missing = Get("/missing");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ClientTest, SendsTheMethodAndBodyGiven) {
  auto send = [this](std::string method, std::string body, std::vector<std::pair<std::string, std::string>> headers) {
    ClientRequest req;
    req.method = std::move(method);
    req.host = "127.0.0.1";
    req.port = server_->port();
    req.target = "/echo";
    req.body = std::move(body);
    req.headers = std::move(headers);
    std::promise<Result<ClientResponse>> p;
    client_.Send(req, [&p](Result<ClientResponse> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto form = send("POST", "q=up%7Bjob%3D%22x%22%7D", {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_TRUE(form.ok()) << form.status().ToString();
  EXPECT_EQ(form->body, "POST 23 up{job=\"x\"}|q=up%7Bjob%3D%22x%22%7D");
  auto empty = send("POST", "", {});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->body, "POST 0 |");
  auto del = send("DELETE", "", {});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->body, "DELETE - |");
}

TEST_F(ClientTest, BodyLimitTimeoutAndRefusedConnectionAreNamedErrors) {
  auto big = Get("/big", 5s, 1000);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted)
      << big.status().ToString() << (big.ok() ? " body " + std::to_string(big->body.size()) : "");
  EXPECT_TRUE(Get("/big", 5s, 100000).ok());

  auto slow = Get("/slow", 100ms);
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded) << slow.status().ToString();
  EXPECT_NE(slow.status().message().find("http://127.0.0.1:"), std::string::npos);

  // A port nobody listens on: bind one, then close it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  auto refused = Get("/metrics", 2s, 0, ntohs(addr.sin_port));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
}

TEST_F(ClientTest, ManyRequestsAtOnceOnTwoThreads) {
  constexpr int kRequests = 200;
  std::atomic<int> ok{0};
  std::promise<void> all;
  std::atomic<int> left{kRequests};
  for (int i = 0; i < kRequests; ++i) {
    ClientRequest req;
    req.host = "127.0.0.1";
    req.port = server_->port();
    req.target = "/metrics";
    client_.Send(req, [&](Result<ClientResponse> r) {
      if (r.ok() && r->status == 200) ++ok;
      if (--left == 0) all.set_value();
    });
  }
  all.get_future().wait();
  EXPECT_EQ(ok.load(), kRequests);
}

TEST_F(ClientTest, BadTlsFilesAreInvalidArgument) {
  ClientRequest req;
  req.https = true;
  req.host = "127.0.0.1";
  req.port = server_->port();
  req.tls.ca_file = "/nonexistent/ca.pem";
  std::promise<Result<ClientResponse>> p;
  client_.Send(req, [&p](Result<ClientResponse> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("/nonexistent/ca.pem"), std::string::npos);
}

// Outbound TLS (issue 12): every caller of http::Client (remote write and read, the agent's
// sender, webhooks, ClickHouse, the judge, `tyto query`) gets this: the certificate's chain and
// host name are verified by default, ca_file adds a trusted CA, and only insecure_skip_verify
// turns the check off.
TEST_F(ClientTest, VerifiesTheServerCertificateChainAndHostNameByDefault) {
  testing::TempDir dir;
  // A throwaway self-signed certificate (its own CA) for 127.0.0.1 and localhost only.
  const std::string base = dir.Path("server");
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      base + ".key -out " + base + ".crt 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (the openssl command is needed)";
  instrumentation::Registry registry;  // a second server's metrics need their own registry
  Server tls([this](Request& r) { return router_.Dispatch(r); }, &registry, 2);
  ServerOptions so;
  so.tls_cert_file = base + ".crt";
  so.tls_key_file = base + ".key";
  ASSERT_TRUE(tls.SetOptions(so).ok());
  ASSERT_TRUE(tls.Listen({"127.0.0.1", 0}).ok());
  tls.Start();
  auto get = [&](const std::string& host, TlsClientOptions o) {
    ClientRequest req;
    req.https = true;
    req.host = host;
    req.port = tls.port();
    req.target = "/metrics";
    req.timeout = 5s;
    req.tls = std::move(o);
    return client_.SendAndWait(std::move(req));
  };

  // Not in the system's trust store: refused, naming the verification.
  auto untrusted = get("127.0.0.1", {});
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), StatusCode::kUnavailable) << untrusted.status().ToString();
  EXPECT_NE(untrusted.status().message().find("certificate verify failed"), std::string::npos)
      << untrusted.status().ToString();

  // Its CA given: accepted, by IP address and by name.
  TlsClientOptions trusted;
  trusted.ca_file = base + ".crt";
  auto ok = get("127.0.0.1", trusted);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
  auto by_name = get("localhost", trusted);
  EXPECT_TRUE(by_name.ok()) << by_name.status().ToString();

  // The right CA but a name the certificate does not carry: refused.
  TlsClientOptions wrong_name = trusted;
  wrong_name.server_name = "tyto.example";
  auto refused = get("127.0.0.1", wrong_name);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("certificate verify failed"), std::string::npos)
      << refused.status().ToString();

  // Verification off, explicitly: accepted without the CA.
  TlsClientOptions skip;
  skip.insecure_skip_verify = true;
  EXPECT_TRUE(get("127.0.0.1", skip).ok());
  tls.Shutdown(1s);
}

}  // namespace
}  // namespace tyto::http
