#include "api/params.h"

#include <gtest/gtest.h>

namespace tyto::api {
namespace {

TEST(ParseTimeParamTest, UnixSecondsAndRfc3339) {
  EXPECT_EQ(*ParseTimeParam("start", "1700000000"), 1700000000000);
  EXPECT_EQ(*ParseTimeParam("start", "1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseTimeParam("start", "-1.5"), -1500);
  EXPECT_EQ(*ParseTimeParam("start", "2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseTimeParam("start", "2023-11-14T22:13:20.5Z"), 1700000000500);
  EXPECT_EQ(*ParseTimeParam("start", "2023-11-14T23:13:20+01:00"), 1700000000000);
  EXPECT_EQ(*ParseTimeParam("start", "1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTimeParam("start", "1969-12-31T23:59:59Z"), -1000);
  for (const char* bad : {"", "soon", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z", "NaN", "Inf",
                          "2023-11-14T22:13:20Zjunk"}) {
    auto r = ParseTimeParam("end", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("invalid parameter \"end\""), std::string::npos);
  }
}

}  // namespace
}  // namespace tyto::api
