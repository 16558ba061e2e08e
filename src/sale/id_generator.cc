// Block-allocating id generator.
#include "sale/id_generator.h"

#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "redis/commands.h"

namespace surge::sale {

IdGenerator::IdGenerator(redis::Client& redis, IdOptions options, Clock clock)
    : redis_(redis), options_(std::move(options)), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (options_.block < 1) options_.block = 1;
}

std::string IdGenerator::counter_key(int64_t unix_seconds) const {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm;
  gmtime_r(&t, &tm);
  return fmt::format("icr:{}:{:04}:{:02}:{:02}", options_.prefix, tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
}

asio::awaitable<Result<int64_t>> IdGenerator::next() {
  int64_t now = clock_();
  int64_t day = now / 86400;
  if (day != day_ || next_ >= end_) {
    // Several coroutines may refill at once; each gets its own block and the later one wins,
    // which wastes sequence numbers but never repeats one.
    auto w = co_await redis_.exec_at(
        redis::Request::keyed(1, "INCRBY", counter_key(now), options_.block));
    if (!w) co_return w.error();
    auto top = redis::to_integer(Result<redis::Reply>(std::move(w->reply)));
    if (!top) co_return top.error();
    if (options_.replicas > 0) {
      auto acked = co_await redis::replicated(*w, options_.replicas, options_.replica_timeout);
      if (!acked) co_return acked.error();
      if (*acked < options_.replicas) co_return make_error_code(Errc::kUnavailable);
    }
    if (*top > 0xffffffffLL) co_return make_error_code(Errc::kConflict);
    day_ = day;
    next_ = *top - options_.block + 1;
    end_ = *top + 1;
    if (*top == options_.block) {
      // The day's first block: give the counter an end. Older days' counters are never read.
      auto expire = co_await redis_.exec(redis::Request::keyed(
          1, "PEXPIRE", counter_key(now),
          int64_t{std::chrono::milliseconds(std::chrono::hours(72)).count()}));
      (void)expire;
    }
  }
  int64_t seconds = now - options_.epoch_seconds;
  co_return (seconds << 32) | next_++;
}

}  // namespace surge::sale
