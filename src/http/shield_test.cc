// Tests of the rate limiter and the shield in front of the router: per-address limits answered
// 429 with Retry-After and the limit named, the attack-signal metrics and their bounds.
#include "http/shield.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace tyto::http {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterTest, BurstThenSteadyRate) {
  testing::FakeClock clock;
  RateLimiter l(&clock);
  EXPECT_FALSE(l.Take("a")) << "no limit set: everything passes";
  l.Set({2, 3});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(l.Take("a")) << i;
  auto wait = l.Take("a");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 500ms);  // one token at two a second
  EXPECT_FALSE(l.Take("b")) << "another key has its own bucket";
  clock.Advance(499ms);
  EXPECT_TRUE(l.Take("a"));
  clock.Advance(1ms);
  EXPECT_FALSE(l.Take("a"));
  EXPECT_TRUE(l.Check("a"));
  clock.Advance(10s);  // refills to the burst, no further
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(l.Take("a")) << i;
  EXPECT_TRUE(l.Take("a"));
}

TEST(RateLimiterTest, KeysAreBoundedAndIdleOnesDropped) {
  testing::FakeClock clock;
  RateLimiter l(&clock, /*max_keys=*/4);
  l.Set({1, 1});
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(l.Take("k" + std::to_string(i)));
  // The map is full of empty buckets: new keys share the overflow bucket.
  EXPECT_FALSE(l.Take("new-1"));
  EXPECT_TRUE(l.Take("new-2")) << "the overflow bucket is shared";
  EXPECT_TRUE(l.Check("new-4")) << "a new key is checked against the overflow bucket it would share";
  EXPECT_EQ(l.keys(), 4u);
  clock.Advance(2s);  // every bucket refilled: idle keys are dropped for new ones
  EXPECT_FALSE(l.Take("new-3"));
  EXPECT_EQ(l.keys(), 1u);
}

TEST(AddressTest, OfAndClass) {
  EXPECT_EQ(AddressOf("10.1.2.3:5000"), "10.1.2.3");
  EXPECT_EQ(AddressOf("[::1]:5000"), "::1");
  EXPECT_EQ(AddressOf("::1"), "::1");
  EXPECT_EQ(AddressKey("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(AddressKey("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(AddressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(AddressKey("2001:db8:1:2:bbbb::7"), AddressKey("2001:db8:1:2:aaaa::1"));
  EXPECT_NE(AddressKey("2001:db8:1:3::1"), AddressKey("2001:db8:1:2::1"));
  EXPECT_EQ(AddressKey("not an address"), "not an address");
  EXPECT_EQ(AddressClass("127.0.0.1"), "loopback");
  EXPECT_EQ(AddressClass("::1"), "loopback");
  EXPECT_EQ(AddressClass("10.0.0.1"), "private");
  EXPECT_EQ(AddressClass("172.20.1.1"), "private");
  EXPECT_EQ(AddressClass("172.32.1.1"), "public");
  EXPECT_EQ(AddressClass("192.168.1.1"), "private");
  EXPECT_EQ(AddressClass("::ffff:192.168.1.1"), "private");
  EXPECT_EQ(AddressClass("fd00::1"), "private");
  EXPECT_EQ(AddressClass("8.8.8.8"), "public");
  EXPECT_EQ(AddressClass("2001:db8::1"), "public");
  EXPECT_EQ(AddressClass("not an address"), "unknown");
}

class ShieldTest : public ::testing::Test {
 protected:
  ShieldTest() : shield_(&registry_, &clock_) {
    router_.Add({"GET"}, "/ok", "ok", [](Request&) { return Response::Text(200, "ok"); });
  }
  Response Get(const std::string& path, const std::string& remote) {
    Request req;
    req.method = "GET";
    req.target = req.path = path;
    req.remote = remote;
    return shield_.Serve(req, [this](Request& r) { return router_.Dispatch(r); });
  }
  static std::string Header(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  instrumentation::Registry registry_;
  testing::FakeClock clock_;
  Router router_;
  Shield shield_;
};

TEST_F(ShieldTest, PerAddressLimitAnswers429NamingTheLimit) {
  ShieldOptions o;
  o.per_address = {1, 2};
  shield_.SetOptions(o);
  EXPECT_EQ(Get("/ok", "10.0.0.1:1000").status, 200);
  EXPECT_EQ(Get("/ok", "10.0.0.1:1001").status, 200) << "the port is not part of the key";
  Response r = Get("/ok", "10.0.0.1:1002");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  EXPECT_EQ(r.refused, "rate_limited");
  EXPECT_NE(r.body.find("\"limit\":\"rate_limit_per_address\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("too many requests from 10.0.0.1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"errorType\":\"too_many_requests\""), std::string::npos) << r.body;
  EXPECT_EQ(Get("/ok", "10.0.0.2:1000").status, 200) << "other addresses are not held back";
  clock_.Advance(1s);
  EXPECT_EQ(Get("/ok", "10.0.0.1:1003").status, 200);
}

TEST_F(ShieldTest, CountsUnknownPathsAndAddressClasses) {
  EXPECT_EQ(Get("/ok", "127.0.0.1:1").status, 200);
  EXPECT_EQ(Get("/wp-admin/setup.php", "203.0.113.9:1").status, 404);
  EXPECT_EQ(Get("/.env", "203.0.113.9:1").status, 404);
  const std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_unknown_path_requests_total 2"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_http_requests_by_address_total{class=\"loopback\",bucket=\""), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_http_requests_by_address_total{class=\"public\",bucket=\""), std::string::npos) << m;
  EXPECT_EQ(m.find("203.0.113.9"), std::string::npos) << "addresses are not labels";
}

TEST_F(ShieldTest, TokenLabelsAreBounded) {
  for (size_t i = 0; i < Shield::kMaxTokenLabels + 5; ++i) EXPECT_FALSE(shield_.AdmitToken("t" + std::to_string(i)));
  const std::string m = registry_.Expose();
  EXPECT_NE(m.find("tyto_http_requests_by_token_total{token=\"(other)\"} 5"), std::string::npos);
  EXPECT_NE(m.find("tyto_http_requests_by_token_total{token=\"t0\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace tyto::http
