// Tests of http::Server over real loopback sockets (port 0): keep-alive, limits, timeouts,
// gzip, TLS and its reload, the connection cap, handler failures, graceful shutdown, and
// streaming responses (server-sent events).
#include "http/server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <deque>

#include "common/mutex.h"
#include "http/gzip.h"
#include "http/sse.h"
#include "testing/http_client.h"
#include "testing/temp_dir.h"

namespace tyto::http {
namespace {

using namespace std::chrono_literals;
using testing::TestConnection;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add({"POST", "GET"}, "/echo", "echo", [](Request& r) { return Response::Text(200, r.body); });
    router_.Add({"GET"}, "/big", "big", [](Request&) { return Response::Text(200, std::string(20000, 'x')); });
    router_.Add({"GET", "POST"}, "/slow", "slow", [this](Request& r) {
      ++slow_started_;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(std::string(r.Param("ms").value_or("300")).c_str())));
      return Response::Text(200, "done");
    });
    router_.Add({"GET"}, "/huge", "huge", [](Request&) { return Response::Text(200, std::string(64 << 20, 'x')); });
    router_.Add({"GET"}, "/throw", "throw", [](Request&) -> Response { throw std::runtime_error("boom"); });
  }

  void StartServer(ServerOptions options = {}) {
    server_ = std::make_unique<Server>([this](Request& r) { return router_.Dispatch(r); }, &registry_, 2);
    ASSERT_TRUE(server_->SetOptions(options).ok());
    ASSERT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
    server_->Start();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(1s);
  }

  std::unique_ptr<TestConnection> Connect(bool tls = false) {
    auto c = TestConnection::Connect(port_, tls);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  instrumentation::Registry registry_;
  Router router_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::atomic<int> slow_started_{0};
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  auto c = Connect();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c->Send("POST", "/echo", {}, "hello " + std::to_string(i)).ok());
    auto r = c->Read();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello " + std::to_string(i));
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nA"
                         "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nB").ok());
  EXPECT_EQ(c->Read()->body, "A");
  EXPECT_EQ(c->Read()->body, "B");
}

TEST_F(ServerTest, HandlerSeesTheClientGoAway) {
  std::atomic<int> at_start{-1}, gone{-1};
  router_.Add({"GET"}, "/wait", "wait", [&](Request& r) {
    at_start = r.ClientGone();
    bool g = false;
    for (int i = 0; i < 2000 && !g; ++i) {  // at most 10 s
      std::this_thread::sleep_for(5ms);
      g = r.ClientGone();
    }
    gone = g;
    return Response::Text(200, "late");
  });
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET", "/wait").ok());
  for (int i = 0; i < 1000 && at_start < 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(at_start, 0);  // connected and waiting: not gone
  c.reset();               // the client gives up
  for (int i = 0; i < 2000 && gone < 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(gone, 1);
}

TEST_F(ServerTest, OversizedHeadersGet431) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET", "/echo", {{"X-Big", std::string(4000, 'a')}}).ok());
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  EXPECT_NE(r->body.find("max_header_bytes"), std::string::npos);
  EXPECT_TRUE(c->ClosedByPeer(2s));
}

TEST_F(ServerTest, OversizedBodyGets413BeforeTheBodyIsRead) {
  ServerOptions o;
  o.max_body_bytes = 1000;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n").ok());
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("1000 bytes"), std::string::npos);
  // The server stays healthy.
  auto ok = testing::HttpGet(port_, "/echo");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, MalformedRequestGets400) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n").ok());
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("malformed HTTP request"), std::string::npos);
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  StartServer(o);
  auto c = Connect();
  EXPECT_TRUE(c->ClosedByPeer(5s));
}

