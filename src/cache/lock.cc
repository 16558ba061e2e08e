// Owner-token lock.
#include "cache/lock.h"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/awaitable.h"
#include "common/backoff.h"
#include "common/random.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::cache {

asio::awaitable<Result<std::optional<LockLease>>> try_lock(redis::Client& c, std::string key,
                                                           std::chrono::milliseconds ttl) {
  std::string token = random_token();
  auto ok = co_await redis::set(c, key, token, ttl, true);
  if (!ok) co_return ok.error();
  if (!*ok) co_return std::optional<LockLease>();
  co_return std::optional<LockLease>(LockLease{std::move(key), std::move(token)});
}

asio::awaitable<Result<std::optional<LockLease>>> lock_within(redis::Client& c, std::string key,
                                                              std::chrono::milliseconds ttl,
                                                              std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  Backoff pause(std::chrono::milliseconds(2), std::chrono::milliseconds(50));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    auto got = co_await try_lock(c, key, ttl);
    if (!got || *got) co_return got;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return std::optional<LockLease>();
    timer.expires_after(
        std::min<std::chrono::steady_clock::duration>(pause.next(), deadline - now));
    auto [ec] = co_await timer.async_wait(kTuple);
    (void)ec;
  }
}

asio::awaitable<Result<bool>> unlock(redis::Client& c, LockLease lease) {
  static const redis::Script kRelease(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
      "return 0");
  // Named vectors: GCC 12 rejects braced lists inside a co_await expression.
  std::vector<std::string> keys{lease.key}, args{lease.token};
  auto r = co_await c.run(kRelease, std::move(keys), std::move(args));
  auto n = redis::to_integer(r);
  if (!n) co_return Result<bool>(boost::system::in_place_error, n.error());
  co_return *n == 1;
}

}  // namespace surge::cache
