// Sessions: the original's login:token:{token} hash {id, nickName, icon} (plus `born`, the login
// time), found by the raw token in the `authorization` header, with a TTL that slides while the
// session is used and an absolute lifetime it cannot slide past.
//
// Each worker keeps the sessions it saw recently (a bounded near cache with a short TTL), so a
// busy user costs one Redis round trip per near TTL instead of one per request, and the sliding
// TTL is renewed by that round trip. Closing a session reaches every near cache: this process's
// workers before the close answers, other instances through the invalidation feed (`kChannel`),
// which is the same subscriber connection the shop cache uses. A session removed from Redis
// behind Surge's back (another program, a hand-run DEL) can outlive its removal by the near TTL.
//
// On a cluster: every command names one key and goes to that key's node. A session's hash and a
// user's token index (login:tokens:{userId}) may sit on different masters; no command or
// script spans both, so none needs a shared slot. The close announcement is a classic PUBLISH,
// which a cluster delivers to subscribers on every node.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/clock.h"
#include "common/error.h"
#include "common/per_worker.h"
#include "core/lru_cache.h"
#include "core/user.h"
#include "redis/client.h"

namespace surge::social {

namespace asio = boost::asio;

struct SessionOptions {
  std::chrono::milliseconds ttl{std::chrono::minutes(30)};      // sliding
  std::chrono::milliseconds max_age{std::chrono::hours(24)};    // absolute, from login
  std::chrono::milliseconds near_ttl{std::chrono::seconds(2)};  // 0: no near cache
  size_t near_capacity = 50'000;                                // sessions per worker
};

// Shared by every worker. The near caches are per worker (PerWorker), each touched only on its
// own worker's io_context; everything else is immutable after construction.
class Sessions {
 public:
  // The channel on which a closed session's token is announced to every instance.
  static constexpr std::string_view kChannel = "surge:sessions:closed";

  // `workers`: the executor of each worker io_context, in worker order (empty: no near cache,
  // for tools and tests that run outside the workers).
  Sessions(SessionOptions options, const Clock& clock, std::vector<asio::any_io_executor> workers);
  // No near cache, the system clock, the default lifetime: for tools and tests.
  explicit Sessions(std::chrono::milliseconds ttl)
      : Sessions(SessionOptions{.ttl = ttl}, Clock::system(), {}) {}

  // Tokens are 32 hex characters; anything else is not looked up at all.
  static bool plausible_token(std::string_view token);

  // The session's user, from the worker's near cache or from Redis (renewing the TTL in the same
  // round trip). nullopt when the token is unknown, expired, past its absolute lifetime (then it
  // is closed) or lacks a numeric id; a Redis failure is an error.
  asio::awaitable<Result<std::optional<core::LoggedInUser>>> find_and_renew(redis::Client& c,
                                                                            std::string token);
  // The near cache's answer alone, without a coroutine or a copy of the token: most requests of
  // a busy user end here. nullopt means ask find_and_renew (a miss, or no near cache here).
  std::optional<core::LoggedInUser> find_here(std::string_view token);
  // Stores a session for `user` under a fresh random token; returns the token.
  asio::awaitable<Result<std::string>> open(redis::Client& c, core::LoggedInUser user);
  // The session is gone at once, on every worker of this process before this returns and on
  // other instances as soon as the feed delivers; closing an unknown token is success.
  asio::awaitable<Result<void>> close(redis::Client& c, std::string token);
  // Every session of `user_id` ("log out everywhere"); returns how many there were.
  asio::awaitable<Result<int64_t>> close_all(redis::Client& c, int64_t user_id);

  // From the feed (any thread): a closed token, or the feed's state (false = announcements may
  // have been missed, so every near cache is emptied).
  void on_message(std::string_view channel, const std::string& token);
  void on_feed_state(bool connected);

  static std::string key(std::string_view token);
  // The tokens of one user, for close_all (kept as long as the longest session can live).
  static std::string user_key(int64_t user_id);

  // surge_session_lookups_total{result="near"|"redis"}.
  void render_metrics(std::string& out) const;

 private:
  // Epoch milliseconds as a chrono clock type, so the near cache runs on the injected Clock.
  struct EpochClock {
    using duration = std::chrono::milliseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<EpochClock>;
    static constexpr bool is_steady = false;
  };
  struct Cached {
    core::LoggedInUser user;
  };
  struct Worker {
    explicit Worker(size_t capacity) : near(capacity) {}
    core::LruCache<Cached, EpochClock> near;
    // Bumped by every close this worker hears of: a Redis reply that an invalidation may have
    // overtaken (read before the DEL, answered after the announcement) is not cached.
    uint64_t epoch = 0;
    std::atomic<uint64_t> near_hits{0}, redis_reads{0};  // read by the metrics scrape
  };
  bool near_enabled() const { return !executors_.empty() && options_.near_ttl.count() > 0; }
  void drop_everywhere(const std::string& token);
  asio::awaitable<void> drop_here(const std::string& token);

  SessionOptions options_;
  const Clock& clock_;
  std::vector<asio::any_io_executor> executors_;
  PerWorker<std::unique_ptr<Worker>> workers_;
};

}  // namespace surge::social
