#include "http/url.h"

#include <gtest/gtest.h>

#include "http/message.h"

namespace tyto::http {
namespace {

TEST(UrlTest, ParsesSchemeHostPortPathAndQuery) {
  auto u = ParseUrl("http://127.0.0.1:9800");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_FALSE(u->https);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9800);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->query, "");

  u = ParseUrl("HTTPS://tyto.example.com/prefix/?a=1#top");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->host, "tyto.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "/prefix/");
  EXPECT_EQ(u->query, "a=1");

  u = ParseUrl("http://[::1]:9090?x");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9090);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->query, "x");
  EXPECT_EQ(ParseUrl("http://localhost")->port, 80);
}

TEST(UrlTest, RefusesWhatItCannotUse) {
  for (const char* bad : {"127.0.0.1:9800", "ftp://host", "http://", "http:///path", "http://user:pw@host",
                          "http://host:0", "http://host:99999", "http://host:x", "http://::1:80", "http://[::1"}) {
    auto u = ParseUrl(bad);
    EXPECT_FALSE(u.ok()) << bad;
    EXPECT_NE(u.status().message().find(std::string("'") + bad + "'"), std::string::npos) << u.status().ToString();
  }
}

TEST(UrlTest, SplitAddressTakesTheSchemesPortWhenNoneIsGiven) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitAddress("node:9100", false, &host, &port).ok());
  EXPECT_EQ(host, "node");
  EXPECT_EQ(port, 9100);
  ASSERT_TRUE(SplitAddress("node", true, &host, &port).ok());
  EXPECT_EQ(port, 443);
  ASSERT_TRUE(SplitAddress("[fe80::1]", false, &host, &port).ok());
  EXPECT_EQ(host, "fe80::1");
  EXPECT_EQ(port, 80);
  EXPECT_FALSE(SplitAddress("node:", false, &host, &port).ok());
  EXPECT_FALSE(SplitAddress(":9100", false, &host, &port).ok());
}

TEST(UrlTest, EncodesAsGoDoesAndParseQueryStringReadsItBack) {
  const std::vector<std::pair<std::string, std::string>> params = {
      {"query", "sum by (job) (rate(x{a=\"b c\"}[5m])) / 2 + 1"}, {"time", "2026-01-02T03:04:05.5+01:00"}, {"ü", "~-_."}};
  const std::string encoded = EncodeQueryString(params);
  EXPECT_EQ(encoded,
            "query=sum+by+%28job%29+%28rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29%29+%2F+2+%2B+1&"
            "time=2026-01-02T03%3A04%3A05.5%2B01%3A00&%C3%BC=~-_.");
  std::vector<std::pair<std::string, std::string>> decoded;
  ASSERT_TRUE(ParseQueryString(encoded, &decoded));
  EXPECT_EQ(decoded, params);
  EXPECT_EQ(EncodeQueryString({}), "");
}

}  // namespace
}  // namespace tyto::http
