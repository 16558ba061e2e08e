// Check-in bitmaps: SETBIT to sign, BITFIELD reads of whole months to count a streak.
#include "social/check_ins.h"

#include <fmt/format.h>

#include "core/social.h"
#include "redis/pipeline.h"

namespace surge::social {

std::string CheckIns::key(int64_t user, core::Date month) {
  return fmt::format("sign:{}:{}", user, core::format_yyyymm(month));
}

asio::awaitable<Result<void>> CheckIns::sign(redis::Client& c, int64_t user) {
  core::Date today = core::local_day(clock_.now_ms()).date;
  auto request = redis::Request::keyed(1, "SETBIT", key(user, today), today.day - 1, 1);
  auto set = co_await redis::exec_one<int64_t>(c, std::move(request));
  if (!set) co_return set.error();
  co_return Result<void>();
}

asio::awaitable<Result<int64_t>> CheckIns::streak(redis::Client& c, int64_t user) {
  core::Date today = core::local_day(clock_.now_ms()).date;
  int64_t count = 0;
  core::Date month = today;
  int days = today.day;
  for (int step = 0; step < 120; ++step) {
    // BITFIELD key GET u<days> 0: the month's first `days` bits as one number, day 1 highest.
    auto request =
        redis::Request::keyed(1, "BITFIELD", key(user, month), "GET", fmt::format("u{}", days), 0);
    auto bits = co_await redis::exec_one<std::vector<int64_t>>(c, std::move(request));
    if (!bits) co_return bits.error();
    if (bits->size() != 1) co_return make_error_code(Errc::kProtocol);
    int run = core::trailing_ones(static_cast<uint64_t>(bits->front()), days);
    count += run;
    if (run < days) break;
    month = core::previous_month(month);
    days = core::days_in_month(month.year, month.month);
  }
  co_return count;
}

}  // namespace surge::social
