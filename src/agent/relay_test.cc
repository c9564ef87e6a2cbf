#include "agent/relay.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alertmanager/fake_http_receiver.h"
#include "http/client.h"

namespace tyto::agent {
namespace {

// Records what the relay hands over and answers a chosen Status.
class RecordingTransport final : public TelemetryTransport {
 public:
  Status Publish(const server::BusMessage& m) override {
    got.push_back(m);
    return answer;
  }
  std::vector<server::BusMessage> got;
  Status answer;
};

http::Response Post(const http::Router& router, const std::string& path, const std::string& type,
                    const std::string& body, const std::string& encoding = "") {
  http::Request req;
  req.method = "POST";
  req.path = req.target = path;
  if (!type.empty()) req.headers.emplace_back("Content-Type", type);
  if (!encoding.empty()) req.headers.emplace_back("Content-Encoding", encoding);
  req.body = body;
  return router.Dispatch(req);
}

struct RelayFixture {
  instrumentation::Registry registry;
  auth::Guard guard;  // no tokens: open
  http::Router router;
  RecordingTransport transport;
  RelayFixture() { AddRelayRoutes(&router, &guard, &registry, &transport); }
};

TEST(RelayTest, PassesEachBodyOnAsItCameWithItsKind) {
  RelayFixture f;
  EXPECT_EQ(Post(f.router, "/v1/traces", "application/x-protobuf", "PB", "gzip").status, 200);
  EXPECT_EQ(Post(f.router, "/v1/logs", "application/json", "{}").status, 200);
  EXPECT_EQ(Post(f.router, "/api/v1/events", "", "{\"type\":\"inference\"}\n").status, 202);
  EXPECT_EQ(Post(f.router, "/api/v1/logs", "application/x-ndjson", "{}\n").status, 202);
  ASSERT_EQ(f.transport.got.size(), 4u);
  EXPECT_EQ(f.transport.got[0].kind, "spans");
  EXPECT_EQ(f.transport.got[0].body, "PB");
  EXPECT_EQ(f.transport.got[0].content_encoding, "gzip");
  EXPECT_EQ(f.transport.got[1].kind, "logs");
  EXPECT_EQ(f.transport.got[2].kind, "events");
  EXPECT_EQ(f.transport.got[2].content_type, "application/x-ndjson");  // JSON lines keep their kind of body
  EXPECT_EQ(f.transport.got[3].kind, "logs");
  EXPECT_EQ(server::IngestRoute(f.transport.got[3].kind, f.transport.got[3].content_type), "/api/v1/logs");
  EXPECT_EQ(server::IngestRoute(f.transport.got[1].kind, f.transport.got[1].content_type), "/v1/logs");
}

TEST(RelayTest, RefusesWhatTheServerWouldAndAsksForRetriesWhenDownstreamIsDown) {
  RelayFixture f;
  EXPECT_EQ(Post(f.router, "/v1/traces", "text/html", "x").status, 415);
  EXPECT_EQ(Post(f.router, "/v1/traces", "application/x-protobuf", "x", "br").status, 415);
  EXPECT_TRUE(f.transport.got.empty());
  f.transport.answer = Unavailable("nats down");
  http::Response r = Post(f.router, "/v1/traces", "application/x-protobuf", "x");
  EXPECT_EQ(r.status, 503);
  bool retry_after = false;
  for (const auto& [k, v] : r.headers) retry_after = retry_after || k == "Retry-After";
  EXPECT_TRUE(retry_after);
  f.transport.answer = InvalidArgument("too large");
  EXPECT_EQ(Post(f.router, "/api/v1/events", "", "x").status, 400);
}

TEST(RelayTest, HttpTransportPostsToTheServersRouteWithCredentials) {
  alertmanager::FakeHttpReceiver server;
  HttpTransportOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.bearer_token = "tok";
  o.timeout = std::chrono::seconds(5);
  auto t = HttpTransport::Create(o, http::TlsClientOptions{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  server::BusMessage m;
  m.kind = "logs";
  m.content_type = "application/x-ndjson";
  m.body = "{\"body\":\"x\"}\n";
  ASSERT_TRUE((*t)->Publish(m).ok());
  std::vector<http::Request> got = server.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/api/v1/logs");
  EXPECT_EQ(got[0].body, m.body);
  EXPECT_EQ(got[0].Header("Authorization").value_or(""), "Bearer tok");
  server.Queue({503, "busy"});
  EXPECT_EQ((*t)->Publish(m).code(), StatusCode::kUnavailable);
  server.Queue({400, "bad line"});
  Status bad = (*t)->Publish(m);
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("bad line"), std::string::npos) << bad.message();
}

}  // namespace
}  // namespace tyto::agent
