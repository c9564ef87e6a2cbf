// When the judge retries and how long it waits.
#include "judge/retry.h"

#include <gtest/gtest.h>

namespace tyto::judge {
namespace {

using namespace std::chrono_literals;

TEST(RetryTest, RetryableStatuses) {
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(500));
  EXPECT_TRUE(IsRetryableStatus(503));
  EXPECT_TRUE(IsRetryableStatus(599));
  EXPECT_FALSE(IsRetryableStatus(400));
  EXPECT_FALSE(IsRetryableStatus(401));
  EXPECT_FALSE(IsRetryableStatus(404));
  EXPECT_FALSE(IsRetryableStatus(200));
  EXPECT_FALSE(IsRetryableStatus(302));
}

TEST(RetryTest, BackoffDoublesUpToTheCapWithJitterOfHalfToAll) {
  // unit 0.999...: the full wait; unit 0: half of it.
  const double full = 0.99999999;
  EXPECT_EQ(RetryWait(1, 500ms, 30s, std::nullopt, full), 499ms);  // 500 * 0.99999999, truncated
  EXPECT_EQ(RetryWait(1, 500ms, 30s, std::nullopt, 0), 250ms);
  EXPECT_EQ(RetryWait(2, 500ms, 30s, std::nullopt, 0), 500ms);
  EXPECT_EQ(RetryWait(3, 500ms, 30s, std::nullopt, 0), 1000ms);
  EXPECT_EQ(RetryWait(10, 500ms, 30s, std::nullopt, 0), 15s);    // 2^9 * 500ms > 30s: the cap, halved
  EXPECT_EQ(RetryWait(1000, 500ms, 30s, std::nullopt, 0), 15s);  // no overflow however many
  EXPECT_EQ(RetryWait(1, 0ms, 30s, std::nullopt, 0.5), 0ms);
  const auto mid = RetryWait(2, 1000ms, 30s, std::nullopt, 0.5);
  EXPECT_EQ(mid, 1500ms);
}

TEST(RetryTest, RetryAfterReplacesTheBackoffUpToTheCap) {
  EXPECT_EQ(RetryWait(1, 500ms, 30s, 7s, 0), 7s);
  EXPECT_EQ(RetryWait(3, 500ms, 30s, 0s, 0.9), 0s);
  EXPECT_EQ(RetryWait(1, 500ms, 30s, 3600s, 0), 30s);
}

TEST(RetryTest, ParsesRetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfter("120"), 120s);
  EXPECT_EQ(ParseRetryAfter(" 0 "), 0s);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999"), std::nullopt);
}

}  // namespace
}  // namespace tyto::judge