TEST_F(ServerTest, SlowRequestIsClosedAfterReadTimeout) {
  ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 60s;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c->ClosedByPeer(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

// Waits until the server has `want` connections open; false if it has not within `limit`.
bool WaitForConnections(const Server& server, size_t want, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (server.open_connections() != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  return server.open_connections() == want;
}

TEST_F(ServerTest, SlowlorisClientsAreCutWhileOthersAreServed) {
  ServerOptions o;
  o.header_timeout = 1500ms;
  o.read_timeout = 60s;  // only header_timeout can cut the slow ones
  o.idle_timeout = 60s;
  StartServer(o);
  // 50 clients send their headers a byte at a time, forever.
  std::vector<std::unique_ptr<TestConnection>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(Connect());
    ASSERT_TRUE(slow.back()->SendRaw("GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ").ok());
  }
  ASSERT_TRUE(WaitForConnections(*server_, 50, 5s));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop) {
      for (auto& c : slow) (void)c->SendRaw("a");  // fails once the server has cut it
      std::this_thread::sleep_for(50ms);
    }
  });
  // A normal request on another connection is answered while they hold theirs.
  auto r = testing::HttpRequest(port_, "POST", "/echo", {}, "hello");
  const size_t open_when_answered = server_->open_connections();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "hello");
  EXPECT_GE(open_when_answered, 50u) << "answered only after the slow clients were cut";
  // Then every slow one is cut at the header deadline, though it never stopped sending.
  EXPECT_TRUE(WaitForConnections(*server_, 0, 20s)) << server_->open_connections() << " still open";
  stop = true;
  trickle.join();
  for (auto& c : slow) EXPECT_TRUE(c->ClosedByPeer(1s));
  std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_requests_refused_total{reason=\"slow_client\"} 50"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_http_protocol_errors_total{reason=\"header_timeout\"} 50"), std::string::npos) << m;
}

TEST_F(ServerTest, BodyTricklingUnderTheMinimumRateIsCut) {
  ServerOptions o;
  o.header_timeout = 300ms;
  o.min_body_rate = 1000;  // bytes a second
  o.read_timeout = 60s;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").ok());
  // The server must have taken the connection before "none open" can mean "cut".
  ASSERT_TRUE(WaitForConnections(*server_, 1, 5s));
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    while (!stop && c->SendRaw("0123456789").ok()) std::this_thread::sleep_for(100ms);  // 100 bytes a second
  });
  EXPECT_TRUE(WaitForConnections(*server_, 0, 10s));
  stop = true;
  trickle.join();
  std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_protocol_errors_total{reason=\"body_too_slow\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_http_requests_refused_total{reason=\"slow_client\"} 1"), std::string::npos) << m;
}

TEST_F(ServerTest, BodyAtTheMinimumRateIsRead) {
  ServerOptions o;
  o.header_timeout = 300ms;
  o.min_body_rate = 1000;
  StartServer(o);
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4000\r\n\r\n").ok());
  for (int i = 0; i < 4; ++i) {  // 1000 bytes every 200 ms: 5000 bytes a second
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(c->SendRaw(std::string(1000, 'b')).ok());
  }
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, std::string(4000, 'b'));
}

TEST_F(ServerTest, ConnectionsBeyondThePerAddressCapGet429) {
  ServerOptions o;
  o.max_connections_per_address = 3;
  StartServer(o);
  std::vector<std::unique_ptr<TestConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Connect());
    ASSERT_TRUE(held.back()->Send("POST", "/echo", {}, "x").ok());
    ASSERT_TRUE(held.back()->Read().ok());
  }
  auto extra = Connect();
  auto r = extra->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 429);
  EXPECT_NE(r->body.find("max_connections_per_address"), std::string::npos) << r->body;
  // A slot given back is free again.
  held.pop_back();
  ASSERT_TRUE(WaitForConnections(*server_, 2, 5s));
  auto again = testing::HttpRequest(port_, "POST", "/echo", {}, "y");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 200);
  EXPECT_NE(registry_.Expose().find("tyto_http_requests_refused_total{reason=\"too_many_connections\"} 1"),
            std::string::npos);
}

