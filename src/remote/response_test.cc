#include "remote/response.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tyto::remote {
namespace {

std::string Matrix(const std::string& result) {
  return R"({"status":"success","data":{"resultType":"matrix","result":)" + result + "}}";
}

TEST(DecodeMatrixTest, ReadsSeriesAndSamples) {
  std::vector<RemoteSeries> out;
  ASSERT_TRUE(DecodeMatrix(Matrix(R"([
      {"metric":{"__name__":"up","job":"b"},"values":[[1700000000,"1"],[1700000000.5,"0"]]},
      {"metric":{"job":"a","__name__":"up"},"values":[[1700000001.123,"2.5e3"]]}])"),
                           0, INT64_MAX, &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].labels.ToString(), R"(up{job="a"})");  // sorted by labels
  ASSERT_EQ(out[0].samples.size(), 1u);
  EXPECT_EQ(out[0].samples[0].t, 1700000001123);
  EXPECT_EQ(out[0].samples[0].v, 2500);
  EXPECT_EQ(out[1].labels.ToString(), R"(up{job="b"})");
  ASSERT_EQ(out[1].samples.size(), 2u);
  EXPECT_EQ(out[1].samples[0].t, 1700000000000);
  EXPECT_EQ(out[1].samples[1].t, 1700000000500);
  EXPECT_EQ(out[1].samples[1].v, 0);
}

TEST(DecodeMatrixTest, SpecialValues) {
  std::vector<RemoteSeries> out;
  ASSERT_TRUE(DecodeMatrix(Matrix(R"([{"metric":{"__name__":"x"},"values":[
      [1,"NaN"],[2,"+Inf"],[3,"-Inf"],[4,"Inf"],[5,"-0"],[6,"1e-300"],[7,"0.1"],[8,"-12345678901234567890"]]}])"),
                           INT64_MIN, INT64_MAX, &out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  const auto& s = out[0].samples;
  ASSERT_EQ(s.size(), 8u);
  EXPECT_TRUE(std::isnan(s[0].v));
  EXPECT_FALSE(IsStaleMarker(s[0].v));
  EXPECT_EQ(s[1].v, INFINITY);
  EXPECT_EQ(s[2].v, -INFINITY);
  EXPECT_EQ(s[3].v, INFINITY);
  EXPECT_TRUE(std::signbit(s[4].v));
  EXPECT_EQ(s[5].v, 1e-300);
  EXPECT_EQ(s[6].v, 0.1);
  EXPECT_EQ(s[7].v, -12345678901234567890.0);
}

TEST(DecodeMatrixTest, KeepsOnlyTheRangeAndDropsEmptySeries) {
  std::vector<RemoteSeries> out;
  ASSERT_TRUE(DecodeMatrix(Matrix(R"([
      {"metric":{"__name__":"a"},"values":[[0.999,"1"],[1,"2"],[2,"3"],[2.001,"4"]]},
      {"metric":{"__name__":"b"},"values":[[5,"1"]]},
      {"metric":{"__name__":"c"},"values":[]}])"),
                           1000, 2000, &out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].samples.size(), 2u);
  EXPECT_EQ(out[0].samples[0].t, 1000);
  EXPECT_EQ(out[0].samples[1].t, 2000);
}

TEST(DecodeMatrixTest, MergesRepeatedSeriesAndSortsSamples) {
  std::vector<RemoteSeries> out;
  ASSERT_TRUE(DecodeMatrix(Matrix(R"([
      {"metric":{"__name__":"a","r":""},"values":[[3,"3"],[1,"1"]]},
      {"metric":{"__name__":"b"},"values":[[1,"9"]]},
      {"metric":{"__name__":"a"},"values":[[2,"2"],[3,"30"]]}])"),
                           0, 10000, &out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].labels.size(), 1u);  // the empty label is no label
  ASSERT_EQ(out[0].samples.size(), 3u);
  EXPECT_EQ(out[0].samples[0].v, 1);
  EXPECT_EQ(out[0].samples[1].v, 2);
  EXPECT_EQ(out[0].samples[2].v, 3);  // the first of two at t=3
}

TEST(DecodeMatrixTest, EscapedLabelValues) {
  std::vector<RemoteSeries> out;
  ASSERT_TRUE(DecodeMatrix(Matrix(R"([{"metric":{"__name__":"a","q":"x\"y\\z\n\u00fc\u0000"},"values":[[1,"1"]]}])"),
                           0, 10000, &out)
                  .ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].labels.Get("q"), std::string("x\"y\\z\n\xc3\xbc\0", 9));
}

TEST(DecodeMatrixTest, ErrorsNameWhatIsWrong) {
  std::vector<RemoteSeries> out;
  auto err = [&](const std::string& body) {
    Status s = DecodeMatrix(body, 0, INT64_MAX, &out);
    EXPECT_FALSE(s.ok()) << body;
    return s.message();
  };
  EXPECT_NE(err("<html>bad gateway</html>").find("not JSON"), std::string::npos);
  EXPECT_NE(err("").find("not JSON"), std::string::npos);
  EXPECT_NE(err("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(err(R"({"data":{}})").find("no \"status\""), std::string::npos);
  EXPECT_NE(err(R"({"status":"error","errorType":"bad_data","error":"parse error at char 3"})")
                .find("bad_data: parse error at char 3"),
            std::string::npos);
  EXPECT_NE(err(R"({"status":"success","data":{"resultType":"vector","result":[]}})").find("want \"matrix\""),
            std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{"a":1},"values":[]}])")).find("result[0].metric.a is not a string"),
            std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1,"1"],[2,"x"]]}])")).find("result[0].values[1]"),
            std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1e300,"1"]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[["1","1"]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1,1]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1,"+"]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1,"++1"]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{},"values":[[1,"1 "]]}])")).find("result[0].values[0]"), std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"metric":{"a":"1","a":"2"},"values":[[1,"1"]]}])")).find("result[0].metric"),
            std::string::npos);
  EXPECT_NE(err(Matrix(R"([{"values":[]}])")).find("no metric"), std::string::npos);
}

TEST(DecodeMatrixTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(1'000'000, '[');
  std::vector<RemoteSeries> out;
  EXPECT_FALSE(DecodeMatrix(deep, 0, 1, &out).ok());
  EXPECT_FALSE(DecodeMatrix(Matrix("[" + std::string(100'000, '[') + "]"), 0, 1, &out).ok());
}

TEST(DecodeStringListTest, SortedAndDistinct) {
  std::vector<std::string> out;
  ASSERT_TRUE(DecodeStringList(R"({"status":"success","data":["b","a","b","\u00fc"]})", &out).ok());
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "\xc3\xbc"}));
  ASSERT_TRUE(DecodeStringList(R"({"status":"success","data":null})", &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(DecodeStringList(R"({"status":"success","data":[1]})", &out).ok());
  EXPECT_FALSE(DecodeStringList(R"({"status":"success","data":{}})", &out).ok());
  Status s = DecodeStringList(R"({"status":"error","errorType":"execution","error":"too many series"})", &out);
  EXPECT_NE(s.message().find("execution: too many series"), std::string::npos) << s.ToString();
}

TEST(ErrorMessageTest, FromTheEnvelope) {
  EXPECT_EQ(ErrorMessage(R"({"status":"error","errorType":"bad_data","error":"x"})"), "bad_data: x");
  EXPECT_EQ(ErrorMessage(R"({"status":"error","error":"x"})"), "x");
  EXPECT_EQ(ErrorMessage("upstream connect error"), "");
  EXPECT_EQ(ErrorMessage(R"({"status":"success","data":[]})"), "");
}

}  // namespace
}  // namespace tyto::remote
