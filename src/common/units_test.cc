#include "common/units.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace tyto {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kYear = 365 * kDay;

// The parsed duration in milliseconds; fails the test on an error.
int64_t Millis(std::string_view text) {
  auto r = ParseDuration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? r->count() : -1;
}

// The error message for text that must not parse.
std::string DurationError(std::string_view text) {
  auto r = ParseDuration(text);
  EXPECT_FALSE(r.ok()) << "'" << text << "' parsed as " << (r.ok() ? r->count() : 0) << "ms";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseDurationTest, SingleUnits) {
  EXPECT_EQ(Millis("500ms"), 500);
  EXPECT_EQ(Millis("15s"), 15 * kSecond);
  EXPECT_EQ(Millis("5m"), 5 * kMinute);
  EXPECT_EQ(Millis("2h"), 2 * kHour);
  EXPECT_EQ(Millis("2d"), 2 * kDay);
  EXPECT_EQ(Millis("1w"), kWeek);
  EXPECT_EQ(Millis("1y"), kYear);
}

TEST(ParseDurationTest, CompoundInDescendingOrder) {
  EXPECT_EQ(Millis("1h30m"), kHour + 30 * kMinute);
  EXPECT_EQ(Millis("1s500ms"), 1500);
  EXPECT_EQ(Millis("1y2w3d4h5m6s7ms"), kYear + 2 * kWeek + 3 * kDay + 4 * kHour + 5 * kMinute + 6 * kSecond + 7);
  EXPECT_EQ(Millis("1d1s"), kDay + kSecond);  // units may be skipped
  EXPECT_EQ(Millis("90m"), 90 * kMinute);     // a unit need not be normalized
}

TEST(ParseDurationTest, Zero) {
  EXPECT_EQ(Millis("0"), 0);
  EXPECT_EQ(Millis("0s"), 0);
  EXPECT_EQ(Millis("0ms"), 0);
  EXPECT_EQ(Millis("0h0m"), 0);
}

TEST(ParseDurationTest, LargestValueFits) {
  int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Millis(std::to_string(max) + "ms"), max);
}

TEST(ParseDurationTest, RejectsWrongUnitOrder) {
  std::string msg = DurationError("30m1h");
  EXPECT_THAT(msg, HasSubstr("'30m1h'"));
  EXPECT_THAT(msg, HasSubstr("largest to smallest"));
  EXPECT_THAT(DurationError("1ms1s"), HasSubstr("'1ms1s'"));
}

TEST(ParseDurationTest, RejectsRepeatedUnit) {
  std::string msg = DurationError("1h1h");
  EXPECT_THAT(msg, HasSubstr("'1h1h'"));
  EXPECT_THAT(msg, HasSubstr("each once"));
  DurationError("5s5s");
}

TEST(ParseDurationTest, RejectsUnknownUnit) {
  std::string msg = DurationError("5x");
  EXPECT_THAT(msg, HasSubstr("'5x'"));
  EXPECT_THAT(msg, HasSubstr("unknown unit 'x'"));
  EXPECT_THAT(DurationError("5sec"), HasSubstr("unknown unit 'sec'"));
  EXPECT_THAT(DurationError("5S"), HasSubstr("unknown unit 'S'"));
  EXPECT_THAT(DurationError("1h 30m"), HasSubstr("unknown unit 'h '"));
}

TEST(ParseDurationTest, RejectsMissingUnit) {
  std::string msg = DurationError("5");
  EXPECT_THAT(msg, HasSubstr("'5'"));
  EXPECT_THAT(msg, HasSubstr("missing unit"));
  EXPECT_THAT(DurationError("1h30"), HasSubstr("missing unit"));
  EXPECT_THAT(DurationError("00"), HasSubstr("missing unit"));
}

TEST(ParseDurationTest, RejectsEmpty) {
  EXPECT_THAT(DurationError(""), HasSubstr("empty"));
}

TEST(ParseDurationTest, RejectsNegativeAndNonNumbers) {
  std::string msg = DurationError("-1s");
  EXPECT_THAT(msg, HasSubstr("'-1s'"));
  EXPECT_THAT(msg, HasSubstr("expected a number at position 1"));
  EXPECT_THAT(DurationError("s"), HasSubstr("expected a number"));
  EXPECT_THAT(DurationError("1.5s"), HasSubstr("'1.5s'"));
  DurationError("+5s");
  DurationError(" 5s");
}

TEST(ParseDurationTest, RejectsOverflow) {
  int64_t max = std::numeric_limits<int64_t>::max();
  // One more than the largest int64 in milliseconds.
  EXPECT_THAT(DurationError("9223372036854775808ms"), HasSubstr("too large"));
  EXPECT_THAT(DurationError("99999999999999999999999s"), HasSubstr("too large"));
  // Fits as a number, overflows once multiplied by the unit.
  EXPECT_THAT(DurationError(std::to_string(max / kYear + 1) + "y"), HasSubstr("too large"));
  // Each part fits, the sum does not.
  EXPECT_THAT(DurationError(std::to_string(max / kYear) + "y" + std::to_string(max / kWeek) + "w"),
              HasSubstr("too large"));
}

TEST(FormatDurationTest, ShortestForm) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(500)), "500ms");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(milliseconds(30 * kSecond)), "30s");
  EXPECT_EQ(FormatDuration(milliseconds(kHour + 30 * kMinute)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(kDay)), "1d");
  EXPECT_EQ(FormatDuration(milliseconds(kWeek)), "1w");
  EXPECT_EQ(FormatDuration(milliseconds(2 * kYear)), "2y");
}

