#include "alertmanager/time_interval.h"

#include <gtest/gtest.h>

#include <chrono>

namespace tyto::alertmanager {
namespace {

// Unix milliseconds of a UTC civil time.
int64_t At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  using namespace std::chrono;
  sys_days day = year{y} / month{mo} / std::chrono::day{d};
  return (duration_cast<seconds>(day.time_since_epoch()).count() + h * 3600 + mi * 60) * 1000;
}

Result<TimeInterval> Parse(std::string_view yaml) {
  auto node = config::ParseYaml(yaml, "am.yml");
  if (!node.ok()) return node.status();
  return ParseTimeInterval(*node, Env::Default());
}

// Alertmanager docs, configuration.md "<time_interval>": weekday business hours.
TEST(TimeInterval, BusinessHours) {
  auto ti = Parse("times:\n- start_time: '09:00'\n  end_time: '17:00'\nweekdays: ['monday:friday']\n");
  ASSERT_TRUE(ti.ok()) << ti.status().ToString();
  EXPECT_TRUE(ti->Contains(At(2026, 11, 23, 9, 0)));    // Monday 09:00, start inclusive
  EXPECT_TRUE(ti->Contains(At(2026, 11, 27, 16, 59)));  // Friday
  EXPECT_FALSE(ti->Contains(At(2026, 11, 23, 17, 0)));  // end exclusive
  EXPECT_FALSE(ti->Contains(At(2026, 11, 22, 12, 0)));  // Sunday
  EXPECT_FALSE(ti->Contains(At(2026, 11, 28, 12, 0)));  // Saturday
}

// configuration.md: days_of_month: ['1:5', '-3:-1'] — the first five and the last three days.
TEST(TimeInterval, NegativeDaysOfMonthMonthsYears) {
  auto ti = Parse("days_of_month: ['1:5', '-3:-1']\nmonths: ['february', '11:december']\nyears: ['2024:2026']\n");
  ASSERT_TRUE(ti.ok()) << ti.status().ToString();
  EXPECT_TRUE(ti->Contains(At(2024, 2, 27)));   // leap February: 27, 28, 29 are the last three
  EXPECT_FALSE(ti->Contains(At(2024, 2, 26)));
  EXPECT_TRUE(ti->Contains(At(2025, 2, 26)));   // 26, 27, 28 in a common year
  EXPECT_TRUE(ti->Contains(At(2026, 11, 5)));
  EXPECT_FALSE(ti->Contains(At(2026, 11, 6)));
  EXPECT_TRUE(ti->Contains(At(2026, 12, 31, 23, 59)));
  EXPECT_FALSE(ti->Contains(At(2026, 3, 1)));   // March is not listed
  EXPECT_FALSE(ti->Contains(At(2027, 12, 1)));  // out of the years
  EXPECT_TRUE(Parse("{}")->Contains(At(1999, 1, 1)));  // no fields: always
  EXPECT_TRUE(Parse("{}")->Contains(-1));  // 1969-12-31T23:59:59.999Z
  EXPECT_FALSE(Parse("{}")->Contains(INT64_MIN));
  EXPECT_FALSE(Parse("{}")->Contains(INT64_MAX));
  auto whole = Parse("days_of_month: ['1:-1']");
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->Contains(At(2026, 2, 28)));
  auto late = Parse("days_of_month: ['30:31']");  // February has neither day
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->Contains(At(2026, 2, 28)));
  EXPECT_TRUE(late->Contains(At(2026, 3, 31)));
}

TEST(TimeInterval, Location) {
  // configuration.md: location: 'Australia/Sydney'; here Amsterdam, UTC+2 in summer, +1 in winter.
  auto ti = Parse("times: [{start_time: '09:00', end_time: '10:00'}]\nlocation: Europe/Amsterdam\n");
  if (!ti.ok() && ti.status().message().find("unknown time zone") != std::string::npos) {
    GTEST_SKIP() << "no time-zone database: " << ti.status().message();
  }
  ASSERT_TRUE(ti.ok()) << ti.status().ToString();
  EXPECT_TRUE(ti->Contains(At(2026, 7, 1, 7, 30)));   // 09:30 CEST
  EXPECT_FALSE(ti->Contains(At(2026, 7, 1, 9, 30)));  // 11:30 CEST
  EXPECT_TRUE(ti->Contains(At(2026, 1, 5, 8, 30)));   // 09:30 CET
  EXPECT_EQ(ti->zone->OffsetAt(At(2026, 7, 1) / 1000), 7200);
  EXPECT_EQ(TimeZone::Utc()->OffsetAt(0), 0);
}

TEST(TimeInterval, ErrorsWithPositions) {
  struct Case {
    std::string_view yaml, error;
  } cases[] = {
      {"times: [{start_time: '25:00', end_time: '26:00'}]",
       "am.yml:1:22: invalid time '25:00', expected HH:MM between 00:00 and 24:00"},
      {"times:\n- start_time: '10:00'\n  end_time: '09:00'\n", "am.yml:2:3: start_time must be before end_time"},
      {"times:\n- start_time: '10:00'\n", "am.yml:2:3: times need both start_time and end_time"},
      {"weekdays: ['friday:monday']", "am.yml:1:12: start day cannot be after end day"},
      {"weekdays: ['funday']", "am.yml:1:12: invalid range 'funday'"},
      {"days_of_month: ['0:3']", "am.yml:1:17: days of month must be between 1 and 31 or -31 and -1"},
      {"days_of_month: ['5:2']", "am.yml:1:17: start day cannot be after end day"},
      {"days_of_month: ['-3:5']", "am.yml:1:17: start day cannot be after end day"},
      {"days_of_month: ['-1:-3']", "am.yml:1:17: start day cannot be after end day"},
      {"months: ['13']", "am.yml:1:10: months must be between 1 and 12"},
      {"years: ['2030:2020']", "am.yml:1:9: start year cannot be after end year"},
      {"location: Mars/Olympus", "am.yml:1:11: unknown time zone 'Mars/Olympus'"},
      {"location: ../../etc/passwd", "am.yml:1:11: invalid time zone name '../../etc/passwd'"},
      {"hours: []", "am.yml:1:1: unknown key 'hours' in a time interval"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.status().message().substr(0, c.error.size()), c.error) << c.yaml;
  }
}

TEST(TimeZone, RejectsGarbage) {
  EXPECT_EQ(TimeZone::FromTzif("x", "not a zone").status().code(), StatusCode::kCorruption);
  std::string header = "TZif2" + std::string(39, '\0');
  EXPECT_FALSE(TimeZone::FromTzif("x", header).ok());
}

}  // namespace
}  // namespace tyto::alertmanager
