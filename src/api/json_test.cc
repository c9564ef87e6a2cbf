#include "api/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tyto::api {
namespace {

std::string Number(double v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  GoNumber(w, v);
  return std::string(buf.GetString(), buf.GetSize());
}

TEST(JsonTest, FloatsAreWrittenAsGoWritesThem) {
  EXPECT_EQ(FormatFloat(1), "1");
  EXPECT_EQ(FormatFloat(0.1), "0.1");
  EXPECT_EQ(FormatFloat(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatFloat(-2.5e-7), "-0.00000025");
  EXPECT_EQ(FormatFloat(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatFloat(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatFloat(std::nan("")), "NaN");

  EXPECT_EQ(FormatFloatExponent(1), "1e+00");
  EXPECT_EQ(FormatFloatExponent(0.5), "5e-01");
  EXPECT_EQ(FormatFloatExponent(123.456), "1.23456e+02");
  EXPECT_EQ(FormatFloatExponent(1e100), "1e+100");

  EXPECT_EQ(Number(0), "0");
  EXPECT_EQ(Number(60), "60");
  EXPECT_EQ(Number(1.5), "1.5");
  EXPECT_EQ(Number(0.000001), "0.000001");
  EXPECT_EQ(Number(1e-7), "1e-7");
  EXPECT_EQ(Number(1e21), "1e+21");
  EXPECT_EQ(Number(1.5e300), "1.5e+300");
  EXPECT_EQ(Number(std::nan("")), "null");
}

TEST(JsonTest, TimestampsAreWrittenAsPrometheusWritesThem) {
  auto written = [](int64_t ms) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    Timestamp(w, ms);
    return std::string(buf.GetString(), buf.GetSize());
  };
  EXPECT_EQ(written(1'700'000'000'000), "1700000000");
  EXPECT_EQ(written(1'699'999'998'500), "1699999998.500");
  EXPECT_EQ(written(1'699'999'998'050), "1699999998.050");
  EXPECT_EQ(written(1'699'999'998'005), "1699999998.005");
  EXPECT_EQ(written(0), "0");
  EXPECT_EQ(written(-1'500), "-1.500");
  EXPECT_EQ(written(INT64_MIN), "-9223372036854775.808");
}

}  // namespace
}  // namespace tyto::api