TEST_F(ServerTest, ClientThatStopsReadingIsClosedAfterWriteTimeout) {
  ServerOptions o;
  o.write_timeout = 300ms;
  StartServer(o);
  auto c = Connect();
  // 64 MiB cannot fit in the socket buffers, so the write stalls while the client reads nothing.
  ASSERT_TRUE(c->Send("GET", "/huge").ok());
  auto wait_for = [&](size_t want, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (server_->open_connections() != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return server_->open_connections() == want;
  };
  ASSERT_TRUE(wait_for(1, 5s)) << "the connection never opened";
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(server_->open_connections(), 1u) << "closed before the write could stall";
  EXPECT_TRUE(wait_for(0, 10s)) << "still open long after write_timeout";
}

TEST_F(ServerTest, GzipWhenAskedAndLargeEnough) {
  StartServer();
  auto c = Connect();
  ASSERT_TRUE(c->Send("GET", "/big", {{"Accept-Encoding", "gzip"}}).ok());
  auto r = c->Read();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Header("Content-Encoding"), "gzip");
  EXPECT_LT(r->body.size(), 1000u);
  auto plain = GzipDecompress(r->body, 1 << 20);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, std::string(20000, 'x'));
  // Not asked: plain. Small: plain even when asked.
  ASSERT_TRUE(c->Send("GET", "/big").ok());
  r = c->Read();
  EXPECT_FALSE(r->Header("Content-Encoding"));
  EXPECT_EQ(r->body.size(), 20000u);
  ASSERT_TRUE(c->Send("POST", "/echo", {{"Accept-Encoding", "gzip"}}, "tiny").ok());
  r = c->Read();
  EXPECT_FALSE(r->Header("Content-Encoding"));
}

TEST_F(ServerTest, GzipCanBeTurnedOff) {
  ServerOptions o;
  o.gzip = false;
  StartServer(o);
  auto r = testing::HttpGet(port_, "/big", {{"Accept-Encoding", "gzip"}});
  EXPECT_FALSE(r->Header("Content-Encoding"));
}

TEST_F(ServerTest, HandlerExceptionGives500AndServerKeepsRunning) {
  StartServer();
  auto r = testing::HttpGet(port_, "/throw");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(testing::HttpGet(port_, "/echo")->status, 200);
  std::string metrics = registry_.Expose();
  EXPECT_NE(metrics.find("tyto_http_requests_total{handler=\"(exception)\",code=\"500\"} 1"), std::string::npos);
}

TEST_F(ServerTest, RecordsRequestsByHandlerAndCode) {
  StartServer();
  ASSERT_EQ(testing::HttpGet(port_, "/echo")->status, 200);
  ASSERT_EQ(testing::HttpGet(port_, "/echo")->status, 200);
  ASSERT_EQ(testing::HttpGet(port_, "/missing")->status, 404);
  std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_requests_total{handler=\"echo\",code=\"200\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_http_requests_total{handler=\"(unmatched)\",code=\"404\"} 1"), std::string::npos);
  EXPECT_NE(m.find("tyto_http_request_duration_seconds_count{handler=\"echo\"} 2"), std::string::npos);
}

TEST_F(ServerTest, CountsWhatHandlersRefuse) {
  router_.Add({"GET"}, "/limited", "limited", [](Request&) {
    Response r = Response::Error(429, "too_many_requests", "slow down");
    r.refused = "rate_limited";
    return r;
  });
  StartServer();
  ASSERT_EQ(testing::HttpGet(port_, "/limited")->status, 429);
  ASSERT_EQ(testing::HttpGet(port_, "/echo")->status, 200);
  std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_requests_refused_total{reason=\"rate_limited\"} 1"), std::string::npos) << m;
}

