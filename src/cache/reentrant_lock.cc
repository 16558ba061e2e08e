// The reentrant lock's scripts, waiters and watchdogs.
#include "cache/reentrant_lock.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/awaitable.h"
#include "redis/commands.h"
#include "redis/script.h"

namespace surge::cache {

namespace {

using Millis = std::chrono::milliseconds;

// KEYS: lock hash, fence counter. ARGV: owner, lease ms.
// Returns {1, fence} when held (first time or re-entry), {0, pttl} when someone else holds it.
const redis::Script kAcquire(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if n == 1 then return {1, redis.call('INCR', KEYS[2])} end
  return {1, tonumber(redis.call('GET', KEYS[2]))}
end
return {0, redis.call('PTTL', KEYS[1])}
)lua");

// KEYS: lock hash. ARGV: owner, lease ms, release channel.
// Returns the owner's remaining holds, or -1 when it holds nothing.
const redis::Script kRelease(R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return n
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], KEYS[1])
return 0
)lua");

// KEYS: lock hash. ARGV: owner, lease ms. 1 while the owner still holds it.
const redis::Script kRenew(R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua");

}  // namespace

struct LockService::Watchdog {
  std::string key;
  std::string owner;
  asio::steady_timer timer;
  bool stopped = false;
  Watchdog(asio::any_io_executor ex, std::string k, std::string o)
      : key(std::move(k)), owner(std::move(o)), timer(std::move(ex)) {}
};

LockService::LockService(redis::Client& redis, LockOptions options)
    : redis_(redis), options_(options) {}

LockService::~LockService() { stop(); }

void LockService::stop() {
  stopping_ = true;
  for (auto& [k, dog] : watchdogs_) {
    dog->stopped = true;
    dog->timer.cancel();
  }
  watchdogs_.clear();
  for (auto& [k, list] : waiters_) {
    for (Waiter* w : list) {
      w->woken = true;
      w->timer->cancel();
    }
  }
}

void LockService::on_message(std::string_view channel, std::string_view payload) {
  if (channel != kReleasedChannel) return;
  auto it = waiters_.find(std::string(payload));
  if (it == waiters_.end()) return;
  for (Waiter* w : it->second) {
    w->woken = true;
    w->timer->cancel();
  }
}

asio::awaitable<Result<std::optional<int64_t>>> LockService::acquire(std::string name,
                                                                     std::string owner,
                                                                     Millis wait) {
  std::string k = key(name);
  auto deadline = redis::Clock::now() + wait;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  Waiter self{&timer};
  // Registered before the first attempt, so a release published between an attempt and the
  // sleep after it still wakes this waiter.
  auto& list = waiters_[k];
  auto pos = list.insert(list.end(), &self);
  Result<std::optional<int64_t>> out = std::optional<int64_t>();
  while (true) {
    if (stopping_) {
      out = make_error_code(Errc::kShuttingDown);
      break;
    }
    self.woken = false;
    std::vector<std::string> keys{k, k + ":fence"};
    std::vector<std::string> args{owner, std::to_string(options_.lease.count())};
    auto r = co_await redis_.run(kAcquire, std::move(keys), std::move(args));
    if (!r) {
      out = r.error();
      break;
    }
    if (!r->is_array() || r->elements.size() != 2) {
      out = make_error_code(Errc::kProtocol);
      break;
    }
    int64_t held = r->elements[0].as_integer().value_or(0);
    int64_t value = r->elements[1].as_integer().value_or(0);
    if (held == 1) {
      std::string id = k + '\n' + owner;
      if (!watchdogs_.contains(id) && !stopping_) {
        auto ex = co_await asio::this_coro::executor;
        auto dog = std::make_shared<Watchdog>(ex, k, owner);
        watchdogs_[id] = dog;
        asio::co_spawn(ex, renew(dog), asio::detached);
      }
      out = std::optional<int64_t>(value);
      break;
    }
    auto now = redis::Clock::now();
    if (now >= deadline) break;
    // Sleep until the holder's lease would run out (pttl), a release wakes us, or the deadline.
    auto nap =
        std::min<redis::Clock::duration>(deadline - now, Millis(std::max<int64_t>(value, 1)));
    if (self.woken) continue;
    timer.expires_after(nap);
    auto [ec] = co_await timer.async_wait(kTuple);
    (void)ec;
  }
  list.erase(pos);
  if (list.empty()) waiters_.erase(k);
  co_return out;
}

asio::awaitable<Result<std::optional<int64_t>>> LockService::release(std::string name,
                                                                     std::string owner) {
  std::string k = key(name);
  std::vector<std::string> keys{k};
  std::vector<std::string> args{owner, std::to_string(options_.lease.count()), kReleasedChannel};
  auto r = co_await redis_.run(kRelease, std::move(keys), std::move(args));
  auto n = redis::to_integer(r);
  if (!n) co_return n.error();
  if (*n <= 0) {
    // Free (or not ours any more): this process's watchdog for it stops now.
    if (auto it = watchdogs_.find(k + '\n' + owner); it != watchdogs_.end()) {
      it->second->stopped = true;
      it->second->timer.cancel();
      watchdogs_.erase(it);
    }
  }
  if (*n < 0) co_return std::optional<int64_t>();
  co_return std::optional<int64_t>(*n);
}

asio::awaitable<void> LockService::renew(std::shared_ptr<Watchdog> dog) {
  auto renewed = redis::Clock::now();
  while (!dog->stopped) {
    dog->timer.expires_after(options_.lease / 3);
    auto [ec] = co_await dog->timer.async_wait(kTuple);
    if (ec || dog->stopped) break;
    std::vector<std::string> keys{dog->key};
    std::vector<std::string> args{dog->owner, std::to_string(options_.lease.count())};
    auto r = co_await redis_.run(kRenew, std::move(keys), std::move(args));
    auto n = redis::to_integer(r);
    if (dog->stopped) break;
    if (n && *n == 0) {
      spdlog::warn("lock: {} lost by {} (lease expired before renewal)", dog->key, dog->owner);
      dog->stopped = true;
      watchdogs_.erase(dog->key + '\n' + dog->owner);
      break;
    }
    if (n) {
      renewed = redis::Clock::now();
    } else if (redis::Clock::now() - renewed >= options_.lease) {
      // Redis was unreachable for a whole lease: the lock has expired there, nothing to keep.
      spdlog::warn("lock: {} of {} not renewed for a whole lease; giving it up", dog->key,
                   dog->owner);
      dog->stopped = true;
      watchdogs_.erase(dog->key + '\n' + dog->owner);
      break;
    }
    // Otherwise a failed renewal (Redis unreachable) is retried at the next tick.
  }
}

}  // namespace surge::cache