TEST(FormatDurationTest, YearsAndWeeksOnlyWhenExact) {
  // As Prometheus does: "90d" reads better than "12w6d".
  EXPECT_EQ(FormatDuration(milliseconds(90 * kDay)), "90d");
  EXPECT_EQ(FormatDuration(milliseconds(kWeek + kHour)), "7d1h");
  EXPECT_EQ(FormatDuration(milliseconds(kYear + kDay)), "366d");
}

TEST(FormatDurationTest, RoundTripsThroughParse) {
  const int64_t values[] = {0,         1,          999,        kSecond,          59 * kSecond + 1,
                            kMinute,   kHour,      kDay - 1,   kDay,             kWeek,
                            kWeek + 1, 90 * kDay,  kYear,      kYear + kWeek,    3 * kYear + 5 * kHour + 7,
                            std::numeric_limits<int64_t>::max()};
  for (int64_t v : values) {
    std::string text = FormatDuration(milliseconds(v));
    auto back = ParseDuration(text);
    ASSERT_TRUE(back.ok()) << v << " -> " << text << ": " << back.status().ToString();
    EXPECT_EQ(back->count(), v) << text;
  }
}

uint64_t Bytes(std::string_view text) {
  auto r = ParseByteSize(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

std::string SizeError(std::string_view text) {
  auto r = ParseByteSize(text);
  EXPECT_FALSE(r.ok()) << "'" << text << "' parsed as " << (r.ok() ? *r : 0);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(ParseByteSizeTest, BinaryUnits) {
  EXPECT_EQ(Bytes("4096"), 4096u);
  EXPECT_EQ(Bytes("4096B"), 4096u);
  EXPECT_EQ(Bytes("0"), 0u);
  EXPECT_EQ(Bytes("16KiB"), 16u << 10);
  EXPECT_EQ(Bytes("512MiB"), 512ull << 20);
  EXPECT_EQ(Bytes("2GiB"), 2ull << 30);
  EXPECT_EQ(Bytes("3TiB"), 3ull << 40);
  EXPECT_EQ(Bytes("1PiB"), 1ull << 50);
}

TEST(ParseByteSizeTest, DecimalLookingUnitsArePowersOf1024) {
  // Prometheus reads KB, MB, ... as powers of 1024.
  EXPECT_EQ(Bytes("1KB"), 1024u);
  EXPECT_EQ(Bytes("10GB"), 10ull << 30);
  EXPECT_EQ(Bytes("1MB"), 1ull << 20);
  EXPECT_EQ(Bytes("1TB"), 1ull << 40);
  EXPECT_EQ(Bytes("1PB"), 1ull << 50);
}

TEST(ParseByteSizeTest, LargestValuesFit) {
  uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(Bytes(std::to_string(max)), max);
  EXPECT_EQ(Bytes("16383PiB"), 16383ull << 50);
}

TEST(ParseByteSizeTest, RejectsBadUnits) {
  std::string msg = SizeError("5XB");
  EXPECT_THAT(msg, HasSubstr("'5XB'"));
  EXPECT_THAT(msg, HasSubstr("unknown unit 'XB'"));
  EXPECT_THAT(SizeError("1kb"), HasSubstr("unknown unit 'kb'"));
  EXPECT_THAT(SizeError("1 MiB"), HasSubstr("unknown unit ' MiB'"));
  EXPECT_THAT(SizeError("1.5GiB"), HasSubstr("'1.5GiB'"));
}

TEST(ParseByteSizeTest, RejectsMissingNumber) {
  EXPECT_THAT(SizeError(""), HasSubstr("expected a number"));
  EXPECT_THAT(SizeError("MiB"), HasSubstr("expected a number"));
  EXPECT_THAT(SizeError("-1MiB"), HasSubstr("'-1MiB'"));
}

TEST(ParseByteSizeTest, RejectsOverflow) {
  EXPECT_THAT(SizeError("18446744073709551616"), HasSubstr("too large"));  // 2^64
  EXPECT_THAT(SizeError("99999999999999999999999"), HasSubstr("too large"));
  EXPECT_THAT(SizeError("16384PiB"), HasSubstr("too large"));  // 2^64
  EXPECT_THAT(SizeError("17179869184GiB"), HasSubstr("too large"));
}

TEST(FormatByteSizeTest, LargestExactBinaryUnit) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(1), "1B");
  EXPECT_EQ(FormatByteSize(1536), "1536B");
  EXPECT_EQ(FormatByteSize(1024), "1KiB");
  EXPECT_EQ(FormatByteSize(16 * 1024), "16KiB");
  EXPECT_EQ(FormatByteSize(512ull << 20), "512MiB");
  EXPECT_EQ(FormatByteSize(1ull << 30), "1GiB");
  EXPECT_EQ(FormatByteSize(1ull << 40), "1TiB");
  EXPECT_EQ(FormatByteSize(1ull << 50), "1PiB");
  EXPECT_EQ(FormatByteSize(1ull << 60), "1024PiB");  // no unit above PiB
}

TEST(FormatByteSizeTest, RoundTripsThroughParse) {
  const uint64_t values[] = {0, 1, 1023, 1024, 1536, 3ull << 20, (1ull << 30) + 1, 7ull << 50,
                             std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) {
    std::string text = FormatByteSize(v);
    auto back = ParseByteSize(text);
    ASSERT_TRUE(back.ok()) << v << " -> " << text << ": " << back.status().ToString();
    EXPECT_EQ(*back, v) << text;
  }
}

TEST(GoTimeTest, TimesAreWrittenAsGoWritesThem) {
  EXPECT_EQ(GoTime(0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(GoTime(1'700'000'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(GoTime(1'700'000'000'500), "2023-11-14T22:13:20.5Z");
  EXPECT_EQ(GoTime(1'700'000'000'050), "2023-11-14T22:13:20.05Z");
  EXPECT_EQ(GoTime(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace tyto