TEST_F(ServerTest, ExtraListenersEachReachTheirOwnHandlerOnSharedThreads) {
  server_ = std::make_unique<Server>([](Request&) { return Response::Text(200, "main"); }, &registry_, 2);
  ASSERT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
  std::vector<uint16_t> ports;
  for (int i = 0; i < 50; ++i) {
    auto p = server_->AddListener({"127.0.0.1", 0}, [i](Request& r) {
      Response resp = Response::Text(200, "listener " + std::to_string(i) + " " + r.path);
      resp.handler = "extra";
      return resp;
    });
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ports.push_back(*p);
  }
  // A port already taken is refused with the address named.
  auto taken = server_->AddListener({"127.0.0.1", ports[0]}, [](Request&) { return Response::Text(200, ""); });
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find(std::to_string(ports[0])), std::string::npos) << taken.status().ToString();
  server_->Start();
  EXPECT_EQ(testing::HttpGet(server_->port(), "/x")->body, "main");
  for (int i : {0, 17, 49}) {
    auto r = testing::HttpGet(ports[i], "/metrics");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "listener " + std::to_string(i) + " /metrics");
  }
  EXPECT_NE(registry_.Expose().find("tyto_http_requests_total{handler=\"extra\",code=\"200\"} 3"), std::string::npos);
  EXPECT_TRUE(server_->Shutdown(1s));
  // Every listener is closed by the shutdown.
  EXPECT_FALSE(TestConnection::Connect(ports[17], false, 1s).ok());
}

TEST_F(ServerTest, ConnectionsBeyondTheCapGet503) {
  ServerOptions o;
  o.max_connections = 2;
  StartServer(o);
  auto a = Connect();
  auto b = Connect();
  // Make sure both are registered before the third arrives.
  ASSERT_TRUE(a->Send("POST", "/echo", {}, "a").ok());
  ASSERT_TRUE(a->Read().ok());
  ASSERT_TRUE(b->Send("POST", "/echo", {}, "b").ok());
  ASSERT_TRUE(b->Read().ok());
  auto c = Connect();
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("too many open connections"), std::string::npos);
}

TEST_F(ServerTest, ServesAThousandConcurrentConnections) {
  // Client and server ends both live in this process: 2,000+ descriptors.
  struct rlimit rl;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
  if (rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 8192);
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < 2100) GTEST_SKIP() << "RLIMIT_NOFILE hard limit too low: " << rl.rlim_max;
  StartServer();
  std::vector<std::unique_ptr<TestConnection>> conns;
  for (int i = 0; i < 1000; ++i) {
    auto c = TestConnection::Connect(port_);
    ASSERT_TRUE(c.ok()) << "connection " << i << ": " << c.status().ToString();
    conns.push_back(std::move(c).value());
  }
  for (size_t i = 0; i < conns.size(); ++i) ASSERT_TRUE(conns[i]->Send("POST", "/echo", {}, std::to_string(i)).ok());
  for (size_t i = 0; i < conns.size(); ++i) {
    auto r = conns[i]->Read();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->body, std::to_string(i));
  }
  EXPECT_EQ(server_->open_connections(), 1000u);
}

TEST_F(ServerTest, ShutdownFinishesRequestsInFlightAndClosesIdleConnections) {
  StartServer();
  auto idle = Connect();
  auto busy = Connect();
  // A request still arriving (half its body sent) counts as in flight too.
  auto arriving = Connect();
  ASSERT_TRUE(busy->Send("GET", "/slow?ms=500").ok());
  ASSERT_TRUE(arriving->SendRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nhal").ok());
  while (slow_started_ == 0) std::this_thread::sleep_for(1ms);
  // connect() returns once the kernel has the connection; wait until the server has taken all
  // three (one still in the kernel's queue when the listener closes was never accepted).
  for (int i = 0; i < 500 && server_->open_connections() < 3; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(server_->open_connections(), 3u);
  std::thread stopper([this] { server_->Shutdown(10s); });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{stopper};
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(idle->ClosedByPeer(2s));
  ASSERT_TRUE(arriving->SendRaw("f!!").ok());
  auto a = arriving->Read();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->body, "half!!");
  EXPECT_EQ(a->Header("Connection"), "close");
  auto b = busy->Read();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->body, "done");
  stopper.join();
  server_.reset();
  EXPECT_FALSE(TestConnection::Connect(port_, false, 1s).ok());
}

