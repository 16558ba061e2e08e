// Date arithmetic (Howard Hinnant's civil-days algorithms) and local-day lookup.
#include "core/calendar.h"

#include <ctime>

#include <fmt/format.h>

namespace surge::core {

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

Date previous_month(Date d) {
  if (d.month == 1) return {d.year - 1, 12, 1};
  return {d.year, d.month - 1, 1};
}

int64_t days_from_civil(Date d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (d.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date civil_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day};
}

std::optional<Date> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto number = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = number(0, 4), m = number(5, 2), d = number(8, 2);
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  return Date{y, m, d};
}

std::string format_date(Date d) { return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day); }
std::string format_yyyymm(Date d) { return fmt::format("{:04}{:02}", d.year, d.month); }
std::string format_yyyymmdd(Date d) {
  return fmt::format("{:04}{:02}{:02}", d.year, d.month, d.day);
}

LocalDay local_day(int64_t now_ms) {
  std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  Date today{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
  // Local midnight of the next day; mktime normalises the day overflow and any DST change.
  std::tm next{};
  next.tm_year = tm.tm_year;
  next.tm_mon = tm.tm_mon;
  next.tm_mday = tm.tm_mday + 1;
  next.tm_isdst = -1;
  int64_t ends = static_cast<int64_t>(std::mktime(&next)) * 1000;
  return {today, ends};
}

}  // namespace surge::core
