// Civil dates for day- and month-keyed data (check-in bitmaps, unique-visitor logs): strict
// YYYY-MM-DD parsing, month arithmetic, and "today" in the server's local time zone, as the
// original's LocalDateTime.now() used it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace surge::core {

struct Date {
  int year;
  int month;  // 1..12
  int day;    // 1..31
  bool operator==(const Date&) const = default;
};

int days_in_month(int year, int month);
// The first day of the month before `d`'s month.
Date previous_month(Date d);
// Days since 1970-01-01 and back (proleptic Gregorian).
int64_t days_from_civil(Date d);
Date civil_from_days(int64_t days);

// Exactly YYYY-MM-DD with a real day of a year in 1970..9999; nullopt otherwise.
std::optional<Date> parse_date(std::string_view s);
std::string format_date(Date d);    // 2024-05-01
std::string format_yyyymm(Date d);  // 202405 (the original's sign key suffix)
std::string format_yyyymmdd(Date d);

// Today in the process's local time zone (TZ), and the epoch millisecond at which it ends.
struct LocalDay {
  Date date;
  int64_t ends_at_ms;
};
LocalDay local_day(int64_t now_ms);

}  // namespace surge::core
