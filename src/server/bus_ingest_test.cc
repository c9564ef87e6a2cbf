#include "server/bus_ingest.h"

#include <gtest/gtest.h>

namespace tyto::server {
namespace {

BusMessage Msg(std::string kind, std::string type, std::string encoding, std::string body) {
  BusMessage m;
  m.kind = std::move(kind);
  m.content_type = std::move(type);
  m.content_encoding = std::move(encoding);
  m.body = std::move(body);
  return m;
}

// A router whose ingest routes record what they were sent and answer a chosen status.
struct FakeRoutes {
  int status = 200;
  http::Request last;
  http::Router router;
  FakeRoutes() {
    for (const char* path : {"/api/v1/write", "/v1/traces", "/v1/logs", "/v1/metrics", "/api/v1/events", "/api/v1/logs"}) {
      router.Add({"POST"}, path, path, [this](http::Request& r) {
        last = r;
        return http::Response::Text(status, "answer");
      });
    }
  }
};

TEST(BusIngestTest, EachKindGoesToItsRouteWithItsUsualEncoding) {
  FakeRoutes f;
  ASSERT_TRUE(DispatchIngest(f.router, "s3cret", Msg("metrics", "", "", "BODY")).ok());
  EXPECT_EQ(f.last.path, "/api/v1/write");
  EXPECT_EQ(f.last.body, "BODY");
  EXPECT_EQ(f.last.Header("Content-Type").value_or(""), "application/x-protobuf");
  EXPECT_EQ(f.last.Header("Content-Encoding").value_or(""), "snappy");
  EXPECT_EQ(f.last.Header("Authorization").value_or(""), "Bearer s3cret");

  ASSERT_TRUE(DispatchIngest(f.router, "", Msg("events", "", "gzip", "{}")).ok());
  EXPECT_EQ(f.last.path, "/api/v1/events");
  EXPECT_EQ(f.last.Header("Content-Encoding").value_or(""), "gzip");
  EXPECT_FALSE(f.last.Header("Authorization").has_value());

  ASSERT_TRUE(DispatchIngest(f.router, "", Msg("spans", "application/json", "", "{}")).ok());
  EXPECT_EQ(f.last.path, "/v1/traces");
  EXPECT_EQ(f.last.Header("Content-Type").value_or(""), "application/json");
  EXPECT_FALSE(f.last.Header("Content-Encoding").has_value());
  EXPECT_EQ(IngestRoute("logs", "application/x-ndjson"), "/api/v1/logs");
  EXPECT_EQ(IngestRoute("logs", "application/x-protobuf"), "/v1/logs");
  EXPECT_EQ(IngestRoute("metrics", "application/x-protobuf", "snappy"), "/api/v1/write");
  EXPECT_EQ(IngestRoute("metrics", "application/json"), "/v1/metrics");
  EXPECT_EQ(IngestRoute("nope"), "");
}

// The subject's tenant is who the batch is stored for: the internal token acts for it.
TEST(BusIngestTest, TheSubjectsTenantGoesAsXScopeOrgID) {
  FakeRoutes f;
  BusMessage m = Msg("spans", "", "", "{}");
  m.tenant = "team-a";
  ASSERT_TRUE(DispatchIngest(f.router, "s3cret", m).ok());
  EXPECT_EQ(f.last.Header("X-Scope-OrgID").value_or(""), "team-a");
  ASSERT_TRUE(DispatchIngest(f.router, "s3cret", Msg("spans", "", "", "{}")).ok());
  EXPECT_EQ(f.last.Header("X-Scope-OrgID").value_or(""), "default");
}

TEST(BusIngestTest, TheSourceGoesAsIdempotencyKeyAndSaysAFirstDelivery) {
  FakeRoutes f;
  BusMessage m = Msg("events", "", "", "{}");
  m.source = "nats:agent-1:0:100:abc";
  m.first_delivery = true;
  ASSERT_TRUE(DispatchIngest(f.router, "", m).ok());
  EXPECT_EQ(f.last.Header("Idempotency-Key").value_or(""), "nats:agent-1:0:100:abc");
  EXPECT_EQ(f.last.Header("X-Tyto-First-Delivery").value_or(""), "true");
  m.first_delivery = false;  // redelivered: the store looks for an earlier copy
  ASSERT_TRUE(DispatchIngest(f.router, "", m).ok());
  EXPECT_FALSE(f.last.Header("X-Tyto-First-Delivery").has_value());
  ASSERT_TRUE(DispatchIngest(f.router, "", Msg("events", "", "", "{}")).ok());
  EXPECT_FALSE(f.last.Header("Idempotency-Key").has_value());
  EXPECT_FALSE(f.last.Header("X-Tyto-Received-At").has_value());
  // When the stream stored it: the time of its records that carry none, at every delivery.
  m.received_ms = 1'700'000'000'123;
  ASSERT_TRUE(DispatchIngest(f.router, "", m).ok());
  EXPECT_EQ(f.last.Header("X-Tyto-Received-At").value_or(""), "1700000000123");
}

TEST(BusIngestTest, AnswersMapToAcknowledgeTerminateOrRetry) {
  FakeRoutes f;
  f.status = 400;
  Status st = DispatchIngest(f.router, "", Msg("logs", "", "", "x"));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("/v1/logs answered 400"), std::string::npos) << st.message();
  f.status = 413;
  EXPECT_EQ(DispatchIngest(f.router, "", Msg("logs", "", "", "x")).code(), StatusCode::kInvalidArgument);
  f.status = 503;
  EXPECT_EQ(DispatchIngest(f.router, "", Msg("logs", "", "", "x")).code(), StatusCode::kUnavailable);
  f.status = 429;
  EXPECT_EQ(DispatchIngest(f.router, "", Msg("logs", "", "", "x")).code(), StatusCode::kUnavailable);
  f.status = 401;  // the internal token was refused: a configuration problem, retried
  EXPECT_EQ(DispatchIngest(f.router, "", Msg("logs", "", "", "x")).code(), StatusCode::kUnavailable);
  f.status = 204;
  EXPECT_TRUE(DispatchIngest(f.router, "", Msg("logs", "", "", "x")).ok());
  EXPECT_EQ(DispatchIngest(f.router, "", Msg("traces", "", "", "x")).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tyto::server