TEST_F(ServerTest, ShutdownReturnsByTheDeadlineEvenIfAHandlerIsStuck) {
  // Shutdown leaves the stuck handler's thread running, so what that thread uses after this test
  // (the handler and the session's metrics registry) must outlive the fixture: static storage,
  // not the fixture's router and registry, which later tests' memory would replace.
  static auto* registry = new instrumentation::Registry();
  static auto* started = new std::atomic<int>(0);
  static auto* release = new std::atomic<bool>(false);
  server_ = std::make_unique<Server>(
      [](Request&) {
        ++*started;
        for (int i = 0; i < 8000 && !release->load(); ++i) std::this_thread::sleep_for(1ms);
        return Response::Text(200, "late");
      },
      registry, 2);
  ASSERT_TRUE(server_->Listen({"127.0.0.1", 0}).ok());
  server_->Start();
  port_ = server_->port();
  auto busy = Connect();
  ASSERT_TRUE(busy->Send("GET", "/stuck").ok());
  while (*started == 0) std::this_thread::sleep_for(1ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(server_->Shutdown(100ms));
  // Grace, then at most two seconds for the forced close; not the handler's eight.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  // The client sees the connection end without a response, never half of one.
  auto r = busy->Read();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  server_.reset();
  release->store(true);  // the abandoned thread ends soon, on state that is still there
}

class TlsServerTest : public ServerTest {
 protected:
  static std::string MakeCert(const std::string& dir, const std::string& name) {
    std::string cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost"
                      " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name + ".crt 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return dir + "/" + name;
  }
  testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
};

TEST_F(TlsServerTest, ServesTlsAndReloadsTheCertificate) {
  std::string first = MakeCert(dir_, "a");
  std::string second = MakeCert(dir_, "b");
  ServerOptions o;
  o.tls_cert_file = first + ".crt";
  o.tls_key_file = first + ".key";
  StartServer(o);
  auto c = Connect(/*tls=*/true);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("POST", "/echo", {}, "secret").ok());
  auto r = c->Read();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "secret");
  std::string fp1 = c->PeerCertificateSha256();

  o.tls_cert_file = second + ".crt";
  o.tls_key_file = second + ".key";
  ASSERT_TRUE(server_->SetOptions(o).ok());
  auto c2 = Connect(true);
  ASSERT_TRUE(c2);
  EXPECT_NE(c2->PeerCertificateSha256(), fp1);

  // A plain-text client gets no HTTP answer from a TLS port.
  auto plain = TestConnection::Connect(port_, false, 2s);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE((*plain)->Send("GET", "/echo").ok());
  EXPECT_FALSE((*plain)->Read().ok());
}

TEST_F(TlsServerTest, BadCertificateIsRejectedAndOldOptionsKept) {
  std::string good = MakeCert(dir_, "good");
  std::string other = MakeCert(dir_, "other");
  ServerOptions o;
  o.tls_cert_file = good + ".crt";
  o.tls_key_file = good + ".key";
  StartServer(o);
  ServerOptions bad = o;
  bad.tls_cert_file = dir_ + "/missing.crt";
  Status s = server_->SetOptions(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("missing.crt"), std::string::npos);
  ServerOptions mismatched = o;
  mismatched.tls_key_file = other + ".key";
  s = server_->SetOptions(mismatched);
  EXPECT_NE(s.message().find("TLS key " + other + ".key"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find(good + ".crt"), std::string::npos) << s.ToString();
  auto c = Connect(true);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Send("POST", "/echo", {}, "still").ok());
  EXPECT_EQ(c->Read()->body, "still");
}

