// Check-in bitmaps: SETBIT to sign, BITFIELD reads of whole months to count a streak.
#include "social/check_ins.h"

#include <fmt/format.h>

#include "core/social.h"
#include "redis/commands.h"

namespace surge::social {

std::string CheckIns::key(int64_t user, core::Date month) {
  return fmt::format("sign:{}:{}", user, core::format_yyyymm(month));
}

asio::awaitable<Result<void>> CheckIns::sign(redis::Connection& c, int64_t user) {
  core::Date today = core::local_day(clock_.now_ms()).date;
  auto set = co_await redis::setbit(c, key(user, today), today.day - 1, true);
  if (!set) co_return set.error();
  co_return Result<void>();
}

asio::awaitable<Result<int64_t>> CheckIns::streak(redis::Connection& c, int64_t user) {
  core::Date today = core::local_day(clock_.now_ms()).date;
  int64_t count = 0;
  core::Date month = today;
  int days = today.day;
  for (int step = 0; step < 120; ++step) {
    auto bits = co_await redis::bitfield_get_u(c, key(user, month), days, 0);
    if (!bits) co_return bits.error();
    int run = core::trailing_ones(static_cast<uint64_t>(*bits), days);
    count += run;
    if (run < days) break;
    month = core::previous_month(month);
    days = core::days_in_month(month.year, month.month);
  }
  co_return count;
}

}  // namespace surge::social
