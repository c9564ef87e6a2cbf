#include "api/otlp_handler.h"

#include <gtest/gtest.h>

#include "http/gzip.h"
#include "ingest/otlp_metrics.h"
#include "ingest/otlp_receiver.h"
#include "tenant/tenancy.h"
#include "testing/otlp_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::api {
namespace {

namespace pb = testing::otlp_pb;

class OtlpHandlerTest : public ::testing::Test {
 protected:
  OtlpHandlerTest() {
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::milliseconds(0);
    head_ = std::move(tsdb::Head::Open(Env::Default(), dir_.Path("wal"), o, nullptr)).value();
    receiver_ = std::make_unique<ingest::OtlpReceiver>(head_.get(), ingest::OtlpOptions{.max_decompressed_bytes = 4096},
                                                       &registry_);
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"agent", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kWrite})},
        {"grafana", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})},
        {"teams", auth::HashSecret("t"), auth::EffectiveScopes({auth::Scope::kWrite}), {"team-a", "team-b"}}}));
    tenancy_ = std::make_unique<tenant::Tenancy>(head_.get(), nullptr);
    AddOtlpRoutes(&router_, &guard_, &registry_, receiver_.get(), tenancy_.get());
  }

  http::Response Post(std::string body, http::Headers headers, const std::string& secret = "w") {
    http::Request req;
    req.method = "POST";
    req.target = req.path = "/v1/metrics";
    req.headers = std::move(headers);
    req.headers.emplace_back("Authorization", "Bearer " + secret);
    req.body = std::move(body);
    return router_.Dispatch(req);
  }

  static std::string Body(uint64_t t_ns, double v) {
    return pb::Request({pb::ResourceMetrics(
        {pb::Attr("service.name", "api")},
        {pb::ScopeMetrics("lib", "", {pb::Metric("g", "", pb::kGauge, pb::Gauge({pb::NumberPoint({}, t_ns, v)}))})})});
  }

  testing::TempDir dir_;
  instrumentation::Registry registry_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<ingest::OtlpReceiver> receiver_;
  auth::Guard guard_;
  http::Router router_;
  std::unique_ptr<tenant::Tenancy> tenancy_;
};

const http::Headers kProto = {{"Content-Type", "application/x-protobuf"}};
const http::Headers kJson = {{"Content-Type", "application/json; charset=utf-8"}};

TEST_F(OtlpHandlerTest, AnswersAsTheSpecificationAsks) {
  http::Response r = Post(Body(2'000'000'000, 1), kProto);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.body, "");  // an empty ExportMetricsServiceResponse

  // gzip, and a partial success: the older point is refused, counted in the response.
  http::Headers gz = kProto;
  gz.emplace_back("Content-Encoding", "gzip");
  r = Post(http::GzipCompress(Body(1'000'000'000, 2)), gz);
  EXPECT_EQ(r.status, 200);
  // partial_success (field 1) holding rejected_data_points = 1 (field 1) and error_message (field 2).
  EXPECT_EQ(r.body[0], '\x0a');
  EXPECT_NE(r.body.find(std::string("\x08\x01\x12", 3)), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("1 of 1 data points rejected; the first: resource_metrics[0]"), std::string::npos);

  // JSON in, JSON out.
  r = Post(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"j","gauge":{"dataPoints":[{"timeUnixNano":"3000000000","asDouble":4}]}}]}]}]})",
           kJson);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, "{}");

  r = Post(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"j","gauge":{"dataPoints":[{"timeUnixNano":true}]}}]}]}]})", kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"x({"code":3,"message":"resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].timeUnixNano: )x"
                    R"x(expected an unsigned 64-bit integer (a number or a string of digits)"})x");

  r = Post("\x0a\x05garbage", kProto);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("resource_metrics[0]: invalid protobuf at byte "), std::string::npos) << r.body;

  r = Post("not gzip", gz);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid gzip body"), std::string::npos);

  r = Post(http::GzipCompress(std::string(10000, '\0')), gz);  // decompresses past the 4096-byte cap
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("decompresses to more than 4096 bytes"), std::string::npos);

  EXPECT_EQ(Post(Body(5'000'000'000, 1), {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(Post(Body(5'000'000'000, 1), {}).status, 415);
  EXPECT_EQ(Post(Body(5'000'000'000, 1), {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "br"}}).status, 415);

  const std::string metrics = registry_.Expose();
  EXPECT_NE(metrics.find("tyto_otlp_requests_total{code=\"200\"} 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tyto_otlp_requests_total{code=\"400\"} 3\n"), std::string::npos);
  EXPECT_NE(metrics.find("tyto_otlp_requests_total{code=\"413\"} 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("tyto_otlp_requests_total{code=\"415\"} 3\n"), std::string::npos);
}

// Two tenants sending the same delta series each get their own running total: one's points
// neither add to nor block the other's.
TEST_F(OtlpHandlerTest, DeltaTotalsAreKeptPerTenant) {
  const auto delta = [](uint64_t t_s, double v) {
    return pb::Request({pb::ResourceMetrics(
        {pb::Attr("service.name", "api")},
        {pb::ScopeMetrics("lib", "", {pb::Metric("tokens", "", pb::kSum,
                                                 pb::Sum({pb::NumberPoint({}, t_s * 1'000'000'000, v)}, pb::kDelta, true))})})});
  };
  const auto as = [&](const char* tenant, std::string body) {
    http::Headers h = kProto;
    h.emplace_back("X-Scope-OrgID", tenant);
    return Post(std::move(body), std::move(h), "t");
  };
  ASSERT_EQ(as("team-a", delta(10, 5)).status, 200);
  http::Response r = as("team-b", delta(2, 1));  // earlier than team-a's point: still B's first
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "") << "team-b's point was refused against team-a's series";
  ASSERT_EQ(as("team-b", delta(3, 1)).status, 200);
  ASSERT_EQ(as("team-a", delta(11, 5)).status, 200);
  const auto last = [&](const std::string& tenant) {
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__tenant__", tenant)});
    double v = -1;
    while (set->Next()) {
      auto it = set->Iterator();
      while (it->Next()) v = it->At().v;
    }
    return v;
  };
  EXPECT_EQ(last("team-a"), 10);
  EXPECT_EQ(last("team-b"), 2);
}

TEST_F(OtlpHandlerTest, NeedsTheWriteScope) {
  EXPECT_EQ(Post(Body(1'000'000'000, 1), kProto, "r").status, 403);
  EXPECT_EQ(Post(Body(1'000'000'000, 1), kProto, "nope").status, 401);
}

}  // namespace
}  // namespace tyto::api
