// Daily check-ins: one bitmap per user and month, sign:{userId}:{yyyyMM}, bit day-1 for each
// day of the server's local calendar. The original's key names; every command reads or writes
// one month's key, so on a cluster each goes to that key's node and months may sit on different
// masters.
#pragma once

#include <cstdint>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "core/calendar.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

// Stateless; shared by every worker. Borrows the clock, which must outlive it.
class CheckIns {
 public:
  explicit CheckIns(const Clock& clock) : clock_(clock) {}

  // Marks today; signing twice is a no-op.
  asio::awaitable<Result<void>> sign(redis::Client& c, int64_t user);
  // Consecutive signed days ending today. Unlike the original, a streak does not stop at the
  // first of the month: it carries on through earlier months' bitmaps (ten years at most).
  asio::awaitable<Result<int64_t>> streak(redis::Client& c, int64_t user);

  static std::string key(int64_t user, core::Date month);

 private:
  const Clock& clock_;
};

}  // namespace surge::social