TEST(HostPortTest, ParsesForms) {
  auto a = ParseHostPort("127.0.0.1:9800");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9800);
  auto b = ParseHostPort("[::1]:80");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  auto c = ParseHostPort(":9800");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "");
  EXPECT_FALSE(ParseHostPort("9800").ok());
  EXPECT_FALSE(ParseHostPort("host:99999").ok());
  EXPECT_FALSE(ParseHostPort("::1:80").ok());
  EXPECT_NE(ParseHostPort("x:y").status().message().find("port is not a number"), std::string::npos);
}

TEST(HostPortTest, LoopbackDetection) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost(""));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

// Streaming responses. The producer is a queue the test fills; the client a raw socket that reads
// whatever arrives, since TestConnection reads whole Content-Length responses only.
class TestStream final : public BodyStream {
 public:
  struct State {
    Mutex mu;
    std::deque<std::string> queue GUARDED_BY(mu);
    bool done GUARDED_BY(mu) = false;
    std::atomic<bool> destroyed{false};
    void Push(std::string s) {
      MutexLock lock(&mu);
      queue.push_back(std::move(s));
    }
    void End() {
      MutexLock lock(&mu);
      done = true;
    }
  };
  explicit TestStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~TestStream() override { state_->destroyed = true; }
  Chunk Poll() override {
    MutexLock lock(&state_->mu);
    Chunk c;
    while (!state_->queue.empty()) {
      c.data += state_->queue.front();
      state_->queue.pop_front();
    }
    c.done = state_->done;
    return c;
  }

 private:
  std::shared_ptr<State> state_;
};

class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) Close();
  }
  ~RawClient() { Close(); }
  bool ok() const { return fd_ >= 0; }
  void Send(std::string_view s) {
    while (fd_ >= 0 && !s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads until `marker` has arrived (true), or EOF or 10 s pass (false).
  bool ReadUntil(std::string_view marker) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (received_.find(marker) == std::string::npos) {
      if (eof_ || std::chrono::steady_clock::now() > deadline) return false;
      ReadSome(100);
    }
    return true;
  }
  // Reads until EOF (true) or 10 s pass.
  bool ReadToEof() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!eof_ && std::chrono::steady_clock::now() < deadline) ReadSome(100);
    return eof_;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  const std::string& received() const { return received_; }

 private:
  void ReadSome(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      eof_ = true;
      return;
    }
    received_.append(buf, static_cast<size_t>(n));
  }
  int fd_ = -1;
  bool eof_ = false;
  std::string received_;
};

// The body of a chunked response (after the blank line ending the headers), decoded; nullopt when
// the framing is broken. *complete: the last (empty) chunk arrived.
std::optional<std::string> Dechunk(const std::string& raw, bool* complete) {
  *complete = false;
  size_t pos = raw.find("\r\n\r\n");
  if (pos == std::string::npos) return std::nullopt;
  pos += 4;
  std::string out;
  while (pos < raw.size()) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    if (size == 0) {
      *complete = true;
      break;
    }
    if (eol + 2 + size + 2 > raw.size()) break;
    if (raw.compare(eol + 2 + size, 2, "\r\n") != 0) return std::nullopt;
    out += raw.substr(eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

class StreamTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    router_.Add({"GET"}, "/stream", "stream", [this](Request&) {
      auto state = std::make_shared<TestStream::State>();
      {
        MutexLock lock(&mu_);
        states_.push_back(state);
      }
      return SseResponse(std::make_shared<TestStream>(state));
    });
  }
  void StartStreams(uint64_t max_streams = 64) {
    ServerOptions o;
    o.max_streams = max_streams;
    o.stream_poll_interval = 20ms;
    StartServer(o);
  }
  std::shared_ptr<TestStream::State> State(size_t i) {
    MutexLock lock(&mu_);
    return i < states_.size() ? states_[i] : nullptr;
  }
  // Waits (bounded) until `done` holds.
  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return done();
  }
  static constexpr std::string_view kGet =
      "GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip\r\n\r\n";

  Mutex mu_;
  std::vector<std::shared_ptr<TestStream::State>> states_ GUARDED_BY(mu_);
};

