// Tests of http::Client against http::Server over loopback sockets (port 0).
#include "http/client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "http/server.h"

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

}  // namespace
}  // namespace tyto::http
