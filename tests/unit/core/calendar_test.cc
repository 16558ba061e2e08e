// Dates: month lengths, month steps across years, strict parsing, day numbers, local days.
#include "core/calendar.h"

#include <cstdlib>
#include <ctime>

#include <gtest/gtest.h>

namespace surge::core {
namespace {

TEST(Calendar, MonthLengthsAndLeapYears) {
  EXPECT_EQ(days_in_month(2023, 1), 31);
  EXPECT_EQ(days_in_month(2023, 2), 28);
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(1900, 2), 28);
  EXPECT_EQ(days_in_month(2000, 2), 29);
  EXPECT_EQ(days_in_month(2024, 4), 30);
  EXPECT_EQ(days_in_month(2024, 12), 31);
}

TEST(Calendar, PreviousMonthCrossesTheYear) {
  EXPECT_EQ(previous_month({2024, 3, 15}), (Date{2024, 2, 1}));
  EXPECT_EQ(previous_month({2024, 1, 1}), (Date{2023, 12, 1}));
}

TEST(Calendar, DayNumbersRoundTrip) {
  EXPECT_EQ(days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(days_from_civil({2000, 3, 1}), 11017);
  EXPECT_EQ(civil_from_days(19723), (Date{2024, 1, 1}));
  for (int64_t d = -1000; d < 30000; d += 7) EXPECT_EQ(days_from_civil(civil_from_days(d)), d);
}

TEST(Calendar, ParsesOnlyRealDates) {
  EXPECT_EQ(parse_date("2024-02-29"), (Date{2024, 2, 29}));
  EXPECT_EQ(parse_date("1970-01-01"), (Date{1970, 1, 1}));
  for (const char* bad :
       {"", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-1-01", "2024/01/01",
        "20240101", "2024-01-01T", "1969-12-31", "２０２４-01-01", "2024-01-0a", "-024-01-01"}) {
    EXPECT_EQ(parse_date(bad), std::nullopt) << bad;
  }
}

TEST(Calendar, Formats) {
  Date d{2024, 5, 7};
  EXPECT_EQ(format_date(d), "2024-05-07");
  EXPECT_EQ(format_yyyymm(d), "202405");
  EXPECT_EQ(format_yyyymmdd(d), "20240507");
}

TEST(Calendar, LocalDayFollowsTheTimeZone) {
  const char* old = std::getenv("TZ");
  std::string saved = old ? old : "";
  ::setenv("TZ", "Asia/Shanghai", 1);
  ::tzset();
  // 2024-01-31T16:30:00Z is 2024-02-01 00:30 in Shanghai (UTC+8); the day ends at 16:00Z.
  LocalDay day = local_day(1706718600000);
  EXPECT_EQ(day.date, (Date{2024, 2, 1}));
  EXPECT_EQ(day.ends_at_ms, 1706803200000);
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  day = local_day(1706718600000);
  EXPECT_EQ(day.date, (Date{2024, 1, 31}));
  EXPECT_EQ(day.ends_at_ms, 1706745600000);
  if (old) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
}

}  // namespace
}  // namespace surge::core
