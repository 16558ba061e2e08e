// A reentrant distributed lock with a watchdog and fencing tokens (what Redisson's RLock does,
// plus fencing):
//   lock:{name}        hash owner -> hold count, with a lease (PEXPIRE)
//   lock:{name}:fence  counter; each first acquisition takes the next number
// The holder's process renews the lease every third of it while held, and stops in step with the
// last release. Waiters sleep until the holder's lease would end or a release is published on
// `lock:released` (payload: the lock key), whichever comes first; the wait is bounded. Both keys
// share the hash tag {name}, so the scripts run on Redis Cluster.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis/client.h"

namespace surge::cache {

namespace asio = boost::asio;

struct LockOptions {
  std::chrono::milliseconds lease{30'000};
};

// Owned by one io_context: every call, and on_message(), runs on it. The command connection
// must outlive the service; the caller subscribes a feed connection to kReleasedChannel and
// forwards its messages to on_message().
class LockService {
 public:
  static constexpr const char* kReleasedChannel = "lock:released";

  LockService(redis::Client& redis, LockOptions options = {});
  ~LockService();

  static std::string key(std::string_view name) { return "lock:{" + std::string(name) + "}"; }

  // Acquires (or re-enters) `name` for `owner`, waiting at most `wait`. Returns the fencing
  // token: strictly greater than any token handed out before for this lock, and the same one
  // on re-entry. nullopt when the wait ran out.
  asio::awaitable<Result<std::optional<int64_t>>> acquire(std::string name, std::string owner,
                                                          std::chrono::milliseconds wait);
  // One release. Returns the holds `owner` still has (0: the lock is free), or nullopt when
  // `owner` did not hold it (never held, or its lease expired).
  asio::awaitable<Result<std::optional<int64_t>>> release(std::string name, std::string owner);

  void on_message(std::string_view channel, std::string_view payload);
  // Shutdown: every watchdog ends (the leases then run out in Redis) and every waiting acquire
  // returns kShuttingDown, so nothing of the service keeps its io_context busy.
  void stop();
  // Watchdogs currently renewing leases (for tests and metrics).
  size_t watchdogs() const { return watchdogs_.size(); }

 private:
  struct Waiter {
    asio::steady_timer* timer;
    bool woken = false;
  };
  struct Watchdog;
  asio::awaitable<void> renew(std::shared_ptr<Watchdog> dog);

  redis::Client& redis_;
  LockOptions options_;
  std::map<std::string, std::list<Waiter*>> waiters_;           // by lock key
  std::map<std::string, std::shared_ptr<Watchdog>> watchdogs_;  // by key + '\n' + owner
  bool stopping_ = false;
};

}  // namespace surge::cache
