// Login codes and their rate limits, each limit one fixed-window counter in Redis.
#include "social/login_codes.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/random.h"
#include "core/parse.h"
#include "core/social.h"
#include "redis/commands.h"
#include "redis/pipeline.h"
#include "redis/script.h"

namespace surge::social {

namespace {

// Both keys of a phone share one hash tag, so the redeem script may touch both on a cluster.
std::string code_key(const std::string& phone) { return "login:code:{" + phone + "}"; }
std::string tries_key(const std::string& phone) { return "login:code:tries:{" + phone + "}"; }

// One fixed-window counter that only counts admitted requests: 1 admitted, 0 refused.
const redis::Script kAdmit(
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n >= tonumber(ARGV[1]) then return 0 end "
    "redis.call('INCR', KEYS[1]) "
    "if n == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end "
    "return 1");

// Counts the attempt, then compares, in one step: however many guesses arrive at once, at most
// ARGV[2] of them are ever compared with a code. A match consumes the code (it logs in once);
// the last allowed mismatch withdraws it. 1 match, 0 mismatch, -1 no code (never sent, expired,
// used or withdrawn).
const redis::Script kRedeemCode(
    "local v = redis.call('GET', KEYS[1]) "
    "if not v then return -1 end "
    "local tries = redis.call('INCR', KEYS[2]) "
    "if tries == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end "
    "if tries > tonumber(ARGV[2]) then redis.call('DEL', KEYS[1], KEYS[2]) return -1 end "
    "if v == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) return 1 end "
    "if tries == tonumber(ARGV[2]) then redis.call('DEL', KEYS[1], KEYS[2]) end "
    "return 0");

}  // namespace

std::string LoginCodes::limit_key(const Limit& limit, int64_t window_index) {
  return fmt::format("limit:code:{}:{}:{}", limit.scope, limit.window_ms / 1000, window_index);
}

asio::awaitable<Result<IssuedCode>> LoginCodes::issue(redis::Client& c, std::string phone,
                                                      std::string client) {
  std::vector<Limit> limits = {
      {"ip:" + client, limits_.per_ip_hour, 3600000},
      {"phone:" + phone, limits_.per_phone_hour, 3600000},
      {"phone:" + phone, limits_.per_phone_minute, 60000},
  };
  // A read-only look at every counter first, so a refused request consumes none of them;
  // then each counter admits atomically (a race between the two can only refuse, not overrun).
  auto full = co_await first_full(c, limits);
  if (!full) co_return full.error();
  int64_t wait_ms = *full;
  for (size_t i = 0; i < limits.size() && wait_ms == 0; ++i) {
    auto admitted = co_await admit(c, limits[i]);
    if (!admitted) co_return admitted.error();
    wait_ms = *admitted;
  }
  if (wait_ms > 0) co_return IssuedCode{std::string(), wait_ms};
  std::string code = random_string(6, "0123456789");
  auto writes = redis::batch(
      redis::Request::keyed(1, "SET", code_key(phone), code, "PX", limits_.code_ttl_ms),
      // A new code gets its own attempts.
      redis::Request::keyed(1, "DEL", tries_key(phone)));
  auto stored = co_await redis::exec_as<redis::Done, int64_t>(c, std::move(writes));
  if (!stored) co_return stored.error();
  co_return IssuedCode{std::move(code), 0};
}

asio::awaitable<Result<Redeemed>> LoginCodes::redeem(redis::Client& c, std::string phone,
                                                     std::string code) {
  std::vector<std::string> keys{code_key(phone), tries_key(phone)};
  std::vector<std::string> args{std::move(code), std::to_string(limits_.max_attempts),
                                std::to_string(limits_.code_ttl_ms)};
  auto outcome = redis::to_integer(co_await c.run(kRedeemCode, std::move(keys), std::move(args)));
  if (!outcome) co_return outcome.error();
  switch (*outcome) {
    case 1:
      co_return Redeemed::kMatch;
    case 0:
      co_return Redeemed::kMismatch;
    default:
      co_return Redeemed::kNoCode;
  }
}

// 0 when no counter is full, else the milliseconds until the first full one's window ends.
asio::awaitable<Result<int64_t>> LoginCodes::first_full(redis::Client& c,
                                                        std::vector<Limit> limits) {
  int64_t now = clock_.now_ms();
  std::vector<redis::Request> gets;
  gets.reserve(limits.size());
  for (const auto& l : limits) {
    gets.push_back(
        redis::Request::keyed(1, "GET", limit_key(l, core::fixed_window(now, l.window_ms).index)));
  }
  auto counts = co_await redis::exec_each<std::optional<std::string>>(c, std::move(gets));
  if (!counts) co_return counts.error();
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& n = (*counts)[i];
    if (n && core::parse_int64(*n).value_or(0) >= limits[i].max) {
      int64_t ends = core::fixed_window(now, limits[i].window_ms).ends_at_ms;
      co_return std::max<int64_t>(1, ends - now);
    }
  }
  co_return int64_t{0};
}

// 0 when admitted, else the milliseconds until the window reopens.
asio::awaitable<Result<int64_t>> LoginCodes::admit(redis::Client& c, Limit limit) {
  int64_t now = clock_.now_ms();
  auto window = core::fixed_window(now, limit.window_ms);
  std::vector<std::string> keys{limit_key(limit, window.index)};
  std::vector<std::string> args{std::to_string(limit.max),
                                std::to_string(window.ends_at_ms - now + 1000)};
  auto admitted = redis::to_integer(co_await c.run(kAdmit, std::move(keys), std::move(args)));
  if (!admitted) co_return admitted.error();
  co_return *admitted == 1 ? int64_t{0} : std::max<int64_t>(1, window.ends_at_ms - now);
}

}  // namespace surge::social
