// Tests of access-log recognition (attributes and the Common/Combined Log Format) and of the
// tyto_access_log_* signals counted from logs sent in.
#include "events/access_log.h"

#include <gtest/gtest.h>

namespace tyto::events {
namespace {

TEST(AccessLogTest, CommonAndCombinedLogFormat) {
  auto e = ParseCommonLogFormat(R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326)");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 200);
  EXPECT_EQ(e->method, "GET");
  EXPECT_EQ(e->path, "/apache_pb.gif");
  EXPECT_EQ(e->client, "127.0.0.1");
  e = ParseCommonLogFormat(
      R"(203.0.113.9 - - [23/Nov/2026:10:00:00 +0000] "POST /login?next=%2F HTTP/1.1" 401 12 "-" "curl/8.0")");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 401);
  EXPECT_EQ(e->path, "/login") << "the query is not part of the path";
  e = ParseCommonLogFormat(R"(::1 - - [x] "GET /a\"b HTTP/1.1" 404 -)");
  ASSERT_TRUE(e) << "an escaped quote inside the request";
  EXPECT_EQ(e->status, 404);
  EXPECT_EQ(e->client, "::1");
  for (const char* not_one : {"", "hello world", "INFO starting server on :8080",
                              R"(1.2.3.4 - - [d] "GET / HTTP/1.1" 999 1)", R"(1.2.3.4 - - [d] "GET / HTTP/1.1" 200)",
                              R"(1.2.3.4 - - [d] "GET / HTTP/1.1 200 1)", R"(1.2.3.4 - - d "GET / HTTP/1.1" 200 1)"}) {
    EXPECT_FALSE(ParseCommonLogFormat(not_one)) << not_one;
  }
}

TEST(AccessLogTest, OpenTelemetryHttpAttributes) {
  LogRecord r;
  r.body = "request served";
  r.attributes = {{"http.response.status_code", "403"}, {"http.route", "/api/users/:id"},
                  {"http.request.method", "DELETE"}, {"client.address", "10.0.0.7"}};
  auto e = ParseAccessLog(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 403);
  EXPECT_EQ(e->path, "/api/users/:id");
  EXPECT_EQ(e->method, "DELETE");
  EXPECT_EQ(e->client, "10.0.0.7");
  r.attributes = {{"http.status_code", "500"}, {"net.peer.ip", "8.8.8.8"}};  // the older names
  e = ParseAccessLog(r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 500);
  EXPECT_EQ(e->client, "8.8.8.8");
  r.attributes = {{"http.response.status_code", "two hundred"}};
  EXPECT_FALSE(ParseAccessLog(r));
  r.attributes = {{"user", "bob"}};
  EXPECT_FALSE(ParseAccessLog(r)) << "neither attributes nor a log-format body";
}

TEST(AccessLogSignalsTest, CountsTheSignalsByService) {
  instrumentation::Registry registry;
  AccessLogSignals signals(&registry);
  auto clf = [](const std::string& service, int status) {
    LogRecord r;
    r.service = service;
    r.body = "198.51.100.4 - - [23/Nov/2026:10:00:00 +0000] \"GET /wp-login.php HTTP/1.1\" " + std::to_string(status) +
             " 0";
    return r;
  };
  LogRecord plain;
  plain.service = "api";
  plain.body = "cache warmed";
  EXPECT_EQ(signals.Observe({clf("nginx", 401), clf("nginx", 401), clf("nginx", 404), clf("nginx", 200),
                             clf("nginx", 413), clf("nginx", 429), clf("api", 403), plain}),
            7u);
  const std::string m = registry.Expose();
  EXPECT_NE(m.find("tyto_access_log_auth_failures_total{service=\"nginx\"} 2"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_auth_failures_total{service=\"api\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_unknown_path_total{service=\"nginx\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_refused_total{service=\"nginx\",reason=\"body_too_large\"} 1"), std::string::npos);
  EXPECT_NE(m.find("tyto_access_log_refused_total{service=\"nginx\",reason=\"rate_limited\"} 1"), std::string::npos);
  EXPECT_NE(m.find("tyto_access_log_requests_total{service=\"nginx\",code=\"4xx\"} 5"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_access_log_requests_by_address_total{class=\"public\",bucket=\""), std::string::npos) << m;
}

TEST(AccessLogSignalsTest, ServiceLabelsAreBounded) {
  instrumentation::Registry registry;
  AccessLogSignals signals(&registry);
  std::vector<LogRecord> logs;
  for (size_t i = 0; i < AccessLogSignals::kMaxServices + 3; ++i) {
    LogRecord r;
    r.service = "svc-" + std::to_string(i);
    r.attributes = {{"http.response.status_code", "404"}};
    logs.push_back(r);
  }
  signals.Observe(logs);
  EXPECT_NE(registry.Expose().find("tyto_access_log_unknown_path_total{service=\"(other)\"} 3"), std::string::npos);
}

}  // namespace
}  // namespace tyto::events