TEST_F(StreamTest, DeliversEventsInOrderThenEnds) {
  StartStreams();
  RawClient c(port_);
  ASSERT_TRUE(c.ok());
  c.Send(kGet);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n")) << c.received();
  const std::string& head = c.received();
  EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-cache"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Accel-Buffering: no"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Encoding"), std::string::npos) << head;
  ASSERT_TRUE(Eventually([&] { return State(0) != nullptr; }));
  auto state = State(0);
  EXPECT_EQ(server_->open_streams(), 1u);
  for (int i = 0; i < 5; ++i) {
    state->Push(SseEvent("tick", "{\"n\":" + std::to_string(i) + "}\nsecond line", std::to_string(i)));
    ASSERT_TRUE(c.ReadUntil("id: " + std::to_string(i))) << c.received();
  }
  state->End();
  EXPECT_TRUE(c.ReadToEof());
  bool complete = false;
  auto body = Dechunk(c.received(), &complete);
  ASSERT_TRUE(body.has_value()) << c.received();
  EXPECT_TRUE(complete);
  std::string want;
  for (int i = 0; i < 5; ++i) {
    want += "event: tick\nid: " + std::to_string(i) + "\ndata: {\"n\":" + std::to_string(i) + "}\ndata: second line\n\n";
  }
  EXPECT_EQ(*body, want);
  EXPECT_TRUE(Eventually([&] { return server_->open_streams() == 0 && state->destroyed; }));
}

TEST_F(StreamTest, DisconnectingClientFreesTheSlot) {
  StartStreams();
  RawClient c(port_);
  c.Send(kGet);
  ASSERT_TRUE(c.ReadUntil("\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return State(0) != nullptr; }));
  EXPECT_EQ(server_->open_streams(), 1u);
  c.Close();
  EXPECT_TRUE(Eventually([&] { return server_->open_streams() == 0; }));
  EXPECT_TRUE(Eventually([&] { return State(0)->destroyed.load(); }));
  EXPECT_TRUE(Eventually([&] { return server_->open_connections() == 0; }));
}

TEST_F(StreamTest, CapRefusesTheNextStream) {
  StartStreams(/*max_streams=*/1);
  RawClient first(port_);
  first.Send(kGet);
  ASSERT_TRUE(first.ReadUntil("\r\n\r\n"));
  EXPECT_NE(first.received().find("200"), std::string::npos);
  auto second = testing::HttpGet(port_, "/stream");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 503);
  EXPECT_NE(second->body.find("http.max_streams"), std::string::npos) << second->body;
  // Ordinary requests still work, and the slot is free again once the first stream ends.
  EXPECT_EQ(testing::HttpGet(port_, "/echo")->status, 200);
  first.Close();
  ASSERT_TRUE(Eventually([&] { return server_->open_streams() == 0; }));
  RawClient third(port_);
  third.Send(kGet);
  ASSERT_TRUE(third.ReadUntil("\r\n\r\n"));
  EXPECT_NE(third.received().find("HTTP/1.1 200"), std::string::npos) << third.received();
}

TEST_F(StreamTest, ShutdownEndsOpenStreams) {
  StartStreams();
  RawClient a(port_), b(port_);
  a.Send(kGet);
  b.Send(kGet);
  ASSERT_TRUE(a.ReadUntil("\r\n\r\n"));
  ASSERT_TRUE(b.ReadUntil("\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return server_->open_streams() == 2; }));
  // The streams never end by themselves; shutdown ends them with the last chunk well within a
  // long grace period (it does not wait for the grace period to pass).
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->Shutdown(60s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  EXPECT_TRUE(a.ReadToEof());
  bool complete = false;
  ASSERT_TRUE(Dechunk(a.received(), &complete).has_value());
  EXPECT_TRUE(complete) << a.received();
  EXPECT_EQ(server_->open_streams(), 0u);
  server_.reset();
}

}  // namespace
}  // namespace tyto::http
