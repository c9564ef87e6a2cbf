#include "api/remote_write_handler.h"

#include <gtest/gtest.h>

#include <map>

#include "ingest/remote_write.h"
#include "tenant/tenancy.h"
#include "testing/fake_clock.h"
#include "ingest/snappy_codec.h"
#include "testing/fault_injection_env.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::api {
namespace {

using testing::EncodeWriteRequest;
using testing::RemoteWriteSeries;

class RemoteWriteHandlerTest : public ::testing::Test {
 protected:
  RemoteWriteHandlerTest() {
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::milliseconds(0);
    head_ = std::move(tsdb::Head::Open(&env_, dir_.Path("wal"), o, nullptr)).value();
    receiver_ = std::make_unique<ingest::RemoteWriteReceiver>(head_.get(), ingest::RemoteWriteOptions{}, &registry_);
    auth::Token limited{"team-l", auth::HashSecret("l"), auth::EffectiveScopes({auth::Scope::kWrite})};
    limited.tenants = {"team-l"};
    guard_.Set(std::make_shared<const auth::Authenticator>(std::vector<auth::Token>{
        {"agent", auth::HashSecret("w"), auth::EffectiveScopes({auth::Scope::kWrite})},
        {"grafana", auth::HashSecret("r"), auth::EffectiveScopes({auth::Scope::kRead})}, limited}));
    tenant::TenantLimits l;
    l.ingest_rate = 1;
    l.max_active_series = 1;
    limiter_ = std::make_unique<tenant::Limiter>(std::map<std::string, tenant::TenantLimits>{{"team-l", l}},
                                                 tenant::TenantLimits{}, &clock_);
    tenancy_ = std::make_unique<tenant::Tenancy>(head_.get(), limiter_.get());
    AddRemoteWriteRoutes(&router_, &guard_, &registry_, receiver_.get(), tenancy_.get());
  }

  http::Response Post(std::string body, http::Headers headers = {{"Content-Encoding", "snappy"}},
                      const std::string& secret = "w") {
    http::Request req;
    req.method = "POST";
    req.target = req.path = "/api/v1/write";
    req.headers = std::move(headers);
    req.headers.emplace_back("Authorization", "Bearer " + secret);
    req.body = std::move(body);
    return router_.Dispatch(req);
  }

  static std::string Body(int64_t t, double v, int exemplars = 0) {
    RemoteWriteSeries s{{{"__name__", "up"}, {"job", "node"}}, {{t, v}}, exemplars};
    return ingest::SnappyCompress(EncodeWriteRequest({s}));
  }

  // The samples of up{job="node"}.
  std::vector<Sample> Stored() {
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__name__", "up")});
    std::vector<Sample> out;
    while (set->Next()) {
      auto it = set->Iterator();
      while (it->Next()) out.push_back(it->At());
    }
    return out;
  }

  testing::TempDir dir_;
  testing::FaultInjectionEnv env_{Env::Default()};  // healthy until a test breaks it
  instrumentation::Registry registry_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<ingest::RemoteWriteReceiver> receiver_;
  auth::Guard guard_;
  http::Router router_;
  testing::FakeClock clock_;
  std::unique_ptr<tenant::Limiter> limiter_;
  std::unique_ptr<tenant::Tenancy> tenancy_;
};

TEST_F(RemoteWriteHandlerTest, AnswersAsTheSpecificationAsks) {
  http::Response r = Post(Body(1000, 1));
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.handler, "/api/v1/write");

