// Times for tests on a hand-moved clock that must land on given dates of the server's zone.
#pragma once

#include <cstdint>

#include "core/calendar.h"

namespace surge::test {

// Midday of a local date, so moving by whole days never crosses into another date by accident.
inline int64_t local_noon(int y, int m, int d) {
  int64_t days = core::days_from_civil(core::Date{y, m, d});
  int64_t guess = days * 86400000 + 12 * 3600000;
  // local_day tells the offset of the server's zone: correct the guess by the difference.
  auto seen = core::local_day(guess).date;
  int64_t off_days = core::days_from_civil(seen) - days;
  return guess - off_days * 86400000;
}

}  // namespace surge::test
