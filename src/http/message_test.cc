#include "http/message.h"

#include <gtest/gtest.h>

#include "http/gzip.h"

namespace tyto::http {
namespace {

TEST(UrlDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(UrlDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(UrlDecode("%7Bjob%3D%22x%22%7D", true), "{job=\"x\"}");
}

TEST(UrlDecodeTest, RejectsMalformedEscapes) {
  EXPECT_FALSE(UrlDecode("%", true));
  EXPECT_FALSE(UrlDecode("%2", true));
  EXPECT_FALSE(UrlDecode("%zz", true));
  EXPECT_FALSE(UrlDecode("abc%4", true));
}

TEST(ParseTargetTest, SplitsPathAndQueryAndRepeatsParams) {
  Request r;
  r.method = "GET";
  r.target = "/api/v1/series?match[]=up&match[]=foo&start=1";
  EXPECT_FALSE(ParseTarget(&r));
  EXPECT_EQ(r.path, "/api/v1/series");
  auto m = r.Params("match[]");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0], "up");
  EXPECT_EQ(m[1], "foo");
  EXPECT_EQ(r.Param("start"), "1");
  EXPECT_FALSE(r.Param("end"));
}

TEST(ParseTargetTest, ReadsFormBodyOfPost) {
  Request r;
  r.method = "POST";
  r.target = "/api/v1/query?time=5";
  r.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  r.body = "query=sum%28up%29";
  EXPECT_FALSE(ParseTarget(&r));
  EXPECT_EQ(r.Param("query"), "sum(up)");
  EXPECT_EQ(r.Param("time"), "5");
}

TEST(ParseTargetTest, ReportsMalformedQuery) {
  Request r;
  r.method = "GET";
  r.target = "/x?q=%zz";
  auto err = ParseTarget(&r);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("query string"), std::string::npos);
}

TEST(AcceptsGzipTest, HonoursQValues) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
  EXPECT_FALSE(AcceptsGzip(""));
}

TEST(ResponseTest, ErrorHasPrometheusShape) {
  Response r = Response::Error(400, "bad_data", "say \"hi\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"say \"hi\""})");
}

TEST(RequestTest, HeaderLookupIgnoresCase) {
  Request r;
  r.headers = {{"X-Thing", "1"}, {"x-thing", "2"}};
  EXPECT_EQ(r.Header("x-THING"), "1");
  EXPECT_FALSE(r.Header("other"));
}

TEST(GzipTest, RoundTrips) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "metric_" + std::to_string(i % 17) + " ";
  std::string z = GzipCompress(data);
  EXPECT_LT(z.size(), data.size() / 4);
  auto back = GzipDecompress(z, data.size());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, data);
}

TEST(GzipTest, CapsExpansionAndRejectsGarbage) {
  std::string zeros(1 << 20, '\0');
  std::string z = GzipCompress(zeros);
  auto capped = GzipDecompress(z, 1000);
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(GzipDecompress("not gzip at all", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(GzipDecompress(z.substr(0, z.size() / 2), 2 << 20).status().code(), StatusCode::kInvalidArgument);
}

TEST(MessageTest, NormalizeHeaderValue) {
  EXPECT_EQ(NormalizeHeaderValue("  GZip\t"), "gzip");
  EXPECT_EQ(NormalizeHeaderValue("Application/JSON; charset=UTF-8"), "application/json; charset=utf-8");
  EXPECT_EQ(NormalizeHeaderValue(" \t "), "");
  EXPECT_EQ(NormalizeHeaderValue("\xc3\x89"), "\xc3\x89");  // only ASCII letters change
}

}  // namespace
}  // namespace tyto::http