  r = Post(Body(2000, 1, 2), {});  // no headers at all: accepted, as Prometheus does
  EXPECT_EQ(r.status, 204) << r.body;
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "X-Tyto-Ignored");
  EXPECT_EQ(r.headers[0].second, "exemplars=2 histograms=0 metadata=0");

  r = Post(Body(1500, 1));  // out of order: not retryable
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.rfind("1 of 1 samples rejected; the first: timeseries[0].samples[0]: sample at 1500", 0), 0u)
      << r.body;

  r = Post("\x01\x02garbage");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid snappy block"), std::string::npos) << r.body;

  r = Post(std::string("\xff\xff\xff\xff\x0f", 5));  // declares 4 GiB
  EXPECT_EQ(r.status, 413) << r.body;

  r = Post(Body(3000, 1), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 415);
  EXPECT_NE(r.body.find("unsupported Content-Encoding \"gzip\""), std::string::npos) << r.body;
  r = Post(Body(3000, 1), {{"Content-Encoding", "Snappy"},
                           {"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"}});
  EXPECT_EQ(r.status, 415) << r.body;
  r = Post(Body(3000, 1),
           {{"Content-Encoding", "snappy"}, {"Content-Type", "application/x-protobuf;proto=prometheus.WriteRequest"}});
  EXPECT_EQ(r.status, 204) << r.body;

  const std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"204\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"400\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"413\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"415\"} 2\n"), std::string::npos) << m;
}

TEST_F(RemoteWriteHandlerTest, AStorageFailureIsA500SoTheSenderRetries) {
  ASSERT_EQ(Post(Body(1000, 1)).status, 204);
  // The disk goes away: the WAL cannot be written, so nothing of the request may be kept and
  // the sender must try again (the remote-write specification: 5xx is retried, 4xx is not).
  env_.FailAll(true);
  http::Response r = Post(Body(2000, 2));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_EQ(r.body.rfind("storage failed, nothing of this request was stored; retry: ", 0), 0u) << r.body;
  EXPECT_NE(r.body.find("Input/output error"), std::string::npos) << r.body;
  // The disk is back, but after a failed WAL write the head takes nothing until the server
  // restarts: the sender's retries keep getting a 5xx (never a 4xx, which would drop the data).
  env_.FailAll(false);
  r = Post(Body(2000, 2));
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("until restarted"), std::string::npos) << r.body;
  auto samples = Stored();
  ASSERT_EQ(samples.size(), 1u);  // only the acknowledged one
  EXPECT_EQ(samples[0].t, 1000);

  const std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"500\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_requests_total{code=\"204\"} 1\n"), std::string::npos) << m;
}

// A tenant's samples carry its __tenant__ label; its limits answer 429 naming the limit, and
// other tenants are not held back.
TEST_F(RemoteWriteHandlerTest, TenantsWriteTheirOwnSeriesUnderTheirLimits) {
  EXPECT_EQ(Post(Body(1000, 1), {{"Content-Encoding", "snappy"}}, "l").status, 204);
  auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
  auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__tenant__", "team-l")});
  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->labels().ToString(), "up{__tenant__=\"team-l\", job=\"node\"}");
  EXPECT_TRUE(Stored().size() == 1) << "one series named up so far";

  http::Response r = Post(Body(2000, 2), {{"Content-Encoding", "snappy"}}, "l");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("ingest rate limit"), std::string::npos) << r.body;
  EXPECT_EQ(Post(Body(2000, 2), {{"Content-Encoding", "snappy"}}, "w").status, 204) << "the default tenant has none";

  clock_.Advance(std::chrono::seconds(5));
  RemoteWriteSeries other{{{"__name__", "down"}, {"job", "node"}}, {{3000, 1}}, 0};
  r = Post(ingest::SnappyCompress(EncodeWriteRequest({other})), {{"Content-Encoding", "snappy"}}, "l");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_NE(r.body.find("active series limit of 1"), std::string::npos) << r.body;
}

TEST_F(RemoteWriteHandlerTest, NeedsTheWriteScope) {
  EXPECT_EQ(Post(Body(1000, 1), {}, "r").status, 403);
  EXPECT_EQ(Post(Body(1000, 1), {}, "wrong").status, 401);
  EXPECT_EQ(Post(Body(1000, 1), {}, "w").status, 204);
  http::Request get;
  get.method = "GET";
  get.target = get.path = "/api/v1/write";
  EXPECT_EQ(router_.Dispatch(get).status, 405);
}

}  // namespace
}  // namespace tyto::api
